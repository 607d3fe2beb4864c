/**
 * The deposit watcher (bridge/watcher.ts) against a real EVM node over JSON-RPC, through a proxy that
 * injects faults: deposits come out once, in nonce order, only from finalized blocks, only from the
 * bridge's own successful transactions; an RPC that hangs, fails or reorgs unfinalized blocks never
 * makes it skip or repeat a deposit.
 */
import t from 'tap';
import { TAG_TOKEN, TAGGER_BRIDGE } from '../../bridge/index.ts';
import { BridgeError } from '../../bridge/errors.ts';
import { DepositWatcher, type ObservedDeposit, type WatcherOpts } from '../../bridge/watcher.ts';
import { bytesToHex, nullLogger } from '../../lib/index.ts';
import type { Fault } from './fixtures/faultyRpc.ts';
import { RpcBridge, TAG, recordingLogger } from './fixtures/rpcBridge.ts';

const alice = new Uint8Array(20).fill(0xa1);
const bob = new Uint8Array(20).fill(0xb0);
const POLLS_MAX = 60;

function watcherFor(b: RpcBridge, over: Partial<WatcherOpts> = {}): DepositWatcher {
  return new DepositWatcher({ client: b.proxied().publicClient, bridge: b.bridge, fromBlock: b.startBlock, confirmations: null, chunkBlocks: 3, logger: nullLogger, ...over });
}

/** Polls until the watcher has scanned through `block` (bounded); returns every deposit reported and every error thrown. */
async function pollThrough(w: DepositWatcher, block: bigint): Promise<{ seen: ObservedDeposit[]; errors: unknown[]; movedOnError: boolean }> {
  const seen: ObservedDeposit[] = [];
  const errors: unknown[] = [];
  let movedOnError = false;
  for (let i = 0; i < POLLS_MAX && w.cursor < block; i++) {
    const before = w.cursor;
    const held = w.size;
    try {
      seen.push(...(await w.poll()));
    } catch (e) {
      errors.push(e);
      if (w.cursor !== before || w.size !== held) movedOnError = true;
    }
  }
  return { seen, errors, movedOnError };
}

const txHex = (d: ObservedDeposit): string => `0x${bytesToHex(d.bnbTxHash)}`;

t.test('deposits in several blocks come out once, in nonce order, only once finalized', async (t) => {
  const b = await RpcBridge.start({ finalityDepth: 3 });
  t.teardown(() => b.stop());
  const other = await b.deployBridge();
  await b.write(b.users[1]!, b.token, TAG_TOKEN.abi, 'approve', [other, 10n ** 30n]);
  const w = watcherFor(b);

  const r1 = await b.deposit(0, alice, 5n * TAG);
  // The same event from another contract, and a deposit whose transaction reverts (zero amount): not deposits.
  await b.deposit(1, bob, 6n * TAG, other);
  const reverted = await b.write(b.users[1]!, b.bridge, TAGGER_BRIDGE.abi, 'deposit', [`0x${bytesToHex(bob)}`, 0n]);
  t.equal(reverted.status, 'reverted', 'the zero-amount deposit is mined and reverts');
  const r2 = await b.deposit(1, bob, 7n * TAG);
  const r3 = await b.deposit(2, alice, 9n * TAG);

  const seen: ObservedDeposit[] = [];
  // Not finalized yet: the head is r3's block, the finalized head 3 below it.
  for (let i = 0; i < 10; i++) seen.push(...(await w.poll()));
  t.ok(w.cursor <= b.node.finalized(), 'never scans past the finalized head');
  t.ok(seen.every((d) => d.bnbBlock <= b.node.finalized()), 'only finalized deposits are reported');
  t.notOk(seen.some((d) => d.bnbBlock === r3.blockNumber), 'the newest deposit is not final yet');

  // One block at a time: a deposit appears exactly when its block becomes final.
  for (let i = 0; i < 4; i++) {
    await b.node.mine(1);
    for (let j = 0; j < 10 && w.cursor < b.node.finalized(); j++) seen.push(...(await w.poll()));
    const finalized = b.node.finalized();
    t.ok(seen.every((d) => d.bnbBlock <= finalized), `after mining ${i + 1}: nothing beyond the finalized block`);
  }
  t.same(seen.map((d) => d.nonce), [1, 2, 3], 'each deposit once, in nonce order; the other contract and the reverted tx give nothing');
  t.same(seen.map(txHex), [r1, r2, r3].map((r) => r.transactionHash));
  t.same(seen.map((d) => d.amount), [5n * TAG, 7n * TAG, 9n * TAG]);
  t.same(seen.map((d) => d.recipient), [alice, bob, alice]);
  t.same(seen.map((d) => d.bnbBlock), [r1, r2, r3].map((r) => r.blockNumber));
  t.same(seen.map((d) => d.logIndex), [r1, r2, r3].map((r) => r.logs.find((l) => l.address.toLowerCase() === b.bridge.toLowerCase())!.logIndex));

  for (let i = 0; i < 5; i++) t.same(await w.poll(), [], 'later polls report nothing again');
  t.same(w.pending(1, 10).map((d) => d.nonce), [1, 2, 3]);
  t.same(w.pending(2, 1).map((d) => d.nonce), [2], 'at most `limit`');
  w.prune(3);
  t.same(w.pending(1, 10), [], 'pruned');
  t.same(w.pending(3, 10).map((d) => d.nonce), [3]);
  t.equal(w.size, 1);
});

