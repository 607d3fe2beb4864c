/**
 * Staking parameters: chain-wide settings of validators, delegation, rewards and slashing
 * (runtime/staking), set by genesis (optional `staking` section) and stored in state; defaults when
 * a chain stored none. Amounts in units; shares in basis points (1/10,000).
 * See docs/spec/staking.md §Parameters.
 */
import { ONE_TAG, Reader, amountToBytes, assert, concatBytes, decodeCanonical, encode, utf8ToBytes } from '../lib/index.ts';
import { VALIDATOR_SET_MAX } from './account.ts';
import { PREFIX } from './keys.ts';
import type { StateReader, StateView } from './stateView.ts';

export type StakingParams = {
  /** Blocks per epoch: the validator set changes only at the end of a block whose height is a multiple. */
  epochBlocks: number;
  /** Size of the active set: the top validators by bonded stake. */
  activeValidatorsMax: number;
  /** Validators that may ever be registered (each epoch boundary reads them all). */
  validatorsMax: number;
  /** Least self-delegation to create a validator, to unjail it, and to keep it out of jail. */
  minSelfStake: bigint;
  /** Blocks from an undelegation to the release of its TAG. */
  unbondingBlocks: number;
  /** Unbonding entries one delegator may hold with one validator. */
  unbondingEntriesMax: number;
  /** Highest commission a validator may set. */
  commissionMaxBps: number;
  /** Largest commission change in one step; one step per epoch. */
  commissionChangeMaxBps: number;
  /** New TAG minted per block for the validators and their delegators (0: fees only). */
  blockReward: bigint;
  /** Blocks over which each validator's signatures are counted. */
  signedBlocksWindow: number;
  /** Share of the window a validator must sign; missing more jails it. */
  minSignedBps: number;
  /** Blocks a downtime jail lasts before `unjail` is accepted. */
  downtimeJailBlocks: number;
  /** Slash for downtime, of the validator's power at the offence. */
  slashDowntimeBps: number;
  /** Slash for a double sign, of the validator's power at the offence; the validator is tombstoned. */
  slashDoubleSignBps: number;
  /** Evidence of an offence more than this many blocks old is rejected (less than `unbondingBlocks`). */
  evidenceMaxAgeBlocks: number;
  /** Evidence of an offence more than this many milliseconds old is rejected. */
  evidenceMaxAgeMs: bigint;
};

/** Ceilings the stored parameters are checked against: they bound the per-block work. */
export const STAKING_CEILINGS = {
  validatorsMax: 10_000,
  unbondingEntriesMax: 32,
  blockReward: 1_000n * ONE_TAG,
  signedBlocksWindow: 100_000,
  slashBps: 5_000,
  /** Evidence history (block times, one per block) is kept this many blocks at most. */
  evidenceMaxAgeBlocks: 1_000_000,
  /** Unbonding and jail lengths, so that heights plus them stay far inside u32. */
  periodBlocks: 100_000_000,
} as const;

export const DEFAULT_STAKING_PARAMS: StakingParams = {
  epochBlocks: 200,
  activeValidatorsMax: 100,
  validatorsMax: 1_000,
  minSelfStake: 100n * ONE_TAG,
  unbondingBlocks: 100_000,
  unbondingEntriesMax: 7,
  commissionMaxBps: 10_000,
  commissionChangeMaxBps: 100,
  // Zero by default: validators earn the fees. A chain that wants inflation sets it (bounded above).
  blockReward: 0n,
  signedBlocksWindow: 100,
  minSignedBps: 5_000,
  downtimeJailBlocks: 600,
  slashDowntimeBps: 100,
  slashDoubleSignBps: 500,
  evidenceMaxAgeBlocks: 20_000,
  evidenceMaxAgeMs: 48n * 3_600_000n,
};

export const STAKING_PARAMS_KEY = concatBytes(Uint8Array.of(PREFIX.stakingGlobal), utf8ToBytes('params'));

export type StakingParamsProblem = { field: keyof StakingParams; reason: string };

