/**
 * Keeps the node at the network's height by block sync (docs/operators.md §Joining a network). Every
 * `checkMs`, and at once when something says the node is behind (gossip from heights beyond the
 * engine's buffer, a decided block the node no longer holds), it runs `syncToTip`: ask the peers'
 * heights, download from the highest, verify each block's commit certificate and execute it
 * (BlockGate.applySynced), then tell the engine to move on (`notifyCommitted`).
 *
 * Being one height behind a peer for a moment is normal (it committed first); the node syncs when a
 * peer is two or more heights ahead, or one ahead while this node made no progress since the last
 * check.
 */
import type { Logger } from '../lib/index.ts';
import type { ClockPort } from '../consensus/index.ts';
import type { BlockGate } from './blockGate.ts';
import { syncToTip, type SyncNetwork, type SyncResult } from './p2p/index.ts';

export type ChainFollowerOpts = { checkMs: number; batchSize: number };

export type ChainFollowerDeps = {
  network: SyncNetwork;
  gate: Pick<BlockGate, 'applySynced' | 'lastCommitted'>;
  /** Blocks were committed by sync: the engine starts the next height. */
  onSynced(): void;
  clock: ClockPort;
  log: Logger;
};

export class ChainFollower {
  private readonly opts: ChainFollowerOpts;
  private readonly deps: ChainFollowerDeps;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private wake: AbortController | null = null;
  private poked = false;
  private lastCheckedHeight = -1;
  private running = false;
  /** Blocks committed by sync since start (a metric). */
  synced = 0;

  constructor(opts: ChainFollowerOpts, deps: ChainFollowerDeps) {
    this.opts = opts;
    this.deps = deps;
  }

  /** True while a sync run is downloading and committing blocks. */
  get syncing(): boolean {
    return this.running;
  }

  start(): void {
    if (this.loop !== null) return;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.wake?.abort();
    if (this.loop !== null) await this.loop;
  }

  /** Something suggests the node is behind: check now rather than at the next interval. */
  poke(): void {
    this.poked = true;
    this.wake?.abort();
  }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      if (!this.poked) {
        this.wake = new AbortController();
        await this.deps.clock.sleep(this.opts.checkMs, AbortSignal.any([this.abort.signal, this.wake.signal]));
        this.wake = null;
      }
      if (this.abort.signal.aborted) break;
      const urgent = this.poked;
      this.poked = false;
      try {
        await this.check(urgent);
      } catch (e: unknown) {
        // Disk or invariant failures surface through the engine too; the follower tries again later.
        this.deps.log.error({ err: e }, 'Block sync failed');
      }
    }
  }

  private async check(urgent: boolean): Promise<void> {
    const height = this.deps.gate.lastCommitted().height;
    const stalled = height === this.lastCheckedHeight;
    this.lastCheckedHeight = height;
    const lag = urgent || stalled ? 1 : 2;
    const best = await this.bestHeight();
    if (best < height + lag) return;
    this.running = true;
    let result: SyncResult;
    try {
      result = await syncToTip(
        {
          network: this.deps.network,
          localHeight: () => this.deps.gate.lastCommitted().height,
          apply: async (pairs) => {
            if ((await this.deps.gate.applySynced(pairs)) > 0) this.deps.onSynced();
          },
          log: this.deps.log,
        },
        { batchSize: this.opts.batchSize },
        this.abort.signal,
      );
    } finally {
      this.running = false;
    }
    this.synced += result.applied;
    if (result.applied > 0) this.deps.log.info({ from: height, to: result.height, best: result.bestSeen, applied: result.applied }, 'Caught up by block sync');
  }

  /** The highest height any connected peer reports (0 with no peers). */
  private async bestHeight(): Promise<number> {
    const peers = this.deps.network.peers().slice(0, 16);
    const heights = await Promise.allSettled(peers.map((p) => this.deps.network.status(p)));
    let best = 0;
    for (const h of heights) if (h.status === 'fulfilled' && h.value > best) best = h.value;
    return best;
  }
}
