/**
 * Label aggregation for one block: a fixed-point Dawid–Skene EM over a batch of items, with each
 * annotator's persistent confusion counts as its prior, a per-answer evidence cap, gold clamping and a
 * majority-vote fallback (research/label-consensus.md §1.5, §2.9d, §4 and §5 step 4).
 *
 * Pure, deterministic and integer-only. Every `number` below holds an integer below 2^53 (bounds are
 * stated where values are built); divisions by other than a power of two go through `divFloor`.
 * Items, answers, annotators and classes are visited in index order only, so the same input gives
 * bit-identical output on every node.
 *
 * The model, per batch:
 *  - Table counts C_j[k][l] (true class k, answered l) of annotator j, in Q16 mass units (one answer
 *    = 65536): prior counts · 256 + this batch's posterior mass (M-step) + a Dirichlet prior of
 *    `priorWeight` count units per row (share `priorAccuracyQ16` on the diagonal, the rest spread
 *    evenly) + a Laplace pseudo-count of one count unit per cell, so that no cell is ever zero.
 *  - p_j(l | k) = C_j[k][l] / Σ_l C_j[k][l], clipped into [(1 − cap) / (K − 1), cap] (§2.9d): the
 *    diagonal at most cap, every other entry at least the floor; cap is `probationCapQ16` for an
 *    annotator on probation, `evidenceCapQ16` otherwise. The clipped entries are used as they are
 *    (rows are not renormalised): the cap bounds what one answer can say, which is its purpose.
 *  - E-step: log2 posterior of class k = Σ over the item's answers of log2 p_j(l | k) (uniform class
 *    prior), then 2^(L_k − max L) and normalisation to Q16. Gold items are fixed to their class.
 *  - The first E-step uses the prior tables alone (so a batch of fresh annotators starts from a
 *    sharpened majority vote); then `iterations` rounds of M-step + E-step.
 */
import { assert } from '../../lib/index.ts';
import { Q16, divFloor, exp2NegQ30, log2Q16 } from './fixedPoint.ts';

export { Q16 } from './fixedPoint.ts';

/** Confusion counts are kept in count units: one answer adds 256 units to one row. */
export const COUNT_UNIT = 256;
/** Q16 mass units per count unit (Q16 / COUNT_UNIT). */
const MASS_PER_COUNT = Q16 / COUNT_UNIT;

export const CLASSES_MIN = 2;
export const CLASSES_MAX = 64;
export const LABELS_MAX = 32;
export const ITERATIONS_MAX = 64;
/** Upper bound of the sum of one annotator's prior counts (count units): 2^28 answers. */
export const COUNT_MAX = 2 ** 36;
/** Upper bound of `priorWeight` (count units per row): 2^24 answers. */
export const PRIOR_WEIGHT_MAX = 2 ** 32;
/** Upper bound of the answers in one batch. */
export const BATCH_ANSWERS_MAX = 2 ** 24;

/*
 * Bounds that keep every intermediate a safe integer (K ≤ 64 = 2^6). An annotator's table counts
 * (Q16 mass units) total at most: prior counts COUNT_MAX · 256 = 2^44, plus the Dirichlet prior
 * K · PRIOR_WEIGHT_MAX · 256 ≤ 2^46, plus Laplace K² · 256 ≤ 2^20, plus this batch's mass
 * BATCH_ANSWERS_MAX · Q16 = 2^40: below 2^47. So every cell, row sum and total is below 2^47, a log2
 * probability lies in (−47 · Q16, 0] (fits an Int32Array), and a class's log-likelihood sum over an
 * item's answers is below BATCH_ANSWERS_MAX · 47 · Q16 < 2^46 in magnitude. In the E-step a weight
 * is at most 2^30 (Q30), their sum at most K · 2^30 ≤ 2^36, and weight · Q16 ≤ 2^46.
 */

