/**
 * The staking module's read endpoints (docs/rpc.md §Staking): parameters, the validator registry,
 * one validator, the consensus set, and an account's delegations and unbondings, answered from the
 * committed state (`RpcDeps.state()`) with the runtime's own record decoders and reward function.
 * Each handler reads everything in one synchronous turn, so a reply is consistent with the `height`
 * it reports. Every loop is bounded: a page of at most STAKING_PAGE_MAX entries, and at most
 * REGISTRY_SCAN_MAX registry lookups per request.
 *
 * There is no `GET /v1/validators/:address/delegations`: delegations are keyed delegator first
 * (`0x07 ‖ delegator ‖ operator`) and the state reader has point lookups only, so the delegators of
 * a validator cannot be found without scanning every delegation in state.
 */
import type { FastifyPluginAsync } from 'fastify';
import { U32_MAX, addressFromString, addressToString, bytesToHex, equalBytes } from '../../lib/index.ts';
import {
  loadDelegation,
  loadLastValidatorSet,
  loadSigningInfo,
  loadStakingParams,
  loadStakingValidator,
  loadUnbonding,
  loadUnbondingPool,
  loadValidatorByConsensus,
  operatorAt,
  operatorOf,
  stakingEpochOf,
  validatorCount,
  type StakingParams,
  type StakingValidator,
} from '../../runtime/index.ts';
import { DEFAULT_PARAMS, PARAMS_KEY, decodeParams, loadValidatorSet, validatorSetHash, type StateReader, type ValidatorSet } from '../../state/index.ts';
import { RpcError } from '../errors.ts';
import { U32_PARAM, params } from '../labellingSchemas.ts';
import { ADDRESS_PARAM, ERROR_REPLIES, ref } from '../schemas.ts';
import { PAGE_QUERY, REGISTRY_SCAN_MAX, STAKING_PAGE_MAX } from '../stakingSchemas.ts';
import {
  delegationToJson,
  setMemberToJson,
  stakingParamsToJson,
  unbondingEntryToJson,
  validatorToJson,
  type DelegationJson,
  type DelegationsPageJson,
  type SetMemberJson,
  type StakingParamsJson,
  type UnbondingJson,
  type UnbondingsPageJson,
  type ValidatorJson,
  type ValidatorReplyJson,
  type ValidatorSetJson,
  type ValidatorsPageJson,
} from '../stakingViews.ts';
import { hex } from '../views.ts';
import type { RoutesOpts } from './status.ts';

type PageQuery = { cursor: string; limit: string };

/** A decimal u32 from the query (the schema has checked the digits). */
function cursorOf(text: string): number {
  const n = Number(text);
  if (n > U32_MAX) {
    const issues = [{ path: '/cursor', message: `must be <= ${U32_MAX}` }];
    throw new RpcError({ code: 'RPC_INVALID_REQUEST', part: 'querystring', issues }, `invalid querystring: cursor must be <= ${U32_MAX}`);
  }
  return n;
}

/** Powers of the set for the next block, by consensus address (hex). */
function powersOf(set: ValidatorSet): Map<string, bigint> {
  return new Map(set.map((m) => [bytesToHex(m.address), m.power]));
}

function validatorJson(reader: StateReader, v: StakingValidator, powers: Map<string, bigint>, params: StakingParams): ValidatorJson {
  return validatorToJson(v, {
    power: powers.get(bytesToHex(v.consensusAddress)) ?? null,
    selfShares: loadDelegation(reader, v.operator, v.operator)?.shares ?? 0n,
    signing: loadSigningInfo(reader, v.consensusAddress),
    params,
  });
}

/** The validator whose operator or consensus address is `address`. */
function validatorOf(reader: StateReader, address: Uint8Array): StakingValidator {
  const v = loadStakingValidator(reader, address) ?? loadValidatorByConsensus(reader, address);
  if (v === null) {
    const validator = addressToString(address);
    throw new RpcError({ code: 'VALIDATOR_NOT_FOUND', validator }, `no validator with operator or consensus address ${validator}`);
  }
  return v;
}

/**
 * Looks up `visit(operator)` for registry indexes from `cursor`, until `limit` results or
 * REGISTRY_SCAN_MAX lookups; `nextCursor` is the first index not looked at, null past the end.
 */
function scanRegistry<T>(reader: StateReader, cursor: number, limit: number, visit: (operator: Uint8Array) => T | null): { items: T[]; nextCursor: number | null } {
  const total = validatorCount(reader);
  const end = Math.min(total, cursor + REGISTRY_SCAN_MAX);
  const items: T[] = [];
  let i = cursor;
  for (; i < end && items.length < limit; i++) {
    const item = visit(operatorAt(reader, i));
    if (item !== null) items.push(item);
  }
  return { items, nextCursor: i < total ? i : null };
}

function membersJson(reader: StateReader, set: ValidatorSet): SetMemberJson[] {
  return set.map((m) => setMemberToJson(m, operatorOf(reader, m.address)));
}

const ADDRESS_PARAMS = params({ address: { ...ADDRESS_PARAM, description: 'operator or consensus address' } });
const ACCOUNT_PARAMS = params({ address: { ...ADDRESS_PARAM, description: 'delegator address' } });
const VALIDATORS_QUERY = {
  ...PAGE_QUERY,
  properties: { ...PAGE_QUERY.properties, cursor: { ...U32_PARAM, default: '0', description: 'registry index of the first validator' } },
} as const;

