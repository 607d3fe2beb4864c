/**
 * The node's database (LevelDB through `level`): committed state, blocks, commits, receipts and
 * the transaction index. Each block is stored with its state changes, indexes and the new head in
 * ONE write batch, synced to disk, so a crash at any instant leaves the database at the previous
 * block or the new one, never between. Committed state is also held in memory with its Merkle tree;
 * on open the tree is rebuilt from the stored values and must reproduce the stored head's root, or
 * the store refuses to open. Layout: docs/spec/storage.md.
 */
import { Level } from 'level';
import { ChainError, CodecError, Reader, amountToBytes, bytesToHex, concatBytes, decodeCanonical, encode, equalBytes, u32ToBytes } from '../lib/index.ts';
import { SparseMerkleTree } from './smt.ts';
import { MapStateReader, type StateReader, type StateWrite } from './stateView.ts';

export type StoreErrorType =
  | { code: 'STORE_CORRUPT'; reason: string }
  | { code: 'STORE_LOCKED'; dir: string }
  | { code: 'STORE_OPEN_FAILED'; dir: string; reason: string }
  | { code: 'STORE_NOT_INITIALIZED' }
  | { code: 'STORE_ALREADY_INITIALIZED' }
  | { code: 'STORE_WRONG_HEIGHT'; expected: number; actual: number }
  | { code: 'STORE_PRUNE_RANGE'; earliest: number; to: number; head: number }
  | { code: 'STORE_NOT_EMPTY' };
export class StoreError extends ChainError<StoreErrorType> {}

export type Head = { height: number; blockHash: Uint8Array; stateRoot: Uint8Array; timeMs: bigint };

/** Everything one block adds to the database. */
export type BlockCommit = {
  height: number;
  blockHash: Uint8Array;
  timeMs: bigint;
  blockBytes: Uint8Array;
  commitBytes: Uint8Array;
  /** The block's receipts, one per transaction in block order (an encoded array of Receipt). */
  receiptsBytes: Uint8Array;
  /** The block's transactions in block order: hash, SignedTx encoding, Receipt encoding. */
  txs: ReadonlyArray<{ hash: Uint8Array; bytes: Uint8Array; receiptBytes: Uint8Array }>;
  writes: readonly StateWrite[];
  /** The tree after `writes`; its root is the block's state root. */
  tree: SparseMerkleTree;
  /** Query index entries (accounts' transactions, the event log); none if the node does not index. */
  index?: BlockIndex;
};

const P = {
  state: 0x73, // 's' + state key → value
  block: 0x62, // 'b' + height → Block
  commit: 0x63, // 'c' + height → Commit
  receipts: 0x72, // 'r' + height → Receipts
  hash: 0x68, // 'h' + block hash → height
  tx: 0x74, // 't' + tx hash → [height, index, blockHash, txBytes, receiptBytes]
  meta: 0x6d, // 'm' + name
  prunedTx: 0x78, // 'x' + tx hash → height (u32 BE) of a transaction whose block was pruned
  event: 0x65, // 'e' + height + u32 seq → IndexedEvent (the event log, in block order)
  term: 0x69, // 'i' + term + 0x00 + height + u32 seq → nothing (events by type, account, task, passport)
  accountTx: 0x61, // 'a' + address + height + u32 tx index → tx hash (transactions by account)
  blockAccounts: 0x41, // 'A' + height → the block's (address, tx index) pairs, for pruning 'a'
} as const;
const HEAD_KEY = concatBytes(Uint8Array.of(P.meta), new TextEncoder().encode('head'));
const GENESIS_HASH_KEY = concatBytes(Uint8Array.of(P.meta), new TextEncoder().encode('genesisHash'));
/** The lowest height whose block, commit, receipts and transaction index are kept (absent: 1). */
const EARLIEST_KEY = concatBytes(Uint8Array.of(P.meta), new TextEncoder().encode('earliest'));

