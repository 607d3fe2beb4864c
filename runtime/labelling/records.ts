/**
 * Labelling state records and their keys. Every record is a fixed-order msgpack array; the layouts
 * are listed in docs/spec/labelling.md §State. Keys start with a prefix from state/keys.ts.
 */
import {
  ADDRESS_BYTES,
  Reader,
  assert,
  readU32,
  writeU32,
  amountToBytes,
  concatBytes,
  decodeStateValue,
  encode,
  u32ToBytes,
  utf8ToBytes,
  type Encodable,
} from '../../lib/index.ts';
import { PREFIX, keyFromId, keyId, stateLoader, type StateReader, type StateView } from '../../state/index.ts';

const RECORD_BYTES_MAX = 256 * 1024;

/** Task lifecycle. Numbers are STATE-BREAKING. */
export const TASK_STATUS = { created: 0, funded: 1, labelling: 2, finalizing: 3, done: 4, cancelled: 5 } as const;
export type TaskStatus = (typeof TASK_STATUS)[keyof typeof TASK_STATUS];
export const TASK_STATUS_NAMES = ['created', 'funded', 'labelling', 'finalizing', 'done', 'cancelled'] as const;

/** Label schema kinds: one class of K, or any subset of K labels (a bitmask). */
export const SCHEMA = { single: 0, multi: 1 } as const;
export type SchemaKind = (typeof SCHEMA)[keyof typeof SCHEMA];

/** What a requester fixes when creating a task. */
export type TaskSpec = {
  schema: SchemaKind;
  /** K: classes (single) or labels (multi). */
  classes: number;
  itemCount: number;
  answersMin: number;
  answersMax: number;
  rewardPerAnswer: bigint;
  bonusPerAnswer: bigint;
  /** Least stake an annotator needs for this task; also the base of its slashes. */
  annotatorStake: bigint;
  commitWindow: number;
  revealWindow: number;
  challengeWindow: number;
  /** Finalize an item when its consensus confidence reaches this (Q16). */
  confidenceQ16: number;
  /** Merkle root over the gold answers' leaves (docs/spec/labelling.md §Gold); zero for none. */
  goldRoot: Uint8Array;
  /** Fee budget per seat for the annotator's label transactions, paid from escrow. */
  feePerSeat: bigint;
  /** Most seats one annotator may hold in one round of this task. */
  seatsPerAnnotatorMax: number;
  /** Free-form description or URI of the task's instructions. */
  metadata: string;
};

export type Task = {
  id: number;
  requester: Uint8Array;
  spec: TaskSpec;
  status: TaskStatus;
  itemsAdded: number;
  /** TAG held for the task: rewards, bonuses and fee budgets not yet paid. */
  escrow: bigint;
  /** Rounds created so far (round numbers 0 … rounds − 1). */
  rounds: number;
  /** Items not yet finalized or marked low-confidence. */
  itemsOpen: number;
  itemsLowConfidence: number;
  /** Disputes not yet settled. */
  disputesOpen: number;
  /** Height the last item became final (the challenge window runs from it). */
  lastFinalHeight: number;
  paid: bigint;
  slashed: bigint;
};

/** A seat on an item: who, in which round, and the revealed answer (-1 until revealed). */
export type Seat = { annotator: Uint8Array; round: number; answer: number };

export const ITEM_STATUS = { open: 0, final: 1, lowConfidence: 2 } as const;
export type ItemStatus = (typeof ITEM_STATUS)[keyof typeof ITEM_STATUS];
export const ITEM_STATUS_NAMES = ['open', 'final', 'low-confidence'] as const;

export type Item = {
  contentHash: Uint8Array;
  uri: string;
  status: ItemStatus;
  seats: Seat[];
  /** The gold answer once the requester revealed it, else -1. */
  gold: number;
  /** Consensus label (a class, or a label mask for multi-label) once aggregated, else -1. */
  label: number;
  confidenceQ16: number;
  finalHeight: number;
  /** The round of a dispute in progress, or -1; `disputed` once one was settled. */
  disputeRound: number;
  disputed: boolean;
};