export const stakingRoutes: FastifyPluginAsync<RoutesOpts> = async (app, { deps }) => {
  app.get(
    '/v1/staking/params',
    { schema: { tags: ['staking'], summary: 'Staking parameters, the fee schedule and transaction limits', response: { 200: ref('StakingParams'), ...ERROR_REPLIES } } },
    async (): Promise<StakingParamsJson> => {
      const { height, reader } = deps.state();
      const p = loadStakingParams(reader);
      const chain = reader.get(PARAMS_KEY);
      return stakingParamsToJson(height, stakingEpochOf(height + 1, p), p, chain === undefined ? DEFAULT_PARAMS : decodeParams(chain));
    },
  );

  app.get<{ Querystring: PageQuery }>(
    '/v1/validators',
    {
      schema: {
        tags: ['staking'],
        summary: `A page of registered validators in registry order (at most ${STAKING_PAGE_MAX})`,
        querystring: VALIDATORS_QUERY,
        response: { 200: ref('ValidatorsPage'), ...ERROR_REPLIES },
      },
    },
    async (req): Promise<ValidatorsPageJson> => {
      const cursor = cursorOf(req.query.cursor);
      const limit = Number(req.query.limit);
      const { height, reader } = deps.state();
      const p = loadStakingParams(reader);
      const powers = powersOf(loadValidatorSet(reader));
      const total = validatorCount(reader);
      const end = Math.min(total, cursor + limit);
      const validators: ValidatorJson[] = [];
      for (let i = cursor; i < end; i++) {
        const v = loadStakingValidator(reader, operatorAt(reader, i));
        if (v !== null) validators.push(validatorJson(reader, v, powers, p));
      }
      return { height, total, validators, nextCursor: end < total ? end : null };
    },
  );

  app.get<{ Params: { address: string } }>(
    '/v1/validators/:address',
    {
      schema: {
        tags: ['staking'],
        summary: 'A validator by operator or consensus address: stake, commission, status, jail, liveness',
        params: ADDRESS_PARAMS,
        response: { 200: ref('ValidatorReply'), ...ERROR_REPLIES },
      },
    },
    async (req): Promise<ValidatorReplyJson> => {
      const address = addressFromString(req.params.address);
      const { height, reader } = deps.state();
      const v = validatorOf(reader, address);
      return { height, ...validatorJson(reader, v, powersOf(loadValidatorSet(reader)), loadStakingParams(reader)) };
    },
  );

  app.get(
    '/v1/validator-set',
    {
      schema: {
        tags: ['staking'],
        summary: 'The consensus set that validated the latest block (with its header hash) and the set for the next block',
        response: { 200: ref('ValidatorSet'), ...ERROR_REPLIES },
      },
    },
    async (): Promise<ValidatorSetJson> => {
      const { height, reader } = deps.state();
      const last = loadLastValidatorSet(reader);
      const next = loadValidatorSet(reader);
      const lastHash = validatorSetHash(last);
      const nextHash = validatorSetHash(next);
      let totalPower = 0n;
      for (const m of last) totalPower += m.power;
      return {
        height,
        validatorSetHash: hex(lastHash),
        totalPower: totalPower.toString(),
        validators: membersJson(reader, last),
        nextValidatorSetHash: hex(nextHash),
        nextValidators: equalBytes(lastHash, nextHash) ? null : membersJson(reader, next),
      };
    },
  );

  app.get<{ Params: { address: string }; Querystring: PageQuery }>(
    '/v1/accounts/:address/delegations',
    {
      schema: {
        tags: ['staking'],
        summary: `An account's delegations with their worth and pending rewards (looks at most ${REGISTRY_SCAN_MAX} validators per request)`,
        params: ACCOUNT_PARAMS,
        querystring: PAGE_QUERY,
        response: { 200: ref('DelegationsPage'), ...ERROR_REPLIES },
      },
    },
    async (req): Promise<DelegationsPageJson> => {
      const delegator = addressFromString(req.params.address);
      const cursor = cursorOf(req.query.cursor);
      const limit = Number(req.query.limit);
      const { height, reader } = deps.state();
      const page = scanRegistry(reader, cursor, limit, (operator): DelegationJson | null => {
        const d = loadDelegation(reader, delegator, operator);
        const v = d === null ? null : loadStakingValidator(reader, operator);
        return d === null || v === null ? null : delegationToJson(v, d);
      });
      return { height, delegator: addressToString(delegator), delegations: page.items, nextCursor: page.nextCursor };
    },
  );

  app.get<{ Params: { address: string }; Querystring: PageQuery }>(
    '/v1/accounts/:address/unbondings',
    {
      schema: {
        tags: ['staking'],
        summary: `An account's unbonding entries, by validator (looks at most ${REGISTRY_SCAN_MAX} validators per request)`,
        params: ACCOUNT_PARAMS,
        querystring: PAGE_QUERY,
        response: { 200: ref('UnbondingsPage'), ...ERROR_REPLIES },
      },
    },
    async (req): Promise<UnbondingsPageJson> => {
      const delegator = addressFromString(req.params.address);
      const cursor = cursorOf(req.query.cursor);
      const limit = Number(req.query.limit);
      const { height, reader } = deps.state();
      const page = scanRegistry(reader, cursor, limit, (operator): UnbondingJson | null => {
        const entries = loadUnbonding(reader, delegator, operator);
        if (entries.length === 0) return null;
        return { validator: addressToString(operator), entries: entries.map((e) => unbondingEntryToJson(e, loadUnbondingPool(reader, operator, e.epoch))) };
      });
      return { height, delegator: addressToString(delegator), unbondings: page.items, nextCursor: page.nextCursor };
    },
  );
};
