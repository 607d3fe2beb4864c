/**
 * The one canonical encoding of every consensus object: MessagePack through msgpackr, structs as
 * fixed-order arrays, no maps, no records extension, no floats. See docs/spec/encoding.md.
 *
 * Value kinds on the wire:
 * - integers (`u32`): 0 ≤ n < 2^32, shortest MessagePack int form;
 * - amounts: unsigned integers < 2^256 as `bin`, big-endian, no leading zero byte (0 is empty);
 * - bytes: `bin`; strings: `str` (UTF-8); booleans; nested arrays.
 *
 * Decoding is strict: the input is size-checked, unpacked, walked by a typed `Reader` that checks
 * every field's type and size, and the result re-encoded: bytes that do not re-encode to exactly the
 * input (trailing bytes, wider int forms, floats posing as ints, maps) are rejected.
 */
import { Packr } from 'msgpackr';
import { assert } from './assert.ts';
import { equalBytes, toPlainBytes } from './bytes.ts';
import { ChainError } from './errors.ts';

export type CodecErrorType =
  | { code: 'CODEC_TOO_LARGE'; what: string; size: number; max: number }
  | { code: 'CODEC_MALFORMED'; what: string; reason: string }
  | { code: 'CODEC_TRAILING_BYTES'; what: string }
  | { code: 'CODEC_WRONG_TYPE'; what: string; field: string; expected: string }
  | { code: 'CODEC_WRONG_LENGTH'; what: string; field: string; expected: number; actual: number }
  | { code: 'CODEC_OVERSIZE'; what: string; field: string; max: number; actual: number }
  | { code: 'CODEC_NON_CANONICAL'; what: string };
export class CodecError extends ChainError<CodecErrorType> {}

/** Anything the canonical encoder accepts. */
export type Encodable = number | string | boolean | Uint8Array | readonly Encodable[];

export const U32_MAX = 0xffff_ffff;
export const AMOUNT_MAX = (1n << 256n) - 1n;

const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'bigint',
  moreTypes: false,
  bundleStrings: false,
  structuredClone: false,
  // Decoded byte strings get their own memory, never views into the input buffer.
  copyBuffers: true,
});

export function encode(value: Encodable): Uint8Array {
  assertEncodable(value, 0);
  // A copy: msgpackr returns a view into its shared buffer (up to megabytes), which a kept value
  // would otherwise pin in memory for as long as the value lives.
  return new Uint8Array(packr.pack(value));
}

function assertEncodable(value: Encodable, depth: number): void {
  assert(depth < 32, 'encode: nesting too deep');
  if (typeof value === 'number') {
    assert(Number.isInteger(value) && value >= 0 && value <= U32_MAX, `encode: not a u32: ${value}`);
  } else if (typeof value === 'string') {
    // A lone surrogate has no UTF-8 form: msgpackr would write invalid bytes for it.
    assert(value.isWellFormed(), 'encode: string is not well-formed UTF-16');
  } else if (Array.isArray(value)) {
    for (const item of value as readonly Encodable[]) assertEncodable(item, depth + 1);
  }
}

/** Unpacks one MessagePack value, mapping every failure to a typed CodecError. */
function unpackOne(bytes: Uint8Array, what: string): unknown {
  try {
    return packr.unpack(bytes);
  } catch (e: unknown) {
    const reason = e instanceof Error ? e.message : String(e);
    if (reason.includes('end of buffer not reached')) {
      throw new CodecError({ code: 'CODEC_TRAILING_BYTES', what }, `${what}: trailing bytes`);
    }
    throw new CodecError({ code: 'CODEC_MALFORMED', what, reason }, `${what}: malformed: ${reason}`);
  }
}

/**
 * Decodes `bytes` as one `what` with `parse`, then checks canonicality by re-encoding with `encodeFn`.
 */
export function decodeCanonical<T>(
  bytes: Uint8Array,
  what: string,
  maxBytes: number,
  parse: (value: unknown) => T,
  encodeFn: (value: T) => Uint8Array,
): T {
  if (bytes.length > maxBytes) {
    throw new CodecError(
      { code: 'CODEC_TOO_LARGE', what, size: bytes.length, max: maxBytes },
      `${what}: ${bytes.length} bytes exceeds the limit of ${maxBytes}`,
    );
  }
  const value = parse(unpackOne(bytes, what));
  if (!equalBytes(encodeFn(value), bytes)) {
    throw new CodecError({ code: 'CODEC_NON_CANONICAL', what }, `${what}: not in canonical form`);
  }
  return value;
}