export const ROUND_STAGE = { drawing: 0, commit: 1, closing: 2, closed: 3 } as const;
export type RoundStage = (typeof ROUND_STAGE)[keyof typeof ROUND_STAGE];

export type Round = {
  task: number;
  round: number;
  /** Items in the round; round 0 holds every item, later rounds list theirs under roundItemKey. */
  itemCount: number;
  /** Seats to draw per item in this round. */
  seatsPerItem: number;
  stage: RoundStage;
  /** Next item index (within the round) to draw seats for, or to close. */
  cursor: number;
  commitEnd: number;
  revealEnd: number;
  /** Items of this round that need more answers: they form round `extendRound` once this one closes. */
  extendCount: number;
  /** The round that extends this one's unresolved items, or -1. */
  extendRound: number;
  /** For a dispute round: who disputed and the bond; null otherwise. */
  dispute: { challenger: Uint8Array; bond: bigint } | null;
};

export type Assignment = {
  /** Item indices, in draw order. */
  items: number[];
  commitRoot: Uint8Array | null;
  commitCount: number;
  revealed: boolean;
  feeSpent: bigint;
};

export type Unbonding = { amount: bigint; releaseHeight: number };

export type Annotator = {
  /** Position in the stake-weight tree (1-based). */
  index: number;
  stake: bigint;
  unbonding: Unbonding[];
  /** Answers scored so far (probation ends at `probationAnswers`). */
  scored: number;
  goldSeen: number;
  goldCorrect: number;
  earned: bigint;
  slashedTotal: bigint;
};

/** Confusion counts (K×K, row = true class, column = answer) in count units (256 = one answer), decayed per epoch. */
export type Reputation = { counts: number[]; epoch: number };

export const UNBONDING_ENTRIES_MAX = 8;

// ── keys ────────────────────────────────────────────────────────────────────────────────────────

function key(prefix: number, ...parts: Uint8Array[]): Uint8Array {
  return concatBytes(Uint8Array.of(prefix), ...parts);
}

export const taskKey = (id: number): Uint8Array => key(PREFIX.task, u32ToBytes(id));
export const itemKey = (task: number, index: number): Uint8Array => key(PREFIX.item, u32ToBytes(task), u32ToBytes(index));
export const itemResultKey = (task: number, index: number): Uint8Array => key(PREFIX.itemResult, u32ToBytes(task), u32ToBytes(index));
export const roundKey = (task: number, round: number): Uint8Array => key(PREFIX.round, u32ToBytes(task), u32ToBytes(round));
export const roundItemKey = (task: number, round: number, i: number): Uint8Array =>
  key(PREFIX.roundItem, u32ToBytes(task), u32ToBytes(round), u32ToBytes(i));
export const assignmentKey = (task: number, round: number, annotator: Uint8Array): Uint8Array =>
  key(PREFIX.assignment, u32ToBytes(task), u32ToBytes(round), annotator);
export const annotatorKey = (address: Uint8Array): Uint8Array => key(PREFIX.annotator, address);

/** task ‖ item ‖ annotator → the revealed answer (4 bytes, big-endian). Built in one allocation: reveals write many. */
export function answerKey(task: number, item: number, annotator: Uint8Array): Uint8Array {
  const out = new Uint8Array(9 + ADDRESS_BYTES);
  out[0] = PREFIX.answer;
  writeU32(out, 1, task);
  writeU32(out, 5, item);
  out.set(annotator, 9);
  return out;
}
export const reputationKey = (address: Uint8Array, classes: number): Uint8Array => key(PREFIX.reputation, address, Uint8Array.of(classes));
export const weightNodeKey = (node: number): Uint8Array => key(PREFIX.annotatorWeight, u32ToBytes(node));
export const annotatorByIndexKey = (index: number): Uint8Array => key(PREFIX.annotatorWeight, utf8ToBytes('i'), u32ToBytes(index));
export const globalKey = (name: string): Uint8Array => key(PREFIX.labellingGlobal, utf8ToBytes(name));

