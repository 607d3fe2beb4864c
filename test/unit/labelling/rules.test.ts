/**
 * Multi-label tasks, the emission cap and reputation decay, through the real runtime.
 */
import t from 'tap';
import { ONE_TAG } from '../../../lib/index.ts';
import {
  DEFAULT_LABELLING_PARAMS,
  ITEM_STATUS,
  loadReputation,
  loadReputationRaw,
  saveLabellingParams,
  type LabellingParams,
} from '../../../runtime/index.ts';
import { StateView, loadSupply } from '../../../state/index.ts';
import { numberedKey } from '../../utils/chain.ts';
import { fixedKey, type Key } from '../../utils/factories.ts';
import { LabellingChain, commitBody, openTask, revealBody, stakeAll, taskSpec } from '../../utils/labelling.ts';

const requester = fixedKey(1);
const annotators = Array.from({ length: 6 }, (_, i) => numberedKey(900 + i));

function withParams(chain: LabellingChain, overrides: Partial<LabellingParams>): void {
  const view = new StateView(chain.state);
  saveLabellingParams(view, { ...DEFAULT_LABELLING_PARAMS, ...overrides });
  chain.state.apply(view.writes());
}

/** Every seated annotator commits and reveals `answer(item)` in round 0, then the round closes. */
function labelAll(chain: LabellingChain, task: number, keys: readonly Key[], answer: (item: number, who: number) => number): void {
  const r = chain.round(task, 0);
  const plans = keys.flatMap((k, w) => {
    const a = chain.assignment(task, 0, k);
    return a === null ? [] : [{ k, c: commitBody(task, 0, k, a.items.map((item) => ({ item, label: answer(item, w) }))) }];
  });
  chain.block(plans.map(({ k, c }) => chain.tx(k, c.body)));
  chain.advanceTo(r.commitEnd);
  const out = chain.block(plans.map(({ k, c }) => chain.tx(k, revealBody(task, 0, c.entries))));
  for (const x of out) if (x.status !== 0) throw new Error(`reveal failed: ${x.code}`);
  chain.advanceTo(r.revealEnd);
}

t.test('multi-label: answers are label masks; the consensus is a mask, confidence the weakest label', async (t) => {
  const chain = LabellingChain.withAccounts([requester, ...annotators]);
  stakeAll(chain, annotators);
  const id = openTask(chain, requester, taskSpec({ schema: 1, classes: 3, itemCount: 3, answersMin: 5, answersMax: 5, confidenceQ16: 52_429 }));
  chain.block();
  // Truth: item i has mask (i + 1) (0b001, 0b010, 0b011); annotator 0 always answers 0b111.
  labelAll(chain, id, annotators, (item, who) => (who === 0 ? 7 : item + 1));
  for (let i = 0; i < 3; i++) {
    const item = chain.item(id, i);
    t.equal(item.status, ITEM_STATUS.final, `item ${i} final`);
    t.equal(item.label, i + 1, `item ${i} mask`);
  }
  const bad = chain.send(annotators[0]!, { kind: 'labelCommit', task: id, round: 0, root: new Uint8Array(32), count: 1 });
  t.equal(bad.code, 'LABEL_COMMIT_CLOSED');
  // Reputation for multi-label tasks is kept as 2×2 counts.
  const rep = loadReputationRaw(chain.state, annotators[1]!.address, 2);
  t.ok(rep !== null && rep.counts.length === 4, 'binary confusion counts');
});

t.test('a mask outside the label set is rejected at reveal', async (t) => {
  const chain = LabellingChain.withAccounts([requester, ...annotators]);
  stakeAll(chain, annotators);
  const id = openTask(chain, requester, taskSpec({ schema: 1, classes: 3, itemCount: 1, answersMin: 2, answersMax: 2 }));
  chain.block();
  const who = annotators.find((k) => chain.assignment(id, 0, k) !== null)!;
  const c = commitBody(id, 0, who, [{ item: 0, label: 8 }]);
  chain.send(who, c.body);
  chain.advanceTo(chain.round(id, 0).commitEnd);
  t.equal(chain.send(who, revealBody(id, 0, c.entries)).code, 'LABEL_OUT_OF_RANGE');
});

t.test('emission stops at the per-epoch cap and the supply grows by exactly what was minted', async (t) => {
  const chain = LabellingChain.withAccounts([requester, ...annotators]);
  withParams(chain, { emissionPerLabel: ONE_TAG, emissionPerEpochMax: 7n * ONE_TAG, epochBlocks: 100_000 });
  stakeAll(chain, annotators);
  const id = openTask(chain, requester, taskSpec({ itemCount: 4, answersMin: 3, answersMax: 3 }));
  chain.block();
  const supply = loadSupply(chain.state);
  const feesBefore = chain.events('fee').length;
  t.equal(feesBefore, 0, 'fee events are receipts, not block events');
  const r = chain.round(id, 0);
  const plans = annotators.flatMap((k) => {
    const a = chain.assignment(id, 0, k);
    return a === null ? [] : [{ k, c: commitBody(id, 0, k, a.items.map((item) => ({ item, label: item % 4 }))) }];
  });
  const commits = chain.block(plans.map(({ k, c }) => chain.tx(k, c.body)));
  chain.advanceTo(r.commitEnd);
  const reveals = chain.block(plans.map(({ k, c }) => chain.tx(k, revealBody(id, 0, c.entries))));
  const burned = [...commits, ...reveals].reduce((s, x) => s + BigInt(x.events[0]!.attributes.find(([k]) => k === 'burned')![1]), 0n);
  chain.advanceTo(r.revealEnd);
  const minted = chain.events('round_closed').reduce((s, e) => s + BigInt(e['minted']!), 0n);
  t.equal(minted, 7n * ONE_TAG, '12 verified labels, but only 7 TAG under the cap');
  t.equal(loadSupply(chain.state), supply + minted - burned, 'supply = before + minted − burned fees');
});

t.test('reputation decays per epoch and is gone after 64 idle epochs', async (t) => {
  const chain = LabellingChain.withAccounts([requester, ...annotators]);
  withParams(chain, { epochBlocks: 10 });
  stakeAll(chain, annotators);
  const id = openTask(chain, requester, taskSpec({ itemCount: 4, answersMin: 3, answersMax: 3 }));
  chain.block();
  labelAll(chain, id, annotators, (item) => item % 4);
  const who = annotators.find((k) => loadReputationRaw(chain.state, k.address, 4) !== null)!;
  const stored = loadReputationRaw(chain.state, who.address, 4)!;
  const total = stored.counts.reduce((s, c) => s + c, 0);
  t.ok(total > 0, 'counts were recorded');
  const params = { ...DEFAULT_LABELLING_PARAMS, epochBlocks: 10 };
  const later = loadReputation(chain.state, who.address, 4, stored.epoch + 1, params);
  t.same(later.counts, stored.counts.map((c) => Math.floor((c * 255) / 256)), 'one epoch keeps 255/256');
  const gone = loadReputation(chain.state, who.address, 4, stored.epoch + 65, params);
  t.ok(gone.counts.every((c) => c === 0), 'long idle reputation is gone');
});
