/**
 * The label aggregator (runtime/labelling/aggregate.ts): determinism, gold clamping, ties, the
 * evidence cap, probation, the class prior, the majority-vote fallbacks, count deltas, multi-label,
 * agreement with the floating-point reference (test/utils/floatDawidSkene.ts) and input checks.
 */
import t from 'tap';
import fc from 'fast-check';
import { AssertionError } from '../../../lib/index.ts';
import {
  COUNT_UNIT,
  DEFAULT_AGGREGATE_CONFIG,
  Q16,
  aggregate,
  aggregateMultiLabel,
  majorityVote,
  type AggregateConfig,
  type AggregateItem,
  type AggregateResult,
  type AnnotatorPrior,
} from '../../../runtime/labelling/aggregate.ts';
import { floatDawidSkene } from '../../utils/floatDawidSkene.ts';

const CONFIG: AggregateConfig = DEFAULT_AGGREGATE_CONFIG;

const fresh = (classes: number, count: number, probation = false): AnnotatorPrior[] =>
  Array.from({ length: count }, () => ({ counts: new Array<number>(classes * classes).fill(0), probation }));

/** A prior from `answers` past answers per true class at the given accuracy (errors spread evenly). */
function experienced(classes: number, answersPerClass: number, accuracy: number, probation = false): AnnotatorPrior {
  const counts: number[] = [];
  for (let k = 0; k < classes; k++) {
    for (let l = 0; l < classes; l++) {
      const share = k === l ? accuracy : (1 - accuracy) / (classes - 1);
      counts.push(Math.round(answersPerClass * share * COUNT_UNIT));
    }
  }
  return { counts, probation };
}

const item = (labels: ReadonlyArray<readonly [number, number]>, gold: number | null = null): AggregateItem => ({
  answers: labels.map(([annotator, label]) => ({ annotator, label })),
  gold,
});

/** mulberry32: seeded, so the synthetic batches are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

type Synthetic = { items: AggregateItem[]; truth: number[] };

/** Items with `answers` seats each from `annotators` annotators of accuracies in [0.55, 0.95). */
function synthetic(seed: number, classes: number, itemCount: number, annotators: number, answers: number, skew: number | null = null): Synthetic {
  const random = prng(seed);
  const accuracy = Array.from({ length: annotators }, () => 0.55 + 0.4 * random());
  const items: AggregateItem[] = [];
  const truth: number[] = [];
  for (let i = 0; i < itemCount; i++) {
    const y = skew === null ? Math.floor(random() * classes) : random() < skew ? 0 : 1 + Math.floor(random() * (classes - 1));
    const seats = new Set<number>();
    while (seats.size < answers) seats.add(Math.floor(random() * annotators));
    const list = [...seats].map((a): [number, number] => [a, random() < (accuracy[a] as number) ? y : (y + 1 + Math.floor(random() * (classes - 1))) % classes]);
    items.push(item(list));
    truth.push(y);
  }
  return { items, truth };
}

const accuracyOf = (labels: readonly number[], truth: readonly number[]): number => labels.filter((l, i) => l === truth[i]).length / truth.length;
const labelsOf = (r: AggregateResult): number[] => r.items.map((x) => x.label);

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

t.test('deterministic: two runs, copies of the inputs and frozen inputs give identical results', async (t) => {
  const { items } = synthetic(1, 4, 300, 40, 5);
  const priors = [...fresh(4, 20), ...Array.from({ length: 20 }, (_, j) => experienced(4, 10 + j, 0.6 + j / 60, j % 3 === 0))];
  const first = aggregate(4, items, priors, CONFIG);
  const second = aggregate(4, items, priors, CONFIG);
  const copied = aggregate(4, structuredClone(items), structuredClone(priors), { ...CONFIG });
  const frozen = aggregate(4, deepFreeze(structuredClone(items)), deepFreeze(structuredClone(priors)), CONFIG);
  t.equal(first.method, 'dawid-skene');
  t.strictSame(second, first);
  t.strictSame(copied, first);
  t.strictSame(frozen, first, 'inputs are not written to');
  t.equal(JSON.stringify(copied), JSON.stringify(first), 'bit-identical serialisation');
});