// ── encodings ───────────────────────────────────────────────────────────────────────────────────

function specToWire(s: TaskSpec): Encodable[] {
  return [
    s.schema,
    s.classes,
    s.itemCount,
    s.answersMin,
    s.answersMax,
    amountToBytes(s.rewardPerAnswer),
    amountToBytes(s.bonusPerAnswer),
    amountToBytes(s.annotatorStake),
    s.commitWindow,
    s.revealWindow,
    s.challengeWindow,
    s.confidenceQ16,
    s.goldRoot,
    amountToBytes(s.feePerSeat),
    s.seatsPerAnnotatorMax,
    s.metadata,
  ];
}

export const TASK_METADATA_BYTES_MAX = 512;

export function parseTaskSpec(value: unknown): TaskSpec {
  const r = Reader.array(value, 'TaskSpec', 16);
  return {
    schema: r.u32('schema', 1) as SchemaKind,
    classes: r.u32('classes'),
    itemCount: r.u32('itemCount'),
    answersMin: r.u32('answersMin'),
    answersMax: r.u32('answersMax'),
    rewardPerAnswer: r.amount('rewardPerAnswer'),
    bonusPerAnswer: r.amount('bonusPerAnswer'),
    annotatorStake: r.amount('annotatorStake'),
    commitWindow: r.u32('commitWindow'),
    revealWindow: r.u32('revealWindow'),
    challengeWindow: r.u32('challengeWindow'),
    confidenceQ16: r.u32('confidenceQ16'),
    goldRoot: r.bytes('goldRoot', 32),
    feePerSeat: r.amount('feePerSeat'),
    seatsPerAnnotatorMax: r.u32('seatsPerAnnotatorMax'),
    metadata: r.str('metadata', TASK_METADATA_BYTES_MAX),
  };
}

export function taskSpecToWire(s: TaskSpec): Encodable[] {
  return specToWire(s);
}

export function encodeTask(t: Task): Uint8Array {
  return encode([
    t.id,
    t.requester,
    specToWire(t.spec),
    t.status,
    t.itemsAdded,
    amountToBytes(t.escrow),
    t.rounds,
    t.itemsOpen,
    t.itemsLowConfidence,
    t.disputesOpen,
    t.lastFinalHeight,
    amountToBytes(t.paid),
    amountToBytes(t.slashed),
  ]);
}

export function decodeTask(bytes: Uint8Array): Task {
  return decodeStateValue(bytes, 'Task', RECORD_BYTES_MAX, (v) => {
    const r = Reader.array(v, 'Task', 13);
    return {
      id: r.u32('id'),
      requester: r.bytes('requester', ADDRESS_BYTES),
      spec: parseTaskSpec(r.raw()),
      status: r.u32('status', 5) as TaskStatus,
      itemsAdded: r.u32('itemsAdded'),
      escrow: r.amount('escrow'),
      rounds: r.u32('rounds'),
      itemsOpen: r.u32('itemsOpen'),
      itemsLowConfidence: r.u32('itemsLowConfidence'),
      disputesOpen: r.u32('disputesOpen'),
      lastFinalHeight: r.u32('lastFinalHeight'),
      paid: r.amount('paid'),
      slashed: r.amount('slashed'),
    };
  });
}

/**
 * An item is stored as two records: its body (content hash, URI, seats, gold) under `itemKey`, and
 * its outcome (status, label, confidence, final height, dispute) under `itemResultKey`, absent
 * while the item is open and undisputed — closing an item rewrites only the small one. "None"
 * values (-1) are stored +1 so that they are a u32 0. Seats' answers live under `answerKey`, so a
 * reveal writes 4 bytes per label.
 */
export function encodeItemBody(i: Item): Uint8Array {
  return encode([i.contentHash, i.uri, i.seats.map((s) => [s.annotator, s.round]), i.gold + 1]);
}

