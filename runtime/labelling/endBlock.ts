/**
 * The labelling protocol's per-block work, run after a block's transactions (docs/spec/labelling.md
 * §Per-block logic), in this order:
 *   1. release unbonded annotator stake due at this height;
 *   2. start funded tasks (round 0) queued before this block;
 *   3. draw seats for queued rounds (capped by `seatDrawsPerBlockMax`, the rest waits);
 *   4. close rounds whose reveal window ended (capped by `itemsPerBlockMax` items): aggregate,
 *      finalize / extend / mark low-confidence, pay, slash, mint, update reputations; settle disputes;
 *   5. finish tasks whose challenge window is over (refund unused escrow).
 * Everything iterates queues, lists and arrays in index order: no unordered iteration, no floats.
 */
import { addressToString, assert, equalBytes, U32_MAX } from '../../lib/index.ts';
import { keyId, loadSupply, saveSupply, type StateView } from '../../state/index.ts';
import type { ChainEvent } from '../block.ts';
import { aggregate, aggregateMultiLabel, type AggregateConfig, type AnnotatorPrior, type ItemResult } from './aggregate.ts';
import {
  COUNT_UNIT,
  TREASURY_ADDRESS,
  credit,
  epochOf,
  loadReputation,
  onProbation,
  quality,
  releaseUnbonded,
  slashRecord,
  storeAnnotator,
  storeReputation,
} from './annotators.ts';
import { loadLabellingParams, type LabellingParams } from './params.ts';
import { QUEUE, SCHEDULE, queuePeek, queuePop, queuePush, schedule, takeScheduled } from './queue.ts';
import {
  ITEM_STATUS,
  ROUND_STAGE,
  SCHEMA,
  SEATS_PER_ITEM_MAX,
  TASK_STATUS,
  loadAmount,
  loadAnnotator,
  loadAssignment,
  loadItem,
  loadAnswersById,
  loadItemWithAnswers,
  loadRound,
  loadTask,
  roundItemAt,
  saveAmount,
  saveAssignment,
  saveItem,
  saveItemResult,
  saveRound,
  saveRoundItem,
  saveTask,
  type Annotator,
  type Assignment,
  type Item,
  type Reputation,
  type Round,
  type Seat,
  type Task,
} from './records.ts';
import { addressAt, drawAnnotator } from './sampler.ts';

export type LabellingBlockEnv = { height: number; seed: Uint8Array };

const Q16 = 65_536;
const Q16n = 65_536n;
/** Draw attempts per seat before the seat is left empty (no eligible annotator found). */
export const DRAW_ATTEMPTS = 16;
/** Seats added per item by an extension round. */
export const EXTENSION_SEATS = 2;

/**
 * Map id of an address (a latin1 string). Seats closed in a chunk carry theirs (`IdSeat.id`),
 * computed once when the chunk is loaded.
 */
const idOf = (address: Uint8Array): string => keyId(address);

type IdSeat = Seat & { id: string };
type IdItem = Omit<Item, 'seats'> & { seats: IdSeat[] };

type Ctx = { view: StateView; height: number; seed: Uint8Array; params: LabellingParams; events: ChainEvent[] };

const ev = (type: string, attributes: Array<readonly [string, string]>): ChainEvent => ({ type, attributes });

export function labellingEndBlock(view: StateView, env: LabellingBlockEnv): ChainEvent[] {
  const ctx: Ctx = { view, height: env.height, seed: env.seed, params: loadLabellingParams(view), events: [] };
  releaseUnbondings(ctx);
  startTasks(ctx);
  drawSeats(ctx);
  for (const entry of takeScheduled(view, SCHEDULE.close, ctx.height)) queuePush(view, QUEUE.close, entry as [number, number]);
  closeRounds(ctx);
  for (const entry of takeScheduled(view, SCHEDULE.done, ctx.height)) {
    const task = loadTask(view, (entry as [number])[0]);
    if (task !== null && task.status === TASK_STATUS.finalizing && task.disputesOpen === 0) finishTask(ctx, task);
  }
  return ctx.events;
}

