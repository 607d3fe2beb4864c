import t from 'tap';
import { AMOUNT_MAX, ONE_TAG } from '../../../lib/index.ts';
import { ITEM_STATUS, TASK_STATUS, decodeSignedTx, type TaskSpec } from '../../../runtime/index.ts';
import { numberedKey } from '../../utils/chain.ts';
import { errorOf, fixedKey } from '../../utils/factories.ts';
import { LabellingChain, commitBody, itemsFor, openTask, revealBody, stakeAll, taskSpec } from '../../utils/labelling.ts';

const requester = fixedKey(1);
const stranger = fixedKey(2);
const annotators = Array.from({ length: 6 }, (_, i) => numberedKey(400 + i));

t.test('bad task specs fail with a clear receipt code', async (t) => {
  const chain = LabellingChain.withAccounts([requester]);
  const cases: Array<[string, Partial<TaskSpec>, string]> = [
    ['zero items', { itemCount: 0 }, 'TASK_NO_ITEMS'],
    ['too many items', { itemCount: 100_001 }, 'TASK_TOO_MANY_ITEMS'],
    ['one class', { classes: 1 }, 'TASK_BAD_CLASSES'],
    ['65 classes', { classes: 65 }, 'TASK_BAD_CLASSES'],
    ['17 multi-labels', { schema: 1, classes: 17 }, 'TASK_BAD_CLASSES'],
    ['min > max answers', { answersMin: 4, answersMax: 3 }, 'TASK_BAD_ANSWERS'],
    ['zero answers', { answersMin: 0 }, 'TASK_BAD_ANSWERS'],
    ['above the ceiling', { answersMax: 33 }, 'TASK_BAD_ANSWERS'],
    ['zero commit window', { commitWindow: 0 }, 'TASK_BAD_WINDOW'],
    ['windows longer than unbonding', { challengeWindow: 1_995 }, 'TASK_BAD_WINDOW'],
    ['confidence below one half', { confidenceQ16: 30_000 }, 'TASK_BAD_CONFIDENCE'],
    ['confidence above one', { confidenceQ16: 65_537 }, 'TASK_BAD_CONFIDENCE'],
    ['no seats per annotator', { seatsPerAnnotatorMax: 0 }, 'TASK_BAD_SEATS'],
    ['annotator stake below the minimum', { annotatorStake: 1n }, 'TASK_STAKE_TOO_LOW'],
    ['overflowing rewards', { rewardPerAnswer: AMOUNT_MAX / 4n }, 'TASK_ESCROW_OVERFLOW'],
  ];
  for (const [name, overrides, code] of cases) {
    const r = chain.send(requester, { kind: 'taskCreate', spec: taskSpec(overrides) });
    t.equal(r.code, code, name);
    t.equal(r.status, 1, `${name}: a failed receipt, the fee still paid`);
  }
});

t.test('task lifecycle errors', async (t) => {
  const chain = LabellingChain.withAccounts([requester, stranger], 1_000n * ONE_TAG);
  const create = chain.send(requester, { kind: 'taskCreate', spec: taskSpec({ itemCount: 3 }) });
  t.equal(create.status, 0);
  t.equal(chain.send(stranger, { kind: 'taskAddItems', task: 1, items: itemsFor(1) }).code, 'TASK_NOT_REQUESTER');
  t.equal(chain.send(requester, { kind: 'taskAddItems', task: 9, items: itemsFor(1) }).code, 'TASK_NOT_FOUND');
  t.equal(chain.send(requester, { kind: 'taskAddItems', task: 1, items: itemsFor(4) }).code, 'TASK_ITEMS_OVERFLOW');
  t.equal(chain.send(requester, { kind: 'taskAddItems', task: 1, items: [] }).code, 'TASK_NO_ITEMS');
  const huge = chain.send(requester, { kind: 'taskCreate', spec: taskSpec({ itemCount: 3, rewardPerAnswer: 10_000n * ONE_TAG }) });
  t.equal(huge.status, 0);
  t.equal(chain.send(requester, { kind: 'taskFund', task: 2 }).code, 'TX_INSUFFICIENT_BALANCE', 'escrow above the balance');
  t.equal(chain.send(requester, { kind: 'taskFund', task: 1 }).status, 0);
  t.equal(chain.send(requester, { kind: 'taskFund', task: 1 }).code, 'TASK_WRONG_STATUS', 'funded twice');
  const before = chain.balance(requester);
  const cancel = chain.send(requester, { kind: 'taskCancel', task: 1 });
  t.equal(cancel.status, 0);
  t.equal(chain.task(1).status, TASK_STATUS.cancelled);
  t.equal(chain.balance(requester), before + cancelRefund(cancel) - cancel.fee, 'the escrow came back');
  t.equal(chain.send(requester, { kind: 'taskAddItems', task: 1, items: itemsFor(1) }).code, 'TASK_WRONG_STATUS');
});

