/**
 * The staking module's per-block work. docs/spec/staking.md §Per-block logic.
 *
 * Before the block's transactions (`stakingBeginBlock`): on the first block only, the genesis
 * validator set becomes staking validators (genesis may not import the runtime, so the runtime does
 * it, once): self-stake = power, commission 0, operator = the consensus address.
 *
 * After the transactions and the labelling work (`stakingEndBlock`), in this order:
 *   1. liveness: the signatures in the block's last commit, for the set that validated the parent;
 *   2. the set that validated this block becomes the state's "last" set (checks the next commit);
 *   3. rewards: block reward + the validators' share of the fees, by power and commission;
 *   4. unbonding entries due at this height are paid out;
 *   5. this block's time is recorded for evidence expiry (the oldest beyond the window dropped);
 *   6. at an epoch boundary (height a multiple of `epochBlocks`) the next set: top
 *      `activeValidatorsMax` by bonded stake, jailed and tombstoned excluded.
 * Every loop is over a validator set (≤ 200), the registry (≤ `validatorsMax`, at epoch boundaries
 * only) or the unbondings created one unbonding period ago: bounded, in a fixed order.
 */
import { addressToString, bytesToHex, compareBytes, encode, equalBytes } from '../../lib/index.ts';
import { VALIDATOR_SET_KEY, encodeValidatorSet, loadValidatorSet, saveValidatorSet, type StateView, type Validator } from '../../state/index.ts';
import type { ChainEvent } from '../block.ts';
import { stakingEpochOf, loadStakingParams, type StakingParams } from './params.ts';
import {
  LAST_VALIDATOR_SET_KEY,
  STAKING_STARTED_KEY,
  blockTimeKey,
  historySetKey,
  loadStakingValidator,
  operatorAt,
  peekMaturity,
  popMaturity,
  registerValidator,
  saveBlockTime,
  saveDelegation,
  saveHistorySet,
  saveStakingValidator,
  stakingStarted,
  validatorCount,
  type StakingValidator,
} from './records.ts';
import { resetSigningInfo, trackLiveness } from './misbehaviour.ts';
import { distributeRewards, type BlockFees } from './rewards.ts';
import { releaseMatured } from './stake.ts';

export type StakingBlockEnv = { height: number; timeMs: bigint; proposer: Uint8Array; lastCommit?: Uint8Array };

const ev = (type: string, attributes: Array<readonly [string, string]>): ChainEvent => ({ type, attributes });

export function stakingBeginBlock(view: StateView, env: { height: number }): void {
  if (stakingStarted(view)) return;
  view.set(STAKING_STARTED_KEY, encode([env.height]));
  const params = loadStakingParams(view);
  const set = loadValidatorSet(view);
  for (const member of set) {
    const index = registerValidator(view, member.address, member.address);
    const v: StakingValidator = {
      operator: member.address,
      consensusKey: member.publicKey,
      consensusAddress: member.address,
      moniker: member.name,
      commissionBps: 0,
      commissionChangedEpoch: 0,
      tokens: member.power,
      shares: member.power,
      rewardIndex: 0n,
      commission: 0n,
      jailed: false,
      jailedUntil: 0,
      tombstoned: false,
      offence: [0, 0, 0],
      index,
    };
    saveStakingValidator(view, v);
    // Genesis supply already counts the power as stake: no TAG moves.
    saveDelegation(view, member.address, member.address, { shares: member.power, rewardIndex: 0n });
  }
  saveHistorySet(view, stakingEpochOf(env.height, params), set);
}

export function stakingEndBlock(view: StateView, env: StakingBlockEnv, fees: BlockFees): ChainEvent[] {
  stakingBeginBlock(view, env);
  const params = loadStakingParams(view);
  const events: ChainEvent[] = [];
  trackLiveness(view, { height: env.height, lastCommit: env.lastCommit }, params, events);
  const current = view.get(VALIDATOR_SET_KEY);
  const last = view.get(LAST_VALIDATOR_SET_KEY);
  if (current !== undefined && (last === undefined || !equalBytes(current, last))) view.set(LAST_VALIDATOR_SET_KEY, current);
  events.push(...distributeRewards(view, env.proposer, fees, params));
  releaseDue(view, env.height, events);
  saveBlockTime(view, env.height, env.timeMs);
  const expired = env.height - params.evidenceMaxAgeBlocks - 1;
  if (expired >= 1 && view.get(blockTimeKey(expired)) !== undefined) view.delete(blockTimeKey(expired));
  if (env.height % params.epochBlocks === 0) rotateValidatorSet(view, env.height, params, events);
  return events;
}

function releaseDue(view: StateView, height: number, events: ChainEvent[]): void {
  for (let m = peekMaturity(view); m !== null && m.completionHeight <= height; m = peekMaturity(view)) {
    popMaturity(view);
    const amount = releaseMatured(view, m.delegator, m.operator, height);
    if (amount > 0n) {
      events.push(ev('unbonding_completed', [['delegator', addressToString(m.delegator)], ['validator', addressToString(m.operator)], ['amount', amount.toString()]]));
    }
  }
}

/** The set for the next epoch: candidates by bonded stake (ties by consensus address), sorted by address. */
export function nextValidatorSet(view: StateView, params: StakingParams): Validator[] {
  const candidates: StakingValidator[] = [];
  const n = validatorCount(view);
  for (let i = 0; i < n; i++) {
    const v = loadStakingValidator(view, operatorAt(view, i));
    if (v !== null && !v.jailed && !v.tombstoned && v.tokens > 0n) candidates.push(v);
  }
  candidates.sort((a, b) => (a.tokens === b.tokens ? compareBytes(a.consensusAddress, b.consensusAddress) : a.tokens > b.tokens ? -1 : 1));
  return candidates
    .slice(0, params.activeValidatorsMax)
    .map((v) => ({ address: v.consensusAddress, publicKey: v.consensusKey, power: v.tokens, name: v.moniker }))
    .sort((a, b) => compareBytes(a.address, b.address));
}

function rotateValidatorSet(view: StateView, height: number, params: StakingParams, events: ChainEvent[]): void {
  const current = loadValidatorSet(view);
  let next = nextValidatorSet(view, params);
  // A chain with no eligible validator would halt for ever: keep the set it has instead.
  if (next.length === 0) next = [...current];
  const known = new Set(current.map((v) => bytesToHex(v.address)));
  for (const v of next) if (!known.has(bytesToHex(v.address))) resetSigningInfo(view, v.address, height, params);
  const epoch = height / params.epochBlocks;
  saveHistorySet(view, epoch, next);
  // Evidence reaches back at most evidenceMaxAgeBlocks, i.e. into this many earlier epochs.
  const stale = epoch - Math.ceil(params.evidenceMaxAgeBlocks / params.epochBlocks) - 1;
  if (stale >= 0 && view.get(historySetKey(stale)) !== undefined) view.delete(historySetKey(stale));
  const bytes = encodeValidatorSet(next);
  const before = view.get(VALIDATOR_SET_KEY);
  if (before !== undefined && equalBytes(before, bytes)) return;
  saveValidatorSet(view, next);
  let power = 0n;
  for (const v of next) power += v.power;
  events.push(ev('validator_set_changed', [['epoch', String(epoch)], ['validators', String(next.length)], ['power', power.toString()]]));
}