function releaseUnbondings(ctx: Ctx): void {
  for (const entry of takeScheduled(ctx.view, SCHEDULE.unbond, ctx.height)) {
    const who = (entry as [Uint8Array])[0];
    const released = releaseUnbonded(ctx.view, who, ctx.height, ctx.params);
    if (released > 0n) ctx.events.push(ev('annotator_unbonded', [['annotator', addressToString(who)], ['amount', released.toString()]]));
  }
}

function startTasks(ctx: Ctx): void {
  for (;;) {
    const head = queuePeek(ctx.view, QUEUE.start) as [number, number] | null;
    if (head === null || head[1] > ctx.height) return;
    queuePop(ctx.view, QUEUE.start);
    const task = loadTask(ctx.view, head[0]);
    if (task === null || task.status !== TASK_STATUS.funded) continue; // cancelled in the meantime
    saveRound(ctx.view, newRound(task.id, 0, task.spec.itemCount, task.spec.answersMin));
    saveTask(ctx.view, { ...task, status: TASK_STATUS.labelling, rounds: 1, itemsOpen: task.spec.itemCount });
    queuePush(ctx.view, QUEUE.draw, [task.id, 0]);
    ctx.events.push(ev('task_started', [['task', String(task.id)], ['items', String(task.spec.itemCount)]]));
  }
}

function newRound(task: number, round: number, itemCount: number, seatsPerItem: number): Round {
  return {
    task,
    round,
    itemCount,
    seatsPerItem,
    stage: ROUND_STAGE.drawing,
    cursor: 0,
    commitEnd: 0,
    revealEnd: 0,
    extendCount: 0,
    extendRound: -1,
    dispute: null,
  };
}

// ── seat drawing ────────────────────────────────────────────────────────────────────────────────

function drawSeats(ctx: Ctx): void {
  let budget = ctx.params.seatDrawsPerBlockMax;
  while (budget > 0) {
    const head = queuePeek(ctx.view, QUEUE.draw) as [number, number] | null;
    if (head === null) return;
    const [taskId, roundNo] = head;
    const task = loadTask(ctx.view, taskId);
    const round = loadRound(ctx.view, taskId, roundNo);
    assert(task !== null && round !== null, `draw: task ${taskId} round ${roundNo} missing`);
    const assignments = new Map<string, { who: Uint8Array; a: Assignment }>();
    let cursor = round.cursor;
    let seats = 0;
    while (cursor < round.itemCount && budget > 0) {
      const itemIndex = roundItemAt(ctx.view, taskId, round, cursor);
      const item = loadItem(ctx.view, taskId, itemIndex);
      assert(item !== null, `draw: item ${taskId}/${itemIndex} missing`);
      const ceiling = round.dispute === null ? task.spec.answersMax : SEATS_PER_ITEM_MAX;
      const want = Math.min(round.seatsPerItem, ceiling - item.seats.length);
      const added = [...item.seats];
      for (let s = 0; s < want; s++) {
        for (let attempt = 0; attempt < DRAW_ATTEMPTS; attempt++) {
          budget--;
          const who = drawEligible(ctx, task, round, added, assignments, itemIndex, added.length, attempt);
          if (who === null) continue;
          added.push({ annotator: who, round: roundNo, answer: -1 });
          const id = idOf(who);
          const entry = assignments.get(id) ?? { who, a: loadAssignment(ctx.view, taskId, roundNo, who) ?? emptyAssignment() };
          entry.a = { ...entry.a, items: [...entry.a.items, itemIndex] };
          assignments.set(id, entry);
          seats++;
          break;
        }
      }
      saveItem(ctx.view, taskId, itemIndex, { ...item, seats: added });
      cursor++;
    }
    for (const { who, a } of assignments.values()) saveAssignment(ctx.view, taskId, roundNo, who, a);
    if (cursor < round.itemCount) {
      saveRound(ctx.view, { ...round, cursor });
      return;
    }
    const commitEnd = ctx.height + task.spec.commitWindow;
    const revealEnd = commitEnd + task.spec.revealWindow;
    saveRound(ctx.view, { ...round, cursor: 0, stage: ROUND_STAGE.commit, commitEnd, revealEnd });
    schedule(ctx.view, SCHEDULE.close, revealEnd, [taskId, roundNo]);
    queuePop(ctx.view, QUEUE.draw);
    ctx.events.push(
      ev('round_drawn', [
        ['task', String(taskId)],
        ['round', String(roundNo)],
        ['seats', String(seats)],
        ['commitEnd', String(commitEnd)],
        ['revealEnd', String(revealEnd)],
      ]),
    );
  }
}

