import t from 'tap';
import { ONE_TAG, equalBytes } from '../../../lib/index.ts';
import { ITEM_STATUS, ROUND_STAGE, TASK_STATUS, TREASURY_ADDRESS, loadAnnotator, type LabelEntry } from '../../../runtime/index.ts';
import { loadSupply } from '../../../state/index.ts';
import { numberedKey } from '../../utils/chain.ts';
import { fixedKey } from '../../utils/factories.ts';
import { LabellingChain, commitBody, goldTree, openTask, revealBody, stakeAll, taskSpec } from '../../utils/labelling.ts';

const requester = fixedKey(1);
const annotators = Array.from({ length: 8 }, (_, i) => numberedKey(200 + i));

/** Every annotator commits and reveals `answer(item, who)` for each of its seats in `round`. */
function labelRound(chain: LabellingChain, task: number, round: number, answer: (item: number, who: number) => number | null): void {
  const r = chain.round(task, round);
  const reveals: Array<{ who: (typeof annotators)[number]; entries: LabelEntry[] }> = [];
  const commits = [];
  for (const [w, who] of annotators.entries()) {
    const a = chain.assignment(task, round, who);
    if (a === null) continue;
    const labels = a.items.map((item) => ({ item, label: answer(item, w) })).filter((l): l is { item: number; label: number } => l.label !== null);
    if (labels.length === 0) continue;
    const { body, entries } = commitBody(task, round, who, labels);
    commits.push(chain.tx(who, body));
    reveals.push({ who, entries });
  }
  const receipts = chain.block(commits);
  for (const r of receipts) if (r.status !== 0) throw new Error(`commit failed: ${r.code}`);
  chain.advanceTo(r.commitEnd);
  const out = chain.block(reveals.map(({ who, entries }) => chain.tx(who, revealBody(task, round, entries))));
  for (const r of out) if (r.status !== 0) throw new Error(`reveal failed: ${r.code}`);
  chain.advanceTo(r.revealEnd);
}

t.test('a task runs from funding to done: seats, commit, reveal, consensus, rewards, refund', async (t) => {
  const chain = LabellingChain.withAccounts([requester, ...annotators]);
  const supply0 = loadSupply(chain.state);
  stakeAll(chain, annotators);
  const spec = taskSpec({ itemCount: 4, answersMin: 3, answersMax: 5 });
  const before = chain.balance(requester);
  const id = openTask(chain, requester, spec);
  t.equal(chain.task(id).status, TASK_STATUS.funded);
  const escrow = 4n * 5n * (spec.rewardPerAnswer + spec.bonusPerAnswer + spec.feePerSeat);
  t.equal(chain.task(id).escrow, escrow, 'escrow is items × answersMax × (reward + bonus + fee budget)');

  chain.block(); // start + draw
  t.equal(chain.task(id).status, TASK_STATUS.labelling);
  const r0 = chain.round(id, 0);
  t.equal(r0.stage, ROUND_STAGE.commit, 'seats drawn in one block');
  for (let i = 0; i < 4; i++) {
    const seats = chain.item(id, i).seats;
    t.equal(seats.length, 3, `item ${i} has answersMin seats`);
    t.equal(new Set(seats.map((s) => Buffer.from(s.annotator).toString('hex'))).size, 3, 'one seat per annotator per item');
    t.notOk(seats.some((s) => equalBytes(s.annotator, requester.address)), 'the requester holds no seat');
  }

  // Everyone answers item % 4, except annotator 0 who always answers 3.
  labelRound(chain, id, 0, (item, who) => (who === 0 ? 3 : item % 4));
  const task = chain.task(id);
  for (let i = 0; i < 4; i++) {
    const item = chain.item(id, i);
    t.equal(item.status, ITEM_STATUS.final, `item ${i} final`);
    t.equal(item.label, i % 4, `item ${i} label`);
    t.ok(item.confidenceQ16 >= spec.confidenceQ16, `item ${i} confident`);
  }
  t.equal(task.status, TASK_STATUS.finalizing);
  t.ok(chain.events('round_closed').length >= 1, 'round_closed event');

  chain.advanceTo(task.lastFinalHeight + spec.challengeWindow + 1);
  const done = chain.task(id);
  t.equal(done.status, TASK_STATUS.done);
  t.equal(done.escrow, 0n);
  const paid = done.paid;
  t.ok(paid >= 12n * spec.rewardPerAnswer, 'every revealed answer earned the base reward');
  // The requester paid fees for 4 transactions and got back what was not paid out.
  const fees = before - chain.balance(requester) - paid;
  t.ok(fees > 0n && fees < ONE_TAG, `requester spent only the payouts plus fees (${fees})`);
  // Conservation: supply moved only by minting, burning fees.
  const minted = chain.events('round_closed').reduce((s, e) => s + BigInt(e['minted'] ?? '0'), 0n);
  t.ok(minted > 0n, 'verified labels minted TAG');
  t.ok(loadSupply(chain.state) <= supply0 + minted, 'supply grows by at most the emission');
});

