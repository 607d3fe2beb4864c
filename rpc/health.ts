/**
 * Readiness for load balancers: a node is ready when it is not catching up and its latest block
 * is recent. Liveness (`/health`) needs nothing but a running process.
 */
import type { NodeStatus } from './deps.ts';
import { RpcError } from './errors.ts';

/** Default oldest head a ready node may have. */
export const READY_MAX_AGE_MS_DEFAULT = 60_000;

export type ReadyJson = { ready: true; height: number; headAgeMs: number };

/** The readiness reply, or throws 503 `RPC_NOT_READY` saying why. */
export function readiness(status: NodeStatus, nowMs: number, maxAgeMs: number): ReadyJson {
  const headAgeMs = Math.max(0, nowMs - Number(status.timeMs));
  if (status.syncing || headAgeMs > maxAgeMs) {
    const why = status.syncing ? 'the node is catching up with the network' : `the latest block is ${headAgeMs} ms old (limit ${maxAgeMs} ms)`;
    throw new RpcError({ code: 'RPC_NOT_READY', height: status.height, syncing: status.syncing, headAgeMs, maxAgeMs }, `not ready: ${why}`);
  }
  return { ready: true, height: status.height, headAgeMs };
}

export const READY_REPLY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['ready', 'height', 'headAgeMs'],
  properties: { ready: { type: 'boolean' }, height: { type: 'integer' }, headAgeMs: { type: 'integer' } },
} as const;
