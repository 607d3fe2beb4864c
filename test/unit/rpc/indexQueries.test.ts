/**
 * Queries from the indexes (docs/rpc.md §Queries) over a real store, executor and mempool: an
 * account's transactions newest first with cursor paging (sent and received, failed ones included),
 * events by type, by account and by height range, blocks by height range, the page bounds and bad
 * cursors, and pruning that removes a height's index entries with its block.
 */
import t from 'tap';
import type { Test } from 'tap';
import { ONE_TAG, addressToString, bytesToHex } from '../../../lib/index.ts';
import { signTx, type TxBody } from '../../../runtime/index.ts';
import { buildServer } from '../../../rpc/index.ts';
import { createRpcDeps } from '../../../node/rpcDeps.ts';
import { blockIndex } from '../../../node/indexer.ts';
import { openTestChain } from '../../utils/chain.ts';
import { GENESIS_TIME_MS, TEST_CHAIN_ID, fixedKey, makeGenesis, type Key } from '../../utils/factories.ts';

const alice = fixedKey(1);
const bob = fixedKey(2);
const carol = fixedKey(3);
const genesis = makeGenesis([alice, bob], { balance: 1_000n * ONE_TAG });
const addr = (k: Key): string => addressToString(k.address);

async function setup(t: Test) {
  const chain = await openTestChain(t.testdir(), genesis);
  const deps = createRpcDeps({ chainId: genesis.chainId, nodeId: 'n', store: chain.store, mempool: chain.mempool, validatorAddress: null, syncing: () => false });
  const app = await buildServer(deps, { logger: false });
  t.teardown(async () => {
    await app.close();
    await chain.store.close();
  });
  let height = 0;
  const block = async (): Promise<void> => {
    height++;
    const { blockHash } = await chain.executor.buildProposal(height, 0, GENESIS_TIME_MS + BigInt(height) * 1000n);
    await chain.executor.commitBlock(height, blockHash, { height, round: 0, blockHash, signatures: [] });
  };
  const send = (from: Key, body: TxBody): string => {
    const nonce = deps.account(from.address).pendingNonce;
    const signed = signTx({ chainId: TEST_CHAIN_ID, sender: from.publicKey, nonce, maxFee: ONE_TAG, body }, from.secretKey);
    chain.mempool.add(signed.bytes);
    return '0x' + bytesToHex(signed.hash);
  };
  const get = async <T>(url: string): Promise<{ status: number; body: T }> => {
    const res = await app.inject({ method: 'GET', url });
    return { status: res.statusCode, body: res.json<T>() };
  };
  return { chain, deps, block, send, get };
}

type TxsPage = { txs: Array<{ hash: string; height: number; index: number; kind: string; status: string; code: string }>; nextCursor: string | null };
type EventsPage = { events: Array<{ height: number; seq: number; tx: number | null; type: string; attributes: Record<string, string> }>; nextCursor: string | null; toHeight: number };

t.test("an account's transactions, newest first, paged by cursor; sent, received and failed", async (t) => {
  const { block, send, get } = await setup(t);
  const sent: string[] = [];
  for (let h = 0; h < 5; h++) {
    for (let i = 0; i < 3; i++) sent.push(send(alice, { kind: 'transfer', to: bob.address, amount: ONE_TAG }));
    await block();
  }
  // Failed (more than carol… bob holds): still bob's transaction.
  const failed = send(bob, { kind: 'transfer', to: carol.address, amount: 10_000n * ONE_TAG });
  await block();

  const first = await get<TxsPage>(`/v1/accounts/${addr(bob)}/txs?limit=4`);
  t.equal(first.status, 200);
  t.same(first.body.txs.map((x) => x.hash), [failed, ...sent.slice(-3).reverse()], 'newest first: the failed send, then the last block');
  t.same([first.body.txs[0]?.status, first.body.txs[0]?.code, first.body.txs[0]?.kind], ['failed', 'TX_INSUFFICIENT_BALANCE', 'transfer'], 'a failed one says why');
  const seen = [...first.body.txs.map((x) => x.hash)];
  let cursor = first.body.nextCursor;
  while (cursor !== null) {
    const page = await get<TxsPage>(`/v1/accounts/${addr(bob)}/txs?limit=4&cursor=${cursor}`);
    seen.push(...page.body.txs.map((x) => x.hash));
    cursor = page.body.nextCursor;
  }
  t.same(seen, [failed, ...[...sent].reverse()], 'the pages together: every transaction once, newest first');
  const alicePage = await get<TxsPage>(`/v1/accounts/${addr(alice)}/txs?limit=100`);
  t.equal(alicePage.body.txs.length, 15, 'the sender has them too');
  t.notOk(alicePage.body.txs.some((x) => x.hash === failed), "but not bob's failed send to carol");
  const carolPage = await get<TxsPage>(`/v1/accounts/${addr(carol)}/txs`);
  t.same(carolPage.body.txs.map((x) => x.hash), [failed], 'the named recipient of a failed transfer is involved too');
  t.equal((await get(`/v1/accounts/${addr(bob)}/txs?limit=101`)).status, 400, 'page size is bounded');
  t.equal((await get(`/v1/accounts/${addr(bob)}/txs?cursor=x.1`)).status, 400, 'a malformed cursor is a 400');
  t.equal((await get(`/v1/accounts/tag1nope/txs`)).status, 400, 'a bad address is a 400');
});

