/**
 * The BFT engine shell (consensus/engine.ts): WAL before the core, signatures through the guard,
 * replay after a crash, duplicate and future-height handling, message checks.
 */
import t from 'tap';
import { bytesToHex, compareBytes, nullLogger, sign, type Logger } from '../../../lib/index.ts';
import {
  BftEngine,
  DEFAULT_BFT_ENGINE_OPTS,
  Signer,
  VOTE_TYPE,
  Wal,
  advancePriorities,
  proposalSigningBytes,
  proposerOf,
  voteSigningBytes,
  type ClockPort,
  type ConsensusMessage,
  type DuplicateVoteEvidence,
  type ProposalMessage,
  type SignerStateStore,
  type VoteMessage,
  type VotingValidator,
  type WalRecord,
} from '../../../consensus/index.ts';
import { fixedKey, type Key } from '../../utils/factories.ts';
import { MemoryWalFile } from '../../utils/memoryWal.ts';
import { SimBlocks, SimDisk, encodeSimBlock } from '../../sim/simBlocks.ts';

const CHAIN = 'tagger-engine-test';
const keys = [1, 2, 3, 4].map(fixedKey).sort((a, b) => compareBytes(a.address, b.address));
const validators: VotingValidator[] = keys.map((k) => ({ address: k.address, publicKey: k.publicKey, power: 1n }));
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Timers that fire only when the test advances time. */
class ManualClock implements ClockPort {
  now = 1_000n;
  private timers: { at: bigint; resolve: () => void }[] = [];
  nowMs(): bigint {
    return this.now;
  }
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      this.timers.push({ at: this.now + BigInt(ms), resolve });
    });
  }
  async advance(ms: number): Promise<void> {
    this.now += BigInt(ms);
    const due = this.timers.filter((x) => x.at <= this.now).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    this.timers = this.timers.filter((x) => x.at > this.now);
    for (const x of due) x.resolve();
    await flush();
  }
}

/** What survives a crash: the WAL file, the guard state, the committed chain. */
type Disk = { wal: MemoryWalFile; signerText: { value: string | null; saves: number }; chain: SimDisk };
const newDisk = (): Disk => ({ wal: new MemoryWalFile(), signerText: { value: null, saves: 0 }, chain: new SimDisk() });

type Sent = { votes: VoteMessage[]; proposals: ProposalMessage[]; evidence: DuplicateVoteEvidence[] };
type Harness = { engine: BftEngine; blocks: SimBlocks; clock: ManualClock; sent: Sent; faults: string[]; warnings: string[]; disk: Disk };

async function boot(key: Key, disk: Disk, opts: Partial<typeof DEFAULT_BFT_ENGINE_OPTS> = {}, vals = validators): Promise<Harness> {
  const store: SignerStateStore = {
    name: 'memory',
    load: async () => disk.signerText.value,
    save: async (text) => {
      disk.signerText.value = text;
      disk.signerText.saves++;
    },
  };
  const warnings: string[] = [];
  const log: Logger = { ...nullLogger, warn: (_o, msg) => warnings.push(String(msg)), child: () => log };
  const signer = await Signer.openWith(key, store);
  const wal = await Wal.open(disk.wal, { rotateBytes: 2048 }, log);
  const blocks = new SimBlocks({ chainId: CHAIN, validators: vals, maker: 0, disk: disk.chain });
  const clock = new ManualClock();
  const sent: Sent = { votes: [], proposals: [], evidence: [] };
  const faults: string[] = [];
  const engine = new BftEngine(
    { ...DEFAULT_BFT_ENGINE_OPTS, ...opts, chainId: CHAIN },
    {
      blocks, signer, wal, clock, log,
      gossip: {
        broadcastVote: (m) => sent.votes.push(m),
        broadcastProposal: (m) => sent.proposals.push(m),
        broadcastEvidence: (e) => sent.evidence.push(e),
      },
      evidence: { addEvidence: () => undefined },
      onPeerFault: (peer, e) => faults.push(`${peer}:${e.code}`),
      onFatal: (e) => {
        throw e;
      },
    },
  );
  engine.start();
  await flush();
  return { engine, blocks, clock, sent, faults, warnings, disk };
}

const voteMsg = (k: Key, type: 'prevote' | 'precommit', height: number, round: number, blockHash: Uint8Array): ConsensusMessage => {
  const vote = { type: VOTE_TYPE[type], height, round, blockHash, validator: k.address };
  return { kind: 'vote', vote, signature: sign(k.secretKey, voteSigningBytes(CHAIN, vote)) };
};