function emptyAssignment(): Assignment {
  return { items: [], commitRoot: null, commitCount: 0, revealed: false, feeSpent: 0n };
}

/**
 * One stake-weighted draw, or null if the drawn annotator may not take the seat: stake below the
 * task's requirement, the requester or the challenger, already seated on the item, or at the
 * task's per-round seat limit.
 */
function drawEligible(
  ctx: Ctx,
  task: Task,
  round: Round,
  seats: ReadonlyArray<{ annotator: Uint8Array }>,
  assignments: Map<string, { who: Uint8Array; a: Assignment }>,
  item: number,
  seat: number,
  attempt: number,
): Uint8Array | null {
  const index = drawAnnotator(ctx.view, ctx.seed, task.id, round.round, item, seat, attempt);
  if (index === null) return null;
  const who = addressAt(ctx.view, index);
  if (equalBytes(who, task.requester)) return null;
  if (round.dispute !== null && equalBytes(who, round.dispute.challenger)) return null;
  if (seats.some((s) => equalBytes(s.annotator, who))) return null;
  const a = loadAnnotator(ctx.view, who);
  if (a === null || a.stake < task.spec.annotatorStake) return null;
  const held = assignments.get(idOf(who))?.a.items.length ?? loadAssignment(ctx.view, task.id, round.round, who)?.items.length ?? 0;
  if (held >= task.spec.seatsPerAnnotatorMax) return null;
  return who;
}

// ── closing rounds ──────────────────────────────────────────────────────────────────────────────

function closeRounds(ctx: Ctx): void {
  let budget = ctx.params.itemsPerBlockMax;
  while (budget > 0) {
    const head = queuePeek(ctx.view, QUEUE.close) as [number, number] | null;
    if (head === null) return;
    const [taskId, roundNo] = head;
    let round = loadRound(ctx.view, taskId, roundNo);
    assert(round !== null, `close: round ${taskId}/${roundNo} missing`);
    const n = Math.min(budget, round.itemCount - round.cursor);
    const indices: number[] = [];
    for (let i = 0; i < n; i++) indices.push(roundItemAt(ctx.view, taskId, round, round.cursor + i));
    if (round.dispute !== null) settleDispute(ctx, round, indices[0] as number);
    else round = closeChunk(ctx, round, indices);
    budget -= Math.max(n, 1);
    const cursor = round.cursor + n;
    if (cursor < round.itemCount) {
      saveRound(ctx.view, { ...round, cursor });
      return;
    }
    saveRound(ctx.view, { ...round, cursor, stage: ROUND_STAGE.closed });
    queuePop(ctx.view, QUEUE.close);
    if (round.extendRound >= 0) queuePush(ctx.view, QUEUE.draw, [taskId, round.extendRound]);
    const task = loadTask(ctx.view, taskId);
    assert(task !== null, `close: task ${taskId} missing`);
    if (task.status === TASK_STATUS.labelling && task.itemsOpen === 0) {
      saveTask(ctx.view, { ...task, status: TASK_STATUS.finalizing });
      schedule(ctx.view, SCHEDULE.done, Math.max(ctx.height + 1, task.lastFinalHeight + task.spec.challengeWindow + 1), [taskId]);
    }
  }
}

function emissionKey(ctx: Ctx): string {
  return `emitted:${epochOf(ctx.height, ctx.params)}`;
}

