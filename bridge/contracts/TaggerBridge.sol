// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title The BNB Chain side of the Tagger chain bridge.
/// @notice Anchors Tagger chain checkpoints signed by more than 2/3 of the validator set's power, locks TAG
///         deposited for Tagger chain, and releases TAG withdrawn from Tagger chain against a Merkle proof of a
///         checkpointed withdrawals root. The format of every signed digest, hash and leaf, and every rule
///         below, is written down in docs/spec/bridge.md; research/bridge.md §3-§4 gives the exploits each
///         rule answers. No upgrade path, no owner, no arbitrary message execution.
contract TaggerBridge {
    // ---------------------------------------------------------------------------------------------
    // Types

    /// @dev The full validator set, passed in calldata and checked against the stored hash.
    ///      Signers strictly ascending by address, none zero, every power > 0, at most MAX_VALIDATORS.
    struct ValidatorSet {
        uint64 id;
        address[] signers;
        uint256[] powers;
    }

    /// @dev What validators sign (with the domain and message type, see checkpointDigest).
    struct Checkpoint {
        uint64 number;
        uint64 startBlock;
        uint64 endBlock;
        bytes32 blockRangeRoot;
        bytes32 stateRoot;
        bytes32 withdrawalsRoot;
        uint32 withdrawalCount;
        uint64 nextValidatorSetId;
        bytes32 nextValidatorSetHash;
    }

    /// @dev A secp256k1 signature over a digest: v in {27, 28}, s in the lower half of the order.
    struct Signature {
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    /// @dev One withdrawal leaf: TAG burnt on Tagger chain by `sender`, to be released to `recipient`.
    struct Withdrawal {
        uint64 nonce;
        bytes20 sender;
        address recipient;
        uint256 amount;
    }

    /// @dev Deployment parameters; all immutable.
    struct Config {
        address token;
        bytes32 appchainId;
        uint64 lastEndBlock;
        uint256 perTxCap;
        uint256 epochCap;
        uint256 epochSeconds;
        uint256 largeWithdrawal;
        uint256 delaySeconds;
        uint256 guardianQuorum;
    }

    struct CheckpointRecord {
        bytes32 digest;
        bytes32 withdrawalsRoot;
        uint32 withdrawalCount;
        uint64 validatorSetId;
        uint64 acceptedAt;
    }

    struct QueuedWithdrawal {
        address recipient;
        uint64 releaseAt;
        uint256 amount;
    }

    // ---------------------------------------------------------------------------------------------
    // Constants and immutables

    bytes32 public constant DOMAIN_TYPE = keccak256("tagger-bridge/domain/v1");
    bytes32 public constant CHECKPOINT_TYPE = keccak256("tagger-bridge/checkpoint/v1");
    bytes32 public constant WITHDRAWAL_TYPE = keccak256("tagger-bridge/withdrawal/v1");
    bytes32 public constant VALIDATOR_SET_TYPE = keccak256("tagger-bridge/validator-set/v1");
    bytes1 private constant LEAF_PREFIX = 0x00;
    bytes1 private constant NODE_PREFIX = 0x01;

    /// @dev secp256k1n / 2: signatures with a larger s are the malleated twin and are refused.
    uint256 private constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    uint256 public constant MAX_VALIDATORS = 128;
    uint256 public constant MAX_CHECKPOINT_BLOCKS = 65_536;
    uint256 public constant MAX_PROOF_DEPTH = 20;
    uint256 public constant MAX_WITHDRAWALS_PER_CHECKPOINT = 1 << MAX_PROOF_DEPTH;
    /// @dev A delay longer than this would be a freeze, not a delay.
    uint256 public constant MAX_DELAY_SECONDS = 30 days;

    address public immutable token;
    bytes32 public immutable appchainId;
    /// @dev keccak256(abi.encode(DOMAIN_TYPE, block.chainid, address(this), appchainId)), fixed at deployment.
    bytes32 public immutable domainSeparator;
    uint256 public immutable perTxCap;
    uint256 public immutable epochCap;
    uint256 public immutable epochSeconds;
    uint256 public immutable largeWithdrawal;
    uint256 public immutable delaySeconds;
    uint256 public immutable guardianQuorum;
    uint256 public immutable guardianCount;

    // ---------------------------------------------------------------------------------------------
    // State

    bytes32 public validatorSetHash;
    uint64 public validatorSetId;
    uint64 public lastCheckpoint;
    uint64 public lastEndBlock;
    uint64 public depositNonce;
    /// @notice TAG received by deposits, ever (the measured balance changes), and TAG released by withdrawals,
    ///         ever: the supply audit compares them with what Tagger chain minted and burnt.
    uint256 public totalLocked;
    uint256 public totalReleased;
    bool public paused;
    uint64 public pauseCount;
    uint256 public epoch;
    uint256 public epochVolume;
    uint256 private lock = 1;

    mapping(uint64 => bytes32) public validatorSetHashById;
    mapping(uint64 => CheckpointRecord) public checkpoints;
    mapping(uint64 => bool) public claimed;
    mapping(uint64 => QueuedWithdrawal) public queued;
    mapping(address => bool) public isGuardian;
    mapping(bytes32 => mapping(address => bool)) public approvedBy;
    mapping(bytes32 => uint256) public approvals;

    // ---------------------------------------------------------------------------------------------
    // Events

    event CheckpointAccepted(
        uint64 indexed number,
        bytes32 digest,
        uint64 startBlock,
        uint64 endBlock,
        bytes32 blockRangeRoot,
        bytes32 stateRoot,
        bytes32 withdrawalsRoot,
        uint32 withdrawalCount,
        uint64 validatorSetId
    );
    event ValidatorSetRotated(uint64 indexed id, bytes32 hash, uint256 totalPower);
    event Deposited(uint64 indexed nonce, address indexed from, bytes20 indexed recipient, uint256 amount);
    event WithdrawalReleased(uint64 indexed nonce, address indexed recipient, uint256 amount);
    event WithdrawalQueued(uint64 indexed nonce, address indexed recipient, uint256 amount, uint64 releaseAt);
    event WithdrawalCancelled(uint64 indexed nonce);
    event ConflictProven(uint64 indexed number, bytes32 digestA, bytes32 digestB);
    event Paused(address indexed by);
    event Unpaused();
    event GuardianApproved(bytes32 indexed action, address indexed guardian, uint256 approvals);

    // ---------------------------------------------------------------------------------------------
    // Errors

    error BadConfig();
    error BadValidatorSet();
    error UnknownValidatorSet();
    error BadValidatorSetId();
    error SignersNotAscending();
    error SignerNotInSet();
    error HighS();
    error BadV();
    error ZeroSigner();
    error NoQuorum(uint256 signedPower, uint256 totalPower);
    error NotContiguous();
    error BadBlockRange();
    error BadWithdrawals();
    error NotConflicting();
    error IsPaused();
    error NotPaused();
    error NotGuardian();
    error AlreadyApproved();
    error Reentrant();
    error ZeroAmount();
    error ZeroRecipient();
    error NothingReceived();
    error TokenCallFailed();
    error UnknownCheckpoint();
    error AlreadyClaimed();
    error OverPerTxCap();
    error OverEpochCap();
    error BadProof();
    error NotQueued();
    error TooEarly(uint64 releaseAt);

    // ---------------------------------------------------------------------------------------------
    // Modifiers

    modifier whenNotPaused() {
        if (paused) revert IsPaused();
        _;
    }

    modifier nonReentrant() {
        if (lock != 1) revert Reentrant();
        lock = 2;
        _;
        lock = 1;
    }

    modifier onlyGuardian() {
        if (!isGuardian[msg.sender]) revert NotGuardian();
        _;
    }

    // ---------------------------------------------------------------------------------------------
    // Construction: every piece of state is set here, checked non-zero; there is no initializer.

    constructor(Config memory config, ValidatorSet memory initial, address[] memory guardians) {
        if (
            config.token.code.length == 0 || config.appchainId == bytes32(0) || config.perTxCap == 0
                || config.perTxCap > config.epochCap || config.epochSeconds == 0 || config.largeWithdrawal == 0
                || config.delaySeconds > MAX_DELAY_SECONDS || config.guardianQuorum < 2
                || config.guardianQuorum > guardians.length
        ) revert BadConfig();
        for (uint256 i = 0; i < guardians.length; i++) {
            address g = guardians[i];
            if (g == address(0) || isGuardian[g]) revert BadConfig();
            isGuardian[g] = true;
        }
        token = config.token;
        appchainId = config.appchainId;
        domainSeparator = keccak256(abi.encode(DOMAIN_TYPE, block.chainid, address(this), config.appchainId));
        perTxCap = config.perTxCap;
        epochCap = config.epochCap;
        epochSeconds = config.epochSeconds;
        largeWithdrawal = config.largeWithdrawal;
        delaySeconds = config.delaySeconds;
        guardianQuorum = config.guardianQuorum;
        guardianCount = guardians.length;
        lastEndBlock = config.lastEndBlock;

        uint256 total = _checkSetShape(initial.signers, initial.powers);
        bytes32 h = keccak256(abi.encode(VALIDATOR_SET_TYPE, initial.id, initial.signers, initial.powers));
        validatorSetId = initial.id;
        validatorSetHash = h;
        validatorSetHashById[initial.id] = h;
        emit ValidatorSetRotated(initial.id, h, total);
    }

    // ---------------------------------------------------------------------------------------------
    // Hashes (public so that off-chain code can be checked against them)

    function hashValidatorSet(ValidatorSet calldata set) public pure returns (bytes32) {
        return keccak256(abi.encode(VALIDATOR_SET_TYPE, set.id, set.signers, set.powers));
    }

    function checkpointDigest(Checkpoint calldata cp) public view returns (bytes32) {
        return keccak256(abi.encode(domainSeparator, CHECKPOINT_TYPE, cp));
    }

    function withdrawalLeaf(Withdrawal calldata w) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(LEAF_PREFIX, abi.encode(WITHDRAWAL_TYPE, w)));
    }

    // ---------------------------------------------------------------------------------------------
    // Checkpoints

    /// @notice Accepts checkpoint `lastCheckpoint + 1`, signed by more than 2/3 of the current set's power.
    ///         If it names a new validator set, `next` must be that set; it becomes the current set.
    function submitCheckpoint(
        Checkpoint calldata cp,
        ValidatorSet calldata set,
        Signature[] calldata sigs,
        ValidatorSet calldata next
    ) external whenNotPaused {
        if (cp.number != lastCheckpoint + 1) revert NotContiguous();
        if (cp.startBlock != lastEndBlock + 1) revert NotContiguous();
        if (cp.endBlock < cp.startBlock || cp.endBlock - cp.startBlock >= MAX_CHECKPOINT_BLOCKS) revert BadBlockRange();
        if ((cp.withdrawalsRoot == bytes32(0)) != (cp.withdrawalCount == 0)) revert BadWithdrawals();
        if (cp.withdrawalCount > MAX_WITHDRAWALS_PER_CHECKPOINT) revert BadWithdrawals();
        if (set.id != validatorSetId) revert UnknownValidatorSet();

        bytes32 digest = checkpointDigest(cp);
        _verifyQuorum(digest, set, validatorSetHash, sigs);

        uint64 signingSetId = validatorSetId;
        if (cp.nextValidatorSetHash != validatorSetHash) {
            _rotate(cp, next);
        } else if (cp.nextValidatorSetId != signingSetId) {
            revert BadValidatorSetId();
        }

        checkpoints[cp.number] = CheckpointRecord({
            digest: digest,
            withdrawalsRoot: cp.withdrawalsRoot,
            withdrawalCount: cp.withdrawalCount,
            validatorSetId: signingSetId,
            acceptedAt: uint64(block.timestamp)
        });
        lastCheckpoint = cp.number;
        lastEndBlock = cp.endBlock;
        emit CheckpointAccepted(
            cp.number,
            digest,
            cp.startBlock,
            cp.endBlock,
            cp.blockRangeRoot,
            cp.stateRoot,
            cp.withdrawalsRoot,
            cp.withdrawalCount,
            signingSetId
        );
    }

    /// @notice Anyone may prove that one validator set signed two different checkpoints for one number: the
    ///         bridge pauses itself (at least 1/3 of the power is then byzantine). The set must be the one
    ///         entitled to sign that number: the set that signed it if accepted, else the current set.
    function reportConflict(
        Checkpoint calldata a,
        Signature[] calldata sigsA,
        Checkpoint calldata b,
        Signature[] calldata sigsB,
        ValidatorSet calldata set
    ) external {
        if (a.number != b.number) revert NotConflicting();
        bytes32 digestA = checkpointDigest(a);
        bytes32 digestB = checkpointDigest(b);
        if (digestA == digestB) revert NotConflicting();
        uint64 setId = a.number <= lastCheckpoint ? checkpoints[a.number].validatorSetId : validatorSetId;
        if (set.id != setId) revert UnknownValidatorSet();
        bytes32 setHash = validatorSetHashById[setId];
        _verifyQuorum(digestA, set, setHash, sigsA);
        _verifyQuorum(digestB, set, setHash, sigsB);
        emit ConflictProven(a.number, digestA, digestB);
        _pause();
    }

    // ---------------------------------------------------------------------------------------------
    // Deposits: BNB Chain -> Tagger chain

    /// @notice Locks `amount` TAG for `recipient` on Tagger chain. The event carries what the bridge's balance
    ///         actually grew by, not the amount asked for.
    function deposit(bytes20 recipient, uint256 amount) external whenNotPaused nonReentrant returns (uint64 nonce) {
        if (recipient == bytes20(0)) revert ZeroRecipient();
        if (amount == 0) revert ZeroAmount();
        uint256 before = _balance();
        _callToken(abi.encodeWithSelector(0x23b872dd, msg.sender, address(this), amount)); // transferFrom
        uint256 received = _balance() - before;
        if (received == 0) revert NothingReceived();
        nonce = ++depositNonce;
        totalLocked += received;
        emit Deposited(nonce, msg.sender, recipient, received);
    }

    // ---------------------------------------------------------------------------------------------
    // Withdrawals: Tagger chain -> BNB Chain

    /// @notice Releases (or, at `largeWithdrawal` and above, queues for `delaySeconds`) the withdrawal `w`,
    ///         proven to be leaf `index` of checkpoint `number`'s withdrawals tree. Anyone may submit it.
    function withdraw(uint64 number, Withdrawal calldata w, uint256 index, bytes32[] calldata proof)
        external
        whenNotPaused
        nonReentrant
    {
        CheckpointRecord storage record = checkpoints[number];
        uint32 count = record.withdrawalCount;
        if (count == 0) revert UnknownCheckpoint();
        if (claimed[w.nonce]) revert AlreadyClaimed();
        if (w.recipient == address(0)) revert ZeroRecipient();
        if (w.amount == 0) revert ZeroAmount();
        if (w.amount > perTxCap) revert OverPerTxCap();
        if (!_verifyProof(record.withdrawalsRoot, count, withdrawalLeaf(w), index, proof)) revert BadProof();
        claimed[w.nonce] = true;

        uint256 current = block.timestamp / epochSeconds;
        if (current != epoch) {
            epoch = current;
            epochVolume = 0;
        }
        if (epochVolume + w.amount > epochCap) revert OverEpochCap();
        epochVolume += w.amount;

        if (w.amount >= largeWithdrawal) {
            uint64 releaseAt = uint64(block.timestamp + delaySeconds);
            queued[w.nonce] = QueuedWithdrawal({recipient: w.recipient, releaseAt: releaseAt, amount: w.amount});
            emit WithdrawalQueued(w.nonce, w.recipient, w.amount, releaseAt);
        } else {
            totalReleased += w.amount;
            _callToken(abi.encodeWithSelector(0xa9059cbb, w.recipient, w.amount)); // transfer
            emit WithdrawalReleased(w.nonce, w.recipient, w.amount);
        }
    }

    /// @notice Releases a queued withdrawal once its delay has passed. Anyone may call it.
    function executeQueued(uint64 nonce) external whenNotPaused nonReentrant {
        QueuedWithdrawal memory q = queued[nonce];
        if (q.amount == 0) revert NotQueued();
        if (block.timestamp < q.releaseAt) revert TooEarly(q.releaseAt);
        delete queued[nonce];
        totalReleased += q.amount;
        _callToken(abi.encodeWithSelector(0xa9059cbb, q.recipient, q.amount)); // transfer
        emit WithdrawalReleased(nonce, q.recipient, q.amount);
    }

    // ---------------------------------------------------------------------------------------------
    // Guardians: any one pauses; unpausing and cancelling a queued withdrawal need guardianQuorum (>= 2).

    function pause() external onlyGuardian {
        _pause();
    }

    function approveUnpause() external onlyGuardian {
        if (!paused) revert NotPaused();
        if (_approve(keccak256(abi.encode("unpause", pauseCount))) >= guardianQuorum) {
            paused = false;
            emit Unpaused();
        }
    }

    function approveCancel(uint64 nonce) external onlyGuardian {
        if (queued[nonce].amount == 0) revert NotQueued();
        if (_approve(keccak256(abi.encode("cancel", nonce))) >= guardianQuorum) {
            // The TAG stays locked: the burn on Tagger chain is settled off-chain, by governance.
            delete queued[nonce];
            emit WithdrawalCancelled(nonce);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Internals

    function _pause() private {
        // A new pause round: unpause approvals given in an earlier round do not count.
        paused = true;
        pauseCount += 1;
        emit Paused(msg.sender);
    }

    function _approve(bytes32 action) private returns (uint256 n) {
        if (approvedBy[action][msg.sender]) revert AlreadyApproved();
        approvedBy[action][msg.sender] = true;
        n = ++approvals[action];
        emit GuardianApproved(action, msg.sender, n);
    }

    /// @dev Reverts unless `sigs` carry more than 2/3 of the power of `set`, whose hash must be `expectedHash`.
    function _verifyQuorum(bytes32 digest, ValidatorSet calldata set, bytes32 expectedHash, Signature[] calldata sigs)
        private
        pure
    {
        if (expectedHash == bytes32(0) || hashValidatorSet(set) != expectedHash) revert UnknownValidatorSet();
        uint256 n = set.signers.length;
        uint256 total = 0;
        for (uint256 i = 0; i < n; i++) {
            total += set.powers[i];
        }
        uint256 signed = 0;
        uint256 j = 0; // index into the set: signers are ascending in both, so one pass finds them all
        address previous = address(0);
        for (uint256 i = 0; i < sigs.length; i++) {
            address signer = _recover(digest, sigs[i]);
            if (signer <= previous) revert SignersNotAscending();
            while (j < n && set.signers[j] < signer) j++;
            if (j == n || set.signers[j] != signer) revert SignerNotInSet();
            signed += set.powers[j];
            previous = signer;
        }
        if (signed * 3 <= total * 2) revert NoQuorum(signed, total);
    }

    function _recover(bytes32 digest, Signature calldata sig) private pure returns (address signer) {
        if (uint256(sig.s) > HALF_ORDER) revert HighS();
        if (sig.v != 27 && sig.v != 28) revert BadV();
        signer = ecrecover(digest, sig.v, sig.r, sig.s);
        if (signer == address(0)) revert ZeroSigner();
    }

    function _rotate(Checkpoint calldata cp, ValidatorSet calldata next) private {
        if (cp.nextValidatorSetId != validatorSetId + 1 || next.id != cp.nextValidatorSetId) revert BadValidatorSetId();
        if (hashValidatorSet(next) != cp.nextValidatorSetHash) revert UnknownValidatorSet();
        uint256 total = _checkSetShape(next.signers, next.powers);
        validatorSetId = next.id;
        validatorSetHash = cp.nextValidatorSetHash;
        validatorSetHashById[next.id] = cp.nextValidatorSetHash;
        emit ValidatorSetRotated(next.id, cp.nextValidatorSetHash, total);
    }

    function _checkSetShape(address[] memory signers, uint256[] memory powers) private pure returns (uint256 total) {
        uint256 n = signers.length;
        if (n == 0 || n > MAX_VALIDATORS || powers.length != n) revert BadValidatorSet();
        address previous = address(0);
        for (uint256 i = 0; i < n; i++) {
            if (signers[i] <= previous || powers[i] == 0) revert BadValidatorSet(); // also refuses address(0)
            previous = signers[i];
            total += powers[i];
        }
        if (total > type(uint128).max) revert BadValidatorSet(); // keeps `signed * 3` far from overflow
    }

    /// @dev The tree has `count` leaves padded with zero hashes to the next power of two; the proof is
    ///      exactly the siblings from the leaf up, so there is one proof per leaf and nothing unhashed.
    function _verifyProof(bytes32 root, uint256 count, bytes32 leaf, uint256 index, bytes32[] calldata proof)
        private
        pure
        returns (bool)
    {
        if (index >= count) return false;
        uint256 depth = 0;
        while ((uint256(1) << depth) < count) depth++;
        if (proof.length != depth) return false;
        bytes32 h = leaf;
        for (uint256 i = 0; i < depth; i++) {
            h = (index & 1) == 0
                ? keccak256(abi.encodePacked(NODE_PREFIX, h, proof[i]))
                : keccak256(abi.encodePacked(NODE_PREFIX, proof[i], h));
            index >>= 1;
        }
        return h == root;
    }

    function _balance() private view returns (uint256) {
        (bool ok, bytes memory data) = token.staticcall(abi.encodeWithSelector(0x70a08231, address(this))); // balanceOf
        if (!ok || data.length != 32) revert TokenCallFailed();
        return abi.decode(data, (uint256));
    }

    /// @dev A token call must succeed and return nothing or exactly `true`.
    function _callToken(bytes memory data) private {
        (bool ok, bytes memory ret) = token.call(data);
        if (!ok || (ret.length != 0 && (ret.length != 32 || abi.decode(ret, (uint256)) != 1))) revert TokenCallFailed();
    }
}
