/** Merkle proofs of state against the latest committed state root (docs/spec/state-tree.md). */
import type { FastifyPluginAsync } from 'fastify';
import { addressFromString, hexToBytes } from '../../lib/index.ts';
import { accountKey } from '../../state/index.ts';
import { ADDRESS_PARAM, ERROR_REPLIES, STATE_KEY_PARAM, ref } from '../schemas.ts';
import { hex, proofToJson, type StateProofReplyJson } from '../views.ts';
import type { RoutesOpts } from './status.ts';

export const stateRoutes: FastifyPluginAsync<RoutesOpts> = async (app, { deps }) => {
  function prove(key: Uint8Array): StateProofReplyJson {
    const { height, stateRoot, proof } = deps.proveState(key);
    return { height, stateRoot: hex(stateRoot), proof: proofToJson(proof) };
  }

  app.get<{ Querystring: { key: string } }>(
    '/v1/state/proof',
    {
      schema: {
        tags: ['state'],
        summary: 'Inclusion or exclusion proof of a raw state key',
        querystring: { type: 'object', additionalProperties: false, required: ['key'], properties: { key: STATE_KEY_PARAM } },
        response: { 200: ref('StateProofReply'), ...ERROR_REPLIES },
      },
    },
    async (req): Promise<StateProofReplyJson> => prove(hexToBytes(req.query.key)),
  );

  app.get<{ Params: { address: string } }>(
    '/v1/state/proof/account/:address',
    {
      schema: {
        tags: ['state'],
        summary: "Proof of an account's state entry (key 0x01 ‖ address)",
        params: { type: 'object', additionalProperties: false, required: ['address'], properties: { address: ADDRESS_PARAM } },
        response: { 200: ref('StateProofReply'), ...ERROR_REPLIES },
      },
    },
    async (req): Promise<StateProofReplyJson> => prove(accountKey(addressFromString(req.params.address))),
  );
};
