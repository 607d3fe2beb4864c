/** Helpers for the consensus core tests. */
import { VOTE_TYPE, type Vote } from '../../../../consensus/index.ts';
import {
  initialState,
  transition,
  type CoreValidator,
  type Effect,
  type Input,
  type RoundState,
} from '../../../../consensus/core/index.ts';

export const addr = (i: number): Uint8Array => {
  const a = new Uint8Array(20);
  a[0] = i + 1;
  return a;
};
export const hash = (n: number): Uint8Array => new Uint8Array(32).fill(n);
export const NIL = new Uint8Array(0);
export const sigOf = (i: number, tag = 0): Uint8Array => new Uint8Array(64).fill(i * 16 + tag);
export const vals = (powers: readonly number[]): CoreValidator[] => powers.map((p, i) => ({ address: addr(i), power: BigInt(p) }));

export function vote(type: 'prevote' | 'precommit', height: number, round: number, blockHash: Uint8Array, i: number, tag = 0): Input {
  const v: Vote = { type: VOTE_TYPE[type], height, round, blockHash, validator: addr(i) };
  return { kind: 'vote', vote: v, signature: sigOf(i, tag) };
}

export function proposal(height: number, round: number, blockHash: Uint8Array, proposer: number, validRound = -1, blockValid = true): Input {
  return { kind: 'proposal', proposal: { height, round, blockHash, validRound, proposer: addr(proposer) }, signature: sigOf(proposer), blockValid };
}

/** One node driven by a test; its own signed messages are fed back as the shell would. */
export class Driver {
  state: RoundState;
  effects: Effect[] = [];
  constructor(powers: readonly number[], self: number | null, height = 1) {
    this.state = initialState();
    this.send({ kind: 'newHeight', height, validators: vals(powers), self: self === null ? null : addr(self) });
  }
  /** Applies `input`; returns every effect, including those caused by the fed-back own messages. */
  send(input: Input): Effect[] {
    const out: Effect[] = [];
    const queue: Input[] = [input];
    while (queue.length > 0) {
      const r = transition(this.state, queue.shift()!);
      this.state = r.state;
      for (const e of r.effects) {
        out.push(e);
        if (e.kind === 'signAndBroadcast') {
          const m = e.message;
          if (m.kind === 'vote') queue.push({ kind: 'vote', vote: m.vote, signature: new Uint8Array(64).fill(0xee) });
          else queue.push({ kind: 'proposal', proposal: m.proposal, signature: new Uint8Array(64).fill(0xee), blockValid: true });
        }
      }
    }
    this.effects.push(...out);
    return out;
  }
}

export const votesOut = (fx: Effect[]): Vote[] =>
  fx.flatMap((e) => (e.kind === 'signAndBroadcast' && e.message.kind === 'vote' ? [e.message.vote] : []));
export const ofKind = <K extends Effect['kind']>(fx: Effect[], kind: K): Extract<Effect, { kind: K }>[] =>
  fx.filter((e): e is Extract<Effect, { kind: K }> => e.kind === kind);
