/**
 * Annotators: stake, unbonding, slashing, seat weight, reputation (confusion counts with per-epoch
 * decay) and the quality score behind the bonus. Pure functions over a StateView.
 */
import { addressToString, assert, concatBytes, sha256, utf8ToBytes } from '../../lib/index.ts';
import { loadAccount, loadSupply, saveAccount, saveSupply, type StateReader, type StateView } from '../../state/index.ts';
import { TxFailure } from '../errors.ts';
import type { LabellingParams } from './params.ts';
import {
  UNBONDING_ENTRIES_MAX,
  loadAnnotator,
  loadCounter,
  loadReputationRaw,
  saveAnnotator,
  saveCounter,
  saveReputation,
  type Annotator,
  type Reputation,
} from './records.ts';
import { WEIGHT_TREE_CAPACITY, registerIndex, setWeight } from './sampler.ts';
import { SCHEDULE, schedule } from './queue.ts';

/** The protocol treasury: receives the protocol's share of slashes. Nobody holds its key. */
export const TREASURY_ADDRESS = sha256(concatBytes(utf8ToBytes('tagger/treasury'))).subarray(0, 20);

/** One answer in count units. */
export const COUNT_UNIT = 256;
const Q16 = 65_536n;

export function credit(view: StateView, who: Uint8Array, amount: bigint): void {
  if (amount === 0n) return;
  const a = loadAccount(view, who);
  saveAccount(view, who, { ...a, balance: a.balance + amount });
}

/** Debits `amount` or fails the transaction with TX_INSUFFICIENT_BALANCE. */
export function debit(view: StateView, who: Uint8Array, amount: bigint): void {
  const a = loadAccount(view, who);
  if (a.balance < amount) throw new TxFailure('TX_INSUFFICIENT_BALANCE');
  saveAccount(view, who, { ...a, balance: a.balance - amount });
}

/** Seat weight: the bonded stake, halved on probation, zero below the minimum. */
export function weightFor(a: Annotator, params: LabellingParams): bigint {
  if (a.stake < params.annotatorStakeMin) return 0n;
  return onProbation(a, params) ? a.stake / 2n : a.stake;
}

export function onProbation(a: Annotator, params: LabellingParams): boolean {
  return a.scored < params.probationAnswers;
}

/** Saves the annotator and brings its seat weight up to date. */
export function storeAnnotator(view: StateView, who: Uint8Array, a: Annotator, params: LabellingParams): void {
  saveAnnotator(view, who, a);
  setWeight(view, a.index, weightFor(a, params));
}

export function stake(view: StateView, who: Uint8Array, amount: bigint, params: LabellingParams): Annotator {
  if (amount === 0n) throw new TxFailure('TX_ZERO_AMOUNT');
  debit(view, who, amount);
  let a = loadAnnotator(view, who);
  if (a === null) {
    const index = loadCounter(view, 'annotators') + 1;
    if (index > WEIGHT_TREE_CAPACITY) throw new TxFailure('ANNOTATOR_REGISTRY_FULL');
    saveCounter(view, 'annotators', index);
    registerIndex(view, index, who);
    a = { index, stake: 0n, unbonding: [], scored: 0, goldSeen: 0, goldCorrect: 0, earned: 0n, slashedTotal: 0n };
  }
  a = { ...a, stake: a.stake + amount };
  storeAnnotator(view, who, a, params);
  return a;
}

export function unstake(view: StateView, who: Uint8Array, amount: bigint, height: number, params: LabellingParams): number {
  if (amount === 0n) throw new TxFailure('TX_ZERO_AMOUNT');
  const a = loadAnnotator(view, who);
  if (a === null) throw new TxFailure('ANNOTATOR_NOT_FOUND');
  if (a.stake < amount) throw new TxFailure('ANNOTATOR_INSUFFICIENT_STAKE');
  if (a.unbonding.length >= UNBONDING_ENTRIES_MAX) throw new TxFailure('ANNOTATOR_UNBONDING_FULL');
  const releaseHeight = height + params.annotatorUnbondingBlocks;
  storeAnnotator(view, who, { ...a, stake: a.stake - amount, unbonding: [...a.unbonding, { amount, releaseHeight }] }, params);
  schedule(view, SCHEDULE.unbond, releaseHeight, [who]);
  return releaseHeight;
}

/** Pays out the annotator's unbonding entries that are due at `height`; returns the amount. */
export function releaseUnbonded(view: StateView, who: Uint8Array, height: number, params: LabellingParams): bigint {
  const a = loadAnnotator(view, who);
  if (a === null) return 0n;
  let released = 0n;
  const kept = a.unbonding.filter((u) => {
    if (u.releaseHeight > height) return true;
    released += u.amount;
    return false;
  });
  if (kept.length === a.unbonding.length) return 0n;
  storeAnnotator(view, who, { ...a, unbonding: kept }, params);
  credit(view, who, released);
  return released;
}

