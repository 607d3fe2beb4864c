/**
 * The staking read endpoints over a chain driven by the real runtime (test/unit/staking/harness.ts:
 * blocks applied with applyBlockTxs, commits signed by the set, so that liveness, rewards, epochs and
 * unbonding all run). The server reads that state through `RpcDeps.state()`. A validator is created,
 * delegated to, joins the set at an epoch boundary, earns rewards, is undelegated from, misses blocks,
 * is slashed and jailed; each endpoint's answer is compared with what the runtime's loaders read
 * from the same state. Then paging limits, the registry scan bound, 404s and 400s.
 */
import t from 'tap';
import type { Test } from 'tap';
import { ONE_TAG, addressToString, bytesToHex, compareBytes } from '../../../lib/index.ts';
import {
  REWARD_POOL_ADDRESS,
  loadDelegation,
  loadLastValidatorSet,
  loadSigningInfo,
  loadUnbonding,
  loadUnbondingPool,
  pendingRewards,
  registerValidator,
  saveDelegation,
  saveStakingValidator,
  sharesValue,
  stakingEpochOf,
  type StakingValidator,
} from '../../../runtime/index.ts';
import { MapStateReader, StateView, loadValidatorSet, validatorSetHash, type StateReader } from '../../../state/index.ts';
import type {
  DelegationsPageJson,
  StakingParamsJson,
  UnbondingsPageJson,
  ValidatorReplyJson,
  ValidatorSetJson,
  ValidatorsPageJson,
} from '../../../rpc/index.ts';
import { TaggerClient, ClientError } from '../../../sdk/client.ts';
import { buildClaimRewards, buildDelegate, buildUndelegate, buildValidatorCreate } from '../../../sdk/staking.ts';
import { numberedKey } from '../../utils/chain.ts';
import { StakingChain, TAG, TEST_STAKING_PARAMS } from '../staking/harness.ts';
import { errorOf, serve } from './helpers.ts';

const V0 = numberedKey(9200); // genesis validator: its own operator
const V1 = numberedKey(9201); // genesis validator
const alice = numberedKey(9210); // creates a validator
const aliceConsensus = numberedKey(9211); // alice's node key
const bob = numberedKey(9212); // delegator
const nobody = numberedKey(9213);
const a = (k: { address: Uint8Array }): string => addressToString(k.address);
/** The genesis validators enter the registry in the genesis set's (address) order. */
const [G0, G1] = [V0, V1].sort((x, y) => compareBytes(x.address, y.address)) as [typeof V0, typeof V1];
const V0_INDEX = G0 === V0 ? 0 : 1;

