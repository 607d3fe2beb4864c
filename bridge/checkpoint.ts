/**
 * The bytes the BNB Chain bridge contract (bridge/contracts/TaggerBridge.sol) hashes and verifies:
 * domain separator, checkpoint digest, validator-set hash, withdrawal leaves and tree, signature
 * collection. The pure code lives in lib/bridgeFormats.ts (the runtime builds checkpoints with it);
 * this file keeps the bridge's public surface unchanged.
 */
export {
  BridgeFormatError,
  CHECKPOINT_TYPE,
  DOMAIN_TYPE,
  EVM_ADDRESS_BYTES,
  MAX_CHECKPOINT_BLOCKS,
  MAX_PROOF_DEPTH,
  MAX_VALIDATORS,
  MAX_WITHDRAWALS_PER_CHECKPOINT,
  SECP256K1_HALF_ORDER,
  TAGGER_ADDRESS_BYTES,
  VALIDATOR_SET_TYPE,
  WITHDRAWAL_TYPE,
  WORD_BYTES,
  ZERO_HASH,
  appchainIdFromChainId,
  checkpointDigest,
  checkpointDigestWithType,
  collectSignatures,
  domainSeparator,
  hasQuorum,
  signCheckpoint,
  uintWord,
  validateValidatorSet,
  validatorSetHash,
  verifyWithdrawalProof,
  withdrawalLeaf,
  withdrawalNode,
  withdrawalProof,
  withdrawalTreeDepth,
  withdrawalsRoot,
  type BridgeCheckpoint,
  type BridgeDomain,
  type BridgeFormatErrorType,
  type BridgeValidatorSet,
  type BridgeWithdrawal,
  type SignerSignature,
} from '../lib/index.ts';