t.test('every result is an integer posterior summing to Q16; deltas conserve 256 units per answer', async () => {
  const arbitrary = fc
    .integer({ min: 2, max: 12 })
    .chain((classes) =>
      fc.record({
        classes: fc.constant(classes),
        annotators: fc.array(fc.record({ counts: fc.array(fc.nat(5_000), { minLength: classes * classes, maxLength: classes * classes }), probation: fc.boolean() }), { minLength: 1, maxLength: 8 }),
        items: fc.array(
          fc.record({
            answers: fc.uniqueArray(fc.record({ annotator: fc.nat(7), label: fc.nat(classes - 1) }), { selector: (a) => a.annotator, maxLength: 6 }),
            gold: fc.option(fc.nat(classes - 1), { freq: 5 }),
          }),
          { maxLength: 25 },
        ),
        iterations: fc.integer({ min: 1, max: 6 }),
      }),
    )
    .filter(({ annotators, items }) => items.every((it) => it.answers.every((a) => a.annotator < annotators.length)));
  fc.assert(
    fc.property(arbitrary, ({ classes, annotators, items, iterations }) => {
      const config = { ...CONFIG, iterations };
      const result = aggregate(classes, items, annotators, config);
      if (JSON.stringify(aggregate(classes, items, annotators, config)) !== JSON.stringify(result)) throw new Error('not deterministic');
      result.items.forEach((r, i) => {
        const sum = r.posteriorQ16.reduce((a, b) => a + b, 0);
        if (sum !== Q16 || r.posteriorQ16.length !== classes) throw new Error(`item ${i}: posterior sums to ${sum}`);
        if (!r.posteriorQ16.every((p) => Number.isInteger(p) && p >= 0)) throw new Error(`item ${i}: not a non-negative integer`);
        const best = r.posteriorQ16.indexOf(Math.max(...r.posteriorQ16));
        if (r.label !== best || r.confidenceQ16 !== r.posteriorQ16[best]) throw new Error(`item ${i}: label is not the first argmax`);
        const gold = (items[i] as AggregateItem).gold;
        if (gold !== null && (r.label !== gold || r.confidenceQ16 !== Q16)) throw new Error(`item ${i}: gold not clamped`);
      });
      const answered = annotators.map((_, a) => items.reduce((n, it) => n + it.answers.filter((x) => x.annotator === a).length, 0));
      result.deltas.forEach((d, a) => {
        if ((answered[a] as number) === 0) {
          if (d !== null) throw new Error(`annotator ${a}: delta without answers`);
          return;
        }
        if (d === null || d.length !== classes * classes || !d.every((x) => Number.isInteger(x) && x >= 0)) throw new Error(`annotator ${a}: bad delta`);
        if (d.reduce((x, y) => x + y, 0) !== (answered[a] as number) * COUNT_UNIT) throw new Error(`annotator ${a}: delta total`);
        // Each cell is its posterior mass (Q16) / 256, rounded up or down: within one unit.
        const mass = new Array<number>(classes * classes).fill(0);
        items.forEach((it, i) => {
          for (const x of it.answers) {
            if (x.annotator !== a) continue;
            for (let k = 0; k < classes; k++) mass[k * classes + x.label]! += result.items[i]!.posteriorQ16[k]!;
          }
        });
        d.forEach((units, c) => {
          if (Math.abs(units * (Q16 / COUNT_UNIT) - mass[c]!) >= Q16 / COUNT_UNIT) throw new Error(`annotator ${a} cell ${c}: ${units} units for mass ${mass[c]}`);
        });
      });
    }),
    { numRuns: 300 },
  );
});

t.test('gold items are clamped, and their answers move the deltas to the gold row', async (t) => {
  const priors = fresh(3, 3);
  const items = [item([[0, 1], [1, 1], [2, 1]], 2), item([[0, 0], [1, 0], [2, 1]])];
  const result = aggregate(3, items, priors, CONFIG);
  t.same(result.items[0], { label: 2, confidenceQ16: Q16, posteriorQ16: [0, 0, Q16] }, 'unanimous answers do not move a gold item');
  t.equal(result.items[1]?.label, 0);
  // Annotator 0 answered 1 on the gold-2 item: exactly one answer's worth at (row 2, column 1).
  const delta = result.deltas[0] as number[];
  t.equal(delta[2 * 3 + 1], COUNT_UNIT + (delta[2 * 3 + 1] as number) - COUNT_UNIT);
  t.ok((delta[2 * 3 + 1] as number) >= COUNT_UNIT, 'gold row gets the whole answer');
  t.equal(delta[1 * 3 + 1], 0, 'no mass on the row the annotators claimed');
  t.same(majorityVote(3, items)[0], { label: 2, confidenceQ16: Q16, posteriorQ16: [0, 0, Q16] }, 'majority vote clamps gold too');
});

