/**
 * Executes labelling transactions. Each handler either succeeds (writes + events) or throws
 * TxFailure with a receipt code; applyTx runs it in a forked view, so a failure leaves nothing.
 * See docs/spec/labelling.md §Transactions.
 */
import { AMOUNT_MAX, addressToString, encode, equalBytes, merkleRoot, verifyMerkleProof, writeU32 } from '../../lib/index.ts';
import type { StateReader, StateView } from '../../state/index.ts';
import type { ChainEvent } from '../block.ts';
import { TxFailure } from '../errors.ts';
import type { TxBody } from '../tx.ts';
import { credit, debit, stake, unstake } from './annotators.ts';
import type { LabellingParams } from './params.ts';
import { QUEUE, queuePush } from './queue.ts';
import {
  ITEM_STATUS,
  ROUND_STAGE,
  SCHEMA,
  TASK_STATUS,
  loadAssignment,
  loadCounter,
  loadItem,
  loadItemWithAnswers,
  loadRound,
  loadTask,
  saveAnswer,
  saveAssignment,
  saveCounter,
  saveItem,
  saveItemResult,
  saveRound,
  saveRoundItem,
  saveTask,
  type Task,
  type TaskSpec,
} from './records.ts';
import type { GoldEntry, LabelEntry, LabellingBody, NewItem } from './txs.ts';

export type LabellingTxEnv = { height: number; params: LabellingParams };

const Q16 = 65_536;
/**
 * Most seats one annotator may hold in one round: one reveal transaction opens all of them, and
 * 2,000 entries (≤ 40 bytes each) fit well inside the default 128 KiB transaction limit.
 */
export const SEATS_PER_ANNOTATOR_CEILING = 2_000;
/** Classes of a single-choice schema, labels of a multi-label one. */
export const CLASSES_MAX = { [SCHEMA.single]: 64, [SCHEMA.multi]: 16 } as const;

const ev = (type: string, attributes: Array<readonly [string, string]>): ChainEvent => ({ type, attributes });

export function executeLabelling(view: StateView, sender: Uint8Array, body: LabellingBody, env: LabellingTxEnv): ChainEvent[] {
  switch (body.kind) {
    case 'taskCreate':
      return createTask(view, sender, body.spec, env);
    case 'taskAddItems':
      return addItems(view, sender, body.task, body.items, env);
    case 'taskFund':
      return fundTask(view, sender, body.task, env);
    case 'taskCancel':
      return cancelTask(view, sender, body.task);
    case 'annotatorStake': {
      const a = stake(view, sender, body.amount, env.params);
      return [ev('annotator_staked', [['annotator', addressToString(sender)], ['amount', body.amount.toString()], ['stake', a.stake.toString()]])];
    }
    case 'annotatorUnstake': {
      const release = unstake(view, sender, body.amount, env.height, env.params);
      return [ev('annotator_unstaked', [['annotator', addressToString(sender)], ['amount', body.amount.toString()], ['releaseHeight', String(release)]])];
    }
    case 'labelCommit':
      return commitLabels(view, sender, body.task, body.round, body.root, body.count, env);
    case 'labelReveal':
      return revealLabels(view, sender, body.task, body.round, body.entries, env);
    case 'goldReveal':
      return revealGold(view, sender, body.task, body.goldCount, body.entries, env);
    case 'dispute':
      return openDispute(view, sender, body.task, body.item, body.bond, env);
  }
}

/** Escrow a task needs: every seat's reward, bonus and fee budget, at the most answers per item. */
export function escrowFor(spec: TaskSpec): bigint {
  return BigInt(spec.itemCount) * BigInt(spec.answersMax) * (spec.rewardPerAnswer + spec.bonusPerAnswer + spec.feePerSeat);
}

export function validateSpec(spec: TaskSpec, params: LabellingParams): void {
  if (spec.itemCount === 0) throw new TxFailure('TASK_NO_ITEMS');
  if (spec.itemCount > params.itemsPerTaskMax) throw new TxFailure('TASK_TOO_MANY_ITEMS');
  if (spec.classes < 2 || spec.classes > CLASSES_MAX[spec.schema]) throw new TxFailure('TASK_BAD_CLASSES');
  if (spec.answersMin < 1 || spec.answersMin > spec.answersMax || spec.answersMax > params.answersCeiling) {
    throw new TxFailure('TASK_BAD_ANSWERS');
  }
  for (const w of [spec.commitWindow, spec.revealWindow, spec.challengeWindow]) {
    if (w < 1 || w > params.windowBlocksMax) throw new TxFailure('TASK_BAD_WINDOW');
  }
  // Unbonding must outlast a round and its challenge window, or slashes could miss leaving stake.
  if (spec.commitWindow + spec.revealWindow + spec.challengeWindow >= params.annotatorUnbondingBlocks) throw new TxFailure('TASK_BAD_WINDOW');
  if (spec.confidenceQ16 < Q16 / 2 || spec.confidenceQ16 > Q16) throw new TxFailure('TASK_BAD_CONFIDENCE');
  if (spec.seatsPerAnnotatorMax < 1 || spec.seatsPerAnnotatorMax > SEATS_PER_ANNOTATOR_CEILING) throw new TxFailure('TASK_BAD_SEATS');
  if (spec.annotatorStake < params.annotatorStakeMin) throw new TxFailure('TASK_STAKE_TOO_LOW');
  if (escrowFor(spec) > AMOUNT_MAX / 2n) throw new TxFailure('TASK_ESCROW_OVERFLOW');
}