t.test('a gap stops pending(); a full watcher stops scanning instead of dropping deposits', async (t) => {
  const b = await RpcBridge.start({ finalityDepth: 1 });
  t.teardown(() => b.stop());
  for (let i = 0; i < 4; i++) await b.deposit(0, alice, BigInt(i + 1) * TAG);
  await b.node.mine(1);
  const w = watcherFor(b, { pendingMax: 2, chunkBlocks: 100 });
  const first = await w.poll();
  t.same(first.map((d) => d.nonce), [1, 2], 'only as many as fit');
  const stuck = w.cursor;
  t.same(await w.poll(), [], 'full: nothing more');
  t.equal(w.cursor, stuck, 'and the cursor does not move past what it could not keep');
  w.prune(3);
  const rest = await pollThrough(w, b.node.finalized());
  t.same(rest.seen.map((d) => d.nonce), [3, 4], 'after a prune the rest comes, none skipped');
  t.same(w.pending(3, 10).map((d) => d.nonce), [3, 4]);
  t.same(w.pending(5, 10), []);
});

t.test('unfinalized blocks reorged away: only the surviving deposit is reported, once', async (t) => {
  const b = await RpcBridge.start({ finalityDepth: 4 });
  t.teardown(() => b.stop());
  const w = watcherFor(b);
  await b.node.mine(4);
  const snapshot = (await b.rpc('evm_snapshot')) as string;
  const gone = await b.deposit(0, alice, 11n * TAG);
  await b.node.mine(2); // fewer than finalityDepth
  const during = await pollThrough(w, b.node.finalized());
  t.same(during.seen, [], 'the deposit is not final: nothing reported');
  t.ok(w.cursor < gone.blockNumber);
  await b.rpc('evm_revert', [snapshot]);
  const kept = await b.deposit(1, bob, 22n * TAG);
  t.equal(kept.blockNumber, gone.blockNumber, 'the same height, another block');
  await b.node.mine(5);
  const after = await pollThrough(w, b.node.finalized());
  const all = [...during.seen, ...after.seen];
  t.same(all.map((d) => [d.nonce, d.amount, txHex(d)]), [[1, 22n * TAG, kept.transactionHash]], 'only the surviving deposit, once');
  t.same(all[0]!.recipient, bob);
  t.same(await w.poll(), []);
});

