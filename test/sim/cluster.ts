/**
 * A deterministic simulation of N validators running the real BftEngine (core, WAL replay, signer
 * guard) over a simulated network and clock, after TigerBeetle's VOPR. Everything that would be I/O
 * is memory: the WAL (MemoryWalFile, which knows what was synced), the signer's guard state and the
 * committed chain survive a crash; everything else is lost. All asynchrony is promise chains with
 * no real I/O, so one macrotask turn after an event lets every engine settle, and a seed fixes the
 * whole run.
 *
 * Faults before the global stabilisation time (GST): message loss, delay, duplication, reordering,
 * partitions, crashes (some in the middle of a WAL sync) and restarts. Byzantine validators, with
 * less than a third of the power, stay silent or equivocate (conflicting votes and proposals, signed
 * with their raw key). After GST the network is timely and every honest node is up.
 *
 * Invariants, checked after every event: agreement, validity (every committed block was proposed
 * and is valid), no honest double-sign (every signature an honest node sends, per
 * height/round/step), no evidence against an honest validator, no honest message rejected; and
 * liveness: after GST every honest node commits `liveHeights` more heights within a bound.
 */
import {
  addressFromPublicKey,
  bytesToHex,
  encode,
  nullLogger,
  publicKeyFromSecret,
  sha256,
  sign,
  type Logger,
} from '../../lib/index.ts';
import {
  BftEngine,
  DEFAULT_BFT_ENGINE_OPTS,
  DEFAULT_CORE_CONFIG,
  Signer,
  SIGN_STEP,
  VOTE_TYPE,
  Wal,
  decodeEvidence,
  decodeProposalMessage,
  decodeVoteMessage,
  encodeEvidence,
  encodeProposalMessage,
  encodeVoteMessage,
  proposalSigningBytes,
  verifyCommit,
  voteSigningBytes,
  type ClockPort,
  type ConsensusMessage,
  type GossipPort,
  type ProposalMessage,
  type SignerStateStore,
  type VoteMessage,
  type VotingValidator,
} from '../../consensus/index.ts';
import { MemoryWalFile } from '../utils/memoryWal.ts';
import { rng, type Rng } from './prng.ts';
import { SimBlocks, SimDisk, encodeSimBlock, type SimBlock } from './simBlocks.ts';

export const SIM_CHAIN_ID = 'tagger-sim';

export type Behaviour = 'honest' | 'silent' | 'equivocate';

export type SimConfig = {
  seed: number;
  powers: number[];
  behaviours: Behaviour[];
  /** Before this time faults happen; after it the network is timely and honest nodes are up. */
  gstMs: number;
  lossRate: number;
  dupRate: number;
  maxDelayMs: number;
  crashes: number;
  partitions: number;
  /** Heights every honest node must commit after GST … */
  liveHeights: number;
  /** … within this much simulated time. */
  liveWithinMs: number;
};

type Event = { at: number; seq: number; run: () => void };

/** A timer/event queue in simulated milliseconds. */
class SimTime {
  now = 0;
  private seq = 0;
  private events: Event[] = [];