export function encodeItemResult(i: Item): Uint8Array {
  return encode([i.status, i.label + 1, i.confidenceQ16, i.finalHeight, i.disputeRound + 1, i.disputed]);
}

export const ITEM_URI_BYTES_MAX = 256;
export const SEATS_PER_ITEM_MAX = 128;

type ItemResult = Pick<Item, 'status' | 'label' | 'confidenceQ16' | 'finalHeight' | 'disputeRound' | 'disputed'>;
const OPEN_RESULT: ItemResult = { status: ITEM_STATUS.open, label: -1, confidenceQ16: 0, finalHeight: 0, disputeRound: -1, disputed: false };

function decodeItemBody(bytes: Uint8Array): Pick<Item, 'contentHash' | 'uri' | 'seats' | 'gold'> {
  return decodeStateValue(bytes, 'Item', RECORD_BYTES_MAX, (v) => {
    const r = Reader.array(v, 'Item', 4);
    return {
      contentHash: r.bytes('contentHash', 32),
      uri: r.str('uri', ITEM_URI_BYTES_MAX),
      seats: r.list('seats', SEATS_PER_ITEM_MAX, (s) => {
        const sr = Reader.array(s, 'Seat', 2);
        return { annotator: sr.bytes('annotator', ADDRESS_BYTES), round: sr.u32('round'), answer: -1 };
      }),
      gold: r.u32('gold') - 1,
    };
  });
}

function decodeItemResult(bytes: Uint8Array): ItemResult {
  return decodeStateValue(bytes, 'ItemResult', 64, (v) => {
    const r = Reader.array(v, 'ItemResult', 6);
    return {
      status: r.u32('status', 2) as ItemStatus,
      label: r.u32('label') - 1,
      confidenceQ16: r.u32('confidenceQ16'),
      finalHeight: r.u32('finalHeight'),
      disputeRound: r.u32('disputeRound') - 1,
      disputed: r.bool('disputed'),
    };
  });
}

export function encodeRound(x: Round): Uint8Array {
  return encode([
    x.task,
    x.round,
    x.itemCount,
    x.seatsPerItem,
    x.stage,
    x.cursor,
    x.commitEnd,
    x.revealEnd,
    x.extendCount,
    x.extendRound + 1,
    x.dispute === null ? [] : [x.dispute.challenger, amountToBytes(x.dispute.bond)],
  ]);
}

export function decodeRound(bytes: Uint8Array): Round {
  return decodeStateValue(bytes, 'Round', 1024, (v) => {
    const r = Reader.array(v, 'Round', 11);
    const base = {
      task: r.u32('task'),
      round: r.u32('round'),
      itemCount: r.u32('itemCount'),
      seatsPerItem: r.u32('seatsPerItem'),
      stage: r.u32('stage', 3) as RoundStage,
      cursor: r.u32('cursor'),
      commitEnd: r.u32('commitEnd'),
      revealEnd: r.u32('revealEnd'),
      extendCount: r.u32('extendCount'),
      extendRound: r.u32('extendRound') - 1,
    };
    const raw = r.raw();
    let dispute: Round['dispute'] = null;
    if (Array.isArray(raw) && raw.length > 0) {
      const d = Reader.array(raw, 'Dispute', 2);
      dispute = { challenger: d.bytes('challenger', ADDRESS_BYTES), bond: d.amount('bond') };
    } else {
      Reader.array(raw, 'Dispute', 0);
    }
    return { ...base, dispute };
  });
}

export function encodeAssignment(a: Assignment): Uint8Array {
  return encode([a.items, a.commitRoot ?? new Uint8Array(0), a.commitCount, a.revealed, amountToBytes(a.feeSpent)]);
}

