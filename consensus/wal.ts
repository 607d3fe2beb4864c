/**
 * The consensus write-ahead log (docs/spec/consensus.md §WAL), after CometBFT's consensus/wal.go.
 * The engine appends every input before the core sees it and syncs the log before any signature of
 * its own leaves the node; after a crash it replays the records of the unfinished height.
 *
 * The file is a sequence of frames:
 *
 *   frame = [length: u32 BE][crc: u32 BE][payload: `length` bytes]
 *   crc   = CRC-32 (zlib) of the 4 length bytes followed by the payload
 *
 * and each payload is one canonical record (lib/codec.ts):
 *
 *   height   = [1, height, [[address: bin(20), power: amount] …], [[negative: bool, magnitude: amount] …]]
 *   built    = [2, height, round, blockHash: bin(32), block: bin]
 *   proposal = [3, proposal: bin (encodeProposal), signature: bin(64), blockValid: bool, block: bin]
 *   vote     = [4, vote: bin (encodeVote), signature: bin(64)]
 *   timeout  = [5, step (1 propose, 2 prevote, 3 precommit), height, round]
 *
 * A `height` record marks the start of a height (it is the core's `newHeight` input, with the
 * proposer priorities it started from). Once the log is larger than `rotateBytes`, the next height
 * record starts a new file holding only itself (written aside, fsynced, renamed over the log), so
 * the log holds little more than the unfinished height.
 *
 * On open, a damaged last frame (a torn write: cut short, or failing its CRC with nothing valid
 * after it) is truncated away and logged; a damaged frame followed by a valid one is corruption
 * (WalError WAL_CORRUPT), and a frame whose CRC holds but whose record does not decode is
 * WAL_BAD_RECORD: the node refuses to start rather than guess.
 */