function cancelRefund(r: { events: Array<{ type: string; attributes: Array<readonly [string, string]> }> }): bigint {
  return BigInt(r.events.find((e) => e.type === 'task_cancelled')!.attributes.find(([k]) => k === 'refund')![1]);
}

t.test('annotator stake errors', async (t) => {
  const chain = LabellingChain.withAccounts([stranger], 100n * ONE_TAG);
  t.equal(chain.send(stranger, { kind: 'annotatorUnstake', amount: ONE_TAG }).code, 'ANNOTATOR_NOT_FOUND');
  t.equal(chain.send(stranger, { kind: 'annotatorStake', amount: 0n }).code, 'TX_ZERO_AMOUNT');
  t.equal(chain.send(stranger, { kind: 'annotatorStake', amount: 1_000n * ONE_TAG }).code, 'TX_INSUFFICIENT_BALANCE');
  t.equal(chain.send(stranger, { kind: 'annotatorStake', amount: 50n * ONE_TAG }).status, 0);
  t.equal(chain.send(stranger, { kind: 'annotatorUnstake', amount: 51n * ONE_TAG }).code, 'ANNOTATOR_INSUFFICIENT_STAKE');
  for (let i = 0; i < 8; i++) t.equal(chain.send(stranger, { kind: 'annotatorUnstake', amount: ONE_TAG }).status, 0);
  t.equal(chain.send(stranger, { kind: 'annotatorUnstake', amount: ONE_TAG }).code, 'ANNOTATOR_UNBONDING_FULL', 'at most 8 unbonding entries');
});

t.test('unstaked TAG comes back after the unbonding delay, not before', async (t) => {
  const chain = LabellingChain.withAccounts([stranger], 100n * ONE_TAG);
  chain.send(stranger, { kind: 'annotatorStake', amount: 50n * ONE_TAG });
  const r = chain.send(stranger, { kind: 'annotatorUnstake', amount: 20n * ONE_TAG });
  const release = Number(r.events.find((e) => e.type === 'annotator_unstaked')!.attributes.find(([k]) => k === 'releaseHeight')![1]);
  const balance = chain.balance(stranger);
  chain.advanceTo(release - 1);
  t.equal(chain.balance(stranger), balance, 'nothing before the release height');
  chain.block();
  t.equal(chain.balance(stranger), balance + 20n * ONE_TAG, 'released at the release height');
});

