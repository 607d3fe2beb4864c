/**
 * The BFT engine: the shell around the Tendermint core (consensus/core/machine.ts), after CometBFT's
 * receiveRoutine. One loop takes one input at a time from a bounded queue, appends it to the WAL,
 * runs `transition()` and carries out the effects in order. docs/spec/consensus.md §Engine.
 *
 * - Messages are checked before they are queued (signer in the height's set, signature) and
 *   de-duplicated; those of the next `futureHeightsMax` heights wait in a bounded buffer until the
 *   engine reaches their height.
 * - A proposal carries its block: the node executes it (`executeProposal`) and its verdict is the
 *   core's `blockValid`. The WAL keeps each block's bytes once per height, for the replay.
 * - Before it asks the signer for a signature the engine syncs the WAL, so every input behind the
 *   request is durable; the signer's guard is on disk before the signature exists (the Signer).
 * - On start it replays the WAL records of the unfinished height through the same `transition()`:
 *   nothing is logged or signed again; its own messages come back from the log with their
 *   signatures and are broadcast again. Effects the log shows were never carried out (a crash
 *   between an input and its consequences) are carried out after the replay, through the guard.
 * - When nothing changes for `rebroadcastMs`, it sends its messages of the current round again:
 *   the network may have lost them, and Tendermint's liveness needs them delivered eventually.
 */
import { assert, assertNever, bytesToHex, equalBytes, isChainError, type Logger } from '../lib/index.ts';
import {
  DEFAULT_CORE_CONFIG,
  initialState,
  proposerOf,
  sameValidators,
  transition,
  type CoreConfig,
  type Effect,
  type Input,
  type RoundState,
  type TimeoutStep,
} from './core/machine.ts';
import { advancePriorities, type CoreValidator } from './core/proposer.ts';
import { ConsensusMessageError, SignerError, type ConsensusMessageErrorType } from './errors.ts';
import { verifyProposalMessage, verifyVoteMessage, type ConsensusMessage } from './messages.ts';
import type { BftBlockPort, ClockPort, ConsensusEngine, EvidencePort, GossipPort } from './ports.ts';
import { SIGN_STEP, type Signer } from './signer.ts';
import { VOTE_TYPE, type VotingValidator } from './types.ts';
import type { Wal, WalHeightRecord, WalRecord } from './wal.ts';

export type BftEngineOpts = {
  chainId: string;
  core: CoreConfig;
  /** Wait after a commit before the next height (CometBFT's timeout_commit): paces blocks, lets stragglers vote. */
  commitWaitMs: number;
  /** Resend this node's messages of the current round when nothing changed for this long. */
  rebroadcastMs: number;
  /** Peer messages waiting for the loop. */
  inputQueueMax: number;
  /** Heights past the current one whose messages are buffered. */
  futureHeightsMax: number;
  /** Messages buffered for those heights, in all. */
  futureMessagesMax: number;
  /** Message ids remembered per height to drop duplicates. */
  seenPerHeightMax: number;
  /** A node without WAL history computes proposer priorities from height 1 only this far. */
  priorityStepsMax: number;
};

export const DEFAULT_BFT_ENGINE_OPTS: Omit<BftEngineOpts, 'chainId'> = {
  core: DEFAULT_CORE_CONFIG,
  commitWaitMs: 1000,
  rebroadcastMs: 2000,
  inputQueueMax: 10_000,
  futureHeightsMax: 2,
  futureMessagesMax: 2_000,
  seenPerHeightMax: 50_000,
  priorityStepsMax: 1_000_000,
};

export type BftEngineDeps = {
  blocks: BftBlockPort;
  signer: Signer;
  clock: ClockPort;
  gossip: GossipPort;
  evidence: EvidencePort;
  /** Opened by the caller; the engine owns it from here and closes it on stop. */
  wal: Wal;
  log: Logger;
  /** A message the core found invalid after it was queued (the network scores `peer` down). */
  onPeerFault?: (peer: string, error: ConsensusMessageError) => void;
  /** The loop stopped on an error (a broken invariant, a failing disk). Without it the error is rethrown. */
  onFatal?: (error: unknown) => void;
};