t.test('without finality (confirmations 0) a reorged nonce is a conflict: the first is kept, the second never reported', async (t) => {
  const b = await RpcBridge.start({ finalityDepth: 4 });
  t.teardown(() => b.stop());
  const log = recordingLogger();
  const w = watcherFor(b, { confirmations: 0, logger: log });
  await b.node.mine(4);
  const snapshot = (await b.rpc('evm_snapshot')) as string;
  await b.deposit(0, alice, 11n * TAG);
  const first = await pollThrough(w, await b.direct.getBlockNumber());
  t.same(first.seen.map((d) => d.amount), [11n * TAG]);
  await b.rpc('evm_revert', [snapshot]);
  // The surviving chain re-mines the height the watcher already scanned, then a different deposit 1 above it.
  await b.node.mine(1);
  await b.deposit(1, bob, 22n * TAG);
  const second = await pollThrough(w, await b.direct.getBlockNumber());
  t.same(second.seen, [], 'the second deposit with nonce 1 is not reported');
  t.same(w.pending(1, 10).map((d) => d.amount), [11n * TAG], 'the first is kept');
  t.ok(log.errors.some((m) => m.includes('different content')), 'logged as a hard error');
});

const FAULTS: { fault: Fault; methods: string[] | null; count: number }[] = [
  { fault: 'hang', methods: null, count: 3 },
  { fault: 'http500', methods: null, count: 4 },
  { fault: 'rpcError', methods: null, count: 4 },
  { fault: 'rpcError', methods: ['eth_getTransactionReceipt'], count: 2 },
  { fault: 'hang', methods: ['eth_getLogs'], count: 2 },
];

t.test('an RPC that hangs, answers 500 or JSON-RPC errors: typed errors, no skipped or repeated deposit', async (t) => {
  const b = await RpcBridge.start({ finalityDepth: 2 });
  t.teardown(() => b.stop());
  const w = watcherFor(b, { chunkBlocks: 2 });
  const seen: ObservedDeposit[] = [];
  let amount = 0n;
  for (const { fault, methods, count } of FAULTS) {
    const target = `${fault}${methods === null ? '' : ` on ${methods.join(',')}`}`;
    for (let i = 0; i < 3; i++) await b.deposit(i, alice, (amount += TAG));
    await b.node.mine(2);
    b.proxy.inject(fault, count, methods);
    const r = await pollThrough(w, b.node.finalized());
    t.equal(r.errors.length, count, `${target}: each fault failed one poll`);
    t.ok(r.errors.every((e) => e instanceof BridgeError && e.code === 'BRIDGE_RPC_FAILED'), `${target}: typed errors`);
    t.notOk(r.movedOnError, `${target}: a failed poll moves neither the cursor nor the deposits held`);
    t.equal(b.proxy.pending, 0, `${target}: every fault was served`);
    t.equal(w.cursor, b.node.finalized(), `${target}: progress once the fault clears`);
    seen.push(...r.seen);
  }
  const nonces = seen.map((d) => d.nonce);
  t.same(nonces, Array.from({ length: FAULTS.length * 3 }, (_, i) => i + 1), 'every deposit exactly once, in order');
  t.same(seen.map((d) => d.amount), nonces.map((n) => BigInt(n) * TAG));
  const onChain = await b.events('Deposited');
  t.equal(onChain.length, nonces.length, 'all deposits on chain were reported');
});

t.test('a failing eth_getLogs halves the range asked for; successes widen it back', async (t) => {
  const b = await RpcBridge.start({ finalityDepth: 1 });
  t.teardown(() => b.stop());
  await b.node.mine(20);
  await b.deposit(0, alice, TAG); // block startBlock + 20: inside the narrowed and re-widened scans
  await b.node.mine(20);
  const w = watcherFor(b, { chunkBlocks: 8 });
  t.same((await w.poll()).length, 0);
  b.proxy.inject('rpcError', 2, ['eth_getLogs']);
  for (let i = 0; i < 2; i++) await t.rejects(w.poll(), { code: 'BRIDGE_RPC_FAILED' });
  const steps: bigint[] = [];
  const seen: ObservedDeposit[] = [];
  for (let i = 0; i < 4; i++) {
    const before = w.cursor;
    seen.push(...(await w.poll()));
    steps.push(w.cursor - before);
  }
  t.same(steps, [2n, 4n, 8n, 8n], 'two failures: 8 → 2 blocks, then doubled back to 8');
  t.same(seen.map((d) => d.nonce), [1], 'the deposit in the narrowed ranges is found once');
});