t.test('gold teaches the confusion matrix: a consistent label swapper is decoded', async (t) => {
  // Annotator 0 always answers 1 for 0 and 0 for 1; annotators 1 and 2 are honest but each answers
  // only a third of the items. On non-gold items where the swapper is alone, DS inverts its answer
  // (the collapse guard is off: DS leaves the plurality on most non-gold items here, by design).
  const items: AggregateItem[] = [];
  const truth: number[] = [];
  for (let i = 0; i < 60; i++) {
    const y = i % 2;
    const honest: Array<[number, number]> = i % 3 === 0 ? [[1 + (i % 2), y]] : [];
    items.push(item([[0, 1 - y], ...honest], i < 40 ? y : null));
    truth.push(y);
  }
  const result = aggregate(2, items, fresh(2, 3), { ...CONFIG, collapseGuardQ16: Q16 });
  const alone = items.map((_, i) => i).filter((i) => i >= 40 && (items[i] as AggregateItem).answers.length === 1);
  t.ok(alone.length > 5);
  for (const i of alone) t.equal(result.items[i]?.label, truth[i], `item ${i}: the swapped answer is read through the confusion matrix`);
  t.equal(result.method, 'dawid-skene');
  t.equal(aggregate(2, items, fresh(2, 3), CONFIG).method, 'majority', 'with the default guard: majority vote');
});

t.test('ties go to the lowest class', async (t) => {
  const priors = fresh(4, 2);
  const result = aggregate(4, [item([[0, 3], [1, 1]])], priors, CONFIG);
  t.equal(result.items[0]?.label, 1, 'two equal answers: the lower class');
  // Equal up to rounding: each E-step gives its remainder (< K units) to the first most likely class,
  // and the class prior carries that into the next round.
  const gap = (result.items[0]?.posteriorQ16[1] as number) - (result.items[0]?.posteriorQ16[3] as number);
  t.ok(gap >= 0 && gap <= 16, `posteriors of classes 1 and 3 equal up to rounding (gap ${gap})`);
  const empty = aggregate(4, [item([])], priors, CONFIG);
  t.same(empty.items[0], { label: 0, confidenceQ16: Q16 / 4, posteriorQ16: [Q16 / 4, Q16 / 4, Q16 / 4, Q16 / 4] }, 'no answers: uniform, class 0');
  const mv = majorityVote(4, [item([[0, 3], [1, 1]]), item([[0, 2], [1, 2], [2, 0]]), item([])]);
  t.same(mv.map((r) => r.label), [1, 2, 0]);
  t.same(mv[0]?.posteriorQ16, [0, Q16 / 2, 0, Q16 / 2]);
  t.same(mv[1]?.posteriorQ16, [21845, 0, 43691, 0], 'vote shares; the remainder goes to the label');
  t.same(mv[2]?.posteriorQ16, [Q16 / 4, Q16 / 4, Q16 / 4, Q16 / 4]);
});

t.test('the evidence cap limits one high-reputation annotator against two good ones', async (t) => {
  // Annotator 0: 10,000 past answers per class, all correct. Annotators 1, 2: 100 per class at 80 %.
  const priors = [experienced(4, 10_000, 1), experienced(4, 100, 0.8), experienced(4, 100, 0.8)];
  const items = [item([[0, 1], [1, 0], [2, 0]])];
  const uncapped = aggregate(4, items, priors, { ...CONFIG, evidenceCapQ16: Q16, collapseGuardQ16: Q16 });
  t.equal(uncapped.items[0]?.label, 1, 'without a cap the near-perfect record outweighs both');
  const capped = aggregate(4, items, priors, CONFIG);
  t.equal(capped.items[0]?.label, 0, 'with the 0.9 cap the two agreeing annotators win');
  t.equal(capped.method, 'dawid-skene');
  // With the cap at 0.9 one answer is worth log2(0.9 / (0.1 / 3)) ≈ 4.75 bits at most: odds of 27.
  // Two mirror-image items keep the class prior equal on classes 0 and 1.
  const mirror = [priors[0] as AnnotatorPrior, priors[0] as AnnotatorPrior];
  const alone = aggregate(4, [item([[0, 1]]), item([[1, 0]])], mirror, CONFIG).items[0] as { posteriorQ16: number[] };
  const ratio = (alone.posteriorQ16[1] as number) / (alone.posteriorQ16[0] as number);
  t.ok(ratio > 26 && ratio < 28, `posterior odds of one capped answer ≈ 27 (got ${ratio.toFixed(2)})`);
});