export type IgnoreReason =
  | 'NOT_STARTED'
  | 'DUPLICATE'
  | 'OLD_HEIGHT'
  | 'ROUND_TOO_FAR'
  | 'FUTURE_BUFFERED'
  | 'FUTURE_TOO_FAR'
  | 'QUEUE_FULL'
  | 'BUFFER_FULL';
/** `accepted`: valid and queued (relay it); `ignored`: harmless, do not relay; `rejected`: invalid, score the sender down. */
export type ReceiveResult =
  | { status: 'accepted' }
  | { status: 'ignored'; reason: IgnoreReason }
  | { status: 'rejected'; error: ConsensusMessageError };

type Item =
  | { kind: 'message'; message: ConsensusMessage; peer: string | null; verified: boolean }
  | { kind: 'timeout'; step: TimeoutStep; height: number; round: number }
  | { kind: 'newHeight' }
  | { kind: 'tick'; generation: number };

type Anchor = { height: number; validators: CoreValidator[]; priorities: bigint[] };
type SignRequest = Extract<Effect, { kind: 'signAndBroadcast' }>['message'];

const EMPTY = new Uint8Array(0);
const hex = bytesToHex;

function heightOf(m: ConsensusMessage): number {
  return m.kind === 'vote' ? m.vote.height : m.proposal.height;
}

/** Identifies a message by content: equivocations differ, repeats do not. */
function messageId(m: ConsensusMessage): string {
  if (m.kind === 'vote') {
    const v = m.vote;
    return `v/${v.round}/${v.type}/${hex(v.validator)}/${hex(v.blockHash)}`;
  }
  const p = m.proposal;
  return `p/${p.round}/${p.validRound}/${hex(p.blockHash)}`;
}

function signStep(message: SignRequest): number {
  if (message.kind === 'proposal') return SIGN_STEP.proposal;
  return message.vote.type === VOTE_TYPE.prevote ? SIGN_STEP.prevote : SIGN_STEP.precommit;
}

const ignored = (reason: IgnoreReason): ReceiveResult => ({ status: 'ignored', reason });

export class BftEngine implements ConsensusEngine {
  private readonly opts: BftEngineOpts;
  private readonly deps: BftEngineDeps;
  private readonly log: Logger;
  private readonly abort = new AbortController();
  private core: RoundState;
  /** The current height's validators, with keys. */
  private validators: VotingValidator[] = [];
  private anchor: Anchor | null = null;
  private readonly queue: Item[] = [];
  private queuedMessages = 0;
  private readonly future = new Map<number, { message: ConsensusMessage; peer: string | null }[]>();
  private futureCount = 0;
  private readonly seen = new Map<number, Set<string>>();
  /** This node's signed messages of the current height, by `round/step`, to send again. */
  private own = new Map<string, ConsensusMessage>();
  /** Blocks whose bytes the WAL already holds for this height. */
  private walBlocks = new Set<string>();
  private replaying = false;
  /** Effects met during the replay that the log does not show as carried out. */
  private deferred: Effect[] = [];
  /** The sender of the input being handled, for peer faults the core reports. */
  private peer: string | null = null;
  private ready = false;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private idleWaiters: (() => void)[] = [];
  private tickGeneration = 0;
  private progressMark = '';

  constructor(opts: BftEngineOpts, deps: BftEngineDeps) {
    this.opts = opts;
    this.deps = deps;
    this.log = deps.log;
    this.core = initialState(opts.core);
  }

  /** The core's state (read-only: for status, metrics and tests). */
  get state(): RoundState {
    return this.core;
  }

  start(): void {
    if (this.loop !== null) return;
    this.loop = this.run().catch((e: unknown) => {
      this.stopped = true;
      this.log.error({ err: e }, 'Consensus engine stopped on an error');
      this.resolveIdle();
      if (this.deps.onFatal === undefined) throw e;
      this.deps.onFatal(e);
    });
  }

