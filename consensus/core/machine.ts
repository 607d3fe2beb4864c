/**
 * The Tendermint consensus core: a pure, synchronous, deterministic state machine after
 * Algorithm 1 of "The latest gossip on BFT consensus" (Buchman, Kwon, Milosevic 2018).
 * `transition(state, input) → { state, effects }`; time enters only as `timeout` inputs. Rules are
 * cited as `// Lnn` (line numbers of Algorithm 1) and listed in docs/spec/consensus.md.
 *
 * The shell signs what `signAndBroadcast` asks for and feeds the node's own signed proposal and
 * votes back in as `proposal` / `vote` inputs (that is how they are counted).
 */
import { assert, assertNever, bytesToHex, compareBytes, equalBytes } from '../../lib/index.ts';
import { VOTE_TYPE, type CommitSignature, type Vote, type VoteType } from '../types.ts';
import { advancePriorities, proposerIndex, type CoreValidator } from './proposer.ts';

/** validRound −1 means none (encoded as 0xffffffff on the wire). */
export type Proposal = { height: number; round: number; blockHash: Uint8Array; validRound: number; proposer: Uint8Array };
export type SignedVote = { vote: Vote; signature: Uint8Array };
export type TimeoutStep = 'propose' | 'prevote' | 'precommit';
export type Step = 'idle' | 'propose' | 'prevote' | 'precommit' | 'decided';

export type CoreConfig = {
  proposeMs: number;
  prevoteMs: number;
  precommitMs: number;
  /** Added per round to every timeout. */
  deltaMs: number;
  /** Votes and proposals for rounds beyond round + this are ignored. */
  maxRoundsAhead: number;
};
export const DEFAULT_CORE_CONFIG: CoreConfig = { proposeMs: 3000, prevoteMs: 1000, precommitMs: 1000, deltaMs: 500, maxRoundsAhead: 10 };

export type Input =
  /** `priorities`: the height's start priorities (P1), given by a shell that restarts or skips heights. */
  | { kind: 'newHeight'; height: number; validators: CoreValidator[]; self: Uint8Array | null; priorities?: bigint[] }
  | { kind: 'proposalBuilt'; height: number; round: number; blockHash: Uint8Array }
  | { kind: 'proposal'; proposal: Proposal; signature: Uint8Array; blockValid: boolean }
  | { kind: 'vote'; vote: Vote; signature: Uint8Array }
  | { kind: 'timeout'; step: TimeoutStep; height: number; round: number };

export type RejectReason = 'UNKNOWN_VALIDATOR' | 'WRONG_PROPOSER' | 'CONFLICTING_PROPOSAL' | 'BAD_VALID_ROUND';

export type Effect =
  | { kind: 'buildProposal'; height: number; round: number }
  | { kind: 'signAndBroadcast'; message: { kind: 'proposal'; proposal: Proposal } | { kind: 'vote'; vote: Vote } }
  | { kind: 'scheduleTimeout'; step: TimeoutStep; height: number; round: number; durationMs: number }
  | { kind: 'commit'; height: number; round: number; blockHash: Uint8Array; signatures: CommitSignature[] }
  | { kind: 'reject'; input: Input; reason: RejectReason }
  | { kind: 'evidence'; first: SignedVote; second: SignedVote };

type ProposalRecord = { proposal: Proposal; signature: Uint8Array; blockValid: boolean };
/**
 * Votes of one round by validator (hex address): the first vote, then up to
 * MAX_VOTES_PER_VALIDATOR − 1 conflicting ones. As in Algorithm 1, an equivocator's vote counts
 * towards every value it voted for (liveness needs it: correct nodes may have seen different votes
 * of it); its power counts once in the "any value" tallies.
 */
type RoundVotes = { prevotes: Map<string, SignedVote[]>; precommits: Map<string, SignedVote[]> };
export const MAX_VOTES_PER_VALIDATOR = 4;

export type RoundState = {
  config: CoreConfig;
  height: number;
  round: number;
  step: Step;
  validators: CoreValidator[];
  totalPower: bigint;
  self: Uint8Array | null;
  /** Proposer priorities at the start of this height. */
  priorities: bigint[];
  lockedRound: number;
  lockedValue: Uint8Array | null;
  validRound: number;
  validValue: Uint8Array | null;
  proposals: Map<number, ProposalRecord>;
  votes: Map<number, RoundVotes>;
  /** Own proposal sent for the current round. */
  proposed: boolean;
  /** "for the first time" flags of the current round (L34, L36, L47). */
  l34: boolean;
  l36: boolean;
  l47: boolean;
  /** Round decided at (−1: none). */
  decidedRound: number;
};