t.test('probation annotators weigh less', async (t) => {
  const strong = (probation: boolean): AnnotatorPrior => experienced(3, 200, 0.97, probation);
  const items = [item([[0, 2], [1, 1]])];
  const a = aggregate(3, items, [strong(true), strong(false)], CONFIG);
  const b = aggregate(3, items, [strong(false), strong(true)], CONFIG);
  t.equal(a.items[0]?.label, 1, 'the annotator not on probation wins');
  t.equal(b.items[0]?.label, 2, 'and the other way round');
  const single = (probation: boolean): number => aggregate(3, [item([[0, 2]])], [strong(probation)], CONFIG).items[0]?.confidenceQ16 as number;
  t.ok(single(true) < single(false), `one answer: confidence ${single(true)} on probation < ${single(false)}`);
});

t.test('the class prior: on skewed data DS beats majority vote', async (t) => {
  const { items, truth } = synthetic(7, 2, 2000, 200, 3, 0.88);
  const ds = aggregate(2, items, fresh(2, 200), CONFIG);
  const mv = majorityVote(2, items);
  const dsAccuracy = accuracyOf(labelsOf(ds), truth);
  const mvAccuracy = accuracyOf(mv.map((r) => r.label), truth);
  t.comment(`88 % class 0, 3 answers per item: DS ${(100 * dsAccuracy).toFixed(2)} %, MV ${(100 * mvAccuracy).toFixed(2)} %`);
  t.equal(ds.method, 'dawid-skene');
  t.ok(dsAccuracy > mvAccuracy + 0.02, 'DS at least 2 points above MV');
});

t.test('collapse guard: DS leaving the plurality on too many items falls back to majority vote', async (t) => {
  // One trusted annotator outvoted by two unreliable ones: DS follows the trusted one.
  const priors = [experienced(2, 500, 0.95), experienced(2, 500, 0.55), experienced(2, 500, 0.55)];
  const items = [item([[0, 1], [1, 0], [2, 0]]), item([[0, 0], [1, 0], [2, 0]]), item([[0, 1], [1, 1], [2, 1]]), item([[0, 0], [1, 0], [2, 1]])];
  const open = aggregate(2, items, priors, { ...CONFIG, collapseGuardQ16: Q16 / 4 });
  t.equal(open.method, 'dawid-skene', 'one item of four (25 %) may leave the plurality');
  t.equal(open.items[0]?.label, 1);
  const strict = aggregate(2, items, priors, { ...CONFIG, collapseGuardQ16: Q16 / 4 - 1 });
  t.equal(strict.method, 'majority', 'just above the guard: majority vote');
  t.same(strict.items, majorityVote(2, items));
  t.equal(strict.deltas[0]?.reduce((a, b) => a + b, 0), 4 * COUNT_UNIT, 'deltas follow the majority posteriors');
});

t.test('no information: without a prior for fresh annotators EM has nothing to start from and MV takes over', async (t) => {
  const { items } = synthetic(3, 4, 100, 10, 3);
  const result = aggregate(4, items, fresh(4, 10), { ...CONFIG, priorWeight: 0 });
  t.equal(result.method, 'majority');
  t.same(result.items, majorityVote(4, items));
});

t.test('no annotator above chance: majority vote', async (t) => {
  // Priors that say every annotator answers anything but the truth; the collapse guard is off.
  const adversarial = (): AnnotatorPrior => experienced(3, 1000, 0, false);
  const items = [item([[0, 0], [1, 0], [2, 1]]), item([[0, 2], [1, 2], [2, 2]])];
  const result = aggregate(3, items, [adversarial(), adversarial(), adversarial()], { ...CONFIG, collapseGuardQ16: Q16 });
  t.equal(result.method, 'majority');
  t.same(labelsOf(result), [0, 2]);
});