t.test('label fees are paid from escrow within the seat budget', async (t) => {
  const chain = LabellingChain.withAccounts([requester, ...annotators.slice(0, 4)]);
  const poor = numberedKey(300);
  // A staked annotator with no free balance at all.
  chain.send(annotators[0]!, { kind: 'transfer', to: poor.address, amount: 1_100n * ONE_TAG });
  chain.send(poor, { kind: 'annotatorStake', amount: chain.balance(poor) - ONE_TAG / 10n });
  t.ok(chain.balance(poor) < ONE_TAG);
  stakeAll(chain, annotators.slice(0, 4));
  const id = openTask(chain, requester, taskSpec({ itemCount: 3, answersMin: 5, answersMax: 5, annotatorStake: 100n * ONE_TAG }));
  chain.block();
  const a = chain.assignment(id, 0, poor);
  t.ok(a !== null && a.items.length === 3, 'the poor annotator holds seats');
  const balance = chain.balance(poor);
  const { body } = commitBody(id, 0, poor, a!.items.map((item) => ({ item, label: 1 })));
  const r = chain.send(poor, body);
  t.equal(r.status, 0, r.code);
  t.equal(chain.balance(poor), balance, 'the annotator paid nothing');
  t.ok(chain.assignment(id, 0, poor)!.feeSpent > 0n, 'the seat budget was charged');
  t.ok(r.events[0]!.attributes.some(([k, v]) => k === 'sponsorTask' && v === String(id)));
});

t.test('gold answers clamp items and score annotators', async (t) => {
  const chain = LabellingChain.withAccounts([requester, ...annotators]);
  stakeAll(chain, annotators);
  const gold = goldTree([{ item: 1, label: 2 }, { item: 3, label: 3 }]);
  const spec = taskSpec({ itemCount: 4, answersMin: 3, answersMax: 3, goldRoot: gold.root, revealWindow: 6 });
  const id = openTask(chain, requester, spec);
  chain.block();
  const r0 = chain.round(id, 0);
  // Gold cannot be revealed while commits are open.
  const early = chain.send(requester, { kind: 'goldReveal', task: id, goldCount: gold.count, entries: gold.reveal });
  t.equal(early.code, 'GOLD_NOT_OPEN');
  // Annotators 0..7 answer: the majority says item 1 is 1 (wrong against gold 2).
  const r = chain.round(id, 0);
  const commits = [];
  const reveals = [];
  for (const who of annotators) {
    const a = chain.assignment(id, 0, who);
    if (a === null) continue;
    const c = commitBody(id, 0, who, a.items.map((item) => ({ item, label: item === 1 ? 1 : item % 4 })));
    commits.push(chain.tx(who, c.body));
    reveals.push(chain.tx(who, revealBody(id, 0, c.entries)));
  }
  chain.resetNonces();
  t.ok(chain.block(commits).every((x) => x.status === 0));
  chain.advanceTo(r.commitEnd);
  const bad = { ...gold.reveal[0]!, label: 3 };
  t.equal(chain.send(requester, { kind: 'goldReveal', task: id, goldCount: gold.count, entries: [bad] }).code, 'GOLD_BAD_PROOF', 'a gold answer the root does not hold');
  t.equal(chain.send(requester, { kind: 'goldReveal', task: id, goldCount: gold.count, entries: gold.reveal }).status, 0);
  t.equal(chain.send(requester, { kind: 'goldReveal', task: id, goldCount: gold.count, entries: gold.reveal.slice(0, 1) }).code, 'GOLD_ALREADY_REVEALED');
  chain.resetNonces();
  const revealed = chain.block(reveals.map((x) => chain.tx(annotators.find((k) => equalBytes(k.publicKey, x.tx.sender))!, x.tx.body)));
  t.ok(revealed.every((x) => x.status === 0), 'reveals accepted');
  chain.advanceTo(r0.revealEnd);
  t.equal(chain.item(id, 1).label, 2, 'the gold item takes the gold label');
  t.equal(chain.item(id, 1).confidenceQ16, 65_536);
  const wrong = chain.item(id, 1).seats.map((s) => s.annotator);
  for (const w of wrong) {
    const a = loadAnnotator(chain.state, w)!;
    const expected = 1 + (chain.item(id, 3).seats.some((s) => equalBytes(s.annotator, w)) ? 1 : 0);
    t.equal(a.goldSeen, expected, 'gold seen counted');
    t.equal(a.goldCorrect, expected - 1, 'only the item-3 gold answer was right');
    t.ok(a.slashedTotal > 0n, 'a wrong gold answer is slashed');
  }
  t.ok(chain.balance(TREASURY_ADDRESS) > 0n, 'the protocol got its share of the slash');
});
