/**
 * BlockGate: the BFT engine and block sync share one executor. Synced blocks are verified against
 * the height's validator set; a height committed by sync is never committed again by the engine;
 * a fork is an assertion; the executor's cache keeps the newest proposals of a long height.
 */
import t from 'tap';
import { join } from 'node:path';
import { bytesToHex, compareBytes, isChainError, nullLogger, ONE_TAG } from '../../../lib/index.ts';
import { encodeCommit } from '../../../consensus/index.ts';
import { decodeBlock, decodeSignedTx } from '../../../runtime/index.ts';
import { BlockExecutor } from '../../../node/blockExecutor.ts';
import type { Mempool } from '../../../node/mempool.ts';
import { loadAccount } from '../../../state/index.ts';
import { BlockGate } from '../../../node/blockGate.ts';
import { PENDING_MAX } from '../../../node/blockExecutor.ts';

import type { BlockPair } from '../../../node/index.ts';
import { openTestChain, signedCommit, type TestChain } from '../../utils/chain.ts';
import { fixedKey, makeGenesis, signedTransfer } from '../../utils/factories.ts';

const alice = fixedKey(1);
const bob = fixedKey(2);
const vals = [0x31, 0x32, 0x33, 0x34].map(fixedKey).sort((a, b) => compareBytes(a.address, b.address));
const genesis = makeGenesis([alice], { validators: vals, balance: 1000n * ONE_TAG });
const timeAt = (h: number): bigint => genesis.genesisTimeMs + BigInt(h) * 1000n;

function gateOf(chain: TestChain, missing: number[] = [], haltHeight = 0): BlockGate {
  return new BlockGate({
    chainId: genesis.chainId,
    store: chain.store,
    executor: chain.executor,
    log: nullLogger,
    haltHeight,
    onMissingBlock: (h) => missing.push(h),
  });
}

/** A chain of `n` blocks (a transfer in each) committed with 3 of 4 signatures, as sync pairs. */
async function source(dir: string, n: number): Promise<BlockPair[]> {
  const chain = await openTestChain(dir, genesis, vals[0]);
  const pairs: BlockPair[] = [];
  for (let h = 1; h <= n; h++) {
    chain.mempool.add(signedTransfer(alice, h - 1, bob.address, ONE_TAG).bytes);
    const { blockHash } = await chain.executor.buildProposal(h, 0, timeAt(h));
    const commit = signedCommit(genesis.chainId, h, blockHash, vals.slice(0, 3));
    await chain.executor.commitBlock(h, blockHash, commit);
    pairs.push({ height: h, block: (await chain.store.blockBytes(h))!, commit: encodeCommit(commit) });
  }
  await chain.store.close();
  return pairs;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e: unknown) {
    return isChainError(e) ? e.code : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  return 'no error';
}

t.test('synced blocks are verified against the validator set, then executed and committed', async (t) => {
  const dir = t.testdir();
  const pairs = await source(join(dir, 'src'), 5);
  const chain = await openTestChain(join(dir, 'dst'), genesis, vals[1]);
  t.teardown(() => chain.store.close());
  const gate = gateOf(chain);

  const other = signedCommit(genesis.chainId, 1, new Uint8Array(32), vals.slice(0, 3));
  const relabelled = { ...pairs[0]!, commit: encodeCommit({ ...other, blockHash: chain.executor.blockHashOf(pairs[0]!.block) }) };
  t.equal(await codeOf(gate.applySynced([relabelled])), 'COMMIT_BAD_SIGNATURE', 'signatures over another hash do not count');
  const outsider = signedCommit(genesis.chainId, 1, chain.executor.blockHashOf(pairs[0]!.block), [fixedKey(0x40), ...vals.slice(0, 2)]);
  t.equal(await codeOf(gate.applySynced([{ ...pairs[0]!, commit: encodeCommit(outsider) }])), 'COMMIT_UNKNOWN_VALIDATOR');
  const short = signedCommit(genesis.chainId, 1, chain.executor.blockHashOf(pairs[0]!.block), vals.slice(0, 2));
  t.equal(await codeOf(gate.applySynced([{ ...pairs[0]!, commit: encodeCommit(short) }])), 'COMMIT_NO_QUORUM', 'two of four is no quorum');
  t.match(await codeOf(gate.applySynced([{ ...pairs[0]!, block: Uint8Array.of(1, 2, 3) }])), /^CODEC_/, 'bytes that are no block');
  t.equal(await codeOf(gate.applySynced([pairs[1]!])), 'SYNC_WRONG_HEIGHT', 'a gap');
  t.equal(chain.store.head?.height, 0, 'nothing was committed');

  t.equal(await gate.applySynced(pairs.slice(0, 3)), 3);
  t.equal(await gate.applySynced(pairs), 2, 'heights already held are skipped');
  t.equal(chain.store.head?.height, 5);
  t.equal(loadAccount(chain.store.state, bob.address).balance, 5n * ONE_TAG, 'every transfer executed');
});