  /** Stops after the input in hand; closes the WAL. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    if (this.loop !== null) await this.loop.catch(() => undefined);
    await this.deps.wal.close();
    this.resolveIdle();
  }

  /** Resolves once the queue is empty and no input is in hand (tests and simulations). */
  whenIdle(): Promise<void> {
    if (this.stopped || (this.ready && this.queue.length === 0 && this.wake !== null)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** The node committed blocks by block sync: move on to the height after the last committed one. */
  notifyCommitted(): void {
    this.push({ kind: 'newHeight' });
  }

  /**
   * A message from the network (`peer`: who sent it, null if unknown). Messages of the current
   * height get every check that needs no execution here (signer, signature; for a proposal also
   * the round's proposer, its valid round and that its block bytes hash to the proposed hash), so
   * the verdict can steer relaying and peer scores: a relayed message that passes them is never
   * held against the relayer.
   */
  receive(message: ConsensusMessage, peer: string | null = null): ReceiveResult {
    if (!this.ready || this.stopped) return ignored('NOT_STARTED');
    const height = heightOf(message);
    if (height < this.core.height) return ignored('OLD_HEIGHT');
    if (height > this.core.height + this.opts.futureHeightsMax) return ignored('FUTURE_TOO_FAR');
    const id = messageId(message);
    if (this.seen.get(height)?.has(id) === true) return ignored('DUPLICATE');
    if (height > this.core.height) {
      if (this.futureCount >= this.opts.futureMessagesMax) return ignored('BUFFER_FULL');
      this.markSeen(height, id);
      this.bufferFuture(height, message, peer);
      return ignored('FUTURE_BUFFERED');
    }
    if (this.roundTooFar(message)) return ignored('ROUND_TOO_FAR');
    try {
      this.check(message);
    } catch (e: unknown) {
      if (e instanceof ConsensusMessageError) return { status: 'rejected', error: e };
      throw e;
    }
    if (this.queuedMessages >= this.opts.inputQueueMax) return ignored('QUEUE_FULL');
    this.markSeen(height, id);
    this.push({ kind: 'message', message, peer, verified: true });
    return { status: 'accepted' };
  }

  /** V1/V2: rounds past round + maxRoundsAhead are ignored (this also bounds the proposer lookup). */
  private roundTooFar(m: ConsensusMessage): boolean {
    const round = m.kind === 'vote' ? m.vote.round : m.proposal.round;
    return round > this.core.round + this.core.config.maxRoundsAhead;
  }

  /** The checks of a current-height message that need no execution; throws ConsensusMessageError. */
  private check(m: ConsensusMessage): void {
    if (m.kind === 'vote') {
      verifyVoteMessage(this.opts.chainId, m, this.validators);
      return;
    }
    const p = m.proposal;
    const at = { height: p.height, round: p.round };
    if (p.validRound < -1 || p.validRound >= p.round) throw new ConsensusMessageError({ code: 'CONSENSUS_BAD_VALID_ROUND', ...at });
    if (!equalBytes(proposerOf(this.core, p.round), p.proposer)) {
      throw new ConsensusMessageError({ code: 'CONSENSUS_WRONG_PROPOSER', proposer: hex(p.proposer), ...at });
    }
    verifyProposalMessage(this.opts.chainId, m, this.validators);
    // Held already: the bytes must still be that block, or relaying them would pass on a forgery.
    const known = this.deps.blocks.proposalBlock(p.blockHash);
    if (known !== null && equalBytes(known, m.block)) return;
    let hash: Uint8Array;
    try {
      hash = this.deps.blocks.blockHashOf(m.block);
    } catch (e: unknown) {
      if (!isChainError(e)) throw e;
      throw new ConsensusMessageError({ code: 'CONSENSUS_BAD_BLOCK', ...at, reason: e.message });
    }
    if (!equalBytes(hash, p.blockHash)) throw new ConsensusMessageError({ code: 'CONSENSUS_BLOCK_HASH_MISMATCH', ...at });
  }

  private push(item: Item): void {
    if (this.stopped) return;
    if (item.kind === 'message') this.queuedMessages++;
    this.queue.push(item);
    this.wake?.();
  }

  private markSeen(height: number, id: string): void {
    let ids = this.seen.get(height);
    if (ids === undefined) {
      ids = new Set();
      this.seen.set(height, ids);
    }
    // Past the bound, repeats reach the core, which ignores them too: slower, never wrong.
    if (ids.size < this.opts.seenPerHeightMax) ids.add(id);
  }

  private bufferFuture(height: number, message: ConsensusMessage, peer: string | null): void {
    let list = this.future.get(height);
    if (list === undefined) {
      list = [];
      this.future.set(height, list);
    }
    list.push({ message, peer });
    this.futureCount++;
  }

  private resolveIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private async run(): Promise<void> {
    await this.recover();
    this.ready = true;
    this.scheduleTick();
    while (!this.stopped) {
      const item = this.queue.shift();
      if (item === undefined) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.resolveIdle();
        });
        this.wake = null;
        continue;
      }
      if (item.kind === 'message') this.queuedMessages--;
      await this.handle(item);
    }
  }

  private async handle(item: Item): Promise<void> {
    switch (item.kind) {
      case 'message':
        this.peer = item.peer;
        try {
          await this.onMessage(item.message, item.verified);
        } finally {
          this.peer = null;
        }
        return;
      case 'timeout': {
        const c = this.core;
        if (item.height !== c.height || item.round !== c.round || c.step === 'decided' || c.step === 'idle') return;
        const input: Input = { kind: 'timeout', step: item.step, height: item.height, round: item.round };
        await this.feed({ kind: 'timeout', step: item.step, height: item.height, round: item.round }, input);
        return;
      }
      case 'newHeight':
        await this.enterHeight();
        return;
      case 'tick':
        this.onTick(item.generation);
        return;
      default:
        assertNever(item);
    }
  }

  /** Appends `record` (not while replaying), then runs the core on `input` and its effects. */
  private async feed(record: WalRecord | null, input: Input): Promise<void> {
    if (record !== null && !this.replaying) await this.deps.wal.append(record);
    const { state, effects } = transition(this.core, input);
    this.core = state;
    await this.runEffects(effects);
  }

  private fault(type: ConsensusMessageErrorType): void {
    const error = new ConsensusMessageError(type);
    this.log.debug({ peer: this.peer, code: type.code }, 'Invalid consensus message');
    if (this.peer !== null) this.deps.onPeerFault?.(this.peer, error);
  }

  private async onMessage(m: ConsensusMessage, verified: boolean): Promise<void> {
    const height = heightOf(m);
    if (this.core.step === 'idle' || height < this.core.height) return;
    if (height > this.core.height) {
      if (height <= this.core.height + this.opts.futureHeightsMax && this.futureCount < this.opts.futureMessagesMax) {
        this.bufferFuture(height, m, this.peer);
      }
      return;
    }
    if (this.roundTooFar(m)) return;
    if (!verified) {
      try {
        this.check(m);
      } catch (e: unknown) {
        if (!(e instanceof ConsensusMessageError)) throw e;
        this.fault(e.type);
        return;
      }
    }
    if (m.kind === 'vote') {
      await this.feed({ kind: 'vote', vote: m.vote, signature: m.signature }, { kind: 'vote', vote: m.vote, signature: m.signature });
      return;
    }
    await this.onProposal(m);
  }

  /**
   * V2: one proposal per round (a second, different one is the proposer's fault, not the
   * relayer's); then the block is executed unless the node holds it already (built or executed).
   */
  private async onProposal(m: Extract<ConsensusMessage, { kind: 'proposal' }>): Promise<void> {
    const p = m.proposal;
    const c = this.core;
    if (c.step === 'decided') return;
    const had = c.proposals.get(p.round);
    if (had !== undefined) {
      if (!equalBytes(had.proposal.blockHash, p.blockHash) || had.proposal.validRound !== p.validRound) {
        this.log.warn({ height: p.height, round: p.round, proposer: hex(p.proposer) }, 'Proposer signed two proposals for one round');
      }
      return;
    }
    const known = this.deps.blocks.proposalBlock(p.blockHash);
    let valid = true;
    if (known === null) {
      let result: { blockHash: Uint8Array; valid: boolean };
      try {
        result = await this.deps.blocks.executeProposal(p.height, m.block);
      } catch (e: unknown) {
        if (!isChainError(e)) throw e;
        return this.fault({ code: 'CONSENSUS_BAD_BLOCK', height: p.height, round: p.round, reason: e.message });
      }
      // check() compared the bytes' hash with the proposal's before the message was queued.
      assert(equalBytes(result.blockHash, p.blockHash), 'executeProposal: the block hashes differently than blockHashOf said');
      valid = result.valid;
    }
    const id = hex(p.blockHash);
    const block = !valid || this.walBlocks.has(id) ? EMPTY : (known ?? m.block);
    if (valid) this.walBlocks.add(id);
    const input: Input = { kind: 'proposal', proposal: p, signature: m.signature, blockValid: valid };
    await this.feed({ kind: 'proposal', proposal: p, signature: m.signature, blockValid: valid, block }, input);
  }

  private async runEffects(effects: Effect[]): Promise<void> {
    for (const e of effects) {
      switch (e.kind) {
        case 'buildProposal':
          if (this.replaying) this.deferred.push(e);
          else await this.build(e.height, e.round);
          break;
        case 'signAndBroadcast':
          if (this.replaying) this.deferred.push(e);
          else await this.signAndSend(e.message);
          break;
        case 'scheduleTimeout':
          this.scheduleTimeout(e.step, e.height, e.round, e.durationMs);
          break;
        case 'commit':
          if (this.replaying) this.deferred.push(e);
          else await this.commit(e);
          break;
        case 'reject':
          if (!this.replaying) this.rejectFault(e);
          break;
        case 'evidence': {
          const evidence = { first: e.first, second: e.second };
          this.log.warn({ validator: hex(e.first.vote.validator), height: e.first.vote.height, round: e.first.vote.round }, 'Validator signed two votes for one round');
          this.deps.evidence.addEvidence(evidence);
          if (!this.replaying) this.deps.gossip.broadcastEvidence(evidence);
          break;
        }
        default:
          assertNever(e);
      }
    }
  }

  private rejectFault(e: Extract<Effect, { kind: 'reject' }>): void {
    const i = e.input;
    const height = i.kind === 'vote' ? i.vote.height : i.kind === 'proposal' ? i.proposal.height : this.core.height;
    const round = i.kind === 'vote' ? i.vote.round : i.kind === 'proposal' ? i.proposal.round : this.core.round;
    switch (e.reason) {
      case 'UNKNOWN_VALIDATOR':
        return this.fault({ code: 'CONSENSUS_UNKNOWN_VALIDATOR', validator: i.kind === 'vote' ? hex(i.vote.validator) : '', height });
      case 'WRONG_PROPOSER':
        return this.fault({ code: 'CONSENSUS_WRONG_PROPOSER', proposer: i.kind === 'proposal' ? hex(i.proposal.proposer) : '', height, round });
      case 'CONFLICTING_PROPOSAL':
        // The proposer's fault: an honest relayer may have passed on either proposal.
        return;
      case 'BAD_VALID_ROUND':
        return this.fault({ code: 'CONSENSUS_BAD_VALID_ROUND', height, round });
      default:
        assertNever(e.reason);
    }
  }

  /** L18: the node builds a block; its bytes go to the WAL with the `proposalBuilt` input. */
  private async build(height: number, round: number): Promise<void> {
    const { blocks, clock } = this.deps;
    const parentTime = blocks.lastCommitted().timeMs;
    const now = clock.nowMs();
    const timeMs = now > parentTime ? now : parentTime + 1n;
    const { blockHash } = await blocks.buildProposal(height, round, timeMs);
    const block = blocks.proposalBlock(blockHash);
    assert(block !== null, 'buildProposal: the node does not hold the block it built');
    this.walBlocks.add(hex(blockHash));
    await this.feed({ kind: 'built', height, round, blockHash, block }, { kind: 'proposalBuilt', height, round, blockHash });
  }

  /**
   * Syncs the WAL, signs through the guard, logs the signed message, broadcasts it and feeds it
   * back to the core (that is how the core counts its own votes). Syncing first makes every input
   * behind the request durable: after a crash the replay asks for the very same bytes and the guard
   * hands back the stored signature. The signed message's own record becomes durable with the next
   * sync; until then the guard stands in for it.
   */
  private async signAndSend(message: SignRequest): Promise<void> {
    const { signer, wal } = this.deps;
    await wal.sync();
    let signature: Uint8Array;
    try {
      signature = message.kind === 'vote'
        ? await signer.signVote(this.opts.chainId, message.vote)
        : await signer.signProposal(this.opts.chainId, message.proposal);
    } catch (e: unknown) {
      if (!(e instanceof SignerError) || e.code !== 'SIGNER_DOUBLE_SIGN_REFUSED') throw e;
      // The guard remembers signing something else here: the WAL lost synced records (a disk
      // fault, a moved file). Stay silent at this step rather than sign twice.
      this.log.warn({ ...e.type }, 'Signer guard refused to sign; staying silent at this step');
      return;
    }
    if (message.kind === 'vote') {
      const { vote } = message;
      await wal.append({ kind: 'vote', vote, signature });
      this.rememberOwn({ kind: 'vote', vote, signature });
      this.deps.gossip.broadcastVote({ vote, signature });
      await this.feed(null, { kind: 'vote', vote, signature });
      return;
    }
    const { proposal } = message;
    const block = this.deps.blocks.proposalBlock(proposal.blockHash);
    assert(block !== null, 'signAndBroadcast: the node does not hold the proposed block');
    const walBlock = this.walBlocks.has(hex(proposal.blockHash)) ? EMPTY : block;
    this.walBlocks.add(hex(proposal.blockHash));
    await wal.append({ kind: 'proposal', proposal, signature, blockValid: true, block: walBlock });
    this.rememberOwn({ kind: 'proposal', proposal, signature, block });
    this.deps.gossip.broadcastProposal({ proposal, signature, block });
    if (proposal.validRound >= 0) this.sendProofOfLock(proposal.validRound, proposal.blockHash);
    await this.feed(null, { kind: 'proposal', proposal, signature, blockValid: true });
  }

  private rememberOwn(m: ConsensusMessage): void {
    const round = m.kind === 'vote' ? m.vote.round : m.proposal.round;
    const step = m.kind === 'vote' ? signStep({ kind: 'vote', vote: m.vote }) : SIGN_STEP.proposal;
    this.own.set(`${round}/${step}`, m);
    this.markSeen(heightOf(m), messageId(m));
  }

  /**
   * Sends again (after a restart, or when nothing moved for `rebroadcastMs`) this node's votes of
   * the height, its proposal of the current round, every vote it holds for the current round and
   * the proof-of-lock of the round's proposal. Tendermint's liveness assumes correct nodes
   * eventually see each other's messages, and the network may have lost them (CometBFT's reactor
   * keeps gossiping votes for the same reason); a node still in an earlier round needs this node's
   * votes of that round.
   */
  private rebroadcast(): void {
    const { gossip, blocks } = this.deps;
    const round = this.core.round;
    for (const m of this.own.values()) {
      if (m.kind === 'vote') {
        gossip.broadcastVote({ vote: m.vote, signature: m.signature });
        continue;
      }
      if (m.proposal.round !== round) continue;
      const block = m.block.length > 0 ? m.block : blocks.proposalBlock(m.proposal.blockHash);
      if (block !== null) gossip.broadcastProposal({ proposal: m.proposal, signature: m.signature, block });
    }
    const self = this.deps.signer.address;
    const held = this.core.votes.get(round);
    for (const lists of held === undefined ? [] : [held.prevotes, held.precommits]) {
      for (const list of lists.values()) {
        for (const sv of list) if (!equalBytes(sv.vote.validator, self)) gossip.broadcastVote(sv);
      }
    }
    const rec = this.core.proposals.get(round);
    if (rec !== undefined && rec.proposal.validRound >= 0) this.sendProofOfLock(rec.proposal.validRound, rec.proposal.blockHash);
  }

  /** The prevotes of `round` for `blockHash` that justify a proposal with validRound `round` (L28). */
  private sendProofOfLock(round: number, blockHash: Uint8Array): void {
    const held = this.core.votes.get(round);
    if (held === undefined) return;
    for (const list of held.prevotes.values()) {
      for (const sv of list) if (equalBytes(sv.vote.blockHash, blockHash)) this.deps.gossip.broadcastVote(sv);
    }
  }

  private scheduleTimeout(step: TimeoutStep, height: number, round: number, durationMs: number): void {
    void this.deps.clock.sleep(durationMs, this.abort.signal).then(() => {
      if (!this.abort.signal.aborted) this.push({ kind: 'timeout', step, height, round });
    });
  }

  private scheduleTick(): void {
    const generation = ++this.tickGeneration;
    void this.deps.clock.sleep(this.opts.rebroadcastMs, this.abort.signal).then(() => {
      if (!this.abort.signal.aborted) this.push({ kind: 'tick', generation });
    });
  }

  private onTick(generation: number): void {
    if (generation !== this.tickGeneration) return;
    const mark = `${this.core.height}/${this.core.round}/${this.core.step}`;
    if (mark === this.progressMark && this.core.step !== 'decided') this.rebroadcast();
    this.progressMark = mark;
    this.scheduleTick();
  }

  /** L49: store the block with its certificate, then start the next height after `commitWaitMs`. */
  private async commit(e: Extract<Effect, { kind: 'commit' }>): Promise<void> {
    const { blocks } = this.deps;
    if (blocks.lastCommitted().height >= e.height) {
      this.log.debug({ height: e.height }, 'Height already committed (block sync)');
    } else {
      await blocks.commitBlock(e.height, e.blockHash, { height: e.height, round: e.round, blockHash: e.blockHash, signatures: e.signatures });
      this.log.debug({ height: e.height, round: e.round, hash: hex(e.blockHash) }, 'Committed block');
    }
    void this.deps.clock.sleep(this.opts.commitWaitMs, this.abort.signal).then(() => {
      if (!this.abort.signal.aborted) this.push({ kind: 'newHeight' });
    });
  }

  /** P1 with history the core may lack: priorities carried over skipped heights, or rebuilt. */
  private prioritiesFor(height: number, validators: CoreValidator[]): bigint[] {
    const zeros = validators.map(() => 0n);
    const a = this.anchor;
    if (a !== null && height > a.height) {
      return sameValidators(a.validators, validators) ? advancePriorities(validators, a.priorities, height - a.height) : zeros;
    }
    // No history: the set has decided every height since 1 (true until the set first changes).
    if (height - 1 > this.opts.priorityStepsMax) {
      this.log.warn({ height }, 'No WAL history for proposer priorities; starting them from zero');
      return zeros;
    }
    return advancePriorities(validators, zeros, height - 1);
  }

  /** L10: the height after the last committed one (after a commit, a block sync or on start). */
  private async enterHeight(): Promise<void> {
    const next = this.deps.blocks.lastCommitted().height + 1;
    if (this.core.step !== 'idle' && this.core.height >= next) return;
    const withKeys = this.deps.blocks.validatorsAt(next);
    const validators = withKeys.map((v) => ({ address: v.address, power: v.power }));
    const record: WalHeightRecord = { kind: 'height', height: next, validators, priorities: this.prioritiesFor(next, validators) };
    await this.deps.wal.startHeight(record);
    await this.startHeight(record, withKeys);
  }

  private async startHeight(record: WalHeightRecord, withKeys: VotingValidator[]): Promise<void> {
    const height = record.height;
    this.validators = withKeys;
    this.anchor = { height, validators: record.validators, priorities: record.priorities };
    this.own = new Map();
    this.walBlocks = new Set();
    for (const h of [...this.seen.keys()]) if (h < height) this.seen.delete(h);
    const input: Input = { kind: 'newHeight', height, validators: record.validators, self: this.deps.signer.address, priorities: record.priorities };
    await this.feed(null, input);
    for (const [h, list] of [...this.future]) {
      if (h > height) continue;
      this.future.delete(h);
      this.futureCount -= list.length;
      if (h === height) for (const { message, peer } of list) this.push({ kind: 'message', message, peer, verified: false });
    }
  }

  /** Replays the WAL records of the unfinished height, if the log has them; else starts the next height. */
  private async recover(): Promise<void> {
    const records = this.deps.wal.takeRecovered();
    const next = this.deps.blocks.lastCommitted().height + 1;
    let start = -1;
    for (let i = 0; i < records.length; i++) if (records[i]!.kind === 'height') start = i;
    const marker = start >= 0 ? (records[start] as WalHeightRecord) : null;
    if (marker !== null && marker.height <= next) {
      this.anchor = { height: marker.height, validators: marker.validators, priorities: marker.priorities };
    } else if (marker !== null) {
      this.log.warn({ walHeight: marker.height, next }, 'The WAL is ahead of the chain; ignoring it');
    }
    if (marker === null || marker.height !== next) {
      await this.enterHeight();
      return;
    }
    this.log.info({ height: next, records: records.length - start }, 'Replaying the consensus WAL');
    this.replaying = true;
    try {
      for (const record of records.slice(start)) await this.replayRecord(record);
    } finally {
      this.replaying = false;
    }
    const deferred = this.deferred;
    this.deferred = [];
    await this.runEffects(deferred.filter((e) => this.stillDue(e)));
    this.rebroadcast();
  }

  private stillDue(e: Effect): boolean {
    const c = this.core;
    if (e.kind === 'buildProposal') return e.height === c.height && e.round === c.round && c.step === 'propose' && !c.proposed;
    return true;
  }

  /** Removes the deferred effect a replayed record shows as done. */
  private satisfy(match: (e: Effect) => boolean): void {
    const i = this.deferred.findIndex(match);
    if (i >= 0) this.deferred.splice(i, 1);
  }

  /** Gives a logged block back to the node (its executed blocks did not survive the crash). */
  private async reexecute(height: number, blockHash: Uint8Array, block: Uint8Array): Promise<boolean> {
    const result = await this.deps.blocks.executeProposal(height, block);
    assert(equalBytes(result.blockHash, blockHash), 'WAL replay: a logged block does not hash to its proposal');
    this.walBlocks.add(hex(blockHash));
    return result.valid;
  }

  private async replayRecord(r: WalRecord): Promise<void> {
    const self = this.deps.signer.address;
    switch (r.kind) {
      case 'height': {
        const withKeys = this.deps.blocks.validatorsAt(r.height);
        assert(sameValidators(withKeys, r.validators), 'WAL replay: the logged validator set differs from the chain');
        await this.startHeight(r, withKeys);
        return;
      }
      case 'built': {
        const valid = await this.reexecute(r.height, r.blockHash, r.block);
        assert(valid, 'WAL replay: a block this node built is invalid on re-execution');
        this.satisfy((e) => e.kind === 'buildProposal' && e.height === r.height && e.round === r.round);
        await this.feed(null, { kind: 'proposalBuilt', height: r.height, round: r.round, blockHash: r.blockHash });
        return;
      }
      case 'proposal': {
        const p = r.proposal;
        // Empty bytes: an invalid block, or one an earlier record of the height carried.
        if (r.block.length > 0 && (await this.reexecute(p.height, p.blockHash, r.block)) !== r.blockValid) {
          this.log.error({ height: p.height, round: p.round }, 'WAL replay: a block re-executes with another verdict');
        }
        if (equalBytes(p.proposer, self)) {
          this.satisfy((e) => e.kind === 'signAndBroadcast' && e.message.kind === 'proposal' && e.message.proposal.round === p.round);
          this.rememberOwn({ kind: 'proposal', proposal: p, signature: r.signature, block: EMPTY });
        } else {
          this.markSeen(p.height, messageId({ kind: 'proposal', proposal: p, signature: r.signature, block: EMPTY }));
        }
        await this.feed(null, { kind: 'proposal', proposal: p, signature: r.signature, blockValid: r.blockValid });
        return;
      }
      case 'vote': {
        const v = r.vote;
        const m: ConsensusMessage = { kind: 'vote', vote: v, signature: r.signature };
        if (equalBytes(v.validator, self)) {
          this.satisfy((e) => e.kind === 'signAndBroadcast' && e.message.kind === 'vote' && e.message.vote.round === v.round && e.message.vote.type === v.type);
          this.rememberOwn(m);
        } else {
          this.markSeen(v.height, messageId(m));
        }
        await this.feed(null, { kind: 'vote', vote: v, signature: r.signature });
        return;
      }
      case 'timeout':
        await this.feed(null, { kind: 'timeout', step: r.step, height: r.height, round: r.round });
        return;
      default:
        assertNever(r);
    }
  }
}