const proposalMsg = (k: Key, height: number, round: number, tag = 7, validRound = -1): ConsensusMessage & { kind: 'proposal' } => {
  const block = encodeSimBlock({ height, round, maker: 9, tag, valid: true });
  const blockHash = new SimBlocks({ chainId: CHAIN, validators, maker: 0, disk: new SimDisk() }).blockHashOf(block);
  const proposal = { height, round, blockHash, validRound, proposer: k.address };
  return { kind: 'proposal', proposal, signature: sign(k.secretKey, proposalSigningBytes(CHAIN, proposal)), block };
};

/** The key proposing `round` of the engine's current height, and the others. */
function roles(h: Harness, round = 0): { proposer: Key; others: Key[] } {
  const p = proposerOf(h.engine.state, round);
  return { proposer: keys.find((k) => compareBytes(k.address, p) === 0)!, others: keys.filter((k) => compareBytes(k.address, p) !== 0) };
}

/** A validator that does not propose round 0 of height 1. */
async function nonProposerKey(): Promise<Key> {
  const probe = await boot(keys[0]!, newDisk());
  const { proposer } = roles(probe);
  await probe.engine.stop();
  return keys.find((k) => k !== proposer)!;
}

const hexes = (ms: { signature: Uint8Array }[]): string[] => ms.map((m) => bytesToHex(m.signature));
async function walRecords(disk: Disk): Promise<WalRecord[]> {
  const copy = new MemoryWalFile();
  copy.setBytes(disk.wal.bytes().subarray(0, disk.wal.synced));
  return (await Wal.open(copy, { rotateBytes: 1 << 20 }, nullLogger)).takeRecovered();
}

t.test('a lone validator commits height after height with one-signature certificates', async (t) => {
  const key = keys[0]!;
  const disk = newDisk();
  const h = await boot(key, disk, { commitWaitMs: 100 }, [validators[0]!]);
  for (let i = 0; i < 5; i++) await h.clock.advance(100);
  t.ok(disk.chain.height >= 5, `committed ${disk.chain.height} heights`);
  const c = disk.chain.chain[0]!.commit;
  t.equal(c.signatures.length, 1);
  t.same(c.signatures[0]!.validator, key.address);
  t.ok(disk.wal.size <= 2048 + 1024, `the WAL is rotated (${disk.wal.size} bytes)`);
  await h.engine.stop();
});

t.test('every input is in the WAL before the core acts, and synced before the guard signs', async (t) => {
  const key = await nonProposerKey();
  const disk = newDisk();
  const h = await boot(key, disk);
  const { proposer, others } = roles(h);
  const p = proposalMsg(proposer, 1, 0);
  t.same(h.engine.receive(p, 'peerA'), { status: 'accepted' });
  await flush();
  t.equal(h.sent.votes.length, 1, 'prevoted the proposal');
  t.same((await walRecords(disk)).map((r) => r.kind), ['height', 'proposal'], 'the proposal was synced before the prevote was signed');
  await disk.wal.sync();
  const records = await walRecords(disk);
  t.same(records.map((r) => r.kind), ['height', 'proposal', 'vote'], 'marker, the proposal, then the own prevote');
  const proposalRecord = records[1]!;
  t.same(proposalRecord.kind === 'proposal' ? proposalRecord.block : null, p.block, 'the block bytes are logged with the proposal');
  for (const o of others.filter((k) => k !== key).slice(0, 2)) h.engine.receive(voteMsg(o, 'prevote', 1, 0, p.proposal.blockHash), 'peerA');
  await flush();
  t.same(h.sent.votes.map((m) => m.vote.type), [VOTE_TYPE.prevote, VOTE_TYPE.precommit], 'a polka: precommit');
  t.equal(h.engine.state.lockedRound, 0);
  await h.engine.stop();
});