export function decodeAssignment(bytes: Uint8Array): Assignment {
  return decodeStateValue(bytes, 'Assignment', RECORD_BYTES_MAX, (v) => {
    const r = Reader.array(v, 'Assignment', 5);
    const items = r.list('items', 65_536, (x, i) => Reader.array([x], 'Assignment', 1).u32(`items[${i}]`));
    const root = r.bytesMax('commitRoot', 32);
    return {
      items,
      commitRoot: root.length === 0 ? null : root,
      commitCount: r.u32('commitCount'),
      revealed: r.bool('revealed'),
      feeSpent: r.amount('feeSpent'),
    };
  });
}

export function encodeAnnotator(a: Annotator): Uint8Array {
  return encode([
    a.index,
    amountToBytes(a.stake),
    a.unbonding.map((u) => [amountToBytes(u.amount), u.releaseHeight]),
    a.scored,
    a.goldSeen,
    a.goldCorrect,
    amountToBytes(a.earned),
    amountToBytes(a.slashedTotal),
  ]);
}

export function decodeAnnotator(bytes: Uint8Array): Annotator {
  return decodeStateValue(bytes, 'Annotator', 4096, (v) => {
    const r = Reader.array(v, 'Annotator', 8);
    return {
      index: r.u32('index'),
      stake: r.amount('stake'),
      unbonding: r.list('unbonding', UNBONDING_ENTRIES_MAX, (u) => {
        const ur = Reader.array(u, 'Unbonding', 2);
        return { amount: ur.amount('amount'), releaseHeight: ur.u32('releaseHeight') };
      }),
      scored: r.u32('scored'),
      goldSeen: r.u32('goldSeen'),
      goldCorrect: r.u32('goldCorrect'),
      earned: r.amount('earned'),
      slashedTotal: r.amount('slashedTotal'),
    };
  });
}

export function encodeReputation(x: Reputation): Uint8Array {
  return encode([x.counts, x.epoch]);
}

export function decodeReputation(bytes: Uint8Array): Reputation {
  return decodeStateValue(bytes, 'Reputation', 64 * 1024, (v) => {
    const r = Reader.array(v, 'Reputation', 2);
    const counts = r.list('counts', 64 * 64, (x, i) => Reader.array([x], 'Reputation', 1).u32(`counts[${i}]`));
    return { counts, epoch: r.u32('epoch') };
  });
}

// ── typed access ────────────────────────────────────────────────────────────────────────────────

const getTask = stateLoader(decodeTask);
const getRound = stateLoader(decodeRound);
const getAssignment = stateLoader(decodeAssignment);
const getAnnotator = stateLoader(decodeAnnotator);
const getReputation = stateLoader(decodeReputation);

export const loadTask = (s: StateReader, id: number): Task | null => getTask(s, taskKey(id));
export const saveTask = (v: StateView, t: Task): void => v.set(taskKey(t.id), encodeTask(t));
/** The item (body and outcome); seats' answers are -1 here (see `loadItemWithAnswers`). */
export function loadItem(s: StateReader, task: number, index: number): Item | null {
  const body = s.get(itemKey(task, index));
  if (body === undefined) return null;
  const result = s.get(itemResultKey(task, index));
  return { ...decodeItemBody(body), ...(result === undefined ? OPEN_RESULT : decodeItemResult(result)) };
}

/** The item with each seat's revealed answer (-1 where none was revealed). */
export function loadItemWithAnswers(s: StateReader, task: number, index: number): Item | null {
  const item = loadItem(s, task, index);
  if (item === null) return null;
  return { ...item, seats: item.seats.map((seat) => ({ ...seat, answer: loadAnswer(s, task, index, seat.annotator) })) };
}

/** Revealed answers of an item's seats by the seats' key ids (-1 where none), through the fast path when the reader has one. */
export function loadAnswersById(s: StateReader, task: number, item: number, seatIds: readonly string[]): number[] {
  const head = new Uint8Array(9);
  head[0] = PREFIX.answer;
  writeU32(head, 1, task);
  writeU32(head, 5, item);
  const prefix = keyId(head);
  return seatIds.map((id) => {
    const bytes = s.getById !== undefined ? s.getById(prefix + id) : s.get(keyFromId(prefix + id));
    return bytes === undefined ? -1 : readU32(bytes, 0);
  });
}

