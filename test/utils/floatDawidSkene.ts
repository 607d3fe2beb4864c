/**
 * Floating-point Dawid–Skene with the same model as runtime/labelling/aggregate.ts (priors,
 * Dirichlet prior, Laplace pseudo-count, evidence caps, class prior with one pseudo-item per class,
 * first E-step from the priors with a uniform class prior, then `iterations` rounds of M-step +
 * E-step), for tests only: the fixed-point version must agree with it. No collapse guard and no
 * majority-vote fallback: this is the EM alone.
 */
import type { AggregateConfig, AggregateItem, AnnotatorPrior } from '../../runtime/labelling/aggregate.ts';

const DEFAULT_PRIOR_ACCURACY = 0.7;
/** One count unit (1/256 of an answer) per cell, as in the fixed-point version. */
const LAPLACE = 1 / 256;

export type FloatDawidSkeneResult = {
  /** Per item, K probabilities summing to 1. */
  posteriors: number[][];
  /** Argmax, ties → lowest class. */
  labels: number[];
};

export function floatDawidSkene(classes: number, items: readonly AggregateItem[], priors: readonly AnnotatorPrior[], config: AggregateConfig): FloatDawidSkeneResult {
  const K = classes;
  const accuracy = (config.priorAccuracyQ16 ?? DEFAULT_PRIOR_ACCURACY * 65536) / 65536;
  const weight = config.priorWeight / 256; // answers per row
  const pseudo = (k: number, l: number): number => (k === l ? weight * accuracy : (weight * (1 - accuracy)) / (K - 1)) + LAPLACE;
  const base = priors.map((p) => Array.from({ length: K * K }, (_, c) => (p.counts[c] as number) / 256 + pseudo(Math.floor(c / K), c % K)));

  const logTables = (mass: number[][] | null): number[][] =>
    priors.map((p, j) => {
      const cap = (p.probation ? config.probationCapQ16 : config.evidenceCapQ16) / 65536;
      const floor = (1 - cap) / (K - 1);
      const table = new Array<number>(K * K).fill(0);
      for (let k = 0; k < K; k++) {
        let row = 0;
        for (let l = 0; l < K; l++) row += (base[j] as number[])[k * K + l]! + (mass === null ? 0 : mass[j]![k * K + l]!);
        for (let l = 0; l < K; l++) {
          const prob = ((base[j] as number[])[k * K + l]! + (mass === null ? 0 : mass[j]![k * K + l]!)) / row;
          table[k * K + l] = Math.log2(Math.min(cap, Math.max(floor, prob)));
        }
      }
      return table;
    });

  let logPrior = new Array<number>(K).fill(0);
  const eStep = (tables: number[][]): number[][] =>
    items.map((item) => {
      if (item.gold !== null) return Array.from({ length: K }, (_, k) => (k === item.gold ? 1 : 0));
      const logLik = [...logPrior];
      for (const { annotator, label } of item.answers) {
        for (let k = 0; k < K; k++) logLik[k]! += tables[annotator]![k * K + label]!;
      }
      const top = Math.max(...logLik);
      const w = logLik.map((x) => 2 ** (x - top));
      const sum = w.reduce((a, b) => a + b, 0);
      return w.map((x) => x / sum);
    });

  const mStep = (posteriors: number[][]): number[][] => {
    const classMass = new Array<number>(K).fill(1);
    for (const p of posteriors) p.forEach((x, k) => (classMass[k]! += x));
    logPrior = classMass.map((x) => Math.log2(x / (items.length + K)));
    const mass = priors.map(() => new Array<number>(K * K).fill(0));
    items.forEach((item, i) => {
      for (const { annotator, label } of item.answers) {
        for (let k = 0; k < K; k++) mass[annotator]![k * K + label]! += posteriors[i]![k]!;
      }
    });
    return mass;
  };

  let posteriors = eStep(logTables(null));
  for (let round = 0; round < config.iterations; round++) posteriors = eStep(logTables(mStep(posteriors)));
  const labels = posteriors.map((p) => p.reduce((best, x, k) => (x > p[best]! ? k : best), 0));
  return { posteriors, labels };
}
