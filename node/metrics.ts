/**
 * The node's Prometheus metrics (prom-client), in a registry of its own (never the global one).
 * Gauges read the node's live state when scraped; commit-time figures (block interval, transactions
 * per block, labelling rounds closed, slashes) are recorded from each committed block's receipts.
 * prom-client's default metrics add event-loop lag, GC, heap and process figures. Names end in
 * their unit. Reference: docs/operators.md §Metrics; dashboard: docs/grafana-dashboard.json.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ONE_TAG } from '../lib/index.ts';
import { loadBridgeGlobals } from '../runtime/index.ts';
import type { StateReader } from '../state/index.ts';
import type { NodeStatus, StreamStats } from '../rpc/index.ts';
import type { CommittedBlockInfo } from './blockExecutor.ts';
import { TOPIC_KINDS, type P2PMetrics, type TopicKind } from './p2p/index.ts';

export type MetricsSources = {
  status(): NodeStatus;
  /** The BFT engine's current round; null for the single-validator engine. */
  round(): number | null;
  /** null for a node without a network. */
  p2p(): P2PMetrics | null;
  /** Messages waiting in each gossip topic's inbox; null without a network. */
  inboxDepth(kind: TopicKind): number | null;
  stream(): StreamStats;
  /** The committed state, read after each commit for the bridge gauges; absent: they stay unset. */
  state?(): StateReader;
};

/** An amount in TAG as a float: for metrics only, never for state. */
function tagOf(units: bigint): number {
  return Number(units / 10n ** 9n) / Number(ONE_TAG / 10n ** 9n);
}

function attr(attributes: ReadonlyArray<readonly [string, string]>, name: string): bigint {
  const v = attributes.find(([k]) => k === name)?.[1];
  return v !== undefined && /^\d{1,40}$/.test(v) ? BigInt(v) : 0n;
}

/** A counter mirroring a cumulative count kept elsewhere: set to it on each scrape. */
function mirror(counter: Counter<string>, labels: Record<string, string>, value: number): void {
  counter.remove(labels);
  counter.inc(labels, value);
}

export class NodeMetrics {
  readonly registry = new Registry();
  private lastBlockTimeMs: bigint | null = null;
  private readonly blockInterval: Histogram;
  private readonly blockTxs: Histogram;
  private readonly blocks: Counter;
  private readonly txs: Counter;
  private readonly roundsClosed: Counter;
  private readonly itemsFinalized: Counter;
  private readonly slashes: Counter<'kind'>;
  private readonly slashedTag: Counter<'kind'>;
  private readonly src: MetricsSources;
  private readonly bridgeSupply: Gauge;
  private readonly bridgeWithdrawalsPending: Gauge;
  private readonly bridgeLastCheckpoint: Gauge;

