/**
 * Staking state records and their keys. Every record is a fixed-order msgpack array; layouts are in
 * docs/spec/staking.md §State. Keys start with a staking prefix from state/keys.ts.
 *
 *   params, counters, last set   PREFIX.stakingGlobal ‖ name
 *   validator                    PREFIX.stakingValidator ‖ operator
 *   registry                     PREFIX.stakingValidatorIndex ‖ u32 index        → operator
 *   consensus address            PREFIX.stakingConsensus ‖ consensus address     → operator
 *   delegation                   PREFIX.delegation ‖ delegator ‖ operator
 *   unbonding entries            PREFIX.unbonding ‖ delegator ‖ operator
 *   unbonding pool               PREFIX.unbondingPool ‖ operator ‖ u32 epoch
 *   maturity queue               PREFIX.stakingQueue ‖ u32 seq (bounds: PREFIX.stakingQueue)
 *   signing info                 PREFIX.signingInfo ‖ consensus address
 *   missed-block bits            PREFIX.missedBlocks ‖ consensus address ‖ u32 chunk
 *   set of an epoch              PREFIX.stakingHistory ‖ 's' ‖ u32 epoch
 *   block time                   PREFIX.stakingHistory ‖ 't' ‖ u32 height
 */
import {
  ADDRESS_BYTES,
  Reader,
  amountToBytes,
  assert,
  concatBytes,
  decodeCanonical,
  decodeStateValue,
  encode,
  sha256,
  u32ToBytes,
  utf8ToBytes,
} from '../../lib/index.ts';
import {
  PREFIX,
  VALIDATOR_SET_KEY,
  decodeValidatorSet,
  encodeValidatorSet,
  type StateReader,
  type StateView,
  type ValidatorSet,
} from '../../state/index.ts';

/**
 * The distribution pool: an account nobody holds the key of. Block rewards and the validators' share
 * of fees are paid into it; delegators' rewards and commissions are paid out of it when claimed.
 */
export const REWARD_POOL_ADDRESS = sha256(utf8ToBytes('tagger/staking/rewards')).subarray(0, ADDRESS_BYTES);

/** Fixed-point scale of the rewards-per-share index. */
export const REWARD_INDEX_SCALE = 10n ** 27n;
export const MONIKER_BYTES_MAX = 64;
/** Bits per stored chunk of the missed-blocks window. */
export const MISSED_CHUNK_BITS = 256;

export type StakingValidator = {
  operator: Uint8Array;
  consensusKey: Uint8Array;
  consensusAddress: Uint8Array;
  moniker: string;
  commissionBps: number;
  /** 1 + the epoch of the last commission change; 0 if it never changed. */
  commissionChangedEpoch: number;
  /** Bonded TAG, delegators' and self-delegation alike. */
  tokens: bigint;
  /** Delegation shares outstanding; `tokens / shares` is what one share is worth (≤ 1). */
  shares: bigint;
  /** Rewards per share since creation, scaled by REWARD_INDEX_SCALE. */
  rewardIndex: bigint;
  /** Commission earned and not yet claimed by the operator. */
  commission: bigint;
  jailed: boolean;
  /** First height at which `unjail` is accepted. */
  jailedUntil: number;
  tombstoned: boolean;
  /** The double sign that tombstoned it: [height, round, vote type]; zeros if none. */
  offence: readonly [number, number, number];
  /** Position in the registry (0-based). */
  index: number;
};

export type Delegation = { shares: bigint; rewardIndex: bigint };

export type UnbondingEntry = {
  /** The epoch it was created in: its pool is (validator, epoch). */
  epoch: number;
  /** Shares of that pool. */
  shares: bigint;
  creationHeight: number;
  completionHeight: number;
  /** TAG it started with (for display; slashes reduce what the shares are worth). */
  initial: bigint;
};

/** TAG unbonding from one validator, created in one epoch: slashed together, paid out by shares. */
export type UnbondingPool = { tokens: bigint; shares: bigint };