export type AggregateConfig = {
  /** EM rounds (M-step + E-step) after the first E-step; a fixed count, no convergence test. */
  iterations: number;
  /** Cap on any confusion-matrix diagonal entry used in the E-step (Q16), e.g. 0.9 · Q16 (§2.9d). */
  evidenceCapQ16: number;
  /** The lower cap for annotators on probation (Q16), e.g. 0.7 · Q16. */
  probationCapQ16: number;
  /** Pseudo-count mass per confusion-matrix row, in count units (256 = one answer). */
  priorWeight: number;
  /** Fall back to majority vote if DS leaves the plurality on more than this share of non-gold items. */
  collapseGuardQ16: number;
  /** Share of `priorWeight` on the diagonal (Q16); the rest is spread evenly. Default 0.7 · Q16. */
  priorAccuracyQ16?: number;
};

export type AnnotatorPrior = {
  /** K·K confusion counts, row = true class, column = answered class, in count units (1 answer = 256). */
  counts: readonly number[];
  probation: boolean;
};

export type AggregateItem = {
  /** annotator = index into priors; label in [0, K). At most one answer per annotator. */
  answers: ReadonlyArray<{ annotator: number; label: number }>;
  /** Known true class: the item is clamped to it. */
  gold: number | null;
};

export type ItemResult = {
  /** Argmax posterior, ties → lowest class index. */
  label: number;
  /** Posterior of `label`, Q16. */
  confidenceQ16: number;
  /** K entries summing to Q16 exactly: the rounding remainder goes to `label`. */
  posteriorQ16: number[];
};

export type AggregateResult = {
  items: ItemResult[];
  method: 'dawid-skene' | 'majority';
  /**
   * Per annotator index: K·K count-unit deltas to add to its confusion counts (posterior-weighted;
   * gold items use the gold class), or null if it answered nothing in the batch. An annotator's
   * deltas sum to exactly 256 × its answers in the batch.
   */
  deltas: Array<number[] | null>;
};

export const DEFAULT_PRIOR_ACCURACY_Q16 = 45875; // 0.7

export const DEFAULT_AGGREGATE_CONFIG: AggregateConfig = Object.freeze({
  iterations: 5,
  evidenceCapQ16: 58982, // 0.9
  probationCapQ16: 45875, // 0.7
  priorWeight: 2 * COUNT_UNIT,
  collapseGuardQ16: 19661, // 0.3
  priorAccuracyQ16: DEFAULT_PRIOR_ACCURACY_Q16,
});

/** The batch in flat typed arrays, annotators renumbered densely in order of first appearance. */
type Batch = {
  classes: number;
  itemCount: number;
  /** Answers of item i are at [itemStart[i], itemStart[i + 1]). */
  itemStart: Int32Array;
  answerAnnotator: Int32Array; // dense index
  answerLabel: Int32Array;
  /** gold[i] = gold class, or −1. */
  gold: Int32Array;
  /** Dense index → index into priors. */
  annotators: number[];
  /** Per dense annotator: its answers in the batch. */
  answerCounts: number[];
};

/** Per dense annotator, row-major K·K cells (true class k, answered l) in Q16 mass units. */
type MassTables = Float64Array[];

function validateConfig(classes: number, config: AggregateConfig): void {
  assert(Number.isInteger(classes) && classes >= CLASSES_MIN && classes <= CLASSES_MAX, `aggregate: classes ${classes} not in [${CLASSES_MIN}, ${CLASSES_MAX}]`);
  const { iterations, evidenceCapQ16, probationCapQ16, priorWeight, collapseGuardQ16 } = config;
  assert(Number.isInteger(iterations) && iterations >= 1 && iterations <= ITERATIONS_MAX, `aggregate: iterations ${iterations} not in [1, ${ITERATIONS_MAX}]`);
  // A cap must exceed chance (1/K): otherwise the floor (1 − cap)/(K − 1) would be above it.
  for (const [name, cap] of [['evidenceCapQ16', evidenceCapQ16], ['probationCapQ16', probationCapQ16]] as const) {
    assert(Number.isInteger(cap) && cap * classes > Q16 && cap <= Q16, `aggregate: ${name} ${cap} not in (Q16/K, Q16]`);
  }
  assert(Number.isInteger(priorWeight) && priorWeight >= 0 && priorWeight <= PRIOR_WEIGHT_MAX, `aggregate: priorWeight ${priorWeight} not in [0, 2^32]`);
  assert(Number.isInteger(collapseGuardQ16) && collapseGuardQ16 >= 0 && collapseGuardQ16 <= Q16, `aggregate: collapseGuardQ16 ${collapseGuardQ16} not in [0, Q16]`);
  const accuracy = config.priorAccuracyQ16 ?? DEFAULT_PRIOR_ACCURACY_Q16;
  assert(Number.isInteger(accuracy) && accuracy >= 0 && accuracy <= Q16, `aggregate: priorAccuracyQ16 ${accuracy} not in [0, Q16]`);
}

