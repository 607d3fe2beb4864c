/**
 * RPC errors and the one table that maps every error code to an HTTP status (fastify's
 * `FST_ERR_*` idea). Every error reply has the body `{ error: { code, message, details } }`; codes
 * are stable, and clients branch on them, never on messages. docs/rpc.md §Errors mirrors this table.
 */
import { ChainError, bytesToHex, isChainError } from '../lib/index.ts';

export type ValidationIssue = { path: string; message: string };

export type RpcErrorType =
  | { code: 'RPC_INVALID_REQUEST'; part: string; issues: ValidationIssue[] }
  | { code: 'RPC_BODY_TOO_LARGE'; limitBytes: number }
  | { code: 'RPC_UNSUPPORTED_MEDIA_TYPE'; contentType: string; supported: string[] }
  | { code: 'RPC_NOT_FOUND'; method: string; path: string }
  | { code: 'RPC_INTERNAL'; requestId: string }
  | { code: 'RPC_RATE_LIMITED'; limit: number; windowMs: number; retryAfterMs: number }
  | { code: 'RPC_NOT_READY'; height: number; syncing: boolean; headAgeMs: number; maxAgeMs: number }
  | { code: 'STREAM_CURSOR_EXPIRED'; cursor: string; oldest: string | null }
  | { code: 'STREAM_CURSOR_AHEAD'; cursor: string; latest: string | null }
  | { code: 'STREAM_TOO_MANY_SUBSCRIBERS'; limit: number }
  | { code: 'PRUNED'; what: 'block' | 'tx' | 'events'; height: number; earliestHeight: number }
  | { code: 'TX_NOT_FOUND'; hash: string }
  | { code: 'BLOCK_NOT_FOUND'; height: number | null; hash: string | null }
  | { code: 'TASK_NOT_FOUND'; task: number }
  | { code: 'ITEM_NOT_FOUND'; task: number; item: number }
  | { code: 'ROUND_NOT_FOUND'; task: number; round: number }
  | { code: 'ASSIGNMENT_NOT_FOUND'; task: number; round: number; annotator: string }
  | { code: 'ANNOTATOR_NOT_FOUND'; annotator: string }
  | { code: 'VALIDATOR_NOT_FOUND'; validator: string }
  | { code: 'PASSPORT_NOT_FOUND'; passport: number }
  | { code: 'PASSPORT_VERSION_NOT_FOUND'; passport: number; version: number }
  | { code: 'OFFER_NOT_FOUND'; offer: number }
  | { code: 'LICENCE_NOT_FOUND'; licence: number }
  | { code: 'BRIDGE_DEPOSIT_NOT_FOUND'; nonce: number }
  | { code: 'BRIDGE_WITHDRAWAL_NOT_FOUND'; nonce: number }
  | { code: 'BRIDGE_CHECKPOINT_NOT_FOUND'; number: number };
export type RpcErrorCode = RpcErrorType['code'];
export class RpcError extends ChainError<RpcErrorType> {}

/** The body of every error reply. */
export type ErrorReply = { error: { code: string; message: string; details: Record<string, unknown> } };

/**
 * Code → HTTP status. A row ending in `*` matches every code with that prefix; the first matching
 * row wins, so exact codes come before the prefixes that would also match them. A ChainError whose
 * code matches no row is a server fault: 500 `RPC_INTERNAL`.
 */
export const ERROR_STATUS_TABLE: ReadonlyArray<readonly [code: string, status: number]> = [
  ['RPC_INVALID_REQUEST', 400],
  ['RPC_BODY_TOO_LARGE', 413],
  ['RPC_UNSUPPORTED_MEDIA_TYPE', 415],
  ['RPC_NOT_FOUND', 404],
  ['RPC_INTERNAL', 500],
  ['RPC_RATE_LIMITED', 429],
  ['RPC_NOT_READY', 503],
  ['STREAM_CURSOR_EXPIRED', 410],
  ['STREAM_CURSOR_AHEAD', 400],
  ['STREAM_TOO_MANY_SUBSCRIBERS', 503],
  ['PRUNED', 410],
  ['TX_NOT_FOUND', 404],
  ['BLOCK_NOT_FOUND', 404],
  ['TASK_NOT_FOUND', 404],
  ['ITEM_NOT_FOUND', 404],
  ['ROUND_NOT_FOUND', 404],
  ['ASSIGNMENT_NOT_FOUND', 404],
  ['ANNOTATOR_NOT_FOUND', 404],
  ['VALIDATOR_NOT_FOUND', 404],
  ['PASSPORT_NOT_FOUND', 404],
  ['PASSPORT_VERSION_NOT_FOUND', 404],
  ['OFFER_NOT_FOUND', 404],
  ['LICENCE_NOT_FOUND', 404],
  ['BRIDGE_DEPOSIT_NOT_FOUND', 404],
  ['BRIDGE_WITHDRAWAL_NOT_FOUND', 404],
  ['BRIDGE_CHECKPOINT_NOT_FOUND', 404],
  ['MEMPOOL_FULL', 503],
  ['MEMPOOL_SENDER_FULL', 503],
  ['MEMPOOL_*', 400],
  ['CODEC_*', 400],
  ['TX_*', 400],
  ['ADDRESS_*', 400],
  ['BYTES_*', 400],
  ['AMOUNT_*', 400],
];