import { readFile, open, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import {
  CodecError,
  Reader,
  amountToBytes,
  assert,
  assertNever,
  decodeCanonical,
  encode,
  isChainError,
  type Encodable,
  type Logger,
} from '../lib/index.ts';
import type { CoreValidator } from './core/proposer.ts';
import type { Proposal, TimeoutStep } from './core/machine.ts';
import { decodeProposal, encodeProposal } from './core/proposal.ts';
import { WalError } from './errors.ts';
import { PROPOSAL_BLOCK_BYTES_MAX } from './messages.ts';
import { writeFileDurable } from './signer.ts';
import { COMMIT_SIGNATURES_MAX, decodeVote, encodeVote, type Vote } from './types.ts';

export type WalHeightRecord = { kind: 'height'; height: number; validators: CoreValidator[]; priorities: bigint[] };
export type WalRecord =
  | WalHeightRecord
  | { kind: 'built'; height: number; round: number; blockHash: Uint8Array; block: Uint8Array }
  /** `block` is empty when an earlier record of the height carried the same block. */
  | { kind: 'proposal'; proposal: Proposal; signature: Uint8Array; blockValid: boolean; block: Uint8Array }
  | { kind: 'vote'; vote: Vote; signature: Uint8Array }
  | { kind: 'timeout'; step: TimeoutStep; height: number; round: number };

export const WAL_FRAME_HEADER_BYTES = 8;
export const WAL_RECORD_BYTES_MAX = PROPOSAL_BLOCK_BYTES_MAX + 4096;
export const WAL_ROTATE_BYTES_DEFAULT = 4 * 1024 * 1024;

const TAG = { height: 1, built: 2, proposal: 3, vote: 4, timeout: 5 } as const;
const STEPS: readonly TimeoutStep[] = ['propose', 'prevote', 'precommit'];

function recordToWire(r: WalRecord): Encodable {
  switch (r.kind) {
    case 'height':
      return [
        TAG.height,
        r.height,
        r.validators.map((v) => [v.address, amountToBytes(v.power)]),
        r.priorities.map((p) => [p < 0n, amountToBytes(p < 0n ? -p : p)]),
      ];
    case 'built':
      return [TAG.built, r.height, r.round, r.blockHash, r.block];
    case 'proposal':
      return [TAG.proposal, encodeProposal(r.proposal), r.signature, r.blockValid, r.block];
    case 'vote':
      return [TAG.vote, encodeVote(r.vote), r.signature];
    case 'timeout':
      return [TAG.timeout, STEPS.indexOf(r.step) + 1, r.height, r.round];
    default:
      return assertNever(r);
  }
}

export function encodeWalRecord(r: WalRecord): Uint8Array {
  return encode(recordToWire(r));
}

function recordFromWire(value: unknown): WalRecord {
  const tag: unknown = Array.isArray(value) ? value[0] : undefined;
  switch (tag) {
    case TAG.height: {
      const r = Reader.array(value, 'WalHeight', 4);
      r.u32('tag');
      const height = r.u32('height');
      const validators = r.list('validators', COMMIT_SIGNATURES_MAX, (item) => {
        const v = Reader.array(item, 'WalValidator', 2);
        return { address: v.bytes('address', 20), power: v.amount('power') };
      });
      const priorities = r.list('priorities', COMMIT_SIGNATURES_MAX, (item) => {
        const p = Reader.array(item, 'WalPriority', 2);
        const negative = p.bool('negative');
        const magnitude = p.amount('magnitude');
        return negative ? -magnitude : magnitude;
      });
      return { kind: 'height', height, validators, priorities };
    }
    case TAG.built: {
      const r = Reader.array(value, 'WalBuilt', 5);
      r.u32('tag');
      return { kind: 'built', height: r.u32('height'), round: r.u32('round'), blockHash: r.bytes('blockHash', 32), block: r.bytesMax('block', PROPOSAL_BLOCK_BYTES_MAX) };
    }
    case TAG.proposal: {
      const r = Reader.array(value, 'WalProposal', 5);
      r.u32('tag');
      return {
        kind: 'proposal',
        proposal: decodeProposal(r.bytesMax('proposal', 256)),
        signature: r.bytes('signature', 64),
        blockValid: r.bool('blockValid'),
        block: r.bytesMax('block', PROPOSAL_BLOCK_BYTES_MAX),
      };
    }
    case TAG.vote: {
      const r = Reader.array(value, 'WalVote', 3);
      r.u32('tag');
      return { kind: 'vote', vote: decodeVote(r.bytesMax('vote', 256)), signature: r.bytes('signature', 64) };
    }
    case TAG.timeout: {
      const r = Reader.array(value, 'WalTimeout', 4);
      r.u32('tag');
      const step = STEPS[r.u32('step', STEPS.length) - 1];
      if (step === undefined) throw new CodecError({ code: 'CODEC_WRONG_TYPE', what: 'WalTimeout', field: 'step', expected: '1 to 3' });
      return { kind: 'timeout', step, height: r.u32('height'), round: r.u32('round') };
    }
    default:
      throw new CodecError({ code: 'CODEC_WRONG_TYPE', what: 'WalRecord', field: 'tag', expected: '1 to 5' });
  }
}

export function decodeWalRecord(bytes: Uint8Array): WalRecord {
  return decodeCanonical(bytes, 'WalRecord', WAL_RECORD_BYTES_MAX, recordFromWire, encodeWalRecord);
}

/** One record as a frame: length, CRC over length and payload, payload. */
export function encodeWalFrame(r: WalRecord): Uint8Array {
  const payload = encodeWalRecord(r);
  assert(payload.length > 0 && payload.length <= WAL_RECORD_BYTES_MAX, 'WAL record size out of bounds');
  const frame = new Uint8Array(WAL_FRAME_HEADER_BYTES + payload.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, payload.length);
  frame.set(payload, WAL_FRAME_HEADER_BYTES);
  view.setUint32(4, crc32(payload, crc32(frame.subarray(0, 4))));
  return frame;
}

type Frame = { ok: true; record: WalRecord; end: number } | { ok: false; reason: string; end: number | null };

function readFrame(bytes: Uint8Array, offset: number, path: string): Frame {
  if (bytes.length - offset < WAL_FRAME_HEADER_BYTES) return { ok: false, reason: 'short header', end: null };
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, WAL_FRAME_HEADER_BYTES);
  const length = view.getUint32(0);
  const end = offset + WAL_FRAME_HEADER_BYTES + length;
  if (length === 0 || length > WAL_RECORD_BYTES_MAX) return { ok: false, reason: `bad length ${length}`, end: null };
  if (end > bytes.length) return { ok: false, reason: 'cut short', end: null };
  const payload = bytes.subarray(offset + WAL_FRAME_HEADER_BYTES, end);
  if (crc32(payload, crc32(bytes.subarray(offset, offset + 4))) !== view.getUint32(4)) return { ok: false, reason: 'CRC mismatch', end };
  try {
    return { ok: true, record: decodeWalRecord(payload), end };
  } catch (e: unknown) {
    if (!isChainError(e)) throw e;
    // The CRC holds, so these are the bytes that were written: a bug or a format change, not a tear.
    throw new WalError({ code: 'WAL_BAD_RECORD', path, offset, reason: e.message }, `WAL ${path}: unreadable record at byte ${offset}: ${e.message}`);
  }
}

