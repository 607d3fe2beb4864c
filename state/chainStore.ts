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
  | { code: 'STORE_WRONG_HEIGHT'; expected: number; actual: number };
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
};

const P = {
  state: 0x73, // 's' + state key → value
  block: 0x62, // 'b' + height → Block
  commit: 0x63, // 'c' + height → Commit
  receipts: 0x72, // 'r' + height → Receipts
  hash: 0x68, // 'h' + block hash → height
  tx: 0x74, // 't' + tx hash → [height, index, blockHash, txBytes, receiptBytes]
  meta: 0x6d, // 'm' + name
} as const;
const HEAD_KEY = concatBytes(Uint8Array.of(P.meta), new TextEncoder().encode('head'));
const GENESIS_HASH_KEY = concatBytes(Uint8Array.of(P.meta), new TextEncoder().encode('genesisHash'));

const withPrefix = (prefix: number, key: Uint8Array): Uint8Array => concatBytes(Uint8Array.of(prefix), key);
const heightKey = (prefix: number, height: number): Uint8Array => withPrefix(prefix, u32ToBytes(height));

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

  private constructor(db: Level<Uint8Array, Uint8Array>, values: MapStateReader, tree: SparseMerkleTree, head: Head | null, genesisHash: Uint8Array | null) {
    this.db = db;
    this.values = values;
    this.currentTree = tree;
    this.currentHead = head;
    this.storedGenesisHash = genesisHash;
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
      return new ChainStore(db, values, tree, head, genesisHash === null ? null : new Uint8Array(genesisHash));
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
    batch.put(heightKey(P.block, c.height), c.blockBytes);
    batch.put(heightKey(P.commit, c.height), c.commitBytes);
    batch.put(heightKey(P.receipts, c.height), c.receiptsBytes);
    batch.put(withPrefix(P.hash, c.blockHash), u32ToBytes(c.height));
    c.txs.forEach((tx, index) => {
      const record: TxRecord = { height: c.height, index, blockHash: c.blockHash, txBytes: tx.bytes, receiptBytes: tx.receiptBytes };
      batch.put(withPrefix(P.tx, tx.hash), encodeTxRecord(record));
    });
    batch.put(HEAD_KEY, encodeHead(next));
    await batch.write({ sync: true });
    this.values.apply(c.writes);
    this.currentTree = c.tree;
    this.currentHead = next;
    return next;
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

  async heightByHash(hash: Uint8Array): Promise<number | undefined> {
    const bytes = await this.db.get(withPrefix(P.hash, hash));
    return bytes === undefined ? undefined : new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
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
