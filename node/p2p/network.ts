/**
 * The node's P2P network on libp2p: TCP + Noise + yamux, gossipsub topics per chain for
 * transactions, proposals, votes and evidence, the block sync request/response protocol, bootstrap
 * dialling and peer scoring with bans. Reference: docs/spec/network.md.
 *
 * Gossip validation: gossipsub calls a topic validator for every message before it is delivered or
 * forwarded. Here that validator checks the topic's size limit (before anything decodes the bytes),
 * then asks the node's `validate` callback. Only an `accept`ed message is forwarded and queued in
 * the topic's inbox; a `reject`ed one is dropped and costs the peer that delivered it points in the
 * score table (and in gossipsub's own score); an `ignore`d one is dropped without blame.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { gossipsub, TopicValidatorResult, type GossipSub, type GossipsubMessage } from '@libp2p/gossipsub';
import { identify, type Identify } from '@libp2p/identify';
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { tcp } from '@libp2p/tcp';
import { yamux } from '@libp2p/yamux';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { isChainError, type Logger } from '../../lib/index.ts';
import {
  GOSSIP_ENVELOPE_BYTES,
  TOPIC_KINDS,
  parseBootstrapAddr,
  syncProtocol,
  topicName,
  validateP2PConfig,
  type P2PConfig,
  type TopicKind,
} from './config.ts';
import { BootstrapDialer } from './dialer.ts';
import { P2PError, reasonOf } from './errors.ts';
import { Inbox, type InboundMessage } from './inbox.ts';
import { PeerScoreTable, type PenaltyReason, type PenaltyResult, type ScoreClock } from './peerScore.ts';
import { requestError, requestSyncStream, serveSyncStream, type BlockSource, type SyncAnswer } from './syncProtocol.ts';
import { SYNC_KIND, type BlockPair, type SyncRequest } from './syncWire.ts';

export type Verdict = 'accept' | 'ignore' | 'reject';
/**
 * The node's check of one gossip message: decode, verify signatures, check it is relevant. Must be
 * quick (gossipsub waits on it). A thrown ChainError counts as `reject`, anything else as `ignore`.
 */
export type GossipValidator = (topic: TopicKind, data: Uint8Array, from: string) => Verdict | Promise<Verdict>;

export type P2PNetworkOpts = {
  chainId: string;
  /** 32 bytes from which the node's ed25519 network identity (its peer id) is derived. */
  identitySeed: Uint8Array;
  config: P2PConfig;
};

export type P2PNetworkDeps = {
  validate: GossipValidator;
  /** Serves block sync requests; null for a node that serves none. */
  blocks: BlockSource | null;
  clock: ScoreClock;
  log: Logger;
};

type TopicCounters = { received: number; accepted: number; ignored: number; rejected: number; oversize: number; published: number; inboxDropped: number };
export type P2PMetrics = {
  gossip: Record<TopicKind, TopicCounters>;
  sync: { served: number; badRequests: number; malformed: number; failed: number; requests: number; requestErrors: number; blocksFetched: number };
  peers: {
    connected: number;
    tracked: number;
    banned: number;
    bansTotal: number;
    evicted: number;
    dialFailures: number;
    /** Connections and dials refused because the peer is banned. */
    refused: number;
  };
};

type Services = { identify: Identify; pubsub: GossipSub };

export const IDENTITY_SEED_BYTES = 32;

/** The peer id a node with this identity seed has. */
export async function peerIdFromSeed(seed: Uint8Array): Promise<string> {
  checkSeed(seed);
  return peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', seed)).toString();
}

function checkSeed(seed: Uint8Array): void {
  if (seed.length !== IDENTITY_SEED_BYTES) {
    throw new P2PError({ code: 'P2P_BAD_IDENTITY_SEED', length: seed.length }, `identity seed must be ${IDENTITY_SEED_BYTES} bytes, got ${seed.length}`);
  }
}

/** A peer id string as libp2p's PeerId; P2P_BAD_PEER_ID if it is not one. */
export function toPeerId(peer: string): PeerId {
  try {
    return peerIdFromString(peer);
  } catch {
    throw new P2PError({ code: 'P2P_BAD_PEER_ID', value: peer }, `not a peer id: ${peer}`);
  }
}

export class P2PNetwork {
  readonly chainId: string;
  readonly config: P2PConfig;
  readonly scores: PeerScoreTable;
  /** Gossip topic name per kind. */
  readonly topics: Readonly<Record<TopicKind, string>>;
  readonly syncProtocol: string;
  private readonly seed: Uint8Array;
  private readonly deps: P2PNetworkDeps;
  private readonly log: Logger;
  private readonly inboxes: Record<TopicKind, Inbox>;
  private readonly counters: Omit<P2PMetrics, 'peers'> & { dialFailures: number; refused: number };
  private readonly topicKinds = new Map<string, TopicKind>();
  private node: Libp2p<Services> | null = null;
  private dialer: BootstrapDialer | null = null;

