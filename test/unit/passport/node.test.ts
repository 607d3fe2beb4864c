/**
 * Passports through a real node's path: transactions enter the mempool, the block executor builds
 * and commits blocks (buildBlockTxs, the proposer's side, then the store), and the SDK client reads
 * the passport, offer, licence and licence check over the RPC (fastify inject as its fetch).
 */
import t from 'tap';
import { ONE_TAG, addressToString } from '../../../lib/index.ts';
import { buildServer } from '../../../rpc/index.ts';
import { signTx, type TxBody } from '../../../runtime/index.ts';
import {
  ClientError,
  TaggerClient,
  buildLicenceBuy,
  buildLicenceOffer,
  buildPassportRegister,
  offerTermsFrom,
  passportSpecFrom,
} from '../../../sdk/index.ts';
import { createRpcDeps } from '../../../node/rpcDeps.ts';
import { openTestChain } from '../../utils/chain.ts';
import { GENESIS_TIME_MS, TEST_CHAIN_ID, fixedKey, makeGenesis, type Key } from '../../utils/factories.ts';

const alice = fixedKey(1);
const bob = fixedKey(2);
const genesis = makeGenesis([alice, bob], { balance: 10_000n * ONE_TAG });

t.test('register, offer, buy and check through the mempool, the block executor and the SDK client', async (t) => {
  const chain = await openTestChain(t.testdir(), genesis);
  const deps = createRpcDeps({ chainId: genesis.chainId, nodeId: 'n', store: chain.store, mempool: chain.mempool, validatorAddress: null, syncing: () => false });
  const app = await buildServer(deps, { logger: false });
  t.teardown(async () => {
    await app.close();
    await chain.store.close();
  });
  const client = new TaggerClient({
    url: 'http://node.test',
    fetch: async (input) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      const res = await app.inject({ method: 'GET', url: url.pathname + url.search });
      return new Response(res.body, { status: res.statusCode, headers: { 'content-type': 'application/json' } });
    },
  });
  let height = 0;
  const block = async (): Promise<void> => {
    height++;
    const { blockHash } = await chain.executor.buildProposal(height, 0, GENESIS_TIME_MS + BigInt(height) * 1000n);
    await chain.executor.commitBlock(height, blockHash, { height, round: 0, blockHash, signatures: [] });
  };
  const send = (from: Key, body: TxBody): void => {
    const nonce = deps.account(from.address).pendingNonce;
    chain.mempool.add(signTx({ chainId: TEST_CHAIN_ID, sender: from.publicKey, nonce, maxFee: ONE_TAG, body }, from.secretKey).bytes);
  };

  const spec = passportSpecFrom({ schema: 'text/sentiment', consentBasis: 'licensed-corpus', metadata: 'reviews' });
  send(alice, buildPassportRegister(new Uint8Array(32).fill(3), 500, spec));
  send(alice, buildLicenceOffer(1, offerTermsFrom({ price: '2', uses: ['train'], durationBlocks: 50 })));
  await block();
  const p = await client.passport(1);
  t.equal(p.owner, addressToString(alice.address));
  t.equal(p.latest.recordCount, 500);
  t.equal((await client.offer(1)).price, (2n * ONE_TAG).toString());

  const before = (await client.account(alice.address)).balance;
  send(bob, buildLicenceBuy(1, 2n * ONE_TAG));
  await block();
  const check = await client.licenceCheck(1, bob.address);
  t.equal(check.licensed, true, 'bob is licensed');
  t.equal(check.licences[0]?.expiresAt, height + 50);
  t.equal(BigInt((await client.account(alice.address)).balance) - BigInt(before), 2n * ONE_TAG, 'no contributors: the owner got the whole price');
  t.same((await client.licencesByHolder(bob.address)).licences.map((l) => l.id), [1]);
  t.same((await client.passportsByOwner(alice.address)).passports.map((x) => x.id), [1]);
  t.equal((await client.licenceCheck(1, alice.address)).licensed, false);
  const missing = await client.passport(9).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(missing instanceof ClientError && missing.code === 'PASSPORT_NOT_FOUND' && missing.type.httpStatus === 404, 'PASSPORT_NOT_FOUND, 404');
});
