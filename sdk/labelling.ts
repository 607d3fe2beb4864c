/**
 * Client side of the labelling protocol (docs/spec/labelling.md §Transactions): builders for the ten
 * transaction bodies, the commit/reveal and gold-tree helpers, a task spec from human units, and
 * fee and batch sizing. The commit leaves and the gold leaves are the runtime's own (`labelLeaf`,
 * `goldLeaf`), so what is built here is exactly what the chain recomputes.
 *
 * Salts come from `crypto.getRandomValues`: a commit hides its labels only while its salts are
 * secret and unguessable, and the caller must keep them (with the labels) until the reveal.
 */
import { ChainError, U32_MAX, encode, merkleProof, merkleRoot, parseTag, utf8ToBytes, type Encodable } from '../lib/index.ts';
import {
  CLASSES_MAX,
  GOLD_PER_TX_MAX,
  ITEMS_PER_TX_MAX,
  ITEM_URI_BYTES_MAX,
  LABELS_PER_TX_MAX,
  SCHEMA,
  TASK_METADATA_BYTES_MAX,
  encodeTx,
  goldLeaf,
  labelLeaf,
  type GoldEntry,
  type LabelEntry,
  type LabellingBody,
  type NewItem,
  type TaskSpec,
} from '../runtime/index.ts';

export type LabellingInputErrorType = { code: 'LABELLING_BAD_INPUT'; field: string; reason: string };
/** Input a labelling builder cannot turn into a valid transaction. */
export class LabellingInputError extends ChainError<LabellingInputErrorType> {}

function bad(field: string, reason: string): LabellingInputError {
  return new LabellingInputError({ code: 'LABELLING_BAD_INPUT', field, reason }, `${field}: ${reason}`);
}

/** Bytes of every salt the SDK draws (the chain accepts 16 to 32). */
export const SALT_BYTES = 32;
const Q16 = 65_536;

export type LabelChoice = { item: number; label: number };
/** One gold answer and its salt: what the requester keeps secret until it reveals the answer. */
export type GoldSecret = { item: number; label: number; salt: Uint8Array };

export function randomSalt(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(SALT_BYTES));
}

function u32(field: string, n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > U32_MAX) throw bad(field, `must be an integer from 0 to ${U32_MAX}`);
  return n;
}

function positive(field: string, amount: bigint): bigint {
  if (amount <= 0n) throw bad(field, 'must be more than zero');
  return amount;
}

// ── bodies ──────────────────────────────────────────────────────────────────────────────────────

export function buildTaskCreate(spec: TaskSpec): LabellingBody {
  return { kind: 'taskCreate', spec };
}

export function buildTaskAddItems(task: number, items: NewItem[]): LabellingBody {
  if (items.length === 0 || items.length > ITEMS_PER_TX_MAX) throw bad('items', `1 to ${ITEMS_PER_TX_MAX} items per transaction`);
  items.forEach((item, i) => {
    if (item.contentHash.length !== 32) throw bad(`items[${i}].contentHash`, 'must be 32 bytes');
    if (utf8ToBytes(item.uri).length > ITEM_URI_BYTES_MAX) throw bad(`items[${i}].uri`, `at most ${ITEM_URI_BYTES_MAX} bytes`);
  });
  return { kind: 'taskAddItems', task: u32('task', task), items };
}

export function buildTaskFund(task: number): LabellingBody {
  return { kind: 'taskFund', task: u32('task', task) };
}

export function buildTaskCancel(task: number): LabellingBody {
  return { kind: 'taskCancel', task: u32('task', task) };
}

export function buildAnnotatorStake(amount: bigint): LabellingBody {
  return { kind: 'annotatorStake', amount: positive('amount', amount) };
}

export function buildAnnotatorUnstake(amount: bigint): LabellingBody {
  return { kind: 'annotatorUnstake', amount: positive('amount', amount) };
}

export function buildDispute(task: number, item: number, bond: bigint): LabellingBody {
  return { kind: 'dispute', task: u32('task', task), item: u32('item', item), bond: positive('bond', bond) };
}

/** The root a commit carries: the Merkle root over the entries' `labelLeaf`s, in entry order. */
export function labelCommitRoot(task: number, round: number, annotator: Uint8Array, entries: readonly LabelEntry[]): Uint8Array {
  return merkleRoot(entries.map((e) => labelLeaf(task, round, annotator, e)));
}

/**
 * A commit of `labels` by `annotatorAddress` (the sender's address) in a round, with fresh salts.
 * Keep `entries` (in this order) until the reveal: `buildLabelReveal(task, round, entries)`.
 * Items must be distinct: the chain refuses a reveal that names an item twice.
 */