function createTask(view: StateView, requester: Uint8Array, spec: TaskSpec, env: LabellingTxEnv): ChainEvent[] {
  validateSpec(spec, env.params);
  const id = loadCounter(view, 'tasks') + 1;
  saveCounter(view, 'tasks', id);
  const task: Task = {
    id,
    requester,
    spec,
    status: TASK_STATUS.created,
    itemsAdded: 0,
    escrow: 0n,
    rounds: 0,
    itemsOpen: 0,
    itemsLowConfidence: 0,
    disputesOpen: 0,
    lastFinalHeight: 0,
    paid: 0n,
    slashed: 0n,
  };
  saveTask(view, task);
  return [ev('task_created', [['task', String(id)], ['requester', addressToString(requester)], ['escrow', escrowFor(spec).toString()]])];
}

function ownTask(view: StateView, sender: Uint8Array, id: number): Task {
  const task = loadTask(view, id);
  if (task === null) throw new TxFailure('TASK_NOT_FOUND');
  if (!equalBytes(task.requester, sender)) throw new TxFailure('TASK_NOT_REQUESTER');
  return task;
}

/** Funded tasks with every item added start at the next block's end, with that block's seed. */
function startWhenReady(view: StateView, task: Task, height: number): void {
  if (task.status === TASK_STATUS.funded && task.itemsAdded === task.spec.itemCount) queuePush(view, QUEUE.start, [task.id, height + 1]);
}

function addItems(view: StateView, sender: Uint8Array, id: number, items: NewItem[], env: LabellingTxEnv): ChainEvent[] {
  const task = ownTask(view, sender, id);
  if (task.status !== TASK_STATUS.created && task.status !== TASK_STATUS.funded) throw new TxFailure('TASK_WRONG_STATUS');
  if (items.length === 0) throw new TxFailure('TASK_NO_ITEMS');
  if (task.itemsAdded + items.length > task.spec.itemCount) throw new TxFailure('TASK_ITEMS_OVERFLOW');
  items.forEach((item, i) => {
    saveItem(view, id, task.itemsAdded + i, {
      contentHash: item.contentHash,
      uri: item.uri,
      status: ITEM_STATUS.open,
      seats: [],
      gold: -1,
      label: -1,
      confidenceQ16: 0,
      finalHeight: 0,
      disputeRound: -1,
      disputed: false,
    });
  });
  const updated = { ...task, itemsAdded: task.itemsAdded + items.length };
  saveTask(view, updated);
  startWhenReady(view, updated, env.height);
  return [ev('task_items_added', [['task', String(id)], ['added', String(items.length)], ['total', String(updated.itemsAdded)]])];
}

function fundTask(view: StateView, sender: Uint8Array, id: number, env: LabellingTxEnv): ChainEvent[] {
  const task = ownTask(view, sender, id);
  if (task.status !== TASK_STATUS.created) throw new TxFailure('TASK_WRONG_STATUS');
  const escrow = escrowFor(task.spec);
  debit(view, sender, escrow);
  const funded = { ...task, status: TASK_STATUS.funded, escrow };
  saveTask(view, funded);
  startWhenReady(view, funded, env.height);
  return [ev('task_funded', [['task', String(id)], ['escrow', escrow.toString()]])];
}

function cancelTask(view: StateView, sender: Uint8Array, id: number): ChainEvent[] {
  const task = ownTask(view, sender, id);
  if (task.status !== TASK_STATUS.created && task.status !== TASK_STATUS.funded) throw new TxFailure('TASK_WRONG_STATUS');
  credit(view, sender, task.escrow);
  saveTask(view, { ...task, status: TASK_STATUS.cancelled, escrow: 0n });
  return [ev('task_cancelled', [['task', String(id)], ['refund', task.escrow.toString()]])];
}

function labellingRound(view: StateView, taskId: number, round: number) {
  const task = loadTask(view, taskId);
  if (task === null) throw new TxFailure('TASK_NOT_FOUND');
  const r = loadRound(view, taskId, round);
  if (r === null) throw new TxFailure('LABEL_ROUND_NOT_FOUND');
  return { task, round: r };
}

