/**
 * The node's RpcDeps (node/rpcDeps.ts) over a real chain: transaction lookups from the index, and
 * the pending nonce from the real mempool, served through the real server.
 */
import t from 'tap';
import { ONE_TAG, addressToString, bytesToHex, sha256 } from '../../../lib/index.ts';
import { decodeBlock, decodeReceipts, encodeReceipt, signTx, type TxBody } from '../../../runtime/index.ts';
import { buildServer, type AccountJson, type CommittedTxJson } from '../../../rpc/index.ts';
import { createRpcDeps } from '../../../node/rpcDeps.ts';
import { openTestChain } from '../../utils/chain.ts';
import { itemsFor, taskSpec } from '../../utils/labelling.ts';
import { GENESIS_TIME_MS, fixedKey, makeGenesis, signedTransfer } from '../../utils/factories.ts';

const alice = fixedKey(1);
const bob = fixedKey(2);
const carol = fixedKey(3);
const genesis = makeGenesis([alice, bob], { balance: 1000n * ONE_TAG });

async function setup(t: { teardown: (fn: () => unknown) => void; testdir: () => string }) {
  const chain = await openTestChain(t.testdir(), genesis);
  const deps = createRpcDeps({ chainId: genesis.chainId, nodeId: 'n', store: chain.store, mempool: chain.mempool, validatorAddress: null, syncing: () => false });
  const app = await buildServer(deps, { logger: false });
  t.teardown(async () => {
    await app.close();
    await chain.store.close();
  });
  let height = 0;
  const produce = async (): Promise<void> => {
    height++;
    const { blockHash } = await chain.executor.buildProposal(height, 0, GENESIS_TIME_MS + BigInt(height) * 1000n);
    await chain.executor.commitBlock(height, blockHash, { height, round: 0, blockHash, signatures: [] });
  };
  return { chain, deps, app, produce };
}

t.test('tx(): a committed transaction and its receipt from the index', async (t) => {
  const { chain, deps, app, produce } = await setup(t);
  const txs = [
    signedTransfer(alice, 0, bob.address, 5n * ONE_TAG),
    signedTransfer(bob, 0, carol.address, 5000n * ONE_TAG), // more than bob holds: failed receipt
    signedTransfer(alice, 1, carol.address, 1n),
  ];
  for (const tx of txs) chain.mempool.add(tx.bytes);
  await produce();
  const block = decodeBlock((await chain.store.blockBytes(1))!);
  const receipts = decodeReceipts((await chain.store.receiptsBytes(1))!);
  const hash = chain.store.head!.blockHash;
  for (const [index, txBytes] of block.txs.entries()) {
    const view = await deps.tx(sha256(txBytes));
    t.ok(view !== undefined, `transaction ${index} found`);
    t.equal(view!.height, 1);
    t.equal(view!.index, index);
    t.equal(bytesToHex(view!.blockHash), bytesToHex(hash));
    t.equal(bytesToHex(view!.tx.bytes), bytesToHex(txBytes));
    t.equal(bytesToHex(encodeReceipt(view!.receipt)), bytesToHex(encodeReceipt(receipts[index]!)), `receipt ${index}`);
  }
  t.equal(await deps.tx(sha256(Uint8Array.of(1))), undefined, 'unknown hash');

  const failed = txs[1]!;
  const res = await app.inject({ url: `/v1/txs/0x${bytesToHex(failed.hash)}` });
  t.equal(res.statusCode, 200);
  const json = res.json<CommittedTxJson>();
  t.equal(json.status, 'committed');
  t.equal(json.blockHash, '0x' + bytesToHex(hash));
  t.equal(json.tx.senderAddress, addressToString(bob.address));
  t.equal(json.receipt.status, 'failed');
  t.equal(json.receipt.code, 'TX_INSUFFICIENT_BALANCE');
});

t.test('account(): pendingNonce from the mempool', async (t) => {
  const { chain, app, produce } = await setup(t);
  const get = async (key: typeof alice): Promise<[number, number]> => {
    const a = (await app.inject({ url: `/v1/accounts/${addressToString(key.address)}` })).json<AccountJson>();
    return [a.nonce, a.pendingNonce];
  };
  t.strictSame(await get(alice), [0, 0], 'nothing waiting');
  chain.mempool.add(signedTransfer(alice, 0, bob.address, 1n).bytes);
  chain.mempool.add(signedTransfer(alice, 1, bob.address, 1n).bytes);
  t.strictSame(await get(alice), [0, 2], 'two waiting');
  chain.mempool.add(signedTransfer(alice, 3, bob.address, 1n).bytes);
  t.strictSame(await get(alice), [0, 2], 'one behind a gap does not count');
  t.strictSame(await get(bob), [0, 0], 'another account is unaffected');
  await produce();
  t.strictSame(await get(alice), [2, 2], 'after the block: the run is committed; 3 still waits behind the gap');
  chain.mempool.add(signedTransfer(alice, 2, bob.address, 1n).bytes);
  t.strictSame(await get(alice), [2, 4], 'the gap closed');
});

t.test('blockEvents(): the end-of-block events stored with the block', async (t) => {
  const { chain, deps, app, produce } = await setup(t);
  const tx = (nonce: number, body: TxBody) => signTx({ chainId: genesis.chainId, sender: alice.publicKey, nonce, maxFee: ONE_TAG, body }, alice.secretKey);
  chain.mempool.add(tx(0, { kind: 'taskCreate', spec: taskSpec({ itemCount: 2, annotatorStake: 100n * ONE_TAG }) }).bytes);
  chain.mempool.add(tx(1, { kind: 'taskAddItems', task: 1, items: itemsFor(2) }).bytes);
  chain.mempool.add(tx(2, { kind: 'taskFund', task: 1 }).bytes);
  await produce();
  await produce();
  const labelling = (events: Array<{ type: string }> | undefined) => events?.map((e) => e.type).filter((type) => type === 'task_started' || type === 'round_drawn');
  t.same(labelling(await deps.blockEvents(1)), [], 'block 1: the task is funded, not started');
  const events = await deps.blockEvents(2);
  t.same(labelling(events), ['task_started', 'round_drawn'], 'block 2: the task starts; with no annotators its seats stay empty');
  t.equal(await deps.blockEvents(9), undefined);
  const res = await app.inject({ url: '/v1/blocks/2/events' });
  t.equal(res.statusCode, 200);
  t.ok(res.json().events.some((e: { type: string; attributes: Record<string, string> }) => e.type === 'task_started' && e.attributes['task'] === '1'));
});

t.test('committed labelling and staking transactions of every kind family serialize', async (t) => {
  const { chain, app, produce } = await setup(t);
  const send = (nonce: number, body: TxBody) => signTx({ chainId: genesis.chainId, sender: alice.publicKey, nonce, maxFee: ONE_TAG, body }, alice.secretKey);
  const delegate = send(0, { kind: 'delegate', validator: bob.address, amount: ONE_TAG }); // bob is no validator: a failed receipt
  const stake = send(1, { kind: 'annotatorStake', amount: 20n * ONE_TAG });
  for (const tx of [delegate, stake]) chain.mempool.add(tx.bytes);
  await produce();
  for (const [tx, kind] of [[delegate, 'delegate'], [stake, 'annotatorStake']] as const) {
    const res = await app.inject({ url: `/v1/txs/0x${bytesToHex(tx.hash)}` });
    t.equal(res.statusCode, 200, kind);
    const body = res.json<CommittedTxJson>();
    t.equal(body.tx.kind, kind);
  }
});