/** Annotators touched while closing one chunk: loaded once, written once. */
class Ledger {
  private readonly ctx: Ctx;
  readonly annotators = new Map<string, { who: Uint8Array; a: Annotator; dirty: boolean }>();
  private readonly credits = new Map<string, { who: Uint8Array; amount: bigint }>();
  paid = 0n;
  slashed = 0n;
  minted = 0n;
  /** Room left under this epoch's emission cap; read on first use, written back on flush. */
  private emissionRoom: bigint | null = null;

  constructor(ctx: Ctx) {
    this.ctx = ctx;
  }

  /** Mints the per-label emission to `who`, within the epoch's cap (applied at flush). */
  emit(who: Uint8Array, id = idOf(who)): void {
    const { params } = this.ctx;
    if (this.emissionRoom === null) this.emissionRoom = params.emissionPerEpochMax - loadAmount(this.ctx.view, emissionKey(this.ctx));
    const amount = this.emissionRoom < params.emissionPerLabel ? (this.emissionRoom > 0n ? this.emissionRoom : 0n) : params.emissionPerLabel;
    if (amount === 0n) return;
    this.emissionRoom -= amount;
    this.minted += amount;
    this.credit(who, amount, id);
  }

  annotator(who: Uint8Array, id = idOf(who)): { who: Uint8Array; a: Annotator; dirty: boolean } {
    let entry = this.annotators.get(id);
    if (entry === undefined) {
      const a = loadAnnotator(this.ctx.view, who);
      assert(a !== null, `ledger: annotator ${id} missing`);
      entry = { who, a, dirty: false };
      this.annotators.set(id, entry);
    }
    return entry;
  }

  credit(who: Uint8Array, amount: bigint, id = idOf(who)): void {
    if (amount === 0n) return;
    const entry = this.credits.get(id) ?? { who, amount: 0n };
    entry.amount += amount;
    this.credits.set(id, entry);
  }

  /** Slashes up to `amount` (slashRecord: stake first, then unbonding entries). */
  slash(who: Uint8Array, amount: bigint, id = idOf(who)): bigint {
    const entry = this.annotator(who, id);
    const { annotator, taken } = slashRecord(entry.a, amount);
    entry.a = annotator;
    entry.dirty = true;
    this.slashed += taken;
    return taken;
  }

  flush(): void {
    for (const { who, a, dirty } of this.annotators.values()) if (dirty) storeAnnotator(this.ctx.view, who, a, this.ctx.params);
    for (const { who, amount } of this.credits.values()) credit(this.ctx.view, who, amount);
    if (this.minted > 0n) {
      const name = emissionKey(this.ctx);
      saveAmount(this.ctx.view, name, loadAmount(this.ctx.view, name) + this.minted);
      saveSupply(this.ctx.view, loadSupply(this.ctx.view) + this.minted);
    }
  }
}

type Outcome = 'final' | 'low' | 'extend';

