/**
 * The JSON forms of the staking module's records (docs/rpc.md §Staking), and the converters that
 * make them from the runtime's records. Same encodings as rpc/views.ts: bytes as 0x-hex, amounts as
 * decimal strings of units, addresses as bech32m (operator and consensus addresses alike), counts
 * and heights as numbers. A stored "none" (0 for a height or an epoch marker) becomes null.
 */
import { addressToString } from '../lib/index.ts';
import {
  MONIKER_BYTES_MAX,
  REWARD_POOL_ADDRESS,
  missedBlocksMax,
  pendingRewards,
  sharesValue,
  type Delegation,
  type SigningInfo,
  type StakingParams,
  type StakingValidator,
  type UnbondingEntry,
  type UnbondingPool,
} from '../runtime/index.ts';
import type { Params, Validator } from '../state/index.ts';
import { hex, type Hex } from './views.ts';

/**
 * `tombstoned` (double-signed: out for ever), `jailed` (out of the set from the next epoch boundary
 * until it unjails), `bonded` (a member of the set for the next block), `unbonded` (registered,
 * not in that set: below the top `activeValidatorsMax`, or created since the last boundary).
 */
export type ValidatorStatus = 'bonded' | 'unbonded' | 'jailed' | 'tombstoned';

export type StakingParamsJson = {
  height: number;
  /** The staking epoch of the next block. */
  epoch: number;
  epochBlocks: number;
  activeValidatorsMax: number;
  validatorsMax: number;
  minSelfStake: string;
  unbondingBlocks: number;
  unbondingEntriesMax: number;
  commissionMaxBps: number;
  commissionChangeMaxBps: number;
  blockReward: string;
  signedBlocksWindow: number;
  minSignedBps: number;
  /** Missing more blocks than this in the window jails a validator. */
  missedBlocksMax: number;
  downtimeJailBlocks: number;
  slashDowntimeBps: number;
  slashDoubleSignBps: number;
  evidenceMaxAgeBlocks: number;
  evidenceMaxAgeMs: string;
  /** The account that holds undistributed rewards and unclaimed commissions. */
  rewardPool: string;
  /** The chain's fee schedule and size limit, for clients that price transactions. */
  fees: { baseFee: string; perByteFee: string; txBytesMax: number };
  limits: { monikerBytesMax: number };
};

export type ValidatorJson = {
  operator: string;
  consensusAddress: string;
  consensusKey: Hex;
  moniker: string;
  commissionBps: number;
  /** The epoch of the last commission change; null if it never changed. */
  commissionChangedEpoch: number | null;
  status: ValidatorStatus;
  /** Bonded TAG, the operator's and its delegators'. */
  tokens: string;
  /** Its power in the set for the next block; "0" when not a member. */
  power: string;
  /** Delegation shares outstanding (`tokens / shares` is what one share is worth). */
  shares: string;
  /** The operator's own delegation, in TAG. */
  selfStake: string;
  /** Commission earned and not yet claimed. */
  commission: string;
  jailed: boolean;
  /** First height at which `unjail` is accepted; null when not jailed. */
  jailedUntil: number | null;
  tombstoned: boolean;
  /** The double sign that tombstoned it; null if none. */
  offence: { height: number; round: number; voteType: number } | null;
  /** Liveness over the signed-blocks window. */
  missedBlocks: { missed: number; window: number; max: number; since: number };
  /** Position in the registry (creation order); the cursor of `GET /v1/validators`. */
  index: number;
};

export type ValidatorReplyJson = { height: number } & ValidatorJson;

export type ValidatorsPageJson = {
  height: number;
  /** Validators ever registered. */
  total: number;
  validators: ValidatorJson[];
  /** Registry index of the next page; null at the end. */
  nextCursor: number | null;
};

export type SetMemberJson = {
  consensusAddress: string;
  /** The staking validator behind it; null before the first block (genesis validators). */
  operator: string | null;
  publicKey: Hex;
  name: string;
  power: string;
};

export type ValidatorSetJson = {
  height: number;
  /** The set that validated block `height`: its hash is that block's header `validatorSetHash`. */
  validatorSetHash: Hex;
  totalPower: string;
  validators: SetMemberJson[];
  /** The set for block `height + 1` (the header's `nextValidatorSetHash`). */
  nextValidatorSetHash: Hex;
  /** Its members when it differs from `validators` (after an epoch boundary that changed the set); else null. */
  nextValidators: SetMemberJson[] | null;
};

export type DelegationJson = {
  validator: string;
  shares: string;
  /** What the shares are worth now (rounded down). */
  tokens: string;
  /** Rewards earned and not paid: `shares · (validator index − delegation index) / 10^27`. */
  pendingRewards: string;
};

export type DelegationsPageJson = {
  height: number;
  delegator: string;
  delegations: DelegationJson[];
  /** Registry index to continue from; null when every validator was looked at. */
  nextCursor: number | null;
};

