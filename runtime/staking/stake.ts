/**
 * Bonded stake: delegation shares, rewards settlement, unbonding pools, slashing and jail. Pure
 * functions over a StateView; docs/spec/staking.md §Shares, §Rewards, §Slashing.
 *
 * A validator holds `tokens` (bonded TAG) against `shares` held by its delegators (the operator's
 * self-delegation is one of them). A slash lowers `tokens` only, so every delegator loses the same
 * fraction in O(1). Rewards accrue per share in `rewardIndex`; a delegation remembers the index it
 * was last paid at and is paid the difference when it changes or claims.
 */
import { assert } from '../../lib/index.ts';
import { loadAccount, loadSupply, saveAccount, saveSupply, type StateReader, type StateView } from '../../state/index.ts';
import { TxFailure } from '../errors.ts';
import { credit } from '../labelling/index.ts';
import { stakingEpochOf, type StakingParams } from './params.ts';
import {
  REWARD_INDEX_SCALE,
  REWARD_POOL_ADDRESS,
  loadDelegation,
  loadUnbonding,
  loadUnbondingPool,
  pushMaturity,
  saveDelegation,
  saveStakingValidator,
  saveUnbonding,
  saveUnbondingPool,
  type Delegation,
  type StakingValidator,
} from './records.ts';

/** Pays `amount` out of the reward pool, which always holds at least what it owes. */
export function payFromPool(view: StateView, to: Uint8Array, amount: bigint): void {
  if (amount === 0n) return;
  const pool = loadAccount(view, REWARD_POOL_ADDRESS);
  assert(pool.balance >= amount, `reward pool holds ${pool.balance}, owes ${amount}`);
  saveAccount(view, REWARD_POOL_ADDRESS, { ...pool, balance: pool.balance - amount });
  credit(view, to, amount);
}

/** TAG that `shares` of the validator are worth (rounded down). */
export function sharesValue(v: StakingValidator, shares: bigint): bigint {
  return v.shares === 0n ? 0n : (shares * v.tokens) / v.shares;
}

/** Rewards a delegation has earned and not been paid. */
export function pendingRewards(v: StakingValidator, d: Delegation): bigint {
  return (d.shares * (v.rewardIndex - d.rewardIndex)) / REWARD_INDEX_SCALE;
}

/** Pays a delegation's pending rewards and moves it to the current index; returns what was paid. */
export function settleDelegation(view: StateView, delegator: Uint8Array, v: StakingValidator, d: Delegation): bigint {
  const paid = pendingRewards(v, d);
  payFromPool(view, delegator, paid);
  saveDelegation(view, delegator, v.operator, { shares: d.shares, rewardIndex: v.rewardIndex });
  return paid;
}

/** The operator's self-delegation, in TAG. */
export function selfStake(state: StateReader, v: StakingValidator): bigint {
  const d = loadDelegation(state, v.operator, v.operator);
  return d === null ? 0n : sharesValue(v, d.shares);
}

/**
 * Bonds `amount` (already taken from the delegator) to the validator: new shares at the current
 * rate, rewards settled first. Returns the validator as saved and the rewards paid.
 */
export function bond(view: StateView, delegator: Uint8Array, v: StakingValidator, amount: bigint): { validator: StakingValidator; paid: bigint } {
  assert(amount > 0n, 'bond: amount is positive');
  const d = loadDelegation(view, delegator, v.operator) ?? { shares: 0n, rewardIndex: v.rewardIndex };
  const paid = settleDelegation(view, delegator, v, d);
  // A share is worth at most one unit (slashes only lower tokens), so at least `amount` shares.
  const shares = v.shares === 0n ? amount : (amount * v.shares) / v.tokens;
  assert(shares >= amount, 'bond: a share is worth at most one unit');
  const validator = { ...v, tokens: v.tokens + amount, shares: v.shares + shares };
  saveStakingValidator(view, validator);
  saveDelegation(view, delegator, v.operator, { shares: d.shares + shares, rewardIndex: v.rewardIndex });
  return { validator, paid };
}

export type Unbonded = { validator: StakingValidator; tokens: bigint; completionHeight: number; paid: bigint };

/**
 * Unbonds `amount` of the delegator's stake: burns the shares it is worth (rounded up, so the rest
 * never lose), moves the TAG into the validator's unbonding pool of this epoch and schedules the
 * release `unbondingBlocks` later.
 */
