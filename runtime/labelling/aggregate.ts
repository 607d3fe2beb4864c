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
 *  - Class prior π_k = (posterior mass of class k over the batch's items + one item) / (items + K),
 *    re-estimated in each M-step (uniform before the first). Without it DS over-calls minority
 *    classes on skewed data and falls below majority vote.
 *  - E-step: log2 posterior of class k = log2 π_k + Σ over the item's answers of log2 p_j(l | k),
 *    then 2^(L_k − max L) and normalisation to Q16. Gold items are fixed to their class.
 *  - The first E-step uses the prior tables alone (so a batch of fresh annotators starts from a
 *    sharpened majority vote); then `iterations` rounds of M-step + E-step.
 */
import { AssertionError } from '../../lib/index.ts';
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
/** Upper bounds of the items and of the answers in one batch. */
export const BATCH_ITEMS_MAX = 2 ** 24;
export const BATCH_ANSWERS_MAX = 2 ** 24;

/*
 * Bounds that keep every intermediate a safe integer (K ≤ 64 = 2^6). An annotator's table counts
 * (Q16 mass units) total at most: prior counts COUNT_MAX · 256 = 2^44, plus the Dirichlet prior
 * K · PRIOR_WEIGHT_MAX · 256 ≤ 2^46, plus Laplace K² · 256 ≤ 2^20, plus this batch's mass
 * BATCH_ANSWERS_MAX · Q16 = 2^40: below 2^47. So every cell, row sum and total is below 2^47, a log2
 * probability lies in (−47 · Q16, 0] (fits an Int32Array). A class's mass over the batch is at most
 * BATCH_ITEMS_MAX · Q16 = 2^40, so log2 π_k lies in (−41 · Q16, 0], and a class's log-likelihood
 * (log2 π_k plus a sum over the item's answers) is below (1 + BATCH_ANSWERS_MAX) · 47 · Q16 < 2^46
 * in magnitude. In the E-step a weight is at most 2^30 (Q30), their sum at most K · 2^30 ≤ 2^36, and
 * weight · Q16 ≤ 2^46.
 */

export type AggregateConfig = {
  /** EM rounds (M-step + E-step) after the first E-step; a fixed count, no convergence test. */
  iterations: number;
  /** Cap on any confusion-matrix diagonal entry used in the E-step (Q16), e.g. 0.9 · Q16 (§2.9d); above Q16/K. */
  evidenceCapQ16: number;
  /** The lower cap for annotators on probation (Q16), e.g. 0.7 · Q16; above Q16/K, at most evidenceCapQ16. */
  probationCapQ16: number;
  /**
   * Dirichlet pseudo-counts per confusion-matrix row, in count units (256 = one answer), added to
   * every annotator's counts: all a fresh annotator has, and soon outweighed by a long record.
   */
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
  /** K entries summing to Q16 exactly: the rounding remainder goes to the most likely class. */
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
  iterations: 3,
  evidenceCapQ16: 58982, // 0.9
  probationCapQ16: 45875, // 0.7
  priorWeight: 4 * COUNT_UNIT,
  collapseGuardQ16: 16384, // 0.25
  priorAccuracyQ16: DEFAULT_PRIOR_ACCURACY_Q16,
});

/**
 * Throws AssertionError: the caller broke a precondition. The checks below run once per answer, so
 * they read `if (!ok) fail(message)` rather than `assert(ok, message)`: the message template is then
 * evaluated only on failure.
 */
function fail(message: string): never {
  throw new AssertionError(message);
}

/** The batch in flat typed arrays, annotators renumbered densely in order of first appearance. */
type Batch = {
  classes: number;
  itemCount: number;
  /** Answers of item i are at [itemStart[i], itemStart[i + 1]). */
  itemStart: Int32Array;
  /** Dense annotator index of each answer. */
  answerAnnotator: Int32Array;
  answerLabel: Int32Array;
  /** gold[i] = gold class, or −1. */
  gold: Int32Array;
  /** Dense index → index into priors. */
  annotators: number[];
  /** Per dense annotator: its answers in the batch. */
  answerCounts: number[];
};

