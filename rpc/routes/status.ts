/** GET /health and GET /status: is the node up, and where is its chain. */
import type { FastifyPluginAsync } from 'fastify';
import type { RpcDeps } from '../deps.ts';
import { ERROR_REPLIES, ref } from '../schemas.ts';
import { statusToJson, type HealthJson, type StatusJson } from '../views.ts';
import { READY_REPLY_SCHEMA, readiness, type ReadyJson } from '../health.ts';

export type RoutesOpts = { deps: RpcDeps };

export const statusRoutes: FastifyPluginAsync<RoutesOpts & { readyMaxAgeMs: number; nowMs: () => number }> = async (app, { deps, readyMaxAgeMs, nowMs }) => {
  app.get(
    '/health',
    {
      // Probes are not counted against the rate limit.
      config: { rateLimit: false },
      schema: {
        tags: ['status'],
        summary: 'Liveness: 200 while the node runs',
        response: { 200: ref('Health'), ...ERROR_REPLIES },
      },
    },
    async (): Promise<HealthJson> => ({ ok: true }),
  );

  app.get(
    '/ready',
    {
      config: { rateLimit: false },
      schema: {
        tags: ['status'],
        summary: 'Readiness for load balancers: 200 when not syncing and the latest block is recent, else 503 RPC_NOT_READY',
        response: { 200: READY_REPLY_SCHEMA, ...ERROR_REPLIES },
      },
    },
    async (): Promise<ReadyJson> => readiness(deps.status(), nowMs(), readyMaxAgeMs),
  );

  app.get(
    '/status',
    {
      schema: {
        tags: ['status'],
        summary: 'Chain id, latest block, sync state and mempool size',
        response: { 200: ref('Status'), ...ERROR_REPLIES },
      },
    },
    async (): Promise<StatusJson> => statusToJson(deps.status()),
  );
};