export function initialState(config: CoreConfig = DEFAULT_CORE_CONFIG): RoundState {
  return {
    config, height: 0, round: 0, step: 'idle', validators: [], totalPower: 0n, self: null, priorities: [],
    lockedRound: -1, lockedValue: null, validRound: -1, validValue: null, proposals: new Map(), votes: new Map(),
    proposed: false, l34: false, l36: false, l47: false, decidedRound: -1,
  };
}

const hex = bytesToHex;
const hashEq = (a: Uint8Array | null, b: Uint8Array): boolean => a !== null && equalBytes(a, b);
const quorum = (s: RoundState, p: bigint): boolean => 3n * p > 2n * s.totalPower;
const oneThird = (s: RoundState, p: bigint): boolean => 3n * p > s.totalPower;

function powerOf(s: RoundState, addr: Uint8Array): bigint | null {
  const v = s.validators.find((x) => equalBytes(x.address, addr));
  return v === undefined ? null : v.power;
}

export function sameValidators(a: readonly CoreValidator[], b: readonly CoreValidator[]): boolean {
  return a.length === b.length && a.every((v, i) => equalBytes(v.address, b[i]!.address) && v.power === b[i]!.power);
}

/**
 * P1: the priorities `height` starts from when `newHeight` does not carry them. As CometBFT: one
 * step per height (not per round, which differs between nodes); rounds step on from there. A
 * changed set, or a height that does not follow the state's, starts from zero.
 */
export function heightPriorities(s: RoundState, height: number, validators: readonly CoreValidator[]): bigint[] {
  return sameValidators(s.validators, validators) && height === s.height + 1
    ? advancePriorities(s.validators, s.priorities, 1)
    : validators.map(() => 0n);
}

export function proposerOf(s: RoundState, round: number): Uint8Array {
  return s.validators[proposerIndex(s.validators, s.priorities, round)]!.address;
}

function roundVotes(s: RoundState, round: number): RoundVotes {
  let rv = s.votes.get(round);
  if (rv === undefined) {
    rv = { prevotes: new Map(), precommits: new Map() };
    s.votes.set(round, rv);
  }
  return rv;
}

/** Power voting `type` at `round`: for `hash` (undefined: any value, empty: nil). */
function tally(s: RoundState, round: number, type: VoteType, hash?: Uint8Array): bigint {
  const rv = s.votes.get(round);
  if (rv === undefined) return 0n;
  let p = 0n;
  for (const list of (type === VOTE_TYPE.prevote ? rv.prevotes : rv.precommits).values()) {
    if (hash === undefined || list.some((sv) => equalBytes(sv.vote.blockHash, hash))) p += powerOf(s, list[0]!.vote.validator) ?? 0n;
  }
  return p;
}

function duration(s: RoundState, step: TimeoutStep, round: number): number {
  const base = step === 'propose' ? s.config.proposeMs : step === 'prevote' ? s.config.prevoteMs : s.config.precommitMs;
  return base + s.config.deltaMs * round;
}

function cast(s: RoundState, fx: Effect[], type: VoteType, blockHash: Uint8Array): void {
  if (s.self === null) return;
  fx.push({ kind: 'signAndBroadcast', message: { kind: 'vote', vote: { type, height: s.height, round: s.round, blockHash, validator: s.self } } });
}

const NIL = new Uint8Array(0);

// L11 StartRound
function startRound(s: RoundState, fx: Effect[], round: number): void {
  s.round = round;
  s.step = 'propose';
  s.proposed = false;
  s.l34 = s.l36 = s.l47 = false;
  for (const r of [...s.votes.keys()]) if (r > round + s.config.maxRoundsAhead) s.votes.delete(r);
  if (s.self !== null && equalBytes(proposerOf(s, round), s.self)) {
    if (s.validValue !== null) {
      // L15–L19: re-propose the valid value
      s.proposed = true;
      fx.push({ kind: 'signAndBroadcast', message: { kind: 'proposal', proposal: { height: s.height, round, blockHash: s.validValue, validRound: s.validRound, proposer: s.self } } });
    } else {
      fx.push({ kind: 'buildProposal', height: s.height, round }); // L18 getValue()
    }
  } else {
    fx.push({ kind: 'scheduleTimeout', step: 'propose', height: s.height, round, durationMs: duration(s, 'propose', round) }); // L21
  }
}

/** Applies every "upon" rule that is enabled, until none is. */
function settle(s: RoundState, fx: Effect[]): void {
  for (let guard = 0; guard < 64; guard++) {
    if (!fireOnce(s, fx)) return;
  }
}

