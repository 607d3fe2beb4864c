/**
 * Shared set-up for the passport tests: a task labelled to completion with the LabellingChain
 * harness, a passport spec, and helpers that read receipts.
 */
import { ONE_TAG, datasetRoot, type DatasetRecord } from '../../../lib/index.ts';
import { LICENCE_KIND, TASK_STATUS, USES_MASK, type LabelEntry, type OfferTerms, type PassportSpec, type Receipt } from '../../../runtime/index.ts';
import { numberedKey } from '../../utils/chain.ts';
import { fixedKey, type Key } from '../../utils/factories.ts';
import { LabellingChain, commitBody, openTask, revealBody, stakeAll, taskSpec } from '../../utils/labelling.ts';

export const requester = fixedKey(1);
export const buyer = fixedKey(2);
export const stranger = fixedKey(3);
export const annotators = Array.from({ length: 6 }, (_, i) => numberedKey(200 + i));

export function passportSpec(overrides: Partial<PassportSpec> = {}): PassportSpec {
  return {
    schema: 'image-classification/4',
    consent: { basis: 'explicit-consent', attester: stranger.address, documentHash: new Uint8Array(32).fill(7) },
    terms: { kind: LICENCE_KIND.commercial, uses: USES_MASK, transferable: true, contributorsShareBps: 3_000 },
    method: '',
    methodVersion: '',
    paramsHash: new Uint8Array(32),
    metadata: 'a test dataset',
    ...overrides,
  };
}

export function offerTerms(overrides: Partial<OfferTerms> = {}): OfferTerms {
  return { kind: LICENCE_KIND.commercial, price: 100n * ONE_TAG, uses: 1, durationBlocks: 0, expiresAt: 0, transferable: true, revocable: true, maxSales: 0, ...overrides };
}

/** Every annotator commits and reveals `answer(item, who)` for each of its seats in `round`. */
function labelRound(chain: LabellingChain, task: number, round: number, answer: (item: number, who: number) => number): void {
  const r = chain.round(task, round);
  const reveals: Array<{ who: Key; entries: LabelEntry[] }> = [];
  const commits = [];
  for (const [w, who] of annotators.entries()) {
    const a = chain.assignment(task, round, who);
    if (a === null) continue;
    const { body, entries } = commitBody(task, round, who, a.items.map((item) => ({ item, label: answer(item, w) })));
    commits.push(chain.tx(who, body));
    reveals.push({ who, entries });
  }
  for (const rc of chain.block(commits)) if (rc.status !== 0) throw new Error(`commit failed: ${rc.code}`);
  chain.advanceTo(r.commitEnd);
  for (const rc of chain.block(reveals.map(({ who, entries }) => chain.tx(who, revealBody(task, round, entries))))) {
    if (rc.status !== 0) throw new Error(`reveal failed: ${rc.code}`);
  }
  chain.advanceTo(r.revealEnd);
}

/**
 * A chain with a task of `itemCount` items labelled to done: every annotator answers item % 4,
 * except annotator 0, who always answers 3 (so its accepted labels are only the items whose label is 3).
 */
export function doneTask(itemCount = 8, accounts: readonly Key[] = []): { chain: LabellingChain; task: number } {
  const chain = LabellingChain.withAccounts([requester, buyer, stranger, ...annotators, ...accounts]);
  stakeAll(chain, annotators);
  const spec = taskSpec({ itemCount, answersMin: 3, answersMax: 5 });
  const task = openTask(chain, requester, spec);
  chain.block(); // start + draw
  labelRound(chain, task, 0, (item, who) => (who === 0 ? 3 : item % 4));
  const t = chain.task(task);
  chain.advanceTo(t.lastFinalHeight + spec.challengeWindow + 1);
  if (chain.task(task).status !== TASK_STATUS.done) throw new Error('task not done');
  return { chain, task };
}

/** The task's dataset records read from its items, as an exporter would. */
export function taskRecords(chain: LabellingChain, task: number): DatasetRecord[] {
  const n = chain.task(task).spec.itemCount;
  return Array.from({ length: n }, (_, index) => {
    const item = chain.item(task, index);
    return { index, itemHash: item.contentHash, status: item.status, label: item.label, confidenceQ16: item.confidenceQ16, answers: item.seats.filter((s) => s.answer >= 0).length };
  });
}

export function taskRoot(chain: LabellingChain, task: number): Uint8Array {
  return datasetRoot(taskRecords(chain, task));
}

/** Accepted labels per annotator (hex address → count): revealed answer = final label on final items. */
export function acceptedLabels(chain: LabellingChain, task: number): Map<string, number> {
  const out = new Map<string, number>();
  const n = chain.task(task).spec.itemCount;
  for (let i = 0; i < n; i++) {
    const item = chain.item(task, i);
    if (item.status !== 1) continue;
    for (const s of item.seats) {
      if (s.answer < 0 || s.answer !== item.label) continue;
      const id = Buffer.from(s.annotator).toString('hex');
      out.set(id, (out.get(id) ?? 0) + 1);
    }
  }
  return out;
}

export function attr(receipt: Receipt, type: string, name: string): string | undefined {
  return receipt.events.find((e) => e.type === type)?.attributes.find(([k]) => k === name)?.[1];
}

export function ok(receipt: Receipt): Receipt {
  if (receipt.status !== 0) throw new Error(`transaction failed: ${receipt.code}`);
  return receipt;
}