/** The key ranges pruning deletes from: compacting them gives the space back (`compact`). */
const PRUNED_RANGES: ReadonlyArray<readonly [number, number]> = [
  [P.block, P.block + 1],
  [P.commit, P.commit + 1],
  [P.receipts, P.receipts + 1],
  [P.tx, P.tx + 1],
  [P.event, P.event + 1],
  [P.term, P.term + 1],
  [P.accountTx, P.accountTx + 1],
  [P.blockAccounts, P.blockAccounts + 1],
];

/**
 * One event of a block as the event index holds it (docs/spec/storage.md §Indexes): the transaction
 * it came from (its index in the block, or -1 for end-of-block work), its type and attributes, and
 * the terms it can be found by (`type:…`, `account:…`, `task:…`, `passport:…`; chosen by the node).
 */
export type IndexedEvent = { tx: number; type: string; attributes: ReadonlyArray<readonly [string, string]>; terms: readonly string[] };

/** What a block adds to the query indexes; computed by the node, which knows the formats. */
export type BlockIndex = {
  /** The accounts each transaction involves: (address, index of the transaction in the block). */
  accounts: ReadonlyArray<readonly [Uint8Array, number]>;
  events: readonly IndexedEvent[];
};

/** Where an index read resumes: strictly after (ascending) or before (descending) this position. */
export type IndexCursor = { height: number; seq: number };
export type EventHit = { height: number; seq: number; event: IndexedEvent };
export type AccountTxHit = { height: number; index: number; hash: Uint8Array };

/** Bounds what one block may add to the indexes and what one read may examine. */
export const INDEX_EVENTS_PER_BLOCK_MAX = 1 << 20;
export const INDEX_TERM_BYTES_MAX = 128;
export const INDEX_SCAN_MAX = 2_000;
/** Events fetched per read while walking a term's entries. */
const EVENT_FETCH_BATCH = 100;
const EVENT_RECORD_BYTES_MAX = 64 * 1024;

const termPrefix = (term: string): Uint8Array => concatBytes(Uint8Array.of(P.term), new TextEncoder().encode(term), Uint8Array.of(0));
const position = (height: number, seq: number): Uint8Array => concatBytes(u32ToBytes(height), u32ToBytes(seq));
const readPosition = (key: Uint8Array, at: number): IndexCursor => {
  const view = new DataView(key.buffer, key.byteOffset + at, 8);
  return { height: view.getUint32(0), seq: view.getUint32(4) };
};

function encodeIndexedEvent(e: IndexedEvent): Uint8Array {
  return encode([e.tx + 1, e.type, e.attributes.map(([k, v]) => [k, v]), [...e.terms]]);
}

function decodeIndexedEvent(bytes: Uint8Array): IndexedEvent {
  return decodeCanonical(bytes, 'IndexedEvent', EVENT_RECORD_BYTES_MAX, (v) => {
    const r = Reader.array(v, 'IndexedEvent', 4);
    const tx = r.u32('tx') - 1;
    const type = r.str('type', 64);
    const attributes = r.list('attributes', 256, (a) => {
      const pair = Reader.array(a, 'attribute', 2);
      return [pair.str('name', 64), pair.str('value', 4096)] as const;
    });
    const terms = r.list('terms', 64, (t) => Reader.array([t], 'term', 1).str('term', INDEX_TERM_BYTES_MAX));
    return { tx, type, attributes, terms };
  }, encodeIndexedEvent);
}

/** One pruned height: what the caller (which knows the block format) found in its block. */
export type PrunedHeight = { height: number; txHashes: readonly Uint8Array[] };

const EMPTY = new Uint8Array(0);
const withPrefix = (prefix: number, key: Uint8Array): Uint8Array => concatBytes(Uint8Array.of(prefix), key);
const heightKey = (prefix: number, height: number): Uint8Array => withPrefix(prefix, u32ToBytes(height));
const readHeight = (bytes: Uint8Array): number => new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);

function encodeHead(h: Head): Uint8Array {
  return encode([h.height, h.blockHash, h.stateRoot, amountToBytes(h.timeMs)]);
}

