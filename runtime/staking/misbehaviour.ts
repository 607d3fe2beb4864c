/**
 * Misbehaviour: double-sign evidence (verified, slashed, tombstoned) and downtime (missed blocks over
 * a sliding window; slashed and jailed). docs/spec/staking.md §Slashing.
 */
import { addressToString, bytesToHex, compareBytes, equalBytes } from '../../lib/index.ts';
import type { StateView, ValidatorSet } from '../../state/index.ts';
import type { ChainEvent } from '../block.ts';
import { TxFailure } from '../errors.ts';
import { stakingEpochOf, missedBlocksMax, type StakingParams } from './params.ts';
import {
  MISSED_CHUNK_BITS,
  loadBlockTime,
  loadHistorySet,
  loadLastValidatorSet,
  loadMissedChunk,
  loadSigningInfo,
  loadValidatorByConsensus,
  missedChunkKey,
  saveMissedChunk,
  saveSigningInfo,
  saveStakingValidator,
  type StakingValidator,
} from './records.ts';
import { slashValidator } from './stake.ts';
import { commitSigners, verifyVoteSignature, type SignedVote } from './votes.ts';

const ev = (type: string, attributes: Array<readonly [string, string]>): ChainEvent => ({ type, attributes });

export function jailValidator(view: StateView, v: StakingValidator, until: number): StakingValidator {
  const jailed = { ...v, jailed: true, jailedUntil: until };
  saveStakingValidator(view, jailed);
  return jailed;
}

/** Clears a validator's missed-blocks window (on entering the set, and after a downtime jail). */
export function resetSigningInfo(view: StateView, consensusAddress: Uint8Array, height: number, params: StakingParams): void {
  const info = loadSigningInfo(view, consensusAddress);
  // Bits are set exactly for the counted misses, so a zero count means no chunk is stored.
  if (info.missed > 0) {
    const chunks = Math.ceil(params.signedBlocksWindow / MISSED_CHUNK_BITS);
    for (let c = 0; c < chunks; c++) {
      const k = missedChunkKey(consensusAddress, c);
      if (view.get(k) !== undefined) view.delete(k);
    }
  }
  saveSigningInfo(view, consensusAddress, { missed: 0, since: height });
}

export type LivenessEnv = { height: number; lastCommit: Uint8Array | undefined };

/**
 * Counts, for each validator of the set that validated the parent, whether its signature is in the
 * block's `lastCommit`, in a window of `signedBlocksWindow` bits (bit = parent height mod window).
 * Only flipped bits are written. A validator that missed more than `missedBlocksMax` is slashed
 * `slashDowntimeBps` of its power, jailed for `downtimeJailBlocks` and its window cleared.
 * A block without a last commit (height 1, or an environment that does not carry it) counts nothing.
 */
export function trackLiveness(view: StateView, env: LivenessEnv, params: StakingParams, events: ChainEvent[]): void {
  if (env.lastCommit === undefined || env.lastCommit.length === 0 || env.height <= 1) return;
  const commit = commitSigners(env.lastCommit);
  const parent = env.height - 1;
  if (commit === null || commit.height !== parent) return;
  const signed = new Set(commit.signers.map(bytesToHex));
  const index = parent % params.signedBlocksWindow;
  const chunk = Math.floor(index / MISSED_CHUNK_BITS);
  const byte = (index % MISSED_CHUNK_BITS) >> 3;
  const mask = 1 << (index & 7);
  const max = missedBlocksMax(params);
  for (const member of loadLastValidatorSet(view)) {
    const bits = loadMissedChunk(view, member.address, chunk);
    const wasMissed = ((bits[byte] as number) & mask) !== 0;
    const missed = !signed.has(bytesToHex(member.address));
    // Most blocks flip no bit: the validator record is read only when one does.
    if (wasMissed === missed) continue;
    const v = loadValidatorByConsensus(view, member.address);
    if (v === null || v.jailed) continue;
    const next = Uint8Array.from(bits);
    next[byte] = missed ? (bits[byte] as number) | mask : (bits[byte] as number) & ~mask;
    saveMissedChunk(view, member.address, chunk, next);
    const info = loadSigningInfo(view, member.address);
    const count = info.missed + (missed ? 1 : -1);
    saveSigningInfo(view, member.address, { ...info, missed: count });
    if (count > max) punishDowntime(view, v, member.power, env.height, params, events);
  }
}