t.test('a restart mid-round replays the WAL and re-broadcasts the same signatures, signing nothing new', async (t) => {
  const key = await nonProposerKey();
  const disk = newDisk();
  let h = await boot(key, disk);
  const { proposer, others } = roles(h);
  const p = proposalMsg(proposer, 1, 0);
  h.engine.receive(p, 'peerA');
  for (const o of others.filter((k) => k !== key).slice(0, 2)) h.engine.receive(voteMsg(o, 'prevote', 1, 0, p.proposal.blockHash), 'peerA');
  await flush();
  const before = h.sent.votes.slice();
  t.equal(before.length, 2, 'prevote and precommit');
  const saves = disk.signerText.saves;
  const state = h.engine.state;
  // Crash: the engine is dropped without stopping; only synced WAL bytes survive.
  disk.wal.crash(0);
  h = await boot(key, disk);
  t.equal(disk.signerText.saves, saves, 'the guard was not asked to sign anything new');
  const own = h.sent.votes.filter((m) => compareBytes(m.vote.validator, key.address) === 0);
  t.same([...new Set(hexes(own))].sort(), hexes(before).sort(), 'the same two signatures went out again, and no other');
  t.ok(h.sent.votes.length > own.length, 'with the prevotes of the round it holds (for peers that lost them)');
  const s = h.engine.state;
  t.same([s.height, s.round, s.step, s.lockedRound], [state.height, state.round, state.step, state.lockedRound], 'the core state is rebuilt');
  t.same(s.lockedValue, state.lockedValue, 'locked on the same block');
  t.same(s.priorities, state.priorities, 'the same proposer priorities');
  await h.engine.stop();
});

t.test('a sync hangs before the guard is asked: a crash there leaves nothing signed', async (t) => {
  const key = await nonProposerKey();
  const disk = newDisk();
  let h = await boot(key, disk);
  const { proposer } = roles(h);
  const p = proposalMsg(proposer, 1, 0);
  disk.wal.hangSyncs = true;
  h.engine.receive(p, 'peerA');
  await flush();
  t.equal(disk.signerText.value, null, 'the guard was not asked: the inputs were not durable yet');
  t.same(h.sent.votes, [], 'nothing left the node');
  disk.wal.crash(0);
  h = await boot(key, disk);
  t.same(h.sent.votes, [], 'the restarted node never saw the proposal');
  h.engine.receive(p, 'peerA');
  await flush();
  t.same(h.sent.votes.map((m) => m.vote.type), [VOTE_TYPE.prevote], 'and prevotes it when it comes again');
  await h.engine.stop();
});

t.test('a crash after signing, before the signed vote is durable: the guard hands back the same signature', async (t) => {
  const key = await nonProposerKey();
  const disk = newDisk();
  let h = await boot(key, disk);
  const { proposer } = roles(h);
  const p = proposalMsg(proposer, 1, 0);
  h.engine.receive(p, 'peerA');
  await flush();
  t.equal(h.sent.votes.length, 1, 'the prevote left the node');
  const sent = h.sent.votes[0]!;
  const signed = disk.signerText.value;
  const saves = disk.signerText.saves;
  t.same((await walRecords(disk)).map((r) => r.kind), ['height', 'proposal'], 'the proposal was durable before the signature existed');
  t.ok(disk.wal.size > disk.wal.synced, 'the prevote record is not durable yet');
  disk.wal.crash(0);
  h = await boot(key, disk);
  t.equal(disk.signerText.saves, saves, 'the guard signed nothing new');
  t.equal(disk.signerText.value, signed, 'the guard state is unchanged');
  t.ok(h.sent.votes.length >= 1, 'the prevote goes out after the replay');
  t.same([...new Set(hexes(h.sent.votes))], hexes([sent]), 'the very same signature, however often it is sent');
  await disk.wal.sync();
  t.same((await walRecords(disk)).map((r) => r.kind), ['height', 'proposal', 'vote'], 'and the prevote is in the WAL now');
  await h.engine.stop();
});

t.test('a WAL that lost synced records (moved aside): the guard keeps the node silent', async (t) => {
  const key = await nonProposerKey();
  const disk = newDisk();
  let h = await boot(key, disk);
  const { proposer } = roles(h);
  h.engine.receive(proposalMsg(proposer, 1, 0), 'peerA');
  await flush();
  t.equal(h.sent.votes.length, 1, 'prevoted the proposal');
  h = await boot(key, { ...disk, wal: new MemoryWalFile() });
  t.equal(h.engine.state.step, 'propose', 'the new core never saw the proposal');
  await h.clock.advance(DEFAULT_BFT_ENGINE_OPTS.core.proposeMs);
  t.equal(h.engine.state.step, 'prevote', 'the propose timeout fired: the core wants to prevote nil');
  t.same(h.sent.votes, [], 'but the guard refused a second prevote for round 0: nothing was sent');
  t.ok(h.warnings.some((w) => w.includes('refused')), 'and said so');
  await h.engine.stop();
});

