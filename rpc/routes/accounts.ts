/**
 * GET /v1/accounts/:address — balance, committed nonce and pending nonce (counting the account's
 * transactions waiting in the mempool); an account never seen is all zero, not 404.
 */
import type { FastifyPluginAsync } from 'fastify';
import { addressFromString } from '../../lib/index.ts';
import { ADDRESS_PARAM, ERROR_REPLIES, ref } from '../schemas.ts';
import { accountToJson, type AccountJson } from '../views.ts';
import type { RoutesOpts } from './status.ts';

export const accountRoutes: FastifyPluginAsync<RoutesOpts> = async (app, { deps }) => {
  app.get<{ Params: { address: string } }>(
    '/v1/accounts/:address',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Balance, next nonce and pending nonce of an account',
        params: { type: 'object', additionalProperties: false, required: ['address'], properties: { address: ADDRESS_PARAM } },
        response: { 200: ref('Account'), ...ERROR_REPLIES },
      },
    },
    async (req): Promise<AccountJson> => {
      const address = addressFromString(req.params.address);
      return accountToJson(address, deps.account(address));
    },
  );
};
