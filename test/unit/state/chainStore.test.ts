/**
 * ChainStore's transaction index: `'t' ‖ txHash` holds each committed transaction's height, index,
 * block hash and its own SignedTx and Receipt encodings, written in the block's batch.
 */
import t from 'tap';
import { Level } from 'level';
import { ONE_TAG, bytesToHex, concatBytes, encode, sha256 } from '../../../lib/index.ts';
import {
  RECEIPT_STATUS,
  blockHash,
  decodeBlock,
  decodeReceipt,
  decodeReceipts,
  encodeBlock,
  encodeReceipt,
  encodeReceipts,
  type Header,
  type Receipt,
  type SignedTx,
} from '../../../runtime/index.ts';
import { ChainStore, StoreError, type BlockCommit, type TxRecord } from '../../../state/index.ts';
import { openTestChain } from '../../utils/chain.ts';
import { GENESIS_TIME_MS, TEST_CHAIN_ID, fixedKey, makeGenesis, signedTransfer } from '../../utils/factories.ts';

type T = Parameters<Parameters<typeof t.test>[0]>[0];

const alice = fixedKey(1);
const bob = fixedKey(2);

function receiptFor(tx: SignedTx, i: number): Receipt {
  if (i % 3 === 1) return { txHash: tx.hash, status: RECEIPT_STATUS.failed, code: 'TX_INSUFFICIENT_BALANCE', fee: 1234n, events: [] };
  return {
    txHash: tx.hash,
    status: RECEIPT_STATUS.ok,
    code: '',
    fee: 1000n + BigInt(i),
    events: [
      { type: 'transfer', attributes: [['from', 'a'], ['to', 'b'], ['amount', String(i)]] },
      ...(i % 3 === 2 ? [{ type: 'note', attributes: [['index', String(i)]] as Array<readonly [string, string]> }] : []),
    ],
  };
}

/** A block at `height` holding `txs`, as the executor would hand it to the store (no state writes). */
function blockCommit(store: ChainStore, height: number, txs: SignedTx[]): { commit: BlockCommit; receipts: Receipt[] } {
  const head = store.head!;
  const receipts = txs.map(receiptFor);
  const header: Header = {
    version: 1,
    chainId: TEST_CHAIN_ID,
    height,
    timeMs: GENESIS_TIME_MS + BigInt(height) * 1000n,
    parentHash: head.blockHash,
    lastCommitHash: new Uint8Array(32),
    txRoot: new Uint8Array(32).fill(1),
    receiptsRoot: new Uint8Array(32).fill(2),
    stateRoot: store.tree.root,
    proposer: alice.address,
    validatorSetHash: new Uint8Array(32).fill(3),
    nextValidatorSetHash: new Uint8Array(32).fill(3),
  };
  const commit: BlockCommit = {
    height,
    blockHash: blockHash(header),
    timeMs: header.timeMs,
    blockBytes: encodeBlock({ header, lastCommit: new Uint8Array(0), txs: txs.map((tx) => tx.bytes) }),
    commitBytes: encode([height, 0]),
    receiptsBytes: encodeReceipts(receipts),
    txs: txs.map((tx, i) => ({ hash: tx.hash, bytes: tx.bytes, receiptBytes: encodeReceipt(receipts[i]!) })),
    writes: [],
    tree: store.tree,
  };
  return { commit, receipts };
}

async function openFresh(dir: string): Promise<ChainStore> {
  const store = await ChainStore.open(dir);
  await store.initGenesis([], GENESIS_TIME_MS, sha256(Uint8Array.of(1)));
  return store;
}

type Expected = { tx: SignedTx; receipt: Receipt; height: number; index: number; blockHash: Uint8Array };

function hexRecord(r: TxRecord | undefined): unknown {
  return r === undefined ? undefined : { ...r, blockHash: bytesToHex(r.blockHash), txBytes: bytesToHex(r.txBytes), receiptBytes: bytesToHex(r.receiptBytes) };
}

async function checkAll(t: T, store: ChainStore, expected: readonly Expected[], label: string): Promise<void> {
  for (const e of expected) {
    const record = await store.txRecord(e.tx.hash);
    t.strictSame(
      hexRecord(record),
      { height: e.height, index: e.index, blockHash: bytesToHex(e.blockHash), txBytes: bytesToHex(e.tx.bytes), receiptBytes: bytesToHex(encodeReceipt(e.receipt)) },
      `${label}: height ${e.height} index ${e.index}`,
    );
    t.strictSame(decodeReceipt(record!.receiptBytes), e.receipt, `${label}: the receipt decodes to what was committed`);
  }
}

