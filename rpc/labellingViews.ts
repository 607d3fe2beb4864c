/**
 * The JSON forms of the labelling protocol's records (docs/rpc.md §Labelling), and the converters
 * that make them from the runtime's records. Same encodings as rpc/views.ts: bytes as 0x-hex,
 * amounts as decimal strings of units, addresses as bech32m, counts and heights as numbers. A
 * stored "none" (-1, or 0 for a height) becomes null. Q16 fixed-point values come twice: the
 * integer (`…Q16`, 65,536 = 1) and a decimal string rounded to four places.
 */
import { addressToString } from '../lib/index.ts';
import {
  GOLD_PER_TX_MAX,
  ITEMS_PER_TX_MAX,
  ITEM_STATUS,
  ITEM_STATUS_NAMES,
  ITEM_URI_BYTES_MAX,
  LABELS_PER_TX_MAX,
  ROUND_STAGE,
  SCHEMA,
  TASK_METADATA_BYTES_MAX,
  TASK_STATUS,
  TASK_STATUS_NAMES,
  CLASSES_MAX,
  escrowFor,
  type Annotator,
  type Assignment,
  type Item,
  type LabellingParams,
  type Reputation,
  type Round,
  type Task,
  type TaskSpec,
} from '../runtime/index.ts';
import type { Params } from '../state/index.ts';
import { hex, type Hex } from './views.ts';

const Q16 = 65_536;

export type TaskStatusName = (typeof TASK_STATUS_NAMES)[number];
export type ItemStatusName = (typeof ITEM_STATUS_NAMES)[number];
export type RoundStageName = 'drawing' | 'commit' | 'closing' | 'closed';
/**
 * What a transaction sent now can do in a round, judged from the next block (height + 1):
 * `drawing` seats are being drawn; `commit` commits are accepted; `reveal` reveals are accepted;
 * `closing` the reveal window is over and the round waits to be aggregated; `closed` done.
 */
export type RoundPhase = 'drawing' | 'commit' | 'reveal' | 'closing' | 'closed';

export type LabellingParamsJson = {
  height: number;
  annotatorStakeMin: string;
  annotatorUnbondingBlocks: number;
  itemsPerBlockMax: number;
  seatDrawsPerBlockMax: number;
  itemsPerTaskMax: number;
  answersCeiling: number;
  windowBlocksMax: number;
  emIterations: number;
  evidenceCapQ16: number;
  probationCapQ16: number;
  deviationSlashConfidenceQ16: number;
  slashGoldWrongBps: number;
  slashNonRevealBps: number;
  slashDeviationBps: number;
  slashToCoherentPercent: number;
  probationAnswers: number;
  epochBlocks: number;
  reputationKeep256: number;
  emissionPerLabel: string;
  emissionPerEpochMax: string;
  disputeBondMin: string;
  disputePanelMax: number;
  /** The chain's fee schedule and size limit (genesis `params`), for clients that size and price batches. */
  fees: { baseFee: string; perByteFee: string; txBytesMax: number };
  /** Fixed limits of the transaction formats, for clients that batch. */
  limits: {
    itemsPerTxMax: number;
    labelsPerTxMax: number;
    goldPerTxMax: number;
    itemUriBytesMax: number;
    metadataBytesMax: number;
    classesMaxSingle: number;
    classesMaxMulti: number;
  };
};

export type TaskSpecJson = {
  schema: 'single' | 'multi';
  classes: number;
  itemCount: number;
  answersMin: number;
  answersMax: number;
  rewardPerAnswer: string;
  bonusPerAnswer: string;
  annotatorStake: string;
  commitWindow: number;
  revealWindow: number;
  challengeWindow: number;
  confidenceQ16: number;
  confidence: string;
  /** The gold tree's root; all zero when the task has no gold. */
  goldRoot: Hex;
  feePerSeat: string;
  seatsPerAnnotatorMax: number;
  metadata: string;
};

