/**
 * Votes and commit certificates: types, canonical encodings, signing and verification.
 * See docs/spec/encoding.md §Votes.
 *
 *   Vote   = [type: u32 (1 prevote, 2 precommit), height: u32, round: u32,
 *             blockHash: bin(32) or bin(0) for nil, validator: bin(20)]
 *   Commit = [height: u32, round: u32, blockHash: bin(32), signatures: [[validator: bin(20), signature: bin(64)] …]]
 *
 * A vote is signed with ed25519 over `signingBytes('vote', chainId, encode(Vote))`. A commit is
 * valid for a block when its precommit signatures, from distinct validators of the block's set, carry
 * more than two thirds of the set's power.
 */
import {
  ChainError,
  CodecError,
  Reader,
  bytesToHex,
  compareBytes,
  decodeCanonical,
  encode,
  equalBytes,
  sign,
  signingBytes,
  verify,
  type Encodable,
} from '../lib/index.ts';

export const VOTE_TYPE = { prevote: 1, precommit: 2 } as const;
export type VoteType = (typeof VOTE_TYPE)[keyof typeof VOTE_TYPE];

export type Vote = {
  type: VoteType;
  height: number;
  round: number;
  /** Empty for a vote for nil. */
  blockHash: Uint8Array;
  validator: Uint8Array;
};

export type CommitSignature = { validator: Uint8Array; signature: Uint8Array };
export type Commit = { height: number; round: number; blockHash: Uint8Array; signatures: CommitSignature[] };

/** What a commit is checked against: the validator set of the committed block's height. */
export type VotingValidator = { address: Uint8Array; publicKey: Uint8Array; power: bigint };

export const COMMIT_SIGNATURES_MAX = 200;

export type CommitErrorType =
  | { code: 'COMMIT_WRONG_BLOCK'; expected: string; actual: string }
  | { code: 'COMMIT_WRONG_HEIGHT'; expected: number; actual: number }
  | { code: 'COMMIT_UNKNOWN_VALIDATOR'; validator: string }
  | { code: 'COMMIT_DUPLICATE_SIGNER'; validator: string }
  | { code: 'COMMIT_BAD_SIGNATURE'; validator: string }
  | { code: 'COMMIT_UNSORTED' }
  | { code: 'COMMIT_NO_QUORUM'; signedPower: string; totalPower: string };
export class CommitError extends ChainError<CommitErrorType> {}

function voteToWire(v: Vote): Encodable[] {
  return [v.type, v.height, v.round, v.blockHash, v.validator];
}

export function encodeVote(v: Vote): Uint8Array {
  return encode(voteToWire(v));
}

export function decodeVote(bytes: Uint8Array): Vote {
  return decodeCanonical(bytes, 'Vote', 256, (value) => {
    const r = Reader.array(value, 'Vote', 5);
    const type = r.u32('type', 2);
    if (type !== VOTE_TYPE.prevote && type !== VOTE_TYPE.precommit) {
      throw new CodecError({ code: 'CODEC_WRONG_TYPE', what: 'Vote', field: 'type', expected: '1 or 2' });
    }
    const height = r.u32('height');
    const round = r.u32('round');
    const blockHash = r.bytesMax('blockHash', 32);
    if (blockHash.length !== 0 && blockHash.length !== 32) {
      throw new CodecError({ code: 'CODEC_WRONG_LENGTH', what: 'Vote', field: 'blockHash', expected: 32, actual: blockHash.length });
    }
    return { type, height, round, blockHash, validator: r.bytes('validator', 20) };
  }, encodeVote);
}

export function voteSigningBytes(chainId: string, v: Vote): Uint8Array {
  return signingBytes('vote', chainId, encodeVote(v));
}

export function signVote(chainId: string, v: Vote, secretKey: Uint8Array): Uint8Array {
  return sign(secretKey, voteSigningBytes(chainId, v));
}

export function encodeCommit(c: Commit): Uint8Array {
  return encode([c.height, c.round, c.blockHash, c.signatures.map((s) => [s.validator, s.signature])]);
}

export function decodeCommit(bytes: Uint8Array): Commit {
  return decodeCanonical(bytes, 'Commit', 32 * 1024, (value) => {
    const r = Reader.array(value, 'Commit', 4);
    return {
      height: r.u32('height'),
      round: r.u32('round'),
      blockHash: r.bytes('blockHash', 32),
      signatures: r.list('signatures', COMMIT_SIGNATURES_MAX, (item) => {
        const s = Reader.array(item, 'CommitSignature', 2);
        return { validator: s.bytes('validator', 20), signature: s.bytes('signature', 64) };
      }),
    };
  }, encodeCommit);
}

/**
 * Checks that `commit` certifies block `blockHash` at `height`: signers sorted by address and
 * distinct, each in `validators` with a valid precommit signature, together above 2/3 of the power.
 */
export function verifyCommit(
  chainId: string,
  commit: Commit,
  height: number,
  blockHash: Uint8Array,
  validators: readonly VotingValidator[],
): void {
  if (commit.height !== height) throw new CommitError({ code: 'COMMIT_WRONG_HEIGHT', expected: height, actual: commit.height });
  if (!equalBytes(commit.blockHash, blockHash)) {
    throw new CommitError({ code: 'COMMIT_WRONG_BLOCK', expected: bytesToHex(blockHash), actual: bytesToHex(commit.blockHash) });
  }
  let total = 0n;
  for (const v of validators) total += v.power;
  let signed = 0n;
  let previous: Uint8Array | null = null;
  for (const s of commit.signatures) {
    const id = bytesToHex(s.validator);
    if (previous !== null) {
      const order = compareBytes(previous, s.validator);
      if (order === 0) throw new CommitError({ code: 'COMMIT_DUPLICATE_SIGNER', validator: id });
      if (order > 0) throw new CommitError({ code: 'COMMIT_UNSORTED' });
    }
    previous = s.validator;
    const validator = validators.find((v) => equalBytes(v.address, s.validator));
    if (validator === undefined) throw new CommitError({ code: 'COMMIT_UNKNOWN_VALIDATOR', validator: id });
    const vote: Vote = { type: VOTE_TYPE.precommit, height, round: commit.round, blockHash, validator: s.validator };
    if (!verify(validator.publicKey, voteSigningBytes(chainId, vote), s.signature)) {
      throw new CommitError({ code: 'COMMIT_BAD_SIGNATURE', validator: id });
    }
    signed += validator.power;
  }
  // Quorum: signed > 2/3 · total, in integers: 3 · signed > 2 · total.
  if (3n * signed <= 2n * total) {
    throw new CommitError({ code: 'COMMIT_NO_QUORUM', signedPower: signed.toString(), totalPower: total.toString() });
  }
}