export function buildLabelCommit(
  task: number,
  round: number,
  annotatorAddress: Uint8Array,
  labels: readonly LabelChoice[],
): { body: LabellingBody; entries: LabelEntry[] } {
  if (labels.length === 0 || labels.length > LABELS_PER_TX_MAX) throw bad('labels', `1 to ${LABELS_PER_TX_MAX} labels per commit`);
  const seen = new Set<number>();
  const entries = labels.map((l, i) => {
    const item = u32(`labels[${i}].item`, l.item);
    if (seen.has(item)) throw bad(`labels[${i}].item`, `item ${item} appears twice`);
    seen.add(item);
    return { item, label: u32(`labels[${i}].label`, l.label), salt: randomSalt() };
  });
  const root = labelCommitRoot(u32('task', task), u32('round', round), annotatorAddress, entries);
  return { body: { kind: 'labelCommit', task, round, root, count: entries.length }, entries };
}

export function buildLabelReveal(task: number, round: number, entries: LabelEntry[]): LabellingBody {
  if (entries.length === 0 || entries.length > LABELS_PER_TX_MAX) throw bad('entries', `1 to ${LABELS_PER_TX_MAX} entries per reveal`);
  return { kind: 'labelReveal', task: u32('task', task), round: u32('round', round), entries };
}

// ── gold ────────────────────────────────────────────────────────────────────────────────────────

/** Gold answers with fresh salts. */
export function goldSecrets(gold: readonly LabelChoice[]): GoldSecret[] {
  const seen = new Set<number>();
  return gold.map((g, i) => {
    const item = u32(`gold[${i}].item`, g.item);
    if (seen.has(item)) throw bad(`gold[${i}].item`, `item ${item} appears twice`);
    seen.add(item);
    return { item, label: u32(`gold[${i}].label`, g.label), salt: randomSalt() };
  });
}

/**
 * The gold tree over `entries` (leaf i is `goldLeaf` of entry i): the root a task commits to in its
 * spec, and each entry's audit path for the reveal.
 */
export function goldTree(entries: readonly GoldSecret[]): { root: Uint8Array; proofs: Uint8Array[][] } {
  if (entries.length === 0) throw bad('gold', 'at least one gold answer');
  const leaves = entries.map((e) => goldLeaf(e.item, e.label, e.salt));
  return { root: merkleRoot(leaves), proofs: leaves.map((_, i) => merkleProof(leaves, i)) };
}

/**
 * A gold reveal of the entries at `positions` (default: all) of the tree over `secrets`, which must
 * be the whole list the task's gold root was built from, in the same order.
 */
export function buildGoldReveal(task: number, secrets: readonly GoldSecret[], positions?: readonly number[]): LabellingBody {
  const { proofs } = goldTree(secrets);
  const chosen = positions ?? secrets.map((_, i) => i);
  if (chosen.length === 0 || chosen.length > GOLD_PER_TX_MAX) throw bad('positions', `1 to ${GOLD_PER_TX_MAX} gold answers per reveal`);
  const entries: GoldEntry[] = chosen.map((index) => {
    const secret = secrets[index];
    if (secret === undefined) throw bad('positions', `no gold answer at position ${index}`);
    return { ...secret, index, proof: proofs[index] as Uint8Array[] };
  });
  return { kind: 'goldReveal', task: u32('task', task), goldCount: secrets.length, entries };
}

// ── task spec in human units ────────────────────────────────────────────────────────────────────

/** A decimal confidence ("0.9", 0.9) in Q16, rounded to nearest (0.9 → 58,982); from 0.5 to 1. */
export function parseConfidence(value: string | number): number {
  const text = typeof value === 'number' ? String(value) : value;
  const m = /^(0|1)(?:\.([0-9]{1,9}))?$/.exec(text);
  if (m === null) throw bad('confidence', `"${text.slice(0, 40)}" is not a decimal from 0.5 to 1`);
  const fraction = m[2] ?? '';
  const scale = 10 ** fraction.length;
  const numerator = Number(m[1]) * scale + (fraction === '' ? 0 : Number(fraction));
  const q = Math.floor((numerator * Q16 + Math.floor(scale / 2)) / scale);
  if (q < Q16 / 2 || q > Q16) throw bad('confidence', 'must be from 0.5 to 1');
  return q;
}

/** The fields of TaskSpecInput, for callers that check a file for unknown keys. */
export const TASK_SPEC_INPUT_FIELDS = [
  'schema',
  'classes',
  'itemCount',
  'answersMin',
  'answersMax',
  'rewardPerAnswer',
  'bonusPerAnswer',
  'annotatorStake',
  'commitWindow',
  'revealWindow',
  'challengeWindow',
  'confidence',
  'feePerSeat',
  'seatsPerAnnotatorMax',
  'metadata',
] as const;