function validatePrior(classes: number, prior: AnnotatorPrior | undefined, index: number): void {
  assert(prior !== undefined, `aggregate: no prior for annotator ${index}`);
  assert(prior.counts.length === classes * classes, `aggregate: annotator ${index} has ${prior.counts.length} counts, expected ${classes * classes}`);
  let total = 0;
  for (let c = 0; c < prior.counts.length; c++) {
    const v = prior.counts[c] as number;
    assert(Number.isInteger(v) && v >= 0 && v <= COUNT_MAX, `aggregate: annotator ${index} count[${c}] = ${v} not in [0, 2^36]`);
    total += v; // ≤ 4096 · 2^36
  }
  assert(total <= COUNT_MAX, `aggregate: annotator ${index} counts total ${total} above 2^36`);
}

/** Validates the items and flattens them; annotators are renumbered in order of first appearance. */
function buildBatch(classes: number, items: readonly AggregateItem[], priors: readonly AnnotatorPrior[] | null): Batch {
  let answerTotal = 0;
  for (const item of items) answerTotal += item.answers.length;
  assert(answerTotal <= BATCH_ANSWERS_MAX, `aggregate: ${answerTotal} answers exceed ${BATCH_ANSWERS_MAX}`);
  const itemStart = new Int32Array(items.length + 1);
  const answerAnnotator = new Int32Array(answerTotal);
  const answerLabel = new Int32Array(answerTotal);
  const gold = new Int32Array(items.length);
  const dense = new Map<number, number>();
  const annotators: number[] = [];
  const answerCounts: number[] = [];
  const lastItem: number[] = [];
  let at = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as AggregateItem;
    assert(item.gold === null || (Number.isInteger(item.gold) && item.gold >= 0 && item.gold < classes), `aggregate: item ${i} gold ${item.gold} not in [0, ${classes})`);
    gold[i] = item.gold ?? -1;
    itemStart[i] = at;
    for (const { annotator, label } of item.answers) {
      const annotatorEnd = priors === null ? Number.MAX_SAFE_INTEGER : priors.length;
      assert(Number.isInteger(annotator) && annotator >= 0 && annotator < annotatorEnd, `aggregate: item ${i} annotator ${annotator} not in [0, ${annotatorEnd})`);
      assert(Number.isInteger(label) && label >= 0 && label < classes, `aggregate: item ${i} label ${label} not in [0, ${classes})`);
      let d = dense.get(annotator);
      if (d === undefined) {
        if (priors !== null) validatePrior(classes, priors[annotator], annotator);
        d = annotators.length;
        dense.set(annotator, d);
        annotators.push(annotator);
        answerCounts.push(0);
        lastItem.push(-1);
      }
      assert(lastItem[d] !== i, `aggregate: item ${i} has two answers from annotator ${annotator}`);
      lastItem[d] = i;
      answerCounts[d] = (answerCounts[d] as number) + 1;
      answerAnnotator[at] = d;
      answerLabel[at] = label;
      at++;
    }
  }
  itemStart[items.length] = at;
  return { classes, itemCount: items.length, itemStart, answerAnnotator, answerLabel, gold, annotators, answerCounts };
}

