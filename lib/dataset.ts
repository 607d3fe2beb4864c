/**
 * A labelled dataset's records and its content root (docs/spec/export.md). One record per item of a
 * task, in item index order 0..n-1, every item included. The content root is
 * `merkleRoot(records.map(encodeDatasetRecord))` (lib/merkle.ts, RFC 6962 shape);
 * `DatasetRootBuilder` computes the same root one record at a time, keeping only the roots of the
 * perfect subtrees so far (at most 32 for 2^32 records), so that a dataset of any size can be hashed
 * in constant memory and the runtime can persist the builder in state between blocks.
 */
import { assert } from './assert.ts';
import { concatBytes } from './bytes.ts';
import { Reader, U32_MAX, decodeCanonical, encode } from './codec.ts';
import { HASH_BYTES, sha256, sha256Latin1 } from './crypto.ts';
import { ChainError } from './errors.ts';
import { merkleProof, merkleRoot, verifyMerkleProof } from './merkle.ts';

/** Fixed-point one for `confidenceQ16`. */
export const DATASET_Q16_ONE = 65536;
/** Item statuses as a dataset record carries them (runtime/labelling/records.ts ITEM_STATUS). */
export const DATASET_STATUS_NAMES = ['open', 'final', 'low-confidence'] as const;
/** Most records a dataset may have: indices are u32. */
export const DATASET_RECORDS_MAX = U32_MAX;
/** Encoded record size bound (6 small fields and a 32-byte hash are far below it). */
const DATASET_RECORD_BYTES_MAX = 128;

export type DatasetRecord = {
  /** Item index, u32. */
  index: number;
  /** The item's contentHash, 32 bytes. */
  itemHash: Uint8Array;
  /** 0 open, 1 final, 2 low-confidence. */
  status: number;
  /** The consensus label, -1 for none. */
  label: number;
  /** Confidence, Q16 (0..65536). */
  confidenceQ16: number;
  /** Answers revealed on the item. */
  answers: number;
};

export type DatasetErrorType =
  | { code: 'DATASET_BAD_RECORD'; field: string; reason: string }
  | { code: 'DATASET_BAD_BUILDER_STATE'; reason: string };
export class DatasetError extends ChainError<DatasetErrorType> {}

function badRecord(field: string, reason: string): DatasetError {
  return new DatasetError({ code: 'DATASET_BAD_RECORD', field, reason }, `dataset record: ${field} ${reason}`);
}

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= U32_MAX;
}

/** Throws DATASET_BAD_RECORD unless every field of `r` is in range. */
export function checkDatasetRecord(r: DatasetRecord): void {
  if (!isU32(r.index)) throw badRecord('index', 'is not a u32');
  if (!(r.itemHash instanceof Uint8Array) || r.itemHash.length !== HASH_BYTES) throw badRecord('itemHash', 'is not 32 bytes');
  if (!Number.isInteger(r.status) || r.status < 0 || r.status >= DATASET_STATUS_NAMES.length) throw badRecord('status', 'is not 0, 1 or 2');
  if (!Number.isInteger(r.label) || r.label < -1 || r.label >= U32_MAX) throw badRecord('label', 'is not -1 or a u32 below 2^32-1');
  if (!isU32(r.confidenceQ16) || r.confidenceQ16 > DATASET_Q16_ONE) throw badRecord('confidenceQ16', 'is not in 0..65536');
  if (!isU32(r.answers)) throw badRecord('answers', 'is not a u32');
}

/**
 * `encode([index, itemHash, status, label + 1, confidenceQ16, answers])`; "none" (-1) is stored as 0.
 * Written directly in MessagePack (a fixarray of 6, shortest unsigned ints, bin8 for the hash): the
 * bytes are exactly lib/codec.ts `encode`'s (test/unit/dataset.test.ts checks it), at a tenth of
 * the cost, since export and verify encode every record of a dataset.
 */
