/**
 * The aggregator on real crowd labels: ms_music_genre (../shared/data/ms_music_genre, 700 GTZAN
 * clips, 44 workers, 2,945 answers, 10 genres, gold for every item; see its README). Run as the chain
 * would: the whole set as one batch, and in batches of 100 items in a fixed order with each batch's
 * count deltas added to the annotators' priors before the next. Accuracies are against the gold
 * labels and printed as test comments. The reference Python run in research/label-consensus.md
 * measured MV 70.4 % (random tie-break) and DS 76.9 % on this file.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { bytesToHex, sha256, utf8ToBytes } from '../../../lib/index.ts';
import {
  COUNT_UNIT,
  DEFAULT_AGGREGATE_CONFIG,
  aggregate,
  majorityVote,
  type AggregateConfig,
  type AggregateItem,
  type AnnotatorPrior,
} from '../../../runtime/labelling/aggregate.ts';
import { floatDawidSkene } from '../../utils/floatDawidSkene.ts';

const DATA = new URL('../../fixtures/ms_music_genre/', import.meta.url);
const CLASSES = 10;
const BATCH_ITEMS = 100;
const CONFIG: AggregateConfig = DEFAULT_AGGREGATE_CONFIG;

type Dataset = { ids: string[]; items: AggregateItem[]; truth: number[]; annotators: number; answers: number };

/** Items sorted by id, annotators numbered in sorted worker-id order, labels 1..10 → 0..9. */
function load(): Dataset {
  const rows = (name: string): string[][] =>
    readFileSync(new URL(name, DATA), 'utf8').trim().split('\n').slice(1).map((line) => line.trim().split(','));
  const truthById = new Map(rows('truth.csv').map(([id, label]) => [id as string, Number(label) - 1]));
  const answerRows = rows('answer.csv');
  const ids = [...truthById.keys()].sort();
  const workers = [...new Set(answerRows.map((r) => r[1] as string))].sort();
  const itemIndex = new Map(ids.map((id, i) => [id, i]));
  const workerIndex = new Map(workers.map((w, i) => [w, i]));
  const answers: Array<Array<{ annotator: number; label: number }>> = ids.map(() => []);
  for (const [id, worker, label] of answerRows) {
    (answers[itemIndex.get(id as string) as number] as Array<{ annotator: number; label: number }>).push({ annotator: workerIndex.get(worker as string) as number, label: Number(label) - 1 });
  }
  const items = answers.map((list) => ({ answers: list.sort((a, b) => a.annotator - b.annotator), gold: null }));
  return { ids, items, truth: ids.map((id) => truthById.get(id) as number), annotators: workers.length, answers: answerRows.length };
}

const data = load();
const fresh = (): AnnotatorPrior[] => Array.from({ length: data.annotators }, () => ({ counts: new Array<number>(CLASSES * CLASSES).fill(0), probation: false }));
const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;

function accuracy(labels: readonly number[], indices: readonly number[]): number {
  let right = 0;
  indices.forEach((i, j) => {
    if (labels[j] === data.truth[i]) right++;
  });
  return right / indices.length;
}

const all = data.items.map((_, i) => i);
const mvAccuracy = accuracy(majorityVote(CLASSES, data.items).map((r) => r.label), all);

type OnlineRun = { accuracy: number; priors: AnnotatorPrior[]; methods: string[] };

/**
 * Batches of BATCH_ITEMS in `order`; every `goldEvery`-th item (by position) is gold and left out of
 * the accuracy. Each batch's deltas are added to the priors of the next.
 */
function online(order: readonly number[], goldEvery: number | null = null): OnlineRun {
  let priors = fresh();
  const labels: number[] = [];
  const scored: number[] = [];
  const methods: string[] = [];
  for (let start = 0; start < order.length; start += BATCH_ITEMS) {
    const batch = order.slice(start, start + BATCH_ITEMS);
    const isGold = (position: number): boolean => goldEvery !== null && position % goldEvery === 0;
    const items = batch.map((i, j) => ({ answers: (data.items[i] as AggregateItem).answers, gold: isGold(start + j) ? (data.truth[i] as number) : null }));
    const result = aggregate(CLASSES, items, priors, CONFIG);
    methods.push(result.method);
    result.items.forEach((r, j) => {
      if (isGold(start + j)) return;
      labels.push(r.label);
      scored.push(batch[j] as number);
    });
    priors = priors.map((p, a) => {
      const delta = result.deltas[a];
      return delta === null || delta === undefined ? p : { counts: p.counts.map((c, x) => c + (delta[x] as number)), probation: p.probation };
    });
  }
  return { accuracy: accuracy(labels, scored), priors, methods };
}

