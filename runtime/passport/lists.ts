/**
 * Secondary indexes in state: append-only lists, so that "passports of an owner", "licences of a
 * buyer" and the like are answered by reading a bounded page of keys, never by scanning state.
 *
 *   list length  PREFIX.passportIndex ‖ list ‖ scope            → [n]
 *   list entry   PREFIX.passportIndex ‖ list ‖ scope ‖ u32 seq  → [u32 …]
 *
 * Entries are never rewritten: a passport that changed owner stays in its old owner's list, and
 * readers skip entries that no longer match (docs/spec/passport.md §Indexes).
 */
import { Reader, assert, concatBytes, decodeStateValue, encode, u32ToBytes } from '../../lib/index.ts';
import { PREFIX, type StateReader, type StateView } from '../../state/index.ts';

/** List ids. STATE-BREAKING. */
export const LIST = {
  /** scope: owner address; entry: [passport id] (every owner the passport ever had). */
  passportsByOwner: 1,
  /** scope: u32 task; entry: [passport id, version]. */
  passportsByTask: 2,
  /** scope: u32 passport; entry: [offer id]. */
  offersByPassport: 3,
  /** scope: u32 passport; entry: [licence id]. */
  licencesByPassport: 4,
  /** scope: address; entry: [licence id] (licences bought or received by transfer). */
  licencesByHolder: 5,
  /** scope: u32 passport ‖ address; entry: [licence id]. */
  licencesByPassportHolder: 6,
  /** scope: empty; entry: [passport id, version] of versions still building (a FIFO, see `buildQueue*`). */
  buildQueue: 7,
} as const;

const ENTRY_FIELDS_MAX = 4;

function lengthKey(list: number, scope: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(PREFIX.passportIndex, list), scope);
}

function entryKey(list: number, scope: Uint8Array, seq: number): Uint8Array {
  return concatBytes(Uint8Array.of(PREFIX.passportIndex, list), scope, u32ToBytes(seq));
}

function readU32List(bytes: Uint8Array, what: string): number[] {
  return decodeStateValue(bytes, what, 64, (v) => Reader.list(v, what, ENTRY_FIELDS_MAX, (x, i) => Reader.array([x], what, 1).u32(`[${i}]`)));
}

export function listLength(state: StateReader, list: number, scope: Uint8Array): number {
  const bytes = state.get(lengthKey(list, scope));
  return bytes === undefined ? 0 : (readU32List(bytes, 'ListLength')[0] ?? 0);
}

export function listPush(view: StateView, list: number, scope: Uint8Array, entry: readonly number[]): void {
  assert(entry.length > 0 && entry.length <= ENTRY_FIELDS_MAX, 'listPush: bad entry');
  const n = listLength(view, list, scope);
  view.set(entryKey(list, scope, n), encode(entry));
  view.set(lengthKey(list, scope), encode([n + 1]));
}

/** Entry `seq`, or null if it was removed (the build queue removes finished entries). */
export function listAt(state: StateReader, list: number, scope: Uint8Array, seq: number): number[] | null {
  const bytes = state.get(entryKey(list, scope, seq));
  return bytes === undefined ? null : readU32List(bytes, 'ListEntry');
}

/**
 * Entries from `cursor` on (oldest first), at most `limit`. Returns the entries
 * with their positions and the cursor of the next page (null at the end).
 */
export function listPage(
  state: StateReader,
  list: number,
  scope: Uint8Array,
  cursor: number,
  limit: number,
): { entries: Array<{ seq: number; entry: number[] }>; next: number | null } {
  const n = listLength(state, list, scope);
  const entries: Array<{ seq: number; entry: number[] }> = [];
  let seq = cursor;
  for (; seq < n && entries.length < limit; seq++) {
    const entry = listAt(state, list, scope, seq);
    if (entry !== null) entries.push({ seq, entry });
  }
  return { entries, next: seq < n ? seq : null };
}

// ── the build queue ─────────────────────────────────────────────────────────────────────────────

const EMPTY = new Uint8Array(0);
const headKey = (): Uint8Array => concatBytes(Uint8Array.of(PREFIX.passportIndex, LIST.buildQueue), Uint8Array.of(0xff));

function loadHead(state: StateReader): number {
  const bytes = state.get(headKey());
  return bytes === undefined ? 0 : (readU32List(bytes, 'BuildQueueHead')[0] ?? 0);
}

export function buildQueuePush(view: StateView, id: number, version: number): void {
  listPush(view, LIST.buildQueue, EMPTY, [id, version]);
}

/** The oldest build still in the queue, or null. */
export function buildQueuePeek(state: StateReader): [number, number] | null {
  const head = loadHead(state);
  if (head >= listLength(state, LIST.buildQueue, EMPTY)) return null;
  const entry = listAt(state, LIST.buildQueue, EMPTY, head);
  assert(entry !== null && entry.length === 2, `build queue: entry ${head} missing`);
  return [entry[0] as number, entry[1] as number];
}

export function buildQueuePop(view: StateView): void {
  const head = loadHead(view);
  const tail = listLength(view, LIST.buildQueue, EMPTY);
  assert(head < tail, 'build queue: pop on an empty queue');
  view.delete(entryKey(LIST.buildQueue, EMPTY, head));
  if (head + 1 === tail) {
    // Empty again: restart the sequence, so it never grows without bound.
    view.delete(headKey());
    view.delete(lengthKey(LIST.buildQueue, EMPTY));
  } else view.set(headKey(), encode([head + 1]));
}

export function buildQueueLength(state: StateReader): number {
  return listLength(state, LIST.buildQueue, EMPTY) - loadHead(state);
}