function punishDowntime(view: StateView, v: StakingValidator, power: bigint, height: number, params: StakingParams, events: ChainEvent[]): void {
  const { validator, slashed } = slashValidator(view, v, power, params.slashDowntimeBps, height - 1, height, params);
  const until = height + params.downtimeJailBlocks;
  jailValidator(view, validator, until);
  resetSigningInfo(view, v.consensusAddress, height, params);
  const who = addressToString(v.operator);
  events.push(
    ev('validator_slashed', [['validator', who], ['reason', 'downtime'], ['offenceHeight', String(height - 1)], ['amount', slashed.total.toString()], ['fromUnbonding', slashed.fromUnbonding.toString()]]),
    ev('validator_jailed', [['validator', who], ['reason', 'downtime'], ['until', String(until)]]),
  );
}

export type EvidenceEnv = { chainId: string; height: number; timeMs: bigint; params: StakingParams };

/**
 * Checks double-sign evidence and returns the accused validator with its power at the offence.
 * Throws TxFailure with the reason otherwise. Checks, in order: the votes agree on validator,
 * height, round and type but not on the block; the offence is in the past and not older than
 * `evidenceMaxAgeBlocks` nor `evidenceMaxAgeMs`; the signer was in the set of the offence's epoch;
 * it is not tombstoned already; both signatures verify under its consensus key.
 */
export function verifyEvidence(view: StateView, a: SignedVote, b: SignedVote, env: EvidenceEnv): { validator: StakingValidator; power: bigint } {
  if (!equalBytes(a.validator, b.validator) || a.height !== b.height || a.round !== b.round || a.type !== b.type) {
    throw new TxFailure('EVIDENCE_VOTES_MISMATCH');
  }
  if (equalBytes(a.blockHash, b.blockHash)) throw new TxFailure('EVIDENCE_SAME_BLOCK');
  if (a.height === 0 || a.height >= env.height) throw new TxFailure('EVIDENCE_FUTURE');
  if (env.height - a.height > env.params.evidenceMaxAgeBlocks) throw new TxFailure('EVIDENCE_EXPIRED');
  const time = loadBlockTime(view, a.height);
  if (time === null || env.timeMs - time > env.params.evidenceMaxAgeMs) throw new TxFailure('EVIDENCE_EXPIRED');
  const set: ValidatorSet | null = loadHistorySet(view, stakingEpochOf(a.height, env.params));
  if (set === null) throw new TxFailure('EVIDENCE_EXPIRED');
  const member = set.find((m) => equalBytes(m.address, a.validator));
  if (member === undefined) throw new TxFailure('EVIDENCE_UNKNOWN_VALIDATOR');
  const validator = loadValidatorByConsensus(view, a.validator);
  if (validator === null) throw new TxFailure('EVIDENCE_UNKNOWN_VALIDATOR');
  if (validator.tombstoned) {
    const [h, r, t] = validator.offence;
    throw new TxFailure(h === a.height && r === a.round && t === a.type ? 'EVIDENCE_DUPLICATE' : 'EVIDENCE_VALIDATOR_TOMBSTONED');
  }
  if (!verifyVoteSignature(env.chainId, a, member.publicKey) || !verifyVoteSignature(env.chainId, b, member.publicKey)) {
    throw new TxFailure('EVIDENCE_BAD_SIGNATURE');
  }
  return { validator, power: member.power };
}

/** Verifies double-sign evidence, then slashes `slashDoubleSignBps` of the power at the offence and tombstones. */
export function handleEvidence(view: StateView, reporter: Uint8Array, a: SignedVote, b: SignedVote, env: EvidenceEnv): ChainEvent[] {
  const { validator: v, power } = verifyEvidence(view, a, b, env);
  const { validator, slashed } = slashValidator(view, v, power, env.params.slashDoubleSignBps, a.height, env.height, env.params);
  saveStakingValidator(view, { ...validator, jailed: true, tombstoned: true, offence: [a.height, a.round, a.type] });
  const who = addressToString(v.operator);
  // The two block hashes in a canonical order, so that one offence reads the same however reported.
  const [first, second] = compareBytes(a.blockHash, b.blockHash) <= 0 ? [a, b] : [b, a];
  return [
    ev('validator_slashed', [
      ['validator', who],
      ['reason', 'double_sign'],
      ['offenceHeight', String(a.height)],
      ['round', String(a.round)],
      ['voteType', String(a.type)],
      ['blockHashA', bytesToHex(first.blockHash)],
      ['blockHashB', bytesToHex(second.blockHash)],
      ['amount', slashed.total.toString()],
      ['fromUnbonding', slashed.fromUnbonding.toString()],
      ['reporter', addressToString(reporter)],
    ]),
    ev('validator_tombstoned', [['validator', who]]),
  ];
}
