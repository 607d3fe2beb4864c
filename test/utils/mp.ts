/**
 * A hand-written MessagePack writer, independent of msgpackr, for building valid and malformed
 * encodings in tests. Every function returns lower-case hex, so that tests read like the spec
 * (docs/spec/encoding.md) and malformed bytes are spelled out rather than produced by a library.
 */

function be(n: number | bigint, bytes: number): string {
  return BigInt(n).toString(16).padStart(bytes * 2, '0');
}

/** The shortest unsigned int form (the canonical one). */
export function u32(n: number): string {
  if (n < 0x80) return be(n, 1);
  if (n < 0x100) return 'cc' + be(n, 1);
  if (n < 0x10000) return 'cd' + be(n, 2);
  return 'ce' + be(n, 4);
}

/** Non-canonical int forms, for rejection tests. */
export const wide = {
  uint8: (n: number): string => 'cc' + be(n, 1),
  uint16: (n: number): string => 'cd' + be(n, 2),
  uint32: (n: number): string => 'ce' + be(n, 4),
  uint64: (n: number | bigint): string => 'cf' + be(n, 8),
  int8: (n: number): string => 'd0' + be(n, 1),
  int16: (n: number): string => 'd1' + be(n, 2),
  int32: (n: number): string => 'd2' + be(n, 4),
  int64: (n: number): string => 'd3' + be(n, 8),
  float32: (x: number): string => {
    const b = Buffer.alloc(4);
    b.writeFloatBE(x);
    return 'ca' + b.toString('hex');
  },
  float64: (x: number): string => {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(x);
    return 'cb' + b.toString('hex');
  },
};

/** `bin` of the given hex, shortest header. */
export function bin(hex: string): string {
  const n = hex.length / 2;
  if (n < 0x100) return 'c4' + be(n, 1) + hex;
  if (n < 0x10000) return 'c5' + be(n, 2) + hex;
  return 'c6' + be(n, 4) + hex;
}

export const bin16 = (hex: string): string => 'c5' + be(hex.length / 2, 2) + hex;
export const bin32 = (hex: string): string => 'c6' + be(hex.length / 2, 4) + hex;

/** `str` of raw UTF-8 bytes given as hex (which may be invalid UTF-8), shortest header. */
export function strBytes(hex: string): string {
  const n = hex.length / 2;
  if (n < 32) return be(0xa0 | n, 1) + hex;
  if (n < 0x100) return 'd9' + be(n, 1) + hex;
  if (n < 0x10000) return 'da' + be(n, 2) + hex;
  return 'db' + be(n, 4) + hex;
}

export function str(s: string): string {
  return strBytes(Buffer.from(s, 'utf8').toString('hex'));
}

export const str8 = (s: string): string => 'd9' + be(Buffer.byteLength(s), 1) + Buffer.from(s, 'utf8').toString('hex');
export const str16 = (s: string): string => 'da' + be(Buffer.byteLength(s), 2) + Buffer.from(s, 'utf8').toString('hex');

/** An amount: minimal big-endian bytes as `bin`, 0 as the empty `bin`. */
export function amount(v: bigint): string {
  if (v === 0n) return 'c400';
  let hex = v.toString(16);
  if (hex.length % 2 === 1) hex = '0' + hex;
  return bin(hex);
}

/** An array of already-encoded items, shortest header. */
export function arr(...items: string[]): string {
  const n = items.length;
  const head = n < 16 ? be(0x90 | n, 1) : n < 0x10000 ? 'dc' + be(n, 2) : 'dd' + be(n, 4);
  return head + items.join('');
}

export const arr16 = (...items: string[]): string => 'dc' + be(items.length, 2) + items.join('');
export const arr32 = (...items: string[]): string => 'dd' + be(items.length, 4) + items.join('');

/** A map of already-encoded key/value pairs (never canonical here). */
export function map(...pairs: Array<[string, string]>): string {
  return be(0x80 | pairs.length, 1) + pairs.map(([k, v]) => k + v).join('');
}

export const NIL = 'c0';
export const FALSE = 'c2';
export const TRUE = 'c3';

export const hexFill = (byte: number, n: number): string => be(byte, 1).repeat(n);