function fireOnce(s: RoundState, fx: Effect[]): boolean {
  if (s.step === 'idle') return false;
  // L49: decide on 2f+1 precommits for a valid proposal of any round
  if (s.decidedRound < 0) {
    for (const [r, rec] of s.proposals) {
      if (quorum(s, tally(s, r, VOTE_TYPE.precommit, rec.proposal.blockHash)) && rec.blockValid) {
        s.decidedRound = r;
        s.step = 'decided';
        const sigs = [...roundVotes(s, r).precommits.values()]
          .flatMap((list) => list.filter((sv) => equalBytes(sv.vote.blockHash, rec.proposal.blockHash)))
          .map((sv) => ({ validator: sv.vote.validator, signature: sv.signature }))
          .sort((a, b) => compareBytes(a.validator, b.validator));
        fx.push({ kind: 'commit', height: s.height, round: r, blockHash: rec.proposal.blockHash, signatures: sigs });
        return true;
      }
    }
  }
  if (s.step === 'decided') return false;
  // L55: f+1 power of messages from a higher round → skip to it
  for (const r of [...s.votes.keys()].sort((a, b) => b - a)) {
    if (r <= s.round) break;
    const rv = s.votes.get(r)!;
    const senders = new Set<string>([...rv.prevotes.keys(), ...rv.precommits.keys()]);
    let p = 0n;
    for (const a of senders) p += s.validators.find((v) => hex(v.address) === a)?.power ?? 0n;
    if (oneThird(s, p)) {
      startRound(s, fx, r);
      return true;
    }
  }
  const rec = s.proposals.get(s.round);
  if (s.step === 'propose' && rec !== undefined) {
    const v = rec.proposal.blockHash;
    const vr = rec.proposal.validRound;
    if (vr === -1) {
      // L22
      cast(s, fx, VOTE_TYPE.prevote, rec.blockValid && (s.lockedRound === -1 || hashEq(s.lockedValue, v)) ? v : NIL);
      s.step = 'prevote';
      return true;
    }
    if (vr >= 0 && vr < s.round && quorum(s, tally(s, vr, VOTE_TYPE.prevote, v))) {
      // L28
      cast(s, fx, VOTE_TYPE.prevote, rec.blockValid && (s.lockedRound <= vr || hashEq(s.lockedValue, v)) ? v : NIL);
      s.step = 'prevote';
      return true;
    }
  }
  if (s.step === 'prevote' && !s.l34 && quorum(s, tally(s, s.round, VOTE_TYPE.prevote))) {
    // L34
    s.l34 = true;
    fx.push({ kind: 'scheduleTimeout', step: 'prevote', height: s.height, round: s.round, durationMs: duration(s, 'prevote', s.round) });
    return true;
  }
  if ((s.step === 'prevote' || s.step === 'precommit') && !s.l36 && rec !== undefined && rec.blockValid &&
      quorum(s, tally(s, s.round, VOTE_TYPE.prevote, rec.proposal.blockHash))) {
    // L36
    s.l36 = true;
    const v = rec.proposal.blockHash;
    if (s.step === 'prevote') {
      s.lockedValue = v;
      s.lockedRound = s.round;
      cast(s, fx, VOTE_TYPE.precommit, v);
      s.step = 'precommit';
    }
    s.validValue = v;
    s.validRound = s.round;
    return true;
  }
  if (s.step === 'prevote' && quorum(s, tally(s, s.round, VOTE_TYPE.prevote, NIL))) {
    // L44
    cast(s, fx, VOTE_TYPE.precommit, NIL);
    s.step = 'precommit';
    return true;
  }
  if (!s.l47 && quorum(s, tally(s, s.round, VOTE_TYPE.precommit))) {
    // L47
    s.l47 = true;
    fx.push({ kind: 'scheduleTimeout', step: 'precommit', height: s.height, round: s.round, durationMs: duration(s, 'precommit', s.round) });
    return true;
  }
  return false;
}

function cloneState(s: RoundState): RoundState {
  const votes = new Map<number, RoundVotes>();
  for (const [r, rv] of s.votes) votes.set(r, { prevotes: new Map(rv.prevotes), precommits: new Map(rv.precommits) });
  return { ...s, validators: [...s.validators], priorities: [...s.priorities], proposals: new Map(s.proposals), votes };
}

