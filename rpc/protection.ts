/**
 * What stands between the public RPC and the internet: per-client rate limits (@fastify/rate-limit)
 * and CORS (@fastify/cors, off unless origins are configured). Body size and page sizes are limited
 * where they are parsed (buildServer's `bodyLimit`, each route's schema). docs/rpc.md §Limits.
 */
import type { FastifyInstance } from 'fastify';
import fastifyCors from '@fastify/cors';
import fastifyRateLimit from '@fastify/rate-limit';
import { RpcError } from './errors.ts';

export type RateLimitOpts = {
  /** Requests a client may make per window; every request counts, whatever its answer. */
  max: number;
  windowMs: number;
  /** Clients remembered at once (an LRU): bounds the limiter's memory. */
  clientsMax?: number;
};

export const RATE_LIMIT_CLIENTS_MAX_DEFAULT = 10_000;

/** Headers a browser client may read across origins: the limiter's, so it can back off. */
const EXPOSED_HEADERS = ['retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'];

/**
 * Rate limits by client address (`request.ip`: the socket's peer, or the forwarded address when
 * the server trusts a proxy). An exceeded limit is 429 `RPC_RATE_LIMITED` with `Retry-After`.
 * Routes with `config: { rateLimit: false }` (health probes) are not counted.
 */
export async function registerRateLimit(app: FastifyInstance, opts: RateLimitOpts): Promise<void> {
  await app.register(fastifyRateLimit, {
    global: true,
    max: opts.max,
    timeWindow: opts.windowMs,
    cache: opts.clientsMax ?? RATE_LIMIT_CLIENTS_MAX_DEFAULT,
    keyGenerator: (req) => req.ip,
    errorResponseBuilder: (_req, ctx) =>
      new RpcError(
        { code: 'RPC_RATE_LIMITED', limit: ctx.max, windowMs: opts.windowMs, retryAfterMs: ctx.ttl },
        `rate limit of ${ctx.max} requests per ${opts.windowMs} ms exceeded; retry after ${ctx.after}`,
      ),
  });
}

/**
 * CORS for the listed origins (`*` for any). Without origins nothing is registered: browsers then
 * refuse cross-origin reads, and preflight requests get 404.
 */
export async function registerCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  await app.register(fastifyCors, {
    origin: origins.includes('*') ? '*' : [...origins],
    methods: ['GET', 'HEAD', 'POST'],
    allowedHeaders: ['content-type', 'last-event-id'],
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  });
}