function commitLabels(view: StateView, sender: Uint8Array, taskId: number, round: number, root: Uint8Array, count: number, env: LabellingTxEnv): ChainEvent[] {
  const { round: r } = labellingRound(view, taskId, round);
  if (r.stage !== ROUND_STAGE.commit || env.height > r.commitEnd) throw new TxFailure('LABEL_COMMIT_CLOSED');
  const a = loadAssignment(view, taskId, round, sender);
  if (a === null) throw new TxFailure('LABEL_NOT_ASSIGNED');
  if (a.commitRoot !== null) throw new TxFailure('LABEL_ALREADY_COMMITTED');
  if (count < 1 || count > a.items.length) throw new TxFailure('LABEL_BAD_COUNT');
  saveAssignment(view, taskId, round, sender, { ...a, commitRoot: root, commitCount: count });
  return [ev('labels_committed', [['task', String(taskId)], ['round', String(round)], ['annotator', addressToString(sender)], ['count', String(count)]])];
}

/**
 * The leaf an annotator commits for one label: u32 task ‖ u32 round ‖ annotator (20 bytes) ‖
 * u32 item ‖ u32 label ‖ salt, integers big-endian. Binding task, round and annotator means a
 * commitment cannot be copied.
 */
export function labelLeaf(task: number, round: number, annotator: Uint8Array, entry: LabelEntry): Uint8Array {
  const out = new Uint8Array(36 + entry.salt.length);
  writeU32(out, 0, task);
  writeU32(out, 4, round);
  out.set(annotator, 8);
  writeU32(out, 28, entry.item);
  writeU32(out, 32, entry.label);
  out.set(entry.salt, 36);
  return out;
}

export function labelValid(spec: TaskSpec, label: number): boolean {
  return spec.schema === SCHEMA.single ? label < spec.classes : label < 2 ** spec.classes;
}

function revealLabels(view: StateView, sender: Uint8Array, taskId: number, round: number, entries: LabelEntry[], env: LabellingTxEnv): ChainEvent[] {
  const { task, round: r } = labellingRound(view, taskId, round);
  if (r.stage >= ROUND_STAGE.closing || (r.stage === ROUND_STAGE.commit && env.height > r.revealEnd)) throw new TxFailure('LABEL_REVEAL_CLOSED');
  if (r.stage !== ROUND_STAGE.commit || env.height <= r.commitEnd) throw new TxFailure('LABEL_REVEAL_NOT_OPEN');
  const a = loadAssignment(view, taskId, round, sender);
  if (a === null) throw new TxFailure('LABEL_NOT_ASSIGNED');
  if (a.commitRoot === null) throw new TxFailure('LABEL_NOT_COMMITTED');
  if (a.revealed) throw new TxFailure('LABEL_ALREADY_REVEALED');
  if (entries.length !== a.commitCount) throw new TxFailure('LABEL_REVEAL_MISMATCH');
  if (!equalBytes(merkleRoot(entries.map((e) => labelLeaf(taskId, round, sender, e))), a.commitRoot)) {
    throw new TxFailure('LABEL_REVEAL_MISMATCH');
  }
  const assigned = new Set(a.items);
  const seen = new Set<number>();
  for (const e of entries) {
    if (!assigned.has(e.item)) throw new TxFailure('LABEL_ITEM_NOT_ASSIGNED');
    if (seen.has(e.item)) throw new TxFailure('LABEL_DUPLICATE_ITEM');
    seen.add(e.item);
    if (!labelValid(task.spec, e.label)) throw new TxFailure('LABEL_OUT_OF_RANGE');
  }
  // Every entry is one of this round's seats (the assignment lists them), so its item is open.
  for (const e of entries) saveAnswer(view, taskId, e.item, sender, e.label);
  saveAssignment(view, taskId, round, sender, { ...a, revealed: true });
  return [ev('labels_revealed', [['task', String(taskId)], ['round', String(round)], ['annotator', addressToString(sender)], ['count', String(entries.length)]])];
}

/** The leaf of one gold answer in the requester's gold tree. */
export function goldLeaf(item: number, label: number, salt: Uint8Array): Uint8Array {
  return encode(['gold', item, label, salt]);
}

