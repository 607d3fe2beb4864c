/** The Tendermint core (consensus/core/machine.ts): one test group per rule of docs/spec/consensus.md. */
import t from 'tap';
import { bytesToHex } from '../../../../lib/index.ts';
import { VOTE_TYPE } from '../../../../consensus/index.ts';
import { initialState, proposerIndex, proposerOf, transition } from '../../../../consensus/core/index.ts';
import { Driver, NIL, addr, hash, ofKind, proposal, vals, vote, votesOut } from './harness.ts';

const h = (b: Uint8Array): string => bytesToHex(b);

t.test('L11/L16/L22/L36/L49: one validator commits alone', async (t) => {
  const d = new Driver([10], 0);
  t.same(ofKind(d.effects, 'buildProposal'), [{ kind: 'buildProposal', height: 1, round: 0 }], 'L18 asks for a value');
  const fx = d.send({ kind: 'proposalBuilt', height: 1, round: 0, blockHash: hash(7) });
  const votes = votesOut(fx);
  t.same(votes.map((v) => [v.type, h(v.blockHash)]), [[VOTE_TYPE.prevote, h(hash(7))], [VOTE_TYPE.precommit, h(hash(7))]]);
  const commits = ofKind(fx, 'commit');
  t.equal(commits.length, 1);
  t.equal(commits[0]!.round, 0);
  t.same(commits[0]!.blockHash, hash(7));
  t.same(commits[0]!.signatures.map((s) => h(s.validator)), [h(addr(0))]);
  t.equal(d.state.step, 'decided');
  t.same(d.send({ kind: 'proposalBuilt', height: 1, round: 0, blockHash: hash(8) }), [], 'nothing after the decision');
});

t.test('4 equal validators: non-proposer prevotes, locks, precommits, commits', async (t) => {
  const d = new Driver([1, 1, 1, 1], 1);
  t.same(ofKind(d.effects, 'scheduleTimeout'), [{ kind: 'scheduleTimeout', step: 'propose', height: 1, round: 0, durationMs: 3000 }], 'L21');
  let fx = d.send(proposal(1, 0, hash(1), 0));
  t.same(votesOut(fx).map((v) => [v.type, h(v.blockHash)]), [[VOTE_TYPE.prevote, h(hash(1))]], 'L22');
  fx = d.send(vote('prevote', 1, 0, hash(1), 0));
  t.same(fx, [], 'no quorum yet');
  fx = d.send(vote('prevote', 1, 0, hash(1), 2));
  t.ok(ofKind(fx, 'scheduleTimeout').some((e) => e.step === 'prevote'), 'L34 timeout prevote');
  t.same(votesOut(fx).map((v) => [v.type, h(v.blockHash)]), [[VOTE_TYPE.precommit, h(hash(1))]], 'L36 precommit');
  t.equal(d.state.lockedRound, 0);
  t.same(d.state.lockedValue, hash(1));
  t.equal(d.state.validRound, 0);
  d.send(vote('precommit', 1, 0, hash(1), 0));
  fx = d.send(vote('precommit', 1, 0, hash(1), 3));
  const c = ofKind(fx, 'commit');
  t.equal(c.length, 1, 'L49');
  t.same(c[0]!.signatures.map((s) => h(s.validator)), [addr(0), addr(1), addr(3)].map(h), 'certificate sorted by address');
  t.notOk(ofKind(fx, 'scheduleTimeout').some((e) => e.step === 'precommit'), 'decided: no L47 timeout');
});

t.test('L47: 2f+1 precommits for anything schedule the precommit timeout once', async (t) => {
  const d = new Driver([1, 1, 1, 1], 1);
  d.send({ kind: 'timeout', step: 'propose', height: 1, round: 0 });
  d.send({ kind: 'timeout', step: 'prevote', height: 1, round: 0 });
  d.send(vote('precommit', 1, 0, hash(1), 0));
  const fx = d.send(vote('precommit', 1, 0, NIL, 2));
  t.same(ofKind(fx, 'scheduleTimeout'), [{ kind: 'scheduleTimeout', step: 'precommit', height: 1, round: 0, durationMs: 1000 }]);
  t.same(ofKind(d.send(vote('precommit', 1, 0, NIL, 3)), 'scheduleTimeout'), [], 'only the first time');
  t.equal(ofKind(d.effects, 'commit').length, 0);
});