/** The rules every parameter set obeys; genesis, `saveStakingParams` and loading check them. */
export function stakingParamsProblem(p: StakingParams): StakingParamsProblem | null {
  const c = STAKING_CEILINGS;
  if (p.epochBlocks < 1) return { field: 'epochBlocks', reason: 'must be at least 1' };
  if (p.activeValidatorsMax < 1 || p.activeValidatorsMax > VALIDATOR_SET_MAX) return { field: 'activeValidatorsMax', reason: `must be from 1 to ${VALIDATOR_SET_MAX}` };
  if (p.validatorsMax < 1 || p.validatorsMax > c.validatorsMax) return { field: 'validatorsMax', reason: `must be from 1 to ${c.validatorsMax}` };
  if (p.minSelfStake < 1n) return { field: 'minSelfStake', reason: 'must be above zero' };
  if (p.unbondingBlocks > c.periodBlocks) return { field: 'unbondingBlocks', reason: `must be at most ${c.periodBlocks}` };
  if (p.downtimeJailBlocks > c.periodBlocks) return { field: 'downtimeJailBlocks', reason: `must be at most ${c.periodBlocks}` };
  if (p.unbondingEntriesMax < 1 || p.unbondingEntriesMax > c.unbondingEntriesMax) return { field: 'unbondingEntriesMax', reason: `must be from 1 to ${c.unbondingEntriesMax}` };
  if (p.commissionMaxBps > 10_000) return { field: 'commissionMaxBps', reason: 'must be at most 10,000' };
  if (p.commissionChangeMaxBps > 10_000) return { field: 'commissionChangeMaxBps', reason: 'must be at most 10,000' };
  if (p.blockReward > c.blockReward) return { field: 'blockReward', reason: `must be at most ${c.blockReward} units` };
  if (p.signedBlocksWindow < 1 || p.signedBlocksWindow > c.signedBlocksWindow) return { field: 'signedBlocksWindow', reason: `must be from 1 to ${c.signedBlocksWindow}` };
  if (p.minSignedBps > 10_000) return { field: 'minSignedBps', reason: 'must be at most 10,000' };
  if (p.slashDowntimeBps > c.slashBps) return { field: 'slashDowntimeBps', reason: `must be at most ${c.slashBps}` };
  if (p.slashDoubleSignBps > c.slashBps) return { field: 'slashDoubleSignBps', reason: `must be at most ${c.slashBps}` };
  if (p.evidenceMaxAgeBlocks < 1 || p.evidenceMaxAgeBlocks > c.evidenceMaxAgeBlocks) return { field: 'evidenceMaxAgeBlocks', reason: `must be from 1 to ${c.evidenceMaxAgeBlocks}` };
  // Evidence must expire before the stake it can slash has finished unbonding.
  if (p.evidenceMaxAgeBlocks >= p.unbondingBlocks) return { field: 'evidenceMaxAgeBlocks', reason: 'must be below unbondingBlocks' };
  return null;
}

export function encodeStakingParams(p: StakingParams): Uint8Array {
  return encode([
    p.epochBlocks,
    p.activeValidatorsMax,
    p.validatorsMax,
    amountToBytes(p.minSelfStake),
    p.unbondingBlocks,
    p.unbondingEntriesMax,
    p.commissionMaxBps,
    p.commissionChangeMaxBps,
    amountToBytes(p.blockReward),
    p.signedBlocksWindow,
    p.minSignedBps,
    p.downtimeJailBlocks,
    p.slashDowntimeBps,
    p.slashDoubleSignBps,
    p.evidenceMaxAgeBlocks,
    amountToBytes(p.evidenceMaxAgeMs),
  ]);
}

export function decodeStakingParams(bytes: Uint8Array): StakingParams {
  return decodeCanonical(bytes, 'StakingParams', 512, (v) => {
    const r = Reader.array(v, 'StakingParams', 16);
    return {
      epochBlocks: r.u32('epochBlocks'),
      activeValidatorsMax: r.u32('activeValidatorsMax'),
      validatorsMax: r.u32('validatorsMax'),
      minSelfStake: r.amount('minSelfStake'),
      unbondingBlocks: r.u32('unbondingBlocks'),
      unbondingEntriesMax: r.u32('unbondingEntriesMax'),
      commissionMaxBps: r.u32('commissionMaxBps'),
      commissionChangeMaxBps: r.u32('commissionChangeMaxBps'),
      blockReward: r.amount('blockReward'),
      signedBlocksWindow: r.u32('signedBlocksWindow'),
      minSignedBps: r.u32('minSignedBps'),
      downtimeJailBlocks: r.u32('downtimeJailBlocks'),
      slashDowntimeBps: r.u32('slashDowntimeBps'),
      slashDoubleSignBps: r.u32('slashDoubleSignBps'),
      evidenceMaxAgeBlocks: r.u32('evidenceMaxAgeBlocks'),
      evidenceMaxAgeMs: r.amount('evidenceMaxAgeMs'),
    };
  }, encodeStakingParams);
}

/** The stored parameters, or the defaults on a chain that stored none. */
export function loadStakingParams(state: StateReader): StakingParams {
  const bytes = state.get(STAKING_PARAMS_KEY);
  if (bytes === undefined) return DEFAULT_STAKING_PARAMS;
  const p = decodeStakingParams(bytes);
  const problem = stakingParamsProblem(p);
  assert(problem === null, `stored staking params are invalid: ${problem?.field} ${problem?.reason}`);
  return p;
}

export function saveStakingParams(view: StateView, p: StakingParams): void {
  const problem = stakingParamsProblem(p);
  assert(problem === null, `staking params: ${problem?.field} ${problem?.reason}`);
  view.set(STAKING_PARAMS_KEY, encodeStakingParams(p));
}