function decodeHead(bytes: Uint8Array): Head {
  return decodeCanonical(bytes, 'Head', 256, (v) => {
    const r = Reader.array(v, 'Head', 4);
    return { height: r.u32('height'), blockHash: r.bytes('blockHash', 32), stateRoot: r.bytes('stateRoot', 32), timeMs: r.amount('timeMs') };
  }, encodeHead);
}

/**
 * One committed transaction as the index holds it: where it is, and its own SignedTx and Receipt
 * encodings, so that a lookup reads and decodes one transaction rather than its whole block.
 */
export type TxRecord = { height: number; index: number; blockHash: Uint8Array; txBytes: Uint8Array; receiptBytes: Uint8Array };

/**
 * Largest index entry read back: the runtime's limits on a SignedTx (1 MiB) and a Receipt
 * (512 KiB) plus room for the other fields. The store does not know those formats; this only
 * bounds what a damaged entry can make it allocate.
 */
const TX_RECORD_BYTES_MAX = 2 * 1024 * 1024;

function encodeTxRecord(r: TxRecord): Uint8Array {
  return encode([r.height, r.index, r.blockHash, r.txBytes, r.receiptBytes]);
}

function decodeTxRecord(bytes: Uint8Array): TxRecord {
  return decodeCanonical(bytes, 'TxRecord', TX_RECORD_BYTES_MAX, (v) => {
    const r = Reader.array(v, 'TxRecord', 5);
    return {
      height: r.u32('height'),
      index: r.u32('index'),
      blockHash: r.bytes('blockHash', 32),
      txBytes: r.bytesMax('txBytes', TX_RECORD_BYTES_MAX),
      receiptBytes: r.bytesMax('receiptBytes', TX_RECORD_BYTES_MAX),
    };
  }, encodeTxRecord);
}

export class ChainStore {
  private readonly db: Level<Uint8Array, Uint8Array>;
  private readonly values: MapStateReader;
  private currentTree: SparseMerkleTree;
  private currentHead: Head | null;
  private storedGenesisHash: Uint8Array | null;
  private earliest: number;

  private constructor(db: Level<Uint8Array, Uint8Array>, values: MapStateReader, tree: SparseMerkleTree, head: Head | null, genesisHash: Uint8Array | null, earliest: number) {
    this.db = db;
    this.values = values;
    this.currentTree = tree;
    this.currentHead = head;
    this.storedGenesisHash = genesisHash;
    this.earliest = earliest;
  }

  static async open(dir: string): Promise<ChainStore> {
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    try {
      await db.open();
    } catch (e: unknown) {
      const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
      if (cause?.code === 'LEVEL_LOCKED') {
        throw new StoreError({ code: 'STORE_LOCKED', dir }, `database ${dir} is in use by another process (is a node already running on this home?)`);
      }
      const reason = String(cause?.message ?? (e instanceof Error ? e.message : e));
      throw new StoreError({ code: 'STORE_OPEN_FAILED', dir, reason }, `cannot open database ${dir}: ${reason}`);
    }
    try {
      const headBytes = await db.get(HEAD_KEY);
      const head = headBytes === undefined ? null : decodeHead(headBytes);
      const values = new MapStateReader();
      const entries: Array<readonly [Uint8Array, Uint8Array]> = [];
      for await (const [key, value] of db.iterator({ gte: Uint8Array.of(P.state), lt: Uint8Array.of(P.state + 1) })) {
        const stateKey = key.subarray(1);
        values.apply([[stateKey, value]]);
        entries.push([stateKey, value]);
      }
      const tree = SparseMerkleTree.fromEntries(entries);
      if (head === null && entries.length > 0) {
        throw new StoreError({ code: 'STORE_CORRUPT', reason: 'state without a head' });
      }
      if (head !== null && !equalBytes(tree.root, head.stateRoot)) {
        throw new StoreError(
          { code: 'STORE_CORRUPT', reason: 'state does not match the committed root' },
          `stored state root ${bytesToHex(tree.root)} does not match head ${bytesToHex(head.stateRoot)} at height ${head.height}`,
        );
      }
      const genesisHash = (await db.get(GENESIS_HASH_KEY)) ?? null;
      const earliest = await db.get(EARLIEST_KEY);
      return new ChainStore(db, values, tree, head, genesisHash === null ? null : new Uint8Array(genesisHash), earliest === undefined ? 1 : readHeight(earliest));
    } catch (e: unknown) {
      await db.close();
      throw e;
    }
  }

