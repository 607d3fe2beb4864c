/**
 * A synchronous, in-memory overlay over committed state. The runtime reads and writes only through
 * a StateView; the node turns its writes into one atomic batch. `fork()` gives a child overlay for
 * one transaction, merged into its parent with `commit()` or dropped, so a failed transaction
 * leaves no partial writes.
 */
import { assert, compareBytes } from '../lib/index.ts';

/** Read access to committed state. */
export type StateReader = {
  get(key: Uint8Array): Uint8Array | undefined;
  /** Optional fast path for stacked readers: the same lookup by the key's `keyId` (the key itself may be left out). */
  getById?(id: string, key?: Uint8Array): Uint8Array | undefined;
};

/** One change: a value, or null for a deletion. */
export type StateWrite = readonly [key: Uint8Array, value: Uint8Array | null];

/** The key whose `keyId` is `id`. */
export function keyFromId(id: string): Uint8Array {
  return new Uint8Array(Buffer.from(id, 'latin1'));
}

/** A key as a string with one UTF-16 code unit per byte (latin1), for Map lookups. */
export function keyId(key: Uint8Array): string {
  // fromCharCode over the bytes is the same string as a latin1 decode, and faster for short keys.
  if (key.length <= 256) return String.fromCharCode.apply(null, key as unknown as number[]);
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/** A typed reader for one record kind: the decoded value under a key, or null when absent. */
export function stateLoader<T>(decode: (bytes: Uint8Array) => T): (state: StateReader, key: Uint8Array) => T | null {
  return (state, key) => {
    const bytes = state.get(key);
    return bytes === undefined ? null : decode(bytes);
  };
}

export class StateView implements StateReader {
  private readonly base: StateReader;
  private readonly parent: StateView | null;
  private readonly changes = new Map<string, { key: Uint8Array; value: Uint8Array | null }>();
  private merged = false;

  constructor(base: StateReader, parent: StateView | null = null) {
    this.base = base;
    this.parent = parent;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.getById(keyId(key), key);
  }

  getById(id: string, key?: Uint8Array): Uint8Array | undefined {
    const change = this.changes.get(id);
    if (change !== undefined) return change.value ?? undefined;
    if (this.base.getById !== undefined) return this.base.getById(id, key);
    return this.base.get(key ?? keyFromId(id));
  }

  set(key: Uint8Array, value: Uint8Array): void {
    assert(!this.merged, 'StateView: write after commit');
    this.changes.set(keyId(key), { key, value });
  }

  delete(key: Uint8Array): void {
    assert(!this.merged, 'StateView: write after commit');
    this.changes.set(keyId(key), { key, value: null });
  }

  /** A child overlay whose writes reach this view only on `commit()`. */
  fork(): StateView {
    return new StateView(this, this);
  }

  /** Merges this child's writes into its parent. */
  commit(): void {
    assert(this.parent !== null, 'StateView: commit on a root view');
    assert(!this.merged, 'StateView: committed twice');
    for (const [id, change] of this.changes) this.parent.changes.set(id, change);
    this.merged = true;
  }

  /** All writes, sorted by key, so that anything derived from them is deterministic. */
  writes(): StateWrite[] {
    const out: StateWrite[] = [];
    for (const change of this.changes.values()) out.push([change.key, change.value]);
    out.sort((a, b) => compareBytes(a[0], b[0]));
    return out;
  }

  get writeCount(): number {
    return this.changes.size;
  }
}

/** A StateReader over a plain map, keyed like StateView's internal ids. */
export class MapStateReader implements StateReader {
  readonly map: Map<string, Uint8Array>;

  constructor(map = new Map<string, Uint8Array>()) {
    this.map = map;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.map.get(keyId(key));
  }

  getById(id: string): Uint8Array | undefined {
    return this.map.get(id);
  }

  apply(writes: readonly StateWrite[]): void {
    for (const [key, value] of writes) {
      if (value === null) this.map.delete(keyId(key));
      else this.map.set(keyId(key), value);
    }
  }

  *entries(): IterableIterator<readonly [Uint8Array, Uint8Array]> {
    for (const [id, value] of this.map) yield [new Uint8Array(Buffer.from(id, 'latin1')), value];
  }
}