function closeChunk(ctx: Ctx, round: Round, indices: readonly number[]): Round {
  const taskRecord = loadTask(ctx.view, round.task);
  assert(taskRecord !== null, `close: task ${round.task} missing`);
  let task = taskRecord;
  const spec = task.spec;
  const items: IdItem[] = indices.map((i) => {
    const item = loadItem(ctx.view, task.id, i);
    assert(item !== null, `close: item ${task.id}/${i} missing`);
    const ids = item.seats.map((seat) => idOf(seat.annotator));
    const answers = loadAnswersById(ctx.view, task.id, i, ids);
    return { ...item, seats: item.seats.map((seat, k) => ({ annotator: seat.annotator, round: seat.round, answer: answers[k] as number, id: ids[k] as string })) };
  });
  const repClasses = spec.schema === SCHEMA.single ? spec.classes : 2;
  const epoch = epochOf(ctx.height, ctx.params);
  const ledger = new Ledger(ctx);

  // Annotators in order of first appearance (items in round order, seats in seat order).
  const order: Uint8Array[] = [];
  const position = new Map<string, number>();
  for (const item of items) {
    for (const seat of item.seats) {
      const id = seat.id;
      if (!position.has(id)) {
        position.set(id, order.length);
        order.push(seat.annotator);
      }
    }
  }
  const reputations = order.map((who) => loadReputation(ctx.view, who, repClasses, epoch, ctx.params));
  const priors: AnnotatorPrior[] = order.map((who, i) => ({
    counts: (reputations[i] as Reputation).counts,
    probation: onProbation(ledger.annotator(who).a, ctx.params),
  }));
  const qualities = order.map((who, i) => quality(ledger.annotator(who).a, reputations[i] as Reputation, repClasses, ctx.params));
  const results = aggregateItems(ctx, spec.schema, spec.classes, items, position, priors);

  let finalized = 0;
  let low = 0;
  let extended = 0;
  let ext: Round | null = round.extendRound >= 0 ? loadRound(ctx.view, task.id, round.extendRound) : null;
  const repDeltas = reputations.map((r) => [...r.counts]);
  items.forEach((item, i) => {
    const result = results[i] as { label: number; confidenceQ16: number; posteriors: number[][] };
    const revealed = item.seats.filter((s) => s.answer >= 0).length;
    const drewNow = item.seats.some((s) => s.round === round.round);
    let outcome: Outcome;
    let label = result.label;
    let confidence = result.confidenceQ16;
    if (item.gold >= 0) {
      outcome = 'final';
      label = item.gold;
      confidence = Q16;
    } else if (confidence >= spec.confidenceQ16 && revealed >= spec.answersMin) outcome = 'final';
    else if (item.seats.length < spec.answersMax && drewNow) outcome = 'extend';
    else outcome = 'low';
    const index = indices[i] as number;
    if (outcome === 'extend') {
      if (ext === null) {
        ext = newRound(task.id, task.rounds, 0, EXTENSION_SEATS);
        task = { ...task, rounds: task.rounds + 1 };
      }
      saveRoundItem(ctx.view, task.id, ext.round, ext.itemCount, index);
      ext = { ...ext, itemCount: ext.itemCount + 1 };
      extended++;
      return;
    }
    const settled = settleItem(ctx, ledger, task, item, label, confidence, outcome, position, qualities);
    task = { ...task, escrow: task.escrow - settled.paid, paid: task.paid + settled.paid, slashed: task.slashed + settled.slashed };
    if (outcome === 'final') {
      finalized++;
      addReputation(spec.schema, spec.classes, item, label, result.posteriors, position, repDeltas);
    } else low++;
    saveItemResult(ctx.view, task.id, index, {
      ...item,
      status: outcome === 'final' ? ITEM_STATUS.final : ITEM_STATUS.lowConfidence,
      label,
      confidenceQ16: confidence,
      finalHeight: ctx.height,
    });
  });
  ledger.flush();
  order.forEach((who, i) => {
    const counts = boundCounts(repDeltas[i] as number[]);
    if (counts.some((c, k) => c !== (reputations[i] as Reputation).counts[k])) storeReputation(ctx.view, who, repClasses, { counts, epoch });
  });
  if (ext !== null) saveRound(ctx.view, ext);
  const closedNow = finalized + low;
  task = {
    ...task,
    itemsOpen: task.itemsOpen - closedNow,
    itemsLowConfidence: task.itemsLowConfidence + low,
    lastFinalHeight: closedNow > 0 ? ctx.height : task.lastFinalHeight,
  };
  saveTask(ctx.view, task);
  ctx.events.push(
    ev('round_closed', [
      ['task', String(task.id)],
      ['round', String(round.round)],
      ['items', String(items.length)],
      ['finalized', String(finalized)],
      ['lowConfidence', String(low)],
      ['extended', String(extended)],
      ['paid', ledger.paid.toString()],
      ['slashed', ledger.slashed.toString()],
      ['minted', ledger.minted.toString()],
    ]),
  );
  const extRound = ext;
  return extRound === null ? round : { ...round, extendRound: extRound.round, extendCount: extRound.itemCount };
}

function aggregationConfig(params: LabellingParams): AggregateConfig {
  return {
    iterations: params.emIterations,
    evidenceCapQ16: params.evidenceCapQ16,
    probationCapQ16: params.probationCapQ16,
    priorWeight: 4 * COUNT_UNIT,
    collapseGuardQ16: 16_384,
  };
}

