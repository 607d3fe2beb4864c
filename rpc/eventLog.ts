/**
 * The one shared, bounded log the event stream (GET /v1/stream) is served from. The node appends
 * each committed block; every subscriber reads it through its own position, so a thousand
 * subscribers cost one copy of each event, serialized once. Oldest whole blocks go first when the
 * log is over its entry or byte budget. docs/rpc.md §Event stream.
 *
 * Each committed block becomes entries numbered from 0 within the block: the block itself, then
 * per transaction a `tx` entry followed by its receipt's `event` entries, then the end-of-block
 * `event` entries (labelling rounds, staking…). `height:index` is an entry's cursor.
 */
import { addressToString, equalBytes } from '../lib/index.ts';
import { ZERO_HASH, type Block, type Receipt, type SignedTx } from '../runtime/index.ts';
import { RpcError } from './errors.ts';
import { eventToJson, hex } from './views.ts';

export type StreamEntryKind = 'block' | 'tx' | 'event';

export type StreamEntry = {
  /** Position in the log since the node started; never reused. */
  seq: number;
  height: number;
  index: number;
  kind: StreamEntryKind;
  /** What a `types` filter matches: `block`, `tx`, or the event's type. */
  type: string;
  /** The whole server-sent-events frame, ready to write. */
  frame: string;
  /** Bytes appended to the log before this entry. */
  offset: number;
};

/** What the node hands over for each committed block (node's CommittedBlockInfo fits). */
export type CommittedBlock = { height: number; hash: Uint8Array; block: Block; txs: readonly SignedTx[]; receipts: readonly Receipt[] };

export type EventLogOpts = { entriesMax: number; bytesMax: number };

export const EVENT_LOG_DEFAULTS: EventLogOpts = { entriesMax: 100_000, bytesMax: 64 * 1024 * 1024 };

export type Cursor = { height: number; index: number };

const CURSOR_RE = /^(0|[1-9][0-9]{0,9}):(0|[1-9][0-9]{0,9})$/;
/** An index above every real one: "all of that block". */
const WHOLE_BLOCK = Number.MAX_SAFE_INTEGER;

export function parseCursor(text: string): Cursor | undefined {
  const m = CURSOR_RE.exec(text);
  return m === null ? undefined : { height: Number(m[1]), index: Number(m[2]) };
}

export function cursorToString(c: Cursor): string {
  return `${c.height}:${c.index}`;
}

function compare(a: Cursor, b: Cursor): number {
  return a.height !== b.height ? a.height - b.height : a.index - b.index;
}

/** Counters the node's metrics read. */
export type StreamStats = { subscribers: number; slowDropped: number; rejected: number; entries: number; bytes: number };

export class EventLog {
  private readonly opts: EventLogOpts;
  private entries: StreamEntry[] = [];
  /** Index in `entries` of the oldest kept entry (the array is compacted now and then). */
  private first = 0;
  private nextSeq = 0;
  private endOffset = 0;
  /** Every entry after this cursor is in the log; nothing at or before it is. */
  private floor: Cursor;
  private readonly listeners = new Set<() => void>();
  readonly stats: StreamStats = { subscribers: 0, slowDropped: 0, rejected: 0, entries: 0, bytes: 0 };

  /** `startHeight`: the height already committed when the log starts (its blocks are not in it). */
  constructor(opts: EventLogOpts, startHeight: number) {
    this.opts = opts;
    this.floor = { height: startHeight, index: WHOLE_BLOCK };
  }

  get firstSeq(): number {
    return this.nextSeq - (this.entries.length - this.first);
  }

  get endSeq(): number {
    return this.nextSeq;
  }

  get bytesEnd(): number {
    return this.endOffset;
  }

  /** The entry numbered `seq`, or undefined if it was evicted or is not written yet. */
  at(seq: number): StreamEntry | undefined {
    const i = this.first + seq - this.firstSeq;
    return i >= this.first && i < this.entries.length ? this.entries[i] : undefined;
  }

  /** Bytes of the log from entry `seq` to its end: how far behind a reader at `seq` is. */
  bytesBehind(seq: number): number {
    const e = this.at(seq);
    return e === undefined ? (seq >= this.nextSeq ? 0 : this.endOffset) : this.endOffset - e.offset;
  }

  latest(): Cursor | null {
    const e = this.entries[this.entries.length - 1];
    return this.entries.length > this.first && e !== undefined ? { height: e.height, index: e.index } : null;
  }