function revealGold(view: StateView, sender: Uint8Array, taskId: number, goldCount: number, entries: GoldEntry[], env: LabellingTxEnv): ChainEvent[] {
  const task = ownTask(view, sender, taskId);
  if (task.status !== TASK_STATUS.labelling) throw new TxFailure('TASK_WRONG_STATUS');
  // Gold opens only once the first round's commits are in, so annotators cannot learn which items are gold.
  const first = loadRound(view, taskId, 0);
  if (first === null || first.stage === ROUND_STAGE.drawing || env.height <= first.commitEnd) throw new TxFailure('GOLD_NOT_OPEN');
  for (const e of entries) {
    if (!verifyMerkleProof(task.spec.goldRoot, goldLeaf(e.item, e.label, e.salt), e.index, goldCount, e.proof)) {
      throw new TxFailure('GOLD_BAD_PROOF');
    }
    if (e.item >= task.spec.itemCount || !labelValid(task.spec, e.label)) throw new TxFailure('LABEL_OUT_OF_RANGE');
    const item = loadItem(view, taskId, e.item);
    if (item === null) throw new TxFailure('LABEL_OUT_OF_RANGE');
    if (item.gold >= 0) throw new TxFailure('GOLD_ALREADY_REVEALED');
    if (item.status !== ITEM_STATUS.open) throw new TxFailure('GOLD_ITEM_CLOSED');
    saveItem(view, taskId, e.item, { ...item, gold: e.label });
  }
  return [ev('gold_revealed', [['task', String(taskId)], ['count', String(entries.length)]])];
}

function openDispute(view: StateView, sender: Uint8Array, taskId: number, itemIndex: number, bond: bigint, env: LabellingTxEnv): ChainEvent[] {
  const task = loadTask(view, taskId);
  if (task === null) throw new TxFailure('TASK_NOT_FOUND');
  const item = loadItemWithAnswers(view, taskId, itemIndex);
  if (item === null || item.status === ITEM_STATUS.open) throw new TxFailure('DISPUTE_NOT_FINAL');
  if (task.status !== TASK_STATUS.labelling && task.status !== TASK_STATUS.finalizing) throw new TxFailure('TASK_WRONG_STATUS');
  if (env.height > item.finalHeight + task.spec.challengeWindow) throw new TxFailure('DISPUTE_WINDOW_CLOSED');
  if (item.disputeRound >= 0 || item.disputed || item.gold >= 0) throw new TxFailure('DISPUTE_ALREADY');
  if (bond < env.params.disputeBondMin) throw new TxFailure('DISPUTE_BOND_TOO_LOW');
  debit(view, sender, bond);
  const revealed = item.seats.filter((s) => s.answer >= 0).length;
  const panel = Math.min(2 * revealed + 1, env.params.disputePanelMax);
  const round = task.rounds;
  saveRound(view, {
    task: taskId,
    round,
    itemCount: 1,
    seatsPerItem: panel,
    stage: ROUND_STAGE.drawing,
    cursor: 0,
    commitEnd: 0,
    revealEnd: 0,
    extendCount: 0,
    extendRound: -1,
    dispute: { challenger: sender, bond },
  });
  saveRoundItem(view, taskId, round, 0, itemIndex);
  saveItemResult(view, taskId, itemIndex, { ...item, disputeRound: round });
  saveTask(view, { ...task, rounds: task.rounds + 1, disputesOpen: task.disputesOpen + 1 });
  queuePush(view, QUEUE.draw, [taskId, round]);
  return [
    ev('dispute_opened', [
      ['task', String(taskId)],
      ['item', String(itemIndex)],
      ['round', String(round)],
      ['challenger', addressToString(sender)],
      ['bond', bond.toString()],
      ['panel', String(panel)],
    ]),
  ];
}

/**
 * Who pays a label transaction's fee: the task's escrow when the sender holds seats in that round
 * and its fee budget (seats × feePerSeat) has room; otherwise null (the sender pays).
 */
export function feeSponsor(view: StateReader, sender: Uint8Array, body: TxBody, fee: bigint): { task: Task; round: number } | null {
  if (body.kind !== 'labelCommit' && body.kind !== 'labelReveal') return null;
  const task = loadTask(view, body.task);
  if (task === null || task.status !== TASK_STATUS.labelling || task.escrow < fee) return null;
  const a = loadAssignment(view, body.task, body.round, sender);
  if (a === null || a.feeSpent + fee > BigInt(a.items.length) * task.spec.feePerSeat) return null;
  return { task, round: body.round };
}

/** Charges a sponsored fee to the task's escrow and the seat budget. */
export function chargeSponsor(view: StateView, sender: Uint8Array, sponsor: { task: Task; round: number }, fee: bigint): void {
  const a = loadAssignment(view, sponsor.task.id, sponsor.round, sender);
  if (a === null) throw new TxFailure('LABEL_NOT_ASSIGNED');
  saveAssignment(view, sponsor.task.id, sponsor.round, sender, { ...a, feeSpent: a.feeSpent + fee });
  saveTask(view, { ...sponsor.task, escrow: sponsor.task.escrow - fee });
}