export type SigningInfo = { missed: number; since: number };

// ── keys ────────────────────────────────────────────────────────────────────────────────────────

const key = (prefix: number, ...parts: Uint8Array[]): Uint8Array => concatBytes(Uint8Array.of(prefix), ...parts);

export const stakingGlobalKey = (name: string): Uint8Array => key(PREFIX.stakingGlobal, utf8ToBytes(name));
export const LAST_VALIDATOR_SET_KEY = stakingGlobalKey('lastSet');
export const stakingValidatorKey = (operator: Uint8Array): Uint8Array => key(PREFIX.stakingValidator, operator);
export const validatorIndexKey = (index: number): Uint8Array => key(PREFIX.stakingValidatorIndex, u32ToBytes(index));
export const consensusKeyOf = (consensusAddress: Uint8Array): Uint8Array => key(PREFIX.stakingConsensus, consensusAddress);
export const delegationKey = (delegator: Uint8Array, operator: Uint8Array): Uint8Array => key(PREFIX.delegation, delegator, operator);
export const unbondingKey = (delegator: Uint8Array, operator: Uint8Array): Uint8Array => key(PREFIX.unbonding, delegator, operator);
export const unbondingPoolKey = (operator: Uint8Array, epoch: number): Uint8Array => key(PREFIX.unbondingPool, operator, u32ToBytes(epoch));
export const signingInfoKey = (consensusAddress: Uint8Array): Uint8Array => key(PREFIX.signingInfo, consensusAddress);
export const missedChunkKey = (consensusAddress: Uint8Array, chunk: number): Uint8Array =>
  key(PREFIX.missedBlocks, consensusAddress, u32ToBytes(chunk));
export const historySetKey = (epoch: number): Uint8Array => key(PREFIX.stakingHistory, utf8ToBytes('s'), u32ToBytes(epoch));
export const blockTimeKey = (height: number): Uint8Array => key(PREFIX.stakingHistory, utf8ToBytes('t'), u32ToBytes(height));

// ── validators ──────────────────────────────────────────────────────────────────────────────────

export function encodeStakingValidator(v: StakingValidator): Uint8Array {
  return encode([
    v.operator,
    v.consensusKey,
    v.consensusAddress,
    v.moniker,
    v.commissionBps,
    v.commissionChangedEpoch,
    amountToBytes(v.tokens),
    amountToBytes(v.shares),
    amountToBytes(v.rewardIndex),
    amountToBytes(v.commission),
    v.jailed,
    v.jailedUntil,
    v.tombstoned,
    [...v.offence],
    v.index,
  ]);
}

const VALIDATOR_RECORD_BYTES_MAX = 1024;

function parseStakingValidator(value: unknown): StakingValidator {
  const r = Reader.array(value, 'StakingValidator', 15);
  const operator = r.bytes('operator', ADDRESS_BYTES);
  const consensusKey = r.bytes('consensusKey', 32);
  const consensusAddress = r.bytes('consensusAddress', ADDRESS_BYTES);
  const moniker = r.str('moniker', MONIKER_BYTES_MAX);
  const commissionBps = r.u32('commissionBps', 10_000);
  const commissionChangedEpoch = r.u32('commissionChangedEpoch');
  const tokens = r.amount('tokens');
  const shares = r.amount('shares');
  const rewardIndex = r.amount('rewardIndex');
  const commission = r.amount('commission');
  const jailed = r.bool('jailed');
  const jailedUntil = r.u32('jailedUntil');
  const tombstoned = r.bool('tombstoned');
  const o = Reader.array(r.raw(), 'Offence', 3);
  const offence = [o.u32('height'), o.u32('round'), o.u32('type')] as const;
  const index = r.u32('index');
  return { operator, consensusKey, consensusAddress, moniker, commissionBps, commissionChangedEpoch, tokens, shares, rewardIndex, commission, jailed, jailedUntil, tombstoned, offence, index };
}