  /** Latest committed head; null before genesis is written. */
  get head(): Head | null {
    return this.currentHead;
  }

  /** Committed state (the latest block's). */
  get state(): StateReader {
    return this.values;
  }

  get tree(): SparseMerkleTree {
    return this.currentTree;
  }

  /** The hash of the genesis this database was started from (see node/node.ts); null before genesis. */
  get genesisHash(): Uint8Array | null {
    return this.storedGenesisHash;
  }

  /**
   * The lowest height whose block, commit, receipts and transaction index this database keeps: 1
   * on an archive node, higher once pruning has run or when the node was restored from a snapshot.
   * Heights below it are pruned (docs/spec/storage.md §Pruning).
   */
  get earliestHeight(): number {
    return this.earliest;
  }

  /** Writes the genesis state as height 0, remembering which genesis it came from. */
  async initGenesis(writes: readonly StateWrite[], genesisTimeMs: bigint, genesisHash: Uint8Array): Promise<Head> {
    if (this.currentHead !== null) throw new StoreError({ code: 'STORE_ALREADY_INITIALIZED' });
    const tree = this.currentTree.update(writes);
    const head: Head = { height: 0, blockHash: new Uint8Array(32), stateRoot: tree.root, timeMs: genesisTimeMs };
    const batch = this.db.batch();
    for (const [key, value] of writes) {
      if (value === null) batch.del(withPrefix(P.state, key));
      else batch.put(withPrefix(P.state, key), value);
    }
    batch.put(HEAD_KEY, encodeHead(head));
    batch.put(GENESIS_HASH_KEY, genesisHash);
    await batch.write({ sync: true });
    this.values.apply(writes);
    this.currentTree = tree;
    this.currentHead = head;
    this.storedGenesisHash = genesisHash;
    return head;
  }

  /** Stores one block and everything it changed in a single synced batch. */
  async commitBlock(c: BlockCommit): Promise<Head> {
    const head = this.currentHead;
    if (head === null) throw new StoreError({ code: 'STORE_NOT_INITIALIZED' });
    if (c.height !== head.height + 1) throw new StoreError({ code: 'STORE_WRONG_HEIGHT', expected: head.height + 1, actual: c.height });
    const next: Head = { height: c.height, blockHash: c.blockHash, stateRoot: c.tree.root, timeMs: c.timeMs };
    const batch = this.db.batch();
    for (const [key, value] of c.writes) {
      if (value === null) batch.del(withPrefix(P.state, key));
      else batch.put(withPrefix(P.state, key), value);
    }
    this.putBlock(batch, c);
    batch.put(HEAD_KEY, encodeHead(next));
    await batch.write({ sync: true });
    this.values.apply(c.writes);
    this.currentTree = c.tree;
    this.currentHead = next;
    return next;
  }

  /** The block, its commit, receipts and index entries (not its state writes) into `batch`. */
  private putBlock(batch: ReturnType<Level<Uint8Array, Uint8Array>['batch']>, c: BlockCommit): void {
    batch.put(heightKey(P.block, c.height), c.blockBytes);
    batch.put(heightKey(P.commit, c.height), c.commitBytes);
    batch.put(heightKey(P.receipts, c.height), c.receiptsBytes);
    batch.put(withPrefix(P.hash, c.blockHash), u32ToBytes(c.height));
    c.txs.forEach((tx, index) => {
      const record: TxRecord = { height: c.height, index, blockHash: c.blockHash, txBytes: tx.bytes, receiptBytes: tx.receiptBytes };
      batch.put(withPrefix(P.tx, tx.hash), encodeTxRecord(record));
    });
    if (c.index !== undefined) this.putIndex(batch, c, c.index);
  }