/**
 * The fixed part of each annotator's table counts: prior counts + Dirichlet prior + Laplace (Q16
 * mass units, row-major). Cell bound: see the file header.
 */
function baseTables(batch: Batch, priors: readonly AnnotatorPrior[], config: AggregateConfig): MassTables {
  const K = batch.classes;
  const accuracy = config.priorAccuracyQ16 ?? DEFAULT_PRIOR_ACCURACY_Q16;
  // Count units → mass units is × 256, and the share is accuracy / Q16: together / 256.
  // priorWeight · accuracy ≤ 2^32 · 2^16 = 2^48.
  const diagonal = divFloor(config.priorWeight * accuracy, COUNT_UNIT) + MASS_PER_COUNT;
  const offDiagonal = divFloor(config.priorWeight * (Q16 - accuracy), COUNT_UNIT * (K - 1)) + MASS_PER_COUNT;
  const tables: MassTables = [];
  for (const index of batch.annotators) {
    const counts = (priors[index] as AnnotatorPrior).counts;
    const table = new Float64Array(K * K); // integers only
    for (let k = 0; k < K; k++) {
      for (let l = 0; l < K; l++) {
        table[k * K + l] = (counts[k * K + l] as number) * MASS_PER_COUNT + (k === l ? diagonal : offDiagonal);
      }
    }
    tables.push(table);
  }
  return tables;
}

/** log2 of the cap and of the floor (1 − cap)/(K − 1), as Q16 logs of probabilities (≤ 0). */
function capLogs(classes: number, capQ16: number): { logCap: number; logFloor: number } {
  const logCap = log2Q16(capQ16) - 16 * Q16;
  // cap = Q16 means no cap: the floor is 0, and log2 of the smallest table probability is above −51.
  const logFloor = capQ16 === Q16 ? -64 * Q16 : log2Q16(Q16 - capQ16) - log2Q16(classes - 1) - 16 * Q16;
  return { logCap, logFloor };
}

/**
 * Log tables for the E-step, one Int32Array per annotator, column-major by answered label
 * (entry l·K + k = clipped log2 p(l | k) in Q16), so that one answer reads K consecutive entries.
 */
function logTables(batch: Batch, priors: readonly AnnotatorPrior[], config: AggregateConfig, base: MassTables, mass: MassTables | null): Int32Array[] {
  const K = batch.classes;
  const normal = capLogs(K, config.evidenceCapQ16);
  const probation = capLogs(K, config.probationCapQ16);
  const out: Int32Array[] = [];
  for (let d = 0; d < batch.annotators.length; d++) {
    const { logCap, logFloor } = (priors[batch.annotators[d] as number] as AnnotatorPrior).probation ? probation : normal;
    const b = base[d] as Float64Array;
    const m = mass === null ? null : (mass[d] as Float64Array);
    const table = new Int32Array(K * K);
    for (let k = 0; k < K; k++) {
      let row = 0;
      for (let l = 0; l < K; l++) row += (b[k * K + l] as number) + (m === null ? 0 : (m[k * K + l] as number));
      const logRow = log2Q16(row);
      for (let l = 0; l < K; l++) {
        const cell = (b[k * K + l] as number) + (m === null ? 0 : (m[k * K + l] as number));
        const logP = log2Q16(cell) - logRow;
        table[l * K + k] = logP > logCap ? logCap : logP < logFloor ? logFloor : logP;
      }
    }
    out.push(table);
  }
  return out;
}

/**
 * E-step: posteriors (Q16, item-major, K per item) from the log tables. Gold items are one-hot.
 * The remainder of the integer normalisation goes to the argmax (lowest class among equals).
 */