export function decodeStakingValidator(bytes: Uint8Array): StakingValidator {
  return decodeCanonical(bytes, 'StakingValidator', VALIDATOR_RECORD_BYTES_MAX, parseStakingValidator, encodeStakingValidator);
}

export function loadStakingValidator(state: StateReader, operator: Uint8Array): StakingValidator | null {
  const bytes = state.get(stakingValidatorKey(operator));
  // Values read back from state were written by `encode`: no canonical re-encoding per read.
  return bytes === undefined ? null : decodeStateValue(bytes, 'StakingValidator', VALIDATOR_RECORD_BYTES_MAX, parseStakingValidator);
}

export function saveStakingValidator(view: StateView, v: StakingValidator): void {
  // Invariants of the share accounting (docs/spec/staking.md §Shares): no tokens without shares and
  // no shares without tokens, and a share is never worth more than one unit.
  assert((v.tokens === 0n) === (v.shares === 0n), 'validator tokens and shares are zero together');
  assert(v.shares >= v.tokens, 'a share is worth at most one unit');
  view.set(stakingValidatorKey(v.operator), encodeStakingValidator(v));
}

/** The operator behind a consensus address, or null. */
export function operatorOf(state: StateReader, consensusAddress: Uint8Array): Uint8Array | null {
  return state.get(consensusKeyOf(consensusAddress)) ?? null;
}

export function loadValidatorByConsensus(state: StateReader, consensusAddress: Uint8Array): StakingValidator | null {
  const operator = operatorOf(state, consensusAddress);
  return operator === null ? null : loadStakingValidator(state, operator);
}

export function validatorCount(state: StateReader): number {
  return loadU32(state, stakingGlobalKey('validators'));
}

/** Appends a validator to the registry and maps its consensus address; returns its index. */
export function registerValidator(view: StateView, operator: Uint8Array, consensusAddress: Uint8Array): number {
  const index = validatorCount(view);
  view.set(validatorIndexKey(index), operator);
  view.set(stakingGlobalKey('validators'), encode([index + 1]));
  view.set(consensusKeyOf(consensusAddress), operator);
  return index;
}

export function operatorAt(state: StateReader, index: number): Uint8Array {
  const bytes = state.get(validatorIndexKey(index));
  assert(bytes !== undefined, `validator registry: index ${index} missing`);
  return bytes;
}

// ── delegations and unbonding ───────────────────────────────────────────────────────────────────

export function loadDelegation(state: StateReader, delegator: Uint8Array, operator: Uint8Array): Delegation | null {
  const bytes = state.get(delegationKey(delegator, operator));
  if (bytes === undefined) return null;
  return decodeStateValue(bytes, 'Delegation', 128, (value) => {
    const r = Reader.array(value, 'Delegation', 2);
    return { shares: r.amount('shares'), rewardIndex: r.amount('rewardIndex') };
  });
}

function encodeDelegation(d: Delegation): Uint8Array {
  return encode([amountToBytes(d.shares), amountToBytes(d.rewardIndex)]);
}

/** Saves a delegation; one with no shares left is deleted. */
export function saveDelegation(view: StateView, delegator: Uint8Array, operator: Uint8Array, d: Delegation): void {
  if (d.shares === 0n) view.delete(delegationKey(delegator, operator));
  else view.set(delegationKey(delegator, operator), encodeDelegation(d));
}

function encodeUnbonding(entries: readonly UnbondingEntry[]): Uint8Array {
  return encode(entries.map((e) => [e.epoch, amountToBytes(e.shares), e.creationHeight, e.completionHeight, amountToBytes(e.initial)]));
}

