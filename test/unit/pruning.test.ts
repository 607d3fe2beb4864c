/**
 * Pruning (node/pruner.ts over state/chainStore.ts) on a real LevelDB chain: exactly the last
 * `retainBlocks` heights stay answerable; older blocks, transactions and events answer 410 PRUNED
 * through the node's RPC facade; the chain keeps committing while pruning runs and after a restart.
 */
import t from 'tap';
import { ONE_TAG, bytesToHex, nullLogger, sha256 } from '../../lib/index.ts';
import { decodeBlock } from '../../runtime/index.ts';
import { buildServer, type StatusJson } from '../../rpc/index.ts';
import { createRpcDeps } from '../../node/rpcDeps.ts';
import { Pruner, pruneTarget } from '../../node/pruner.ts';
import { parseConfig } from '../../node/config.ts';
import { openTestChain, signedCommit, type TestChain } from '../utils/chain.ts';
import { GENESIS_TIME_MS, fixedKey, makeGenesis, signedTransfer } from '../utils/factories.ts';

const alice = fixedKey(1);
const bob = fixedKey(2);
const genesis = makeGenesis([alice, bob], { balance: 1000n * ONE_TAG });

/** Commits one block holding one transfer from alice; returns the transfer's hash. */
async function produce(chain: TestChain): Promise<Uint8Array> {
  const height = (chain.store.head?.height ?? 0) + 1;
  const tx = signedTransfer(alice, height - 1, bob.address, 1n);
  chain.mempool.add(tx.bytes);
  const { blockHash } = await chain.executor.buildProposal(height, 0, GENESIS_TIME_MS + BigInt(height) * 1000n);
  await chain.executor.commitBlock(height, blockHash, signedCommit(genesis.chainId, height, blockHash));
  return tx.hash;
}

t.test('pruneTarget: keeps the last `retain` heights; 0 keeps everything', async (t) => {
  t.equal(pruneTarget(30, 10, 1), 21);
  t.equal(pruneTarget(30, 0, 1), 1, 'archive');
  t.equal(pruneTarget(5, 10, 1), 1, 'a chain shorter than the window');
  t.equal(pruneTarget(30, 10, 25), 25, 'never below what is already pruned');
});

t.test('config: storage.retainBlocks is 0 or at least 10; snapshot settings are checked', async (t) => {
  t.equal(parseConfig({}).storage.retainBlocks, 0, 'archive by default');
  t.equal(parseConfig({}).snapshot.interval, 0, 'snapshots off by default');
  t.equal(parseConfig({ storage: { retainBlocks: 10 } }).storage.retainBlocks, 10);
  t.throws(() => parseConfig({ storage: { retainBlocks: 5 } }), { code: 'CONFIG_INVALID_VALUE', message: /storage.retainBlocks: must be an integer from 10 .*or 0/ });
  t.throws(() => parseConfig({ storage: { retainBlocks: -1 } }), { code: 'CONFIG_INVALID_VALUE' });
  t.throws(() => parseConfig({ snapshot: { keep: 0 } }), { code: 'CONFIG_INVALID_VALUE' });
  t.throws(() => parseConfig({ storage: { retain: 10 } }), { code: 'CONFIG_UNKNOWN_KEY' });
});

