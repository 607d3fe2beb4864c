/**
 * What a consensus engine needs from the node. Consensus knows blocks only by hash: the node builds,
 * executes and stores them behind these ports, so the single-validator engine and the BFT engine
 * drive the same node.
 */
import type { DuplicateVoteEvidence, ProposalMessage, VoteMessage } from './messages.ts';
import type { Commit, VotingValidator } from './types.ts';

export type BlockPort = {
  /** Latest committed height (0 = genesis only) and its block time. */
  lastCommitted(): { height: number; timeMs: bigint };
  /** Builds and executes a block for `height` on the last committed one; the node keeps it until commit. */
  buildProposal(height: number, round: number, timeMs: bigint): Promise<{ blockHash: Uint8Array }>;
  /** Stores the block built under `blockHash` with its commit certificate, atomically with its state. */
  commitBlock(height: number, blockHash: Uint8Array, commit: Commit): Promise<void>;
  /** True if there are transactions waiting, for engines that skip empty blocks. */
  hasPendingTxs(): boolean;
};

export type ClockPort = {
  nowMs(): bigint;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
};

export type ConsensusEngine = {
  start(): void;
  /** Stops after the block in flight, if any, is committed. */
  stop(): Promise<void>;
};

/**
 * What the BFT engine needs from the node beyond BlockPort: the validator set, and blocks as bytes,
 * because a proposal carries its block to the other validators.
 */
export type BftBlockPort = BlockPort & {
  /** The validator set that decides `height` (the next height, lastCommitted() + 1), with keys. */
  validatorsAt(height: number): VotingValidator[];
  /**
   * The hash of an encoded block (its header's hash), cheap and without executing it, so a
   * proposal whose block bytes were swapped is caught before it is relayed. Throws a ChainError if
   * the bytes are not a block.
   */
  blockHashOf(block: Uint8Array): Uint8Array;
  /** The encoded block built or executed under `blockHash` and not yet committed, or null. */
  proposalBlock(blockHash: Uint8Array): Uint8Array | null;
  /**
   * Decodes and executes a proposed block for `height` on the last committed one and keeps it, if
   * valid, until a commit. `valid` false: the block decodes but breaks a rule (the engine prevotes
   * nil). Throws a ChainError if the bytes are not a block at all.
   */
  executeProposal(height: number, block: Uint8Array): Promise<{ blockHash: Uint8Array; valid: boolean }>;
};

/**
 * The network, as the engine sees it. The network calls `BftEngine.receive` with what arrives and
 * scores peers by its verdict; it relays only messages the engine accepted.
 */
export type GossipPort = {
  broadcastProposal(message: ProposalMessage): void;
  broadcastVote(message: VoteMessage): void;
  broadcastEvidence(evidence: DuplicateVoteEvidence): void;
};

/** Where duplicate-vote evidence goes to be included in a block (the node's evidence pool). */
export type EvidencePort = {
  addEvidence(evidence: DuplicateVoteEvidence): void;
};