/** The HTTP status for `code`, or undefined if no row of the table matches it. */
export function httpStatusForCode(code: string): number | undefined {
  for (const [pattern, status] of ERROR_STATUS_TABLE) {
    if (pattern.endsWith('*') ? code.startsWith(pattern.slice(0, -1)) : code === pattern) return status;
  }
  return undefined;
}

/** How an error is answered, and whether the server should log it as its own fault. */
export type ErrorResolution = { status: number; reply: ErrorReply; serverFault: boolean };

const SUPPORTED_MEDIA_TYPES = ['application/json', 'application/octet-stream'];

/**
 * Turns anything thrown while serving a request into a reply. Only ChainErrors and fastify's own
 * request errors are described to the client; anything else is `RPC_INTERNAL` with the request id,
 * so that an operator can find it in the logs, and nothing of its message or stack.
 */
export function resolveError(e: unknown, ctx: { requestId: string; contentType: string; bodyLimitBytes: number }): ErrorResolution {
  if (isChainError(e)) {
    const status = httpStatusForCode(e.code);
    if (status !== undefined) {
      const { code, message, details } = e.toJSON();
      return { status, reply: { error: { code, message, details: jsonSafe(details, 0) as Record<string, unknown> } }, serverFault: status >= 500 && !isBackPressure(e.code) };
    }
  } else {
    const fromFastify = fastifyRequestError(e, ctx);
    if (fromFastify !== undefined) return fromFastify;
  }
  return internal(ctx.requestId);
}

/** 5xx codes that say "not now" rather than "the node is broken": not logged as faults. */
const BACK_PRESSURE_CODES = new Set(['MEMPOOL_FULL', 'MEMPOOL_SENDER_FULL', 'RPC_NOT_READY', 'STREAM_TOO_MANY_SUBSCRIBERS']);

function isBackPressure(code: string): boolean {
  return BACK_PRESSURE_CODES.has(code);
}

function internal(requestId: string): ErrorResolution {
  return resolution(new RpcError({ code: 'RPC_INTERNAL', requestId }, 'internal error'), true);
}

function resolution(e: RpcError, serverFault = false): ErrorResolution {
  const { code, message, details } = e.toJSON();
  return { status: httpStatusForCode(code) ?? 500, reply: { error: { code, message, details } }, serverFault };
}

type FastifyLikeError = Error & {
  code?: unknown;
  statusCode?: unknown;
  validation?: unknown;
  validationContext?: unknown;
};

/** fastify's errors about the request itself (validation, body size, media type, JSON syntax). */
function fastifyRequestError(
  e: unknown,
  ctx: { contentType: string; bodyLimitBytes: number },
): ErrorResolution | undefined {
  if (!(e instanceof Error)) return undefined;
  const err = e as FastifyLikeError;
  if (Array.isArray(err.validation)) {
    const part = typeof err.validationContext === 'string' ? err.validationContext : 'request';
    const issues = (err.validation as unknown[]).slice(0, 10).map(toIssue);
    return resolution(new RpcError({ code: 'RPC_INVALID_REQUEST', part, issues }, `invalid ${part}: ${err.message}`));
  }
  if (typeof err.code !== 'string' || !err.code.startsWith('FST_')) return undefined;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return resolution(
        new RpcError({ code: 'RPC_BODY_TOO_LARGE', limitBytes: ctx.bodyLimitBytes }, `request body is larger than ${ctx.bodyLimitBytes} bytes`),
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return resolution(
        new RpcError(
          { code: 'RPC_UNSUPPORTED_MEDIA_TYPE', contentType: ctx.contentType.slice(0, 100), supported: SUPPORTED_MEDIA_TYPES },
          `unsupported content type "${ctx.contentType.slice(0, 100)}"`,
        ),
      );
  }
  // Other fastify errors with a 4xx status are about the request: bad JSON, an empty JSON body, a
  // wrong content length, a malformed URL. Their messages are fixed texts, safe to return.
  const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status >= 400 && status < 500) {
    return resolution(new RpcError({ code: 'RPC_INVALID_REQUEST', part: 'request', issues: [] }, err.message.slice(0, 300)));
  }
  return undefined;
}

function toIssue(v: unknown): ValidationIssue {
  const o = (typeof v === 'object' && v !== null ? v : {}) as { instancePath?: unknown; message?: unknown };
  return {
    path: typeof o.instancePath === 'string' ? o.instancePath : '',
    message: typeof o.message === 'string' ? o.message : 'invalid',
  };
}

/**
 * Error details as plain JSON: bigints as decimal strings, bytes as 0x-hex, bounded depth and size,
 * so that a new error type can never make the error reply itself fail.
 */
export function jsonSafe(value: unknown, depth: number): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return '0x' + bytesToHex(value.subarray(0, 256));
  if (value === null || typeof value !== 'object') {
    return typeof value === 'function' || typeof value === 'symbol' || value === undefined ? null : value;
  }
  if (depth >= 4) return null;
  if (Array.isArray(value)) return value.slice(0, 32).map((item) => jsonSafe(item, depth + 1));
  // fromEntries defines own properties, so even a key named "__proto__" stays a plain key.
  return Object.fromEntries(Object.entries(value).slice(0, 32).map(([k, v]) => [k, jsonSafe(v, depth + 1)]));
}
