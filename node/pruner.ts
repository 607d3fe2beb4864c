/**
 * Pruning (docs/operators.md §Disk): keeps the blocks, commits, receipts and transaction index of
 * the last `retainBlocks` heights and deletes older ones, a bounded batch of heights at a time,
 * in the background after commits. State needs no pruning: the database holds only the latest
 * state (docs/spec/storage.md), and the state tree's older versions live only in memory until
 * nothing refers to them.
 *
 * Every step is bounded: at most `batchHeights` heights per LevelDB batch, one batch in flight,
 * and the event loop gets a turn between batches, so a node that enables pruning on a long chain
 * works through its history over many small steps while it keeps committing blocks. After
 * `compactEveryHeights` pruned heights the pruned key ranges are compacted (LevelDB's
 * compactRange), which is what gives the disk space back.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ChainError, sha256, type Logger } from '../lib/index.ts';
import { decodeBlock } from '../runtime/index.ts';
import type { ChainStore, PrunedHeight } from '../state/index.ts';

export type PrunerOpts = {
  /** Heights kept, counting the head; 0 keeps everything (an archive node). */
  retainBlocks: number;
  /** Heights pruned per batch. */
  batchHeights: number;
  /** Compact after this many pruned heights (0: never on its own; the admin operation still can). */
  compactEveryHeights: number;
};

export const DEFAULT_PRUNER_OPTS: PrunerOpts = { retainBlocks: 0, batchHeights: 100, compactEveryHeights: 10_000 };

export type PrunerErrorType = { code: 'PRUNE_BLOCK_MISSING'; height: number };
export class PrunerError extends ChainError<PrunerErrorType> {}

/**
 * The earliest height to keep with `head` committed: the last `retain` heights (never the head
 * itself, nor below what is already pruned). 0 retain: nothing is pruned.
 */
export function pruneTarget(head: number, retain: number, earliest: number): number {
  if (retain === 0) return earliest;
  return Math.max(earliest, head - retain + 1);
}

export type PrunerStats = { prunedHeights: number; batches: number; compactions: number; earliestHeight: number };

export class Pruner {
  private readonly opts: PrunerOpts;
  private readonly store: ChainStore;
  private readonly log: Logger;
  private readonly paused: () => boolean;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private sinceCompaction = 0;
  private compacting: Promise<void> | null = null;
  readonly stats: PrunerStats;

  /**
   * `paused`: true while the node catches up by block sync. A sync batch commits up to a hundred
   * heights while the consensus engine may still be at the first of them and read its block back
   * (BlockGate); pruning waits until the engine has moved on.
   */
  constructor(opts: PrunerOpts, deps: { store: ChainStore; log: Logger; paused?: () => boolean }) {
    this.opts = opts;
    this.store = deps.store;
    this.log = deps.log;
    this.paused = deps.paused ?? (() => false);
    this.stats = { prunedHeights: 0, batches: 0, compactions: 0, earliestHeight: deps.store.earliestHeight };
  }

  /** A block was committed: prune in the background if the window moved (one run at a time). */
  afterCommit(): void {
    if (this.opts.retainBlocks === 0 || this.stopped) return;
    if (this.running !== null) {
      this.again = true;
      return;
    }
    this.running = this.run().finally(() => {
      this.running = null;
    });
  }

  /** Resolves when no pruning or compaction is in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running !== null || this.compacting !== null) {
      await this.running;
      await this.compacting;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }

  /** Compacts the pruned key ranges now (the admin operation); joins one already running. */
  compact(): Promise<void> {
    if (this.compacting !== null) return this.compacting;
    this.compacting = (async () => {
      this.sinceCompaction = 0;
      await this.store.compact();
      this.stats.compactions++;
    })().finally(() => {
      this.compacting = null;
    });
    return this.compacting;
  }

  private async run(): Promise<void> {
    try {
      do {
        this.again = false;
        while (!this.stopped && (await this.step())) await nextTurn();
      } while (this.again && !this.stopped);
      if (!this.stopped && this.opts.compactEveryHeights > 0 && this.sinceCompaction >= this.opts.compactEveryHeights) {
        this.log.info({ earliestHeight: this.store.earliestHeight }, 'Compacting the database after pruning');
        await this.compact();
      }
    } catch (e: unknown) {
      // A disk error: log it and try again after the next commit. The store is consistent
      // (each batch is atomic), so nothing is half pruned.
      this.log.error({ err: e }, 'Pruning failed');
    }
  }

  /** Prunes one batch; false when there is nothing left to prune. */
  private async step(): Promise<boolean> {
    const head = this.store.head;
    if (head === null || this.paused()) return false;
    const earliest = this.store.earliestHeight;
    const target = pruneTarget(head.height, this.opts.retainBlocks, earliest);
    if (target <= earliest) return false;
    const to = Math.min(target, earliest + this.opts.batchHeights);
    const heights: PrunedHeight[] = [];
    for (let height = earliest; height < to; height++) {
      const bytes = await this.store.blockBytes(height);
      if (bytes === undefined) throw new PrunerError({ code: 'PRUNE_BLOCK_MISSING', height }, `block ${height} is missing though the store keeps ${earliest}..${head.height}`);
      heights.push({ height, txHashes: decodeBlock(bytes).txs.map(txHash) });
    }
    const now = await this.store.prune(heights);
    this.stats.prunedHeights += heights.length;
    this.stats.batches++;
    this.stats.earliestHeight = now;
    this.sinceCompaction += heights.length;
    this.log.debug({ from: earliest, earliestHeight: now }, 'Pruned blocks');
    return now < target;
  }
}

/** A transaction's hash is the SHA-256 of its SignedTx encoding (runtime/tx.ts). */
function txHash(bytes: Uint8Array): Uint8Array {
  return sha256(bytes);
}