/**
 * Per dense annotator d, K·K cells at d·K² in each array. `base`, `mass`: row-major (cell k·K + l is
 * true class k, answered l), Q16 mass units, integers only. `baseLog`: log2Q16 of each base cell.
 * `logP`: the E-step table, column-major (entry l·K + k = clipped log2 p(l | k), Q16), so that one
 * answer reads K consecutive entries. `logCap`, `logFloor`: the annotator's clipping bounds.
 * `logPrior`: log2 π_k (Q16), K entries.
 */
type Model = {
  base: Float64Array;
  baseLog: Int32Array;
  mass: Float64Array;
  logP: Int32Array;
  logCap: Int32Array;
  logFloor: Int32Array;
  logPrior: Int32Array;
};

function validateConfig(classes: number, config: AggregateConfig): void {
  if (!(Number.isInteger(classes) && classes >= CLASSES_MIN && classes <= CLASSES_MAX)) fail(`aggregate: classes ${classes} not in [${CLASSES_MIN}, ${CLASSES_MAX}]`);
  const { iterations, evidenceCapQ16, probationCapQ16, priorWeight, collapseGuardQ16 } = config;
  if (!(Number.isInteger(iterations) && iterations >= 1 && iterations <= ITERATIONS_MAX)) fail(`aggregate: iterations ${iterations} not in [1, ${ITERATIONS_MAX}]`);
  // A cap must exceed chance (1/K): otherwise the floor (1 − cap)/(K − 1) would be above it.
  for (const [name, cap] of [['evidenceCapQ16', evidenceCapQ16], ['probationCapQ16', probationCapQ16]] as const) {
    if (!(Number.isInteger(cap) && cap * classes > Q16 && cap <= Q16)) fail(`aggregate: ${name} ${cap} not in (Q16/K, Q16]`);
  }
  if (probationCapQ16 > evidenceCapQ16) fail(`aggregate: probationCapQ16 ${probationCapQ16} above evidenceCapQ16 ${evidenceCapQ16}`);
  if (!(Number.isInteger(priorWeight) && priorWeight >= 0 && priorWeight <= PRIOR_WEIGHT_MAX)) fail(`aggregate: priorWeight ${priorWeight} not in [0, 2^32]`);
  if (!(Number.isInteger(collapseGuardQ16) && collapseGuardQ16 >= 0 && collapseGuardQ16 <= Q16)) fail(`aggregate: collapseGuardQ16 ${collapseGuardQ16} not in [0, Q16]`);
  const accuracy = config.priorAccuracyQ16 ?? DEFAULT_PRIOR_ACCURACY_Q16;
  if (!(Number.isInteger(accuracy) && accuracy >= 0 && accuracy <= Q16)) fail(`aggregate: priorAccuracyQ16 ${accuracy} not in [0, Q16]`);
}

function validatePrior(classes: number, prior: AnnotatorPrior | undefined, index: number): void {
  if (prior === undefined) fail(`aggregate: no prior for annotator ${index}`);
  if (prior.counts.length !== classes * classes) fail(`aggregate: annotator ${index} has ${prior.counts.length} counts, expected ${classes * classes}`);
  let total = 0;
  for (let c = 0; c < prior.counts.length; c++) {
    const v = prior.counts[c] as number;
    if (!(Number.isInteger(v) && v >= 0 && v <= COUNT_MAX)) fail(`aggregate: annotator ${index} count[${c}] = ${v} not in [0, 2^36]`);
    total += v; // ≤ 4096 · 2^36
  }
  if (total > COUNT_MAX) fail(`aggregate: annotator ${index} counts total ${total} above 2^36`);
}

/**
 * Validates the items and flattens them; annotators are renumbered in order of first appearance.
 * `priors` null (majority vote): annotator indices are only checked to be non-negative integers.
 */