t.test('deltas: prior-free M-step mass, null for annotators who did not answer', async (t) => {
  const priors = fresh(2, 4);
  const result = aggregate(2, [item([[1, 0], [2, 0]]), item([[1, 1], [2, 1]], 1)], priors, CONFIG);
  t.equal(result.deltas[0], null);
  t.equal(result.deltas[3], null);
  const d = result.deltas[1] as number[];
  t.equal(d.reduce((a, b) => a + b, 0), 2 * COUNT_UNIT);
  t.equal(d[1 * 2 + 1], COUNT_UNIT, 'the gold item: one answer at (1, 1)');
  t.ok((d[0] as number) > 200, `the unanimous item: mostly (0, 0), got ${d[0]}`);
});

t.test('multi-label: one binary problem per label, each with its own priors', async (t) => {
  const labels = 3;
  const items = [
    { answers: [{ annotator: 0, mask: 0b011 }, { annotator: 1, mask: 0b011 }, { annotator: 2, mask: 0b001 }], gold: null },
    { answers: [{ annotator: 0, mask: 0b100 }, { annotator: 1, mask: 0b110 }, { annotator: 2, mask: 0b100 }], gold: null },
    { answers: [{ annotator: 0, mask: 0b000 }, { annotator: 1, mask: 0b111 }], gold: 0b101 },
  ];
  const priorsPerLabel = Array.from({ length: labels }, () => fresh(2, 3));
  const { perLabel } = aggregateMultiLabel(labels, items, priorsPerLabel, CONFIG);
  t.equal(perLabel.length, labels);
  t.same(perLabel.map((r) => labelsOf(r)), [[1, 0, 1], [1, 0, 0], [0, 1, 1]], 'per label: bit j of the consensus masks');
  for (let j = 0; j < labels; j++) {
    const binary = items.map((it) => ({ answers: it.answers.map((a) => ({ annotator: a.annotator, label: (a.mask >> j) & 1 })), gold: it.gold === null ? null : (it.gold >> j) & 1 }));
    t.strictSame(perLabel[j], aggregate(2, binary, priorsPerLabel[j] as AnnotatorPrior[], CONFIG), `label ${j} is the binary problem`);
  }
  // The priors are per label: a trusted annotator on label 0 only changes label 0.
  const trusted = priorsPerLabel.map((p, j) => (j === 0 ? [experienced(2, 1000, 0.99), ...p.slice(1)] : p));
  const disputed = [{ answers: [{ annotator: 0, mask: 0b11 }, { annotator: 1, mask: 0b00 }, { annotator: 2, mask: 0b00 }], gold: null }];
  const swayed = aggregateMultiLabel(2, disputed, trusted.slice(0, 2), { ...CONFIG, evidenceCapQ16: Q16, collapseGuardQ16: Q16 });
  t.same(swayed.perLabel.map((r) => r.items[0]?.label), [1, 0]);
  t.same(swayed.perLabel.map((r) => r.method), ['dawid-skene', 'dawid-skene']);
  const full = aggregateMultiLabel(32, [{ answers: [{ annotator: 0, mask: 2 ** 32 - 1 }], gold: null }], Array.from({ length: 32 }, () => fresh(2, 1)), CONFIG);
  t.ok(full.perLabel.every((r) => r.items[0]?.label === 1), '32 labels: bit 31 is read as unsigned');
});

t.test('agreement with the floating-point reference on synthetic batches (priors, probation, gold)', async (t) => {
  for (const [seed, classes] of [[11, 2], [12, 4], [13, 10]] as const) {
    const { items } = synthetic(seed, classes, 400, 30, 4);
    const withGold = items.map((it, i) => (i % 10 === 0 ? { ...it, gold: i % classes } : it));
    const priors = Array.from({ length: 30 }, (_, j) => (j < 10 ? fresh(classes, 1)[0] as AnnotatorPrior : experienced(classes, 5 + j, 0.5 + j / 70, j % 4 === 0)));
    const fixed = aggregate(classes, withGold, priors, CONFIG);
    const float = floatDawidSkene(classes, withGold, priors, CONFIG);
    const same = fixed.items.filter((r, i) => r.label === float.labels[i]).length / items.length;
    let worst = 0;
    fixed.items.forEach((r, i) => r.posteriorQ16.forEach((p, k) => (worst = Math.max(worst, Math.abs(p / Q16 - (float.posteriors[i]?.[k] as number))))));
    t.ok(same >= 0.99, `K=${classes}: identical labels on ${(100 * same).toFixed(1)} % of items`);
    t.ok(worst < 0.01, `K=${classes}: largest posterior difference ${worst.toFixed(5)}`);
  }
});