export type UnbondingEntryJson = {
  creationHeight: number;
  /** The height whose end-of-block work pays it out. */
  completionHeight: number;
  /** TAG it started with. */
  initial: string;
  /** TAG it is worth now (less than `initial` after a slash). */
  balance: string;
};

export type UnbondingJson = { validator: string; entries: UnbondingEntryJson[] };

export type UnbondingsPageJson = {
  height: number;
  delegator: string;
  unbondings: UnbondingJson[];
  nextCursor: number | null;
};

export function stakingParamsToJson(height: number, epoch: number, p: StakingParams, chain: Params): StakingParamsJson {
  return {
    height,
    epoch,
    epochBlocks: p.epochBlocks,
    activeValidatorsMax: p.activeValidatorsMax,
    validatorsMax: p.validatorsMax,
    minSelfStake: p.minSelfStake.toString(),
    unbondingBlocks: p.unbondingBlocks,
    unbondingEntriesMax: p.unbondingEntriesMax,
    commissionMaxBps: p.commissionMaxBps,
    commissionChangeMaxBps: p.commissionChangeMaxBps,
    blockReward: p.blockReward.toString(),
    signedBlocksWindow: p.signedBlocksWindow,
    minSignedBps: p.minSignedBps,
    missedBlocksMax: missedBlocksMax(p),
    downtimeJailBlocks: p.downtimeJailBlocks,
    slashDowntimeBps: p.slashDowntimeBps,
    slashDoubleSignBps: p.slashDoubleSignBps,
    evidenceMaxAgeBlocks: p.evidenceMaxAgeBlocks,
    evidenceMaxAgeMs: p.evidenceMaxAgeMs.toString(),
    rewardPool: addressToString(REWARD_POOL_ADDRESS),
    fees: { baseFee: chain.baseFee.toString(), perByteFee: chain.perByteFee.toString(), txBytesMax: chain.txBytesMax },
    limits: { monikerBytesMax: MONIKER_BYTES_MAX },
  };
}

export function validatorStatus(v: StakingValidator, inNextSet: boolean): ValidatorStatus {
  if (v.tombstoned) return 'tombstoned';
  if (v.jailed) return 'jailed';
  return inNextSet ? 'bonded' : 'unbonded';
}

/** What the converter needs besides the record: facts from other keys. */
export type ValidatorFacts = { power: bigint | null; selfShares: bigint; signing: SigningInfo; params: StakingParams };

export function validatorToJson(v: StakingValidator, f: ValidatorFacts): ValidatorJson {
  const [offenceHeight, round, voteType] = v.offence;
  return {
    operator: addressToString(v.operator),
    consensusAddress: addressToString(v.consensusAddress),
    consensusKey: hex(v.consensusKey),
    moniker: v.moniker,
    commissionBps: v.commissionBps,
    commissionChangedEpoch: v.commissionChangedEpoch === 0 ? null : v.commissionChangedEpoch - 1,
    status: validatorStatus(v, f.power !== null),
    tokens: v.tokens.toString(),
    power: (f.power ?? 0n).toString(),
    shares: v.shares.toString(),
    selfStake: sharesValue(v, f.selfShares).toString(),
    commission: v.commission.toString(),
    jailed: v.jailed,
    jailedUntil: v.jailed ? v.jailedUntil : null,
    tombstoned: v.tombstoned,
    offence: v.tombstoned ? { height: offenceHeight, round, voteType } : null,
    missedBlocks: { missed: f.signing.missed, window: f.params.signedBlocksWindow, max: missedBlocksMax(f.params), since: f.signing.since },
    index: v.index,
  };
}

export function setMemberToJson(m: Validator, operator: Uint8Array | null): SetMemberJson {
  return {
    consensusAddress: addressToString(m.address),
    operator: operator === null ? null : addressToString(operator),
    publicKey: hex(m.publicKey),
    name: m.name,
    power: m.power.toString(),
  };
}

export function delegationToJson(v: StakingValidator, d: Delegation): DelegationJson {
  return {
    validator: addressToString(v.operator),
    shares: d.shares.toString(),
    tokens: sharesValue(v, d.shares).toString(),
    pendingRewards: pendingRewards(v, d).toString(),
  };
}

/** An entry's worth by its share of its (validator, epoch) pool, as `releaseMatured` pays it. */
export function unbondingEntryToJson(e: UnbondingEntry, pool: UnbondingPool): UnbondingEntryJson {
  const balance = pool.shares === 0n ? 0n : e.shares === pool.shares ? pool.tokens : (e.shares * pool.tokens) / pool.shares;
  return { creationHeight: e.creationHeight, completionHeight: e.completionHeight, initial: e.initial.toString(), balance: balance.toString() };
}
