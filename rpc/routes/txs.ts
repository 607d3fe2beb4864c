/**
 * POST /v1/txs submits a signed transaction; GET /v1/txs/:hash finds it, committed or pending.
 *
 * A transaction is sent as its canonical SignedTx bytes (docs/spec/encoding.md), in one of three
 * bodies: the raw bytes as `application/octet-stream`, or JSON `{ "tx": "0x…" }` or
 * `{ "txBase64": "…" }`. The node decodes and checks it (`RpcDeps.submitTx`); codec, transaction
 * and mempool errors come back with their own codes (see rpc/errors.ts).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { SwaggerTransform } from '@fastify/swagger';
import { bytesToHex, hexToBytes } from '../../lib/index.ts';
import { RpcError } from '../errors.ts';
import { ERROR_REPLIES, HASH_PARAM, ref } from '../schemas.ts';
import { committedTxToJson, submitToJson, type SubmitTxJson, type TxStatusJson } from '../views.ts';
import type { RoutesOpts } from './status.ts';

export type SubmitTxBody = { tx: string } | { txBase64: string };

const BASE64_PATTERN = '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$';

const SUBMIT_JSON_BODY = {
  type: 'object',
  description: 'Exactly one of `tx` (0x-hex) or `txBase64` (standard base64), holding SignedTx bytes.',
  additionalProperties: false,
  oneOf: [{ required: ['tx'] }, { required: ['txBase64'] }],
  properties: {
    tx: { type: 'string', pattern: '^0x(?:[0-9a-fA-F]{2})+$', description: 'SignedTx bytes as 0x-hex' },
    txBase64: { type: 'string', pattern: BASE64_PATTERN, minLength: 4, description: 'SignedTx bytes as base64' },
  },
} as const;

/**
 * Raw bytes are not validated by schema (a Buffer is no JSON type), so the document is given the
 * binary schema here instead of the empty one the validator uses.
 */
const submitDocTransform: SwaggerTransform = ({ schema, url }) => ({
  url,
  schema: {
    ...schema,
    body: {
      content: {
        'application/json': { schema: SUBMIT_JSON_BODY },
        'application/octet-stream': { schema: { type: 'string', format: 'binary', description: 'SignedTx bytes' } },
      },
    },
  },
});

function bodyBytes(body: unknown): Uint8Array {
  // A copy, never a view into a pooled Buffer: the mempool keeps these bytes.
  if (body instanceof Uint8Array) return new Uint8Array(body);
  if (typeof body !== 'object' || body === null) {
    throw new RpcError(
      { code: 'RPC_INVALID_REQUEST', part: 'body', issues: [{ path: '', message: 'a transaction is required' }] },
      'invalid body: a transaction is required',
    );
  }
  // The schema has checked the JSON form: exactly one of the two fields, well formed.
  const json = body as SubmitTxBody;
  if ('tx' in json) return hexToBytes(json.tx);
  return new Uint8Array(Buffer.from(json.txBase64, 'base64'));
}

export const txRoutes: FastifyPluginAsync<RoutesOpts> = async (app, { deps }) => {
  // Raw transaction bytes, within the server's body limit. Scoped to this plugin's routes.
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => {
    done(null, body);
  });

  app.post(
    '/v1/txs',
    {
      schema: {
        tags: ['txs'],
        summary: 'Submit a signed transaction to the mempool',
        body: {
          content: {
            'application/json': { schema: SUBMIT_JSON_BODY },
            'application/octet-stream': { schema: {} },
          },
        },
        response: { 202: ref('SubmitTxReply'), ...ERROR_REPLIES },
      },
      config: { swaggerTransform: submitDocTransform },
    },
    async (req, reply): Promise<SubmitTxJson> => {
      const result = deps.submitTx(bodyBytes(req.body));
      reply.code(202);
      return submitToJson(result);
    },
  );

  app.get<{ Params: { hash: string } }>(
    '/v1/txs/:hash',
    {
      schema: {
        tags: ['txs'],
        summary: 'A transaction by hash: committed with its receipt, or pending in the mempool',
        params: { type: 'object', additionalProperties: false, required: ['hash'], properties: { hash: HASH_PARAM } },
        response: { 200: ref('TxStatus'), ...ERROR_REPLIES },
      },
    },
    async (req): Promise<TxStatusJson> => {
      const hash = hexToBytes(req.params.hash);
      const committed = await deps.tx(hash);
      if (committed !== undefined) return committedTxToJson(committed);
      const hashHex = '0x' + bytesToHex(hash);
      if (deps.isPending(hash)) return { status: 'pending', hash: hashHex };
      throw new RpcError({ code: 'TX_NOT_FOUND', hash: hashHex }, `no transaction ${hashHex}`);
    },
  );
};