export type TaskJson = {
  height: number;
  id: number;
  requester: string;
  status: TaskStatusName;
  spec: TaskSpecJson;
  /** TAG held for the task now; `escrowRequired` is what funding takes. */
  escrow: string;
  escrowRequired: string;
  progress: {
    itemsAdded: number;
    /** Items not yet final or low-confidence (counted once the task has started). */
    itemsOpen: number;
    itemsFinal: number;
    itemsLowConfidence: number;
    rounds: number;
    disputesOpen: number;
    /** Height at which the last item was settled; null before any. */
    lastFinalHeight: number | null;
  };
  paid: string;
  slashed: string;
};

export type SeatJson = { annotator: string; round: number; answer: number | null };

export type ItemJson = {
  task: number;
  index: number;
  contentHash: Hex;
  uri: string;
  status: ItemStatusName;
  seats: SeatJson[];
  /** The gold answer once the requester revealed it. */
  gold: number | null;
  /** The consensus label (a class, or a label bitmask for multi-label) once aggregated. */
  label: number | null;
  confidenceQ16: number;
  confidence: string;
  finalHeight: number | null;
  dispute: { state: 'none' | 'open' | 'settled'; round: number | null };
};

export type ItemReplyJson = ItemJson & { height: number };

export type ItemsPageJson = {
  height: number;
  task: number;
  /** Items added to the task: indices 0 … total − 1. */
  total: number;
  items: ItemJson[];
  /** The `cursor` of the next page, or null after the last item. */
  nextCursor: number | null;
};

export type RoundJson = {
  height: number;
  task: number;
  round: number;
  stage: RoundStageName;
  phase: RoundPhase;
  itemCount: number;
  seatsPerItem: number;
  /** Commits are accepted up to this height, reveals after it up to `revealEnd`; null while drawing. */
  commitEnd: number | null;
  revealEnd: number | null;
  /** The round that gives this round's unresolved items more seats, or null. */
  extendRound: number | null;
  dispute: { item: number; challenger: string; bond: string } | null;
};

/** One annotator's seats in one round. */
export type SeatAssignmentJson = {
  round: number;
  phase: RoundPhase;
  commitEnd: number | null;
  revealEnd: number | null;
  /** Item indices, in draw order. */
  items: number[];
  committed: boolean;
  commitRoot: Hex | null;
  commitCount: number;
  revealed: boolean;
  /** Fees of label transactions paid from the task's escrow, and the most it will pay (seats × feePerSeat). */
  feeSpent: string;
  feeBudget: string;
};

export type AssignmentJson = SeatAssignmentJson & { height: number; task: number; annotator: string };

export type AnnotatorAssignmentsJson = {
  height: number;
  task: number;
  annotator: string;
  /** Rounds of the task where the annotator holds seats, in round order. */
  rounds: SeatAssignmentJson[];
  /** The `cursor` (first round to scan) of the next page, or null after the task's last round. */
  nextCursor: number | null;
};

export type ReputationJson = {
  classes: number;
  /** The labelling epoch the counts are decayed to. */
  epoch: number;
  /** Counts are in units of 1/`countUnit` answer. */
  countUnit: number;
  /** K×K confusion counts: row = the consensus (true) class, column = the annotator's answer. */
  counts: number[][];
  /** The bonus multiplier these counts and the gold record give now. */
  qualityQ16: number;
  quality: string;
};

export type AnnotatorJson = {
  height: number;
  address: string;
  stake: string;
  unbonding: Array<{ amount: string; releaseHeight: number }>;
  probation: boolean;
  scored: number;
  goldSeen: number;
  goldCorrect: number;
  earned: string;
  slashed: string;
  reputation: ReputationJson;
};

/** A Q16 fixed-point value as a decimal with four places, rounded to nearest (58,982 → "0.9000"). */
export function q16ToDecimal(q: number): string {
  const scaled = Math.floor((q * 10_000 + Q16 / 2) / Q16);
  return `${Math.floor(scaled / 10_000)}.${String(scaled % 10_000).padStart(4, '0')}`;
}

const noneIfNegative = (n: number): number | null => (n < 0 ? null : n);
const noneIfZero = (n: number): number | null => (n === 0 ? null : n);

