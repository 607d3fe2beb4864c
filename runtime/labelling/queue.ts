/**
 * Deterministic work lists in state: FIFO queues (the per-block jobs work through them in order,
 * up to a cap, and leave the rest for the next block) and per-height schedules (entries due at a
 * height). Both are plain keys, so their contents are part of the state root.
 *
 *   queue entry     PREFIX.labellingQueue    ‖ queue id ‖ u32 seq          → value
 *   queue bounds    PREFIX.labellingQueue    ‖ queue id                    → [head, tail]
 *   schedule entry  PREFIX.labellingSchedule ‖ kind ‖ u32 height ‖ u32 seq → value
 *   schedule count  PREFIX.labellingSchedule ‖ kind ‖ u32 height           → [count]
 */
import { Reader, assert, concatBytes, decodeCanonical, encode, u32ToBytes, type Encodable } from '../../lib/index.ts';
import { PREFIX, type StateReader, type StateView } from '../../state/index.ts';

/** Queue and schedule ids. STATE-BREAKING. */
export const QUEUE = { start: 1, draw: 2, close: 3 } as const;
export const SCHEDULE = { close: 1, unbond: 2, done: 3 } as const;

const ENTRY_BYTES_MAX = 1024;

function decodeValue(bytes: Uint8Array): unknown {
  return decodeCanonical(bytes, 'QueueEntry', ENTRY_BYTES_MAX, (v) => v, (v) => encode(v as Encodable));
}

function boundsKey(queue: number): Uint8Array {
  return Uint8Array.of(PREFIX.labellingQueue, queue);
}

function entryKey(queue: number, seq: number): Uint8Array {
  return concatBytes(Uint8Array.of(PREFIX.labellingQueue, queue), u32ToBytes(seq));
}

function loadBounds(state: StateReader, queue: number): { head: number; tail: number } {
  const bytes = state.get(boundsKey(queue));
  if (bytes === undefined) return { head: 0, tail: 0 };
  return decodeCanonical(
    bytes,
    'QueueBounds',
    32,
    (v) => {
      const r = Reader.array(v, 'QueueBounds', 2);
      return { head: r.u32('head'), tail: r.u32('tail') };
    },
    (b) => encode([b.head, b.tail]),
  );
}

function saveBounds(view: StateView, queue: number, b: { head: number; tail: number }): void {
  // Sequence numbers restart from zero whenever the queue empties, so u32 never wraps in practice.
  if (b.head === b.tail) view.delete(boundsKey(queue));
  else view.set(boundsKey(queue), encode([b.head, b.tail]));
}

export function queuePush(view: StateView, queue: number, value: Encodable): void {
  const b = loadBounds(view, queue);
  view.set(entryKey(queue, b.tail), encode(value));
  saveBounds(view, queue, { head: b.head, tail: b.tail + 1 });
}

/** The first entry, or null when the queue is empty. */
export function queuePeek(state: StateReader, queue: number): unknown {
  const b = loadBounds(state, queue);
  if (b.head === b.tail) return null;
  const bytes = state.get(entryKey(queue, b.head));
  assert(bytes !== undefined, `queue ${queue}: entry ${b.head} missing`);
  return decodeValue(bytes);
}

/** Replaces the first entry (a job that made progress but is not finished). */
export function queueReplaceHead(view: StateView, queue: number, value: Encodable): void {
  const b = loadBounds(view, queue);
  assert(b.head !== b.tail, `queue ${queue}: replace on an empty queue`);
  view.set(entryKey(queue, b.head), encode(value));
}

export function queuePop(view: StateView, queue: number): void {
  const b = loadBounds(view, queue);
  assert(b.head !== b.tail, `queue ${queue}: pop on an empty queue`);
  view.delete(entryKey(queue, b.head));
  const next = b.head + 1 === b.tail ? { head: 0, tail: 0 } : { head: b.head + 1, tail: b.tail };
  saveBounds(view, queue, next);
}

export function queueLength(state: StateReader, queue: number): number {
  const b = loadBounds(state, queue);
  return b.tail - b.head;
}

function countKey(kind: number, height: number): Uint8Array {
  return concatBytes(Uint8Array.of(PREFIX.labellingSchedule, kind), u32ToBytes(height));
}

function scheduledKey(kind: number, height: number, seq: number): Uint8Array {
  return concatBytes(Uint8Array.of(PREFIX.labellingSchedule, kind), u32ToBytes(height), u32ToBytes(seq));
}

function loadCount(state: StateReader, kind: number, height: number): number {
  const bytes = state.get(countKey(kind, height));
  if (bytes === undefined) return 0;
  return decodeCanonical(bytes, 'ScheduleCount', 16, (v) => Reader.array(v, 'ScheduleCount', 1).u32('count'), (n) => encode([n]));
}

export function schedule(view: StateView, kind: number, height: number, value: Encodable): void {
  const n = loadCount(view, kind, height);
  view.set(scheduledKey(kind, height, n), encode(value));
  view.set(countKey(kind, height), encode([n + 1]));
}

/** Removes and returns, in the order they were added, the entries due at `height`. */
export function takeScheduled(view: StateView, kind: number, height: number): unknown[] {
  const n = loadCount(view, kind, height);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const k = scheduledKey(kind, height, i);
    const bytes = view.get(k);
    assert(bytes !== undefined, `schedule ${kind}@${height}: entry ${i} missing`);
    out.push(decodeValue(bytes));
    view.delete(k);
  }
  if (n > 0) view.delete(countKey(kind, height));
  return out;
}