t.test('the proposer of round 0 builds, proposes and commits with 4 validators', async (t) => {
  const d = new Driver([1, 1, 1, 1], 0);
  t.equal(ofKind(d.effects, 'buildProposal').length, 1);
  d.send({ kind: 'proposalBuilt', height: 1, round: 0, blockHash: hash(3) });
  t.same(d.send({ kind: 'proposalBuilt', height: 1, round: 0, blockHash: hash(4) }), [], 'one proposal per round');
  for (const i of [1, 2]) d.send(vote('prevote', 1, 0, hash(3), i));
  for (const i of [1, 2]) d.send(vote('precommit', 1, 0, hash(3), i));
  t.equal(ofKind(d.effects, 'commit').length, 1);
});

/** Node `self` locks on hash(1) in round 0 (proposer A), then moves to round 1. */
function lockedInRound0(self: number): Driver {
  const d = new Driver([1, 1, 1, 1], self);
  d.send(proposal(1, 0, hash(1), 0));
  for (const i of [0, 1, 2, 3].filter((i) => i !== self).slice(0, 2)) d.send(vote('prevote', 1, 0, hash(1), i));
  d.send({ kind: 'timeout', step: 'precommit', height: 1, round: 0 });
  return d;
}

t.test('L22/L36 lock: a locked node prevotes nil for a different fresh value', async (t) => {
  const d = lockedInRound0(3);
  t.equal(d.state.round, 1);
  t.equal(d.state.lockedRound, 0);
  const fx = d.send(proposal(1, 1, hash(2), 1));
  t.same(votesOut(fx).map((v) => [v.type, v.round, h(v.blockHash)]), [[VOTE_TYPE.prevote, 1, '']]);
});

t.test('L22: locked node prevotes its locked value when proposed again', async (t) => {
  const d = lockedInRound0(3);
  const fx = d.send(proposal(1, 1, hash(1), 1));
  t.same(votesOut(fx).map((v) => h(v.blockHash)), [h(hash(1))]);
});

t.test('L28: a newer polka (valid round) unlocks', async (t) => {
  const d = lockedInRound0(3);
  d.send({ kind: 'timeout', step: 'propose', height: 1, round: 1 });
  for (const i of [0, 1, 2]) d.send(vote('prevote', 1, 1, hash(2), i));
  t.equal(d.state.step, 'prevote', 'no proposal of round 1: no L36');
  d.send({ kind: 'timeout', step: 'prevote', height: 1, round: 1 });
  d.send({ kind: 'timeout', step: 'precommit', height: 1, round: 1 });
  t.equal(d.state.round, 2);
  t.equal(d.state.lockedRound, 0, 'still locked on round 0');
  // without the polka of its valid round a re-proposal is refused
  const e = lockedInRound0(3);
  e.send({ kind: 'timeout', step: 'propose', height: 1, round: 1 });
  e.send({ kind: 'timeout', step: 'prevote', height: 1, round: 1 });
  e.send({ kind: 'timeout', step: 'precommit', height: 1, round: 1 });
  t.same(votesOut(e.send(proposal(1, 2, hash(2), 2, 1))), [], 'L28 waits for the polka of validRound');
  const fx = d.send(proposal(1, 2, hash(2), 2, 1));
  t.same(votesOut(fx).map((v) => [v.type, v.round, h(v.blockHash)]), [[VOTE_TYPE.prevote, 2, h(hash(2))]]);
  // with lockedRound > validRound the node refuses
  const f = lockedInRound0(3);
  t.same(votesOut(f.send(proposal(1, 1, hash(2), 1, 0))), [], 'no polka for hash(2) in round 0');
});

t.test('L15: a proposer with a valid value re-proposes it with its valid round', async (t) => {
  const d = lockedInRound0(1); // round 1's proposer is B
  const props = d.effects.flatMap((e) => (e.kind === 'signAndBroadcast' && e.message.kind === 'proposal' ? [e.message.proposal] : []));
  t.equal(props.length, 1);
  t.same(props[0]!.blockHash, hash(1));
  t.equal(props[0]!.validRound, 0);
  t.equal(ofKind(d.effects, 'buildProposal').length, 0);
});

t.test('L22: nil prevote on an invalid block; L44 nil polka → nil precommit', async (t) => {
  const d = new Driver([1, 1, 1, 1], 1);
  let fx = d.send(proposal(1, 0, hash(1), 0, -1, false));
  t.same(votesOut(fx).map((v) => [v.type, h(v.blockHash)]), [[VOTE_TYPE.prevote, '']]);
  d.send(vote('prevote', 1, 0, NIL, 0));
  fx = d.send(vote('prevote', 1, 0, NIL, 2));
  t.same(votesOut(fx).map((v) => [v.type, h(v.blockHash)]), [[VOTE_TYPE.precommit, '']], 'L44');
  // precommits for an invalid block never commit
  for (const i of [0, 2, 3]) d.send(vote('precommit', 1, 0, hash(1), i));
  t.equal(ofKind(d.effects, 'commit').length, 0);
});