  /** The block's index entries: in the same batch as the block, so a committed tx is always findable. */
  private putIndex(batch: ReturnType<Level<Uint8Array, Uint8Array>['batch']>, c: BlockCommit, index: BlockIndex): void {
    if (index.events.length > INDEX_EVENTS_PER_BLOCK_MAX) throw new StoreError({ code: 'STORE_CORRUPT', reason: `block ${c.height} has ${index.events.length} events to index` });
    index.events.forEach((e, seq) => {
      const at = position(c.height, seq);
      batch.put(concatBytes(Uint8Array.of(P.event), at), encodeIndexedEvent(e));
      for (const term of e.terms) batch.put(concatBytes(termPrefix(term), at), EMPTY);
    });
    const pairs: Array<[Uint8Array, number]> = [];
    for (const [address, txIndex] of index.accounts) {
      const hash = c.txs[txIndex]?.hash;
      if (hash === undefined) continue;
      batch.put(concatBytes(Uint8Array.of(P.accountTx), address, position(c.height, txIndex)), hash);
      pairs.push([address, txIndex]);
    }
    if (pairs.length > 0) batch.put(heightKey(P.blockAccounts, c.height), encode(pairs));
  }

  /**
   * Events in height order, strictly after `after`, from `fromHeight` to `toHeight` inclusive. With
   * `term`, only events indexed under it; `filter` drops events the caller does not want (e.g. a
   * second term). Examines at most INDEX_SCAN_MAX index entries: `next` says where to resume when
   * the range was not exhausted (it may be set with fewer than `limit` hits).
   */
  async events(q: { term: string | null; fromHeight: number; toHeight: number; after: IndexCursor | null; limit: number; filter?: (e: IndexedEvent) => boolean }): Promise<{ hits: EventHit[]; next: IndexCursor | null }> {
    const prefix = q.term === null ? Uint8Array.of(P.event) : termPrefix(q.term);
    const after = q.after;
    if (after !== null && after.height > q.toHeight) return { hits: [], next: null };
    const resume = after === null ? null : after.seq < 0xffff_ffff ? position(after.height, after.seq + 1) : position(after.height + 1, 0);
    const start = concatBytes(prefix, resume === null || (after !== null && after.height < q.fromHeight) ? position(q.fromHeight, 0) : resume);
    const end = concatBytes(prefix, position(q.toHeight + 1, 0));
    const hits: EventHit[] = [];
    let scanned = 0;
    // Entries examined, in order, with the event bytes when the walk is over the log itself; a term
    // walk fetches its events in batches (one getMany per batch, not one read per entry).
    let batch: Array<{ at: IndexCursor; bytes: Uint8Array | undefined }> = [];
    const flush = async (): Promise<IndexCursor | null> => {
      const missing = batch.filter((b) => b.bytes === undefined);
      if (missing.length > 0) {
        const values = await this.db.getMany(missing.map((b) => concatBytes(Uint8Array.of(P.event), position(b.at.height, b.at.seq))));
        missing.forEach((b, i) => (b.bytes = values[i]));
      }
      for (const { at, bytes } of batch) {
        if (bytes === undefined) continue;
        const event = decodeIndexedEvent(bytes);
        if (q.filter !== undefined && !q.filter(event)) continue;
        hits.push({ ...at, event });
        if (hits.length >= q.limit) return at;
      }
      batch = [];
      return null;
    };
    let last: IndexCursor | null = null;
    for await (const [key, value] of this.db.iterator({ gte: start, lt: end, limit: INDEX_SCAN_MAX })) {
      scanned++;
      last = readPosition(key, prefix.length);
      batch.push({ at: last, bytes: q.term === null ? value : undefined });
      if (batch.length >= EVENT_FETCH_BATCH) {
        const full = await flush();
        if (full !== null) return { hits, next: full };
      }
    }
    const full = await flush();
    if (full !== null) return { hits, next: full };
    return { hits, next: scanned >= INDEX_SCAN_MAX && last !== null ? last : null };
  }