export function loadUnbonding(state: StateReader, delegator: Uint8Array, operator: Uint8Array): UnbondingEntry[] {
  const bytes = state.get(unbondingKey(delegator, operator));
  if (bytes === undefined) return [];
  return decodeStateValue(bytes, 'Unbonding', 4096, (value) =>
    Reader.list(value, 'Unbonding', 64, (item) => {
      const r = Reader.array(item, 'UnbondingEntry', 5);
      return { epoch: r.u32('epoch'), shares: r.amount('shares'), creationHeight: r.u32('creationHeight'), completionHeight: r.u32('completionHeight'), initial: r.amount('initial') };
    }));
}

export function saveUnbonding(view: StateView, delegator: Uint8Array, operator: Uint8Array, entries: readonly UnbondingEntry[]): void {
  if (entries.length === 0) view.delete(unbondingKey(delegator, operator));
  else view.set(unbondingKey(delegator, operator), encodeUnbonding(entries));
}

function encodePool(p: UnbondingPool): Uint8Array {
  return encode([amountToBytes(p.tokens), amountToBytes(p.shares)]);
}

export function loadUnbondingPool(state: StateReader, operator: Uint8Array, epoch: number): UnbondingPool {
  const bytes = state.get(unbondingPoolKey(operator, epoch));
  if (bytes === undefined) return { tokens: 0n, shares: 0n };
  return decodeStateValue(bytes, 'UnbondingPool', 128, (value) => {
    const r = Reader.array(value, 'UnbondingPool', 2);
    return { tokens: r.amount('tokens'), shares: r.amount('shares') };
  });
}

export function saveUnbondingPool(view: StateView, operator: Uint8Array, epoch: number, p: UnbondingPool): void {
  assert((p.tokens === 0n) === (p.shares === 0n), 'unbonding pool tokens and shares are zero together');
  if (p.shares === 0n) view.delete(unbondingPoolKey(operator, epoch));
  else view.set(unbondingPoolKey(operator, epoch), encodePool(p));
}

// ── the maturity queue: unbonding entries in completion order ───────────────────────────────────

export type Maturity = { delegator: Uint8Array; operator: Uint8Array; completionHeight: number };

const QUEUE_BOUNDS_KEY = Uint8Array.of(PREFIX.stakingQueue);
const queueEntryKey = (seq: number): Uint8Array => key(PREFIX.stakingQueue, u32ToBytes(seq));

function loadQueueBounds(state: StateReader): { head: number; tail: number } {
  const bytes = state.get(QUEUE_BOUNDS_KEY);
  if (bytes === undefined) return { head: 0, tail: 0 };
  return decodeStateValue(bytes, 'QueueBounds', 32, (v) => {
    const r = Reader.array(v, 'QueueBounds', 2);
    return { head: r.u32('head'), tail: r.u32('tail') };
  });
}

function saveQueueBounds(view: StateView, b: { head: number; tail: number }): void {
  // Sequence numbers restart whenever the queue empties.
  if (b.head === b.tail) view.delete(QUEUE_BOUNDS_KEY);
  else view.set(QUEUE_BOUNDS_KEY, encode([b.head, b.tail]));
}

/** Entries complete in the order they were created (every unbonding lasts the same number of blocks). */
export function pushMaturity(view: StateView, m: Maturity): void {
  const b = loadQueueBounds(view);
  view.set(queueEntryKey(b.tail), encode([m.delegator, m.operator, m.completionHeight]));
  saveQueueBounds(view, { head: b.head, tail: b.tail + 1 });
}

export function peekMaturity(state: StateReader): Maturity | null {
  const b = loadQueueBounds(state);
  if (b.head === b.tail) return null;
  const bytes = state.get(queueEntryKey(b.head));
  assert(bytes !== undefined, `staking queue: entry ${b.head} missing`);
  return decodeStateValue(bytes, 'Maturity', 128, (v) => {
    const r = Reader.array(v, 'Maturity', 3);
    return { delegator: r.bytes('delegator', ADDRESS_BYTES), operator: r.bytes('operator', ADDRESS_BYTES), completionHeight: r.u32('completionHeight') };
  });
}