export function transition(prev: RoundState, input: Input): { state: RoundState; effects: Effect[] } {
  const s = cloneState(prev);
  const fx: Effect[] = [];
  switch (input.kind) {
    case 'newHeight': {
      // L10: a new height; proposer priorities carry over when the set is unchanged (P1)
      if (input.height <= s.height && s.step !== 'idle') return { state: prev, effects: [] };
      if (input.priorities !== undefined) {
        assert(input.priorities.length === input.validators.length, 'newHeight: one priority per validator');
        s.priorities = [...input.priorities];
      } else {
        s.priorities = heightPriorities(prev, input.height, input.validators);
      }
      s.height = input.height;
      s.validators = [...input.validators];
      s.totalPower = input.validators.reduce((a, v) => a + v.power, 0n);
      s.self = input.self !== null && powerOf(s, input.self) !== null ? input.self : null;
      s.lockedRound = s.validRound = s.decidedRound = -1;
      s.lockedValue = s.validValue = null;
      s.proposals = new Map();
      s.votes = new Map();
      startRound(s, fx, 0);
      break;
    }
    case 'proposalBuilt': {
      // L16–L19: broadcast the proposal of a fresh value
      if (input.height !== s.height || input.round !== s.round || s.step !== 'propose' || s.proposed || s.self === null) break;
      if (!equalBytes(proposerOf(s, s.round), s.self)) break;
      s.proposed = true;
      fx.push({ kind: 'signAndBroadcast', message: { kind: 'proposal', proposal: { height: s.height, round: s.round, blockHash: input.blockHash, validRound: -1, proposer: s.self } } });
      break;
    }
    case 'proposal': {
      // L22 / L28 / L36 / L49 take a proposal; here it is stored once per round
      const p = input.proposal;
      if (s.step === 'idle' || p.height !== s.height || p.round > s.round + s.config.maxRoundsAhead) break;
      if (!equalBytes(proposerOf(s, p.round), p.proposer)) { fx.push({ kind: 'reject', input, reason: 'WRONG_PROPOSER' }); break; }
      if (p.validRound < -1 || p.validRound >= p.round) { fx.push({ kind: 'reject', input, reason: 'BAD_VALID_ROUND' }); break; }
      const had = s.proposals.get(p.round);
      if (had !== undefined) {
        if (!equalBytes(had.proposal.blockHash, p.blockHash) || had.proposal.validRound !== p.validRound) {
          fx.push({ kind: 'reject', input, reason: 'CONFLICTING_PROPOSAL' });
        }
        break;
      }
      s.proposals.set(p.round, { proposal: p, signature: input.signature, blockValid: input.blockValid });
      break;
    }
    case 'vote': {
      // one vote per validator per (round, type); a second, different one is evidence
      const v = input.vote;
      if (s.step === 'idle' || v.height !== s.height || v.round > s.round + s.config.maxRoundsAhead) break;
      if (powerOf(s, v.validator) === null) { fx.push({ kind: 'reject', input, reason: 'UNKNOWN_VALIDATOR' }); break; }
      const rv = roundVotes(s, v.round);
      const m = v.type === VOTE_TYPE.prevote ? rv.prevotes : rv.precommits;
      const had = m.get(hex(v.validator));
      if (had === undefined) {
        m.set(hex(v.validator), [{ vote: v, signature: input.signature }]);
        break;
      }
      if (had.some((sv) => equalBytes(sv.vote.blockHash, v.blockHash))) break; // duplicate
      // equivocation: report it; keep the vote (bounded) so that it counts as in Algorithm 1
      fx.push({ kind: 'evidence', first: had[0]!, second: { vote: v, signature: input.signature } });
      if (had.length < MAX_VOTES_PER_VALIDATOR) m.set(hex(v.validator), [...had, { vote: v, signature: input.signature }]);
      break;
    }
    case 'timeout': {
      if (input.height !== s.height || input.round !== s.round) break;
      switch (input.step) {
        case 'propose':
          // L57: OnTimeoutPropose
          if (s.step === 'propose') { cast(s, fx, VOTE_TYPE.prevote, NIL); s.step = 'prevote'; }
          break;
        case 'prevote':
          // L61: OnTimeoutPrevote
          if (s.step === 'prevote') { cast(s, fx, VOTE_TYPE.precommit, NIL); s.step = 'precommit'; }
          break;
        case 'precommit':
          // L65: OnTimeoutPrecommit
          if (s.step !== 'decided' && s.step !== 'idle') startRound(s, fx, s.round + 1);
          break;
        default:
          assertNever(input.step);
      }
      break;
    }
    default:
      assertNever(input);
  }
  settle(s, fx);
  return { state: s, effects: fx };
}
