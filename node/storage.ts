/**
 * The node's disk upkeep, driven by commits: pruning with compaction (pruner.ts) and periodic state
 * snapshots (snapshot.ts), both in the background, both bounded; and the admin listener's storage
 * operations (rpc/adminServer.ts `registerStorageAdminRoutes`). docs/operators.md §Disk.
 */
import type { Logger } from '../lib/index.ts';
import type { ChainStore } from '../state/index.ts';
import type { StorageAdminDeps } from '../rpc/index.ts';
import type { NodeConfig } from './config.ts';
import { Pruner } from './pruner.ts';
import { SnapshotTaker, snapshotsDir } from './snapshot.ts';

export class NodeStorage implements StorageAdminDeps {
  readonly pruner: Pruner;
  readonly snapshots: SnapshotTaker;
  private readonly store: ChainStore;

  /** `syncing`: the node is catching up by block sync (pruning waits; see Pruner). */
  constructor(config: Pick<NodeConfig, 'storage' | 'snapshot'>, deps: { store: ChainStore; chainId: string; home: string; log: Logger; syncing?: () => boolean }) {
    const s = config.storage;
    this.store = deps.store;
    this.pruner = new Pruner(
      { retainBlocks: s.retainBlocks, batchHeights: s.pruneBatchHeights, compactEveryHeights: s.compactEveryHeights },
      { store: deps.store, log: deps.log.child({ module: 'pruner' }), ...(deps.syncing === undefined ? {} : { paused: deps.syncing }) },
    );
    this.snapshots = new SnapshotTaker(config.snapshot, { root: snapshotsDir(deps.home), chainId: deps.chainId, store: deps.store, log: deps.log.child({ module: 'snapshot' }) });
  }

  /** Called synchronously after each commit (the store's head is `height`). */
  afterCommit(height: number): void {
    // The snapshot first: it captures the head's tree version in this turn.
    this.snapshots.afterCommit(height);
    this.pruner.afterCommit();
  }

  async compact(): Promise<{ earliestHeight: number }> {
    await this.pruner.compact();
    return { earliestHeight: this.store.earliestHeight };
  }

  snapshot(): Promise<{ height: number; dir: string }> {
    return this.snapshots.takeNow();
  }

  /** Resolves when no pruning, compaction or snapshot is in flight. */
  async idle(): Promise<void> {
    await this.snapshots.idle();
    await this.pruner.idle();
  }

  /** Lets work in flight finish (each step is bounded) and starts no more. */
  async stop(): Promise<void> {
    await this.snapshots.stop();
    await this.pruner.stop();
  }
}