export function amountToBytes(amount: bigint): Uint8Array {
  assert(amount >= 0n && amount <= AMOUNT_MAX, `amount out of range: ${amount}`);
  if (amount === 0n) return new Uint8Array(0);
  let hex = amount.toString(16);
  if (hex.length % 2 === 1) hex = '0' + hex;
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** Walks one decoded fixed-order array, checking each field's type and size in order. */
export class Reader {
  private index = 0;
  private readonly items: readonly unknown[];
  private readonly what: string;

  private constructor(items: readonly unknown[], what: string) {
    this.items = items;
    this.what = what;
  }

  /** `value` must be an array of exactly `length` items. */
  static array(value: unknown, what: string, length: number): Reader {
    if (!Array.isArray(value)) {
      throw new CodecError(
        { code: 'CODEC_WRONG_TYPE', what, field: '(root)', expected: 'array' },
        `${what}: expected an array`,
      );
    }
    if (value.length !== length) {
      throw new CodecError(
        { code: 'CODEC_WRONG_LENGTH', what, field: '(root)', expected: length, actual: value.length },
        `${what}: expected ${length} fields, got ${value.length}`,
      );
    }
    return new Reader(value, what);
  }

  /** `value` must be an array of at most `max` items, each parsed by `parseItem`. */
  static list<T>(value: unknown, what: string, max: number, parseItem: (item: unknown, index: number) => T): T[] {
    return new Reader([value], what).list('(root)', max, parseItem);
  }

  private next(): unknown {
    assert(this.index < this.items.length, `${this.what}: read past the end`);
    return this.items[this.index++];
  }

  private wrongType(field: string, expected: string): CodecError {
    return new CodecError(
      { code: 'CODEC_WRONG_TYPE', what: this.what, field, expected },
      `${this.what}.${field}: expected ${expected}`,
    );
  }

  private oversize(field: string, max: number, actual: number): CodecError {
    return new CodecError(
      { code: 'CODEC_OVERSIZE', what: this.what, field, max, actual },
      `${this.what}.${field}: size ${actual} exceeds ${max}`,
    );
  }

  u32(field: string, max = U32_MAX): number {
    const v = this.next();
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > U32_MAX) {
      throw this.wrongType(field, 'u32');
    }
    if (v > max) throw this.oversize(field, max, v);
    return v;
  }

  bool(field: string): boolean {
    const v = this.next();
    if (typeof v !== 'boolean') throw this.wrongType(field, 'bool');
    return v;
  }

  /** A byte string of exactly `length` bytes. */
  bytes(field: string, length: number): Uint8Array {
    const v = this.bytesMax(field, length);
    if (v.length !== length) {
      throw new CodecError(
        { code: 'CODEC_WRONG_LENGTH', what: this.what, field, expected: length, actual: v.length },
        `${this.what}.${field}: expected ${length} bytes, got ${v.length}`,
      );
    }
    return v;
  }

  bytesMax(field: string, max: number): Uint8Array {
    const v = this.next();
    if (!(v instanceof Uint8Array)) throw this.wrongType(field, 'bin');
    if (v.length > max) throw this.oversize(field, max, v.length);
    return toPlainBytes(v);
  }

  amount(field: string): bigint {
    const v = this.bytesMax(field, 32);
    if (v.length > 0 && v[0] === 0) {
      throw new CodecError({ code: 'CODEC_NON_CANONICAL', what: this.what }, `${this.what}.${field}: leading zero`);
    }
    return v.length === 0 ? 0n : BigInt('0x' + Buffer.from(v).toString('hex'));
  }

  /** A UTF-8 string of at most `maxBytes` bytes. */
  str(field: string, maxBytes: number): string {
    const v = this.next();
    if (typeof v !== 'string') throw this.wrongType(field, 'str');
    const size = Buffer.byteLength(v, 'utf8');
    if (size > maxBytes) throw this.oversize(field, maxBytes, size);
    return v;
  }

  /** An array of at most `max` items, each parsed by `parseItem`. */
  list<T>(field: string, max: number, parseItem: (value: unknown, index: number) => T): T[] {
    const v = this.next();
    if (!Array.isArray(v)) throw this.wrongType(field, 'array');
    if (v.length > max) throw this.oversize(field, max, v.length);
    return v.map((item, i) => parseItem(item, i));
  }

  /** The next field, unchecked, for a nested struct the caller parses. */
  raw(): unknown {
    return this.next();
  }
}

/**
 * Decodes a value read back from committed state: the size and every field's type are checked as
 * in `decodeCanonical`, the canonical-form check is not. Only the runtime writes state, always
 * through `encode`, and the state root authenticates what is stored, so a re-encoding per read
 * would only cost time on the per-block hot paths.
 */
export function decodeStateValue<T>(bytes: Uint8Array, what: string, maxBytes: number, parse: (value: unknown) => T): T {
  if (bytes.length > maxBytes) {
    throw new CodecError(
      { code: 'CODEC_TOO_LARGE', what, size: bytes.length, max: maxBytes },
      `${what}: ${bytes.length} bytes exceeds the limit of ${maxBytes}`,
    );
  }
  return parse(unpackOne(bytes, what));
}