t.test('duplicates are dropped before the WAL; equivocations are not duplicates', async (t) => {
  const key = await nonProposerKey();
  const disk = newDisk();
  const h = await boot(key, disk);
  const { others } = roles(h);
  const o = others.find((k) => k !== key)!;
  const v = voteMsg(o, 'prevote', 1, 0, new Uint8Array(32).fill(1));
  t.same(h.engine.receive(v, 'a'), { status: 'accepted' });
  t.same(h.engine.receive(v, 'b'), { status: 'ignored', reason: 'DUPLICATE' });
  t.same(h.engine.receive({ ...v }, 'c'), { status: 'ignored', reason: 'DUPLICATE' }, 'by content, not by object');
  const other = voteMsg(o, 'prevote', 1, 0, new Uint8Array(32).fill(2));
  t.same(h.engine.receive(other, 'a'), { status: 'accepted' }, 'a conflicting vote is news');
  await flush();
  await disk.wal.sync();
  const logged = (await walRecords(disk)).filter((r) => r.kind === 'vote');
  t.equal(logged.length, 2, 'each distinct vote logged once');
  t.equal(h.sent.evidence.length, 1, 'the equivocation became evidence');
  await h.engine.stop();
});

t.test('future heights: buffered within bounds, fed at the new height; beyond them ignored', async (t) => {
  const key = keys[0]!;
  const disk = newDisk();
  const vals = [{ ...validators[0]!, power: 10n }, { ...validators[1]!, power: 1n }];
  const h = await boot(key, disk, { futureHeightsMax: 2, futureMessagesMax: 3, commitWaitMs: 50 }, vals);
  const peer = keys[1]!;
  const results = [1, 2, 3, 4].map((i) => h.engine.receive(voteMsg(peer, 'prevote', 2, 0, new Uint8Array(32).fill(i)), 'p'));
  t.same(results.map((r) => (r.status === 'ignored' ? r.reason : r.status)), ['FUTURE_BUFFERED', 'FUTURE_BUFFERED', 'FUTURE_BUFFERED', 'BUFFER_FULL']);
  t.same(h.engine.receive(voteMsg(peer, 'prevote', 4, 0, new Uint8Array(32)), 'p'), { status: 'ignored', reason: 'FUTURE_TOO_FAR' });
  t.same(h.engine.receive(voteMsg(peer, 'prevote', 2, 0, new Uint8Array(32).fill(1)), 'p'), { status: 'ignored', reason: 'DUPLICATE' });
  // The validator with 10 of 11 power commits height 1 alone, then starts height 2.
  await h.clock.advance(50);
  await h.clock.advance(50);
  t.ok(disk.chain.height >= 1, 'height 1 committed');
  await disk.wal.sync();
  const records = await walRecords(disk);
  const fed = records.filter((r) => r.kind === 'vote' && r.vote.height === 2 && compareBytes(r.vote.validator, peer.address) === 0);
  t.equal(fed.length, 3, 'the buffered votes reached the core at height 2');
  t.same(h.engine.receive(voteMsg(peer, 'prevote', 1, 0, new Uint8Array(32)), 'p'), { status: 'ignored', reason: 'OLD_HEIGHT' });
  await h.engine.stop();
});

