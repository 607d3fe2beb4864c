/**
 * Keeps the node connected to its bootstrap peers: dials each at start and again after it
 * disconnects, retrying with exponential backoff (base · 2^(failures-1), capped) for at most
 * `attemptsMax` failures in a row. A banned peer is not dialled; waiting out its ban counts as a
 * failure, so the loop stays bounded. One dial loop per peer at a time.
 */
import type { Logger } from '../../lib/index.ts';
import type { DialOpts } from './config.ts';
import { reasonOf } from './errors.ts';

export type BootstrapPeer = { addr: string; peerId: string };

export type DialerDeps = {
  dial(addr: string, signal: AbortSignal): Promise<void>;
  isConnected(peerId: string): boolean;
  isBanned(peerId: string): boolean;
  log: Logger;
};

/** Delay before retry number `failures` (1-based): base · 2^(failures-1), at most backoffMaxMs. */
export function backoffDelayMs(failures: number, opts: Pick<DialOpts, 'backoffBaseMs' | 'backoffMaxMs'>): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  return Math.min(opts.backoffBaseMs * 2 ** exponent, opts.backoffMaxMs);
}

export class BootstrapDialer {
  private readonly opts: DialOpts;
  private readonly deps: DialerDeps;
  private readonly peers: ReadonlyMap<string, BootstrapPeer>;
  private readonly running = new Set<string>();
  private readonly abort = new AbortController();
  /** Failed dials, a metric. */
  failures = 0;

  constructor(opts: DialOpts, peers: readonly BootstrapPeer[], deps: DialerDeps) {
    this.opts = opts;
    this.deps = deps;
    this.peers = new Map(peers.map((p) => [p.peerId, p]));
  }

  start(): void {
    for (const peerId of this.peers.keys()) this.ensure(peerId);
  }

  /** A peer disconnected: if it is a bootstrap peer, dial it again. */
  onDisconnect(peerId: string): void {
    if (this.peers.has(peerId)) this.ensure(peerId);
  }

  stop(): void {
    this.abort.abort();
  }

  private ensure(peerId: string): void {
    const peer = this.peers.get(peerId);
    if (peer === undefined || this.running.has(peerId) || this.abort.signal.aborted) return;
    this.running.add(peerId);
    void this.run(peer).finally(() => this.running.delete(peerId));
  }

  private async run(peer: BootstrapPeer): Promise<void> {
    const signal = this.abort.signal;
    let failures = 0;
    while (!signal.aborted && failures < this.opts.attemptsMax) {
      if (this.deps.isConnected(peer.peerId)) return;
      if (!this.deps.isBanned(peer.peerId)) {
        try {
          await this.deps.dial(peer.addr, signal);
          return;
        } catch (e: unknown) {
          this.failures++;
          this.deps.log.debug({ peer: peer.addr, failures: failures + 1, err: reasonOf(e) }, 'Bootstrap dial failed');
        }
      }
      failures++;
      await sleep(backoffDelayMs(failures, this.opts), signal);
    }
    if (failures >= this.opts.attemptsMax) {
      this.deps.log.warn({ peer: peer.addr, failures }, 'Giving up on bootstrap peer until it reconnects or the node restarts');
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
