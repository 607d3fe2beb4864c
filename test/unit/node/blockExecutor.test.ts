import t from 'tap';
import { bytesToHex, isChainError, ONE_TAG } from '../../../lib/index.ts';
import { decodeBlock, encodeBlock, encodeReceipts, lastCommitHash, type Block } from '../../../runtime/index.ts';
import { encodeCommit } from '../../../consensus/index.ts';
import { loadAccount } from '../../../state/index.ts';
import { numberedKey, openTestChain, signedCommit } from '../../utils/chain.ts';
import { fixedKey, makeGenesis, signedTransfer } from '../../utils/factories.ts';

const alice = fixedKey(1);
const bob = fixedKey(2);
const genesis = makeGenesis([alice, bob], { balance: 1_000_000n * ONE_TAG });

async function produce(dir: string, blocks: number): Promise<Block[]> {
  const chain = await openTestChain(dir, genesis);
  const out: Block[] = [];
  let nonce = 0;
  for (let h = 1; h <= blocks; h++) {
    for (let i = 0; i < 5; i++) chain.mempool.add(signedTransfer(alice, nonce++, bob.address, BigInt(h * 10 + i) * ONE_TAG).bytes);
    chain.mempool.add(signedTransfer(bob, h - 1, numberedKey(100 + h).address, 1n).bytes);
    const { blockHash } = await chain.executor.buildProposal(h, 0, genesis.genesisTimeMs + BigInt(h) * 1000n);
    await chain.executor.commitBlock(h, blockHash, signedCommit(genesis.chainId, h, blockHash));
    out.push(decodeBlock((await chain.store.blockBytes(h))!));
  }
  await chain.store.close();
  return out;
}

t.test('determinism: replaying the same blocks gives the same state roots and receipts', async (t) => {
  const blocks = await produce(t.testdir(), 6);
  t.equal(blocks.length, 6);
  t.ok(blocks.every((b) => b.txs.length === 6), 'every block carries its transactions');
  for (let replay = 0; replay < 2; replay++) {
    const chain = await openTestChain(t.testdir(), genesis);
    for (const block of blocks) {
      const executed = chain.executor.executeBlock(block);
      t.equal(bytesToHex(executed.tree.root), bytesToHex(block.header.stateRoot), `replay ${replay} height ${block.header.height}`);
      await chain.executor.commitBlock(block.header.height, executed.hash, signedCommit(genesis.chainId, block.header.height, executed.hash));
      t.equal(bytesToHex((await chain.store.receiptsBytes(block.header.height))!), bytesToHex(encodeReceipts(executed.receipts)), "receipts as stored");
    }
    t.equal(loadAccount(chain.store.state, bob.address).nonce, 6);
    await chain.store.close();
  }
});

t.test('a block whose header lies is rejected and changes nothing', async (t) => {
  const [first] = await produce(t.testdir(), 1);
  const chain = await openTestChain(t.testdir(), genesis);
  t.teardown(() => chain.store.close());
  const rootBefore = bytesToHex(chain.store.tree.root);
  const cases: Array<[string, (b: Block) => Block, string]> = [
    ['state root', (b) => ({ ...b, header: { ...b.header, stateRoot: new Uint8Array(32) } }), 'BLOCK_WRONG_ROOT'],
    ['tx root', (b) => ({ ...b, header: { ...b.header, txRoot: new Uint8Array(32) } }), 'BLOCK_WRONG_ROOT'],
    ['height', (b) => ({ ...b, header: { ...b.header, height: 2 } }), 'BLOCK_WRONG_HEIGHT'],
    ['parent', (b) => ({ ...b, header: { ...b.header, parentHash: new Uint8Array(32).fill(1) } }), 'BLOCK_WRONG_PARENT'],
    ['time', (b) => ({ ...b, header: { ...b.header, timeMs: genesis.genesisTimeMs } }), 'BLOCK_TIME_NOT_INCREASING'],
    ['chain', (b) => ({ ...b, header: { ...b.header, chainId: 'other' } }), 'BLOCK_WRONG_CHAIN'],
    ['proposer', (b) => ({ ...b, header: { ...b.header, proposer: new Uint8Array(20).fill(9) } }), 'BLOCK_WRONG_PROPOSER'],
    ['dropped tx', (b) => ({ ...b, txs: b.txs.slice(1) }), 'BLOCK_TX_REJECTED'],
    ['garbage tx', (b) => ({ ...b, txs: [new Uint8Array([1, 2, 3])] }), 'BLOCK_TX_UNDECODABLE'],
    ['last commit at height 1', (b) => ({ ...b, lastCommit: Uint8Array.of(0x90) }), 'BLOCK_BAD_LAST_COMMIT'],
    ['last commit hash', (b) => ({ ...b, header: { ...b.header, lastCommitHash: new Uint8Array(32).fill(1) } }), 'BLOCK_WRONG_ROOT'],
  ];
  for (const [name, mutate, code] of cases) {
    const bad = decodeBlock(encodeBlock(mutate(first!)));
    let got = 'accepted';
    try {
      chain.executor.executeBlock(bad);
    } catch (e: unknown) {
      got = isChainError(e) ? e.code : String(e);
    }
    t.equal(got, code, name);
  }
  t.equal(bytesToHex(chain.store.tree.root), rootBefore, 'state untouched');
  t.equal(chain.store.head?.height, 0);
});