function buildBatch(classes: number, items: readonly AggregateItem[], priors: readonly AnnotatorPrior[] | null): Batch {
  if (items.length > BATCH_ITEMS_MAX) fail(`aggregate: ${items.length} items exceed ${BATCH_ITEMS_MAX}`);
  let answerTotal = 0;
  for (const item of items) answerTotal += item.answers.length;
  if (answerTotal > BATCH_ANSWERS_MAX) fail(`aggregate: ${answerTotal} answers exceed ${BATCH_ANSWERS_MAX}`);
  const annotatorEnd = priors === null ? Number.MAX_SAFE_INTEGER : priors.length;
  const itemStart = new Int32Array(items.length + 1);
  const answerAnnotator = new Int32Array(answerTotal);
  const answerLabel = new Int32Array(answerTotal);
  const gold = new Int32Array(items.length);
  // A Map, not an array of priors.length: the chain may know far more annotators than answer here.
  // Only get/set are used, never its iteration order.
  const dense = new Map<number, number>();
  const annotators: number[] = [];
  const answerCounts: number[] = [];
  const lastItem: number[] = [];
  let at = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as AggregateItem;
    if (!(item.gold === null || (Number.isInteger(item.gold) && item.gold >= 0 && item.gold < classes))) fail(`aggregate: item ${i} gold ${item.gold} not in [0, ${classes})`);
    gold[i] = item.gold ?? -1;
    itemStart[i] = at;
    for (const { annotator, label } of item.answers) {
      if (!(Number.isInteger(annotator) && annotator >= 0 && annotator < annotatorEnd)) fail(`aggregate: item ${i} annotator ${annotator} not in [0, ${annotatorEnd})`);
      if (!(Number.isInteger(label) && label >= 0 && label < classes)) fail(`aggregate: item ${i} label ${label} not in [0, ${classes})`);
      let d = dense.get(annotator);
      if (d === undefined) {
        if (priors !== null) validatePrior(classes, priors[annotator], annotator);
        d = annotators.length;
        dense.set(annotator, d);
        annotators.push(annotator);
        answerCounts.push(0);
        lastItem.push(-1);
      }
      if (lastItem[d] === i) fail(`aggregate: item ${i} has two answers from annotator ${annotator}`);
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

/** log2 of the cap and of the floor (1 − cap)/(K − 1), as Q16 logs of probabilities (≤ 0). */
function capLogs(classes: number, capQ16: number): { logCap: number; logFloor: number } {
  const logCap = log2Q16(capQ16) - 16 * Q16;
  // cap = Q16 means no cap: no floor either (every table log is above −47 · Q16, file header).
  const logFloor = capQ16 === Q16 ? -64 * Q16 : log2Q16(Q16 - capQ16) - log2Q16(classes - 1) - 16 * Q16;
  return { logCap, logFloor };
}

/**
 * The fixed part of each annotator's table counts (prior counts + Dirichlet prior + Laplace) and
 * its log2, computed once per batch; the batch mass and the E-step tables start empty.
 */
function buildModel(batch: Batch, priors: readonly AnnotatorPrior[], config: AggregateConfig): Model {
  const K = batch.classes;
  const cells = K * K;
  const n = batch.annotators.length;
  const accuracy = config.priorAccuracyQ16 ?? DEFAULT_PRIOR_ACCURACY_Q16;
  // Count units → mass units is × 256 and the share is accuracy / Q16: together / 256.
  // priorWeight · accuracy ≤ 2^32 · 2^16 = 2^48.
  const diagonal = divFloor(config.priorWeight * accuracy, COUNT_UNIT) + MASS_PER_COUNT;
  const offDiagonal = divFloor(config.priorWeight * (Q16 - accuracy), COUNT_UNIT * (K - 1)) + MASS_PER_COUNT;
  const normal = capLogs(K, config.evidenceCapQ16);
  const probation = capLogs(K, config.probationCapQ16);
  const model: Model = {
    base: new Float64Array(n * cells),
    baseLog: new Int32Array(n * cells),
    mass: new Float64Array(n * cells),
    logP: new Int32Array(n * cells),
    logCap: new Int32Array(n),
    logFloor: new Int32Array(n),
    logPrior: new Int32Array(K), // uniform until the first M-step: equal entries cancel
  };
  for (let d = 0; d < n; d++) {
    const prior = priors[batch.annotators[d] as number] as AnnotatorPrior;
    const caps = prior.probation ? probation : normal;
    model.logCap[d] = caps.logCap;
    model.logFloor[d] = caps.logFloor;
    for (let k = 0; k < K; k++) {
      for (let l = 0; l < K; l++) {
        const cell = (prior.counts[k * K + l] as number) * MASS_PER_COUNT + (k === l ? diagonal : offDiagonal);
        model.base[d * cells + k * K + l] = cell;
        model.baseLog[d * cells + k * K + l] = log2Q16(cell);
      }
    }
  }
  return model;
}

/**
 * Rebuilds the E-step tables from base + mass: log2 p(l | k) = log2 C[k][l] − log2 Σ_l C[k][l],
 * clipped into [logFloor, logCap]. A cell without batch mass reuses its base log (most cells, when
 * an annotator answers few items of the batch): log2Q16 is the costly step (17 squarings).
 */
function refreshLogTables(batch: Batch, model: Model): void {
  const K = batch.classes;
  const cells = K * K;
  const { base, baseLog, mass, logP } = model;
  for (let d = 0; d < batch.annotators.length; d++) {
    const at = d * cells;
    const logCap = model.logCap[d] as number;
    const logFloor = model.logFloor[d] as number;
    for (let k = 0; k < K; k++) {
      let row = 0; // < 2^47 (file header)
      for (let l = 0; l < K; l++) row += (base[at + k * K + l] as number) + (mass[at + k * K + l] as number);
      const logRow = log2Q16(row);
      for (let l = 0; l < K; l++) {
        const m = mass[at + k * K + l] as number;
        const logCell = m === 0 ? (baseLog[at + k * K + l] as number) : log2Q16((base[at + k * K + l] as number) + m);
        const lp = logCell - logRow;
        logP[at + l * K + k] = lp > logCap ? logCap : lp < logFloor ? logFloor : lp;
      }
    }
  }
}

/**
 * E-step: posteriors (Q16, item-major, K per item) from the log tables. Gold items are one-hot.
 * The remainder of the integer normalisation goes to the most likely class (lowest among equals).
 */
function eStep(batch: Batch, model: Model, posterior: Int32Array): void {
  const K = batch.classes;
  const cells = K * K;
  const logP = model.logP;
  const logLik = new Float64Array(K); // integers only, |L_k| < 2^46 (file header)
  const weight = new Int32Array(K); // Q30, ≤ 2^30
  for (let i = 0; i < batch.itemCount; i++) {
    const row = i * K;
    const gold = batch.gold[i] as number;
    if (gold >= 0) {
      for (let k = 0; k < K; k++) posterior[row + k] = k === gold ? Q16 : 0;
      continue;
    }
    for (let k = 0; k < K; k++) logLik[k] = model.logPrior[k] as number;
    const end = batch.itemStart[i + 1] as number;
    for (let a = batch.itemStart[i] as number; a < end; a++) {
      const column = (batch.answerAnnotator[a] as number) * cells + (batch.answerLabel[a] as number) * K;
      for (let k = 0; k < K; k++) logLik[k] = (logLik[k] as number) + (logP[column + k] as number);
    }
    let best = 0;
    for (let k = 1; k < K; k++) if ((logLik[k] as number) > (logLik[best] as number)) best = k;
    const top = logLik[best] as number;
    let sum = 0; // ≥ 2^30 (the most likely class has weight 2^30), ≤ K · 2^30 ≤ 2^36
    for (let k = 0; k < K; k++) {
      const w = exp2NegQ30(top - (logLik[k] as number));
      weight[k] = w;
      sum += w;
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

/**
 * M-step: this batch's posterior-weighted confusion mass per annotator (Q16 units, row-major) and,
 * if `logPrior` is given, the class prior log2 π_k = log2(mass_k + Q16) − log2(items · Q16 + K · Q16).
 */
function mStep(batch: Batch, posterior: Int32Array, mass: Float64Array, logPrior: Int32Array | null): void {
  const K = batch.classes;
  const cells = K * K;
  mass.fill(0);
  for (let i = 0; i < batch.itemCount; i++) {
    const row = i * K;
    const end = batch.itemStart[i + 1] as number;
    for (let a = batch.itemStart[i] as number; a < end; a++) {
      const column = (batch.answerAnnotator[a] as number) * cells + (batch.answerLabel[a] as number);
      // Each cell gains at most Q16 per answer: ≤ BATCH_ANSWERS_MAX · Q16 = 2^40.
      for (let k = 0; k < K; k++) mass[column + k * K] = (mass[column + k * K] as number) + (posterior[row + k] as number);
    }
  }
  if (logPrior === null) return;
  const logTotal = log2Q16((batch.itemCount + K) * Q16); // ≤ (2^24 + 2^6) · 2^16
  for (let k = 0; k < K; k++) {
    let classMass = Q16; // the pseudo-item
    for (let i = 0; i < batch.itemCount; i++) classMass += posterior[i * K + k] as number; // ≤ 2^40 + Q16
    logPrior[k] = log2Q16(classMass) - logTotal;
  }
}

/** Fills `votes` with item i's vote counts; returns the largest count (0 without answers). */
function voteCounts(batch: Batch, i: number, votes: Int32Array): number {
  votes.fill(0);
  let top = 0;
  const end = batch.itemStart[i + 1] as number;
  for (let a = batch.itemStart[i] as number; a < end; a++) {
    const label = batch.answerLabel[a] as number;
    const v = (votes[label] as number) + 1;
    votes[label] = v;
    if (v > top) top = v;
  }
  return top;
}

/** Majority-vote posteriors: vote shares, remainder to the plurality class; gold one-hot; no answers → uniform. */
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

/** Index of the largest of the K values at `row` (lowest index among equals). */
function argmax(values: Int32Array, row: number, classes: number): number {
  let best = 0;
  for (let k = 1; k < classes; k++) if ((values[row + k] as number) > (values[row + best] as number)) best = k;
  return best;
}

/** True if the DS label is not a plurality class on more than `guardQ16` of the non-gold items. */
function collapsed(batch: Batch, posterior: Int32Array, guardQ16: number): boolean {
  const K = batch.classes;
  const votes = new Int32Array(K);
  let nonGold = 0;
  let disagree = 0;
  for (let i = 0; i < batch.itemCount; i++) {
    if ((batch.gold[i] as number) >= 0) continue;
    nonGold++;
    const top = voteCounts(batch, i, votes);
    if ((votes[argmax(posterior, i * K, K)] as number) < top) disagree++;
  }
  return disagree * Q16 > guardQ16 * nonGold; // both ≤ 2^24 · 2^16
}

/**
 * True if the batch has annotators and none is estimated better than chance: the diagonal share of
 * its table counts (prior, pseudo-counts and this batch's mass, pooled over classes) is at most 1/K.
 */
function noneAboveChance(batch: Batch, model: Model): boolean {
  const K = batch.classes;
  const cells = K * K;
  if (batch.annotators.length === 0) return false;
  for (let d = 0; d < batch.annotators.length; d++) {
    let diagonal = 0;
    let total = 0; // < 2^47 (file header)
    for (let c = 0; c < cells; c++) {
      const cell = (model.base[d * cells + c] as number) + (model.mass[d * cells + c] as number);
      total += cell;
      if (c % (K + 1) === 0) diagonal += cell;
    }
    // diagonal / total > 1/K ⇔ diagonal > floor(total / K), for integers.
    if (diagonal > divFloor(total, K)) return false;
  }
  return true;
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
 * Count-unit deltas from the batch mass (Q16 units): each cell's mass / 256, rounded by largest
 * remainder within the annotator (ties → lowest cell index), so that the deltas sum to exactly
 * 256 × the annotator's answers (each answer carries one posterior summing to Q16).
 */
function countDeltas(batch: Batch, mass: Float64Array, annotatorCount: number): Array<number[] | null> {
  const K = batch.classes;
  const cells = K * K;
  const deltas = new Array<number[] | null>(annotatorCount).fill(null);
  for (let d = 0; d < batch.annotators.length; d++) {
    const units: number[] = [];
    const remainders: number[] = [];
    let assigned = 0;
    for (let c = 0; c < cells; c++) {
      const cell = mass[d * cells + c] as number; // ≤ 2^40
      const u = Math.floor(cell / MASS_PER_COUNT); // division by a power of two: exact
      units.push(u);
      remainders.push(cell - u * MASS_PER_COUNT);
      assigned += u;
    }
    // Σ cells = answers · Q16, so the missing units are Σ remainders / 256 < K².
    const missing = (batch.answerCounts[d] as number) * COUNT_UNIT - assigned;
    if (!(missing >= 0 && missing < cells)) fail(`aggregate: annotator ${batch.annotators[d]} delta remainder ${missing} out of range`);
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
  const model = buildModel(batch, priors, config);
  const posterior = new Int32Array(batch.itemCount * classes);
  refreshLogTables(batch, model); // mass is zero: the priors alone
  eStep(batch, model, posterior);
  for (let round = 0; round < config.iterations; round++) {
    mStep(batch, posterior, model.mass, model.logPrior);
    refreshLogTables(batch, model);
    eStep(batch, model, posterior);
  }
  mStep(batch, posterior, model.mass, null);
  let method: AggregateResult['method'] = 'dawid-skene';
  if (collapsed(batch, posterior, config.collapseGuardQ16) || noneAboveChance(batch, model)) {
    method = 'majority';
    majorityPosterior(batch, posterior);
    mStep(batch, posterior, model.mass, null);
  }
  return { items: itemResults(batch, posterior), method, deltas: countDeltas(batch, model.mass, priors.length) };
}

/**
 * Majority vote: posterior = vote share (Q16, remainder to the label), ties → lowest class. Gold
 * items are clamped to their class as in `aggregate`; an item without answers is uniform.
 */
export function majorityVote(classes: number, items: readonly AggregateItem[]): ItemResult[] {
  if (!(Number.isInteger(classes) && classes >= CLASSES_MIN && classes <= CLASSES_MAX)) fail(`majorityVote: classes ${classes} not in [${CLASSES_MIN}, ${CLASSES_MAX}]`);
  const batch = buildBatch(classes, items, null);
  const posterior = new Int32Array(batch.itemCount * classes);
  majorityPosterior(batch, posterior);
  return itemResults(batch, posterior);
}

export type MultiLabelItem = {
  /** Each answer is a bitmask over the labels: bit j set = label j applies. */
  answers: ReadonlyArray<{ annotator: number; mask: number }>;
  /** Gold mask, or null. */
  gold: number | null;
};

/**
 * Multi-label: one binary problem per label j (class 1 = bit j set), each with its own priors
 * (`priorsPerLabel[j]`, 2×2 counts per annotator), in label order.
 */
export function aggregateMultiLabel(labels: number, items: readonly MultiLabelItem[], priorsPerLabel: ReadonlyArray<readonly AnnotatorPrior[]>, config: AggregateConfig): { perLabel: AggregateResult[] } {
  if (!(Number.isInteger(labels) && labels >= 1 && labels <= LABELS_MAX)) fail(`aggregateMultiLabel: labels ${labels} not in [1, ${LABELS_MAX}]`);
  if (priorsPerLabel.length !== labels) fail(`aggregateMultiLabel: ${priorsPerLabel.length} prior sets for ${labels} labels`);
  const maskEnd = 2 ** labels;
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as MultiLabelItem;
    if (!(item.gold === null || (Number.isInteger(item.gold) && item.gold >= 0 && item.gold < maskEnd))) fail(`aggregateMultiLabel: item ${i} gold mask ${item.gold} not in [0, 2^${labels})`);
    for (const { mask } of item.answers) {
      if (!(Number.isInteger(mask) && mask >= 0 && mask < maskEnd)) fail(`aggregateMultiLabel: item ${i} mask ${mask} not in [0, 2^${labels})`);
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
