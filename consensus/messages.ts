/**
 * What validators send each other: signed proposals (with the proposed block's bytes), signed
 * votes, and duplicate-vote evidence; their canonical encodings and checks. docs/spec/consensus.md
 * §Messages.
 *
 *   ProposalMessage = [proposal: bin (encodeProposal), signature: bin(64), block: bin]
 *   VoteMessage     = [vote: bin (encodeVote), signature: bin(64)]
 *   Evidence        = [first: VoteMessage, second: VoteMessage]
 */
import { Reader, bytesToHex, decodeCanonical, encode, equalBytes, verify } from '../lib/index.ts';
import { decodeProposal, encodeProposal, proposalSigningBytes } from './core/proposal.ts';
import type { Proposal, SignedVote } from './core/machine.ts';
import { ConsensusMessageError } from './errors.ts';
import { decodeVote, encodeVote, voteSigningBytes, type VotingValidator } from './types.ts';

/** A ceiling for a proposed block's bytes, above any `blockBytesMax` (8 MiB by default) plus header. */
export const PROPOSAL_BLOCK_BYTES_MAX = 16 * 1024 * 1024;
const VOTE_MESSAGE_BYTES_MAX = 512;

export type ProposalMessage = { proposal: Proposal; signature: Uint8Array; block: Uint8Array };
export type VoteMessage = SignedVote;
export type ConsensusMessage = ({ kind: 'proposal' } & ProposalMessage) | ({ kind: 'vote' } & VoteMessage);
/** Two votes of one validator for one height/round/type and different blocks (nil counts as one). */
export type DuplicateVoteEvidence = { first: SignedVote; second: SignedVote };

export function encodeProposalMessage(m: ProposalMessage): Uint8Array {
  return encode([encodeProposal(m.proposal), m.signature, m.block]);
}

export function decodeProposalMessage(bytes: Uint8Array, blockBytesMax = PROPOSAL_BLOCK_BYTES_MAX): ProposalMessage {
  return decodeCanonical(bytes, 'ProposalMessage', blockBytesMax + 1024, (value) => {
    const r = Reader.array(value, 'ProposalMessage', 3);
    const proposal = decodeProposal(r.bytesMax('proposal', 256));
    return { proposal, signature: r.bytes('signature', 64), block: r.bytesMax('block', blockBytesMax) };
  }, encodeProposalMessage);
}

function voteToWire(m: VoteMessage): [Uint8Array, Uint8Array] {
  return [encodeVote(m.vote), m.signature];
}

function voteFromWire(value: unknown, what: string): VoteMessage {
  const r = Reader.array(value, what, 2);
  return { vote: decodeVote(r.bytesMax('vote', 256)), signature: r.bytes('signature', 64) };
}

export function encodeVoteMessage(m: VoteMessage): Uint8Array {
  return encode(voteToWire(m));
}

export function decodeVoteMessage(bytes: Uint8Array): VoteMessage {
  return decodeCanonical(bytes, 'VoteMessage', VOTE_MESSAGE_BYTES_MAX, (value) => voteFromWire(value, 'VoteMessage'), encodeVoteMessage);
}

export function encodeEvidence(e: DuplicateVoteEvidence): Uint8Array {
  return encode([voteToWire(e.first), voteToWire(e.second)]);
}

export function decodeEvidence(bytes: Uint8Array): DuplicateVoteEvidence {
  return decodeCanonical(bytes, 'Evidence', 2 * VOTE_MESSAGE_BYTES_MAX, (value) => {
    const r = Reader.array(value, 'Evidence', 2);
    return { first: voteFromWire(r.raw(), 'Evidence.first'), second: voteFromWire(r.raw(), 'Evidence.second') };
  }, encodeEvidence);
}

/** The validator that signed as `address`, or a CONSENSUS_UNKNOWN_VALIDATOR error. */
function member(validators: readonly VotingValidator[], address: Uint8Array, height: number): VotingValidator {
  const v = validators.find((x) => equalBytes(x.address, address));
  if (v === undefined) throw new ConsensusMessageError({ code: 'CONSENSUS_UNKNOWN_VALIDATOR', validator: bytesToHex(address), height });
  return v;
}

/** Checks a vote's signer is in `validators` (the set of its height) and its signature. */
export function verifyVoteMessage(chainId: string, m: VoteMessage, validators: readonly VotingValidator[]): void {
  const v = member(validators, m.vote.validator, m.vote.height);
  if (!verify(v.publicKey, voteSigningBytes(chainId, m.vote), m.signature)) {
    throw new ConsensusMessageError({ code: 'CONSENSUS_BAD_SIGNATURE', validator: bytesToHex(v.address), height: m.vote.height, round: m.vote.round });
  }
}

/** Checks a proposal's signer is in `validators` and its signature (not that it is the round's proposer). */
export function verifyProposalMessage(chainId: string, m: ProposalMessage, validators: readonly VotingValidator[]): void {
  const p = m.proposal;
  const v = member(validators, p.proposer, p.height);
  if (!verify(v.publicKey, proposalSigningBytes(chainId, p), m.signature)) {
    throw new ConsensusMessageError({ code: 'CONSENSUS_BAD_SIGNATURE', validator: bytesToHex(v.address), height: p.height, round: p.round });
  }
}

/**
 * Checks duplicate-vote evidence against the set of its height: one validator, one height, round
 * and type, two different blocks, both signatures valid.
 */
export function verifyEvidence(chainId: string, e: DuplicateVoteEvidence, validators: readonly VotingValidator[]): void {
  const a = e.first.vote;
  const b = e.second.vote;
  const bad = (reason: string): ConsensusMessageError => new ConsensusMessageError({ code: 'CONSENSUS_BAD_EVIDENCE', reason });
  if (!equalBytes(a.validator, b.validator)) throw bad('two validators');
  if (a.height !== b.height || a.round !== b.round || a.type !== b.type) throw bad('two heights, rounds or types');
  if (equalBytes(a.blockHash, b.blockHash)) throw bad('the same block twice');
  verifyVoteMessage(chainId, e.first, validators);
  verifyVoteMessage(chainId, e.second, validators);
}
