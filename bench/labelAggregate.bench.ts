/**
 * Label aggregation benchmark (runtime/labelling/aggregate.ts): one batch of 10,000 items × 5
 * answers × K = 4 classes from a pool of 1,000 annotators (accuracies 0.55–0.95, seeded), with the
 * default config, at 3 (the default), 5 and 10 EM iterations; the same batch by majority vote; and
 * one per-block batch of 100 items against the same 1,000-annotator prior list. Median of RUNS after
 * WARMUP runs. `run()` prints nothing and returns the figures.
 */
import {
  DEFAULT_AGGREGATE_CONFIG,
  aggregate,
  majorityVote,
  type AggregateItem,
  type AnnotatorPrior,
} from '../runtime/labelling/aggregate.ts';

const ITEMS = 10_000;
const ANSWERS_PER_ITEM = 5;
const CLASSES = 4;
const ANNOTATORS = 1_000;
const BLOCK_ITEMS = 100;
const WARMUP = 3;
const RUNS = 9;

/** mulberry32: a small seeded PRNG, so every run measures the same batch. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

type Synthetic = { items: AggregateItem[]; truth: number[]; priors: AnnotatorPrior[] };

function synthetic(itemCount: number, seed: number): Synthetic {
  const random = prng(seed);
  const accuracy = Array.from({ length: ANNOTATORS }, () => 0.55 + 0.4 * random());
  const items: AggregateItem[] = [];
  const truth: number[] = [];
  for (let i = 0; i < itemCount; i++) {
    const label = Math.floor(random() * CLASSES);
    const seats = new Set<number>();
    while (seats.size < ANSWERS_PER_ITEM) seats.add(Math.floor(random() * ANNOTATORS));
    const answers = [...seats].map((annotator) => {
      const right = random() < (accuracy[annotator] as number);
      const wrong = (label + 1 + Math.floor(random() * (CLASSES - 1))) % CLASSES;
      return { annotator, label: right ? label : wrong };
    });
    items.push({ answers, gold: null });
    truth.push(label);
  }
  const priors = Array.from({ length: ANNOTATORS }, () => ({ counts: new Array<number>(CLASSES * CLASSES).fill(0), probation: false }));
  return { items, truth, priors };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

/** Median wall time of `fn` in ms. */
function time(fn: () => unknown): number {
  for (let r = 0; r < WARMUP; r++) fn();
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    fn();
    runs.push(performance.now() - t0);
  }
  return median(runs);
}

function accuracy(labels: readonly number[], truth: readonly number[]): number {
  let right = 0;
  for (let i = 0; i < truth.length; i++) if (labels[i] === truth[i]) right++;
  return round((100 * right) / truth.length, 2);
}

export async function run(): Promise<Record<string, unknown>> {
  const { items, truth, priors } = synthetic(ITEMS, 1);
  const block = synthetic(BLOCK_ITEMS, 2);
  const ds = aggregate(CLASSES, items, priors, DEFAULT_AGGREGATE_CONFIG);
  const mv = majorityVote(CLASSES, items);
  const config = (iterations: number) => ({ ...DEFAULT_AGGREGATE_CONFIG, iterations });
  return {
    items: ITEMS,
    answersPerItem: ANSWERS_PER_ITEM,
    classes: CLASSES,
    annotators: ANNOTATORS,
    defaultIterations: DEFAULT_AGGREGATE_CONFIG.iterations,
    method: ds.method,
    dsAccuracyPct: accuracy(ds.items.map((r) => r.label), truth),
    mvAccuracyPct: accuracy(mv.map((r) => r.label), truth),
    batchMsIterations3: round(time(() => aggregate(CLASSES, items, priors, config(3)))),
    batchMsIterations5: round(time(() => aggregate(CLASSES, items, priors, config(5)))),
    batchMsIterations10: round(time(() => aggregate(CLASSES, items, priors, config(10)))),
    majorityVoteMs: round(time(() => majorityVote(CLASSES, items))),
    blockOf100ItemsMs: round(time(() => aggregate(CLASSES, block.items, block.priors, DEFAULT_AGGREGATE_CONFIG)), 2),
  };
}