/**
 * The annotator after losing up to `amount`: bonded stake first, then unbonding entries, newest
 * first (so pending slashes reach stake that is leaving), and what was taken.
 */
export function slashRecord(a: Annotator, amount: bigint): { annotator: Annotator; taken: bigint } {
  let rest = amount;
  const fromStake = rest < a.stake ? rest : a.stake;
  rest -= fromStake;
  const unbonding = a.unbonding.map((u) => ({ ...u }));
  for (let i = unbonding.length - 1; i >= 0 && rest > 0n; i--) {
    const u = unbonding[i] as { amount: bigint; releaseHeight: number };
    const take = rest < u.amount ? rest : u.amount;
    u.amount -= take;
    rest -= take;
  }
  const taken = amount - rest;
  return { annotator: { ...a, stake: a.stake - fromStake, unbonding, slashedTotal: a.slashedTotal + taken }, taken };
}

/** Mints `amount` to `who`, growing the supply. */
export function mint(view: StateView, who: Uint8Array, amount: bigint): void {
  if (amount === 0n) return;
  credit(view, who, amount);
  saveSupply(view, loadSupply(view) + amount);
}

export function epochOf(height: number, params: LabellingParams): number {
  return Math.floor(height / params.epochBlocks);
}

/** The annotator's confusion counts for K classes, decayed to `epoch`. */
export function loadReputation(state: StateReader, who: Uint8Array, classes: number, epoch: number, params: LabellingParams): Reputation {
  const stored = loadReputationRaw(state, who, classes);
  if (stored === null) return { counts: new Array<number>(classes * classes).fill(0), epoch };
  if (stored.epoch >= epoch) return stored;
  const steps = epoch - stored.epoch;
  let counts = stored.counts;
  if (steps > 64) counts = counts.map(() => 0);
  else for (let s = 0; s < steps; s++) counts = counts.map((c) => Math.floor((c * params.reputationKeep256) / 256));
  return { counts, epoch };
}

export function storeReputation(view: StateView, who: Uint8Array, classes: number, rep: Reputation): void {
  assert(rep.counts.length === classes * classes, 'reputation: wrong size');
  saveReputation(view, who, classes, rep);
}

/**
 * Quality in Q16 (0 … 65,536), the multiplier of the bonus: chance-corrected agreement from the
 * confusion counts, (agreement − expected) / (1 − expected) with expected = Σ_k consensus(k) ·
 * answers(k) — zero for an annotator that always gives the same answer or answers at random.
 * Gold comes first: with at least 5 gold answers, the score is also capped by the gold accuracy
 * corrected for chance (1/K), so poor gold accuracy removes the bonus even when agreement is high.
 * Halved on probation.
 */
export function quality(a: Annotator, rep: Reputation, classes: number, params: LabellingParams): bigint {
  let total = 0n;
  let diagonal = 0n;
  const rows = new Array<bigint>(classes).fill(0n);
  const cols = new Array<bigint>(classes).fill(0n);
  for (let i = 0; i < classes; i++) {
    for (let j = 0; j < classes; j++) {
      const c = BigInt(rep.counts[i * classes + j] as number);
      total += c;
      rows[i] = (rows[i] as bigint) + c;
      cols[j] = (cols[j] as bigint) + c;
      if (i === j) diagonal += c;
    }
  }
  if (total === 0n) return 0n;
  let expected = 0n; // × total²
  for (let k = 0; k < classes; k++) expected += (rows[k] as bigint) * (cols[k] as bigint);
  const agreement = diagonal * total; // × total²
  const whole = total * total;
  let q = agreement <= expected || expected >= whole ? 0n : ((agreement - expected) * Q16) / (whole - expected);
  if (a.goldSeen >= 5) {
    const K = BigInt(classes);
    const accuracy = (BigInt(a.goldCorrect) * Q16) / BigInt(a.goldSeen);
    const chance = Q16 / K;
    const gold = accuracy <= chance ? 0n : ((accuracy - chance) * Q16) / (Q16 - chance);
    if (gold < q) q = gold;
  }
  if (q > Q16) q = Q16;
  return onProbation(a, params) ? q / 2n : q;
}

export function annotatorEvent(type: string, who: Uint8Array, attributes: Array<readonly [string, string]>): { type: string; attributes: Array<readonly [string, string]> } {
  return { type, attributes: [['annotator', addressToString(who)], ...attributes] };
}