export function labellingParamsToJson(height: number, p: LabellingParams, chain: Params): LabellingParamsJson {
  return {
    height,
    annotatorStakeMin: p.annotatorStakeMin.toString(),
    annotatorUnbondingBlocks: p.annotatorUnbondingBlocks,
    itemsPerBlockMax: p.itemsPerBlockMax,
    seatDrawsPerBlockMax: p.seatDrawsPerBlockMax,
    itemsPerTaskMax: p.itemsPerTaskMax,
    answersCeiling: p.answersCeiling,
    windowBlocksMax: p.windowBlocksMax,
    emIterations: p.emIterations,
    evidenceCapQ16: p.evidenceCapQ16,
    probationCapQ16: p.probationCapQ16,
    deviationSlashConfidenceQ16: p.deviationSlashConfidenceQ16,
    slashGoldWrongBps: p.slashGoldWrongBps,
    slashNonRevealBps: p.slashNonRevealBps,
    slashDeviationBps: p.slashDeviationBps,
    slashToCoherentPercent: p.slashToCoherentPercent,
    probationAnswers: p.probationAnswers,
    epochBlocks: p.epochBlocks,
    reputationKeep256: p.reputationKeep256,
    emissionPerLabel: p.emissionPerLabel.toString(),
    emissionPerEpochMax: p.emissionPerEpochMax.toString(),
    disputeBondMin: p.disputeBondMin.toString(),
    disputePanelMax: p.disputePanelMax,
    fees: { baseFee: chain.baseFee.toString(), perByteFee: chain.perByteFee.toString(), txBytesMax: chain.txBytesMax },
    limits: {
      itemsPerTxMax: ITEMS_PER_TX_MAX,
      labelsPerTxMax: LABELS_PER_TX_MAX,
      goldPerTxMax: GOLD_PER_TX_MAX,
      itemUriBytesMax: ITEM_URI_BYTES_MAX,
      metadataBytesMax: TASK_METADATA_BYTES_MAX,
      classesMaxSingle: CLASSES_MAX[SCHEMA.single],
      classesMaxMulti: CLASSES_MAX[SCHEMA.multi],
    },
  };
}

export function taskSpecToJson(s: TaskSpec): TaskSpecJson {
  return {
    schema: s.schema === SCHEMA.single ? 'single' : 'multi',
    classes: s.classes,
    itemCount: s.itemCount,
    answersMin: s.answersMin,
    answersMax: s.answersMax,
    rewardPerAnswer: s.rewardPerAnswer.toString(),
    bonusPerAnswer: s.bonusPerAnswer.toString(),
    annotatorStake: s.annotatorStake.toString(),
    commitWindow: s.commitWindow,
    revealWindow: s.revealWindow,
    challengeWindow: s.challengeWindow,
    confidenceQ16: s.confidenceQ16,
    confidence: q16ToDecimal(s.confidenceQ16),
    goldRoot: hex(s.goldRoot),
    feePerSeat: s.feePerSeat.toString(),
    seatsPerAnnotatorMax: s.seatsPerAnnotatorMax,
    metadata: s.metadata,
  };
}

export function taskToJson(height: number, t: Task): TaskJson {
  // itemsOpen counts from the start of labelling; before it (and for a cancelled task) nothing is settled.
  const started = t.status === TASK_STATUS.labelling || t.status === TASK_STATUS.finalizing || t.status === TASK_STATUS.done;
  return {
    height,
    id: t.id,
    requester: addressToString(t.requester),
    status: TASK_STATUS_NAMES[t.status],
    spec: taskSpecToJson(t.spec),
    escrow: t.escrow.toString(),
    escrowRequired: escrowFor(t.spec).toString(),
    progress: {
      itemsAdded: t.itemsAdded,
      itemsOpen: t.itemsOpen,
      itemsFinal: started ? t.spec.itemCount - t.itemsOpen - t.itemsLowConfidence : 0,
      itemsLowConfidence: t.itemsLowConfidence,
      rounds: t.rounds,
      disputesOpen: t.disputesOpen,
      lastFinalHeight: noneIfZero(t.lastFinalHeight),
    },
    paid: t.paid.toString(),
    slashed: t.slashed.toString(),
  };
}

