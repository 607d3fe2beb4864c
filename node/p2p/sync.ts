/**
 * Catching up: downloads blocks from the best peer in batches and hands each batch to the node's
 * verify-and-apply callback, with the next batch already in flight while the current one is being
 * applied. A peer whose blocks fail verification is penalized (by default enough to ban it, which
 * disconnects it) and left out for the rest of the run; the download resumes from another peer at
 * the node's own height, so one bad peer costs a batch, never a wrong block.
 *
 * Every loop is bounded: `roundsMax` rounds of "ask peers' heights, download from the best", and at
 * most `failuresMax` peers failing in one run.
 */
import { isChainError, type Logger } from '../../lib/index.ts';
import { reasonOf } from './errors.ts';
import type { P2PNetwork } from './network.ts';
import type { BlockPair } from './syncWire.ts';

/** What the sync client needs of the network (P2PNetwork has it; tests may fake it). */
export type SyncNetwork = Pick<P2PNetwork, 'peers' | 'status' | 'fetchBlocks' | 'penalize'>;

/**
 * Verifies each block's commit certificate and applies the blocks in order. Throws a ChainError at
 * the first invalid one (those before it may stay applied); any other error is an operating error
 * of this node and stops the sync without blaming the peer.
 */
export type ApplyBatch = (pairs: BlockPair[], peer: string) => Promise<void> | void;

export type SyncClientOpts = {
  /** Blocks per request (at most the network's sync.countMax). */
  batchSize: number;
  /** Peers asked for their height each round. */
  statusPeersMax: number;
  roundsMax: number;
  failuresMax: number;
};

export const DEFAULT_SYNC_CLIENT_OPTS: SyncClientOpts = { batchSize: 128, statusPeersMax: 16, roundsMax: 64, failuresMax: 16 };

export type SyncClientDeps = {
  network: SyncNetwork;
  /** The node's latest applied height. */
  localHeight(): number;
  apply: ApplyBatch;
  log: Logger;
};

export type SyncResult = {
  /** The node's height when the sync ended. */
  height: number;
  /** Blocks applied during this run. */
  applied: number;
  /** The highest height a peer reported. */
  bestSeen: number;
  /** Peers that failed during this run (bad blocks, errors, empty answers). */
  failedPeers: string[];
};

type Outcome = { ok: true } | { ok: false; reason: string };
type Fetched = { ok: true; pairs: BlockPair[] } | { ok: false; reason: string };

export class SyncClient {
  private readonly opts: SyncClientOpts;
  private readonly deps: SyncClientDeps;

  constructor(opts: Partial<SyncClientOpts>, deps: SyncClientDeps) {
    this.opts = { ...DEFAULT_SYNC_CLIENT_OPTS, ...opts };
    this.deps = deps;
  }

  /** Syncs until no peer reports a height above ours (or the bounds or `signal` stop it). */
  async syncToTip(signal?: AbortSignal): Promise<SyncResult> {
    const start = this.deps.localHeight();
    const failed = new Set<string>();
    let bestSeen = start;
    for (let round = 0; round < this.opts.roundsMax && failed.size < this.opts.failuresMax; round++) {
      if (signal?.aborted === true) break;
      const best = await this.bestPeer(failed);
      if (best === null) break;
      bestSeen = Math.max(bestSeen, best.height);
      if (best.height <= this.deps.localHeight()) break;
      const outcome = await this.syncFrom(best.peer, best.height, signal);
      if (!outcome.ok) {
        failed.add(best.peer);
        this.deps.log.warn({ peer: best.peer, reason: outcome.reason, height: this.deps.localHeight() }, 'Sync from peer failed; trying another');
      }
    }
    const height = this.deps.localHeight();
    return { height, applied: height - start, bestSeen, failedPeers: [...failed] };
  }

  /** The connected peer with the greatest height, among up to statusPeersMax not yet failed. */
  private async bestPeer(failed: ReadonlySet<string>): Promise<{ peer: string; height: number } | null> {
    const peers = this.deps.network.peers().filter((p) => !failed.has(p)).slice(0, this.opts.statusPeersMax);
    const heights = await Promise.allSettled(peers.map((p) => this.deps.network.status(p)));
    let best: { peer: string; height: number } | null = null;
    heights.forEach((h, i) => {
      const peer = peers[i];
      if (h.status === 'fulfilled' && peer !== undefined && (best === null || h.value > best.height)) best = { peer, height: h.value };
    });
    return best;
  }

  /** Downloads and applies from one peer up to `target`, one request ahead of the batch applied. */
  private async syncFrom(peer: string, target: number, signal: AbortSignal | undefined): Promise<Outcome> {
    // A request in flight while a batch is applied must never reject unobserved: settle it here.
    const fetch = (from: number): Promise<Fetched> =>
      this.deps.network.fetchBlocks(peer, from, Math.min(this.opts.batchSize, target - from + 1)).then(
        (pairs) => ({ ok: true, pairs }),
        (e: unknown) => ({ ok: false, reason: reasonOf(e) }),
      );
    let next = this.deps.localHeight() + 1;
    let inflight: Promise<Fetched> | null = next <= target ? fetch(next) : null;
    while (inflight !== null) {
      const fetched = await inflight;
      inflight = null;
      if (!fetched.ok) return fetched;
      const pairs = fetched.pairs;
      if (pairs.length === 0) return { ok: false, reason: `no blocks from ${next} though it reported ${target}` };
      const after = next + pairs.length;
      if (after <= target && signal?.aborted !== true) inflight = fetch(after);
      try {
        await this.deps.apply(pairs, peer);
      } catch (e: unknown) {
        if (!isChainError(e)) throw e;
        this.deps.network.penalize(peer, 'invalidBlock');
        return { ok: false, reason: `invalid block: ${reasonOf(e)}` };
      }
      next = this.deps.localHeight() + 1;
      if (next !== after) {
        // The callback applied fewer (or more) than it was given: follow the node's own height.
        inflight = next <= target && signal?.aborted !== true ? fetch(next) : null;
      }
    }
    return { ok: true };
  }
}

/** Syncs to the best peer's height with a one-off SyncClient. */
export function syncToTip(deps: SyncClientDeps, opts: Partial<SyncClientOpts> = {}, signal?: AbortSignal): Promise<SyncResult> {
  return new SyncClient(opts, deps).syncToTip(signal);
}