async function setup(t: Test, reader: () => { height: number; reader: StateReader }) {
  const { app } = await serve(t, { state: reader });
  const get = async <T>(url: string): Promise<T> => {
    const res = await app.inject({ url });
    t.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 300)}`);
    return res.json<T>();
  };
  const fail = async (url: string): Promise<[number, string, Record<string, unknown>]> => {
    const res = await app.inject({ url });
    const e = res.statusCode === 200 ? { code: '', details: {} } : errorOf(res);
    return [res.statusCode, e.code, e.details];
  };
  const client = new TaggerClient({
    url: 'http://node.test',
    fetch: async (input) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      const res = await app.inject({ method: 'GET', url: url.pathname + url.search });
      return new Response(res.body, { status: res.statusCode, headers: { 'content-type': 'application/json' } });
    },
  });
  return { app, get, fail, client };
}

function stakingChain(): StakingChain {
  const chain = new StakingChain({ validators: [V0, V1], accounts: [alice, bob] });
  chain.addConsensusKey(aliceConsensus);
  return chain;
}

t.test('validators, the set, delegations and unbondings are what the state holds', async (t) => {
  const chain = stakingChain();
  const { get, fail, client } = await setup(t, () => ({ height: chain.height, reader: chain.state }));
  const ok = (r: { code: string }, what: string): void => void t.equal(r.code, '', what);

  // Before the first block: no staking validators yet; the genesis set is served without operators.
  const empty = await get<ValidatorsPageJson>('/v1/validators');
  t.strictSame(empty, { height: 0, total: 0, validators: [], nextCursor: null });
  const genesisSet = await get<ValidatorSetJson>('/v1/validator-set');
  t.equal(genesisSet.validators.length, 2);
  t.ok(genesisSet.validators.every((m) => m.operator === null && m.power === (100n * TAG).toString()));
  t.equal(genesisSet.nextValidators, null);

  ok(chain.send(alice, buildValidatorCreate({ consensusKey: aliceConsensus.publicKey, selfStake: 50n * TAG, commissionBps: 1_000, moniker: 'alice' })), 'created'); // 1
  ok(chain.send(bob, buildDelegate(alice.address, 20n * TAG)), 'bob → alice'); // 2
  ok(chain.send(bob, buildDelegate(V0.address, 5n * TAG)), 'bob → V0'); // 3

  const unbondedYet = await get<ValidatorReplyJson>(`/v1/validators/${a(alice)}`);
  t.match(unbondedYet, { height: 3, operator: a(alice), consensusAddress: a(aliceConsensus), status: 'unbonded', power: '0', tokens: (70n * TAG).toString() });

  // Height 5 closes epoch 0: the set for block 6 includes alice, the set that validated 5 does not.
  chain.advanceTo(5);
  const boundary = await get<ValidatorSetJson>('/v1/validator-set');
  t.equal(boundary.validatorSetHash, '0x' + bytesToHex(validatorSetHash(loadLastValidatorSet(chain.state))), 'hash of the set that validated block 5');
  t.equal(boundary.nextValidatorSetHash, '0x' + bytesToHex(validatorSetHash(loadValidatorSet(chain.state))), 'hash of the set for block 6');
  t.not(boundary.validatorSetHash, boundary.nextValidatorSetHash, 'the set changed at the boundary');
  t.equal(boundary.validators.length, 2);
  t.equal(boundary.nextValidators?.length, 3);
  const aliceMember = boundary.nextValidators?.find((m) => m.consensusAddress === a(aliceConsensus));
  t.strictSame(aliceMember, { consensusAddress: a(aliceConsensus), operator: a(alice), publicKey: '0x' + bytesToHex(aliceConsensus.publicKey), name: 'alice', power: (70n * TAG).toString() });

  chain.advanceTo(8);
  const set = await get<ValidatorSetJson>('/v1/validator-set');
  t.equal(set.nextValidators, null, 'no change inside the epoch');
  t.equal(set.totalPower, (70n * TAG + 105n * TAG + 100n * TAG).toString());
  t.equal(set.validatorSetHash, '0x' + bytesToHex(validatorSetHash(loadLastValidatorSet(chain.state))));

  // Alice's node stops signing from block 9 on: six misses jail her (window 10, at most 5 missed).
  const absent = { absent: [aliceConsensus] };
  ok(chain.block([chain.tx(alice, buildClaimRewards(alice.address))], absent)[0] ?? { code: '?' }, 'alice claims'); // 9
  chain.block([], absent); // 10: epoch boundary, alice's power becomes 70
  ok(chain.block([chain.tx(bob, buildUndelegate(alice.address, 5n * TAG))], absent)[0] ?? { code: '?' }, 'bob undelegates 5'); // 11
  chain.block([], absent); // 12
  t.equal(loadSigningInfo(chain.state, aliceConsensus.address).missed, 3, 'the misses of blocks 9 to 11 are counted');

  // ── one validator, by either address, against the record ──
  const v = chain.validator(alice);
  const byOperator = await get<ValidatorReplyJson>(`/v1/validators/${a(alice)}`);
  const byConsensus = await get<ValidatorReplyJson>(`/v1/validators/${a(aliceConsensus)}`);
  t.strictSame(byConsensus, byOperator, 'the consensus address finds the same validator');
  const selfShares = loadDelegation(chain.state, alice.address, alice.address)?.shares ?? 0n;
  t.strictSame(byOperator, {
    height: 12,
    operator: a(alice),
    consensusAddress: a(aliceConsensus),
    consensusKey: '0x' + bytesToHex(aliceConsensus.publicKey),
    moniker: 'alice',
    commissionBps: 1_000,
    commissionChangedEpoch: null,
    status: 'bonded',
    tokens: v.tokens.toString(),
    power: (70n * TAG).toString(),
    shares: v.shares.toString(),
    selfStake: sharesValue(v, selfShares).toString(),
    commission: v.commission.toString(),
    jailed: false,
    jailedUntil: null,
    tombstoned: false,
    offence: null,
    missedBlocks: { missed: 3, window: 10, max: 5, since: loadSigningInfo(chain.state, aliceConsensus.address).since },
    index: 2,
  });
  t.equal(v.tokens, 65n * TAG, 'bonded: 50 + 20 − 5');
  t.ok(v.commission > 0n, 'commission accrued since the claim');

  // ── the registry, paged ──
  const all = await get<ValidatorsPageJson>('/v1/validators');
  t.equal(all.total, 3);
  t.strictSame(all.validators.map((x) => x.operator), [a(G0), a(G1), a(alice)], 'registry order: genesis validators, then alice');
  t.strictSame({ height: byOperator.height, ...all.validators[2] }, byOperator, 'the same view as the single-validator route');
  t.equal(all.validators[V0_INDEX]?.tokens, (105n * TAG).toString(), 'V0: 100 genesis + 5 from bob');
  t.equal(all.validators[V0_INDEX]?.consensusAddress, a(V0), 'a genesis validator is its own operator');
  t.equal(all.nextCursor, null);
  const first = await get<ValidatorsPageJson>('/v1/validators?limit=2');
  t.strictSame([first.validators.length, first.nextCursor], [2, 2]);
  const second = await get<ValidatorsPageJson>('/v1/validators?cursor=2&limit=2');
  t.strictSame([second.validators.map((x) => x.moniker), second.nextCursor], [['alice'], null]);
  const past = await get<ValidatorsPageJson>('/v1/validators?cursor=7');
  t.strictSame([past.validators, past.nextCursor, past.total], [[], null, 3]);
  t.strictSame((await client.allValidators()).validators.map((x) => x.operator), [a(G0), a(G1), a(alice)], 'the SDK joins the pages');

  // ── bob's delegations: worth and pending rewards by the F1 index ──
  const dels = await get<DelegationsPageJson>(`/v1/accounts/${a(bob)}/delegations`);
  t.equal(dels.delegator, a(bob));
  t.equal(dels.nextCursor, null);
  const expected = [V0.address, alice.address].map((op) => {
    const val = chain.validator(op);
    const d = loadDelegation(chain.state, bob.address, op);
    if (d === null) throw new Error('no delegation');
    return { validator: addressToString(op), shares: d.shares.toString(), tokens: sharesValue(val, d.shares).toString(), pendingRewards: pendingRewards(val, d).toString() };
  });
  t.strictSame(dels.delegations, expected);
  t.equal(dels.delegations[1]?.tokens, (15n * TAG).toString(), '20 delegated, 5 undelegated');
  t.ok(BigInt(dels.delegations[1]?.pendingRewards ?? '0') > 0n, 'rewards accrued since the undelegation paid the last ones');
  const one = await get<DelegationsPageJson>(`/v1/accounts/${a(bob)}/delegations?limit=1`);
  t.strictSame([one.delegations.map((d) => d.validator), one.nextCursor], [[a(V0)], V0_INDEX + 1], 'the page stops after V0; continue after it');
  const rest = await get<DelegationsPageJson>(`/v1/accounts/${a(bob)}/delegations?cursor=2`);
  t.strictSame([rest.delegations.map((d) => d.validator), rest.nextCursor], [[a(alice)], null]);
  t.strictSame((await client.delegations(bob.address, { cursor: 2 })).delegations, rest.delegations, 'the SDK reads the same');
  const none = await get<DelegationsPageJson>(`/v1/accounts/${a(nobody)}/delegations`);
  t.strictSame([none.delegations, none.nextCursor], [[], null], 'an account without delegations: an empty page');

  // ── bob's unbonding ──
  const unb = await get<UnbondingsPageJson>(`/v1/accounts/${a(bob)}/unbondings`);
  const entry = loadUnbonding(chain.state, bob.address, alice.address)[0];
  t.strictSame(unb.unbondings, [{ validator: a(alice), entries: [{ creationHeight: 11, completionHeight: 11 + TEST_STAKING_PARAMS.unbondingBlocks, initial: (5n * TAG).toString(), balance: (5n * TAG).toString() }] }]);
  t.equal(entry?.completionHeight, 41);

  // ── the sixth miss (block 14's commit, counted in block 15) slashes 1 % and jails; the unbonding
  // created in the offence's epoch shares the slash; block 15 closes epoch 2 without her ──
  chain.block([], absent); // 13
  chain.block([], absent); // 14
  chain.block(); // 15
  const jailed = chain.validator(alice);
  t.equal(jailed.jailed, true, 'jailed by the runtime');
  const view = await get<ValidatorReplyJson>(`/v1/validators/${a(aliceConsensus)}`);
  t.match(view, { height: 15, status: 'jailed', power: '0', jailed: true, jailedUntil: jailed.jailedUntil, tokens: jailed.tokens.toString(), missedBlocks: { missed: 0 } });
  t.ok(jailed.tokens < 65n * TAG, 'slashed');
  const after = await get<ValidatorSetJson>('/v1/validator-set');
  t.ok(after.validators.some((m) => m.operator === a(alice)), 'she validated block 15');
  t.notOk(after.nextValidators?.some((m) => m.operator === a(alice)) ?? true, 'and is out of the set for block 16');
  const slashed = await get<UnbondingsPageJson>(`/v1/accounts/${a(bob)}/unbondings`);
  const pool = loadUnbondingPool(chain.state, alice.address, stakingEpochOf(11, TEST_STAKING_PARAMS));
  const balance = slashed.unbondings[0]?.entries[0]?.balance ?? '';
  t.equal(balance, pool.tokens.toString(), 'the only entry of its pool holds all of it');
  t.equal(BigInt(balance), 5n * TAG - (5n * TAG) / 100n, '1 % of the unbonding was slashed');

  // ── errors ──
  t.strictSame(await fail(`/v1/validators/${a(nobody)}`), [404, 'VALIDATOR_NOT_FOUND', { validator: a(nobody) }]);
  const thrown = await client.validator(nobody.address).then(() => null, (e: unknown) => e);
  t.ok(thrown instanceof ClientError && thrown.code === 'VALIDATOR_NOT_FOUND' && thrown.type.httpStatus === 404, 'the SDK raises the server code');
  const badChecksum = a(nobody).slice(0, -1) + (a(nobody).endsWith('q') ? 'p' : 'q');
  t.equal((await fail(`/v1/validators/${badChecksum}`))[1], 'ADDRESS_INVALID');
  t.equal((await fail(`/v1/validators/${badChecksum}`))[0], 400);
  for (const url of [
    '/v1/validators/0x1234',
    '/v1/accounts/nope/delegations',
    '/v1/accounts/nope/unbondings',
    '/v1/validators?limit=0',
    '/v1/validators?limit=101',
    '/v1/validators?cursor=-1',
    '/v1/validators?cursor=01',
    '/v1/validators?cursor=99999999999',
    '/v1/validators?other=1',
    `/v1/accounts/${a(bob)}/delegations?limit=500`,
    `/v1/accounts/${a(bob)}/unbondings?cursor=x`,
  ]) {
    const [status, code] = await fail(url);
    t.strictSame([status, code], [400, 'RPC_INVALID_REQUEST'], url);
  }
  t.equal((await fail(`/v1/accounts/${badChecksum}/delegations`))[1], 'ADDRESS_INVALID');
});

t.test('staking params are the stored ones', async (t) => {
  const chain = stakingChain();
  chain.advanceTo(7);
  const { get } = await setup(t, () => ({ height: chain.height, reader: chain.state }));
  const p = await get<StakingParamsJson>('/v1/staking/params');
  const s = TEST_STAKING_PARAMS;
  t.strictSame(p, {
    height: 7,
    epoch: 1,
    epochBlocks: s.epochBlocks,
    activeValidatorsMax: s.activeValidatorsMax,
    validatorsMax: s.validatorsMax,
    minSelfStake: s.minSelfStake.toString(),
    unbondingBlocks: s.unbondingBlocks,
    unbondingEntriesMax: s.unbondingEntriesMax,
    commissionMaxBps: s.commissionMaxBps,
    commissionChangeMaxBps: s.commissionChangeMaxBps,
    blockReward: s.blockReward.toString(),
    signedBlocksWindow: s.signedBlocksWindow,
    minSignedBps: s.minSignedBps,
    missedBlocksMax: 5,
    downtimeJailBlocks: s.downtimeJailBlocks,
    slashDowntimeBps: s.slashDowntimeBps,
    slashDoubleSignBps: s.slashDoubleSignBps,
    evidenceMaxAgeBlocks: s.evidenceMaxAgeBlocks,
    evidenceMaxAgeMs: s.evidenceMaxAgeMs.toString(),
    rewardPool: addressToString(REWARD_POOL_ADDRESS),
    fees: { baseFee: chain.genesis.params.baseFee.toString(), perByteFee: chain.genesis.params.perByteFee.toString(), txBytesMax: chain.genesis.params.txBytesMax },
    limits: { monikerBytesMax: 64 },
  });
});

t.test('an account page looks at most 1,000 registry entries per request', async (t) => {
  // A registry of 1,200 validators (more than any test chain creates): bob delegated to #1,100 only.
  const state = new MapStateReader();
  const view = new StateView(state);
  let target: StakingValidator | null = null;
  for (let i = 0; i < 1_200; i++) {
    const operator = Uint8Array.from({ length: 20 }, (_, j) => (j < 4 ? (i >> (8 * j)) & 0xff : 0x77));
    registerValidator(view, operator, operator);
    if (i === 1_100) {
      target = { operator, consensusKey: new Uint8Array(32), consensusAddress: operator, moniker: 'far', commissionBps: 0, commissionChangedEpoch: 0, tokens: 9n * ONE_TAG, shares: 9n * ONE_TAG, rewardIndex: 0n, commission: 0n, jailed: false, jailedUntil: 0, tombstoned: false, offence: [0, 0, 0], index: i };
      saveStakingValidator(view, target);
      saveDelegation(view, bob.address, operator, { shares: 3n * ONE_TAG, rewardIndex: 0n });
    }
  }
  state.apply(view.writes());
  let reads = 0;
  const counting: StateReader = { get: (k) => (reads++, state.get(k)) };
  const { get } = await setup(t, () => ({ height: 1, reader: counting }));

  const page1 = await get<DelegationsPageJson>(`/v1/accounts/${a(bob)}/delegations`);
  t.strictSame([page1.delegations, page1.nextCursor], [[], 1_000], 'nothing in the first 1,000; continue at 1,000');
  t.ok(reads <= 2_100, `one request read ${reads} keys`);
  const page2 = await get<DelegationsPageJson>(`/v1/accounts/${a(bob)}/delegations?cursor=${page1.nextCursor}`);
  t.equal(page2.nextCursor, null);
  t.strictSame(page2.delegations, [{ validator: addressToString(target?.operator ?? new Uint8Array(20)), shares: (3n * ONE_TAG).toString(), tokens: (3n * ONE_TAG).toString(), pendingRewards: '0' }]);
  const unb = await get<UnbondingsPageJson>(`/v1/accounts/${a(bob)}/unbondings?cursor=1100`);
  t.strictSame([unb.unbondings, unb.nextCursor], [[], null]);
  const validators = await get<ValidatorsPageJson>('/v1/validators?cursor=1001');
  t.strictSame([validators.total, validators.validators.length, validators.nextCursor], [1_200, 1, 1_101], 'only #1,100 has a record; the page is 100 indexes');
});
