/**
 * Labelling parameters: chain-wide settings of the labelling protocol (runtime/labelling), set by
 * genesis (optional `labelling` section) and stored in state. Amounts in units; shares in basis points (1/10,000) or Q16 fixed point (1.0 = 65,536).
 * See docs/spec/labelling.md §Parameters.
 */
import { ONE_TAG, Reader, amountToBytes, decodeCanonical, encode, utf8ToBytes, concatBytes } from '../lib/index.ts';
import { PREFIX } from './keys.ts';
import type { StateReader, StateView } from './stateView.ts';

export type LabellingParams = {
  /** Least stake an annotator must hold to be drawn for any seat. */
  annotatorStakeMin: bigint;
  /** Blocks between an unstake and the release of its TAG; slashes still reach unbonding stake. */
  annotatorUnbondingBlocks: number;
  /** Items aggregated per block at most; the rest wait in the queue. */
  itemsPerBlockMax: number;
  /** Seat draws per block at most; the rest wait in the queue. */
  seatDrawsPerBlockMax: number;
  /** Items one task may hold. */
  itemsPerTaskMax: number;
  /** Most answers one item may collect (a task's answersMax is at most this). */
  answersCeiling: number;
  /** Longest commit, reveal or challenge window, in blocks. */
  windowBlocksMax: number;
  /** EM iterations of the aggregation. */
  emIterations: number;
  /** Evidence cap: the largest accuracy the aggregation credits any annotator with (Q16). */
  evidenceCapQ16: number;
  /** The cap for annotators on probation (Q16). */
  probationCapQ16: number;
  /** Above this consensus confidence (Q16), answering differently is slashed. */
  deviationSlashConfidenceQ16: number;
  /** Slashes, in basis points of the task's annotator stake, per offending seat. */
  slashGoldWrongBps: number;
  slashNonRevealBps: number;
  slashDeviationBps: number;
  /** Share of each slash (percent) paid to the coherent annotators of the same item; the rest to the protocol treasury. */
  slashToCoherentPercent: number;
  /** Scored answers before an annotator leaves probation. */
  probationAnswers: number;
  /** Blocks per labelling epoch (emission cap and reputation decay). */
  epochBlocks: number;
  /** Reputation kept per epoch, in 1/256 (255 = decay by 1/256 each epoch). */
  reputationKeep256: number;
  /** New TAG minted per verified label (an answer that agrees with a finalized consensus). */
  emissionPerLabel: bigint;
  /** Most TAG minted by labels in one epoch. */
  emissionPerEpochMax: bigint;
  /** Least bond of a dispute. */
  disputeBondMin: bigint;
  /** Largest dispute panel. */
  disputePanelMax: number;
};

export const DEFAULT_LABELLING_PARAMS: LabellingParams = {
  annotatorStakeMin: 10n * ONE_TAG,
  annotatorUnbondingBlocks: 2_000,
  itemsPerBlockMax: 10_000,
  seatDrawsPerBlockMax: 50_000,
  itemsPerTaskMax: 100_000,
  answersCeiling: 32,
  windowBlocksMax: 100_000,
  emIterations: 3,
  evidenceCapQ16: 58_982, // 0.9
  probationCapQ16: 45_875, // 0.7
  deviationSlashConfidenceQ16: 62_259, // 0.95
  slashGoldWrongBps: 100,
  slashNonRevealBps: 200,
  slashDeviationBps: 100,
  slashToCoherentPercent: 50,
  probationAnswers: 20,
  epochBlocks: 1_000,
  reputationKeep256: 255,
  emissionPerLabel: ONE_TAG / 100n,
  emissionPerEpochMax: 1_000n * ONE_TAG,
  disputeBondMin: 10n * ONE_TAG,
  disputePanelMax: 15,
};

export const LABELLING_PARAMS_KEY = concatBytes(Uint8Array.of(PREFIX.labellingGlobal), utf8ToBytes('params'));

export function encodeLabellingParams(p: LabellingParams): Uint8Array {
  return encode([
    amountToBytes(p.annotatorStakeMin),
    p.annotatorUnbondingBlocks,
    p.itemsPerBlockMax,
    p.seatDrawsPerBlockMax,
    p.itemsPerTaskMax,
    p.answersCeiling,
    p.windowBlocksMax,
    p.emIterations,
    p.evidenceCapQ16,
    p.probationCapQ16,
    p.deviationSlashConfidenceQ16,
    p.slashGoldWrongBps,
    p.slashNonRevealBps,
    p.slashDeviationBps,
    p.slashToCoherentPercent,
    p.probationAnswers,
    p.epochBlocks,
    p.reputationKeep256,
    amountToBytes(p.emissionPerLabel),
    amountToBytes(p.emissionPerEpochMax),
    amountToBytes(p.disputeBondMin),
    p.disputePanelMax,
  ]);
}