t.test('invalid input is an assertion failure', async (t) => {
  const priors = fresh(3, 2);
  const ok = [item([[0, 1], [1, 2]])];
  const cases: Array<[string, () => unknown]> = [
    ['classes 1', () => aggregate(1, [], fresh(1, 0), CONFIG)],
    ['classes 65', () => aggregate(65, [], [], CONFIG)],
    ['classes 2.5', () => aggregate(2.5, [], [], CONFIG)],
    ['label out of range', () => aggregate(3, [item([[0, 3]])], priors, CONFIG)],
    ['negative label', () => aggregate(3, [item([[0, -1]])], priors, CONFIG)],
    ['annotator without a prior', () => aggregate(3, [item([[2, 0]])], priors, CONFIG)],
    ['two answers from one annotator', () => aggregate(3, [item([[0, 0], [0, 1]])], priors, CONFIG)],
    ['gold out of range', () => aggregate(3, [item([[0, 0]], 3)], priors, CONFIG)],
    ['counts of the wrong length', () => aggregate(3, ok, [{ counts: [0, 0, 0, 0], probation: false }, ...priors.slice(1)], CONFIG)],
    ['negative count', () => aggregate(3, ok, [{ counts: [-1, 0, 0, 0, 0, 0, 0, 0, 0], probation: false }, ...priors.slice(1)], CONFIG)],
    ['fractional count', () => aggregate(3, ok, [{ counts: [0.5, 0, 0, 0, 0, 0, 0, 0, 0], probation: false }, ...priors.slice(1)], CONFIG)],
    ['counts above 2^36 in total', () => aggregate(3, ok, [{ counts: new Array<number>(9).fill(2 ** 34), probation: false }, ...priors.slice(1)], CONFIG)],
    ['zero iterations', () => aggregate(3, ok, priors, { ...CONFIG, iterations: 0 })],
    ['cap at chance', () => aggregate(3, ok, priors, { ...CONFIG, evidenceCapQ16: Math.floor(Q16 / 3) })],
    ['probation cap above one', () => aggregate(3, ok, priors, { ...CONFIG, probationCapQ16: Q16 + 1 })],
    ['probation cap above the evidence cap', () => aggregate(3, ok, priors, { ...CONFIG, probationCapQ16: CONFIG.evidenceCapQ16 + 1 })],
    ['negative prior weight', () => aggregate(3, ok, priors, { ...CONFIG, priorWeight: -1 })],
    ['collapse guard above one', () => aggregate(3, ok, priors, { ...CONFIG, collapseGuardQ16: Q16 + 1 })],
    ['prior accuracy above one', () => aggregate(3, ok, priors, { ...CONFIG, priorAccuracyQ16: Q16 + 1 })],
    ['majority vote: classes 1', () => majorityVote(1, [])],
    ['majority vote: label out of range', () => majorityVote(3, [item([[0, 5]])])],
    ['multi-label: 33 labels', () => aggregateMultiLabel(33, [], [], CONFIG)],
    ['multi-label: mask beyond the labels', () => aggregateMultiLabel(2, [{ answers: [{ annotator: 0, mask: 4 }], gold: null }], [fresh(2, 1), fresh(2, 1)], CONFIG)],
    ['multi-label: gold beyond the labels', () => aggregateMultiLabel(2, [{ answers: [], gold: 4 }], [fresh(2, 1), fresh(2, 1)], CONFIG)],
    ['multi-label: missing priors', () => aggregateMultiLabel(2, [], [fresh(2, 1)], CONFIG)],
  ];
  for (const [name, fn] of cases) t.throws(fn, AssertionError, name);
  t.doesNotThrow(() => aggregate(3, ok, priors, CONFIG), 'the valid baseline');
});