function eStep(batch: Batch, tables: Int32Array[], posterior: Int32Array): void {
  const K = batch.classes;
  const logLik = new Float64Array(K); // integers only, |L_k| < 2^47
  const weight = new Float64Array(K); // Q30 weights
  for (let i = 0; i < batch.itemCount; i++) {
    const row = i * K;
    const gold = batch.gold[i] as number;
    if (gold >= 0) {
      for (let k = 0; k < K; k++) posterior[row + k] = k === gold ? Q16 : 0;
      continue;
    }
    logLik.fill(0);
    for (let a = batch.itemStart[i] as number; a < (batch.itemStart[i + 1] as number); a++) {
      const table = tables[batch.answerAnnotator[a] as number] as Int32Array;
      const column = (batch.answerLabel[a] as number) * K;
      for (let k = 0; k < K; k++) logLik[k] = (logLik[k] as number) + (table[column + k] as number);
    }
    let best = 0;
    for (let k = 1; k < K; k++) if ((logLik[k] as number) > (logLik[best] as number)) best = k;
    const top = logLik[best] as number;
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const w = exp2NegQ30(top - (logLik[k] as number));
      weight[k] = w;
      sum += w; // ≤ K · 2^30 ≤ 2^36, ≥ 2^30 (the argmax has weight 2^30)
    }
    let assigned = 0;
    for (let k = 0; k < K; k++) {
      const p = divFloor((weight[k] as number) * Q16, sum); // ≤ 2^46
      posterior[row + k] = p;
      assigned += p;
    }
    posterior[row + best] = (posterior[row + best] as number) + (Q16 - assigned);
  }
}

/** M-step: this batch's posterior-weighted confusion mass per annotator (Q16 units, row-major). */
function mStep(batch: Batch, posterior: Int32Array): MassTables {
  const K = batch.classes;
  const mass: MassTables = batch.annotators.map(() => new Float64Array(K * K));
  for (let i = 0; i < batch.itemCount; i++) {
    const row = i * K;
    for (let a = batch.itemStart[i] as number; a < (batch.itemStart[i + 1] as number); a++) {
      const m = mass[batch.answerAnnotator[a] as number] as Float64Array;
      const label = batch.answerLabel[a] as number;
      // Each cell gains at most Q16 per answer: ≤ BATCH_ANSWERS_MAX · Q16 = 2^40.
      for (let k = 0; k < K; k++) m[k * K + label] = (m[k * K + label] as number) + (posterior[row + k] as number);
    }
  }
  return mass;
}

/** Per item: the vote counts' maximum and a K-wide vote row (for MV and the collapse guard). */
function voteCounts(batch: Batch, i: number, votes: Int32Array): number {
  votes.fill(0);
  let top = 0;
  for (let a = batch.itemStart[i] as number; a < (batch.itemStart[i + 1] as number); a++) {
    const label = batch.answerLabel[a] as number;
    const v = (votes[label] as number) + 1;
    votes[label] = v;
    if (v > top) top = v;
  }
  return top;
}

/** Majority-vote posteriors (vote shares; gold items one-hot; no answers → uniform). */
function majorityPosterior(batch: Batch, posterior: Int32Array): void {
  const K = batch.classes;
  const votes = new Int32Array(K);
  for (let i = 0; i < batch.itemCount; i++) {
    const row = i * K;
    const gold = batch.gold[i] as number;
    if (gold >= 0) {
      for (let k = 0; k < K; k++) posterior[row + k] = k === gold ? Q16 : 0;
      continue;
    }
    voteCounts(batch, i, votes);
    const n = (batch.itemStart[i + 1] as number) - (batch.itemStart[i] as number);
    let best = 0;
    let assigned = 0;
    for (let k = 0; k < K; k++) {
      const p = n === 0 ? divFloor(Q16, K) : divFloor((votes[k] as number) * Q16, n); // ≤ 2^24 · 2^16
      posterior[row + k] = p;
      assigned += p;
      if ((votes[k] as number) > (votes[best] as number)) best = k;
    }
    posterior[row + best] = (posterior[row + best] as number) + (Q16 - assigned);
  }
}