export function encodeDatasetRecord(r: DatasetRecord): Uint8Array {
  checkDatasetRecord(r);
  const out = new Uint8Array(1 + 5 + 34 + 5 + 5 + 5 + 5);
  out[0] = 0x96;
  let at = writeUint(out, 1, r.index);
  out[at] = 0xc4;
  out[at + 1] = HASH_BYTES;
  out.set(r.itemHash, at + 2);
  at = writeUint(out, at + 2 + HASH_BYTES, r.status);
  at = writeUint(out, at, r.label + 1);
  at = writeUint(out, at, r.confidenceQ16);
  at = writeUint(out, at, r.answers);
  return out.slice(0, at);
}

/** A u32 in MessagePack's shortest unsigned form at `at`; returns the next offset. */
function writeUint(out: Uint8Array, at: number, n: number): number {
  if (n < 0x80) {
    out[at] = n;
    return at + 1;
  }
  if (n < 0x100) {
    out[at] = 0xcc;
    out[at + 1] = n;
    return at + 2;
  }
  if (n < 0x10000) {
    out[at] = 0xcd;
    out[at + 1] = n >>> 8;
    out[at + 2] = n & 0xff;
    return at + 3;
  }
  out[at] = 0xce;
  out[at + 1] = n >>> 24;
  out[at + 2] = (n >>> 16) & 0xff;
  out[at + 3] = (n >>> 8) & 0xff;
  out[at + 4] = n & 0xff;
  return at + 5;
}

export function decodeDatasetRecord(bytes: Uint8Array): DatasetRecord {
  return decodeCanonical(
    bytes,
    'DatasetRecord',
    DATASET_RECORD_BYTES_MAX,
    (value) => {
      const r = Reader.array(value, 'DatasetRecord', 6);
      const record: DatasetRecord = {
        index: r.u32('index'),
        itemHash: r.bytes('itemHash', HASH_BYTES),
        status: r.u32('status', DATASET_STATUS_NAMES.length - 1),
        label: r.u32('label') - 1,
        confidenceQ16: r.u32('confidenceQ16', DATASET_Q16_ONE),
        answers: r.u32('answers'),
      };
      return record;
    },
    encodeDatasetRecord,
  );
}

/** The content root of a whole in-memory dataset (tests, small datasets). */
export function datasetRoot(records: readonly DatasetRecord[]): Uint8Array {
  return merkleRoot(records.map(encodeDatasetRecord));
}

/** The audit path of record `index` in the content root (lib/merkle.ts merkleProof). */
export function datasetRecordProof(records: readonly DatasetRecord[], index: number): Uint8Array[] {
  return merkleProof(records.map(encodeDatasetRecord), index);
}

/** True if `proof` shows `record` at `record.index` of a `count`-record dataset with root `root`. */
export function verifyDatasetRecord(root: Uint8Array, record: DatasetRecord, count: number, proof: readonly Uint8Array[]): boolean {
  let leaf: Uint8Array;
  try {
    leaf = encodeDatasetRecord(record);
  } catch {
    return false;
  }
  return verifyMerkleProof(root, leaf, record.index, count, proof);
}

const LEAF = Uint8Array.of(0);
const EMPTY_ROOT = sha256(new Uint8Array(0));

/**
 * SHA-256 through `sha256Latin1` (no Buffer per call, about 3× faster than `sha256` on these short
 * inputs), copied into fresh bytes. The builder hashes about two inputs per record.
 */
function hash(data: Uint8Array): Uint8Array {
  const s = sha256Latin1(data);
  const out = new Uint8Array(HASH_BYTES);
  for (let i = 0; i < HASH_BYTES; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Reused input buffers: H(0x00 ‖ leaf) for leaves up to 255 bytes, H(0x01 ‖ left ‖ right). */
const LEAF_INPUT = new Uint8Array(256);
const NODE_INPUT = new Uint8Array(1 + 2 * HASH_BYTES);
NODE_INPUT[0] = 1;

function leafHash(leaf: Uint8Array): Uint8Array {
  if (leaf.length >= LEAF_INPUT.length) return hash(concatBytes(LEAF, leaf));
  LEAF_INPUT.set(leaf, 1);
  return hash(LEAF_INPUT.subarray(0, 1 + leaf.length));
}

function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 1 + HASH_BYTES);
  return hash(NODE_INPUT);
}