export function itemToJson(task: number, index: number, i: Item): ItemJson {
  return {
    task,
    index,
    contentHash: hex(i.contentHash),
    uri: i.uri,
    status: ITEM_STATUS_NAMES[i.status],
    seats: i.seats.map((s) => ({ annotator: addressToString(s.annotator), round: s.round, answer: noneIfNegative(s.answer) })),
    gold: noneIfNegative(i.gold),
    label: noneIfNegative(i.label),
    confidenceQ16: i.confidenceQ16,
    confidence: q16ToDecimal(i.confidenceQ16),
    finalHeight: i.status === ITEM_STATUS.open ? null : i.finalHeight,
    dispute: {
      state: i.disputeRound >= 0 ? 'open' : i.disputed ? 'settled' : 'none',
      round: noneIfNegative(i.disputeRound),
    },
  };
}

const STAGE_NAMES: readonly RoundStageName[] = ['drawing', 'commit', 'closing', 'closed'];

/** The round's phase for a transaction in the block after `height` (see RoundPhase). */
export function roundPhase(r: Round, height: number): RoundPhase {
  if (r.stage === ROUND_STAGE.drawing) return 'drawing';
  if (r.stage === ROUND_STAGE.closed) return 'closed';
  const next = height + 1;
  if (next <= r.commitEnd) return 'commit';
  if (next <= r.revealEnd) return 'reveal';
  return 'closing';
}

function windows(r: Round): { commitEnd: number | null; revealEnd: number | null } {
  const drawn = r.stage !== ROUND_STAGE.drawing;
  return { commitEnd: drawn ? r.commitEnd : null, revealEnd: drawn ? r.revealEnd : null };
}

/** `disputedItem` is the round's one item when it is a dispute round. */
export function roundToJson(height: number, r: Round, disputedItem: number | null): RoundJson {
  return {
    height,
    task: r.task,
    round: r.round,
    stage: STAGE_NAMES[r.stage] ?? 'closed',
    phase: roundPhase(r, height),
    itemCount: r.itemCount,
    seatsPerItem: r.seatsPerItem,
    ...windows(r),
    extendRound: noneIfNegative(r.extendRound),
    dispute:
      r.dispute === null
        ? null
        : { item: disputedItem ?? 0, challenger: addressToString(r.dispute.challenger), bond: r.dispute.bond.toString() },
  };
}

export function seatAssignmentToJson(height: number, r: Round, a: Assignment, feePerSeat: bigint): SeatAssignmentJson {
  return {
    round: r.round,
    phase: roundPhase(r, height),
    ...windows(r),
    items: a.items,
    committed: a.commitRoot !== null,
    commitRoot: a.commitRoot === null ? null : hex(a.commitRoot),
    commitCount: a.commitCount,
    revealed: a.revealed,
    feeSpent: a.feeSpent.toString(),
    feeBudget: (BigInt(a.items.length) * feePerSeat).toString(),
  };
}

export function annotatorToJson(
  height: number,
  address: Uint8Array,
  a: Annotator,
  probation: boolean,
  rep: { classes: number; reputation: Reputation; countUnit: number; qualityQ16: number },
): AnnotatorJson {
  const K = rep.classes;
  const counts: number[][] = [];
  for (let row = 0; row < K; row++) counts.push(rep.reputation.counts.slice(row * K, row * K + K));
  return {
    height,
    address: addressToString(address),
    stake: a.stake.toString(),
    unbonding: a.unbonding.map((u) => ({ amount: u.amount.toString(), releaseHeight: u.releaseHeight })),
    probation,
    scored: a.scored,
    goldSeen: a.goldSeen,
    goldCorrect: a.goldCorrect,
    earned: a.earned.toString(),
    slashed: a.slashedTotal.toString(),
    reputation: {
      classes: K,
      epoch: rep.reputation.epoch,
      countUnit: rep.countUnit,
      counts,
      qualityQ16: rep.qualityQ16,
      quality: q16ToDecimal(rep.qualityQ16),
    },
  };
}