  /** An account's transactions, newest first, strictly before `before`; at most `limit`. */
  async accountTxs(address: Uint8Array, before: IndexCursor | null, limit: number): Promise<AccountTxHit[]> {
    const prefix = concatBytes(Uint8Array.of(P.accountTx), address);
    const end = before === null ? concatBytes(prefix, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)) : concatBytes(prefix, position(before.height, before.seq));
    const out: AccountTxHit[] = [];
    for await (const [key, hash] of this.db.iterator({ gte: prefix, lt: end, reverse: true, limit })) {
      const at = readPosition(key, prefix.length);
      out.push({ height: at.height, index: at.seq, hash });
    }
    return out;
  }

  /** Deletes one height's index entries (pruning): the terms and accounts it recorded, then its event log. */
  private async pruneIndex(batch: ReturnType<Level<Uint8Array, Uint8Array>['batch']>, height: number): Promise<void> {
    const from = concatBytes(Uint8Array.of(P.event), position(height, 0));
    const to = concatBytes(Uint8Array.of(P.event), position(height + 1, 0));
    for await (const [key, value] of this.db.iterator({ gte: from, lt: to })) {
      const at = key.subarray(1);
      for (const term of decodeIndexedEvent(value).terms) batch.del(concatBytes(termPrefix(term), at));
      batch.del(key);
    }
    const accounts = await this.db.get(heightKey(P.blockAccounts, height));
    if (accounts === undefined) return;
    const pairs = decodeCanonical(accounts, 'BlockAccounts', TX_RECORD_BYTES_MAX, (v) => Reader.list(v, 'BlockAccounts', 1 << 20, (p) => {
      const r = Reader.array(p, 'pair', 2);
      return [r.bytes('address', 20), r.u32('index')] as const;
    }), (pairs) => encode(pairs.map(([a, i]) => [a, i])));
    for (const [address, index] of pairs) batch.del(concatBytes(Uint8Array.of(P.accountTx), address, position(height, index)));
    batch.del(heightKey(P.blockAccounts, height));
  }

  async blockBytes(height: number): Promise<Uint8Array | undefined> {
    return this.db.get(heightKey(P.block, height));
  }

  async commitBytes(height: number): Promise<Uint8Array | undefined> {
    return this.db.get(heightKey(P.commit, height));
  }

  async receiptsBytes(height: number): Promise<Uint8Array | undefined> {
    return this.db.get(heightKey(P.receipts, height));
  }

  /** The height of a committed block by its hash; kept for pruned blocks too (then below `earliestHeight`). */
  async heightByHash(hash: Uint8Array): Promise<number | undefined> {
    const bytes = await this.db.get(withPrefix(P.hash, hash));
    return bytes === undefined ? undefined : readHeight(bytes);
  }

  /** The height of a committed transaction whose block was pruned; undefined for any other hash. */
  async prunedTxHeight(hash: Uint8Array): Promise<number | undefined> {
    const bytes = await this.db.get(withPrefix(P.prunedTx, hash));
    return bytes === undefined ? undefined : readHeight(bytes);
  }

  /**
   * Deletes the blocks, commits, receipts and transaction index entries of `heights` (which must be
   * `earliestHeight`, `earliestHeight + 1`, … in order, below the head) and raises
   * `earliestHeight` past them, in one batch. Each pruned transaction leaves its height under its
   * hash, so that a lookup can say "pruned" rather than "not found"; the block hash index is kept for
   * the same reason. The batch is not synced: lost in a crash, it is simply done again.
   */
  async prune(heights: readonly PrunedHeight[]): Promise<number> {
    const head = this.currentHead;
    if (head === null) throw new StoreError({ code: 'STORE_NOT_INITIALIZED' });
    const to = this.earliest + heights.length;
    if (to > head.height || heights.some((h, i) => h.height !== this.earliest + i)) {
      throw new StoreError({ code: 'STORE_PRUNE_RANGE', earliest: this.earliest, to, head: head.height }, `cannot prune below ${to}: the store keeps ${this.earliest}..${head.height} and the head`);
    }
    if (heights.length === 0) return this.earliest;
    const batch = this.db.batch();
    for (const { height, txHashes } of heights) {
      await this.pruneIndex(batch, height);
      batch.del(heightKey(P.block, height));
      batch.del(heightKey(P.commit, height));
      batch.del(heightKey(P.receipts, height));
      for (const hash of txHashes) {
        batch.del(withPrefix(P.tx, hash));
        batch.put(withPrefix(P.prunedTx, hash), u32ToBytes(height));
      }
    }
    batch.put(EARLIEST_KEY, u32ToBytes(to));
    await batch.write();
    this.earliest = to;
    return to;
  }

  /** Compacts the key ranges pruning deletes from, so LevelDB gives their space back. */
  async compact(): Promise<void> {
    // `level` is classic-level on Node, which has compactRange; its universal type does not declare it.
    const db = this.db as unknown as { compactRange?: (start: Uint8Array, end: Uint8Array) => Promise<void> };
    if (typeof db.compactRange !== 'function') return;
    for (const [from, to] of PRUNED_RANGES) await db.compactRange.call(this.db, Uint8Array.of(from), Uint8Array.of(to));
  }

  /**
   * Restoring from a snapshot, step 1 of 2, into an empty database: writes a batch of state entries.
   * Without a head the database does not open (STORE_CORRUPT "state without a head") until
   * `finishRestore` writes one, so a restore that stops half-way is never mistaken for a chain.
   */
  async restoreState(entries: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): Promise<void> {
    if (this.currentHead !== null) throw new StoreError({ code: 'STORE_NOT_EMPTY' }, 'the database already holds a chain');
    const batch = this.db.batch();
    for (const [key, value] of entries) batch.put(withPrefix(P.state, key), value);
    await batch.write();
    this.values.apply(entries);
  }

  /**
   * Restoring from a snapshot, step 2 of 2: stores the snapshot's block (with its commit, receipts
   * and transaction index, as `commitBlock` does) and makes it the head, the earliest kept height and
   * the genesis marker, in one synced batch. The caller has checked the state written by
   * `restoreState` against `c.tree` and the block's header; the store checks it again when it next opens.
   */
  async finishRestore(c: BlockCommit, genesisHash: Uint8Array): Promise<Head> {
    if (this.currentHead !== null) throw new StoreError({ code: 'STORE_NOT_EMPTY' }, 'the database already holds a chain');
    const head: Head = { height: c.height, blockHash: c.blockHash, stateRoot: c.tree.root, timeMs: c.timeMs };
    const batch = this.db.batch();
    this.putBlock(batch, c);
    batch.put(HEAD_KEY, encodeHead(head));
    batch.put(GENESIS_HASH_KEY, genesisHash);
    batch.put(EARLIEST_KEY, u32ToBytes(c.height));
    await batch.write({ sync: true });
    this.currentTree = c.tree;
    this.currentHead = head;
    this.storedGenesisHash = genesisHash;
    this.earliest = c.height;
    return head;
  }

  /**
   * A committed transaction: its height, index and block hash, and its own SignedTx and Receipt
   * encodings. Undefined if no committed transaction has this hash. An entry that does not decode
   * (damaged, or written in the older `[height, index]` layout) is STORE_CORRUPT.
   */
  async txRecord(hash: Uint8Array): Promise<TxRecord | undefined> {
    const bytes = await this.db.get(withPrefix(P.tx, hash));
    if (bytes === undefined) return undefined;
    try {
      return decodeTxRecord(bytes);
    } catch (e: unknown) {
      if (!(e instanceof CodecError)) throw e;
      throw new StoreError(
        { code: 'STORE_CORRUPT', reason: `transaction index entry ${bytesToHex(hash)}: ${e.message}` },
        `transaction index entry ${bytesToHex(hash)} does not decode (${e.message}); a database from before the current layout must be reset`,
      );
    }
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
