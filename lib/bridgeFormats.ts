/**
 * The bytes the BNB Chain bridge contract (bridge/contracts/TaggerBridge.sol) hashes and verifies,
 * built off-chain: the domain separator, the checkpoint digest validators sign, the validator-set
 * hash, withdrawal leaves, the withdrawals tree and its proofs, and signature collection (low-s,
 * strictly ascending by signer address). Every function here must match the contract byte for byte;
 * docs/spec/bridge.md writes the formats down and test/bridge/ checks both against each other on a
 * real EVM. Pure: no I/O, no clock. Lives in lib/ because the runtime (runtime/bridge/) builds
 * checkpoints and withdrawal leaves with it; bridge/checkpoint.ts re-exports it.
 */
import { bytesToHex, bytesToNumberBE, compareBytes, concatBytes, equalBytes, utf8ToBytes } from './bytes.ts';
import { keccak256, secp256k1Address, secp256k1Recover, secp256k1Sign, type Secp256k1Signature } from './crypto.ts';
import { ChainError } from './errors.ts';

/** Bad input to the bridge formats: the same cases the contract reverts on. */
export type BridgeFormatErrorType =
  | { code: 'BRIDGE_BAD_LENGTH'; field: string; expected: number; actual: number }
  | { code: 'BRIDGE_VALIDATOR_SET_INVALID'; reason: string }
  | { code: 'BRIDGE_WITHDRAWALS_INVALID'; reason: string }
  | { code: 'BRIDGE_OUT_OF_RANGE'; field: string; value: string };

export class BridgeFormatError extends ChainError<BridgeFormatErrorType> {}

export const WORD_BYTES = 32;
export const EVM_ADDRESS_BYTES = 20;
export const TAGGER_ADDRESS_BYTES = 20;
/** Contract limits (TaggerBridge.sol constants). */
export const MAX_VALIDATORS = 128;
export const MAX_CHECKPOINT_BLOCKS = 65_536n;
export const MAX_PROOF_DEPTH = 20;
export const MAX_WITHDRAWALS_PER_CHECKPOINT = 2 ** MAX_PROOF_DEPTH;

const U64_MAX = 2n ** 64n - 1n;
const U256_MAX = 2n ** 256n - 1n;
/** secp256k1n / 2: a larger s is the malleated twin of a valid signature. */
export const SECP256K1_HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/** keccak256 of the type strings, as the contract's constants. */
export const DOMAIN_TYPE = keccak256(utf8ToBytes('tagger-bridge/domain/v1'));
export const CHECKPOINT_TYPE = keccak256(utf8ToBytes('tagger-bridge/checkpoint/v1'));
export const WITHDRAWAL_TYPE = keccak256(utf8ToBytes('tagger-bridge/withdrawal/v1'));
export const VALIDATOR_SET_TYPE = keccak256(utf8ToBytes('tagger-bridge/validator-set/v1'));
const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);
/** Padding leaves of the withdrawals tree. */
export const ZERO_HASH: Uint8Array = new Uint8Array(WORD_BYTES);

/** Where a signature is valid: one BNB Chain, one bridge contract, one Tagger chain. */
export type BridgeDomain = { chainId: bigint; contract: Uint8Array; appchainId: Uint8Array };

/** The validator set as the contract sees it: signers strictly ascending, every power > 0. */
export type BridgeValidatorSet = { id: bigint; signers: Uint8Array[]; powers: bigint[] };

export type BridgeCheckpoint = {
  number: bigint;
  startBlock: bigint;
  endBlock: bigint;
  blockRangeRoot: Uint8Array;
  stateRoot: Uint8Array;
  withdrawalsRoot: Uint8Array;
  withdrawalCount: number;
  nextValidatorSetId: bigint;
  nextValidatorSetHash: Uint8Array;
};

/** TAG burnt on Tagger chain by `sender` (a Tagger address), released on BNB Chain to `recipient`. */
export type BridgeWithdrawal = { nonce: bigint; sender: Uint8Array; recipient: Uint8Array; amount: bigint };

/** A signature with the address it recovers to. */
export type SignerSignature = { signer: Uint8Array; signature: Secp256k1Signature };

// ---------------------------------------------------------------------------------------------
// ABI words: every field the contract hashes is one 32-byte word.

function checkLength(field: string, bytes: Uint8Array, expected: number): void {
  if (bytes.length !== expected) {
    throw new BridgeFormatError({ code: 'BRIDGE_BAD_LENGTH', field, expected, actual: bytes.length }, `${field}: ${expected} bytes expected`);
  }
}