/** Runs the aggregation for a chunk; multi-label combines the per-label results (mask, weakest label's confidence). */
function aggregateItems(
  ctx: Ctx,
  schema: number,
  classes: number,
  items: readonly IdItem[],
  position: Map<string, number>,
  priors: AnnotatorPrior[],
): Array<{ label: number; confidenceQ16: number; posteriors: number[][] }> {
  const config = aggregationConfig(ctx.params);
  const answersOf = (item: IdItem): Array<{ annotator: number; value: number }> =>
    item.seats.filter((s) => s.answer >= 0).map((s) => ({ annotator: position.get(s.id) as number, value: s.answer }));
  if (schema === SCHEMA.single) {
    const out = aggregate(
      classes,
      items.map((item) => ({ answers: answersOf(item).map((a) => ({ annotator: a.annotator, label: a.value })), gold: item.gold >= 0 ? item.gold : null })),
      priors,
      config,
    );
    return out.items.map((r: ItemResult) => ({ label: r.label, confidenceQ16: r.confidenceQ16, posteriors: [r.posteriorQ16] }));
  }
  const perLabel = aggregateMultiLabel(
    classes,
    items.map((item) => ({ answers: answersOf(item).map((a) => ({ annotator: a.annotator, mask: a.value })), gold: item.gold >= 0 ? item.gold : null })),
    Array.from({ length: classes }, () => priors),
    config,
  ).perLabel;
  return items.map((_, i) => {
    let mask = 0;
    let confidence = Q16;
    const posteriors: number[][] = [];
    for (let j = 0; j < classes; j++) {
      const r = (perLabel[j] as { items: ItemResult[] }).items[i] as ItemResult;
      if (r.label === 1) mask += 2 ** j;
      if (r.confidenceQ16 < confidence) confidence = r.confidenceQ16;
      posteriors.push(r.posteriorQ16);
    }
    return { label: mask, confidenceQ16: confidence, posteriors };
  });
}

/** Reputation totals stay below 2^34 count units (the aggregator accepts up to 2^36): past that, every count halves. */
const REPUTATION_TOTAL_MAX = 2 ** 34;

function boundCounts(counts: number[]): number[] {
  let total = 0;
  for (const c of counts) total += c;
  let out = counts;
  while (total > REPUTATION_TOTAL_MAX) {
    out = out.map((c) => Math.floor(c / 2));
    total = out.reduce((s, c) => s + c, 0);
  }
  return out;
}

/** Adds a finalized item's evidence to its annotators' confusion counts (posterior-weighted; gold exact). */
function addReputation(schema: number, classes: number, item: IdItem, label: number, posteriors: number[][], position: Map<string, number>, deltas: number[][]): void {
  for (const seat of item.seats) {
    if (seat.answer < 0) continue;
    const counts = deltas[position.get(seat.id) as number] as number[];
    if (schema === SCHEMA.single) {
      const K = classes;
      for (let k = 0; k < K; k++) {
        const mass = item.gold >= 0 ? (k === item.gold ? COUNT_UNIT : 0) : Math.floor(((posteriors[0] as number[])[k] as number) * COUNT_UNIT / Q16);
        const at = k * K + seat.answer;
        counts[at] = Math.min(U32_MAX, (counts[at] as number) + mass);
      }
      continue;
    }
    for (let j = 0; j < classes; j++) {
      const answered = Math.floor(seat.answer / 2 ** j) % 2;
      for (let t = 0; t < 2; t++) {
        const truth = Math.floor(label / 2 ** j) % 2;
        const mass = item.gold >= 0 ? (t === truth ? COUNT_UNIT : 0) : Math.floor(((posteriors[j] as number[])[t] as number) * COUNT_UNIT / Q16);
        const at = t * 2 + answered;
        counts[at] = Math.min(U32_MAX, (counts[at] as number) + mass);
      }
    }
  }
}

/**
 * Pays and slashes one item's seats (docs/spec/labelling.md §Rewards and slashing). Returns what
 * left the escrow and what was slashed.
 */