t.test('events by type, by account and by height range; blocks by height range', async (t) => {
  const { block, send, get } = await setup(t);
  for (let h = 0; h < 6; h++) {
    send(alice, { kind: 'transfer', to: (h % 2 === 0 ? bob : carol).address, amount: BigInt(h + 1) * ONE_TAG });
    await block();
  }
  const transfers = await get<EventsPage>('/v1/events?type=transfer&limit=100');
  t.same(transfers.body.events.map((e) => [e.height, e.attributes['amount']]), [1, 2, 3, 4, 5, 6].map((h) => [h, (BigInt(h) * ONE_TAG).toString()]), 'every transfer, oldest first');
  t.ok(transfers.body.events.every((e) => e.tx === 0 && e.type === 'transfer'));
  const toCarol = await get<EventsPage>(`/v1/events?account=${addr(carol)}&type=transfer`);
  t.same(toCarol.body.events.map((e) => e.height), [2, 4, 6], "carol's transfers only");
  const ranged = await get<EventsPage>(`/v1/events?account=${addr(alice)}&type=transfer&fromHeight=3&toHeight=4`);
  t.same(ranged.body.events.map((e) => e.height), [3, 4], 'a height range, inclusive');
  t.same((await get<EventsPage>('/v1/events?type=fee')).body.events, [], '`fee` events are not indexed by type (the account index finds payers)');
  const log = await get<EventsPage>('/v1/events?fromHeight=2&toHeight=2');
  t.same(log.body.events.map((e) => e.type), ['fee', 'transfer'], 'but they are in the log: with no filter, every event of the range');

  const paged: number[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: EventsPage } = await get<EventsPage>(`/v1/events?type=transfer&limit=4${cursor === null ? '' : `&cursor=${cursor}`}`);
    paged.push(...page.body.events.map((e) => e.height));
    cursor = page.body.nextCursor;
  } while (cursor !== null);
  t.same(paged, [1, 2, 3, 4, 5, 6], 'cursor paging gives each event once');
  t.equal((await get(`/v1/events?account=${addr(bob)}&task=1`)).status, 400, 'one of account, task, passport at a time');
  const edge = await get<EventsPage>('/v1/events?type=transfer&cursor=4294967295.4294967295');
  t.same([edge.status, edge.body.events, edge.body.nextCursor], [200, [], null], 'a cursor past the range is an empty last page, not an error');
  const wrapped = await get<EventsPage>('/v1/events?type=transfer&cursor=2.4294967295');
  t.same(wrapped.body.events.map((e) => e.height), [3, 4, 5, 6], 'the largest position at a height resumes at the next height');

  const blocks = await get<{ blocks: Array<{ height: number; txCount: number }>; nextFromHeight: number | null }>('/v1/blocks?fromHeight=2&limit=3');
  t.same(blocks.body.blocks.map((b) => [b.height, b.txCount]), [[2, 1], [3, 1], [4, 1]]);
  t.equal(blocks.body.nextFromHeight, 5, 'and where the next page starts');
  const latest = await get<{ blocks: Array<{ height: number }>; nextFromHeight: number | null }>('/v1/blocks');
  t.same(latest.body.blocks.map((b) => b.height), [1, 2, 3, 4, 5, 6], 'by default the latest blocks');
  t.equal(latest.body.nextFromHeight, null);
});

t.test('a committed transaction is in the indexes at once, and pruning removes its height’s entries', async (t) => {
  const { chain, block, send, get } = await setup(t);
  const hash = send(alice, { kind: 'transfer', to: carol.address, amount: ONE_TAG });
  await block();
  t.same((await get<TxsPage>(`/v1/accounts/${addr(carol)}/txs`)).body.txs.map((x) => x.hash), [hash], 'found right after the commit: same batch');
  for (let i = 0; i < 3; i++) {
    send(alice, { kind: 'transfer', to: bob.address, amount: ONE_TAG });
    await block();
  }
  const blockOne = await chain.store.blockBytes(1);
  t.ok(blockOne !== undefined);
  await chain.store.prune([{ height: 1, txHashes: [Buffer.from(hash.slice(2), 'hex')] }, { height: 2, txHashes: [] }]);
  t.same((await get<TxsPage>(`/v1/accounts/${addr(carol)}/txs`)).body.txs, [], "carol's only transaction was pruned with its block");
  const events = await get<EventsPage>('/v1/events?type=transfer');
  t.same(events.body.events.map((e) => e.height), [3, 4], 'events start at the earliest kept height');
  t.equal((await chain.store.events({ term: `account:${addr(carol)}`, fromHeight: 0, toHeight: 10, after: null, limit: 10 })).hits.length, 0, 'no term entries left behind');
});

t.test('the indexer: a transaction involves its sender and every address in its events; terms per event', async (t) => {
  const receipt = (events: Array<{ type: string; attributes: Array<readonly [string, string]> }>) => ({ txHash: new Uint8Array(32), status: 0, code: '', fee: 0n, events });
  const tx = signTx({ chainId: TEST_CHAIN_ID, sender: alice.publicKey, nonce: 0, maxFee: ONE_TAG, body: { kind: 'transfer', to: bob.address, amount: 1n } }, alice.secretKey);
  const index = blockIndex(
    [tx],
    [
      receipt([{ type: 'transfer', attributes: [['from', addr(alice)], ['to', addr(bob)], ['amount', '1']] }]),
      receipt([{ type: 'task_done', attributes: [['task', '7'], ['requester', addr(carol)], ['refund', '0']] }]),
    ],
  );
  t.same(index.accounts.map(([a, i]) => [addressToString(a), i]), [[addr(alice), 0], [addr(bob), 0]], 'sender and recipient, once each');
  t.same(index.events[0]?.terms, ['type:transfer', `account:${addr(alice)}`, `account:${addr(bob)}`]);
  t.same(index.events[1]?.terms, ['type:task_done', 'task:7', `account:${addr(carol)}`], 'type, task and the address');
  t.equal(index.events[1]?.tx, -1, 'an end-of-block event belongs to no transaction');
});