t.test('L57/L61/L65: timeouts advance the round; durations grow', async (t) => {
  const d = new Driver([1, 1, 1, 1], 1);
  t.same(d.send({ kind: 'timeout', step: 'prevote', height: 1, round: 0 }), [], 'wrong step: ignored');
  t.same(d.send({ kind: 'timeout', step: 'propose', height: 1, round: 5 }), [], 'wrong round: ignored');
  let fx = d.send({ kind: 'timeout', step: 'propose', height: 1, round: 0 });
  t.same(votesOut(fx).map((v) => [v.type, h(v.blockHash)]), [[VOTE_TYPE.prevote, '']], 'L57');
  fx = d.send({ kind: 'timeout', step: 'prevote', height: 1, round: 0 });
  t.same(votesOut(fx).map((v) => [v.type, h(v.blockHash)]), [[VOTE_TYPE.precommit, '']], 'L61');
  fx = d.send({ kind: 'timeout', step: 'precommit', height: 1, round: 0 });
  t.equal(d.state.round, 1, 'L65');
  t.equal(ofKind(fx, 'buildProposal').length, 1, 'B proposes round 1');
  d.send({ kind: 'timeout', step: 'precommit', height: 1, round: 1 });
  t.same(ofKind(d.effects, 'scheduleTimeout').at(-1), { kind: 'scheduleTimeout', step: 'propose', height: 1, round: 2, durationMs: 3000 + 2 * 500 });
});

t.test('L55: f+1 power from a higher round skips to it', async (t) => {
  const d = new Driver([1, 1, 1, 1], 1);
  d.send(vote('prevote', 1, 3, hash(1), 0));
  t.equal(d.state.round, 0, '1/4 is not more than 1/3');
  d.send(vote('precommit', 1, 3, NIL, 2));
  t.equal(d.state.round, 3, '2/4 > 1/3');
  const w = new Driver([3, 1, 1, 1], 1);
  w.send(vote('prevote', 1, 2, hash(1), 0));
  t.equal(w.state.round, 2, 'one validator with half the power suffices');
});

t.test('L49: commit from precommits of a round never seen, once its proposal arrives', async (t) => {
  const d = new Driver([1, 1, 1, 1], 1);
  for (const i of [0, 2, 3]) d.send(vote('precommit', 1, 2, hash(9), i));
  t.equal(ofKind(d.effects, 'commit').length, 0, 'no proposal yet');
  const fx = d.send(proposal(1, 2, hash(9), 2));
  const c = ofKind(fx, 'commit');
  t.equal(c.length, 1);
  t.equal(c[0]!.round, 2);
  t.equal(c[0]!.signatures.length, 3);
});

t.test('votes: duplicates ignored, equivocation reported, bounds', async (t) => {
  const d = new Driver([1, 1, 1, 1], 1);
  d.send(proposal(1, 0, hash(1), 0));
  d.send(vote('prevote', 1, 0, hash(1), 0));
  t.same(d.send(vote('prevote', 1, 0, hash(1), 0)), [], 'duplicate ignored');
  t.equal(d.state.step, 'prevote', 'a duplicate does not count twice');
  const fx = d.send(vote('prevote', 1, 0, hash(2), 0, 1));
  const ev = ofKind(fx, 'evidence');
  t.equal(ev.length, 1);
  t.same(ev[0]!.first.vote.blockHash, hash(1));
  t.same(ev[0]!.second.vote.blockHash, hash(2));
  t.equal(d.state.votes.get(0)!.prevotes.get(bytesToHex(addr(0)))!.length, 2, 'kept, bounded');
  t.same(ofKind(d.send(vote('prevote', 1, 0, hash(2), 0, 1)), 'evidence'), [], 'the same conflicting vote again: ignored');
  t.same(d.send(vote('prevote', 2, 0, hash(1), 2)), [], 'other height ignored');
  t.same(d.send(vote('prevote', 1, 11, hash(1), 2)), [], 'round too far ignored');
  t.equal(d.state.votes.has(11), false);
  const bad = vote('prevote', 1, 0, hash(1), 7);
  t.same(d.send(bad), [{ kind: 'reject', input: bad, reason: 'UNKNOWN_VALIDATOR' }]);
});

