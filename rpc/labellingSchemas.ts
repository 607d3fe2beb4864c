/**
 * JSON schemas of the labelling endpoints' requests and replies (rpc/routes/labelling.ts); the
 * TypeScript types are in rpc/labellingViews.ts. Registered by `$id` next to SHARED_SCHEMAS, so they
 * appear by name under `components.schemas` in /openapi.json.
 */
import { PARTS } from './schemas.ts';

const { hex, hash, address, amount, u32, object } = PARTS;

const nullable = (schema: Record<string, unknown>): Record<string, unknown> => ({ anyOf: [schema, { type: 'null' }] });
const q16 = { ...u32, description: 'Q16 fixed point: 65,536 = 1' } as const;
const decimal = { type: 'string', pattern: '^[0-9]+\\.[0-9]{4}$', description: 'the Q16 value as a decimal, rounded to four places' } as const;
const height = { ...u32, description: 'the committed height the reply was read at' } as const;
const phase = {
  type: 'string',
  enum: ['drawing', 'commit', 'reveal', 'closing', 'closed'],
  description: 'what a transaction sent now can do in the round, judged from the next block',
} as const;

// --- Requests ----------------------------------------------------------------------------------

/** A u32 in decimal, no sign or leading zero; the handler checks it is at most U32_MAX. */
export const U32_PARAM = { type: 'string', pattern: '^(0|[1-9][0-9]{0,9})$' } as const;

/** Items per page at most. */
export const ITEMS_PAGE_MAX = 100;
/** Rounds one /assignments request scans at most. */
export const ROUNDS_SCAN_MAX = 256;

export const LIMIT_PARAM = { type: 'string', pattern: '^([1-9]|[1-9][0-9]|100)$', description: `page size, 1 to ${ITEMS_PAGE_MAX}` } as const;
export const CLASSES_PARAM = {
  type: 'string',
  pattern: '^([2-9]|[1-5][0-9]|6[0-4])$',
  description: 'K, the class count of the reputation to return (2 to 64; 2 for multi-label tasks)',
} as const;

export function params(properties: Record<string, unknown>): Record<string, unknown> {
  return { type: 'object', additionalProperties: false, required: Object.keys(properties), properties };
}

// --- Replies -----------------------------------------------------------------------------------

const LabellingParams = {
  $id: 'LabellingParams',
  description: 'Chain-wide labelling parameters (genesis) and the transaction formats\' fixed limits.',
  ...object({
    height,
    annotatorStakeMin: amount,
    annotatorUnbondingBlocks: u32,
    itemsPerBlockMax: u32,
    seatDrawsPerBlockMax: u32,
    itemsPerTaskMax: u32,
    answersCeiling: u32,
    windowBlocksMax: u32,
    emIterations: u32,
    evidenceCapQ16: q16,
    probationCapQ16: q16,
    deviationSlashConfidenceQ16: q16,
    slashGoldWrongBps: u32,
    slashNonRevealBps: u32,
    slashDeviationBps: u32,
    slashToCoherentPercent: u32,
    probationAnswers: u32,
    epochBlocks: u32,
    reputationKeep256: u32,
    emissionPerLabel: amount,
    emissionPerEpochMax: amount,
    disputeBondMin: amount,
    disputePanelMax: u32,
    fees: object({ baseFee: amount, perByteFee: amount, txBytesMax: u32 }),
    limits: object({
      itemsPerTxMax: u32,
      labelsPerTxMax: u32,
      goldPerTxMax: u32,
      itemUriBytesMax: u32,
      metadataBytesMax: u32,
      classesMaxSingle: u32,
      classesMaxMulti: u32,
    }),
  }),
};

const TaskSpec = {
  $id: 'TaskSpec',
  description: 'What the requester fixed when creating the task.',
  ...object({
    schema: { type: 'string', enum: ['single', 'multi'] },
    classes: u32,
    itemCount: u32,
    answersMin: u32,
    answersMax: u32,
    rewardPerAnswer: amount,
    bonusPerAnswer: amount,
    annotatorStake: amount,
    commitWindow: u32,
    revealWindow: u32,
    challengeWindow: u32,
    confidenceQ16: q16,
    confidence: decimal,
    goldRoot: { ...hash, description: 'root of the gold tree; all zero for none' },
    feePerSeat: amount,
    seatsPerAnnotatorMax: u32,
    metadata: { type: 'string' },
  }),
};