  /**
   * The seq of the first entry after `cursor`. Throws STREAM_CURSOR_EXPIRED when entries after it
   * have left the log (or were before this node started), STREAM_CURSOR_AHEAD when it is past the
   * newest entry.
   */
  seqAfter(cursor: Cursor): number {
    const text = cursorToString(cursor);
    if (compare(cursor, this.floor) < 0) {
      const oldest = this.at(this.firstSeq);
      throw new RpcError(
        { code: 'STREAM_CURSOR_EXPIRED', cursor: text, oldest: oldest === undefined ? null : cursorToString(oldest) },
        `cursor ${text} is older than the stream's log; re-read from the REST endpoints (GET /v1/blocks/{height}, /v1/blocks/{height}/events) up to the latest block, then subscribe without a cursor`,
      );
    }
    const latest = this.latest();
    if (compare(cursor, latest ?? this.floor) > 0) {
      throw new RpcError(
        { code: 'STREAM_CURSOR_AHEAD', cursor: text, latest: latest === null ? null : cursorToString(latest) },
        `cursor ${text} is past the newest event${latest === null ? '' : ` (${cursorToString(latest)})`}`,
      );
    }
    // Binary search for the first entry after the cursor.
    let lo = this.first;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(this.entries[mid] as StreamEntry, cursor) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return this.firstSeq + (lo - this.first);
  }

  /** Calls `fn` after each append; returns the unsubscribe function. */
  onAppend(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  appendBlock(b: CommittedBlock): void {
    const h = b.block.header;
    let index = 0;
    const add = (kind: StreamEntryKind, type: string, data: Record<string, unknown>): void => {
      const cursor = `${b.height}:${index}`;
      const frame = `id: ${cursor}\nevent: ${kind}\ndata: ${JSON.stringify({ cursor, ...data })}\n\n`;
      this.entries.push({ seq: this.nextSeq++, height: b.height, index, kind, type, frame, offset: this.endOffset });
      this.endOffset += frame.length;
      index++;
    };
    add('block', 'block', {
      height: b.height,
      hash: hex(b.hash),
      timeMs: h.timeMs.toString(),
      proposer: addressToString(h.proposer),
      stateRoot: hex(h.stateRoot),
      txCount: b.txs.length,
    });
    b.txs.forEach((tx, i) => {
      const receipt = b.receipts[i];
      add('tx', 'tx', {
        height: b.height,
        index: i,
        hash: hex(tx.hash),
        senderAddress: addressToString(tx.senderAddress),
        kind: tx.tx.body.kind,
        status: receipt === undefined || receipt.status !== 0 ? 'failed' : 'ok',
        code: receipt?.code ?? '',
        fee: (receipt?.fee ?? 0n).toString(),
      });
      for (const e of receipt?.events ?? []) add('event', e.type, { height: b.height, txHash: hex(tx.hash), ...eventToJson(e) });
    });
    for (const r of b.receipts.slice(b.txs.length)) {
      if (!equalBytes(r.txHash, ZERO_HASH)) continue;
      for (const e of r.events) add('event', e.type, { height: b.height, txHash: null, ...eventToJson(e) });
    }
    this.evict();
    for (const fn of [...this.listeners]) fn();
  }

  /** Drops whole oldest blocks while over budget, but always keeps the newest block. */
  private evict(): void {
    const newest = this.entries[this.entries.length - 1]?.height;
    while (this.first < this.entries.length) {
      const kept = this.entries.length - this.first;
      const oldest = this.entries[this.first] as StreamEntry;
      const bytes = this.endOffset - oldest.offset;
      if ((kept <= this.opts.entriesMax && bytes <= this.opts.bytesMax) || oldest.height === newest) break;
      let last = oldest;
      while (this.first < this.entries.length && (this.entries[this.first] as StreamEntry).height === oldest.height) {
        last = this.entries[this.first] as StreamEntry;
        this.first++;
      }
      this.floor = { height: last.height, index: last.index };
    }
    if (this.first > 1024 && this.first * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.first);
      this.first = 0;
    }
    const oldest = this.entries[this.first];
    this.stats.entries = this.entries.length - this.first;
    this.stats.bytes = oldest === undefined ? 0 : this.endOffset - oldest.offset;
  }
}

/** True if an entry passes a `types` filter (null: everything). */
export function matchesTypes(entry: StreamEntry, types: ReadonlySet<string> | null): boolean {
  return types === null || types.has(entry.type) || (entry.kind === 'event' && types.has('event'));
}
