/** GET /health and GET /status: is the node up, and where is its chain. */
import type { FastifyPluginAsync } from 'fastify';
import type { RpcDeps } from '../deps.ts';
import { ERROR_REPLIES, ref } from '../schemas.ts';
import { statusToJson, type HealthJson, type StatusJson } from '../views.ts';

export type RoutesOpts = { deps: RpcDeps };

export const statusRoutes: FastifyPluginAsync<RoutesOpts> = async (app, { deps }) => {
  app.get(
    '/health',
    {
      schema: {
        tags: ['status'],
        summary: 'Liveness: 200 while the node runs',
        response: { 200: ref('Health'), ...ERROR_REPLIES },
      },
    },
    async (): Promise<HealthJson> => ({ ok: true }),
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