/** A fixed order that mixes genres, as a chain sees items from many tasks: by SHA-256 of the id. */
const hashOrder = [...all].sort((a, b) => {
  const ha = bytesToHex(sha256(utf8ToBytes(data.ids[a] as string)));
  const hb = bytesToHex(sha256(utf8ToBytes(data.ids[b] as string)));
  return ha < hb ? -1 : ha > hb ? 1 : 0;
});

t.test('the dataset is the one described in its README', async (t) => {
  t.equal(data.items.length, 700);
  t.equal(data.annotators, 44);
  t.equal(data.answers, 2945);
  t.ok(data.truth.every((y) => y >= 0 && y < CLASSES));
  t.ok(data.items.every((it) => it.answers.every((a) => a.label >= 0 && a.label < CLASSES)));
  t.comment(`majority vote (ties → lowest class): ${pct(mvAccuracy)}`);
  t.ok(mvAccuracy > 0.69 && mvAccuracy < 0.72, 'MV near the reference 70.4 % (which broke ties at random)');
});

t.test('one batch: chain DS beats majority vote and matches the floating-point reference', async (t) => {
  const result = aggregate(CLASSES, data.items, fresh(), CONFIG);
  const labels = result.items.map((r) => r.label);
  const dsAccuracy = accuracy(labels, all);
  const reference = floatDawidSkene(CLASSES, data.items, fresh(), CONFIG);
  const referenceAccuracy = accuracy(reference.labels, all);
  const same = labels.filter((l, i) => l === reference.labels[i]).length / labels.length;
  t.comment(`one batch of 700: chain DS ${pct(dsAccuracy)}, float DS ${pct(referenceAccuracy)}, identical labels ${pct(same)}, MV ${pct(mvAccuracy)}`);
  t.equal(result.method, 'dawid-skene');
  t.ok(dsAccuracy > mvAccuracy, 'DS above MV');
  t.ok(dsAccuracy >= 0.74, 'DS at least 74 %');
  t.ok(Math.abs(dsAccuracy - referenceAccuracy) <= 0.005, 'within 0.5 points of the float reference');
  t.ok(same >= 0.99, 'identical labels on at least 99 % of items');
});

t.test('batches of 100, deltas carried forward as priors', async (t) => {
  const run = online(hashOrder);
  t.comment(`batches of ${BATCH_ITEMS} (SHA-256 order): chain ${pct(run.accuracy)}, MV ${pct(mvAccuracy)}; methods ${run.methods.join(',')}`);
  t.ok(run.methods.every((m) => m === 'dawid-skene'), 'no batch fell back to majority vote');
  t.ok(run.accuracy > mvAccuracy, 'above MV');
  t.ok(run.accuracy >= 0.74, 'at least 74 %');
  const total = run.priors.reduce((n, p) => n + p.counts.reduce((a, b) => a + b, 0), 0);
  t.equal(total, data.answers * COUNT_UNIT, 'the carried counts hold exactly one answer (256 units) per answer');
  t.strictSame(online(hashOrder).priors, run.priors, 'a second run carries bit-identical counts');
});

t.test('batches of 100 with every 10th item gold, and genre-sorted batches (reported)', async (t) => {
  const withGold = online(hashOrder, 10);
  const nonGold = hashOrder.filter((_, position) => position % 10 !== 0);
  const mvNonGold = accuracy(majorityVote(CLASSES, nonGold.map((i) => data.items[i] as AggregateItem)).map((r) => r.label), nonGold);
  t.comment(`10 % gold: chain ${pct(withGold.accuracy)} on the ${nonGold.length} other items (MV ${pct(mvNonGold)})`);
  t.ok(withGold.accuracy > mvNonGold, 'above MV on the same items');
  // Items sorted by id come genre by genre (blues.*, classical.*, …): each batch holds one or two
  // genres, the hardest order for a per-batch class prior. Reported, not asserted.
  const sorted = online(all);
  t.comment(`batches of ${BATCH_ITEMS} in id order (genre by genre): chain ${pct(sorted.accuracy)}; methods ${sorted.methods.join(',')}`);
  t.ok(sorted.accuracy > 0.6, 'still well above chance');
});