  constructor(opts: P2PNetworkOpts, deps: P2PNetworkDeps) {
    validateP2PConfig(opts.config);
    checkSeed(opts.identitySeed);
    for (const peer of opts.config.bootstrap) parseBootstrapAddr(peer);
    this.chainId = opts.chainId;
    this.config = opts.config;
    this.seed = new Uint8Array(opts.identitySeed);
    this.deps = deps;
    this.log = deps.log;
    this.scores = new PeerScoreTable(opts.config.score, { clock: deps.clock });
    const topics = {} as Record<TopicKind, string>;
    const inboxes = {} as Record<TopicKind, Inbox>;
    const gossip = {} as Record<TopicKind, TopicCounters>;
    for (const kind of TOPIC_KINDS) {
      topics[kind] = topicName(opts.chainId, kind);
      this.topicKinds.set(topics[kind], kind);
      inboxes[kind] = new Inbox(opts.config.inboxMax);
      gossip[kind] = { received: 0, accepted: 0, ignored: 0, rejected: 0, oversize: 0, published: 0, inboxDropped: 0 };
    }
    this.topics = topics;
    this.inboxes = inboxes;
    this.syncProtocol = syncProtocol(opts.chainId);
    this.counters = { gossip, sync: { served: 0, badRequests: 0, malformed: 0, failed: 0, requests: 0, requestErrors: 0, blocksFetched: 0 }, dialFailures: 0, refused: 0 };
  }

  /** The libp2p node, for tools and tests that need the raw API. */
  get libp2p(): Libp2p<Services> {
    if (this.node === null) throw new P2PError({ code: 'P2P_NOT_STARTED' }, 'the P2P network is not started');
    return this.node;
  }

  get peerId(): string {
    return this.libp2p.peerId.toString();
  }

  /** Addresses others can dial, each ending in /p2p/<peer id>. */
  listenAddrs(): string[] {
    return this.libp2p.getMultiaddrs().map((a) => a.toString());
  }

  async start(): Promise<void> {
    if (this.node !== null) return;
    const node = await this.createNode();
    this.node = node;
    const pubsub = node.services.pubsub;
    for (const kind of TOPIC_KINDS) {
      pubsub.topicValidators.set(this.topics[kind], (peer, msg) => this.validateGossip(kind, peer.toString(), msg.data));
    }
    pubsub.addEventListener('gossipsub:message', (evt) => this.deliver(evt.detail));
    await node.handle(this.syncProtocol, (stream, connection) => this.serveSync(stream, connection), {
      maxInboundStreams: this.config.sync.inboundStreamsMax,
      maxOutboundStreams: this.config.sync.inboundStreamsMax * 4,
    });
    try {
      await node.start();
    } catch (e: unknown) {
      this.node = null;
      try {
        await node.stop();
      } catch {
        // Already failing: the listen error is the one to report.
      }
      throw new P2PError({ code: 'P2P_LISTEN_FAILED', listen: this.config.listen, reason: reasonOf(e) }, `cannot listen on ${this.config.listen}: ${reasonOf(e)}`);
    }
    for (const kind of TOPIC_KINDS) pubsub.subscribe(this.topics[kind]);
    const bootstrap = this.config.bootstrap.map((addr) => ({ addr, peerId: parseBootstrapAddr(addr).peerId }));
    this.dialer = new BootstrapDialer(this.config.dial, bootstrap.filter((p) => p.peerId !== this.peerId), {
      dial: async (addr, signal) => {
        await node.dial(multiaddr(addr), { signal: AbortSignal.any([signal, AbortSignal.timeout(this.config.dial.timeoutMs)]) });
      },
      isConnected: (peer) => node.getConnections(toPeerId(peer)).length > 0,
      isBanned: (peer) => this.scores.isBanned(peer),
      log: this.log,
    });
    node.addEventListener('peer:disconnect', (evt) => this.dialer?.onDisconnect(evt.detail.toString()));
    this.dialer.start();
    this.log.info({ peerId: this.peerId, listen: this.listenAddrs(), bootstrap: bootstrap.length }, 'P2P network started');
  }

  async stop(): Promise<void> {
    const node = this.node;
    if (node === null) return;
    this.dialer?.stop();
    this.counters.dialFailures += this.dialer?.failures ?? 0;
    this.dialer = null;
    await node.stop();
    this.node = null;
    this.log.info({}, 'P2P network stopped');
  }