type RpcLog = { address: string; topics: string[]; data: string; blockNumber: string; blockHash: string; transactionHash: string; logIndex: string; removed?: boolean };

const nonceTopic = (n: number): string => `0x${n.toString(16).padStart(64, '0')}`;

t.test('an endpoint that forges logs: removed, from a reverted or an unrelated transaction, another contract — none is a deposit', async (t) => {
  const b = await RpcBridge.start({ finalityDepth: 1 });
  t.teardown(() => b.stop());
  const real = await b.deposit(0, alice, 5n * TAG);
  const reverted = await b.write(b.users[1]!, b.bridge, TAGGER_BRIDGE.abi, 'deposit', [`0x${bytesToHex(bob)}`, 0n]);
  const unrelated = await b.write(b.users[2]!, b.token, TAG_TOKEN.abi, 'approve', [b.bridge, 1n]);
  await b.node.mine(2);
  const at = (r: typeof real, nonce: number, over: Partial<RpcLog> = {}) => (log: RpcLog): RpcLog => ({
    ...log,
    topics: [log.topics[0]!, nonceTopic(nonce), ...log.topics.slice(2)],
    blockNumber: `0x${r.blockNumber.toString(16)}`,
    blockHash: r.blockHash,
    transactionHash: r.transactionHash,
    ...over,
  });
  const forgeries = [
    at(real, 2, { removed: true }), // a reorged-away log
    at(reverted, 3), // "emitted" by a reverted transaction
    at(unrelated, 4), // a transaction whose receipt has no such log
    at(real, 5, { address: '0x00000000000000000000000000000000000000aa' }), // another contract
  ];
  b.proxy.rewrite('eth_getLogs', (result) => {
    const logs = result as RpcLog[];
    const genuine = logs.find((l) => l.transactionHash === real.transactionHash);
    return genuine === undefined ? logs : [...logs, ...forgeries.map((f) => f(genuine))];
  });
  const log = recordingLogger();
  const w = watcherFor(b, { chunkBlocks: 100, logger: log });
  const seen = await w.poll();
  t.same(seen.map((d) => d.nonce), [1], 'only the genuine deposit');
  t.ok(log.warnings.some((m) => m.includes('removed')), 'removed log refused');
  t.ok(log.warnings.some((m) => m.includes('reverted')), 'log of a reverted transaction refused');
  t.ok(log.warnings.some((m) => m.includes('receipt does not contain')), 'log its receipt does not back refused');
  t.ok(log.warnings.some((m) => m.includes('not emitted by the bridge')), 'log of another contract refused');
  t.same(w.pending(1, 10).map((d) => d.nonce), [1]);
});

t.test('a log whose receipt is in another block: the poll fails and retries, it neither skips nor accepts', async (t) => {
  const b = await RpcBridge.start({ finalityDepth: 1 });
  t.teardown(() => b.stop());
  const real = await b.deposit(0, alice, 5n * TAG);
  await b.node.mine(2);
  b.proxy.rewrite('eth_getLogs', (result) =>
    (result as RpcLog[]).map((l) => (l.transactionHash === real.transactionHash ? { ...l, blockHash: `0x${'ee'.repeat(32)}` } : l)),
  );
  const w = watcherFor(b, { chunkBlocks: 100 });
  const cursor = w.cursor;
  await t.rejects(w.poll(), { code: 'BRIDGE_RPC_INCONSISTENT' });
  t.equal(w.cursor, cursor, 'cursor unchanged');
  t.equal(w.size, 0);
  b.proxy.rewrite('eth_getLogs', null);
  t.same((await w.poll()).map((d) => d.nonce), [1], 'the honest answer is accepted');
});