export function loadAnswer(s: StateReader, task: number, item: number, annotator: Uint8Array): number {
  const bytes = s.get(answerKey(task, item, annotator));
  return bytes === undefined ? -1 : readU32(bytes, 0);
}

export function saveAnswer(v: StateView, task: number, item: number, annotator: Uint8Array, answer: number): void {
  const value = new Uint8Array(4);
  writeU32(value, 0, answer);
  v.set(answerKey(task, item, annotator), value);
}
/** Writes the item's body and outcome. */
export function saveItem(v: StateView, task: number, index: number, i: Item): void {
  v.set(itemKey(task, index), encodeItemBody(i));
  saveItemResult(v, task, index, i);
}

/** Writes only the item's outcome (status, label, confidence, final height, dispute). */
export function saveItemResult(v: StateView, task: number, index: number, i: Item): void {
  if (i.status === ITEM_STATUS.open && i.disputeRound === -1 && !i.disputed) v.delete(itemResultKey(task, index));
  else v.set(itemResultKey(task, index), encodeItemResult(i));
}
export const loadRound = (s: StateReader, task: number, round: number): Round | null => getRound(s, roundKey(task, round));
export const saveRound = (v: StateView, x: Round): void => v.set(roundKey(x.task, x.round), encodeRound(x));
export const loadAssignment = (s: StateReader, task: number, round: number, who: Uint8Array): Assignment | null =>
  getAssignment(s, assignmentKey(task, round, who));
export const saveAssignment = (v: StateView, task: number, round: number, who: Uint8Array, a: Assignment): void =>
  v.set(assignmentKey(task, round, who), encodeAssignment(a));
export const loadAnnotator = (s: StateReader, who: Uint8Array): Annotator | null => getAnnotator(s, annotatorKey(who));
export const saveAnnotator = (v: StateView, who: Uint8Array, a: Annotator): void => v.set(annotatorKey(who), encodeAnnotator(a));
export const loadReputationRaw = (s: StateReader, who: Uint8Array, classes: number): Reputation | null =>
  getReputation(s, reputationKey(who, classes));
export const saveReputation = (v: StateView, who: Uint8Array, classes: number, x: Reputation): void =>
  v.set(reputationKey(who, classes), encodeReputation(x));

/** The item index at position `i` of round `round` (round 0 holds every item in order). */
export function roundItemAt(state: StateReader, task: number, round: Round, i: number): number {
  if (round.round === 0) return i;
  const bytes = state.get(roundItemKey(task, round.round, i));
  assert(bytes !== undefined, `round item ${task}/${round.round}/${i} missing`);
  return decodeStateValue(bytes, 'RoundItem', 16, (v) => Reader.array(v, 'RoundItem', 1).u32('item'));
}

export function saveRoundItem(view: StateView, task: number, round: number, i: number, item: number): void {
  view.set(roundItemKey(task, round, i), encode([item]));
}

// ── counters ────────────────────────────────────────────────────────────────────────────────────

export function loadCounter(state: StateReader, name: string): number {
  const bytes = state.get(globalKey(name));
  return bytes === undefined ? 0 : decodeStateValue(bytes, 'Counter', 16, (v) => Reader.array(v, 'Counter', 1).u32('n'));
}

export function saveCounter(view: StateView, name: string, n: number): void {
  view.set(globalKey(name), encode([n]));
}

export function loadAmount(state: StateReader, name: string): bigint {
  const bytes = state.get(globalKey(name));
  return bytes === undefined
    ? 0n
    : decodeStateValue(bytes, 'Amount', 64, (v) => Reader.array(v, 'Amount', 1).amount('n'));
}

export function saveAmount(view: StateView, name: string, n: bigint): void {
  view.set(globalKey(name), encode([amountToBytes(n)]));
}