t.test('a second opener of the same database gets STORE_LOCKED', async (t) => {
  const dir = t.testdir();
  const chain = await openTestChain(dir, genesis);
  t.teardown(() => chain.store.close());
  let got = 'opened';
  try {
    await openTestChain(dir, genesis);
  } catch (e: unknown) {
    got = isChainError(e) ? e.code : String(e);
  }
  t.equal(got, 'STORE_LOCKED');
});

t.test('building: a sender whose transaction does not fit waits whole for the next block', async (t) => {
  // Nonce 3 is larger than nonce 4; the block's byte limit leaves room for 4 but not for 3 after 0..2.
  const txs = [1n, 1n, 1n, 10n ** 30n, 1n, 1n].map((amount, n) => signedTransfer(alice, n, bob.address, amount));
  const size = (n: number): number => txs[n]!.bytes.length;
  t.ok(size(3) > size(4), 'nonce 3 is the larger one');
  const params = { ...genesis.params, blockBytesMax: size(0) + size(1) + size(2) + size(4) };
  const chain = await openTestChain(t.testdir(), makeGenesis([alice, bob], { balance: 1_000_000n * ONE_TAG, params }));
  t.teardown(() => chain.store.close());
  for (const tx of txs) chain.mempool.add(tx.bytes);
  const perBlock: number[] = [];
  for (let h = 1; h <= 3 && chain.mempool.size > 0; h++) {
    const { blockHash } = await chain.executor.buildProposal(h, 0, genesis.genesisTimeMs + BigInt(h) * 1000n);
    await chain.executor.commitBlock(h, blockHash, signedCommit(genesis.chainId, h, blockHash));
    perBlock.push(decodeBlock((await chain.store.blockBytes(h))!).txs.length);
  }
  t.same(perBlock, [3, 3], 'nonces 0-2, then 3-5: nonce 4 was deferred with 3, not dropped');
  t.equal(loadAccount(chain.store.state, alice.address).nonce, 6);
});

t.test('a block must carry a commit certificate of its parent signed by the validator set', async (t) => {
  const blocks = await produce(t.testdir(), 2);
  const chain = await openTestChain(t.testdir(), genesis);
  t.teardown(() => chain.store.close());
  const first = chain.executor.executeBlock(blocks[0]!);
  await chain.executor.commitBlock(1, first.hash, signedCommit(genesis.chainId, 1, first.hash));
  const second = blocks[1]!;
  const forged = encodeCommit(signedCommit(genesis.chainId, 1, first.hash, [numberedKey(7)]));
  const wrongBlock = encodeCommit(signedCommit(genesis.chainId, 1, new Uint8Array(32).fill(3)));
  for (const [name, lastCommit] of [['signed by a non-validator', forged], ['for another block', wrongBlock], ['empty', new Uint8Array(0)]] as const) {
    const bad = { ...second, lastCommit, header: { ...second.header, lastCommitHash: lastCommitHash(lastCommit) } };
    let got = 'accepted';
    try {
      chain.executor.executeBlock(bad);
    } catch (e: unknown) {
      got = isChainError(e) ? e.code : String(e);
    }
    t.equal(got, 'BLOCK_BAD_LAST_COMMIT', name);
  }
  t.equal(bytesToHex(chain.executor.executeBlock(second).block.header.stateRoot), bytesToHex(second.header.stateRoot), 'the real block executes');
});