t.test('proposals: wrong proposer, bad valid round, conflicting', async (t) => {
  const d = new Driver([1, 1, 1, 1], 1);
  const wrong = proposal(1, 0, hash(1), 2);
  t.same(d.send(wrong), [{ kind: 'reject', input: wrong, reason: 'WRONG_PROPOSER' }]);
  const badVr = proposal(1, 0, hash(1), 0, 0);
  t.same(d.send(badVr), [{ kind: 'reject', input: badVr, reason: 'BAD_VALID_ROUND' }]);
  d.send(proposal(1, 0, hash(1), 0));
  t.same(d.send(proposal(1, 0, hash(1), 0)), [], 'same proposal again ignored');
  const other = proposal(1, 0, hash(2), 0);
  t.same(d.send(other), [{ kind: 'reject', input: other, reason: 'CONFLICTING_PROPOSAL' }]);
});

t.test('an equivocator counts towards each value it voted for, once in any-value tallies', async (t) => {
  const d = new Driver([1, 1, 1, 1], 1);
  d.send(proposal(1, 0, hash(1), 0));
  d.send(vote('prevote', 1, 0, hash(2), 0));
  d.send(vote('prevote', 1, 0, hash(1), 0, 1));
  t.equal(d.state.step, 'prevote', 'B + A = 2 of 4: no polka');
  const fx = d.send(vote('prevote', 1, 0, hash(1), 2));
  t.same(votesOut(fx).map((v) => [v.type, h(v.blockHash)]), [[VOTE_TYPE.precommit, h(hash(1))]], 'A counts for hash(1)');
  for (let k = 3; k < 8; k++) d.send(vote('precommit', 1, 0, hash(k), 3, k));
  t.equal(d.state.votes.get(0)!.precommits.get(bytesToHex(addr(3)))!.length, 4, 'at most MAX_VOTES_PER_VALIDATOR kept');
});

t.test('transition is pure: the input state is not modified', async (t) => {
  const s0 = transition(initialState(), { kind: 'newHeight', height: 1, validators: vals([1, 1, 1, 1]), self: addr(1) }).state;
  const snapshot = JSON.stringify([...s0.votes.keys(), s0.round, s0.step]);
  const r = transition(s0, vote('prevote', 1, 0, hash(1), 0));
  t.equal(s0.votes.get(0)?.prevotes.size ?? 0, 0);
  t.equal(r.state.votes.get(0)!.prevotes.size, 1);
  t.equal(JSON.stringify([...s0.votes.keys(), s0.round, s0.step]), snapshot);
});

t.test('P1: proposer rotation', async (t) => {
  const seq = (powers: number[], n: number): string => {
    const v = vals(powers);
    return Array.from({ length: n }, (_, r) => 'ABCD'[proposerIndex(v, v.map(() => 0n), r)]).join('');
  };
  t.equal(seq([1, 1, 1, 1], 8), 'ABCDABCD');
  t.equal(seq([3, 1, 1, 1], 12), 'ABACDAABACDA');
  // carried over across heights: after a commit in round 0, height 2 starts with B
  const d = new Driver([1, 1, 1, 1], 0);
  d.send({ kind: 'proposalBuilt', height: 1, round: 0, blockHash: hash(3) });
  for (const i of [1, 2]) d.send(vote('prevote', 1, 0, hash(3), i));
  for (const i of [1, 2]) d.send(vote('precommit', 1, 0, hash(3), i));
  d.send({ kind: 'newHeight', height: 2, validators: vals([1, 1, 1, 1]), self: addr(0) });
  t.equal(d.state.height, 2);
  t.equal(ofKind(d.effects, 'buildProposal').length, 1, 'A does not propose height 2 round 0');
  t.same(ofKind(d.effects, 'scheduleTimeout').at(-1)?.height, 2);
});

t.test('P1: the proposer of the next height does not depend on the decision round', async (t) => {
  const first = (decideRound: number): string => {
    const d = new Driver([1, 1, 1, 1], null);
    for (let r = 0; r < decideRound; r++) d.send({ kind: 'timeout', step: 'precommit', height: 1, round: r });
    d.send(proposal(1, decideRound, hash(1), decideRound % 4));
    for (const i of [0, 1, 2]) d.send(vote('precommit', 1, decideRound, hash(1), i));
    t.equal(ofKind(d.effects, 'commit').length, 1);
    d.send({ kind: 'newHeight', height: 2, validators: vals([1, 1, 1, 1]), self: null });
    return bytesToHex(proposerOf(d.state, 0));
  };
  t.equal(first(0), bytesToHex(addr(1)));
  t.equal(first(2), bytesToHex(addr(1)));
});

t.test('a non-validator follows and commits without voting', async (t) => {
  const d = new Driver([1, 1, 1, 1], null);
  d.send(proposal(1, 0, hash(1), 0));
  for (const i of [0, 1, 2]) d.send(vote('precommit', 1, 0, hash(1), i));
  t.equal(votesOut(d.effects).length, 0);
  t.equal(ofKind(d.effects, 'commit').length, 1);
});