/** True if the DS label is not a plurality class on more than `guardQ16` of the non-gold items. */
function collapsed(batch: Batch, labels: Int32Array, guardQ16: number): boolean {
  const votes = new Int32Array(batch.classes);
  let nonGold = 0;
  let disagree = 0;
  for (let i = 0; i < batch.itemCount; i++) {
    if ((batch.gold[i] as number) >= 0) continue;
    nonGold++;
    const top = voteCounts(batch, i, votes);
    if ((votes[labels[i] as number] as number) < top) disagree++;
  }
  return disagree * Q16 > guardQ16 * nonGold; // both ≤ 2^24 · 2^16
}

/**
 * True if the batch has annotators and none is estimated better than chance: its table counts'
 * diagonal share is at most 1/K (prior, pseudo-counts and this batch's mass, pooled over classes).
 */
function noneAboveChance(batch: Batch, base: MassTables, mass: MassTables): boolean {
  const K = batch.classes;
  if (batch.annotators.length === 0) return false;
  for (let d = 0; d < batch.annotators.length; d++) {
    const b = base[d] as Float64Array;
    const m = mass[d] as Float64Array;
    let diagonal = 0;
    let total = 0; // < 2^47 (file header)
    for (let k = 0; k < K; k++) {
      for (let l = 0; l < K; l++) {
        const cell = (b[k * K + l] as number) + (m[k * K + l] as number);
        total += cell;
        if (k === l) diagonal += cell;
      }
    }
    // diagonal / total > 1/K ⇔ diagonal > floor(total / K), for integers.
    if (diagonal > divFloor(total, K)) return false;
  }
  return true;
}

/** Index of the largest of K values starting at `row` (lowest index among equals). */
function argmax(values: Int32Array, row: number, classes: number): number {
  let best = 0;
  for (let k = 1; k < classes; k++) if ((values[row + k] as number) > (values[row + best] as number)) best = k;
  return best;
}

function itemResults(batch: Batch, posterior: Int32Array): ItemResult[] {
  const K = batch.classes;
  const out: ItemResult[] = [];
  for (let i = 0; i < batch.itemCount; i++) {
    const row = i * K;
    const label = argmax(posterior, row, K);
    out.push({ label, confidenceQ16: posterior[row + label] as number, posteriorQ16: Array.from(posterior.subarray(row, row + K)) });
  }
  return out;
}

/**
 * Count-unit deltas from the batch mass (Q16 units): each cell's mass / 256 rounded by largest
 * remainder within the annotator (ties → lowest cell index), so that the deltas sum to exactly
 * 256 × the annotator's answers (each answer carries one posterior summing to Q16).
 */
function countDeltas(batch: Batch, mass: MassTables, annotatorCount: number): Array<number[] | null> {
  const K = batch.classes;
  const deltas: Array<number[] | null> = new Array<number[] | null>(annotatorCount).fill(null);
  for (let d = 0; d < batch.annotators.length; d++) {
    const m = mass[d] as Float64Array;
    const units: number[] = [];
    const remainders: number[] = [];
    let assigned = 0;
    for (let c = 0; c < K * K; c++) {
      const cell = m[c] as number; // < 2^40
      const u = Math.floor(cell / MASS_PER_COUNT); // division by a power of two: exact
      units.push(u);
      remainders.push(cell - u * MASS_PER_COUNT);
      assigned += u;
    }
    const missing = (batch.answerCounts[d] as number) * COUNT_UNIT - assigned;
    assert(missing >= 0 && missing < K * K, `aggregate: annotator ${batch.annotators[d]} delta remainder ${missing} out of range`);
    const order = units.map((_, c) => c).sort((x, y) => (remainders[y] as number) - (remainders[x] as number) || x - y);
    for (let r = 0; r < missing; r++) {
      const c = order[r] as number;
      units[c] = (units[c] as number) + 1;
    }
    deltas[batch.annotators[d] as number] = units;
  }
  return deltas;
}

/**
 * Aggregates one batch: fixed-point Dawid–Skene (see the file header), or majority vote if EM
 * collapsed (the collapse guard, or no annotator above chance). Pure and deterministic.
 */