  private async createNode(): Promise<Libp2p<Services>> {
    const privateKey = await generateKeyPairFromSeed('Ed25519', this.seed);
    const banned = (peer: PeerId): boolean => {
      if (!this.scores.isBanned(peer.toString())) return false;
      this.counters.refused++;
      return true;
    };
    const largestMessage = Math.max(...TOPIC_KINDS.map((k) => this.config.topicBytesMax[k]));
    return createLibp2p<Services>({
      privateKey,
      start: false,
      addresses: { listen: [this.config.listen] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionManager: { maxConnections: this.config.connectionsMax, dialTimeout: this.config.dial.timeoutMs },
      connectionGater: {
        denyDialPeer: banned,
        denyInboundEncryptedConnection: banned,
        denyOutboundEncryptedConnection: banned,
      },
      services: {
        identify: identify(),
        pubsub: gossipsub({
          // Consensus messages carry their own signatures: no gossipsub envelope signatures, and the
          // message id is the hash of the data.
          globalSignaturePolicy: 'StrictNoSign',
          allowPublishToZeroTopicPeers: true,
          ignoreDuplicatePublishError: true,
          allowedTopics: TOPIC_KINDS.map((k) => topicName(this.chainId, k)),
          fallbackToFloodsub: false,
          doPX: false,
          // One RPC frame may carry a few messages; the per-topic limit is checked per message below.
          maxInboundDataLength: largestMessage + GOSSIP_ENVELOPE_BYTES,
          maxOutboundBufferSize: 4 * (largestMessage + GOSSIP_ENVELOPE_BYTES),
        }),
      },
    });
  }

  private async validateGossip(kind: TopicKind, from: string, data: Uint8Array): Promise<TopicValidatorResult> {
    const counters = this.counters.gossip[kind];
    counters.received++;
    const max = this.config.topicBytesMax[kind];
    if (data.length > max) {
      // Dropped before the node's validator (and so any decoder) sees it.
      counters.oversize++;
      this.penalize(from, 'oversizeMessage');
      return TopicValidatorResult.Reject;
    }
    let verdict: Verdict;
    try {
      verdict = await this.deps.validate(kind, data, from);
    } catch (e: unknown) {
      verdict = isChainError(e) ? 'reject' : 'ignore';
      if (verdict === 'ignore') this.log.error({ topic: kind, err: reasonOf(e) }, 'Gossip validator failed');
    }
    switch (verdict) {
      case 'accept':
        counters.accepted++;
        return TopicValidatorResult.Accept;
      case 'ignore':
        counters.ignored++;
        return TopicValidatorResult.Ignore;
      case 'reject':
        counters.rejected++;
        this.penalize(from, 'invalidMessage');
        return TopicValidatorResult.Reject;
    }
  }

  private deliver(detail: GossipsubMessage): void {
    const kind = this.topicKinds.get(detail.msg.topic);
    if (kind === undefined) return;
    this.inboxes[kind].push({ topic: kind, data: detail.msg.data, from: detail.propagationSource.toString() });
  }

  private async serveSync(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString();
    if (this.scores.isBanned(peer)) {
      stream.abort(new P2PError({ code: 'P2P_PEER_BANNED', peer }));
      return;
    }
    const result = await serveSyncStream(stream, this.deps.blocks, this.config.sync, this.log);
    const sync = this.counters.sync;
    switch (result) {
      case 'served':
        sync.served++;
        return;
      case 'badRequest':
        sync.badRequests++;
        this.penalize(peer, 'malformedStream');
        return;
      case 'malformed':
        sync.malformed++;
        this.penalize(peer, 'malformedStream');
        return;
      case 'failed':
        sync.failed++;
        return;
    }
  }

  /** Accepted messages of one topic waiting for the node (bounded; the oldest is dropped when full). */
  inbox(kind: TopicKind): Inbox {
    return this.inboxes[kind];
  }

  /** Publishes raw bytes on a topic; resolves to the number of peers it was sent to. */
  async publish(kind: TopicKind, data: Uint8Array): Promise<number> {
    const topic = this.topics[kind];
    if ((topic as string | undefined) === undefined) throw new P2PError({ code: 'P2P_UNKNOWN_TOPIC', topic: String(kind) });
    const max = this.config.topicBytesMax[kind];
    if (data.length > max) {
      throw new P2PError({ code: 'P2P_MESSAGE_TOO_LARGE', topic: kind, size: data.length, max }, `${kind} message of ${data.length} bytes exceeds ${max}`);
    }
    const result = await this.libp2p.services.pubsub.publish(topic, data);
    this.counters.gossip[kind].published++;
    return result.recipients.length;
  }

  /** Connected peers' ids. */
  peers(): string[] {
    return this.node === null ? [] : this.node.getPeers().map((p) => p.toString());
  }

  /** Peers subscribed to a topic (a peer that connected is there once it has told us its topics). */
  topicPeers(kind: TopicKind): string[] {
    return this.libp2p.services.pubsub.getSubscribers(this.topics[kind]).map((p) => p.toString());
  }

  /** Dials a multiaddr ending in /p2p/<peer id>; resolves to the peer's id. */
  async connect(addr: string): Promise<string> {
    const { peerId } = parseBootstrapAddr(addr);
    await this.libp2p.dial(multiaddr(addr), { signal: AbortSignal.timeout(this.config.dial.timeoutMs) });
    return peerId;
  }

  /** Closes every connection to the peer. */
  async disconnect(peer: string): Promise<void> {
    if (this.node === null) return;
    try {
      await this.node.hangUp(toPeerId(peer));
    } catch (e: unknown) {
      this.log.debug({ peer, err: reasonOf(e) }, 'Hang-up failed');
    }
  }

  /**
   * Charges a peer for misbehaviour; when its score reaches the ban threshold, disconnects it and
   * refuses it until the ban ends. The consensus engine calls this for a buffered message that
   * turned out invalid; the sync client for a block that failed verification.
   */
  penalize(peer: string, reason: PenaltyReason): PenaltyResult {
    const result = this.scores.penalize(peer, reason);
    if (result.newlyBanned) {
      this.log.warn({ peer, reason, score: result.score }, 'Banned peer');
      void this.disconnect(peer);
    } else {
      this.log.debug({ peer, reason, score: result.score }, 'Penalized peer');
    }
    return result;
  }

  /** The peer's latest height, from a sync status request. */
  async status(peer: string): Promise<number> {
    return (await this.request(peer, { kind: SYNC_KIND.status, fromHeight: 0, count: 0 })).height;
  }

  /**
   * Blocks `fromHeight` … from the peer, with their commits, still encoded: at most `count` (which
   * must not exceed sync.countMax), fewer when the peer has fewer or the answer reaches the byte
   * cap, none for heights it does not have. Checking the commit certificates is the caller's job.
   */
  async fetchBlocks(peer: string, fromHeight: number, count: number): Promise<BlockPair[]> {
    if (!Number.isSafeInteger(fromHeight) || fromHeight < 1 || fromHeight > 0xffff_ffff) {
      throw new P2PError({ code: 'P2P_BAD_REQUEST', reason: `fromHeight must be a height from 1, got ${fromHeight}` });
    }
    if (!Number.isSafeInteger(count) || count < 1 || count > this.config.sync.countMax) {
      throw new P2PError({ code: 'P2P_BAD_REQUEST', reason: `count must be from 1 to ${this.config.sync.countMax}, got ${count}` });
    }
    const answer = await this.request(peer, { kind: SYNC_KIND.blocks, fromHeight, count });
    this.counters.sync.blocksFetched += answer.pairs.length;
    return answer.pairs;
  }

  /** One sync request; a protocol violation or a timeout costs the peer points. */
  private async request(peer: string, request: SyncRequest): Promise<SyncAnswer> {
    const node = this.libp2p;
    const id = toPeerId(peer);
    const signal = AbortSignal.timeout(this.config.sync.requestTimeoutMs);
    this.counters.sync.requests++;
    try {
      let stream: Stream;
      try {
        stream = await node.dialProtocol(id, this.syncProtocol, { signal });
      } catch (e: unknown) {
        throw requestError(e, peer, this.config.sync, signal);
      }
      return await requestSyncStream(stream, request, this.config.sync, peer, signal);
    } catch (e: unknown) {
      this.counters.sync.requestErrors++;
      if (e instanceof P2PError) {
        if (e.code === 'P2P_BAD_RESPONSE' || e.code === 'P2P_RESPONSE_TOO_LARGE') this.penalize(peer, 'badResponse');
        if (e.code === 'P2P_TIMEOUT') this.penalize(peer, 'timeout');
      }
      throw e;
    }
  }

  /** A snapshot of the counters. */
  metrics(): P2PMetrics {
    const gossip = {} as Record<TopicKind, TopicCounters>;
    for (const kind of TOPIC_KINDS) gossip[kind] = { ...this.counters.gossip[kind], inboxDropped: this.inboxes[kind].dropped };
    return {
      gossip,
      sync: { ...this.counters.sync },
      peers: {
        connected: this.peers().length,
        tracked: this.scores.size,
        banned: this.scores.banned().length,
        bansTotal: this.scores.bans,
        evicted: this.scores.evicted,
        dialFailures: this.counters.dialFailures + (this.dialer?.failures ?? 0),
        refused: this.counters.refused,
      },
    };
  }
}

export type { InboundMessage };