/**
 * What a requester writes (docs/cli.md §Task spec): amounts in TAG as decimal strings, the schema
 * by name, confidence as a decimal. `goldRoot` is filled in from the gold answers, if any.
 */
export type TaskSpecInput = {
  schema: 'single' | 'multi';
  classes: number;
  itemCount: number;
  answersMin: number;
  answersMax: number;
  rewardPerAnswer: string;
  bonusPerAnswer?: string;
  annotatorStake: string;
  commitWindow: number;
  revealWindow: number;
  challengeWindow: number;
  confidence: string | number;
  feePerSeat: string;
  seatsPerAnnotatorMax: number;
  metadata?: string;
};

export function taskSpecFromInput(input: TaskSpecInput, goldRoot: Uint8Array | null): TaskSpec {
  if (input.schema !== 'single' && input.schema !== 'multi') throw bad('schema', 'must be "single" or "multi"');
  const schema = input.schema === 'single' ? SCHEMA.single : SCHEMA.multi;
  const classes = u32('classes', input.classes);
  if (classes < 2 || classes > CLASSES_MAX[schema]) throw bad('classes', `must be from 2 to ${CLASSES_MAX[schema]} for schema ${input.schema}`);
  const metadata = input.metadata ?? '';
  if (utf8ToBytes(metadata).length > TASK_METADATA_BYTES_MAX) throw bad('metadata', `at most ${TASK_METADATA_BYTES_MAX} bytes`);
  const tag = (field: string, text: string | undefined): bigint => {
    if (typeof text !== 'string') throw bad(field, 'must be a TAG amount as a string, e.g. "1.5"');
    return parseTag(text);
  };
  return {
    schema,
    classes,
    itemCount: u32('itemCount', input.itemCount),
    answersMin: u32('answersMin', input.answersMin),
    answersMax: u32('answersMax', input.answersMax),
    rewardPerAnswer: tag('rewardPerAnswer', input.rewardPerAnswer),
    bonusPerAnswer: tag('bonusPerAnswer', input.bonusPerAnswer ?? '0'),
    annotatorStake: tag('annotatorStake', input.annotatorStake),
    commitWindow: u32('commitWindow', input.commitWindow),
    revealWindow: u32('revealWindow', input.revealWindow),
    challengeWindow: u32('challengeWindow', input.challengeWindow),
    confidenceQ16: parseConfidence(input.confidence),
    goldRoot: goldRoot ?? new Uint8Array(32),
    feePerSeat: tag('feePerSeat', input.feePerSeat),
    seatsPerAnnotatorMax: u32('seatsPerAnnotatorMax', input.seatsPerAnnotatorMax),
    metadata,
  };
}

// ── sizing ──────────────────────────────────────────────────────────────────────────────────────

/** The chain's fee schedule, as served in `GET /v1/labelling/params` (`fees`). */
export type FeeSchedule = { baseFee: bigint; perByteFee: bigint; txBytesMax: number };

const SIGNATURE_AND_FRAMING_BYTES = 64 + 16;

/**
 * An upper bound of the signed size of a transaction carrying `body` on chain `chainId`: the
 * encoding with the widest nonce and a large fee ceiling, plus the signature and its framing.
 */
export function signedSizeBound(chainId: string, body: LabellingBody): number {
  const probe = encodeTx({ chainId, sender: new Uint8Array(32), nonce: U32_MAX, maxFee: 10n ** 30n, body });
  return probe.length + SIGNATURE_AND_FRAMING_BYTES;
}

/** A fee ceiling that covers the fee of `body` under `fees` (the fee charged is the exact one). */
export function maxFeeFor(chainId: string, body: LabellingBody, fees: FeeSchedule): bigint {
  return fees.baseFee + fees.perByteFee * BigInt(signedSizeBound(chainId, body));
}

/** Fixed part of an add-items transaction besides its items (chain id, key, nonce, fee, signature…). */
const ADD_ITEMS_OVERHEAD_BYTES = 256;

/**
 * Splits items into add-items batches of at most ITEMS_PER_TX_MAX items whose transactions fit in
 * `txBytesMax`. Order is kept: the chain numbers items in the order they are added.
 */
export function batchItems(items: readonly NewItem[], txBytesMax: number): NewItem[][] {
  const budget = txBytesMax - ADD_ITEMS_OVERHEAD_BYTES - 64;
  const batches: NewItem[][] = [];
  let current: NewItem[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = encode([item.contentHash, item.uri] as Encodable[]).length;
    if (size > budget) throw bad('items', `an item of ${size} bytes cannot fit in a transaction of ${txBytesMax} bytes`);
    if (current.length === ITEMS_PER_TX_MAX || bytes + size > budget) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