export function aggregate(classes: number, items: readonly AggregateItem[], priors: readonly AnnotatorPrior[], config: AggregateConfig): AggregateResult {
  validateConfig(classes, config);
  const batch = buildBatch(classes, items, priors);
  const base = baseTables(batch, priors, config);
  const posterior = new Int32Array(batch.itemCount * classes);
  eStep(batch, logTables(batch, priors, config, base, null), posterior);
  for (let round = 0; round < config.iterations; round++) {
    eStep(batch, logTables(batch, priors, config, base, mStep(batch, posterior)), posterior);
  }
  let mass = mStep(batch, posterior);
  const labels = new Int32Array(batch.itemCount);
  for (let i = 0; i < batch.itemCount; i++) labels[i] = argmax(posterior, i * classes, classes);
  let method: AggregateResult['method'] = 'dawid-skene';
  if (collapsed(batch, labels, config.collapseGuardQ16) || noneAboveChance(batch, base, mass)) {
    method = 'majority';
    majorityPosterior(batch, posterior);
    mass = mStep(batch, posterior);
  }
  return { items: itemResults(batch, posterior), method, deltas: countDeltas(batch, mass, priors.length) };
}

/**
 * Majority vote: posterior = vote share (Q16, remainder to the label), ties → lowest class; gold
 * items are clamped to their class like in `aggregate`; an item without answers is uniform.
 */
export function majorityVote(classes: number, items: readonly AggregateItem[]): ItemResult[] {
  assert(Number.isInteger(classes) && classes >= CLASSES_MIN && classes <= CLASSES_MAX, `majorityVote: classes ${classes} not in [${CLASSES_MIN}, ${CLASSES_MAX}]`);
  const batch = buildBatch(classes, items, null);
  const posterior = new Int32Array(batch.itemCount * classes);
  majorityPosterior(batch, posterior);
  return itemResults(batch, posterior);
}

export type MultiLabelItem = {
  /** Each answer is a bitmask over the labels: bit j set = label j applies. */
  answers: ReadonlyArray<{ annotator: number; mask: number }>;
  gold: number | null;
};

/**
 * Multi-label aggregation: one binary problem per label j (class 1 = bit j set), each with its own
 * priors (`priorsPerLabel[j]`, 2×2 counts per annotator).
 */
export function aggregateMultiLabel(labels: number, items: readonly MultiLabelItem[], priorsPerLabel: ReadonlyArray<readonly AnnotatorPrior[]>, config: AggregateConfig): { perLabel: AggregateResult[] } {
  assert(Number.isInteger(labels) && labels >= 1 && labels <= LABELS_MAX, `aggregateMultiLabel: labels ${labels} not in [1, ${LABELS_MAX}]`);
  assert(priorsPerLabel.length === labels, `aggregateMultiLabel: ${priorsPerLabel.length} prior sets for ${labels} labels`);
  const maskEnd = 2 ** labels;
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as MultiLabelItem;
    assert(item.gold === null || (Number.isInteger(item.gold) && item.gold >= 0 && item.gold < maskEnd), `aggregateMultiLabel: item ${i} gold mask ${item.gold} not in [0, 2^${labels})`);
    for (const { mask } of item.answers) {
      assert(Number.isInteger(mask) && mask >= 0 && mask < maskEnd, `aggregateMultiLabel: item ${i} mask ${mask} not in [0, 2^${labels})`);
    }
  }
  const perLabel: AggregateResult[] = [];
  for (let j = 0; j < labels; j++) {
    // Masks are below 2^32: `>>>` reads them as unsigned 32-bit integers.
    const binary: AggregateItem[] = items.map((item) => ({
      answers: item.answers.map(({ annotator, mask }) => ({ annotator, label: (mask >>> j) & 1 })),
      gold: item.gold === null ? null : (item.gold >>> j) & 1,
    }));
    perLabel.push(aggregate(2, binary, priorsPerLabel[j] as readonly AnnotatorPrior[], config));
  }
  return { perLabel };
}
