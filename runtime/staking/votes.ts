/**
 * The two consensus encodings the staking module reads: votes (to verify double-sign evidence) and
 * commit certificates (to see who signed the parent block). The runtime may not import consensus
 * (ARCHITECTURE.md), so the wire forms are restated here; test/unit/staking/votes.test.ts checks
 * them byte for byte against consensus/types.ts.
 *
 *   Vote   = [type: u32, height: u32, round: u32, blockHash: bin(0 or 32), validator: bin(20)]
 *            signed over signingBytes('vote', chainId, encode(Vote))
 *   Commit = [height: u32, round: u32, blockHash: bin(32), [[validator: bin(20), signature: bin(64)] …]]
 */
import { ADDRESS_BYTES, Reader, decodeCanonical, encode, isChainError, signingBytes, verify } from '../../lib/index.ts';

/** Prevote 1, precommit 2 (consensus/types.ts VOTE_TYPE). */
export const VOTE_TYPES: readonly number[] = [1, 2];

export type SignedVote = {
  type: number;
  height: number;
  round: number;
  /** Empty for a vote for nil. */
  blockHash: Uint8Array;
  /** The consensus address of the signer. */
  validator: Uint8Array;
  signature: Uint8Array;
};

export function voteSigningBytes(chainId: string, v: SignedVote): Uint8Array {
  return signingBytes('vote', chainId, encode([v.type, v.height, v.round, v.blockHash, v.validator]));
}

export function verifyVoteSignature(chainId: string, v: SignedVote, publicKey: Uint8Array): boolean {
  return verify(publicKey, voteSigningBytes(chainId, v), v.signature);
}

/** Most signatures in a commit (consensus COMMIT_SIGNATURES_MAX). */
const COMMIT_SIGNERS_MAX = 200;

export type CommitSigners = { height: number; signers: Uint8Array[] };

/**
 * Who signed a commit certificate (its signatures are checked by the node before execution: see
 * BlockExecutor.checkLastCommit). Null for bytes that are not a commit.
 */
export function commitSigners(bytes: Uint8Array): CommitSigners | null {
  try {
    const c = decodeCanonical(
      bytes,
      'Commit',
      32 * 1024,
      (value) => {
        const r = Reader.array(value, 'Commit', 4);
        const height = r.u32('height');
        const round = r.u32('round');
        const blockHash = r.bytes('blockHash', 32);
        const sigs = r.list('signatures', COMMIT_SIGNERS_MAX, (item) => {
          const s = Reader.array(item, 'CommitSignature', 2);
          return [s.bytes('validator', ADDRESS_BYTES), s.bytes('signature', 64)] as const;
        });
        return { height, round, blockHash, sigs };
      },
      (x) => encode([x.height, x.round, x.blockHash, x.sigs.map(([v, s]) => [v, s])]),
    );
    return { height: c.height, signers: c.sigs.map(([v]) => v) };
  } catch (e: unknown) {
    if (isChainError(e)) return null;
    throw e;
  }
}

/** A consensus vote as the node holds it (consensus/types.ts `Vote` with its signature), structurally. */
export type ConsensusSignedVote = {
  vote: { type: number; height: number; round: number; blockHash: Uint8Array; validator: Uint8Array };
  signature: Uint8Array;
};

/** The `evidence` transaction body for two conflicting consensus votes (e.g. the node's evidence pool). */
export function evidenceTxBody(first: ConsensusSignedVote, second: ConsensusSignedVote): { kind: 'evidence'; voteA: SignedVote; voteB: SignedVote } {
  return { kind: 'evidence', voteA: { ...first.vote, signature: first.signature }, voteB: { ...second.vote, signature: second.signature } };
}