t.test('bad messages are rejected before the WAL and never counted', async (t) => {
  const key = await nonProposerKey();
  const disk = newDisk();
  const h = await boot(key, disk);
  const { proposer, others } = roles(h);
  const o = others.find((k) => k !== key)!;
  const code = (m: ConsensusMessage): string => {
    const r = h.engine.receive(m, 'bad');
    return r.status === 'rejected' ? r.error.code : r.status;
  };
  const v = voteMsg(o, 'prevote', 1, 0, new Uint8Array(32).fill(1));
  const broken = { ...v, signature: v.signature.slice() };
  broken.signature[5]! ^= 1;
  t.equal(code(broken), 'CONSENSUS_BAD_SIGNATURE', 'a broken signature');
  t.equal(code(voteMsg(fixedKey(99), 'prevote', 1, 0, new Uint8Array(32))), 'CONSENSUS_UNKNOWN_VALIDATOR', 'a stranger');
  if (v.kind === 'vote') {
    const someoneElse = keys.find((k) => k !== o)!.address;
    t.equal(code({ ...v, vote: { ...v.vote, validator: someoneElse } }), 'CONSENSUS_BAD_SIGNATURE', 'a vote re-attributed to another validator');
  }
  t.equal(code(proposalMsg(o, 1, 0)), 'CONSENSUS_WRONG_PROPOSER', 'a proposal out of turn');
  const good = proposalMsg(proposer, 1, 0);
  t.equal(code({ ...good, block: encodeSimBlock({ height: 1, round: 0, maker: 9, tag: 8, valid: true }) }), 'CONSENSUS_BLOCK_HASH_MISMATCH', 'swapped block bytes');
  t.equal(code({ ...good, block: new Uint8Array([1, 2, 3]) }), 'CONSENSUS_BAD_BLOCK', 'bytes that are no block');
  const p = good.proposal;
  const badRound = { ...p, validRound: 0 };
  t.equal(code({ ...good, proposal: badRound, signature: sign(proposer.secretKey, proposalSigningBytes(CHAIN, badRound)) }), 'CONSENSUS_BAD_VALID_ROUND');
  await flush();
  await disk.wal.sync();
  t.same((await walRecords(disk)).map((r) => r.kind), ['height'], 'none of them reached the WAL');
  t.same(h.sent.votes, [], 'nor moved the core');
  t.same(code(good), 'accepted', 'the real proposal still gets in');
  await h.engine.stop();
});

t.test('a restart after a commit starts the next height with the priorities carried on', async (t) => {
  const key = keys[0]!;
  const vals = validators.map((v, i) => ({ ...v, power: i === 0 ? 100n : 1n }));
  const disk = newDisk();
  let h = await boot(key, disk, { commitWaitMs: 10 }, vals);
  for (let i = 0; i < 6; i++) await h.clock.advance(10);
  const s = h.engine.state;
  t.ok(s.height >= 4, `at height ${s.height}`);
  // A lone decider waits out commitWaitMs in 'decided': the restart then starts the next height.
  const decided = s.step === 'decided';
  const height = decided ? s.height + 1 : s.height;
  const reference = decided ? advancePriorities(s.validators, s.priorities, 1) : s.priorities;
  disk.wal.crash(0);
  h = await boot(key, disk, { commitWaitMs: 10 }, vals);
  t.equal(h.engine.state.height, height);
  t.same(h.engine.state.priorities, reference, 'same priorities as the uninterrupted run');
  const last = h.engine.state;
  await h.engine.stop();

  // Without any WAL (a new home for the same chain) the priorities are rebuilt from height 1.
  const fresh: Disk = { ...newDisk(), chain: disk.chain };
  h = await boot(key, fresh, { commitWaitMs: 10 }, vals);
  const expected = last.step === 'decided' ? advancePriorities(last.validators, last.priorities, 1) : last.priorities;
  t.equal(h.engine.state.height, last.step === 'decided' ? last.height + 1 : last.height);
  t.same(h.engine.state.priorities, expected, 'rebuilt from height 1 for an unchanged set');
  await h.engine.stop();
});

t.test('block sync: notifyCommitted moves the engine past heights it did not decide', async (t) => {
  const key = await nonProposerKey();
  const disk = newDisk();
  const h = await boot(key, disk);
  t.equal(h.engine.state.height, 1);
  // Another node's chain: two heights committed with certificates of the other three.
  const other = new SimBlocks({ chainId: CHAIN, validators, maker: 5, disk: new SimDisk() });
  for (let height = 1; height <= 2; height++) {
    const { blockHash } = await other.buildProposal(height, 0);
    const signers = keys.filter((k) => k !== key);
    const signatures = signers
      .map((k) => {
        const v = voteMsg(k, 'precommit', height, 0, blockHash);
        return { validator: k.address, signature: v.signature };
      })
      .sort((a, b) => compareBytes(a.validator, b.validator));
    await other.commitBlock(height, blockHash, { height, round: 0, blockHash, signatures });
    h.blocks.commitSynced(other.disk.chain[height - 1]!);
  }
  h.engine.notifyCommitted();
  await flush();
  t.equal(h.engine.state.height, 3, 'at the height after the synced ones');
  t.equal(h.engine.state.step === 'propose' || h.engine.state.step === 'prevote', true);
  await h.engine.stop();
});