t.test('label transaction errors', async (t) => {
  const chain = LabellingChain.withAccounts([requester, stranger, ...annotators]);
  stakeAll(chain, annotators);
  const id = openTask(chain, requester, taskSpec({ itemCount: 4, answersMin: 3, answersMax: 3, commitWindow: 10, revealWindow: 10 }));
  chain.block();
  const round = chain.round(id, 0);
  const who = annotators.find((k) => chain.assignment(id, 0, k) !== null)!;
  const mine = chain.assignment(id, 0, who)!.items;
  const notMine = [0, 1, 2, 3].find((i) => !mine.includes(i));

  t.equal(chain.send(stranger, commitBody(id, 0, stranger, [{ item: 0, label: 1 }]).body).code, 'LABEL_NOT_ASSIGNED', 'no seats, no commit');
  t.equal(chain.send(who, commitBody(id, 7, who, [{ item: 0, label: 1 }]).body).code, 'LABEL_ROUND_NOT_FOUND');
  t.equal(chain.send(who, { kind: 'labelCommit', task: id, round: 0, root: new Uint8Array(32), count: mine.length + 1 }).code, 'LABEL_BAD_COUNT');
  t.equal(chain.send(who, revealBody(id, 0, [])).code, 'LABEL_REVEAL_NOT_OPEN', 'reveal during the commit window');

  const labels = mine.map((item) => ({ item, label: 1 }));
  const { body, entries } = commitBody(id, 0, who, labels);
  t.equal(chain.send(who, body).status, 0);
  t.equal(chain.send(who, body).code, 'LABEL_ALREADY_COMMITTED', 'a double commit');
  chain.advanceTo(round.commitEnd);
  t.equal(chain.send(who, body).code, 'LABEL_COMMIT_CLOSED', 'a late commit');

  // Reveals that do not open the commitment.
  t.equal(chain.send(who, revealBody(id, 0, entries.map((e) => ({ ...e, label: 2 })))).code, 'LABEL_REVEAL_MISMATCH', 'labels changed after commit');
  t.equal(chain.send(who, revealBody(id, 0, entries.slice(1))).code, 'LABEL_REVEAL_MISMATCH', 'an entry left out');
  if (notMine !== undefined) {
    const other = commitBody(id, 0, who, [{ item: notMine, label: 1 }]);
    t.equal(chain.send(who, revealBody(id, 0, other.entries)).code, 'LABEL_REVEAL_MISMATCH', 'a label for an unassigned item');
  }
  t.equal(chain.send(who, revealBody(id, 0, entries)).status, 0, 'the true reveal');
  t.equal(chain.send(who, revealBody(id, 0, entries)).code, 'LABEL_ALREADY_REVEALED');

  // Another annotator commits an out-of-range label and an unassigned item: the reveal names the problem.
  const b = annotators.find((k) => k !== who && chain.assignment(id, 0, k) !== null)!;
  t.ok(b !== undefined);
  chain.advanceTo(round.revealEnd);
  t.equal(chain.send(b, revealBody(id, 0, [])).code, 'LABEL_REVEAL_CLOSED', 'a late reveal');
});

t.test('out-of-range labels, unassigned items and duplicates in a reveal', async (t) => {
  const chain = LabellingChain.withAccounts([requester, ...annotators]);
  stakeAll(chain, annotators);
  const id = openTask(chain, requester, taskSpec({ itemCount: 4, answersMin: 3, answersMax: 3 }));
  chain.block();
  const round = chain.round(id, 0);
  const who = annotators.filter((k) => (chain.assignment(id, 0, k)?.items.length ?? 0) >= 1);
  const [a, b, c] = who as [typeof annotators[0], typeof annotators[0], typeof annotators[0]];
  const aItems = chain.assignment(id, 0, a)!.items;
  const unassigned = [0, 1, 2, 3].find((i) => !aItems.includes(i));
  const range = commitBody(id, 0, a, [{ item: aItems[0]!, label: 4 }]);
  const bItems = chain.assignment(id, 0, b)!.items;
  const dup = commitBody(id, 0, b, [{ item: bItems[0]!, label: 1 }, { item: bItems[0]!, label: 2 }]);
  const cItems = chain.assignment(id, 0, c)!.items;
  const foreign = commitBody(id, 0, c, [{ item: [0, 1, 2, 3].find((i) => !cItems.includes(i)) ?? 0, label: 1 }]);
  // dup has 2 entries: allowed only if b holds 2 seats; commit count is checked against seats.
  const commits = chain.block([chain.tx(a, range.body), chain.tx(c, foreign.body)]);
  t.ok(commits.every((r) => r.status === 0));
  chain.advanceTo(round.commitEnd);
  t.equal(chain.send(a, revealBody(id, 0, range.entries)).code, 'LABEL_OUT_OF_RANGE');
  if (!cItems.includes(foreign.entries[0]!.item)) t.equal(chain.send(c, revealBody(id, 0, foreign.entries)).code, 'LABEL_ITEM_NOT_ASSIGNED');
  t.ok(unassigned === undefined || typeof unassigned === 'number');
  void dup;
});

