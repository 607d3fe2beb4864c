/**
 * The node's public HTTP API: builds a fastify instance with every route, the error mapping and
 * the OpenAPI document, but never listens (the node calls `.listen`; tests call `.inject`).
 * Endpoints and encodings: docs/rpc.md. Everything the routes read comes through `RpcDeps`.
 */
import { LogController, fastify, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import type { RpcDeps } from './deps.ts';
import { RpcError, resolveError, type ErrorResolution } from './errors.ts';
import { SHARED_SCHEMAS } from './schemas.ts';
import { LABELLING_SCHEMAS } from './labellingSchemas.ts';
import { STAKING_SCHEMAS } from './stakingSchemas.ts';
import { PASSPORT_SCHEMAS } from './passportSchemas.ts';
import { BRIDGE_SCHEMAS } from './bridgeSchemas.ts';
import { accountRoutes } from './routes/accounts.ts';
import { queryRoutes } from './routes/queries.ts';
import { blockRoutes } from './routes/blocks.ts';
import { labellingRoutes } from './routes/labelling.ts';
import { stakingRoutes } from './routes/staking.ts';
import { passportRoutes } from './routes/passports.ts';
import { bridgeRoutes } from './routes/bridge.ts';
import { openApiRoutes } from './routes/openapi.ts';
import { stateRoutes } from './routes/state.ts';
import { statusRoutes } from './routes/status.ts';
import { txRoutes } from './routes/txs.ts';
import { streamRoutes, STREAM_DEFAULTS, type StreamOpts } from './routes/stream.ts';
import { EVENT_LOG_DEFAULTS, EventLog } from './eventLog.ts';
import { registerCors, registerRateLimit, type RateLimitOpts } from './protection.ts';
import { READY_MAX_AGE_MS_DEFAULT } from './health.ts';

export type RpcOpts = {
  /** A pino logger (fastify's base logger type) for request errors and server faults; false for none. */
  logger: FastifyBaseLogger | false;
  /** Largest request body; larger ones get 413 RPC_BODY_TOO_LARGE. Default 1 MiB. */
  bodyLimitBytes?: number;
  /** Longest time to receive a whole request. Default 30 s. */
  requestTimeoutMs?: number;
  /** Open client connections at most (event streams included); past it new ones are closed at once. Default 1,024. */
  connectionsMax?: number;
  /** Per-client request limit; absent or null: none. */
  rateLimit?: RateLimitOpts | null;
  /** Origins allowed cross-origin reads (`*` for any); absent or empty: CORS off. */
  corsOrigins?: readonly string[];
  /** Take the client address from X-Forwarded-For (behind a reverse proxy), for rate limits. */
  trustProxy?: boolean;
  /** `/ready` fails when the latest block is older than this. Default 60 s. */
  readyMaxAgeMs?: number;
  /** The clock `/ready` compares block times with (tests). Default Date.now. */
  nowMs?: () => number;
  /** The event stream's shared log and limits; absent: an empty log that nothing feeds. */
  stream?: Partial<StreamOpts> & { log: EventLog };
};

export const RPC_BODY_LIMIT_BYTES_DEFAULT = 1024 * 1024;
export const RPC_REQUEST_TIMEOUT_MS_DEFAULT = 30_000;
export const RPC_CONNECTIONS_MAX_DEFAULT = 1024;
/** Version of this API's document (`info.version` in /openapi.json); paths carry the major (`/v1`). */
export const RPC_API_VERSION = '1.0.0';

export async function buildServer(deps: RpcDeps, opts: RpcOpts): Promise<FastifyInstance> {
  const bodyLimitBytes = opts.bodyLimitBytes ?? RPC_BODY_LIMIT_BYTES_DEFAULT;

  function sendError(resolved: ErrorResolution, e: unknown, req: FastifyRequest, reply: FastifyReply): void {
    if (resolved.serverFault) req.log.error({ err: e, url: req.url }, 'RPC request failed');
    else req.log.debug({ code: resolved.reply.error.code, url: req.url }, 'RPC request rejected');
    if (resolved.status === 503) void reply.header('retry-after', '1');
    void reply.code(resolved.status).send(resolved.reply);
  }

  function handleError(e: unknown, req: FastifyRequest, reply: FastifyReply): void {
    const contentType = req.headers['content-type'] ?? '';
    sendError(resolveError(e, { requestId: req.id, contentType, bodyLimitBytes }), e, req, reply);
  }

  const app = fastify({
    ...(opts.logger === false ? { logger: false } : { loggerInstance: opts.logger }),
    bodyLimit: bodyLimitBytes,
    requestTimeout: opts.requestTimeoutMs ?? RPC_REQUEST_TIMEOUT_MS_DEFAULT,
    // Fastify's two info lines per request would swamp the node's log under load: requests are
    // logged at debug level below, failures at error level.
    logController: new LogController({ disableRequestLogging: true }),
    // Reject unknown body fields instead of silently dropping them.
    ajv: { customOptions: { removeAdditional: false } },
    // Malformed URLs and the like, found before routing, get the same error body as the rest.
    frameworkErrors: handleError,
    trustProxy: opts.trustProxy ?? false,
  });
  // Node's own bound: a connection past it is destroyed on accept, before any parsing.
  app.server.maxConnections = opts.connectionsMax ?? RPC_CONNECTIONS_MAX_DEFAULT;

  // Bodies are JSON or raw bytes (POST /v1/txs); anything else is 415.
  app.removeContentTypeParser('text/plain');
  for (const schema of [...SHARED_SCHEMAS, ...LABELLING_SCHEMAS, ...STAKING_SCHEMAS, ...PASSPORT_SCHEMAS, ...BRIDGE_SCHEMAS]) app.addSchema(schema);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Tagger chain RPC',
        version: RPC_API_VERSION,
        description: 'Public HTTP API of a Tagger chain node. See docs/rpc.md for encodings, errors and limits.',
      },
      tags: [
        { name: 'status', description: 'liveness and chain status' },
        { name: 'txs', description: 'submit and look up transactions' },
        { name: 'accounts', description: 'account balances and nonces' },
        { name: 'blocks', description: 'committed blocks and commit certificates' },
        { name: 'state', description: 'Merkle proofs of state' },
        { name: 'labelling', description: 'labelling tasks, items, rounds, assignments and annotators' },
        { name: 'staking', description: 'validators, the consensus set, delegations and unbonding' },
        { name: 'passports', description: 'Data Passports, versions, contributors, licence offers and licences' },
        { name: 'bridge', description: 'the BNB Chain bridge: deposits, withdrawals and their proofs, checkpoints' },
        { name: 'stream', description: 'server-sent events of blocks, transactions and events' },
        { name: 'meta', description: 'this document' },
      ],
    },
    // Shared schemas appear under components.schemas by their $id.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });

  app.addHook('onResponse', async (req, reply) => {
    req.log.debug({ method: req.method, url: req.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'RPC request');
  });
  app.setErrorHandler((e, req, reply) => handleError(e, req, reply));
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]?.slice(0, 200) ?? '';
    const e = new RpcError({ code: 'RPC_NOT_FOUND', method: req.method, path }, `no route ${req.method} ${path}`);
    handleError(e, req, reply);
  });

  // Before the routes: the limiter and CORS hooks apply to routes registered after them.
  if (opts.rateLimit !== undefined && opts.rateLimit !== null) await registerRateLimit(app, opts.rateLimit);
  await registerCors(app, opts.corsOrigins ?? []);

  await app.register(statusRoutes, { deps, readyMaxAgeMs: opts.readyMaxAgeMs ?? READY_MAX_AGE_MS_DEFAULT, nowMs: opts.nowMs ?? Date.now });
  await app.register(txRoutes, { deps });
  await app.register(accountRoutes, { deps });
  await app.register(blockRoutes, { deps });
  await app.register(queryRoutes, { deps });
  await app.register(stateRoutes, { deps });
  await app.register(labellingRoutes, { deps });
  await app.register(stakingRoutes, { deps });
  await app.register(passportRoutes, { deps });
  await app.register(bridgeRoutes, { deps });
  const stream: StreamOpts = { ...STREAM_DEFAULTS, log: new EventLog(EVENT_LOG_DEFAULTS, 0), ...opts.stream };
  await app.register(streamRoutes, { stream });
  await app.register(openApiRoutes);
  return app;
}
