/** Blocks by height, by hash, and the latest, each with its commit certificate. */
import type { FastifyPluginAsync } from 'fastify';
import { U32_MAX, bytesToHex, hexToBytes } from '../../lib/index.ts';
import { decodeSignedTx } from '../../runtime/index.ts';
import type { BlockView } from '../deps.ts';
import { RpcError } from '../errors.ts';
import { ERROR_REPLIES, HASH_PARAM, HEIGHT_PARAM, ref } from '../schemas.ts';
import { blockToJson, eventToJson, type BlockJson, type EventJson } from '../views.ts';
import type { RoutesOpts } from './status.ts';

type FullQuery = { full: boolean };

const FULL_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: { full: { type: 'boolean', default: false, description: 'also return the decoded transactions' } },
} as const;

const REPLIES = { 200: ref('Block'), ...ERROR_REPLIES };

function notFound(height: number | null, hash: string | null): RpcError {
  const what = height === null ? `hash ${hash ?? ''}` : `height ${height}`;
  return new RpcError({ code: 'BLOCK_NOT_FOUND', height, hash }, `no block at ${what}`);
}

export const blockRoutes: FastifyPluginAsync<RoutesOpts> = async (app, { deps }) => {
  function found(view: BlockView | undefined, full: boolean, height: number | null, hash: string | null): BlockJson {
    if (view === undefined) throw notFound(height, hash);
    return blockToJson(view, full, decodeSignedTx);
  }

  app.get<{ Querystring: FullQuery }>(
    '/v1/blocks/latest',
    {
      schema: {
        tags: ['blocks'],
        summary: 'The latest committed block (404 before the first block)',
        querystring: FULL_QUERY,
        response: REPLIES,
      },
    },
    async (req): Promise<BlockJson> => {
      const { height } = deps.status();
      return found(await deps.blockByHeight(height), req.query.full, height, null);
    },
  );

  app.get<{ Params: { height: string }; Querystring: FullQuery }>(
    '/v1/blocks/:height',
    {
      schema: {
        tags: ['blocks'],
        summary: 'A committed block by height',
        params: { type: 'object', additionalProperties: false, required: ['height'], properties: { height: HEIGHT_PARAM } },
        querystring: FULL_QUERY,
        response: REPLIES,
      },
    },
    async (req): Promise<BlockJson> => {
      const height = Number(req.params.height);
      if (height > U32_MAX) {
        const issues = [{ path: '/height', message: `must be <= ${U32_MAX}` }];
        throw new RpcError({ code: 'RPC_INVALID_REQUEST', part: 'params', issues }, `invalid params: height must be <= ${U32_MAX}`);
      }
      return found(await deps.blockByHeight(height), req.query.full, height, null);
    },
  );

  app.get<{ Params: { hash: string }; Querystring: FullQuery }>(
    '/v1/blocks/by-hash/:hash',
    {
      schema: {
        tags: ['blocks'],
        summary: 'A committed block by block hash',
        params: { type: 'object', additionalProperties: false, required: ['hash'], properties: { hash: HASH_PARAM } },
        querystring: FULL_QUERY,
        response: REPLIES,
      },
    },
    async (req): Promise<BlockJson> => {
      const hash = hexToBytes(req.params.hash);
      return found(await deps.blockByHash(hash), req.query.full, null, '0x' + bytesToHex(hash));
    },
  );

  app.get<{ Params: { height: string } }>(
    '/v1/blocks/:height/events',
    {
      schema: {
        tags: ['blocks'],
        summary: "Events of a block's end-of-block work: labelling rounds drawn and closed, tasks started and done, disputes settled, stake released",
        params: { type: 'object', additionalProperties: false, required: ['height'], properties: { height: HEIGHT_PARAM } },
        response: {
          200: { type: 'object', additionalProperties: false, required: ['height', 'events'], properties: { height: { type: 'integer' }, events: { type: 'array', items: ref('Event') } } },
          ...ERROR_REPLIES,
        },
      },
    },
    async (req): Promise<{ height: number; events: EventJson[] }> => {
      const height = Number(req.params.height);
      const events = height > U32_MAX ? undefined : await deps.blockEvents(height);
      if (events === undefined) throw notFound(height, null);
      return { height, events: events.map(eventToJson) };
    },
  );
};