export function unbond(view: StateView, delegator: Uint8Array, v: StakingValidator, amount: bigint, height: number, params: StakingParams): Unbonded {
  if (amount === 0n) throw new TxFailure('TX_ZERO_AMOUNT');
  const d = loadDelegation(view, delegator, v.operator);
  if (d === null) throw new TxFailure('DELEGATION_NOT_FOUND');
  // shares = ceil(amount · S / T); T > 0 because the delegation holds shares.
  const burn = (amount * v.shares + v.tokens - 1n) / v.tokens;
  if (burn > d.shares) throw new TxFailure('DELEGATION_INSUFFICIENT');
  const entries = loadUnbonding(view, delegator, v.operator);
  if (entries.length >= params.unbondingEntriesMax) throw new TxFailure('UNBONDING_ENTRIES_FULL');

  const paid = settleDelegation(view, delegator, v, d);
  // The last shares take every remaining unit, so no dust is left bonded to nobody.
  const tokens = burn === v.shares ? v.tokens : amount;
  const validator = { ...v, tokens: v.tokens - tokens, shares: v.shares - burn };
  saveStakingValidator(view, validator);
  saveDelegation(view, delegator, v.operator, { shares: d.shares - burn, rewardIndex: v.rewardIndex });

  const epoch = stakingEpochOf(height, params);
  const pool = loadUnbondingPool(view, v.operator, epoch);
  const poolShares = pool.shares === 0n ? tokens : (tokens * pool.shares) / pool.tokens;
  assert(poolShares >= tokens, 'unbond: a pool share is worth at most one unit');
  saveUnbondingPool(view, v.operator, epoch, { tokens: pool.tokens + tokens, shares: pool.shares + poolShares });
  const completionHeight = height + params.unbondingBlocks;
  saveUnbonding(view, delegator, v.operator, [...entries, { epoch, shares: poolShares, creationHeight: height, completionHeight, initial: tokens }]);
  pushMaturity(view, { delegator, operator: v.operator, completionHeight });
  return { validator, tokens, completionHeight, paid };
}

/** Releases the delegator's unbonding entries with this validator that are complete; returns the TAG paid. */
export function releaseMatured(view: StateView, delegator: Uint8Array, operator: Uint8Array, height: number): bigint {
  const entries = loadUnbonding(view, delegator, operator);
  let released = 0n;
  const kept = entries.filter((e) => {
    if (e.completionHeight > height) return true;
    const pool = loadUnbondingPool(view, operator, e.epoch);
    const tokens = e.shares === pool.shares ? pool.tokens : (e.shares * pool.tokens) / pool.shares;
    saveUnbondingPool(view, operator, e.epoch, { tokens: pool.tokens - tokens, shares: pool.shares - e.shares });
    released += tokens;
    return false;
  });
  if (kept.length === entries.length) return 0n;
  saveUnbonding(view, delegator, operator, kept);
  credit(view, delegator, released);
  return released;
}

export type Slash = { total: bigint; fromUnbonding: bigint; fromBonded: bigint };

/**
 * Slashes `bps` of `power` (the validator's power when it offended at `offenceHeight`): first from
 * its unbonding pools created in or after the offence's epoch (that stake was bonded then: the set
 * of an epoch is fixed at its start), each by `bps` of what it holds, then the rest from the bonded
 * tokens, which every current delegator shares. The slashed TAG is burned. Returns what was taken.
 */
export function slashValidator(
  view: StateView,
  v: StakingValidator,
  power: bigint,
  bps: number,
  offenceHeight: number,
  height: number,
  params: StakingParams,
): { validator: StakingValidator; slashed: Slash } {
  const total = (power * BigInt(bps)) / 10_000n;
  let rest = total;
  let fromUnbonding = 0n;
  // At most evidenceMaxAgeBlocks / epochBlocks + 1 pools: evidence older than that is refused.
  for (let epoch = stakingEpochOf(offenceHeight, params); epoch <= stakingEpochOf(height, params) && rest > 0n; epoch++) {
    const pool = loadUnbondingPool(view, v.operator, epoch);
    if (pool.tokens === 0n) continue;
    let take = (pool.tokens * BigInt(bps)) / 10_000n;
    if (take > rest) take = rest;
    // A pool is never emptied by a slash (bps ≤ 5,000), so its shares keep some value.
    saveUnbondingPool(view, v.operator, epoch, { tokens: pool.tokens - take, shares: pool.shares });
    fromUnbonding += take;
    rest -= take;
  }
  // Shares without tokens would have no rate: a validator with delegators keeps at least one unit.
  const slashable = v.shares === 0n ? 0n : v.tokens - 1n;
  const fromBonded = rest < slashable ? rest : slashable;
  const validator = { ...v, tokens: v.tokens - fromBonded };
  saveStakingValidator(view, validator);
  const burned = fromUnbonding + fromBonded;
  if (burned > 0n) saveSupply(view, loadSupply(view) - burned);
  return { validator, slashed: { total: burned, fromUnbonding, fromBonded } };
}
