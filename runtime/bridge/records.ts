/**
 * Bridge state records and their keys (docs/spec/bridge.md §Chain side). Every record is a
 * fixed-order msgpack array. Keys start with a prefix from state/keys.ts (0x30–0x3f).
 */
import {
  ADDRESS_BYTES,
  ETH_ADDRESS_BYTES,
  HASH_BYTES,
  Reader,
  SECP256K1_SIGNATURE_BYTES,
  amountToBytes,
  concatBytes,
  decodeStateValue,
  encode,
  u32ToBytes,
  type BridgeValidatorSet,
} from '../../lib/index.ts';
import { PREFIX, bridgeGlobalKey, bridgeSetToWire, loadBridgeSet, parseBridgeSet, type StateReader, type StateView } from '../../state/index.ts';

export {
  bridgeGlobalKey,
  bridgeKeyKey,
  bridgeKeyOwnerKey,
  loadBridgeKey,
  loadBridgeKeyOwner,
  saveBridgeKey,
  loadBridgeSet,
  saveBridgeSet,
} from '../../state/index.ts';

const RECORD_BYTES_MAX = 64 * 1024;

const key = (prefix: number, ...parts: Uint8Array[]): Uint8Array => concatBytes(Uint8Array.of(prefix), ...parts);
export const depositKey = (nonce: number): Uint8Array => key(PREFIX.bridgeDeposit, u32ToBytes(nonce));
export const withdrawalKey = (nonce: number): Uint8Array => key(PREFIX.bridgeWithdrawal, u32ToBytes(nonce));
export const checkpointKey = (number: number): Uint8Array => key(PREFIX.bridgeCheckpoint, u32ToBytes(number));
export const checkpointSigKey = (number: number, signer: Uint8Array): Uint8Array => key(PREFIX.bridgeCheckpointSig, u32ToBytes(number), signer);

// ── counters ─────────────────────────────────────────────────────────────────────────────────────

/** The bridge's counters. Nonces start at 1, as the contract's. */
export type BridgeGlobals = {
  /** The next deposit nonce to mint: deposits are minted in nonce order, never skipped. */
  nextDepositNonce: number;
  /** The nonce the next withdrawal gets. */
  nextWithdrawalNonce: number;
  /** Withdrawals with nonce ≤ this are in a checkpoint. */
  checkpointedNonce: number;
  lastCheckpoint: number;
  lastEndBlock: number;
  /** TAG minted by deposits minus TAG burnt by withdrawals: what may still be withdrawn. */
  bridgedSupply: bigint;
};

const GLOBALS_KEY = bridgeGlobalKey('globals');

export function loadBridgeGlobals(state: StateReader): BridgeGlobals {
  const bytes = state.get(GLOBALS_KEY);
  if (bytes === undefined) return { nextDepositNonce: 1, nextWithdrawalNonce: 1, checkpointedNonce: 0, lastCheckpoint: 0, lastEndBlock: 0, bridgedSupply: 0n };
  return decodeStateValue(bytes, 'BridgeGlobals', 256, (v) => {
    const r = Reader.array(v, 'BridgeGlobals', 6);
    return {
      nextDepositNonce: r.u32('nextDepositNonce'),
      nextWithdrawalNonce: r.u32('nextWithdrawalNonce'),
      checkpointedNonce: r.u32('checkpointedNonce'),
      lastCheckpoint: r.u32('lastCheckpoint'),
      lastEndBlock: r.u32('lastEndBlock'),
      bridgedSupply: r.amount('bridgedSupply'),
    };
  });
}

export function saveBridgeGlobals(view: StateView, g: BridgeGlobals): void {
  view.set(GLOBALS_KEY, encode([g.nextDepositNonce, g.nextWithdrawalNonce, g.checkpointedNonce, g.lastCheckpoint, g.lastEndBlock, amountToBytes(g.bridgedSupply)]));
}

// ── deposits ─────────────────────────────────────────────────────────────────────────────────────

/** A deposit being attested: the fields every attestation must repeat, who attested, whether it reached quorum. */
export type PendingDeposit = {
  nonce: number;
  recipient: Uint8Array;
  amount: bigint;
  bnbTxHash: Uint8Array;
  logIndex: number;
  /** Operators that attested it, in attestation order (≤ the set size). */
  attesters: Uint8Array[];
  /** Reached > 2/3 of the power; minted when every earlier nonce is. */
  ready: boolean;
};

export function loadDeposit(state: StateReader, nonce: number): PendingDeposit | null {
  const bytes = state.get(depositKey(nonce));
  if (bytes === undefined) return null;
  return decodeStateValue(bytes, 'PendingDeposit', RECORD_BYTES_MAX, (v) => {
    const r = Reader.array(v, 'PendingDeposit', 6);
    return {
      nonce,
      recipient: r.bytes('recipient', ADDRESS_BYTES),
      amount: r.amount('amount'),
      bnbTxHash: r.bytes('bnbTxHash', HASH_BYTES),
      logIndex: r.u32('logIndex'),
      attesters: r.list('attesters', 1024, (a) => Reader.array([a], 'PendingDeposit', 1).bytes('attester', ADDRESS_BYTES)),
      ready: r.bool('ready'),
    };
  });
}