t.test("sync commits a height the engine is deciding: the engine's commit is dropped, its calls stay safe", async (t) => {
  const dir = t.testdir();
  const pairs = await source(join(dir, 'src'), 2);
  const chain = await openTestChain(join(dir, 'dst'), genesis, vals[1]);
  t.teardown(() => chain.store.close());
  const missing: number[] = [];
  const gate = gateOf(chain, missing);
  // The engine executed the network's block 1 and is waiting for precommits when sync commits it.
  const { blockHash } = await gate.executeProposal(1, pairs[0]!.block);
  const own = await gate.buildProposal(1, 1, timeAt(1) + 5n);
  t.ok(chain.executor.holds(own.blockHash), 'its own proposal for round 1 is held');
  t.equal(await gate.applySynced([pairs[0]!]), 1);
  await gate.commitBlock(1, blockHash, signedCommit(genesis.chainId, 1, blockHash, vals.slice(0, 3)));
  t.equal(chain.store.head?.height, 1, 'committed once');

  const stale = await gate.buildProposal(1, 2, timeAt(1) + 9n);
  t.same(stale.blockHash, blockHash, 'asked to build a committed height, it gets the stored block');
  t.same(gate.proposalBlock(stale.blockHash), pairs[0]!.block, 'and can send its bytes');
  t.same(await gate.executeProposal(1, pairs[0]!.block), { blockHash, valid: false }, 'an old height executes to nil');

  const forked = own.blockHash;
  t.match(await codeOf(gate.commitBlock(1, forked, signedCommit(genesis.chainId, 1, forked, vals.slice(0, 3)))), /AssertionError: two blocks decided at height 1/, 'a second block decided at a committed height halts the node');

  // Height 2: the engine decides a block it no longer holds; sync is asked to fetch it.
  const hash2 = chain.executor.blockHashOf(pairs[1]!.block);
  await gate.commitBlock(2, hash2, signedCommit(genesis.chainId, 2, hash2, vals.slice(0, 3)));
  t.same(missing, [2], 'the missing block goes to sync');
  t.equal(chain.store.head?.height, 1, 'and nothing was committed without it');
  t.equal(await gate.applySynced([pairs[1]!]), 1);
});

t.test('the halt height stops both writers', async (t) => {
  const dir = t.testdir();
  const pairs = await source(join(dir, 'src'), 3);
  const chain = await openTestChain(join(dir, 'dst'), genesis, vals[1]);
  t.teardown(() => chain.store.close());
  const gate = gateOf(chain, [], 2);
  t.equal(await gate.applySynced(pairs), 2, 'sync stops at the halt height');
  await gate.executeProposal(3, pairs[2]!.block);
  const hash3 = chain.executor.blockHashOf(pairs[2]!.block);
  await gate.commitBlock(3, hash3, signedCommit(genesis.chainId, 3, hash3, vals.slice(0, 3)));
  t.equal(chain.store.head?.height, 2, 'the engine commits nothing past it');
});

