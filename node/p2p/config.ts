/**
 * P2P settings, their defaults and validation. Limits are named `...Max` and every one is finite:
 * message sizes per topic, queue lengths, connections, tracked peers, sync counts and bytes.
 * Reference: docs/spec/network.md.
 */
import { multiaddr, type Component, type Multiaddr } from '@multiformats/multiaddr';
import { peerIdFromString } from '@libp2p/peer-id';
import { P2PError, reasonOf } from './errors.ts';
import { DEFAULT_PEER_SCORE_OPTS, type PeerScoreOpts } from './peerScore.ts';

export const TOPIC_KINDS = ['tx', 'proposal', 'vote', 'evidence'] as const;
export type TopicKind = (typeof TOPIC_KINDS)[number];

/** Gossip topic names of one chain: `/tagger/<chainId>/<kind>/1`. */
export function topicName(chainId: string, kind: TopicKind): string {
  return `/tagger/${chainId}/${kind}/1`;
}

/** The block sync request/response protocol of one chain. */
export function syncProtocol(chainId: string): string {
  return `/tagger/${chainId}/sync/1`;
}

export type SyncOpts = {
  /** Most blocks one request may ask for; larger requests are answered with this many. */
  countMax: number;
  /** Most bytes of [block, commit] pairs in one answer (the server stops before passing it). */
  responseBytesMax: number;
  /** Largest single frame (one encoded [block, commit] pair). */
  frameBytesMax: number;
  /** Deadline for one request, dial to last frame, on both ends. */
  requestTimeoutMs: number;
  /** Concurrent inbound sync streams per connection. */
  inboundStreamsMax: number;
};

export type DialOpts = {
  /** First retry delay; each failure doubles it up to `backoffMaxMs`. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Failed dials in a row after which a bootstrap peer is left alone until the next disconnect event or restart. */
  attemptsMax: number;
  timeoutMs: number;
};

export type P2PConfig = {
  /** TCP multiaddr to listen on, e.g. `/ip4/0.0.0.0/tcp/26656` (port 0 picks a free port). */
  listen: string;
  /** Peers to dial at start and redial on disconnect: `/ip4/…/tcp/…/p2p/<peer id>`. */
  bootstrap: string[];
  connectionsMax: number;
  /** Largest message accepted or published per topic, checked before anything decodes it. */
  topicBytesMax: Record<TopicKind, number>;
  /** Accepted messages waiting for the node, per topic; the oldest is dropped when full. */
  inboxMax: number;
  sync: SyncOpts;
  dial: DialOpts;
  score: PeerScoreOpts;
};

export const DEFAULT_P2P_CONFIG: P2PConfig = {
  listen: '/ip4/127.0.0.1/tcp/26656',
  bootstrap: [],
  connectionsMax: 64,
  topicBytesMax: { tx: 128 * 1024, proposal: 8 * 1024 * 1024 + 64 * 1024, vote: 1024, evidence: 4 * 1024 },
  inboxMax: 4096,
  sync: {
    countMax: 256,
    responseBytesMax: 16 * 1024 * 1024,
    frameBytesMax: 8 * 1024 * 1024 + 64 * 1024,
    requestTimeoutMs: 10_000,
    inboundStreamsMax: 4,
  },
  dial: { backoffBaseMs: 500, backoffMaxMs: 30_000, attemptsMax: 20, timeoutMs: 5_000 },
  score: DEFAULT_PEER_SCORE_OPTS,
};

export const BOOTSTRAP_PEERS_MAX = 64;
/** Gossipsub carries a topic's message inside an RPC frame; this is room for the envelope. */
export const GOSSIP_ENVELOPE_BYTES = 64 * 1024;

/** The default config with `patch` applied section by section, validated. */
export function createP2PConfig(patch: Partial<P2PConfig> = {}): P2PConfig {
  const config: P2PConfig = {
    ...DEFAULT_P2P_CONFIG,
    ...patch,
    topicBytesMax: { ...DEFAULT_P2P_CONFIG.topicBytesMax, ...patch.topicBytesMax },
    sync: { ...DEFAULT_P2P_CONFIG.sync, ...patch.sync },
    dial: { ...DEFAULT_P2P_CONFIG.dial, ...patch.dial },
    score: { ...DEFAULT_P2P_CONFIG.score, ...patch.score, penalties: { ...DEFAULT_P2P_CONFIG.score.penalties, ...patch.score?.penalties } },
  };
  validateP2PConfig(config);
  return config;
}

function checkInt(field: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new P2PError({ code: 'P2P_BAD_CONFIG', field, reason: `must be an integer from ${min} to ${max}` }, `p2p.${field}: must be an integer from ${min} to ${max}, got ${value}`);
  }
}

