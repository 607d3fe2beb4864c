/**
 * A bounded table of peer scores. A peer starts at 0; each piece of bad behaviour costs a penalty;
 * scores creep back towards 0 over time (`recoveryPerSecond`), so an honest peer that once relayed
 * something stale is not punished for ever. A peer whose score falls to `banThreshold` or below is
 * banned for `banMs`: the network disconnects it and refuses its connections until the ban ends,
 * after which it starts again from 0. Time comes from an injected clock.
 *
 * At most `peersMax` peers are tracked. To track a new one when full, the table forgets the unbanned
 * peer with the best score (a peer at 0 carries no information), or, if every tracked peer is
 * banned, the ban that ends first.
 */
import { assert } from '../../lib/index.ts';

export const PENALTY_REASONS = [
  /** A gossip message its topic's validator rejected. */
  'invalidMessage',
  /** A gossip message over its topic's size limit. */
  'oversizeMessage',
  /** A synced block or commit that failed verification. */
  'invalidBlock',
  /** A sync answer that broke the protocol (malformed, too many blocks, wrong sizes). */
  'badResponse',
  /** A sync request that timed out or failed on the peer's side. */
  'timeout',
  /** Garbage on a stream (bad frame, oversize length prefix). */
  'malformedStream',
] as const;
export type PenaltyReason = (typeof PENALTY_REASONS)[number];

export type PeerScoreOpts = {
  peersMax: number;
  /** A score at or below this bans the peer (negative). */
  banThreshold: number;
  banMs: number;
  /** Points regained per second, up to 0. */
  recoveryPerSecond: number;
  /** Points each kind of misbehaviour costs. */
  penalties: Record<PenaltyReason, number>;
};

export const DEFAULT_PEER_SCORE_OPTS: PeerScoreOpts = {
  peersMax: 1024,
  banThreshold: -100,
  banMs: 10 * 60 * 1000,
  recoveryPerSecond: 1,
  penalties: { invalidMessage: 20, oversizeMessage: 50, invalidBlock: 100, badResponse: 50, timeout: 10, malformedStream: 50 },
};

export type ScoreClock = { nowMs(): bigint };

type Entry = { score: number; atMs: bigint; bannedUntilMs: bigint | null };

export type PenaltyResult = { score: number; banned: boolean; newlyBanned: boolean };

export class PeerScoreTable {
  private readonly opts: PeerScoreOpts;
  private readonly clock: ScoreClock;
  private readonly entries = new Map<string, Entry>();
  /** Peers forgotten to make room, a metric. */
  evicted = 0;
  /** Bans ever imposed, a metric. */
  bans = 0;

  constructor(opts: PeerScoreOpts, deps: { clock: ScoreClock }) {
    assert(opts.banThreshold < 0, 'banThreshold must be negative');
    assert(opts.peersMax > 0, 'peersMax must be positive');
    this.opts = opts;
    this.clock = deps.clock;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The peer's current score (0 for an unknown peer). */
  score(peer: string): number {
    const entry = this.current(peer, this.clock.nowMs());
    return entry === undefined ? 0 : entry.score;
  }

  isBanned(peer: string): boolean {
    return this.bannedUntilMs(peer) !== null;
  }

  /** When the peer's ban ends, or null if it is not banned. */
  bannedUntilMs(peer: string): bigint | null {
    return this.current(peer, this.clock.nowMs())?.bannedUntilMs ?? null;
  }

  /** Charges the penalty for `reason`; bans the peer when its score reaches the threshold. */
  penalize(peer: string, reason: PenaltyReason): PenaltyResult {
    const now = this.clock.nowMs();
    let entry = this.current(peer, now);
    if (entry === undefined) {
      this.makeRoom(now);
      entry = { score: 0, atMs: now, bannedUntilMs: null };
      this.entries.set(peer, entry);
    }
    entry.score -= this.opts.penalties[reason];
    entry.atMs = now;
    if (entry.bannedUntilMs !== null) return { score: entry.score, banned: true, newlyBanned: false };
    if (entry.score > this.opts.banThreshold) return { score: entry.score, banned: false, newlyBanned: false };
    entry.bannedUntilMs = now + BigInt(this.opts.banMs);
    this.bans++;
    return { score: entry.score, banned: true, newlyBanned: true };
  }

  /** Banned peers and when each ban ends. */
  banned(): Array<{ peer: string; untilMs: bigint }> {
    const now = this.clock.nowMs();
    const out: Array<{ peer: string; untilMs: bigint }> = [];
    for (const peer of [...this.entries.keys()]) {
      const until = this.current(peer, now)?.bannedUntilMs ?? null;
      if (until !== null) out.push({ peer, untilMs: until });
    }
    return out;
  }

  /**
   * The entry brought up to `now`: an expired ban is lifted (the peer starts again from 0) and an
   * unbanned score has recovered for the time elapsed.
   */
  private current(peer: string, now: bigint): Entry | undefined {
    const entry = this.entries.get(peer);
    if (entry === undefined) return undefined;
    if (entry.bannedUntilMs !== null) {
      if (now < entry.bannedUntilMs) return entry;
      this.entries.delete(peer);
      return undefined;
    }
    const elapsedMs = now > entry.atMs ? Number(now - entry.atMs) : 0;
    entry.score = Math.min(0, entry.score + (elapsedMs / 1000) * this.opts.recoveryPerSecond);
    entry.atMs = now;
    return entry;
  }

  private makeRoom(now: bigint): void {
    if (this.entries.size < this.opts.peersMax) return;
    let victim: string | null = null;
    let best: Entry | null = null;
    for (const peer of [...this.entries.keys()]) {
      const entry = this.current(peer, now);
      if (entry === undefined) return; // an expired ban was just lifted: there is room now
      if (best === null || isBetterVictim(entry, best)) {
        victim = peer;
        best = entry;
      }
    }
    assert(victim !== null, 'a full table has a victim');
    this.entries.delete(victim);
    this.evicted++;
    assert(this.entries.size < this.opts.peersMax, 'room was made');
  }
}

/** Unbanned beats banned; among unbanned the higher score; among banned the earlier end. */
function isBetterVictim(a: Entry, b: Entry): boolean {
  if ((a.bannedUntilMs === null) !== (b.bannedUntilMs === null)) return a.bannedUntilMs === null;
  if (a.bannedUntilMs === null || b.bannedUntilMs === null) return a.score > b.score;
  return a.bannedUntilMs < b.bannedUntilMs;
}