t.test(`a height with more than ${PENDING_MAX} proposals keeps the newest, and commits the last`, async (t) => {
  const chain = await openTestChain(t.testdir(), genesis, vals[0]);
  t.teardown(() => chain.store.close());
  const hashes: string[] = [];
  let last: Uint8Array = new Uint8Array();
  for (let round = 0; round < PENDING_MAX + 8; round++) {
    ({ blockHash: last } = await chain.executor.buildProposal(1, round, timeAt(1) + BigInt(round)));
    hashes.push(bytesToHex(last));
  }
  t.equal(new Set(hashes).size, hashes.length, 'one block per round (the time differs)');
  const held = hashes.filter((h) => chain.executor.holds(Uint8Array.from(Buffer.from(h, 'hex'))));
  t.same(held, hashes.slice(-PENDING_MAX), 'the newest are held, the oldest evicted');
  await chain.executor.commitBlock(1, last, signedCommit(genesis.chainId, 1, last, vals.slice(0, 3)));
  t.equal(chain.store.head?.height, 1, 'the last round commits');
});

t.test('signatures the mempool checked are not checked again; the parent certificate stored here neither', async (t) => {
  const dir = t.testdir();
  // A block whose one transaction carries a forged signature, built by an executor whose "mempool"
  // hands it out unchecked (block building trusts the mempool's door).
  const genuine = signedTransfer(alice, 0, bob.address, ONE_TAG);
  const forged = decodeSignedTx(new Uint8Array([...genuine.bytes.subarray(0, -1), genuine.bytes[genuine.bytes.length - 1]! ^ 1]));
  const src = await openTestChain(join(dir, 'src'), genesis, vals[0]);
  t.teardown(() => src.store.close());
  const trusting = (held: boolean) => ({ ready: function* () { yield forged; }, remove: () => undefined, afterCommit: () => undefined, has: () => held, hasReady: () => true }) as unknown as Mempool;
  const builder = new BlockExecutor({ chainId: genesis.chainId, store: src.store, mempool: trusting(true), proposer: vals[0]!.address, log: nullLogger });
  const { blockHash } = await builder.buildProposal(1, 0, timeAt(1));
  const block = decodeBlock(builder.proposalBlock(blockHash)!);
  t.equal(block.txs.length, 1);

  const dst = await openTestChain(join(dir, 'dst'), genesis, vals[1]);
  t.teardown(() => dst.store.close());
  t.match(await codeOf(Promise.resolve().then(() => dst.executor.executeBlock(block))), /^BLOCK_TX_REJECTED/, 'a transaction the mempool does not hold is checked, and its forged signature found');
  const believer = new BlockExecutor({ chainId: genesis.chainId, store: dst.store, mempool: trusting(true), proposer: vals[1]!.address, log: nullLogger });
  t.same(believer.executeBlock(block).hash, blockHash, 'one the mempool holds is not checked again');

  // Height 2 carries the certificate of height 1: the bytes stored here pass unchecked; others are checked.
  const commit1 = signedCommit(genesis.chainId, 1, blockHash, vals.slice(0, 3));
  await believer.commitBlock(1, blockHash, commit1);
  const empty = { ready: function* () {}, remove: () => undefined, afterCommit: () => undefined, has: () => true, hasReady: () => false } as unknown as Mempool;
  const builder2 = new BlockExecutor({ chainId: genesis.chainId, store: dst.store, mempool: empty, proposer: vals[0]!.address, log: nullLogger });
  const built2 = decodeBlock(builder2.proposalBlock((await builder2.buildProposal(2, 0, timeAt(2))).blockHash)!);
  t.same(built2.lastCommit, encodeCommit(commit1), 'height 2 carries the stored certificate');
  const forgedCommit = encodeCommit({ ...commit1, signatures: commit1.signatures.map((x, i) => (i === 0 ? { ...x, signature: new Uint8Array(64) } : x)) });
  t.equal(await codeOf(Promise.resolve().then(() => believer.executeBlock({ ...built2, lastCommit: forgedCommit }))), 'BLOCK_BAD_LAST_COMMIT', 'other certificate bytes are verified');
  t.equal(await codeOf(Promise.resolve().then(() => believer.executeBlock(built2))), 'no error', 'the stored certificate passes as it is');
});