t.test('txRecord: each transaction with its own bytes, receipt, height, index and block hash; kept across reopening', async (t) => {
  const dir = t.testdir();
  const store = await openFresh(dir);
  const nonces = { n: 0 };
  const next = (count: number): SignedTx[] => Array.from({ length: count }, () => signedTransfer(alice, nonces.n, bob.address, BigInt(++nonces.n) * ONE_TAG));
  const expected: Expected[] = [];
  const blocks: Array<{ height: number; blockBytes: Uint8Array; receiptsBytes: Uint8Array }> = [];
  for (const [height, count] of [[1, 4], [2, 0], [3, 2]] as const) {
    const txs = next(count);
    const { commit, receipts } = blockCommit(store, height, txs);
    await store.commitBlock(commit);
    txs.forEach((tx, index) => expected.push({ tx, receipt: receipts[index]!, height, index, blockHash: commit.blockHash }));
    blocks.push({ height, blockBytes: commit.blockBytes, receiptsBytes: commit.receiptsBytes });
  }
  t.equal(expected.length, 6);
  await checkAll(t, store, expected, 'open');
  t.equal(await store.txRecord(sha256(Uint8Array.of(9))), undefined, 'an unknown hash is undefined');
  t.equal(await store.txRecord(blocks[0]!.blockBytes.subarray(0, 32)), undefined, 'so is any 32 bytes that are not a transaction hash');
  for (const b of blocks) {
    t.equal(bytesToHex((await store.blockBytes(b.height))!), bytesToHex(b.blockBytes), `block ${b.height} stored as given`);
    t.equal(bytesToHex((await store.receiptsBytes(b.height))!), bytesToHex(b.receiptsBytes), `receipts ${b.height} stored as given`);
  }
  await store.close();

  const reopened = await ChainStore.open(dir);
  t.teardown(() => reopened.close());
  t.equal(reopened.head?.height, 3);
  await checkAll(t, reopened, expected, 'reopened');
  t.equal(await reopened.txRecord(sha256(Uint8Array.of(9))), undefined, 'an unknown hash is still undefined');
});

t.test('an index entry in the earlier [height, index] layout is STORE_CORRUPT, not a codec error', async (t) => {
  const dir = t.testdir();
  const tx = signedTransfer(alice, 0, bob.address, 1n);
  const store = await openFresh(dir);
  await store.close();
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.put(concatBytes(Uint8Array.of(0x74), tx.hash), encode([1, 0]));
  await db.close();
  const reopened = await ChainStore.open(dir);
  t.teardown(() => reopened.close());
  const error = await reopened.txRecord(tx.hash).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(error instanceof StoreError, 'a StoreError');
  t.equal((error as StoreError).code, 'STORE_CORRUPT');
});

t.test('through the block executor: the index matches the stored block and receipts', async (t) => {
  const genesis = makeGenesis([alice, bob], { balance: 1000n * ONE_TAG });
  const dir = t.testdir();
  const chain = await openTestChain(dir, genesis);
  const txs = [
    signedTransfer(alice, 0, bob.address, 5n * ONE_TAG),
    signedTransfer(bob, 0, alice.address, 10_000n * ONE_TAG), // more than bob has: a failed receipt
    signedTransfer(alice, 1, bob.address, 1n),
  ];
  for (const tx of txs) chain.mempool.add(tx.bytes);
  const { blockHash: hash } = await chain.executor.buildProposal(1, 0, GENESIS_TIME_MS + 1000n);
  await chain.executor.commitBlock(1, hash, { height: 1, round: 0, blockHash: hash, signatures: [] });
  const block = decodeBlock((await chain.store.blockBytes(1))!);
  const receipts = decodeReceipts((await chain.store.receiptsBytes(1))!);
  t.equal(block.txs.length, 3);
  t.ok(receipts.some((r) => r.status === RECEIPT_STATUS.failed), 'one receipt failed');
  const check = async (store: ChainStore, label: string): Promise<void> => {
    for (const [index, txBytes] of block.txs.entries()) {
      const record = await store.txRecord(sha256(txBytes));
      t.strictSame(
        hexRecord(record),
        { height: 1, index, blockHash: bytesToHex(hash), txBytes: bytesToHex(txBytes), receiptBytes: bytesToHex(encodeReceipt(receipts[index]!)) },
        `${label}: transaction ${index}`,
      );
    }
  };
  await check(chain.store, 'open');
  await chain.store.close();
  const reopened = await ChainStore.open(dir);
  t.teardown(() => reopened.close());
  await check(reopened, 'reopened');
});
