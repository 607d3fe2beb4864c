import t from 'tap';
import { isChainError } from '../../../lib/index.ts';
import { openTestChain } from '../../utils/chain.ts';
import { fixedKey, makeGenesis, signedTransfer } from '../../utils/factories.ts';

const alice = fixedKey(1);
const bob = fixedKey(2);
const carol = fixedKey(3);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e: unknown) {
    return isChainError(e) ? e.code : `not a ChainError: ${String(e)}`;
  }
  return 'no error';
}

t.test('door checks reject bad transactions before they take space', async (t) => {
  const { mempool, store } = await openTestChain(t.testdir(), makeGenesis([alice, bob]));
  t.teardown(() => store.close());
  t.equal(code(() => mempool.add(new Uint8Array([0x93, 1, 2, 3]))), "CODEC_WRONG_LENGTH");
  t.equal(code(() => mempool.add(new Uint8Array([0x93, 1, 2]))), "CODEC_MALFORMED", "truncated");
  t.equal(code(() => mempool.add(signedTransfer(alice, 0, bob.address, 1n, { chainId: 'other-chain' }).bytes)), 'TX_WRONG_CHAIN');
  t.equal(code(() => mempool.add(signedTransfer(alice, 0, bob.address, 1n, { maxFee: 1n }).bytes)), 'TX_FEE_TOO_LOW');
  t.equal(code(() => mempool.add(signedTransfer(carol, 0, bob.address, 1n).bytes)), 'TX_CANNOT_PAY_FEE', 'unfunded sender');
  t.equal(code(() => mempool.add(signedTransfer(alice, 65, bob.address, 1n).bytes)), 'MEMPOOL_NONCE_TOO_HIGH');
  const good = signedTransfer(alice, 0, bob.address, 1n);
  const forged = new Uint8Array(good.bytes);
  forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1;
  t.equal(code(() => mempool.add(forged)), 'TX_BAD_SIGNATURE');
  t.equal(mempool.size, 0, 'nothing was admitted');

  t.same(mempool.add(good.bytes).duplicate, false);
  t.same(mempool.add(good.bytes).duplicate, true, 'resubmission is a duplicate, not an error');
  t.equal(code(() => mempool.add(signedTransfer(alice, 0, bob.address, 2n).bytes)), 'MEMPOOL_NONCE_TAKEN');
  t.equal(mempool.size, 1);
});

t.test('ready() yields each sender in contiguous nonce order; commits prune', async (t) => {
  const { mempool, store, executor } = await openTestChain(t.testdir(), makeGenesis([alice, bob]));
  t.teardown(() => store.close());
  for (const n of [2, 0, 1, 4]) mempool.add(signedTransfer(alice, n, bob.address, 1n).bytes);
  mempool.add(signedTransfer(bob, 0, alice.address, 1n).bytes);
  const ready = [...mempool.ready(100)].map((tx) => `${tx.senderAddress[0]}:${tx.tx.nonce}`);
  t.same(ready, [`${alice.address[0]}:0`, `${alice.address[0]}:1`, `${alice.address[0]}:2`, `${bob.address[0]}:0`], 'nonce 4 waits for 3');
  t.equal([...mempool.ready(2)].length, 2, 'bounded by max');

  const { blockHash } = await executor.buildProposal(1, 0, 1_700_000_001_000n);
  await executor.commitBlock(1, blockHash, { height: 1, round: 0, blockHash, signatures: [] });
  t.equal(mempool.size, 1, 'only the gapped transaction is left');
  t.equal(store.head?.height, 1);
});

t.test('limits: per sender, count and bytes', async (t) => {
  const opts = { txCountMax: 3, bytesMax: 1 << 20, perSenderMax: 2, nonceGapMax: 64, futureTtlBlocks: 20 };
  const { mempool, store } = await openTestChain(t.testdir(), makeGenesis([alice, bob]), fixedKey(0x10), opts);
  t.teardown(() => store.close());
  mempool.add(signedTransfer(alice, 0, bob.address, 1n).bytes);
  mempool.add(signedTransfer(alice, 1, bob.address, 1n).bytes);
  t.equal(code(() => mempool.add(signedTransfer(alice, 2, bob.address, 1n).bytes)), 'MEMPOOL_SENDER_FULL');
  mempool.add(signedTransfer(bob, 0, alice.address, 1n).bytes);
  t.equal(code(() => mempool.add(signedTransfer(bob, 1, alice.address, 1n).bytes)), 'MEMPOOL_FULL', 'full of ready transactions: nothing to evict');
  t.ok(mempool.bytes > 0 && mempool.size === 3);
});

t.test('transactions behind a nonce gap cannot hold the pool: evicted for ready ones, dropped after a TTL', async (t) => {
  const opts = { txCountMax: 4, bytesMax: 1 << 20, perSenderMax: 8, nonceGapMax: 64, futureTtlBlocks: 2 };
  const { mempool, store, executor } = await openTestChain(t.testdir(), makeGenesis([alice, bob, carol]), fixedKey(0x10), opts);
  t.teardown(() => store.close());
  // Alice parks nonces 1..4 and never sends 0: the pool is full of future transactions.
  for (const n of [1, 2, 3, 4]) mempool.add(signedTransfer(alice, n, bob.address, 1n).bytes);
  t.equal(mempool.size, 4);
  t.notOk(mempool.hasReady(), 'nothing is ready');
  t.equal([...mempool.ready(10)].length, 0);
  t.equal(mempool.nextNonce(alice.address), 0, 'the gap is at 0');

  // A ready transaction from bob still gets in, evicting alice's highest future nonce.
  mempool.add(signedTransfer(bob, 0, alice.address, 1n).bytes);
  t.equal(mempool.size, 4);
  t.ok(mempool.hasReady());
  t.equal(mempool.nextNonce(bob.address), 1);
  // A future transaction does not evict anything.
  t.equal(code(() => mempool.add(signedTransfer(carol, 5, alice.address, 1n).bytes)), 'MEMPOOL_FULL');

  // Blocks pass; alice's gap never closes; after futureTtlBlocks her transactions are dropped.
  for (let h = 1; h <= 3; h++) {
    const { blockHash } = await executor.buildProposal(h, 0, 1_767_225_600_000n + BigInt(h) * 1000n);
    await executor.commitBlock(h, blockHash, { height: h, round: 0, blockHash, signatures: [] });
  }
  t.equal(mempool.size, 0, 'bob\'s was included, alice\'s future ones expired');
});

t.test('a sender must be able to pay the fees of everything it has waiting', async (t) => {
  const genesis = makeGenesis([alice, bob], { balance: 3n * 10n ** 15n }); // enough for about two fees
  const { mempool, store } = await openTestChain(t.testdir(), genesis);
  t.teardown(() => store.close());
  mempool.add(signedTransfer(alice, 0, bob.address, 1n).bytes);
  mempool.add(signedTransfer(alice, 1, bob.address, 1n).bytes);
  t.equal(code(() => mempool.add(signedTransfer(alice, 2, bob.address, 1n).bytes)), 'TX_CANNOT_PAY_FEE');
  t.equal(mempool.size, 2);
});