/** An unsigned integer as a big-endian word; `max` is the Solidity type's bound. */
export function uintWord(field: string, value: bigint, max: bigint = U256_MAX): Uint8Array {
  if (value < 0n || value > max) {
    throw new BridgeFormatError({ code: 'BRIDGE_OUT_OF_RANGE', field, value: value.toString() }, `${field} out of range`);
  }
  const out = new Uint8Array(WORD_BYTES);
  let v = value;
  for (let i = WORD_BYTES - 1; i >= 0 && v > 0n; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** `address`: 20 bytes right-aligned (left-padded with zeros). */
function addressWord(field: string, address: Uint8Array): Uint8Array {
  checkLength(field, address, EVM_ADDRESS_BYTES);
  return concatBytes(new Uint8Array(WORD_BYTES - EVM_ADDRESS_BYTES), address);
}

/** `bytes20`: 20 bytes left-aligned (right-padded with zeros). */
function bytes20Word(field: string, value: Uint8Array): Uint8Array {
  checkLength(field, value, TAGGER_ADDRESS_BYTES);
  return concatBytes(value, new Uint8Array(WORD_BYTES - TAGGER_ADDRESS_BYTES));
}

function bytes32Word(field: string, value: Uint8Array): Uint8Array {
  checkLength(field, value, WORD_BYTES);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Domain, validator set, checkpoint digest

/** The appchain id the contract is deployed with: keccak256 of the Tagger chain id string. */
export function appchainIdFromChainId(chainId: string): Uint8Array {
  return keccak256(utf8ToBytes(chainId));
}

/** keccak256(abi.encode(DOMAIN_TYPE, chainId, contract, appchainId)). */
export function domainSeparator(domain: BridgeDomain): Uint8Array {
  return keccak256(
    concatBytes(
      DOMAIN_TYPE,
      uintWord('chainId', domain.chainId),
      addressWord('contract', domain.contract),
      bytes32Word('appchainId', domain.appchainId),
    ),
  );
}

/** Throws unless `set` is one the contract installs: 1..MAX_VALIDATORS signers, ascending, powers > 0. */
export function validateValidatorSet(set: BridgeValidatorSet): void {
  const invalid = (reason: string): BridgeFormatError =>
    new BridgeFormatError({ code: 'BRIDGE_VALIDATOR_SET_INVALID', reason }, `invalid validator set: ${reason}`);
  const n = set.signers.length;
  if (n === 0 || n > MAX_VALIDATORS) throw invalid(`${n} signers`);
  if (set.powers.length !== n) throw invalid('signers and powers differ in length');
  let previous: Uint8Array = new Uint8Array(EVM_ADDRESS_BYTES);
  let total = 0n;
  for (let i = 0; i < n; i++) {
    const signer = set.signers[i]!;
    const power = set.powers[i]!;
    checkLength('signer', signer, EVM_ADDRESS_BYTES);
    if (compareBytes(signer, previous) <= 0) throw invalid(`signer ${i} not strictly ascending (or zero)`);
    if (power <= 0n) throw invalid(`power ${i} is not positive`);
    previous = signer;
    total += power;
  }
  if (total >= 2n ** 128n) throw invalid('total power too large');
}

/**
 * keccak256(abi.encode(VALIDATOR_SET_TYPE, id, signers, powers)): two words, two offsets, then the two
 * dynamic arrays (length word, elements). Like abi.encode it hashes any set, valid or not.
 */
export function validatorSetHash(set: BridgeValidatorSet): Uint8Array {
  const signersOffset = 4n * 32n;
  const powersOffset = signersOffset + 32n * BigInt(1 + set.signers.length);
  return keccak256(
    concatBytes(
      VALIDATOR_SET_TYPE,
      uintWord('id', set.id, U64_MAX),
      uintWord('offset', signersOffset),
      uintWord('offset', powersOffset),
      uintWord('length', BigInt(set.signers.length)),
      ...set.signers.map((s) => addressWord('signer', s)),
      uintWord('length', BigInt(set.powers.length)),
      ...set.powers.map((p) => uintWord('power', p)),
    ),
  );
}

/** keccak256(abi.encode(domainSeparator, CHECKPOINT_TYPE, checkpoint fields in order)): 11 words. */
export function checkpointDigest(domain: BridgeDomain, cp: BridgeCheckpoint): Uint8Array {
  return checkpointDigestWithType(domainSeparator(domain), CHECKPOINT_TYPE, cp);
}

/** The digest with an explicit separator and message type (tests sign wrong domains with it). */
export function checkpointDigestWithType(separator: Uint8Array, messageType: Uint8Array, cp: BridgeCheckpoint): Uint8Array {
  return keccak256(
    concatBytes(
      bytes32Word('domainSeparator', separator),
      bytes32Word('messageType', messageType),
      uintWord('number', cp.number, U64_MAX),
      uintWord('startBlock', cp.startBlock, U64_MAX),
      uintWord('endBlock', cp.endBlock, U64_MAX),
      bytes32Word('blockRangeRoot', cp.blockRangeRoot),
      bytes32Word('stateRoot', cp.stateRoot),
      bytes32Word('withdrawalsRoot', cp.withdrawalsRoot),
      uintWord('withdrawalCount', BigInt(cp.withdrawalCount), 2n ** 32n - 1n),
      uintWord('nextValidatorSetId', cp.nextValidatorSetId, U64_MAX),
      bytes32Word('nextValidatorSetHash', cp.nextValidatorSetHash),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Signatures

/** Signs a checkpoint digest with a validator's secp256k1 bridge key. */
export function signCheckpoint(secretKey: Uint8Array, digest: Uint8Array): SignerSignature {
  return { signer: secp256k1Address(secretKey), signature: secp256k1Sign(secretKey, digest) };
}

/**
 * The signatures the contract accepts for `digest`, from any collection: each must recover to its
 * claimed signer, have low s and be from a member of `set`; duplicates are dropped; the result is
 * strictly ascending by signer address, as the contract requires.
 */
export function collectSignatures(digest: Uint8Array, set: BridgeValidatorSet, sigs: readonly SignerSignature[]): SignerSignature[] {
  const members = new Set(set.signers.map((s) => bytesToHex(s)));
  const bySigner = new Map<string, SignerSignature>();
  for (const sig of sigs) {
    if (bytesToNumberBE(sig.signature.s) > SECP256K1_HALF_ORDER) continue;
    const recovered = secp256k1Recover(digest, sig.signature);
    if (recovered === null || !equalBytes(recovered, sig.signer)) continue;
    const key = bytesToHex(recovered);
    if (members.has(key)) bySigner.set(key, sig);
  }
  return [...bySigner.values()].sort((a, b) => compareBytes(a.signer, b.signer));
}

/** True if the signers hold strictly more than 2/3 of the set's power (the contract's quorum rule). */
export function hasQuorum(set: BridgeValidatorSet, signers: readonly Uint8Array[]): boolean {
  const signing = new Set(signers.map((s) => bytesToHex(s)));
  let total = 0n;
  let signed = 0n;
  set.signers.forEach((s, i) => {
    const power = set.powers[i] ?? 0n;
    total += power;
    if (signing.has(bytesToHex(s))) signed += power;
  });
  return signed * 3n > total * 2n;
}

// ---------------------------------------------------------------------------------------------
// Withdrawals tree: leaf = keccak256(0x00 ‖ abi.encode(WITHDRAWAL_TYPE, nonce, sender, recipient, amount)),
// node = keccak256(0x01 ‖ left ‖ right); leaves in order, padded with ZERO_HASH to a power of two.

export function withdrawalLeaf(w: BridgeWithdrawal): Uint8Array {
  return keccak256(
    concatBytes(
      LEAF_PREFIX,
      WITHDRAWAL_TYPE,
      uintWord('nonce', w.nonce, U64_MAX),
      bytes20Word('sender', w.sender),
      addressWord('recipient', w.recipient),
      uintWord('amount', w.amount),
    ),
  );
}

export function withdrawalNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  return keccak256(concatBytes(NODE_PREFIX, left, right));
}

/** The depth of a tree of `count` leaves: ceil(log2(count)), 0 for one leaf. */
export function withdrawalTreeDepth(count: number): number {
  let depth = 0;
  while (2 ** depth < count) depth++;
  return depth;
}

function checkLeafCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_WITHDRAWALS_PER_CHECKPOINT) {
    throw new BridgeFormatError({ code: 'BRIDGE_WITHDRAWALS_INVALID', reason: `${count} leaves` }, `a withdrawals tree has 1..${MAX_WITHDRAWALS_PER_CHECKPOINT} leaves`);
  }
}

/** Every level of the padded tree, leaves first, root last. */
function treeLevels(leaves: readonly Uint8Array[]): Uint8Array[][] {
  checkLeafCount(leaves.length);
  const width = 2 ** withdrawalTreeDepth(leaves.length);
  let level: Uint8Array[] = Array.from({ length: width }, (_, i) => leaves[i] ?? ZERO_HASH);
  const levels = [level];
  while (level.length > 1) {
    const up: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(withdrawalNode(level[i]!, level[i + 1]!));
    level = up;
    levels.push(level);
  }
  return levels;
}

/** The withdrawals root of a checkpoint: ZERO_HASH when it has no withdrawals. */
export function withdrawalsRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return ZERO_HASH;
  const levels = treeLevels(leaves);
  return levels[levels.length - 1]![0]!;
}

/** The siblings from leaf `index` up to the root (exactly withdrawalTreeDepth(count) hashes). */
export function withdrawalProof(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  const levels = treeLevels(leaves);
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) {
    throw new BridgeFormatError({ code: 'BRIDGE_OUT_OF_RANGE', field: 'index', value: String(index) }, 'leaf index out of range');
  }
  const proof: Uint8Array[] = [];
  let i = index;
  for (let d = 0; d < levels.length - 1; d++) {
    proof.push(levels[d]![i ^ 1]!);
    i >>= 1;
  }
  return proof;
}

/** The contract's proof check, in TypeScript. */
export function verifyWithdrawalProof(root: Uint8Array, count: number, leaf: Uint8Array, index: number, proof: readonly Uint8Array[]): boolean {
  if (index < 0 || index >= count || proof.length !== withdrawalTreeDepth(count)) return false;
  let h = leaf;
  let i = index;
  for (const sibling of proof) {
    h = (i & 1) === 0 ? withdrawalNode(h, sibling) : withdrawalNode(sibling, h);
    i >>= 1;
  }
  return equalBytes(h, root);
}