export function popMaturity(view: StateView): void {
  const b = loadQueueBounds(view);
  assert(b.head !== b.tail, 'staking queue: pop on an empty queue');
  view.delete(queueEntryKey(b.head));
  saveQueueBounds(view, b.head + 1 === b.tail ? { head: 0, tail: 0 } : { head: b.head + 1, tail: b.tail });
}

// ── liveness ────────────────────────────────────────────────────────────────────────────────────

export function loadSigningInfo(state: StateReader, consensusAddress: Uint8Array): SigningInfo {
  const bytes = state.get(signingInfoKey(consensusAddress));
  if (bytes === undefined) return { missed: 0, since: 0 };
  return decodeStateValue(bytes, 'SigningInfo', 32, (v) => {
    const r = Reader.array(v, 'SigningInfo', 2);
    return { missed: r.u32('missed'), since: r.u32('since') };
  });
}

export function saveSigningInfo(view: StateView, consensusAddress: Uint8Array, s: SigningInfo): void {
  view.set(signingInfoKey(consensusAddress), encode([s.missed, s.since]));
}

export function loadMissedChunk(state: StateReader, consensusAddress: Uint8Array, chunk: number): Uint8Array {
  return state.get(missedChunkKey(consensusAddress, chunk)) ?? new Uint8Array(MISSED_CHUNK_BITS / 8);
}

/** Saves a chunk of the missed-blocks window; an all-clear chunk is deleted. */
export function saveMissedChunk(view: StateView, consensusAddress: Uint8Array, chunk: number, bits: Uint8Array): void {
  if (bits.every((b) => b === 0)) view.delete(missedChunkKey(consensusAddress, chunk));
  else view.set(missedChunkKey(consensusAddress, chunk), bits);
}

// ── validator sets ──────────────────────────────────────────────────────────────────────────────

/**
 * The set that validated the latest block (its header's `validatorSetHash`); the state's
 * VALIDATOR_SET_KEY holds the set for the next block (`nextValidatorSetHash`). Before the first
 * block they are the same set.
 */
export function loadLastValidatorSet(state: StateReader): ValidatorSet {
  const bytes = state.get(LAST_VALIDATOR_SET_KEY) ?? state.get(VALIDATOR_SET_KEY);
  return bytes === undefined ? [] : decodeValidatorSet(bytes);
}

export function saveHistorySet(view: StateView, epoch: number, set: ValidatorSet): void {
  view.set(historySetKey(epoch), encodeValidatorSet(set));
}

/** The set that validated the blocks of `epoch`, if still kept. */
export function loadHistorySet(state: StateReader, epoch: number): ValidatorSet | null {
  const bytes = state.get(historySetKey(epoch));
  return bytes === undefined ? null : decodeValidatorSet(bytes);
}

export function saveBlockTime(view: StateView, height: number, timeMs: bigint): void {
  view.set(blockTimeKey(height), encode([amountToBytes(timeMs)]));
}

export function loadBlockTime(state: StateReader, height: number): bigint | null {
  const bytes = state.get(blockTimeKey(height));
  if (bytes === undefined) return null;
  return decodeStateValue(bytes, 'BlockTime', 32, (v) => Reader.array(v, 'BlockTime', 1).amount('timeMs'));
}

// ── small globals ───────────────────────────────────────────────────────────────────────────────

function loadU32(state: StateReader, k: Uint8Array): number {
  const bytes = state.get(k);
  if (bytes === undefined) return 0;
  return decodeStateValue(bytes, 'Counter', 16, (v) => Reader.array(v, 'Counter', 1).u32('n'));
}

/** Set once the staking state exists (created from the genesis validator set by the first block). */
export const STAKING_STARTED_KEY = stakingGlobalKey('started');

export function stakingStarted(state: StateReader): boolean {
  return state.get(STAKING_STARTED_KEY) !== undefined;
}