/**
 * Parses a log: the records up to the first damaged frame, and where the valid bytes end. Throws
 * WalError if valid data follows a damaged frame (corruption, not a torn tail).
 */
export function parseWal(bytes: Uint8Array, path = '(memory)'): { records: WalRecord[]; validBytes: number; tornReason: string | null } {
  const records: WalRecord[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const frame = readFrame(bytes, offset, path);
    if (frame.ok) {
      records.push(frame.record);
      offset = frame.end;
      continue;
    }
    if (frame.end !== null && frame.end < bytes.length) {
      let next: Frame;
      try {
        next = readFrame(bytes, frame.end, path);
      } catch {
        next = { ok: false, reason: 'unreadable', end: null };
      }
      if (next.ok) {
        throw new WalError(
          { code: 'WAL_CORRUPT', path, offset, reason: frame.reason },
          `WAL ${path}: damaged record at byte ${offset} (${frame.reason}) followed by valid records; move the file aside to start without it`,
        );
      }
    }
    return { records, validBytes: offset, tornReason: frame.reason };
  }
  return { records, validBytes: offset, tornReason: null };
}

/** Where the log's bytes live: a file, or memory in tests and simulations. */
export type WalFile = {
  readonly path: string;
  read(): Promise<Uint8Array>;
  /** Appends without syncing. */
  append(bytes: Uint8Array): Promise<void>;
  sync(): Promise<void>;
  /** Cuts the file to `length` bytes, durably. */
  truncate(length: number): Promise<void>;
  /** Replaces the whole content atomically and durably. */
  replace(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
};

export type WalOpts = { rotateBytes: number };

export class Wal {
  private readonly file: WalFile;
  private readonly opts: WalOpts;
  private recovered: WalRecord[] | null;
  private size: number;
  private dirty = false;

  private constructor(file: WalFile, opts: WalOpts, recovered: WalRecord[], size: number) {
    this.file = file;
    this.opts = opts;
    this.recovered = recovered;
    this.size = size;
  }

  /** Reads the log, truncating a torn tail; the records are kept for `takeRecovered`. */
  static async open(file: WalFile, opts: WalOpts, log: Logger): Promise<Wal> {
    const bytes = await file.read();
    const { records, validBytes, tornReason } = parseWal(bytes, file.path);
    if (tornReason !== null) {
      log.warn({ path: file.path, validBytes, droppedBytes: bytes.length - validBytes, reason: tornReason }, 'Truncated a torn record at the end of the WAL');
      await file.truncate(validBytes);
    }
    return new Wal(file, opts, records, validBytes);
  }

  /** The records found at open, once (the engine replays them). */
  takeRecovered(): WalRecord[] {
    const records = this.recovered ?? [];
    this.recovered = null;
    return records;
  }

  get sizeBytes(): number {
    return this.size;
  }

  /** Appends a record; durable only after the next `sync`. */
  async append(record: WalRecord): Promise<void> {
    const frame = encodeWalFrame(record);
    await this.file.append(frame);
    this.size += frame.length;
    this.dirty = true;
  }

  async sync(): Promise<void> {
    if (!this.dirty) return;
    await this.file.sync();
    this.dirty = false;
  }

  /**
   * Starts a height: appends its marker, or, once the log is over `rotateBytes`, replaces the log
   * with the marker alone (the heights before it are committed and never replayed). Durable on return.
   */
  async startHeight(record: WalHeightRecord): Promise<void> {
    if (this.size < this.opts.rotateBytes) {
      await this.append(record);
      await this.sync();
      return;
    }
    const frame = encodeWalFrame(record);
    await this.file.replace(frame);
    this.size = frame.length;
    this.dirty = false;
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

/** The log in a file; `replace` writes a sibling file and renames it over the log. */
export async function openWalFile(path: string): Promise<WalFile> {
  let handle: FileHandle = await open(path, 'a', 0o600);
  return {
    path,
    read: async () => {
      try {
        return new Uint8Array(await readFile(path));
      } catch (e: unknown) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Uint8Array(0);
        throw e;
      }
    },
    append: async (bytes) => {
      await handle.write(bytes);
    },
    sync: async () => {
      await handle.sync();
    },
    truncate: async (length) => {
      await handle.truncate(length);
      await handle.sync();
    },
    replace: async (bytes) => {
      await writeFileDurable(path, bytes);
      await handle.close();
      handle = await open(path, 'a', 0o600);
    },
    close: async () => {
      await handle.close();
    },
  };
}