/** A builder's persistent form: the leaf count and the perfect-subtree roots, largest first. */
export type DatasetRootBuilderState = { count: number; stack: Uint8Array[] };

/** Number of set bits of a u32. */
function popcount(n: number): number {
  let bits = 0;
  for (let v = n; v > 0; v = Math.floor(v / 2)) bits += v % 2;
  return bits;
}

/**
 * Streams leaves into the RFC 6962 root. After n leaves the stack holds the roots of the perfect
 * subtrees given by n's binary digits, largest (leftmost) first: leaf i joins the stack, and while
 * the bit below it in the count carries, the top two merge. RFC 6962 splits at the largest power of
 * two below n, which is exactly the leftmost of those subtrees; so the root folds the stack from the
 * right: H(1 ‖ s0 ‖ H(1 ‖ s1 ‖ … ‖ s_last)).
 */
export class DatasetRootBuilder {
  private n = 0;
  private readonly stack: Uint8Array[] = [];

  /** Adds the next leaf (an encoded dataset record). */
  push(recordBytes: Uint8Array): void {
    assert(this.n < DATASET_RECORDS_MAX, 'DatasetRootBuilder: more than 2^32-1 leaves');
    let h = leafHash(recordBytes);
    // Each trailing one bit of the old count is a subtree of the same size as the running one.
    for (let c = this.n; c % 2 === 1; c = (c - 1) / 2) h = nodeHash(this.stack.pop() as Uint8Array, h);
    this.stack.push(h);
    this.n += 1;
  }

  /** Encodes and adds one record. */
  pushRecord(record: DatasetRecord): void {
    this.push(encodeDatasetRecord(record));
  }

  get count(): number {
    return this.n;
  }

  /** The root of the leaves so far; equal to `merkleRoot` of them. The builder stays usable. */
  root(): Uint8Array {
    if (this.stack.length === 0) return EMPTY_ROOT.slice();
    let acc = this.stack[this.stack.length - 1] as Uint8Array;
    for (let i = this.stack.length - 2; i >= 0; i--) acc = nodeHash(this.stack[i] as Uint8Array, acc);
    return acc.slice();
  }

  toState(): DatasetRootBuilderState {
    return { count: this.n, stack: this.stack.map((h) => h.slice()) };
  }

  /** Resumes from `toState()`; throws DATASET_BAD_BUILDER_STATE if the state is inconsistent. */
  static fromState(s: DatasetRootBuilderState): DatasetRootBuilder {
    const bad = (reason: string): DatasetError =>
      new DatasetError({ code: 'DATASET_BAD_BUILDER_STATE', reason }, `dataset root builder state: ${reason}`);
    if (!isU32(s.count)) throw bad('count is not a u32');
    if (s.stack.length !== popcount(s.count)) throw bad(`stack has ${s.stack.length} hashes, count ${s.count} needs ${popcount(s.count)}`);
    const b = new DatasetRootBuilder();
    for (const h of s.stack) {
      if (!(h instanceof Uint8Array) || h.length !== HASH_BYTES) throw bad('a stack entry is not 32 bytes');
      b.stack.push(h.slice());
    }
    b.n = s.count;
    return b;
  }

  /** The canonical encoding of `toState()`: `[count, [hash…]]`, for keeping it in state. */
  encodeState(): Uint8Array {
    return encode([this.n, this.stack]);
  }

  static decodeState(bytes: Uint8Array): DatasetRootBuilder {
    const s = decodeCanonical(
      bytes,
      'DatasetRootBuilderState',
      64 + 34 * 32,
      (value) => {
        const r = Reader.array(value, 'DatasetRootBuilderState', 2);
        const count = r.u32('count');
        const stack = r.list('stack', 32, (item) => {
          if (!(item instanceof Uint8Array) || item.length !== HASH_BYTES) {
            throw new DatasetError({ code: 'DATASET_BAD_BUILDER_STATE', reason: 'a stack entry is not 32 bytes' }, 'dataset root builder state: a stack entry is not 32 bytes');
          }
          return item;
        });
        return { count, stack };
      },
      (st: DatasetRootBuilderState) => encode([st.count, st.stack]),
    );
    return DatasetRootBuilder.fromState(s);
  }
}