  constructor(src: MetricsSources) {
    const registers = [this.registry];
    this.src = src;
    collectDefaultMetrics({ register: this.registry });
    new Gauge({ name: 'tagger_height', help: 'Latest committed block height', registers, collect() { this.set(src.status().height); } });
    new Gauge({ name: 'tagger_earliest_height', help: 'Lowest height whose block the node keeps (pruning; 1 on an archive node)', registers, collect() { this.set(src.status().earliestHeight ?? 1); } });
    new Gauge({ name: 'tagger_syncing', help: '1 while the node is catching up with the network', registers, collect() { this.set(src.status().syncing ? 1 : 0); } });
    new Gauge({
      name: 'tagger_head_age_seconds',
      help: 'Age of the latest committed block (its header time) when scraped',
      registers,
      collect() {
        this.set(Math.max(0, Date.now() - Number(src.status().timeMs)) / 1000);
      },
    });
    new Gauge({
      name: 'tagger_consensus_round',
      help: 'Current consensus round at the current height (BFT engine)',
      registers,
      collect() {
        const round = src.round();
        if (round !== null) this.set(round);
      },
    });
    new Gauge({ name: 'tagger_mempool_txs', help: 'Transactions waiting in the mempool', registers, collect() { this.set(src.status().mempoolTxs); } });
    new Gauge({ name: 'tagger_mempool_bytes', help: 'Bytes of transactions waiting in the mempool', registers, collect() { this.set(src.status().mempoolBytes); } });
    new Gauge({
      name: 'tagger_p2p_peers',
      help: 'Connected peers, and peers currently banned',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const m = src.p2p();
        if (m === null) return;
        this.set({ state: 'connected' }, m.peers.connected);
        this.set({ state: 'banned' }, m.peers.banned);
      },
    });
    new Gauge({
      name: 'tagger_gossip_inbox_depth',
      help: 'Gossip messages waiting in each topic inbox',
      labelNames: ['topic'] as const,
      registers,
      collect() {
        for (const topic of TOPIC_KINDS) {
          const depth = src.inboxDepth(topic);
          if (depth !== null) this.set({ topic }, depth);
        }
      },
    });
    new Counter({
      name: 'tagger_gossip_messages_total',
      help: 'Gossip messages by topic and outcome (received, accepted, ignored, rejected, oversize, published, inbox_dropped)',
      labelNames: ['topic', 'outcome'] as const,
      registers,
      collect() {
        const m = src.p2p();
        if (m === null) return;
        for (const topic of TOPIC_KINDS) {
          const c = m.gossip[topic];
          const outcomes: Array<[string, number]> = [
            ['received', c.received], ['accepted', c.accepted], ['ignored', c.ignored], ['rejected', c.rejected],
            ['oversize', c.oversize], ['published', c.published], ['inbox_dropped', c.inboxDropped],
          ];
          for (const [outcome, value] of outcomes) mirror(this, { topic, outcome }, value);
        }
      },
    });
    new Gauge({ name: 'tagger_stream_subscribers', help: 'Event stream subscribers connected', registers, collect() { this.set(src.stream().subscribers); } });
    new Gauge({ name: 'tagger_stream_log_bytes', help: 'Bytes held by the event stream log', registers, collect() { this.set(src.stream().bytes); } });
    new Counter({
      name: 'tagger_stream_closed_total',
      help: 'Event stream subscribers dropped for falling behind (slow) or refused at the subscriber cap (rejected)',
      labelNames: ['reason'] as const,
      registers,
      collect() {
        const s = src.stream();
        mirror(this, { reason: 'slow' }, s.slowDropped);
        mirror(this, { reason: 'rejected' }, s.rejected);
      },
    });
    this.blockInterval = new Histogram({
      name: 'tagger_block_interval_seconds',
      help: 'Time between consecutive committed blocks (header times)',
      buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60],
      registers,
    });
    this.blockTxs = new Histogram({ name: 'tagger_block_txs', help: 'Transactions per committed block', buckets: [0, 1, 10, 50, 100, 500, 1000, 5000], registers });
    this.blocks = new Counter({ name: 'tagger_blocks_committed_total', help: 'Blocks committed since the node started', registers });
    this.txs = new Counter({ name: 'tagger_txs_committed_total', help: 'Transactions committed since the node started', registers });
    this.roundsClosed = new Counter({ name: 'tagger_label_rounds_closed_total', help: 'Labelling rounds closed (round_closed events)', registers });
    this.itemsFinalized = new Counter({ name: 'tagger_label_items_finalized_total', help: 'Items finalized by closed labelling rounds', registers });
    this.slashes = new Counter({
      name: 'tagger_slashes_total',
      help: 'Slashes: annotator = closed rounds that slashed stake, validator = validator_slashed events',
      labelNames: ['kind'] as const,
      registers,
    });
    this.slashedTag = new Counter({ name: 'tagger_slashed_tag_total', help: 'Stake slashed, in TAG', labelNames: ['kind'] as const, registers });
    for (const kind of ['annotator', 'validator']) {
      this.slashes.inc({ kind }, 0);
      this.slashedTag.inc({ kind }, 0);
    }
    this.bridgeSupply = new Gauge({ name: 'tagger_bridge_supply_bridged', help: 'TAG minted by bridge deposits minus TAG burnt by bridge withdrawals (bridgedSupply), in TAG', registers });
    this.bridgeWithdrawalsPending = new Gauge({ name: 'tagger_bridge_withdrawals_pending', help: 'Bridge withdrawals burnt and not yet in a checkpoint', registers });
    this.bridgeLastCheckpoint = new Gauge({ name: 'tagger_bridge_last_checkpoint', help: 'Number of the latest bridge checkpoint closed on Tagger chain', registers });
  }

  /** The bridge gauges from the committed state's bridge counters. */
  private recordBridge(): void {
    if (this.src.state === undefined) return;
    const g = loadBridgeGlobals(this.src.state());
    this.bridgeSupply.set(tagOf(g.bridgedSupply));
    this.bridgeWithdrawalsPending.set(g.nextWithdrawalNonce - 1 - g.checkpointedNonce);
    this.bridgeLastCheckpoint.set(g.lastCheckpoint);
  }

  /**
   * Records a committed block: interval, transactions, the labelling and slashing events in its
   * receipts, and the bridge gauges from the state it left.
   */
  recordCommit(info: CommittedBlockInfo): void {
    const timeMs = info.block.header.timeMs;
    if (this.lastBlockTimeMs !== null && timeMs >= this.lastBlockTimeMs) this.blockInterval.observe(Number(timeMs - this.lastBlockTimeMs) / 1000);
    this.lastBlockTimeMs = timeMs;
    this.blocks.inc();
    this.txs.inc(info.txs.length);
    this.blockTxs.observe(info.txs.length);
    for (const receipt of info.receipts) {
      for (const e of receipt.events) {
        if (e.type === 'round_closed') {
          this.roundsClosed.inc();
          this.itemsFinalized.inc(Number(attr(e.attributes, 'finalized')));
          const slashed = attr(e.attributes, 'slashed');
          if (slashed > 0n) {
            this.slashes.inc({ kind: 'annotator' });
            this.slashedTag.inc({ kind: 'annotator' }, tagOf(slashed));
          }
        } else if (e.type === 'validator_slashed') {
          this.slashes.inc({ kind: 'validator' });
          this.slashedTag.inc({ kind: 'validator' }, tagOf(attr(e.attributes, 'amount')));
        }
      }
    }
    this.recordBridge();
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