t.test('items without confident answers get more seats, then low confidence', async (t) => {
  const chain = LabellingChain.withAccounts([requester, ...annotators]);
  stakeAll(chain, annotators);
  const id = openTask(chain, requester, taskSpec({ itemCount: 1, answersMin: 2, answersMax: 4, classes: 2, confidenceQ16: 65_000 }));
  chain.block();
  // Round 0: two seats that disagree.
  const r0 = chain.round(id, 0);
  const seated0 = annotators.filter((k) => chain.assignment(id, 0, k) !== null);
  t.equal(seated0.length, 2);
  const c0 = seated0.map((k, i) => ({ k, c: commitBody(id, 0, k, [{ item: 0, label: i }]) }));
  chain.block(c0.map(({ k, c }) => chain.tx(k, c.body)));
  chain.advanceTo(r0.commitEnd);
  chain.block(c0.map(({ k, c }) => chain.tx(k, revealBody(id, 0, c.entries))));
  chain.advanceTo(r0.revealEnd);
  t.equal(chain.item(id, 0).status, ITEM_STATUS.open, 'not final after a split vote');
  t.equal(chain.task(id).rounds, 2, 'an extension round was created');
  chain.block(); // draw the extension
  const r1 = chain.round(id, 1);
  t.equal(chain.item(id, 0).seats.length, 4, 'two more seats, up to answersMax');
  // Nobody in round 1 reveals: the item cannot grow further and is marked low-confidence.
  chain.advanceTo(r1.revealEnd);
  const item = chain.item(id, 0);
  t.equal(item.status, ITEM_STATUS.lowConfidence);
  const seated1 = item.seats.filter((s) => s.round === 1);
  t.equal(seated1.length, 2);
  t.equal(chain.task(id).itemsLowConfidence, 1);
  t.ok(chain.events('round_closed').some((e) => e['lowConfidence'] === '1'));
});

t.test('disputes: a fresh panel overturns a wrong label; bonds and slashes settle', async (t) => {
  const many = Array.from({ length: 14 }, (_, i) => numberedKey(500 + i));
  const chain = LabellingChain.withAccounts([requester, stranger, ...many]);
  stakeAll(chain, many);
  const id = openTask(chain, requester, taskSpec({ itemCount: 1, answersMin: 1, answersMax: 1, classes: 2, confidenceQ16: 32_768, challengeWindow: 50 }));
  chain.block();
  const r0 = chain.round(id, 0);
  const liar = many.find((k) => chain.assignment(id, 0, k) !== null)!;
  const c = commitBody(id, 0, liar, [{ item: 0, label: 0 }]);
  chain.send(liar, c.body);
  chain.advanceTo(r0.commitEnd);
  chain.send(liar, revealBody(id, 0, c.entries));
  chain.advanceTo(r0.revealEnd);
  t.equal(chain.item(id, 0).status, ITEM_STATUS.final);
  t.equal(chain.item(id, 0).label, 0);

  t.equal(chain.send(stranger, { kind: 'dispute', task: id, item: 0, bond: ONE_TAG }).code, 'DISPUTE_BOND_TOO_LOW');
  const balance = chain.balance(stranger);
  const opened = chain.send(stranger, { kind: 'dispute', task: id, item: 0, bond: 10n * ONE_TAG });
  t.equal(opened.status, 0, opened.code);
  t.equal(chain.send(stranger, { kind: 'dispute', task: id, item: 0, bond: 10n * ONE_TAG }).code, 'DISPUTE_ALREADY');
  chain.block(); // draw the panel
  const round = chain.task(id).rounds - 1;
  const panel = many.filter((k) => chain.assignment(id, round, k) !== null);
  t.equal(panel.length, 3, 'a panel of 2 × answers + 1');
  t.notOk(panel.includes(liar), 'the panel is fresh');
  const rp = chain.round(id, round);
  const commits = panel.map((k) => ({ k, c: commitBody(id, round, k, [{ item: 0, label: 1 }]) }));
  chain.block(commits.map(({ k, c }) => chain.tx(k, c.body)));
  chain.advanceTo(rp.commitEnd);
  chain.block(commits.map(({ k, c }) => chain.tx(k, revealBody(id, round, c.entries))));
  const liarBefore = chain.balance(liar);
  chain.advanceTo(rp.revealEnd);
  const item = chain.item(id, 0);
  t.equal(item.label, 1, 'the panel overturned the label');
  t.ok(item.disputed);
  const settled = chain.events('dispute_settled')[0]!;
  t.equal(settled['outcome'], 'upheld');
  t.ok(chain.balance(stranger) > balance - 10n * ONE_TAG, 'the challenger got part of the bond back and the proceeds');
  t.equal(chain.balance(liar), liarBefore, 'the liar earns nothing from the dispute');
  t.equal(chain.send(stranger, { kind: 'dispute', task: id, item: 0, bond: 10n * ONE_TAG }).code, 'DISPUTE_ALREADY', 'one dispute per item');
});

t.test('a label transaction for an unknown kind does not decode', async (t) => {
  t.equal(errorOf(() => decodeSignedTx(new Uint8Array([0x92, 0x96]))) !== null, true);
});