/** Throws P2PError (P2P_BAD_CONFIG, P2P_BAD_MULTIADDR, P2P_BAD_BOOTSTRAP_PEER) for a bad setting. */
export function validateP2PConfig(c: P2PConfig): void {
  parseListenAddr(c.listen);
  if (c.bootstrap.length > BOOTSTRAP_PEERS_MAX) {
    throw new P2PError({ code: 'P2P_BAD_CONFIG', field: 'bootstrap', reason: `at most ${BOOTSTRAP_PEERS_MAX} peers` });
  }
  for (const peer of c.bootstrap) parseBootstrapAddr(peer);
  checkInt('connectionsMax', c.connectionsMax, 1, 10_000);
  for (const kind of TOPIC_KINDS) checkInt(`topicBytesMax.${kind}`, c.topicBytesMax[kind], 64, 64 * 1024 * 1024);
  checkInt('inboxMax', c.inboxMax, 1, 1_000_000);
  checkInt('sync.countMax', c.sync.countMax, 1, 100_000);
  checkInt('sync.frameBytesMax', c.sync.frameBytesMax, 1024, 256 * 1024 * 1024);
  checkInt('sync.responseBytesMax', c.sync.responseBytesMax, c.sync.frameBytesMax, 1024 * 1024 * 1024);
  checkInt('sync.requestTimeoutMs', c.sync.requestTimeoutMs, 10, 600_000);
  checkInt('sync.inboundStreamsMax', c.sync.inboundStreamsMax, 1, 1024);
  checkInt('dial.backoffBaseMs', c.dial.backoffBaseMs, 1, 3_600_000);
  checkInt('dial.backoffMaxMs', c.dial.backoffMaxMs, c.dial.backoffBaseMs, 3_600_000);
  checkInt('dial.attemptsMax', c.dial.attemptsMax, 1, 1_000_000);
  checkInt('dial.timeoutMs', c.dial.timeoutMs, 10, 600_000);
  checkInt('score.peersMax', c.score.peersMax, 1, 1_000_000);
  checkInt('score.banMs', c.score.banMs, 1, 365 * 86_400_000);
  if (!(c.score.banThreshold < 0)) throw new P2PError({ code: 'P2P_BAD_CONFIG', field: 'score.banThreshold', reason: 'must be negative' });
  if (!(c.score.recoveryPerSecond >= 0)) throw new P2PError({ code: 'P2P_BAD_CONFIG', field: 'score.recoveryPerSecond', reason: 'must be zero or more' });
  for (const [reason, penalty] of Object.entries(c.score.penalties)) {
    if (!(penalty >= 0)) throw new P2PError({ code: 'P2P_BAD_CONFIG', field: `score.penalties.${reason}`, reason: 'must be zero or more' });
  }
}

function parseMultiaddr(field: string, value: string): Multiaddr {
  try {
    return multiaddr(value);
  } catch (e: unknown) {
    throw new P2PError({ code: 'P2P_BAD_MULTIADDR', field, value, reason: reasonOf(e) }, `p2p.${field}: not a multiaddr: ${value}`);
  }
}

const IP_NAMES = new Set(['ip4', 'ip6']);
const HOST_NAMES = new Set(['ip4', 'ip6', 'dns', 'dns4', 'dns6']);

function isTcpHost(parts: Component[], hosts: Set<string>): boolean {
  return parts.length >= 2 && hosts.has(parts[0]?.name ?? '') && parts[1]?.name === 'tcp';
}

/** A listen address: `/ip4|ip6/<addr>/tcp/<port>` and nothing more. */
export function parseListenAddr(value: string): Multiaddr {
  const addr = parseMultiaddr('listen', value);
  const parts = addr.getComponents();
  if (parts.length !== 2 || !isTcpHost(parts, IP_NAMES)) {
    throw new P2PError({ code: 'P2P_BAD_MULTIADDR', field: 'listen', value, reason: 'expected /ip4|ip6/<address>/tcp/<port>' }, `p2p.listen: expected /ip4/<address>/tcp/<port>, got ${value}`);
  }
  return addr;
}

/** A bootstrap address: `/ip4|ip6|dns…/<host>/tcp/<port>/p2p/<peer id>`; returns it and the peer id. */
export function parseBootstrapAddr(value: string): { addr: Multiaddr; peerId: string } {
  let addr: Multiaddr;
  try {
    addr = parseMultiaddr('bootstrap', value);
  } catch (e: unknown) {
    throw new P2PError({ code: 'P2P_BAD_BOOTSTRAP_PEER', value, reason: reasonOf(e) }, `p2p.bootstrap: not a multiaddr: ${value}`);
  }
  const parts = addr.getComponents();
  const last = parts[parts.length - 1];
  if (parts.length !== 3 || !isTcpHost(parts, HOST_NAMES) || last?.name !== 'p2p' || last.value === undefined) {
    throw new P2PError({ code: 'P2P_BAD_BOOTSTRAP_PEER', value, reason: 'expected /ip4/<address>/tcp/<port>/p2p/<peer id>' }, `p2p.bootstrap: expected /ip4/<address>/tcp/<port>/p2p/<peer id>, got ${value}`);
  }
  try {
    return { addr, peerId: peerIdFromString(last.value).toString() };
  } catch (e: unknown) {
    throw new P2PError({ code: 'P2P_BAD_BOOTSTRAP_PEER', value, reason: `bad peer id: ${reasonOf(e)}` }, `p2p.bootstrap: bad peer id in ${value}`);
  }
}
