/**
 * JSON schemas of the staking endpoints' requests and replies (rpc/routes/staking.ts); the
 * TypeScript types are in rpc/stakingViews.ts. Registered by `$id` next to SHARED_SCHEMAS, so they
 * appear by name under `components.schemas` in /openapi.json.
 */
import { PARTS } from './schemas.ts';
import { U32_PARAM } from './labellingSchemas.ts';

const { hex, address, amount, u32, object } = PARTS;

const nullable = (schema: Record<string, unknown>): Record<string, unknown> => ({ anyOf: [schema, { type: 'null' }] });
const height = { ...u32, description: 'the committed height the reply was read at' } as const;
const bps = { ...u32, maximum: 10_000, description: 'basis points (10,000 = 100 %)' } as const;

// --- Requests ----------------------------------------------------------------------------------

/** Entries per page at most (validators, delegations, unbondings). */
export const STAKING_PAGE_MAX = 100;
/**
 * Registry entries one delegations or unbondings request looks at, at most: state has no index by
 * delegator, so a page is found by looking up (delegator, validator) for each registered validator
 * from the cursor on.
 */
export const REGISTRY_SCAN_MAX = 1_000;

const LIMIT = { type: 'string', pattern: '^([1-9]|[1-9][0-9]|100)$', description: `page size, 1 to ${STAKING_PAGE_MAX}` } as const;

export const PAGE_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    cursor: { ...U32_PARAM, default: '0', description: 'registry index to start from' },
    limit: { ...LIMIT, default: String(STAKING_PAGE_MAX) },
  },
} as const;

// --- Replies -----------------------------------------------------------------------------------

const StakingParams = {
  $id: 'StakingParams',
  description: 'Chain-wide staking parameters (genesis), the fee schedule and the transaction formats\' limits.',
  ...object({
    height,
    epoch: { ...u32, description: 'the staking epoch of the next block' },
    epochBlocks: u32,
    activeValidatorsMax: u32,
    validatorsMax: u32,
    minSelfStake: amount,
    unbondingBlocks: u32,
    unbondingEntriesMax: u32,
    commissionMaxBps: bps,
    commissionChangeMaxBps: bps,
    blockReward: amount,
    signedBlocksWindow: u32,
    minSignedBps: bps,
    missedBlocksMax: { ...u32, description: 'missing more blocks than this in the window jails' },
    downtimeJailBlocks: u32,
    slashDowntimeBps: bps,
    slashDoubleSignBps: bps,
    evidenceMaxAgeBlocks: u32,
    evidenceMaxAgeMs: { type: 'string', pattern: '^(0|[1-9][0-9]*)$', description: 'decimal milliseconds' },
    rewardPool: { ...address, description: 'the account holding undistributed rewards and unclaimed commissions' },
    fees: object({ baseFee: amount, perByteFee: amount, txBytesMax: u32 }),
    limits: object({ monikerBytesMax: u32 }),
  }),
};

const validatorFields = {
  operator: { ...address, description: 'the account that created the validator and signs its transactions' },
  consensusAddress: { ...address, description: 'the address its votes and commit signatures carry' },
  consensusKey: { ...hex, description: 'ed25519 consensus public key' },
  moniker: { type: 'string' },
  commissionBps: bps,
  commissionChangedEpoch: { ...nullable(u32), description: 'epoch of the last commission change; null if never' },
  status: {
    type: 'string',
    enum: ['bonded', 'unbonded', 'jailed', 'tombstoned'],
    description: 'bonded: in the set for the next block; unbonded: registered, not in it',
  },
  tokens: { ...amount, description: 'bonded TAG, self-stake and delegations' },
  power: { ...amount, description: 'power in the set for the next block; "0" when not a member' },
  shares: amount,
  selfStake: amount,
  commission: { ...amount, description: 'earned, not yet claimed' },
  jailed: { type: 'boolean' },
  jailedUntil: { ...nullable(u32), description: 'first height unjail is accepted; null when not jailed' },
  tombstoned: { type: 'boolean' },
  offence: { ...nullable(object({ height: u32, round: u32, voteType: u32 })), description: 'the double sign that tombstoned it' },
  missedBlocks: object({ missed: u32, window: u32, max: u32, since: u32 }),
  index: { ...u32, description: 'registry index (creation order)' },
};

const Validator = { $id: 'Validator', description: 'A registered staking validator.', ...object(validatorFields) };

const ValidatorReply = { $id: 'ValidatorReply', description: 'A validator and the height it was read at.', ...object({ height, ...validatorFields }) };

const ValidatorsPage = {
  $id: 'ValidatorsPage',
  description: 'A page of the validator registry, in registry (creation) order.',
  ...object({
    height,
    total: { ...u32, description: 'validators ever registered' },
    validators: { type: 'array', items: { $ref: 'Validator#' } },
    nextCursor: { ...nullable(u32), description: 'registry index of the next page; null at the end' },
  }),
};

const SetMember = {
  $id: 'SetMember',
  description: 'A member of a consensus validator set.',
  ...object({ consensusAddress: address, operator: nullable(address), publicKey: hex, name: { type: 'string' }, power: amount }),
};

const ValidatorSet = {
  $id: 'ValidatorSet',
  description: 'The consensus set that validated the latest block, and the one for the next block.',
  ...object({
    height,
    validatorSetHash: { ...PARTS.hash, description: 'header.validatorSetHash of block `height`' },
    totalPower: amount,
    validators: { type: 'array', items: { $ref: 'SetMember#' } },
    nextValidatorSetHash: { ...PARTS.hash, description: 'header.nextValidatorSetHash of block `height`' },
    nextValidators: { ...nullable({ type: 'array', items: { $ref: 'SetMember#' } }), description: 'null when the same as `validators`' },
  }),
};

const Delegation = {
  $id: 'Delegation',
  description: 'One delegation: shares, their worth and the rewards not yet paid.',
  ...object({ validator: address, shares: amount, tokens: amount, pendingRewards: amount }),
};

const DelegationsPage = {
  $id: 'DelegationsPage',
  description: 'A page of an account\'s delegations, in validator registry order.',
  ...object({
    height,
    delegator: address,
    delegations: { type: 'array', items: { $ref: 'Delegation#' } },
    nextCursor: { ...nullable(u32), description: 'registry index to continue from; null when done' },
  }),
};

const Unbonding = {
  $id: 'Unbonding',
  description: 'An account\'s unbonding entries with one validator.',
  ...object({
    validator: address,
    entries: { type: 'array', items: object({ creationHeight: u32, completionHeight: u32, initial: amount, balance: amount }) },
  }),
};

const UnbondingsPage = {
  $id: 'UnbondingsPage',
  description: 'A page of an account\'s unbonding entries, in validator registry order.',
  ...object({
    height,
    delegator: address,
    unbondings: { type: 'array', items: { $ref: 'Unbonding#' } },
    nextCursor: { ...nullable(u32), description: 'registry index to continue from; null when done' },
  }),
};

/** Registered on the root instance, in dependency order, before any route. */
export const STAKING_SCHEMAS: ReadonlyArray<Record<string, unknown>> = [
  StakingParams,
  Validator,
  ValidatorReply,
  ValidatorsPage,
  SetMember,
  ValidatorSet,
  Delegation,
  DelegationsPage,
  Unbonding,
  UnbondingsPage,
];