export function saveDeposit(view: StateView, d: PendingDeposit): void {
  view.set(depositKey(d.nonce), encode([d.recipient, amountToBytes(d.amount), d.bnbTxHash, d.logIndex, d.attesters, d.ready]));
}

// ── withdrawals ──────────────────────────────────────────────────────────────────────────────────

/** A burn on Tagger chain, released on BNB Chain once its checkpoint is accepted. */
export type WithdrawalRecord = { nonce: number; sender: Uint8Array; recipient: Uint8Array; amount: bigint; height: number };

export function loadWithdrawal(state: StateReader, nonce: number): WithdrawalRecord | null {
  const bytes = state.get(withdrawalKey(nonce));
  if (bytes === undefined) return null;
  return decodeStateValue(bytes, 'Withdrawal', 256, (v) => {
    const r = Reader.array(v, 'Withdrawal', 4);
    return { nonce, sender: r.bytes('sender', ADDRESS_BYTES), recipient: r.bytes('recipient', ETH_ADDRESS_BYTES), amount: r.amount('amount'), height: r.u32('height') };
  });
}

export function saveWithdrawal(view: StateView, w: WithdrawalRecord): void {
  view.set(withdrawalKey(w.nonce), encode([w.sender, w.recipient, amountToBytes(w.amount), w.height]));
}

// ── checkpoints ──────────────────────────────────────────────────────────────────────────────────

/** A closed checkpoint, the set that must sign it, its digest and how much of that set has signed. */
export type CheckpointRecord = {
  number: number;
  startBlock: number;
  endBlock: number;
  blockRangeRoot: Uint8Array;
  stateRoot: Uint8Array;
  withdrawalsRoot: Uint8Array;
  withdrawalCount: number;
  /** Nonce of the first withdrawal leaf (leaves are consecutive nonces). */
  firstWithdrawalNonce: number;
  nextValidatorSetId: number;
  nextValidatorSetHash: Uint8Array;
  signingSet: BridgeValidatorSet;
  digest: Uint8Array;
  signedPower: bigint;
  signed: boolean;
};

export function loadCheckpoint(state: StateReader, number: number): CheckpointRecord | null {
  const bytes = state.get(checkpointKey(number));
  if (bytes === undefined) return null;
  return decodeStateValue(bytes, 'Checkpoint', RECORD_BYTES_MAX, (v) => {
    const r = Reader.array(v, 'Checkpoint', 13);
    return {
      number,
      startBlock: r.u32('startBlock'),
      endBlock: r.u32('endBlock'),
      blockRangeRoot: r.bytes('blockRangeRoot', HASH_BYTES),
      stateRoot: r.bytes('stateRoot', HASH_BYTES),
      withdrawalsRoot: r.bytes('withdrawalsRoot', HASH_BYTES),
      withdrawalCount: r.u32('withdrawalCount'),
      firstWithdrawalNonce: r.u32('firstWithdrawalNonce'),
      nextValidatorSetId: r.u32('nextValidatorSetId'),
      nextValidatorSetHash: r.bytes('nextValidatorSetHash', HASH_BYTES),
      signingSet: parseBridgeSet(r.raw(), 'Checkpoint'),
      digest: r.bytes('digest', HASH_BYTES),
      signedPower: r.amount('signedPower'),
      signed: r.bool('signed'),
    };
  });
}

export function saveCheckpoint(view: StateView, c: CheckpointRecord): void {
  view.set(
    checkpointKey(c.number),
    encode([
      c.startBlock,
      c.endBlock,
      c.blockRangeRoot,
      c.stateRoot,
      c.withdrawalsRoot,
      c.withdrawalCount,
      c.firstWithdrawalNonce,
      c.nextValidatorSetId,
      c.nextValidatorSetHash,
      bridgeSetToWire(c.signingSet),
      c.digest,
      amountToBytes(c.signedPower),
      c.signed,
    ]),
  );
}

/** A validator's signature over a checkpoint's digest, r‖s‖v (65 bytes), keyed by its bridge address. */
export function loadCheckpointSig(state: StateReader, number: number, signer: Uint8Array): Uint8Array | null {
  const bytes = state.get(checkpointSigKey(number, signer));
  return bytes === undefined || bytes.length !== SECP256K1_SIGNATURE_BYTES ? null : bytes;
}

/** The stored signatures over checkpoint `c` (r ‖ s ‖ v), one per member of its signing set that signed, in set order. */
export function loadCheckpointSigs(state: StateReader, c: CheckpointRecord): Array<{ signer: Uint8Array; signature: Uint8Array }> {
  const out: Array<{ signer: Uint8Array; signature: Uint8Array }> = [];
  for (const signer of c.signingSet.signers) {
    const signature = loadCheckpointSig(state, c.number, signer);
    if (signature !== null) out.push({ signer, signature });
  }
  return out;
}

/**
 * The set checkpoint `c` rotates to, when it names another than its signing set: the set that signs
 * the next checkpoint (that checkpoint's signing set if it is closed, else the current one); null if
 * it keeps its set. What `submitCheckpoint` takes as `next`.
 */
export function checkpointNextSet(state: StateReader, c: CheckpointRecord): BridgeValidatorSet | null {
  if (BigInt(c.nextValidatorSetId) === c.signingSet.id) return null;
  return loadCheckpoint(state, c.number + 1)?.signingSet ?? loadBridgeSet(state);
}
