/**
 * Client side of the staking module (docs/spec/staking.md §Transactions): builders for its
 * transaction bodies, checked here against the formats' fixed limits so that a mistake is caught
 * before it costs a fee, and a fee ceiling for a body under the chain's fee schedule.
 *
 * There is no redelegate builder: the runtime has no redelegate transaction (kind 14 is reserved);
 * moving stake is an undelegate, then a delegate once the unbonding completes.
 */
import { ADDRESS_BYTES, ChainError, U32_MAX, addressFromString, isValidPublicKey, utf8ToBytes } from '../lib/index.ts';
import { MONIKER_BYTES_MAX, VOTE_TYPES, encodeTx, type SignedVote, type StakingBody, type TxBody } from '../runtime/index.ts';
import type { FeeSchedule } from './labelling.ts';

export type StakingInputErrorType = { code: 'STAKING_BAD_INPUT'; field: string; reason: string };
/** Input a staking builder cannot turn into a valid transaction. */
export class StakingInputError extends ChainError<StakingInputErrorType> {}

function bad(field: string, reason: string): StakingInputError {
  return new StakingInputError({ code: 'STAKING_BAD_INPUT', field, reason }, `${field}: ${reason}`);
}

/** An address as bytes, from bytes or a bech32m `tag1…` string. */
function addressOf(field: string, value: Uint8Array | string): Uint8Array {
  if (typeof value === 'string') return addressFromString(value);
  if (value.length !== ADDRESS_BYTES) throw bad(field, `must be ${ADDRESS_BYTES} bytes`);
  return value;
}

function positive(field: string, amount: bigint): bigint {
  if (amount <= 0n) throw bad(field, 'must be more than zero');
  return amount;
}

function commission(bps: number): number {
  if (!Number.isInteger(bps) || bps < 0 || bps > 10_000) throw bad('commissionBps', 'must be an integer from 0 to 10,000 (basis points)');
  return bps;
}

function moniker(text: string): string {
  if (text.trim() === '') throw bad('moniker', 'must not be blank');
  if (utf8ToBytes(text).length > MONIKER_BYTES_MAX) throw bad('moniker', `at most ${MONIKER_BYTES_MAX} bytes`);
  return text;
}

export type ValidatorCreateInput = {
  /** The ed25519 public key the validator's node signs votes with (not the operator's account key). */
  consensusKey: Uint8Array;
  selfStake: bigint;
  commissionBps: number;
  moniker: string;
};

/** Registers the sender as a validator operator, bonding `selfStake` (at least the chain's `minSelfStake`). */
export function buildValidatorCreate(input: ValidatorCreateInput): StakingBody {
  if (input.consensusKey.length !== 32 || !isValidPublicKey(input.consensusKey)) throw bad('consensusKey', 'must be a 32-byte ed25519 public key');
  return {
    kind: 'validatorCreate',
    consensusKey: input.consensusKey,
    selfStake: positive('selfStake', input.selfStake),
    commissionBps: commission(input.commissionBps),
    moniker: moniker(input.moniker),
  };
}

/** New commission and moniker for the sender's validator (send the current ones to keep them). */
export function buildValidatorEdit(input: { commissionBps: number; moniker: string }): StakingBody {
  return { kind: 'validatorEdit', commissionBps: commission(input.commissionBps), moniker: moniker(input.moniker) };
}

/** Bonds `amount` to the validator whose operator address is `validator`. */
export function buildDelegate(validator: Uint8Array | string, amount: bigint): StakingBody {
  return { kind: 'delegate', validator: addressOf('validator', validator), amount: positive('amount', amount) };
}

/** Starts unbonding `amount` of the sender's stake with `validator`. */
export function buildUndelegate(validator: Uint8Array | string, amount: bigint): StakingBody {
  return { kind: 'undelegate', validator: addressOf('validator', validator), amount: positive('amount', amount) };
}

/** Releases the sender's validator from jail (once its jail has run out). */
export function buildUnjail(): StakingBody {
  return { kind: 'unjail' };
}

/** Pays the sender's pending rewards with `validator`, and its commission if the sender is the operator. */
export function buildClaimRewards(validator: Uint8Array | string): StakingBody {
  return { kind: 'claimRewards', validator: addressOf('validator', validator) };
}

function vote(field: string, v: SignedVote): SignedVote {
  if (!VOTE_TYPES.includes(v.type)) throw bad(`${field}.type`, 'must be 1 (prevote) or 2 (precommit)');
  for (const [name, n] of [['height', v.height], ['round', v.round]] as const) {
    if (!Number.isInteger(n) || n < 0 || n > U32_MAX) throw bad(`${field}.${name}`, `must be an integer from 0 to ${U32_MAX}`);
  }
  if (v.blockHash.length !== 0 && v.blockHash.length !== 32) throw bad(`${field}.blockHash`, 'must be empty (nil) or 32 bytes');
  if (v.validator.length !== ADDRESS_BYTES) throw bad(`${field}.validator`, `must be ${ADDRESS_BYTES} bytes`);
  if (v.signature.length !== 64) throw bad(`${field}.signature`, 'must be 64 bytes');
  return v;
}

/** Double-sign evidence: two votes of one consensus address for one height, round and type. */
export function buildEvidence(voteA: SignedVote, voteB: SignedVote): StakingBody {
  return { kind: 'evidence', voteA: vote('voteA', voteA), voteB: vote('voteB', voteB) };
}

const SIGNATURE_AND_FRAMING_BYTES = 64 + 16;

/**
 * A fee ceiling that covers the fee of `body` under `fees`: the fee of its encoding with the widest
 * nonce and a large fee field, plus the signature and its framing. The fee charged is the exact one.
 */
export function stakingMaxFee(chainId: string, body: TxBody, fees: FeeSchedule): bigint {
  const probe = encodeTx({ chainId, sender: new Uint8Array(32), nonce: U32_MAX, maxFee: 10n ** 30n, body });
  return fees.baseFee + fees.perByteFee * BigInt(probe.length + SIGNATURE_AND_FRAMING_BYTES);
}
