/**
 * Queries answered from the indexes the node writes in each block's own batch (docs/rpc.md
 * §Queries): an account's transactions, events by type / account / task / passport over a height
 * range, and blocks by height range. Every page is bounded; a cursor resumes where a page ended.
 *
 *   GET /v1/accounts/:address/txs   newest first; cursor = "height.index" of the last one seen
 *   GET /v1/events                  oldest first; cursor = "height.seq" of the last one examined
 *   GET /v1/blocks                  ascending; next page from `nextFromHeight`
 */
import type { FastifyPluginAsync } from 'fastify';
import { U32_MAX, addressFromString, addressToString } from '../../lib/index.ts';
import { RECEIPT_STATUS } from '../../runtime/index.ts';
import type { IndexCursor } from '../../state/index.ts';
import { RpcError } from '../errors.ts';
import { ADDRESS_PARAM, ERROR_REPLIES, HEIGHT_PARAM, ref } from '../schemas.ts';
import { hex, headerToJson, type EventJson, type HeaderJson } from '../views.ts';
import type { RoutesOpts } from './status.ts';

/** Page sizes at most; the defaults when `limit` is absent. */
export const QUERY_PAGE_MAX = 100;
const QUERY_PAGE_DEFAULT = 20;

const CURSOR_PARAM = { type: 'string', pattern: '^(0|[1-9][0-9]{0,9})\\.(0|[1-9][0-9]{0,9})$', description: '"height.position" from a previous page' } as const;
const LIMIT = { type: 'string', pattern: '^([1-9]|[1-9][0-9]|100)$', description: `page size, 1 to ${QUERY_PAGE_MAX} (default ${QUERY_PAGE_DEFAULT})` } as const;
/** Event types and ids as the runtime writes them: short, plain. */
const TYPE_PARAM = { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$', description: 'event type, e.g. transfer, labels_revealed, validator_slashed' } as const;
const ID_PARAM = { type: 'string', pattern: '^(0|[1-9][0-9]{0,9})$' } as const;

export type AccountTxJson = { hash: string; height: number; index: number; kind: string; status: 'ok' | 'failed'; code: string };
export type AccountTxsPageJson = { address: string; txs: AccountTxJson[]; nextCursor: string | null };
export type IndexedEventJson = EventJson & { height: number; seq: number; tx: number | null };
export type EventsPageJson = { fromHeight: number; toHeight: number; events: IndexedEventJson[]; nextCursor: string | null };
export type BlockSummaryJson = { height: number; hash: string; header: HeaderJson; txCount: number };
export type BlocksPageJson = { blocks: BlockSummaryJson[]; nextFromHeight: number | null };

function invalid(name: string, message: string): RpcError {
  return new RpcError({ code: 'RPC_INVALID_REQUEST', part: 'querystring', issues: [{ path: `/${name}`, message }] }, `invalid querystring: ${name} ${message}`);
}

function u32(text: string | undefined, name: string): number | null {
  if (text === undefined) return null;
  const n = Number(text);
  if (n > U32_MAX) throw invalid(name, `must be <= ${U32_MAX}`);
  return n;
}

function cursorOf(text: string | undefined): IndexCursor | null {
  if (text === undefined) return null;
  const [height, seq] = text.split('.').map(Number) as [number, number];
  if (height > U32_MAX || seq > U32_MAX) throw invalid('cursor', `parts must be <= ${U32_MAX}`);
  return { height, seq };
}

const cursorText = (c: IndexCursor): string => `${c.height}.${c.seq}`;

export const queryRoutes: FastifyPluginAsync<RoutesOpts> = async (app, { deps }) => {
  app.get<{ Params: { address: string }; Querystring: { cursor?: string; limit?: string } }>(
    '/v1/accounts/:address/txs',
    {
      schema: {
        tags: ['accounts'],
        summary: `An account's committed transactions (sent, received or otherwise involving it), newest first; at most ${QUERY_PAGE_MAX} a page`,
        params: { type: 'object', additionalProperties: false, required: ['address'], properties: { address: ADDRESS_PARAM } },
        querystring: { type: 'object', additionalProperties: false, properties: { cursor: CURSOR_PARAM, limit: LIMIT } },
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['address', 'txs', 'nextCursor'],
            properties: {
              address: { type: 'string' },
              txs: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['hash', 'height', 'index', 'kind', 'status', 'code'],
                  properties: { hash: { type: 'string' }, height: { type: 'integer' }, index: { type: 'integer' }, kind: { type: 'string' }, status: { type: 'string', enum: ['ok', 'failed'] }, code: { type: 'string' } },
                },
              },
              nextCursor: { type: ['string', 'null'] },
            },
          },
          ...ERROR_REPLIES,
        },
      },
    },
    async (req): Promise<AccountTxsPageJson> => {
      const address = addressFromString(req.params.address);
      const limit = u32(req.query.limit, 'limit') ?? QUERY_PAGE_DEFAULT;
      const hits = await deps.accountTxs(address, cursorOf(req.query.cursor), limit);
      const txs: AccountTxJson[] = [];
      for (const hit of hits) {
        const view = await deps.tx(hit.hash);
        if (view === undefined) continue; // pruned between the index read and this one
        const failed = view.receipt.status !== RECEIPT_STATUS.ok;
        txs.push({ hash: hex(hit.hash), height: hit.height, index: hit.index, kind: view.tx.tx.body.kind, status: failed ? 'failed' : 'ok', code: view.receipt.code });
      }
      const last = hits.at(-1);
      return { address: addressToString(address), txs, nextCursor: hits.length === limit && last !== undefined ? cursorText({ height: last.height, seq: last.index }) : null };
    },
  );

  app.get<{ Querystring: { type?: string; account?: string; task?: string; passport?: string; fromHeight?: string; toHeight?: string; cursor?: string; limit?: string } }>(
    '/v1/events',
    {
      schema: {
        tags: ['blocks'],
        summary: 'Events of committed blocks, oldest first, by type and at most one of account, task or passport, over a height range',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { type: TYPE_PARAM, account: ADDRESS_PARAM, task: ID_PARAM, passport: ID_PARAM, fromHeight: HEIGHT_PARAM, toHeight: HEIGHT_PARAM, cursor: CURSOR_PARAM, limit: LIMIT },
        },
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['fromHeight', 'toHeight', 'events', 'nextCursor'],
            properties: {
              fromHeight: { type: 'integer' },
              toHeight: { type: 'integer' },
              events: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['height', 'seq', 'tx', 'type', 'attributes'],
                  properties: { height: { type: 'integer' }, seq: { type: 'integer' }, tx: { type: ['integer', 'null'] }, type: { type: 'string' }, attributes: { type: 'object', additionalProperties: { type: 'string' } } },
                },
              },
              nextCursor: { type: ['string', 'null'] },
            },
          },
          ...ERROR_REPLIES,
        },
      },
    },
    async (req): Promise<EventsPageJson> => {
      const q = req.query;
      const keyed = [q.account === undefined ? null : `account:${addressToString(addressFromString(q.account))}`, q.task === undefined ? null : `task:${u32(q.task, 'task')}`, q.passport === undefined ? null : `passport:${u32(q.passport, 'passport')}`].filter((x) => x !== null);
      if (keyed.length > 1) throw invalid('account', 'at most one of account, task and passport');
      const type = q.type ?? null;
      const term = keyed[0] ?? (type === null ? null : `type:${type}`);
      const latest = deps.status().height;
      const fromHeight = Math.max(1, u32(q.fromHeight, 'fromHeight') ?? 1);
      const toHeight = Math.min(latest, u32(q.toHeight, 'toHeight') ?? latest);
      const limit = u32(q.limit, 'limit') ?? QUERY_PAGE_DEFAULT;
      if (fromHeight > toHeight) return { fromHeight, toHeight, events: [], nextCursor: null };
      const { hits, next } = await deps.events({ term, type, fromHeight, toHeight, after: cursorOf(q.cursor), limit });
      const events = hits.map((h) => ({ height: h.height, seq: h.seq, tx: h.event.tx < 0 ? null : h.event.tx, type: h.event.type, attributes: Object.fromEntries(h.event.attributes) }));
      return { fromHeight, toHeight, events, nextCursor: next === null ? null : cursorText(next) };
    },
  );

  app.get<{ Querystring: { fromHeight?: string; toHeight?: string; limit?: string } }>(
    '/v1/blocks',
    {
      schema: {
        tags: ['blocks'],
        summary: `Block headers over a height range, ascending; at most ${QUERY_PAGE_MAX} a page`,
        querystring: { type: 'object', additionalProperties: false, properties: { fromHeight: HEIGHT_PARAM, toHeight: HEIGHT_PARAM, limit: LIMIT } },
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['blocks', 'nextFromHeight'],
            properties: {
              blocks: {
                type: 'array',
                items: { type: 'object', additionalProperties: false, required: ['height', 'hash', 'header', 'txCount'], properties: { height: { type: 'integer' }, hash: { type: 'string' }, header: ref('Header'), txCount: { type: 'integer' } } },
              },
              nextFromHeight: { type: ['integer', 'null'] },
            },
          },
          ...ERROR_REPLIES,
        },
      },
    },
    async (req): Promise<BlocksPageJson> => {
      const latest = deps.status().height;
      const limit = u32(req.query.limit, 'limit') ?? QUERY_PAGE_DEFAULT;
      const fromHeight = Math.max(1, u32(req.query.fromHeight, 'fromHeight') ?? Math.max(1, latest - limit + 1));
      const toHeight = Math.min(latest, u32(req.query.toHeight, 'toHeight') ?? latest, fromHeight + limit - 1);
      const blocks: BlockSummaryJson[] = [];
      for (let h = fromHeight; h <= toHeight; h++) {
        const view = await deps.blockByHeight(h); // PRUNED below the earliest kept height
        if (view === undefined) break;
        blocks.push({ height: h, hash: hex(view.hash), header: headerToJson(view.block.header), txCount: view.block.txs.length });
      }
      const end = Math.min(latest, u32(req.query.toHeight, 'toHeight') ?? latest);
      return { blocks, nextFromHeight: toHeight < end ? toHeight + 1 : null };
    },
  );
};