t.test('pruning keeps exactly the window, answers PRUNED below it, and survives a restart', async (t) => {
  const dir = t.testdir();
  let chain = await openTestChain(dir, genesis);
  const txAt = new Map<number, Uint8Array>();
  for (let i = 0; i < 30; i++) txAt.set(i + 1, await produce(chain));
  const pruner = new Pruner({ retainBlocks: 10, batchHeights: 4, compactEveryHeights: 8 }, { store: chain.store, log: nullLogger });

  // Prune while blocks keep coming: every commit pokes the pruner, as the node does.
  pruner.afterCommit();
  for (let i = 0; i < 3; i++) {
    txAt.set(31 + i, await produce(chain));
    pruner.afterCommit();
  }
  await pruner.idle();
  const head = chain.store.head!.height;
  t.equal(head, 33);
  t.equal(chain.store.earliestHeight, 24, 'the last 10 heights are kept: 24..33');
  t.ok(pruner.stats.batches >= 6, `bounded batches of at most 4 heights (${pruner.stats.batches})`);
  t.equal(pruner.stats.prunedHeights, 23);
  t.ok(pruner.stats.compactions >= 1, 'compacted after pruning');

  const deps = createRpcDeps({ chainId: genesis.chainId, nodeId: 'n', store: chain.store, mempool: chain.mempool, validatorAddress: null, syncing: () => false });
  const app = await buildServer(deps, { logger: false });
  t.teardown(() => app.close());
  const get = async (url: string): Promise<{ status: number; code: string | undefined; body: Record<string, unknown> }> => {
    const res = await app.inject({ url });
    const body = res.json<Record<string, unknown>>();
    return { status: res.statusCode, code: (body['error'] as { code?: string } | undefined)?.code, body };
  };

  t.equal((await get('/status')).body['earliestHeight'], 24, '/status reports the earliest kept height');
  for (let h = 1; h <= 33; h++) {
    const block = await get(`/v1/blocks/${h}`);
    const tx = await get(`/v1/txs/0x${bytesToHex(txAt.get(h)!)}`);
    const events = await get(`/v1/blocks/${h}/events`);
    if (h >= 24) {
      t.equal(block.status, 200, `block ${h} is kept`);
      t.equal(tx.status, 200, `the transaction of block ${h} is answered`);
      t.equal(tx.body['height'], h);
      t.equal(events.status, 200, `the events of block ${h} are kept`);
    } else {
      t.equal(block.status, 410, `block ${h} is pruned`);
      t.equal(block.code, 'PRUNED');
      t.equal(tx.status, 410, `the transaction of block ${h} answers PRUNED, not "not found"`);
      t.equal(tx.code, 'PRUNED');
      t.equal(((tx.body['error'] as { details: Record<string, unknown> }).details)['height'], h, 'with the height it was committed at');
      t.equal(events.code, 'PRUNED');
    }
  }
  const prunedError = (await get('/v1/blocks/5')).body['error'] as { details: Record<string, unknown>; message: string };
  t.strictSame(prunedError.details, { what: 'block', height: 5, earliestHeight: 24 });
  t.match(prunedError.message, /keeps heights from 24/);
  t.equal((await get('/v1/blocks/34')).code, 'BLOCK_NOT_FOUND', 'a height not yet committed is still 404');
  t.equal((await get(`/v1/txs/0x${bytesToHex(sha256(Uint8Array.of(9)))}`)).code, 'TX_NOT_FOUND', 'an unknown transaction is still 404');
  const oldBlock = decodeBlock((await chain.store.blockBytes(24))!);
  t.equal(oldBlock.header.height, 24);
  const prunedHash = oldBlock.header.parentHash; // block 23's hash
  t.equal((await get(`/v1/blocks/by-hash/0x${bytesToHex(prunedHash)}`)).code, 'PRUNED', 'a pruned block by hash is PRUNED too');
  t.equal(await chain.store.commitBytes(23), undefined, 'commits below the window are deleted');
  t.equal(await chain.store.receiptsBytes(23), undefined, 'receipts below the window are deleted');
  t.ok((await chain.store.commitBytes(24)) !== undefined, 'commits in the window are kept (block sync serves them)');
  await t.rejects(chain.store.prune(Array.from({ length: 10 }, (_, i) => ({ height: 24 + i, txHashes: [] }))), { code: 'STORE_PRUNE_RANGE' }, 'the head is never pruned');
  await t.rejects(chain.store.prune([{ height: 30, txHashes: [] }]), { code: 'STORE_PRUNE_RANGE' }, 'only from the earliest height on');

  // Restart: the earliest height is persisted and the chain goes on.
  await app.close();
  await pruner.stop();
  await chain.store.close();
  chain = await openTestChain(dir, genesis);
  t.teardown(() => chain.store.close());
  t.equal(chain.store.earliestHeight, 24, 'the earliest height survives a restart');
  t.equal(chain.store.head!.height, 33);
  const next = await produce(chain);
  t.equal(chain.store.head!.height, 34, 'the node commits the next block after pruning and a restart');
  t.equal((await chain.store.txRecord(next))?.height, 34);
  const again = new Pruner({ retainBlocks: 10, batchHeights: 100, compactEveryHeights: 0 }, { store: chain.store, log: nullLogger });
  again.afterCommit();
  await again.idle();
  t.equal(chain.store.earliestHeight, 25, 'the window moves with the head');
  t.equal(again.stats.compactions, 0, 'no compaction when compactEveryHeights is 0');
  t.equal(await chain.store.prunedTxHeight(txAt.get(24)!), 24);
});

t.test('an archive node (retainBlocks 0) prunes nothing', async (t) => {
  const chain = await openTestChain(t.testdir(), genesis);
  t.teardown(() => chain.store.close());
  for (let i = 0; i < 12; i++) await produce(chain);
  const pruner = new Pruner({ retainBlocks: 0, batchHeights: 4, compactEveryHeights: 1 }, { store: chain.store, log: nullLogger });
  pruner.afterCommit();
  await pruner.idle();
  t.equal(chain.store.earliestHeight, 1);
  t.ok((await chain.store.blockBytes(1)) !== undefined);
  const deps = createRpcDeps({ chainId: genesis.chainId, nodeId: 'n', store: chain.store, mempool: chain.mempool, validatorAddress: null, syncing: () => false });
  t.equal(deps.status().earliestHeight, 1);
  await pruner.compact();
  t.equal(pruner.stats.compactions, 1, 'compaction on demand works on an archive node too');
});

t.test('pruning waits while the node catches up by block sync', async (t) => {
  const chain = await openTestChain(t.testdir(), genesis);
  t.teardown(() => chain.store.close());
  for (let i = 0; i < 15; i++) await produce(chain);
  let syncing = true;
  const pruner = new Pruner({ retainBlocks: 10, batchHeights: 4, compactEveryHeights: 0 }, { store: chain.store, log: nullLogger, paused: () => syncing });
  pruner.afterCommit();
  await pruner.idle();
  t.equal(chain.store.earliestHeight, 1, 'nothing pruned during sync');
  syncing = false;
  await produce(chain);
  pruner.afterCommit();
  await pruner.idle();
  t.equal(chain.store.earliestHeight, 7, 'pruned at the first commit after sync');
});

t.test('status JSON carries earliestHeight', async (t) => {
  const chain = await openTestChain(t.testdir(), genesis);
  t.teardown(() => chain.store.close());
  const deps = createRpcDeps({ chainId: genesis.chainId, nodeId: 'n', store: chain.store, mempool: chain.mempool, validatorAddress: null, syncing: () => false });
  const app = await buildServer(deps, { logger: false });
  t.teardown(() => app.close());
  const status = (await app.inject({ url: '/status' })).json<StatusJson>();
  t.equal(status.earliestHeight, 1);
});
