/**
 * The operator's HTTP API: Prometheus metrics, liveness, readiness and status. The node serves it
 * from its own fastify instance on 127.0.0.1 only, apart from the public RPC, which has none of
 * these routes but `/health` and `/ready`. Like buildServer, this never listens. docs/operators.md.
 */
import { fastify, LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { NodeStatus } from './deps.ts';
import { RpcError, resolveError } from './errors.ts';
import { READY_MAX_AGE_MS_DEFAULT, readiness, type ReadyJson } from './health.ts';
import { statusToJson, type StatusJson } from './views.ts';

export type AdminDeps = {
  status(): NodeStatus;
  /** The Prometheus exposition text and its content type. */
  metrics(): Promise<{ contentType: string; body: string }>;
};

export type AdminOpts = { logger: FastifyBaseLogger | false; readyMaxAgeMs?: number; nowMs?: () => number };

/** The only address the node binds the admin listener to. */
export const ADMIN_HOST = '127.0.0.1';

export async function buildAdminServer(deps: AdminDeps, opts: AdminOpts): Promise<FastifyInstance> {
  const nowMs = opts.nowMs ?? Date.now;
  const maxAgeMs = opts.readyMaxAgeMs ?? READY_MAX_AGE_MS_DEFAULT;
  const app = fastify({
    ...(opts.logger === false ? { logger: false } : { loggerInstance: opts.logger }),
    bodyLimit: 16 * 1024,
    logController: new LogController({ disableRequestLogging: true }),
  });
  function handleError(e: unknown, req: FastifyRequest, reply: FastifyReply): void {
    const resolved = resolveError(e, { requestId: req.id, contentType: req.headers['content-type'] ?? '', bodyLimitBytes: 16 * 1024 });
    if (resolved.serverFault) req.log.error({ err: e, url: req.url }, 'admin request failed');
    if (resolved.status === 503) void reply.header('retry-after', '1');
    void reply.code(resolved.status).send(resolved.reply);
  }
  app.setErrorHandler((e, req, reply) => handleError(e, req, reply));
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]?.slice(0, 200) ?? '';
    handleError(new RpcError({ code: 'RPC_NOT_FOUND', method: req.method, path }, `no route ${req.method} ${path}`), req, reply);
  });

  app.get('/metrics', async (_req, reply) => {
    const { contentType, body } = await deps.metrics();
    return reply.header('content-type', contentType).send(body);
  });
  app.get('/health', async () => ({ ok: true }));
  app.get('/ready', async (): Promise<ReadyJson> => readiness(deps.status(), nowMs(), maxAgeMs));
  app.get('/status', async (): Promise<StatusJson> => statusToJson(deps.status()));
  return app;
}

/** The node's storage operations the admin listener exposes (docs/operators.md §Disk). */
export type StorageAdminDeps = {
  /** Compacts the database's pruned key ranges. */
  compact(): Promise<{ earliestHeight: number }>;
  /** Writes a state snapshot of the latest block now. */
  snapshot(): Promise<{ height: number; dir: string }>;
};

/**
 * `POST /storage/compact` and `POST /storage/snapshot` on the admin listener (never the public
 * RPC). Each answers when the work is done; a second request while one runs waits for it.
 */
export function registerStorageAdminRoutes(app: FastifyInstance, deps: StorageAdminDeps): void {
  app.post('/storage/compact', async () => {
    const startedMs = Date.now();
    const { earliestHeight } = await deps.compact();
    return { ok: true, earliestHeight, tookMs: Date.now() - startedMs };
  });
  app.post('/storage/snapshot', async () => ({ ok: true, ...(await deps.snapshot()) }));
}