const Task = {
  $id: 'Task',
  description: 'A labelling task: its status, spec, escrow and progress.',
  ...object({
    height,
    id: u32,
    requester: address,
    status: { type: 'string', enum: ['created', 'funded', 'labelling', 'finalizing', 'done', 'cancelled'] },
    spec: { $ref: 'TaskSpec#' },
    escrow: amount,
    escrowRequired: { ...amount, description: 'what funding the task takes' },
    progress: object({
      itemsAdded: u32,
      itemsOpen: u32,
      itemsFinal: u32,
      itemsLowConfidence: u32,
      rounds: u32,
      disputesOpen: u32,
      lastFinalHeight: nullable(u32),
    }),
    paid: amount,
    slashed: amount,
  }),
};

const itemProperties = {
  task: u32,
  index: u32,
  contentHash: hash,
  uri: { type: 'string' },
  status: { type: 'string', enum: ['open', 'final', 'low-confidence'] },
  seats: {
    type: 'array',
    items: object({ annotator: address, round: u32, answer: { ...nullable(u32), description: 'the revealed answer, null until revealed' } }),
  },
  gold: { ...nullable(u32), description: 'the gold answer once revealed' },
  label: { ...nullable(u32), description: 'consensus label (a class; a label bitmask for multi-label) once aggregated' },
  confidenceQ16: q16,
  confidence: decimal,
  finalHeight: nullable(u32),
  dispute: object({ state: { type: 'string', enum: ['none', 'open', 'settled'] }, round: nullable(u32) }),
};

const Item = { $id: 'Item', description: 'An item of a task, its seats and its consensus.', ...object(itemProperties) };

const ItemReply = { $id: 'ItemReply', description: 'One item, read at `height`.', ...object({ height, ...itemProperties }) };

const ItemsPage = {
  $id: 'ItemsPage',
  description: 'A page of a task\'s items, by index.',
  ...object({ height, task: u32, total: u32, items: { type: 'array', items: { $ref: 'Item#' } }, nextCursor: nullable(u32) }),
};

const Round = {
  $id: 'Round',
  description: 'A round of a task: stage, windows and, for a dispute round, the dispute.',
  ...object({
    height,
    task: u32,
    round: u32,
    stage: { type: 'string', enum: ['drawing', 'commit', 'closing', 'closed'] },
    phase,
    itemCount: u32,
    seatsPerItem: u32,
    commitEnd: nullable(u32),
    revealEnd: nullable(u32),
    extendRound: nullable(u32),
    dispute: nullable(object({ item: u32, challenger: address, bond: amount })),
  }),
};

const seatAssignmentProperties = {
  round: u32,
  phase,
  commitEnd: nullable(u32),
  revealEnd: nullable(u32),
  items: { type: 'array', items: u32, description: 'item indices, in draw order' },
  committed: { type: 'boolean' },
  commitRoot: nullable(hex),
  commitCount: u32,
  revealed: { type: 'boolean' },
  feeSpent: amount,
  feeBudget: amount,
};

const SeatAssignment = {
  $id: 'SeatAssignment',
  description: 'One annotator\'s seats in one round, and its commit state.',
  ...object(seatAssignmentProperties),
};

const Assignment = {
  $id: 'Assignment',
  description: 'An annotator\'s seats in one round of a task.',
  ...object({ height, task: u32, annotator: address, ...seatAssignmentProperties }),
};

const AnnotatorAssignments = {
  $id: 'AnnotatorAssignments',
  description: 'The rounds of a task where an annotator holds seats.',
  ...object({ height, task: u32, annotator: address, rounds: { type: 'array', items: { $ref: 'SeatAssignment#' } }, nextCursor: nullable(u32) }),
};

const Annotator = {
  $id: 'Annotator',
  description: 'An annotator\'s stake, record, earnings and reputation for K classes.',
  ...object({
    height,
    address,
    stake: amount,
    unbonding: { type: 'array', items: object({ amount, releaseHeight: u32 }) },
    probation: { type: 'boolean' },
    scored: u32,
    goldSeen: u32,
    goldCorrect: u32,
    earned: amount,
    slashed: amount,
    reputation: object({
      classes: u32,
      epoch: u32,
      countUnit: u32,
      counts: { type: 'array', items: { type: 'array', items: u32 }, description: 'K×K: row = consensus class, column = answer' },
      qualityQ16: q16,
      quality: decimal,
    }),
  }),
};

/** Registered after SHARED_SCHEMAS, in dependency order. */
export const LABELLING_SCHEMAS: ReadonlyArray<Record<string, unknown>> = [
  LabellingParams,
  TaskSpec,
  Task,
  Item,
  ItemReply,
  ItemsPage,
  Round,
  SeatAssignment,
  Assignment,
  AnnotatorAssignments,
  Annotator,
];
