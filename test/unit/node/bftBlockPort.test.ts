/**
 * BlockExecutor as the BFT engine's BftBlockPort: blocks as bytes, executing a peer's proposal, and
 * four BftEngines over real executors (LevelDB in temp dirs, WAL files, signer files) agreeing.
 */
import t from 'tap';
import { join } from 'node:path';
import { bytesToHex, compareBytes, isChainError, nullLogger, ONE_TAG } from '../../../lib/index.ts';
import { decodeBlock, encodeBlock } from '../../../runtime/index.ts';
import {
  BftEngine,
  DEFAULT_BFT_ENGINE_OPTS,
  Signer,
  Wal,
  decodeProposalMessage,
  decodeVoteMessage,
  encodeProposalMessage,
  encodeVoteMessage,
  openWalFile,
  type ConsensusMessage,
  type GossipPort,
} from '../../../consensus/index.ts';
import { loadAccount } from '../../../state/index.ts';
import { systemClock } from '../../../node/node.ts';
import { openTestChain, type TestChain } from '../../utils/chain.ts';
import { fixedKey, makeGenesis, signedTransfer } from '../../utils/factories.ts';

const alice = fixedKey(1);
const bob = fixedKey(2);
const vals = [0x21, 0x22, 0x23, 0x24].map(fixedKey).sort((a, b) => compareBytes(a.address, b.address));
const genesis = makeGenesis([alice], { validators: vals, balance: 1000n * ONE_TAG });

t.test('blocks travel as bytes: built on one node, executed on another, committed there', async (t) => {
  const dir = t.testdir();
  const a = await openTestChain(join(dir, 'a'), genesis, vals[0]);
  const b = await openTestChain(join(dir, 'b'), genesis, vals[1]);
  t.teardown(async () => {
    await a.store.close();
    await b.store.close();
  });
  t.same(a.executor.validatorsAt(1).map((v) => bytesToHex(v.publicKey)), vals.map((k) => bytesToHex(k.publicKey)), 'the set with keys');
  a.mempool.add(signedTransfer(alice, 0, bob.address, 5n * ONE_TAG).bytes);
  const { blockHash } = await a.executor.buildProposal(1, 0, genesis.genesisTimeMs + 1000n);
  const bytes = a.executor.proposalBlock(blockHash);
  t.not(bytes, null, 'the builder holds its block as bytes');
  t.same(a.executor.blockHashOf(bytes!), blockHash, 'the bytes hash to the block hash');
  t.equal(b.executor.proposalBlock(blockHash), null, 'the other node does not hold it yet');
  t.same(await b.executor.executeProposal(1, bytes!), { blockHash, valid: true });
  t.same(b.executor.proposalBlock(blockHash), bytes, 'now it does, byte for byte');

  const block = decodeBlock(bytes!);
  const lying = encodeBlock({ ...block, header: { ...block.header, stateRoot: new Uint8Array(32) } });
  const verdict = await b.executor.executeProposal(1, lying);
  t.equal(verdict.valid, false, 'a block that breaks a rule is invalid, not an error');
  t.same(verdict.blockHash, b.executor.blockHashOf(lying));
  t.equal(b.executor.proposalBlock(verdict.blockHash), null, 'and is not kept');
  t.equal((await b.executor.executeProposal(2, bytes!)).valid, false, 'a block for another height is invalid');
  let code = 'none';
  try {
    await b.executor.executeProposal(1, new Uint8Array([1, 2, 3]));
  } catch (e: unknown) {
    code = isChainError(e) ? e.code : String(e);
  }
  t.match(code, /^CODEC_/, 'bytes that are no block are a codec error');
});

t.test('four BftEngines over real executors commit the same blocks, with a transfer in them', async (t) => {
  const dir = t.testdir();
  const chains: TestChain[] = [];
  const engines: BftEngine[] = [];
  const deliver = (from: number, encoded: { kind: 'vote' | 'proposal'; bytes: Uint8Array }): void => {
    setImmediate(() => {
      engines.forEach((e, i) => {
        if (i === from) return;
        const m: ConsensusMessage = encoded.kind === 'vote'
          ? { kind: 'vote', ...decodeVoteMessage(encoded.bytes) }
          : { kind: 'proposal', ...decodeProposalMessage(encoded.bytes) };
        const r = e.receive(m, `node${from}`);
        if (r.status === 'rejected') t.fail(`node ${i} rejected a message of node ${from}: ${r.error.code}`);
      });
    });
  };
  for (let i = 0; i < 4; i++) {
    const chain = await openTestChain(join(dir, `chain${i}`), genesis, vals[i]);
    chains.push(chain);
    const gossip: GossipPort = {
      broadcastVote: (m) => deliver(i, { kind: 'vote', bytes: encodeVoteMessage(m) }),
      broadcastProposal: (m) => deliver(i, { kind: 'proposal', bytes: encodeProposalMessage(m) }),
      broadcastEvidence: () => t.fail('no validator equivocates here'),
    };
    const signer = await Signer.open({ ...vals[i]!, statePath: join(dir, `signer${i}`) });
    const wal = await Wal.open(await openWalFile(join(dir, `wal${i}`)), { rotateBytes: 1 << 20 }, nullLogger);
    const core = { proposeMs: 1000, prevoteMs: 300, precommitMs: 300, deltaMs: 200, maxRoundsAhead: 10 };
    engines.push(new BftEngine(
      { ...DEFAULT_BFT_ENGINE_OPTS, chainId: genesis.chainId, core, commitWaitMs: 20, rebroadcastMs: 500 },
      { blocks: chain.executor, signer, wal, clock: systemClock, gossip, log: nullLogger, evidence: { addEvidence: () => undefined } },
    ));
  }
  for (const chain of chains) chain.mempool.add(signedTransfer(alice, 0, bob.address, 7n * ONE_TAG).bytes);
  for (const e of engines) e.start();
  const target = 4;
  for (let waited = 0; chains.some((c) => (c.store.head?.height ?? 0) < target) && waited < 60_000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  for (const e of engines) await e.stop();
  const heights = chains.map((c) => c.store.head?.height ?? 0);
  t.ok(heights.every((h) => h >= target), `all reached height ${target} (${heights.join(', ')})`);
  for (let h = 1; h <= target; h++) {
    const hashes = await Promise.all(chains.map(async (c) => bytesToHex((await c.store.blockBytes(h)) ?? new Uint8Array())));
    t.equal(new Set(hashes).size, 1, `one block at height ${h}`);
  }
  t.ok(chains.every((c) => loadAccount(c.store.state, bob.address).balance === 7n * ONE_TAG), 'the transfer is in on every node');
  for (const c of chains) await c.store.close();
});
