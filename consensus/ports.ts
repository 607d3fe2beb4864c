/**
 * What a consensus engine needs from the node. Consensus knows blocks only by hash: the node builds,
 * executes and stores them behind these ports, so the single-validator engine and the BFT engine
 * drive the same node.
 */
import type { Commit } from './types.ts';

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