function settleItem(
  ctx: Ctx,
  ledger: Ledger,
  task: Task,
  item: IdItem,
  label: number,
  confidence: number,
  outcome: 'final' | 'low',
  position: Map<string, number>,
  qualities: readonly bigint[],
): { paid: bigint; slashed: bigint } {
  const { spec } = task;
  const params = ctx.params;
  const base = spec.annotatorStake;
  const slashNonReveal = (base * BigInt(params.slashNonRevealBps)) / 10_000n;
  const slashGold = (base * BigInt(params.slashGoldWrongBps)) / 10_000n;
  const slashDeviation = (base * BigInt(params.slashDeviationBps)) / 10_000n;
  let paid = 0n;
  let pot = 0n;
  const coherent: Uint8Array[] = [];
  for (const seat of item.seats) {
    const who = seat.annotator;
    if (seat.answer < 0) {
      pot += ledger.slash(who, slashNonReveal, seat.id);
      continue;
    }
    let reward = spec.rewardPerAnswer;
    const agrees = seat.answer === label;
    // The ledger's annotator records are its own decoded copies: updated in place.
    const entry = ledger.annotator(who, seat.id);
    entry.dirty = true;
    if (outcome === 'final') {
      const a = entry.a;
      a.scored = Math.min(U32_MAX, a.scored + 1);
      if (item.gold >= 0) {
        a.goldSeen = Math.min(U32_MAX, a.goldSeen + 1);
        if (agrees) a.goldCorrect = Math.min(U32_MAX, a.goldCorrect + 1);
      }
      if (agrees) {
        coherent.push(who);
        const q = qualities[position.get(seat.id) as number] as bigint;
        reward += (spec.bonusPerAnswer * q) / Q16n;
        ledger.emit(who, seat.id);
      } else if (item.gold >= 0) {
        pot += ledger.slash(who, slashGold, seat.id);
      } else if (confidence >= params.deviationSlashConfidenceQ16) {
        pot += ledger.slash(who, slashDeviation, seat.id);
      }
    }
    ledger.credit(who, reward, seat.id);
    entry.a.earned += reward;
    paid += reward;
  }
  assert(paid <= task.escrow, `settle: task ${task.id} escrow ${task.escrow} cannot pay ${paid}`);
  ledger.paid += paid;
  distributeSlash(ledger, pot, coherent, params);
  return { paid, slashed: pot };
}

/** Splits slashed stake: `slashToCoherentPercent` evenly among the coherent annotators, the rest (and the rounding) to the treasury. */
function distributeSlash(ledger: Ledger, pot: bigint, coherent: readonly Uint8Array[], params: LabellingParams): void {
  if (pot === 0n) return;
  let toTreasury = pot;
  if (coherent.length > 0) {
    const share = (pot * BigInt(params.slashToCoherentPercent)) / 100n / BigInt(coherent.length);
    for (const who of coherent) {
      ledger.credit(who, share);
      toTreasury -= share;
    }
  }
  ledger.credit(TREASURY_ADDRESS, toTreasury);
}

// ── disputes ────────────────────────────────────────────────────────────────────────────────────

/**
 * Settles a dispute once its panel has revealed. The panel's plurality (a strict one) decides:
 * - no decision (no answers or a tie): the bond returns to the challenger;
 * - upheld (the panel differs from the item's label): the label changes; earlier annotators who gave
 *   the old label are slashed for deviation, the proceeds split between the challenger and the
 *   earlier annotators who had given the new label; the challenger gets half the bond back;
 * - rejected: the challenger loses the bond; half to the earlier coherent annotators.
 * Either way half the bond pays the coherent panelists; panelists who did not reveal are slashed.
 */