export function decodeLabellingParams(bytes: Uint8Array): LabellingParams {
  return decodeCanonical(bytes, 'LabellingParams', 1024, (v) => {
    const r = Reader.array(v, 'LabellingParams', 22);
    return {
      annotatorStakeMin: r.amount('annotatorStakeMin'),
      annotatorUnbondingBlocks: r.u32('annotatorUnbondingBlocks'),
      itemsPerBlockMax: r.u32('itemsPerBlockMax'),
      seatDrawsPerBlockMax: r.u32('seatDrawsPerBlockMax'),
      itemsPerTaskMax: r.u32('itemsPerTaskMax'),
      answersCeiling: r.u32('answersCeiling', 64),
      windowBlocksMax: r.u32('windowBlocksMax'),
      emIterations: r.u32('emIterations', 50),
      evidenceCapQ16: r.u32('evidenceCapQ16', 65_536),
      probationCapQ16: r.u32('probationCapQ16', 65_536),
      deviationSlashConfidenceQ16: r.u32('deviationSlashConfidenceQ16', 65_536),
      slashGoldWrongBps: r.u32('slashGoldWrongBps', 10_000),
      slashNonRevealBps: r.u32('slashNonRevealBps', 10_000),
      slashDeviationBps: r.u32('slashDeviationBps', 10_000),
      slashToCoherentPercent: r.u32('slashToCoherentPercent', 100),
      probationAnswers: r.u32('probationAnswers'),
      epochBlocks: r.u32('epochBlocks'),
      reputationKeep256: r.u32('reputationKeep256', 256),
      emissionPerLabel: r.amount('emissionPerLabel'),
      emissionPerEpochMax: r.amount('emissionPerEpochMax'),
      disputeBondMin: r.amount('disputeBondMin'),
      disputePanelMax: r.u32('disputePanelMax', 255),
    };
  }, encodeLabellingParams);
}

/** The stored parameters, or the defaults on a chain whose genesis set none. */
export function loadLabellingParams(state: StateReader): LabellingParams {
  const bytes = state.get(LABELLING_PARAMS_KEY);
  return bytes === undefined ? DEFAULT_LABELLING_PARAMS : decodeLabellingParams(bytes);
}

export function saveLabellingParams(view: StateView, p: LabellingParams): void {
  view.set(LABELLING_PARAMS_KEY, encodeLabellingParams(p));
}

/**
 * Why these parameters cannot run, or null. The aggregation needs its caps above chance for any K
 * (64 classes) and the probation cap at most the evidence cap; epochs and windows must be positive.
 */
export function labellingParamsProblem(p: LabellingParams): { field: keyof LabellingParams; reason: string } | null {
  const Q16 = 65_536;
  if (p.evidenceCapQ16 <= Q16 / 64 || p.evidenceCapQ16 > Q16) return { field: 'evidenceCapQ16', reason: 'must be above 1/64 and at most 1 (Q16)' };
  if (p.probationCapQ16 <= Q16 / 64 || p.probationCapQ16 > p.evidenceCapQ16) return { field: 'probationCapQ16', reason: 'must be above 1/64 and at most evidenceCapQ16' };
  if (p.deviationSlashConfidenceQ16 < Q16 / 2 || p.deviationSlashConfidenceQ16 > Q16) return { field: 'deviationSlashConfidenceQ16', reason: 'must be from 1/2 to 1 (Q16)' };
  if (p.emIterations < 1 || p.emIterations > 50) return { field: 'emIterations', reason: 'must be from 1 to 50' };
  if (p.epochBlocks < 1) return { field: 'epochBlocks', reason: 'must be at least 1' };
  if (p.itemsPerBlockMax < 1) return { field: 'itemsPerBlockMax', reason: 'must be at least 1' };
  if (p.seatDrawsPerBlockMax < 1) return { field: 'seatDrawsPerBlockMax', reason: 'must be at least 1' };
  if (p.itemsPerTaskMax < 1) return { field: 'itemsPerTaskMax', reason: 'must be at least 1' };
  if (p.answersCeiling < 1 || p.answersCeiling > 64) return { field: 'answersCeiling', reason: 'must be from 1 to 64' };
  if (p.windowBlocksMax < 1) return { field: 'windowBlocksMax', reason: 'must be at least 1' };
  if (p.annotatorUnbondingBlocks < 4) return { field: 'annotatorUnbondingBlocks', reason: 'must be at least 4 (a round and its challenge window must fit inside it)' };
  if (p.disputePanelMax < 1) return { field: 'disputePanelMax', reason: 'must be at least 1' };
  if (p.reputationKeep256 > 256) return { field: 'reputationKeep256', reason: 'must be at most 256' };
  return null;
}
