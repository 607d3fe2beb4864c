/**
 * What the node adds for operators and integrators around its RPC: the shared event-stream log fed
 * by commits, the Prometheus metrics, the RPC's protection settings, and the admin listener on
 * 127.0.0.1. Built by node.ts; docs/operators.md §Monitoring.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { BftEngine, type ConsensusEngine } from '../consensus/index.ts';
import { ADMIN_HOST, EventLog, buildAdminServer, type RpcDeps, type RpcOpts } from '../rpc/index.ts';
import type { CommittedBlockInfo } from './blockExecutor.ts';
import type { NodeConfig } from './config.ts';
import { NodeMetrics } from './metrics.ts';
import type { P2PNetwork } from './p2p/index.ts';

export type NodeOpsParts = {
  config: NodeConfig;
  deps: RpcDeps;
  engine: ConsensusEngine;
  network: P2PNetwork | null;
  /** The height committed when the node starts: the stream's log begins after it. */
  startHeight: number;
  log: FastifyBaseLogger;
};

export class NodeOps {
  readonly events: EventLog;
  readonly metrics: NodeMetrics;
  readonly admin: FastifyInstance | null;
  private readonly config: NodeConfig;

  private constructor(config: NodeConfig, events: EventLog, metrics: NodeMetrics, admin: FastifyInstance | null) {
    this.config = config;
    this.events = events;
    this.metrics = metrics;
    this.admin = admin;
  }

  static async create(p: NodeOpsParts): Promise<NodeOps> {
    const rpc = p.config.rpc;
    const events = new EventLog({ entriesMax: rpc.streamLogEntriesMax, bytesMax: rpc.streamLogBytesMax }, p.startHeight);
    const { engine, network } = p;
    const metrics = new NodeMetrics({
      status: () => p.deps.status(),
      round: () => (engine instanceof BftEngine ? engine.state.round : null),
      p2p: () => network?.metrics() ?? null,
      inboxDepth: (kind) => network?.inbox(kind).size ?? null,
      stream: () => events.stats,
      state: () => p.deps.state().reader,
    });
    const admin = p.config.admin.enabled
      ? await buildAdminServer(
          { status: () => p.deps.status(), metrics: () => metrics.render() },
          { logger: p.log.child({ module: 'admin' }), readyMaxAgeMs: rpc.readyMaxAgeMs },
        )
      : null;
    return new NodeOps(p.config, events, metrics, admin);
  }

  /** The public RPC's protection, readiness and stream settings. */
  rpcOpts(): Omit<RpcOpts, 'logger'> {
    const rpc = this.config.rpc;
    return {
      bodyLimitBytes: rpc.bodyLimitBytes,
      connectionsMax: rpc.connectionsMax,
      rateLimit: rpc.rateLimitMax === 0 ? null : { max: rpc.rateLimitMax, windowMs: rpc.rateLimitWindowMs },
      corsOrigins: rpc.corsOrigins,
      trustProxy: rpc.trustProxy,
      readyMaxAgeMs: rpc.readyMaxAgeMs,
      stream: { log: this.events, subscribersMax: rpc.streamSubscribersMax, lagBytesMax: rpc.streamLagBytesMax },
    };
  }

  recordCommit(info: CommittedBlockInfo): void {
    this.metrics.recordCommit(info);
    this.events.appendBlock(info);
  }

  /** Starts the admin listener on 127.0.0.1 (if enabled); resolves to its URL or null. */
  async start(): Promise<string | null> {
    if (this.admin === null) return null;
    await this.admin.listen({ host: ADMIN_HOST, port: this.config.admin.port });
    const address = this.admin.server.address() as AddressInfo;
    return `http://${address.address}:${address.port}`;
  }

  async stop(): Promise<void> {
    await this.admin?.close();
  }
}