function settleDispute(ctx: Ctx, round: Round, itemIndex: number): void {
  const dispute = round.dispute;
  assert(dispute !== null, 'settleDispute: not a dispute round');
  const taskRecord = loadTask(ctx.view, round.task);
  const item = loadItemWithAnswers(ctx.view, round.task, itemIndex);
  assert(taskRecord !== null && item !== null, 'settleDispute: task or item missing');
  let task = taskRecord;
  const params = ctx.params;
  const base = task.spec.annotatorStake;
  const ledger = new Ledger(ctx);
  const panel = item.seats.filter((s) => s.round === round.round);
  const earlier = item.seats.filter((s) => s.round !== round.round);
  let pot = 0n;
  const tally = new Map<number, number>();
  for (const seat of panel) {
    if (seat.answer < 0) pot += ledger.slash(seat.annotator, (base * BigInt(params.slashNonRevealBps)) / 10_000n);
    else tally.set(seat.answer, (tally.get(seat.answer) ?? 0) + 1);
  }
  const ranked = [...tally.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const top = ranked[0];
  const decided = top !== undefined && (ranked[1] === undefined || (ranked[1])[1] < top[1]);
  const panelLabel = decided ? (top)[0] : -1;
  const coherentPanel = panel.filter((s) => s.answer >= 0 && s.answer === panelLabel).map((s) => s.annotator);
  const half = dispute.bond / 2n;
  let outcome: 'no-decision' | 'upheld' | 'rejected';
  let newLabel = item.label;
  let confidence = item.confidenceQ16;
  if (!decided) {
    outcome = 'no-decision';
    ledger.credit(dispute.challenger, dispute.bond);
  } else {
    splitEvenly(ledger, half, coherentPanel);
    const rest = dispute.bond - half;
    if (panelLabel !== item.label) {
      outcome = 'upheld';
      newLabel = panelLabel;
      const revealedPanel = panel.filter((s) => s.answer >= 0).length;
      confidence = Math.floor(((top)[1] * Q16) / revealedPanel);
      let proceeds = 0n;
      for (const seat of earlier) {
        if (seat.answer >= 0 && seat.answer === item.label) proceeds += ledger.slash(seat.annotator, (base * BigInt(params.slashDeviationBps)) / 10_000n);
      }
      const winners = [dispute.challenger, ...earlier.filter((s) => s.answer === panelLabel).map((s) => s.annotator)];
      splitEvenly(ledger, proceeds, winners);
      ledger.credit(dispute.challenger, rest);
    } else {
      outcome = 'rejected';
      splitEvenly(ledger, rest, earlier.filter((s) => s.answer >= 0 && s.answer === item.label).map((s) => s.annotator));
    }
  }
  distributeSlash(ledger, pot, coherentPanel, params);
  ledger.flush();
  saveItemResult(ctx.view, round.task, itemIndex, { ...item, label: newLabel, confidenceQ16: confidence, disputeRound: -1, disputed: true });
  task = { ...task, disputesOpen: task.disputesOpen - 1, slashed: task.slashed + ledger.slashed };
  saveTask(ctx.view, task);
  ctx.events.push(
    ev('dispute_settled', [
      ['task', String(task.id)],
      ['item', String(itemIndex)],
      ['outcome', outcome],
      ['label', String(newLabel)],
      ['challenger', addressToString(dispute.challenger)],
    ]),
  );
  if (task.status === TASK_STATUS.finalizing && task.disputesOpen === 0 && ctx.height > task.lastFinalHeight + task.spec.challengeWindow) finishTask(ctx, task);
}

/** Credits `amount` evenly to `to`; the rounding remainder (or everything, if `to` is empty) goes to the treasury. */
function splitEvenly(ledger: Ledger, amount: bigint, to: readonly Uint8Array[]): void {
  if (amount === 0n) return;
  if (to.length === 0) {
    ledger.credit(TREASURY_ADDRESS, amount);
    return;
  }
  const share = amount / BigInt(to.length);
  for (const who of to) ledger.credit(who, share);
  ledger.credit(TREASURY_ADDRESS, amount - share * BigInt(to.length));
}

function finishTask(ctx: Ctx, task: Task): void {
  credit(ctx.view, task.requester, task.escrow);
  saveTask(ctx.view, { ...task, status: TASK_STATUS.done, escrow: 0n });
  ctx.events.push(ev('task_done', [['task', String(task.id)], ['refund', task.escrow.toString()], ['lowConfidence', String(task.itemsLowConfidence)]]));
}