  at(at: number, run: () => void): void {
    const e = { at: Math.max(at, this.now), seq: this.seq++, run };
    // Binary insertion keeps the queue sorted by (at, seq).
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.events[mid]!;
      if (m.at < e.at || (m.at === e.at && m.seq < e.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.events.splice(lo, 0, e);
  }

  pop(): Event | undefined {
    const e = this.events.shift();
    if (e !== undefined) this.now = e.at;
    return e;
  }
}

type Key = { secretKey: Uint8Array; publicKey: Uint8Array; address: Uint8Array };

type Node = {
  index: number;
  key: Key;
  behaviour: Behaviour;
  disk: SimDisk;
  walFile: MemoryWalFile;
  signerText: { value: string | null };
  engine: BftEngine | null;
  blocks: SimBlocks | null;
  /** Bumped at each crash: timers and messages of an older life are dropped. */
  life: number;
  up: boolean;
  crashes: number;
};

export type SimResult = {
  ok: boolean;
  failure: string | null;
  events: number;
  heights: number[];
  simMs: number;
  evidence: number;
  crashes: number;
  replays: number;
  rejectedByzantine: number;
};

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class SimCluster {
  readonly cfg: SimConfig;
  private readonly rand: Rng;
  private readonly time = new SimTime();
  private readonly nodes: Node[] = [];
  private readonly validators: VotingValidator[];
  private violations: string[] = [];
  private readonly committed = new Map<number, string>();
  private readonly proposed = new Map<string, SimBlock>();
  private readonly honestSigned = new Map<string, string>();
  private partition: Set<number> | null = null;
  private evidence = 0;
  private replays = 0;
  private rejectedByzantine = 0;
  private readonly rawSignatures = new Map<string, Uint8Array>();
  private readonly log: Logger;

  constructor(cfg: SimConfig, log: Logger = nullLogger) {
    this.cfg = cfg;
    this.log = log;
    this.rand = rng(cfg.seed);
    const keys = cfg.powers.map((_, i) => {
      const secretKey = sha256(encode([`sim-key`, cfg.seed, i]));
      const publicKey = publicKeyFromSecret(secretKey);
      return { secretKey, publicKey, address: addressFromPublicKey(publicKey) };
    });
    this.validators = keys
      .map((k, i) => ({ address: k.address, publicKey: k.publicKey, power: BigInt(cfg.powers[i]!) }))
      .sort((a, b) => bytesToHex(a.address).localeCompare(bytesToHex(b.address)));
    keys.forEach((key, index) => {
      this.nodes.push({
        index, key, behaviour: cfg.behaviours[index]!, disk: new SimDisk(), walFile: new MemoryWalFile(`wal-${index}`),
        signerText: { value: null }, engine: null, blocks: null, life: 0, up: false, crashes: 0,
      });
    });
  }

  private honest(n: Node): boolean {
    return n.behaviour === 'honest';
  }

  /** SIMTRACE=1 prints what happens, for replaying one seed. */
  private trace(what: string): void {
    if (process.env.SIMTRACE !== undefined) console.log(`t=${this.time.now} ${what}`);
  }

  private violation(why: string): void {
    this.violations.push(`t=${this.time.now}ms: ${why}`);
  }

  private clockFor(node: Node): ClockPort {
    const life = node.life;
    return {
      nowMs: () => BigInt(this.time.now),
      sleep: (ms, signal) =>
        new Promise<void>((resolve) => {
          // The simulation never stops an engine (a crash just drops it), so no abort listener.
          if (signal.aborted) return resolve();
          this.time.at(this.time.now + ms, () => {
            if (node.life === life) resolve();
          });
        }),
    };
  }

  // ---- the network ----------------------------------------------------------------------------

  private reachable(from: number, to: number): boolean {
    return this.partition === null || this.partition.has(from) === this.partition.has(to);
  }

  /** One copy of `bytes` from `from` to `to`, subject to the network's faults. */
  private send(from: number, to: number, kind: 'proposal' | 'vote' | 'evidence', bytes: Uint8Array): void {
    const beforeGst = this.time.now < this.cfg.gstMs;
    if (beforeGst && (!this.reachable(from, to) || this.rand.chance(this.cfg.lossRate))) return;
    const copies = beforeGst && this.rand.chance(this.cfg.dupRate) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const delay = 1 + this.rand.int(0, beforeGst ? this.cfg.maxDelayMs : 40);
      this.time.at(this.time.now + delay, () => this.deliver(from, to, kind, bytes));
    }
  }

  private deliver(from: number, to: number, kind: 'proposal' | 'vote' | 'evidence', bytes: Uint8Array): void {
    const node = this.nodes[to]!;
    if (!node.up || node.engine === null || kind === 'evidence') {
      if (kind === 'evidence') decodeEvidence(bytes);
      return;
    }
    const message: ConsensusMessage = kind === 'vote'
      ? { kind: 'vote', ...decodeVoteMessage(bytes) }
      : { kind: 'proposal', ...decodeProposalMessage(bytes) };
    const verdict = node.engine.receive(message, `node${from}`);
    // Gossip: an honest node relays what its engine accepted, as gossipsub does.
    if (verdict.status === 'accepted' && this.honest(node)) this.broadcast(to, kind, bytes);
    if (verdict.status === 'rejected') {
      if (this.honest(this.nodes[from]!)) this.violation(`node ${to} rejected an honest message from ${from}: ${verdict.error.code}`);
      else this.rejectedByzantine++;
    }
  }

  private broadcast(from: number, kind: 'proposal' | 'vote' | 'evidence', bytes: Uint8Array): void {
    for (const n of this.nodes) if (n.index !== from) this.send(from, n.index, kind, bytes);
  }

  /** Honest nodes: every signature is recorded per height/round/step and must never change. */
  private recordSigned(node: Node, height: number, round: number, step: number, signBytes: Uint8Array): void {
    this.trace(`node ${node.index} sends ${height}/${round}/step ${step}`);
    const key = `${node.index}/${height}/${round}/${step}`;
    const value = bytesToHex(signBytes);
    const had = this.honestSigned.get(key);
    if (had !== undefined && had !== value) this.violation(`honest node ${node.index} double-signed at ${height}/${round}/step ${step}`);
    this.honestSigned.set(key, value);
  }

  private gossipFor(node: Node): GossipPort {
    const life = node.life;
    const live = (): boolean => node.up && node.life === life;
    return {
      broadcastVote: (m) => {
        if (!live()) return;
        // The engine also passes on votes of others (rebroadcast, proof-of-lock): not its signatures.
        const mine = bytesToHex(m.vote.validator) === bytesToHex(node.key.address);
        const step = m.vote.type === VOTE_TYPE.prevote ? SIGN_STEP.prevote : SIGN_STEP.precommit;
        if (mine && this.honest(node)) this.recordSigned(node, m.vote.height, m.vote.round, step, voteSigningBytes(SIM_CHAIN_ID, m.vote));
        if (mine && node.behaviour === 'equivocate') return this.equivocateVote(node, m);
        this.broadcast(node.index, 'vote', encodeVoteMessage(m));
      },
      broadcastProposal: (m) => {
        if (!live()) return;
        if (this.honest(node)) this.recordSigned(node, m.proposal.height, m.proposal.round, SIGN_STEP.proposal, proposalSigningBytes(SIM_CHAIN_ID, m.proposal));
        if (node.behaviour === 'equivocate') return this.equivocateProposal(node, m);
        this.broadcast(node.index, 'proposal', encodeProposalMessage(m));
      },
      broadcastEvidence: (e) => {
        if (!live()) return;
        this.evidence++;
        for (const sv of [e.first, e.second]) {
          const culprit = this.nodes.find((n) => bytesToHex(n.key.address) === bytesToHex(sv.vote.validator));
          if (culprit !== undefined && this.honest(culprit)) this.violation(`evidence against honest node ${culprit.index}`);
        }
        this.broadcast(node.index, 'evidence', encodeEvidence(e));
      },
    };
  }

  /**
   * Each peer gets the real vote or, half the time, a conflicting one signed with the raw key; now
   * and then also a forgery (a broken signature, a proposal out of turn) that must be rejected.
   */
  private equivocateVote(node: Node, m: VoteMessage): void {
    if (this.rand.chance(0.2)) this.forge(node, m);
    for (const peer of this.nodes) {
      if (peer.index === node.index) continue;
      if (this.rand.chance(0.5)) {
        this.send(node.index, peer.index, 'vote', encodeVoteMessage(m));
        continue;
      }
      const blockHash = this.rand.chance(0.5) ? new Uint8Array(0) : sha256(encode(['byz', m.vote.height, m.vote.round, this.rand.int(0, 3)]));
      const vote = { ...m.vote, blockHash };
      this.send(node.index, peer.index, 'vote', encodeVoteMessage({ vote, signature: this.rawSign(node, voteSigningBytes(SIM_CHAIN_ID, vote)) }));
    }
  }

  /** A Byzantine signature, bypassing the guard; memoised (the same few conflicting votes recur). */
  private rawSign(node: Node, bytes: Uint8Array): Uint8Array {
    const key = `${node.index}/${bytesToHex(bytes)}`;
    let signature = this.rawSignatures.get(key);
    if (signature === undefined) {
      signature = sign(node.key.secretKey, bytes);
      this.rawSignatures.set(key, signature);
    }
    return signature;
  }

  private forge(node: Node, m: VoteMessage): void {
    const to = this.rand.pick(this.nodes.filter((n) => n.index !== node.index)).index;
    const signature = m.signature.slice();
    signature[this.rand.int(0, 63)]! ^= 0x10;
    this.send(node.index, to, 'vote', encodeVoteMessage({ vote: m.vote, signature }));
    const made: SimBlock = { height: m.vote.height, round: m.vote.round, maker: node.index, tag: 2_000_000, valid: true };
    const block = encodeSimBlock(made);
    // Out of turn unless this validator happens to propose the next round: then it is a proposal.
    this.proposed.set(bytesToHex(sha256(block)), made);
    const proposal = { height: m.vote.height, round: m.vote.round + 1, blockHash: sha256(block), validRound: -1, proposer: node.key.address };
    const proposalSig = sign(node.key.secretKey, proposalSigningBytes(SIM_CHAIN_ID, proposal));
    this.send(node.index, to, 'proposal', encodeProposalMessage({ proposal, signature: proposalSig, block }));
  }

  /**
   * Half the peers get another block (sometimes an invalid one) under the same height and round;
   * now and then one gets block bytes that do not match the signed hash, or are not a block.
   */
  private equivocateProposal(node: Node, m: ProposalMessage): void {
    const other: SimBlock = { height: m.proposal.height, round: m.proposal.round, maker: node.index, tag: 1_000_000 + this.rand.int(0, 1000), valid: this.rand.chance(0.7) };
    const bytes = encodeSimBlock(other);
    const blockHash = sha256(bytes);
    this.proposed.set(bytesToHex(blockHash), other);
    const proposal = { ...m.proposal, blockHash };
    const forged = encodeProposalMessage({ proposal, signature: sign(node.key.secretKey, proposalSigningBytes(SIM_CHAIN_ID, proposal)), block: bytes });
    const real = encodeProposalMessage(m);
    for (const peer of this.nodes) {
      if (peer.index !== node.index) this.send(node.index, peer.index, 'proposal', this.rand.chance(0.5) ? real : forged);
    }
    if (this.rand.chance(0.3)) {
      const to = this.rand.pick(this.nodes.filter((n) => n.index !== node.index)).index;
      const swapped = this.rand.chance(0.5) ? bytes : new Uint8Array([0xc1, 1, 2]);
      this.send(node.index, to, 'proposal', encodeProposalMessage({ ...m, block: swapped }));
    }
  }

  // ---- nodes: start, crash, restart, sync ------------------------------------------------------

  private async boot(node: Node): Promise<void> {
    node.up = true;
    const signerStore: SignerStateStore = {
      name: `signer-${node.index}`,
      load: async () => node.signerText.value,
      save: async (text) => {
        node.signerText.value = text;
      },
    };
    const signer = await Signer.openWith(node.key, signerStore);
    const wal = await Wal.open(node.walFile, { rotateBytes: 4096 }, this.log);
    const blocks = new SimBlocks({
      chainId: SIM_CHAIN_ID,
      validators: this.validators,
      maker: node.index,
      disk: node.disk,
      hooks: {
        onBuilt: (hash, block) => this.proposed.set(bytesToHex(hash), block),
        onCommit: (height, hash, block) => this.onCommit(node, height, hash, block),
      },
    });
    if (node.crashes > 0 && node.walFile.size > 0) this.replays++;
    const engine = new BftEngine(
      { ...DEFAULT_BFT_ENGINE_OPTS, chainId: SIM_CHAIN_ID, core: DEFAULT_CORE_CONFIG, commitWaitMs: 300, rebroadcastMs: 1500 },
      {
        blocks, signer, wal, log: this.log, clock: this.clockFor(node), gossip: this.gossipFor(node),
        evidence: { addEvidence: () => undefined },
        onPeerFault: (peer, error) => {
          const from = this.nodes[Number(peer.slice('node'.length))]!;
          if (this.honest(from)) this.violation(`node ${node.index} blamed honest node ${from.index}: ${error.code}`);
          else this.rejectedByzantine++;
        },
        onFatal: (e) => this.violation(`node ${node.index} engine failed: ${e instanceof Error ? e.stack : String(e)}`),
      },
    );
    node.engine = engine;
    node.blocks = blocks;
    engine.start();
  }

  private onCommit(node: Node, height: number, hash: Uint8Array, block: SimBlock): void {
    const id = bytesToHex(hash);
    const had = this.committed.get(height);
    if (had !== undefined && had !== id) this.violation(`agreement: height ${height} committed as ${had} and ${id} (node ${node.index})`);
    this.committed.set(height, id);
    const proposed = this.proposed.get(id);
    if (proposed === undefined) this.violation(`validity: node ${node.index} committed a block nobody proposed at ${height}`);
    if (!block.valid || block.height !== height) this.violation(`validity: node ${node.index} committed an invalid block at ${height}`);
  }

  /**
   * A crash: the engine is dropped, timers and in-flight messages of its life die, the WAL keeps its
   * synced bytes and a random part of the rest. `midSync`: first the next WAL sync hangs, so the
   * crash can fall between a signature and its durable record.
   */
  private crash(node: Node, midSync: boolean): void {
    if (!node.up) return;
    if (midSync) {
      node.walFile.hangSyncs = true;
      this.time.at(this.time.now + this.rand.int(1, 30), () => this.crash(node, false));
      return;
    }
    node.up = false;
    node.life++;
    node.crashes++;
    node.engine = null;
    node.blocks = null;
    node.walFile.crash(this.rand.int(0, node.walFile.size - node.walFile.synced));
  }

  /** Block sync: a node behind a peer it can reach takes the next block and certificate from it. */
  private syncRound(): void {
    for (const node of this.nodes) {
      if (!node.up || node.blocks === null || node.engine === null || !this.honest(node)) continue;
      const next = node.disk.height + 1;
      const source = this.nodes.find((p) => p.up && p.disk.height >= next && this.reachable(p.index, node.index));
      if (source === undefined) continue;
      const block = source.disk.chain[next - 1]!;
      verifyCommit(SIM_CHAIN_ID, block.commit, next, block.hash, this.validators);
      node.blocks.commitSynced(block);
      node.engine.notifyCommitted();
    }
  }

  // ---- the run -------------------------------------------------------------------------------------

  private scheduleFaults(): void {
    const { gstMs } = this.cfg;
    const honest = this.nodes.filter((n) => this.honest(n));
    for (let i = 0; i < this.cfg.crashes; i++) {
      const node = this.rand.pick(honest);
      const at = this.rand.int(100, gstMs - 1000);
      const midSync = this.rand.chance(0.5);
      this.time.at(at, () => this.crash(node, midSync));
      this.time.at(at + this.rand.int(200, 3000), () => {
        if (!node.up) void this.boot(node);
      });
    }
    for (let i = 0; i < this.cfg.partitions; i++) {
      const at = this.rand.int(0, gstMs - 500);
      const side = new Set(this.nodes.filter(() => this.rand.chance(0.5)).map((n) => n.index));
      this.time.at(at, () => {
        this.partition = side;
      });
      this.time.at(Math.min(gstMs, at + this.rand.int(500, 4000)), () => {
        this.partition = null;
      });
    }
    this.time.at(gstMs, () => {
      this.partition = null;
      for (const n of honest) if (!n.up) void this.boot(n);
    });
    const syncEvery = (at: number): void =>
      this.time.at(at, () => {
        this.syncRound();
        syncEvery(at + 1000);
      });
    syncEvery(1000);
  }

  heights(): number[] {
    return this.nodes.map((n) => n.disk.height);
  }

  async run(): Promise<SimResult> {
    for (const n of this.nodes) if (n.behaviour !== 'silent') await this.boot(n);
    await flush();
    this.scheduleFaults();
    const honest = this.nodes.filter((n) => this.honest(n));
    let target: number | null = null;
    let deadline = Infinity;
    let events = 0;
    const result = (failure: string | null): SimResult => ({
      ok: failure === null, failure, events, heights: this.heights(), simMs: this.time.now, evidence: this.evidence,
      crashes: this.nodes.reduce((a, n) => a + n.crashes, 0), replays: this.replays, rejectedByzantine: this.rejectedByzantine,
    });
    for (;;) {
      const event = this.time.pop();
      if (event === undefined) return result('the event queue ran dry');
      event.run();
      await flush();
      events++;
      if (this.violations.length > 0) return result(this.violations.join('; '));
      if (target === null && this.time.now >= this.cfg.gstMs) {
        target = Math.max(...this.heights()) + this.cfg.liveHeights;
        deadline = this.cfg.gstMs + this.cfg.liveWithinMs;
      }
      if (target !== null && honest.every((n) => n.disk.height >= target!)) return result(null);
      if (this.time.now > deadline) {
        const where = honest.map((n) => `node ${n.index}: h${n.disk.height} ${n.engine === null ? 'down' : `${n.engine.state.height}/r${n.engine.state.round}/${n.engine.state.step}`}`);
        return result(`liveness: honest nodes short of height ${target} ${this.cfg.liveWithinMs}ms after GST (${where.join(', ')})`);
      }
    }
  }
}

/** A random scenario for `seed`: 4 to 7 validators, Byzantine ones under a third of the power. */
export function scenario(seed: number): SimConfig {
  const r = rng(seed ^ 0x5eed);
  const n = r.pick([4, 4, 5, 7]);
  const powers = Array.from({ length: n }, () => (r.chance(0.5) ? 1 : r.int(1, 5)));
  const total = powers.reduce((a, b) => a + b, 0);
  const behaviours: Behaviour[] = powers.map(() => 'honest');
  let byzPower = 0;
  const order = Array.from({ length: n }, (_, k) => k);
  for (let k = n - 1; k > 0; k--) {
    const j = r.int(0, k);
    [order[k], order[j]] = [order[j]!, order[k]!];
  }
  for (const i of order) {
    if (3 * (byzPower + powers[i]!) < total && r.chance(0.7)) {
      behaviours[i] = r.chance(0.5) ? 'equivocate' : 'silent';
      byzPower += powers[i]!;
    }
  }
  return {
    seed, powers, behaviours, gstMs: r.int(4000, 12000), lossRate: r.pick([0, 0.1, 0.3]), dupRate: 0.05,
    maxDelayMs: r.pick([50, 300, 1500]), crashes: r.int(0, 3), partitions: r.int(0, 2), liveHeights: 3, liveWithinMs: 120_000,
  };
}
