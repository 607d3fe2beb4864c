/**
 * The canonical codec (lib/codec.ts): what it writes, and — above all — that every byte string that
 * is not the one canonical encoding is rejected with the right CodecError code. Malformed inputs are
 * spelled out in hex with test/utils/mp.ts, never produced by msgpackr.
 */
import t from 'tap';
import fc from 'fast-check';
import {
  AMOUNT_MAX,
  AssertionError,
  Reader,
  U32_MAX,
  amountToBytes,
  bytesToHex,
  decodeCanonical,
  encode,
  hexToBytes,
  type Encodable,
} from '../../../lib/index.ts';
import { decodeAccount, decodeParams, decodeValidatorSet, encodeAccount, encodeParams, DEFAULT_PARAMS } from '../../../state/index.ts';
import { decodeReceipt, decodeBlock } from '../../../runtime/index.ts';
import { decodeCommit, decodeVote } from '../../../consensus/index.ts';
import { errorOf } from '../../utils/factories.ts';
import * as mp from '../../utils/mp.ts';

const h = hexToBytes;

type T = Parameters<Parameters<typeof t.test>[0]>[0];

/** Checks that `decode` rejects `hex` with `code` (and, when given, names `field`). */
function rejects(t: T, decode: (b: Uint8Array) => unknown, hex: string, code: string, field?: string, msg?: string): void {
  const err = errorOf(() => decode(h(hex)));
  t.equal(err?.code ?? 'accepted', code, msg ?? `${hex.slice(0, 60)} → ${code}`);
  if (field !== undefined && err !== null) t.equal(err.field, field, `  field ${field}`);
}

/** Decodes one top-level u32 / amount / str / bin / bool with the Reader. */
const one = {
  u32: (b: Uint8Array): number => decodeCanonical(b, 'V', 1 << 20, (v) => Reader.array([v], 'V', 1).u32('v'), (v) => encode(v)),
  amount: (b: Uint8Array): bigint =>
    decodeCanonical(b, 'V', 1 << 20, (v) => Reader.array([v], 'V', 1).amount('v'), (v) => encode(amountToBytes(v))),
  str: (b: Uint8Array): string => decodeCanonical(b, 'V', 1 << 20, (v) => Reader.array([v], 'V', 1).str('v', 1 << 20), (v) => encode(v)),
  bin: (b: Uint8Array): Uint8Array =>
    decodeCanonical(b, 'V', 1 << 20, (v) => Reader.array([v], 'V', 1).bytesMax('v', 1 << 20), (v) => encode(v)),
  bool: (b: Uint8Array): boolean => decodeCanonical(b, 'V', 1 << 20, (v) => Reader.array([v], 'V', 1).bool('v'), (v) => encode(v)),
};

// Account = [balance: amount, nonce: u32] is the smallest struct: most cases go through it.
const account = (balance: string, nonce: string): string => mp.arr(balance, nonce);
const ACCOUNT_5_1 = account(mp.amount(5n), mp.u32(1));

t.test('encode writes the shortest standard forms', async (t) => {
  const cases: Array<[Encodable, string]> = [
    [0, '00'],
    [127, '7f'],
    [128, 'cc80'],
    [255, 'ccff'],
    [256, 'cd0100'],
    [65535, 'cdffff'],
    [65536, 'ce00010000'],
    [U32_MAX, 'ceffffffff'],
    ['', 'a0'],
    ['a'.repeat(31), mp.str('a'.repeat(31))],
    ['a'.repeat(32), 'd920' + '61'.repeat(32)],
    ['a'.repeat(256), 'da0100' + '61'.repeat(256)],
    [new Uint8Array(0), 'c400'],
    [new Uint8Array(256), 'c50100' + '00'.repeat(256)],
    [true, 'c3'],
    [false, 'c2'],
    [[], '90'],
    [Array.from({ length: 15 }, () => 0), '9f' + '00'.repeat(15)],
    [Array.from({ length: 16 }, () => 0), 'dc0010' + '00'.repeat(16)],
    [[1, ['x', new Uint8Array([9])]], '920192a178c40109'],
  ];
  for (const [value, hex] of cases) t.equal(bytesToHex(encode(value)), hex, JSON.stringify(value).slice(0, 40));
  t.equal(bytesToHex(encodeAccount({ balance: 5n, nonce: 1 })), ACCOUNT_5_1);
});

t.test('encode refuses what has no canonical form (a bug in the caller, not bad input)', async (t) => {
  for (const bad of [-1, 1.5, U32_MAX + 1, Number.NaN, Number.POSITIVE_INFINITY]) {
    t.throws(() => encode(bad), AssertionError, `number ${bad}`);
    t.throws(() => encode([0, [bad]]), AssertionError, `nested number ${bad}`);
  }
  t.throws(() => amountToBytes(-1n), AssertionError);
  t.throws(() => amountToBytes(AMOUNT_MAX + 1n), AssertionError);
  let deep: Encodable = [];
  for (let i = 0; i < 40; i++) deep = [deep];
  t.throws(() => encode(deep), AssertionError, 'nesting deeper than 32');
});

t.test('encode refuses strings that are not well-formed UTF-16 (lone surrogates)', async (t) => {
  t.throws(() => encode('\ud800'), AssertionError, 'short string with a lone surrogate');
  t.throws(() => encode('x'.repeat(100) + '\udc00'), AssertionError, 'long string with a lone surrogate');
});

t.test('amounts: minimal big-endian bin, zero is the empty bin', async (t) => {
  const cases: Array<[bigint, string]> = [
    [0n, 'c400'],
    [1n, 'c40101'],
    [255n, 'c401ff'],
    [256n, 'c4020100'],
    [1n << 64n, 'c409010000000000000000'],
    [AMOUNT_MAX, 'c420' + 'ff'.repeat(32)],
  ];
  for (const [v, hex] of cases) {
    t.equal(bytesToHex(encode(amountToBytes(v))), hex, `${v}`);
    t.equal(one.amount(h(hex)), v, `${v} decodes`);
  }
});

t.test('trailing bytes → CODEC_TRAILING_BYTES', async (t) => {
  rejects(t, decodeAccount, ACCOUNT_5_1 + '00', 'CODEC_TRAILING_BYTES');
  rejects(t, decodeAccount, ACCOUNT_5_1 + 'c0', 'CODEC_TRAILING_BYTES');
  rejects(t, decodeAccount, ACCOUNT_5_1 + ACCOUNT_5_1, 'CODEC_TRAILING_BYTES', undefined, 'two values');
  rejects(t, one.u32, '0000', 'CODEC_TRAILING_BYTES');
  rejects(t, decodeParams, bytesToHex(encodeParams(DEFAULT_PARAMS)) + 'ff', 'CODEC_TRAILING_BYTES');
});

t.test('truncated or empty input → CODEC_MALFORMED', async (t) => {
  rejects(t, decodeAccount, '', 'CODEC_MALFORMED');
  rejects(t, decodeAccount, ACCOUNT_5_1.slice(0, -2), 'CODEC_MALFORMED', undefined, 'missing the last field');
  rejects(t, decodeAccount, mp.arr('c405' + '01', mp.u32(1)), 'CODEC_MALFORMED', undefined, 'bin longer than the input');
  rejects(t, one.u32, 'cd01', 'CODEC_MALFORMED', undefined, 'uint16 cut short');
  rejects(t, one.u32, 'd101', 'CODEC_MALFORMED', undefined, 'int16 cut short');
  rejects(t, one.str, 'a3e282', 'CODEC_MALFORMED', undefined, 'str cut short');
  rejects(t, decodeAccount, mp.arr(mp.amount(5n), 'd40100'), 'CODEC_MALFORMED', undefined, 'unknown extension type');
});

t.test('input above the size limit → CODEC_TOO_LARGE, before any parsing', async (t) => {
  rejects(t, decodeAccount, '00'.repeat(65), 'CODEC_TOO_LARGE');
  const err = errorOf(() => decodeAccount(new Uint8Array(65)));
  t.match(err, { code: 'CODEC_TOO_LARGE', size: 65, max: 64 });
});

t.test('u32 not in its shortest form → CODEC_NON_CANONICAL; as uint64 or negative → CODEC_WRONG_TYPE', async (t) => {
  for (const n of [0, 1, 127]) {
    rejects(t, decodeAccount, account(mp.amount(5n), mp.wide.uint8(n)), 'CODEC_NON_CANONICAL', undefined, `${n} as uint8`);
  }
  for (const n of [0, 1, 200, 255]) {
    rejects(t, decodeAccount, account(mp.amount(5n), mp.wide.uint16(n)), 'CODEC_NON_CANONICAL', undefined, `${n} as uint16`);
  }
  for (const n of [1, 255, 300, 65535]) {
    rejects(t, decodeAccount, account(mp.amount(5n), mp.wide.uint32(n)), 'CODEC_NON_CANONICAL', undefined, `${n} as uint32`);
  }
  for (const n of [1, 65536, U32_MAX]) {
    // msgpackr reads every uint64 as a bigint: not a u32 at all.
    rejects(t, decodeAccount, account(mp.amount(5n), mp.wide.uint64(n)), 'CODEC_WRONG_TYPE', 'nonce', `${n} as uint64`);
  }
  rejects(t, decodeAccount, account(mp.amount(5n), mp.wide.uint64(2n ** 32n)), 'CODEC_WRONG_TYPE', 'nonce', '2^32');
  rejects(t, decodeAccount, account(mp.amount(5n), mp.wide.int8(1)), 'CODEC_NON_CANONICAL', undefined, 'positive int8');
  rejects(t, decodeAccount, account(mp.amount(5n), mp.wide.int16(1)), 'CODEC_NON_CANONICAL', undefined, 'positive int16');
  rejects(t, decodeAccount, account(mp.amount(5n), mp.wide.int32(1)), 'CODEC_NON_CANONICAL', undefined, 'positive int32');
  rejects(t, decodeAccount, account(mp.amount(5n), mp.wide.int64(1)), 'CODEC_WRONG_TYPE', 'nonce', 'int64');
  rejects(t, decodeAccount, account(mp.amount(5n), 'ff'), 'CODEC_WRONG_TYPE', 'nonce', 'negative fixint -1');
  rejects(t, decodeAccount, account(mp.amount(5n), 'd0ff'), 'CODEC_WRONG_TYPE', 'nonce', 'int8 -1');
  // The canonical forms still decode.
  for (const n of [0, 127, 128, 255, 256, 65535, 65536, U32_MAX]) {
    t.same(decodeAccount(h(account(mp.amount(5n), mp.u32(n)))), { balance: 5n, nonce: n }, `${n} canonical`);
  }
});

t.test('floats → CODEC_NON_CANONICAL when they hold an integer, CODEC_WRONG_TYPE otherwise', async (t) => {
  for (const x of [0, 1, 7, 300, 65536]) {
    rejects(t, decodeAccount, account(mp.amount(5n), mp.wide.float64(x)), 'CODEC_NON_CANONICAL', undefined, `float64 ${x}`);
    rejects(t, decodeAccount, account(mp.amount(5n), mp.wide.float32(x)), 'CODEC_NON_CANONICAL', undefined, `float32 ${x}`);
  }
  rejects(t, decodeAccount, account(mp.amount(5n), mp.wide.float64(1.5)), 'CODEC_WRONG_TYPE', 'nonce', 'float64 1.5');
  rejects(t, decodeAccount, account(mp.amount(5n), mp.wide.float64(-1)), 'CODEC_WRONG_TYPE', 'nonce', 'float64 -1');
  rejects(t, decodeAccount, account(mp.amount(5n), mp.wide.float64(2 ** 32)), 'CODEC_WRONG_TYPE', 'nonce', 'float64 2^32');
  rejects(t, decodeAccount, account(mp.amount(5n), mp.wide.float64(Number.NaN)), 'CODEC_WRONG_TYPE', 'nonce', 'NaN');
});

t.test('a map instead of an array → CODEC_WRONG_TYPE', async (t) => {
  rejects(t, decodeAccount, mp.map([mp.str('balance'), mp.amount(5n)], [mp.str('nonce'), mp.u32(1)]), 'CODEC_WRONG_TYPE', '(root)');
  rejects(t, decodeAccount, '80', 'CODEC_WRONG_TYPE', '(root)', 'empty map');
  rejects(t, decodeAccount, mp.map([mp.u32(0), mp.amount(5n)], [mp.u32(1), mp.u32(1)]), 'CODEC_WRONG_TYPE', '(root)', 'int keys');
  rejects(t, decodeValidatorSet, mp.arr('80'), 'CODEC_WRONG_TYPE', '(root)', 'nested map');
  rejects(t, decodeAccount, account(mp.amount(5n), '80'), 'CODEC_WRONG_TYPE', 'nonce', 'map as a field');
});

t.test('arrays: wrong field count → CODEC_WRONG_LENGTH; wide headers → CODEC_NON_CANONICAL', async (t) => {
  rejects(t, decodeAccount, mp.arr(mp.amount(5n)), 'CODEC_WRONG_LENGTH', '(root)', 'one field short');
  rejects(t, decodeAccount, mp.arr(mp.amount(5n), mp.u32(1), mp.u32(1)), 'CODEC_WRONG_LENGTH', '(root)', 'one field too many');
  rejects(t, decodeAccount, mp.arr(), 'CODEC_WRONG_LENGTH', '(root)', 'empty');
  const err = errorOf(() => decodeAccount(h(mp.arr(mp.amount(5n)))));
  t.match(err, { expected: 2, actual: 1 });
  rejects(t, decodeAccount, mp.arr16(mp.amount(5n), mp.u32(1)), 'CODEC_NON_CANONICAL', undefined, 'array16 of 2');
  rejects(t, decodeAccount, mp.arr32(mp.amount(5n), mp.u32(1)), 'CODEC_NON_CANONICAL', undefined, 'array32 of 2');
  rejects(t, decodeValidatorSet, mp.arr16(), 'CODEC_NON_CANONICAL', undefined, 'empty list as array16');
});

t.test('wrong value types → CODEC_WRONG_TYPE naming the field', async (t) => {
  const others: Array<[string, string]> = [
    ['nil', mp.NIL],
    ['true', mp.TRUE],
    ['false', mp.FALSE],
    ['str', mp.str('5')],
    ['array', mp.arr()],
    ['0xc1 (never used)', 'c1'],
    ['timestamp extension', 'd6ff00000000'],
    ['extension 0', 'd40000'],
  ];
  for (const [name, hex] of others) {
    rejects(t, decodeAccount, account(hex, mp.u32(1)), 'CODEC_WRONG_TYPE', 'balance', `balance as ${name}`);
    rejects(t, decodeAccount, account(mp.amount(5n), hex), 'CODEC_WRONG_TYPE', 'nonce', `nonce as ${name}`);
  }
  rejects(t, decodeAccount, account(mp.u32(5), mp.u32(1)), 'CODEC_WRONG_TYPE', 'balance', 'balance as an int');
  rejects(t, decodeAccount, account(mp.amount(5n), mp.bin('01')), 'CODEC_WRONG_TYPE', 'nonce', 'nonce as bin');
  rejects(t, one.bool, mp.u32(1), 'CODEC_WRONG_TYPE', 'v', 'bool as int');
  rejects(t, one.str, mp.bin('61'), 'CODEC_WRONG_TYPE', 'v', 'str as bin');
  rejects(t, one.bin, mp.str('a'), 'CODEC_WRONG_TYPE', 'v', 'bin as str');
  const validator = (name: string): string => mp.arr(mp.bin(mp.hexFill(0x11, 20)), mp.bin(mp.hexFill(0x22, 32)), mp.amount(1n), name);
  rejects(t, decodeValidatorSet, mp.arr(validator(mp.bin('61'))), 'CODEC_WRONG_TYPE', 'name', 'name as bin');
});

t.test('amounts: leading zero → CODEC_NON_CANONICAL, over 32 bytes → CODEC_OVERSIZE', async (t) => {
  const bal = (hex: string): string => account(hex, mp.u32(1));
  rejects(t, decodeAccount, bal(mp.bin('00')), 'CODEC_NON_CANONICAL', undefined, 'zero as one zero byte');
  rejects(t, decodeAccount, bal(mp.bin('0005')), 'CODEC_NON_CANONICAL', undefined, '5 with a leading zero byte');
  rejects(t, decodeAccount, bal(mp.bin('00' + 'ff'.repeat(31))), 'CODEC_NON_CANONICAL', undefined, '32 bytes, leading zero');
  rejects(t, decodeAccount, bal(mp.bin('01' + '00'.repeat(32))), 'CODEC_OVERSIZE', 'balance', '33 bytes (2^256)');
  rejects(t, decodeAccount, bal(mp.bin('00'.repeat(33))), 'CODEC_OVERSIZE', 'balance', '33 zero bytes');
  rejects(t, decodeAccount, bal(mp.bin16('05')), 'CODEC_NON_CANONICAL', undefined, 'bin16 header for 1 byte');
  rejects(t, decodeAccount, bal(mp.bin32('05')), 'CODEC_NON_CANONICAL', undefined, 'bin32 header for 1 byte');
  rejects(t, decodeAccount, bal(mp.bin16('')), 'CODEC_NON_CANONICAL', undefined, 'zero as an empty bin16');
  t.same(decodeAccount(h(bal(mp.bin('ff'.repeat(32))))), { balance: AMOUNT_MAX, nonce: 1 }, '32 bytes of 0xff is the largest');
  t.same(decodeAccount(h(bal(mp.bin('')))), { balance: 0n, nonce: 1 }, 'empty bin is zero');
});

t.test('strings: oversize → CODEC_OVERSIZE, wide headers and invalid UTF-8 → CODEC_NON_CANONICAL', async (t) => {
  const set = (name: string): string => mp.arr(mp.arr(mp.bin(mp.hexFill(0x11, 20)), mp.bin(mp.hexFill(0x22, 32)), mp.amount(1n), name));
  t.equal(decodeValidatorSet(h(set(mp.str('x'.repeat(64)))))[0]?.name, 'x'.repeat(64), '64 bytes is the limit');
  rejects(t, decodeValidatorSet, set(mp.str('x'.repeat(65))), 'CODEC_OVERSIZE', 'name', '65 ASCII bytes');
  rejects(t, decodeValidatorSet, set(mp.str('é'.repeat(33))), 'CODEC_OVERSIZE', 'name', '33 characters, 66 bytes: the limit counts bytes');
  const err = errorOf(() => decodeValidatorSet(h(set(mp.str('é'.repeat(33))))));
  t.match(err, { max: 64, actual: 66 });
  rejects(t, decodeValidatorSet, set(mp.str8('a')), 'CODEC_NON_CANONICAL', undefined, 'str8 for 1 byte');
  rejects(t, decodeValidatorSet, set(mp.str16('a')), 'CODEC_NON_CANONICAL', undefined, 'str16 for 1 byte');
  const invalidUtf8: Array<[string, string]> = [
    ['lone continuation byte', '80'],
    ['0xff', 'ff'],
    ['truncated 2-byte sequence', 'c3'],
    ['bad continuation', 'c328'],
    ['overlong NUL', 'c080'],
    ['overlong 3-byte', 'e08080'],
    ['UTF-16 surrogate U+D800', 'eda080'],
    ['surrogate pair in CESU-8', 'eda0bdedb880'],
    ['above U+10FFFF', 'f4908080'],
    ['5-byte sequence', 'f888808080'],
  ];
  for (const [name, bytes] of invalidUtf8) {
    rejects(t, decodeValidatorSet, set(mp.strBytes('61' + bytes)), 'CODEC_NON_CANONICAL', undefined, `short str: ${name}`);
    rejects(t, one.str, mp.strBytes('61'.repeat(40) + bytes), 'CODEC_NON_CANONICAL', undefined, `long str: ${name}`);
  }
  t.equal(one.str(h(mp.strBytes('c3a9e282acf09f9880'))), 'é€😀', 'valid multi-byte UTF-8 decodes');
});

// Reader.bytes(field, n) checks the upper bound first (bytesMax), so a fixed-size field that is too
// long reports CODEC_OVERSIZE (max n) and one that is too short CODEC_WRONG_LENGTH.
t.test('byte strings: too short for a fixed size → CODEC_WRONG_LENGTH, too long → CODEC_OVERSIZE', async (t) => {
  const validator = (address: string, publicKey: string): string => mp.arr(mp.arr(mp.bin(address), mp.bin(publicKey), mp.amount(1n), mp.str('v')));
  rejects(t, decodeValidatorSet, validator(mp.hexFill(1, 19), mp.hexFill(2, 32)), 'CODEC_WRONG_LENGTH', 'address', '19-byte address');
  rejects(t, decodeValidatorSet, validator(mp.hexFill(1, 21), mp.hexFill(2, 32)), 'CODEC_OVERSIZE', 'address', '21-byte address');
  rejects(t, decodeValidatorSet, validator(mp.hexFill(1, 20), mp.hexFill(2, 33)), 'CODEC_OVERSIZE', 'publicKey', '33-byte key');
  rejects(t, decodeValidatorSet, validator(mp.hexFill(1, 20), ''), 'CODEC_WRONG_LENGTH', 'publicKey', 'empty key');
  // Vote.blockHash: 32 bytes or empty (nil); bytesMax(32) first.
  const vote = (hash: string): string => mp.arr(mp.u32(1), mp.u32(1), mp.u32(0), mp.bin(hash), mp.bin(mp.hexFill(3, 20)));
  t.equal(decodeVote(h(vote(''))).blockHash.length, 0, 'nil vote');
  t.equal(decodeVote(h(vote(mp.hexFill(9, 32)))).blockHash.length, 32, 'vote for a block');
  rejects(t, decodeVote, vote(mp.hexFill(9, 33)), 'CODEC_OVERSIZE', 'blockHash', '33-byte hash');
  rejects(t, decodeVote, vote(mp.hexFill(9, 31)), 'CODEC_WRONG_LENGTH', 'blockHash', '31-byte hash');
});

t.test('lists: more items than allowed → CODEC_OVERSIZE, checked before the items', async (t) => {
  rejects(t, decodeValidatorSet, mp.arr16(...Array.from({ length: 201 }, () => mp.NIL)), 'CODEC_OVERSIZE', '(root)', '201 validators');
  const sig = mp.arr(mp.bin(mp.hexFill(1, 20)), mp.bin(mp.hexFill(2, 64)));
  const commit = (n: number): string => mp.arr(mp.u32(1), mp.u32(0), mp.bin(mp.hexFill(3, 32)), mp.arr16(...Array.from({ length: n }, () => sig)));
  rejects(t, decodeCommit, commit(201), 'CODEC_OVERSIZE', 'signatures', '201 commit signatures');
  const event = (attrs: number): string => mp.arr(mp.str('e'), mp.arr16(...Array.from({ length: attrs }, () => mp.arr(mp.str('k'), mp.str('v')))));
  const receipt = (events: string[]): string => mp.arr(mp.bin(mp.hexFill(1, 32)), mp.u32(0), mp.str(''), mp.amount(0n), mp.arr16(...events));
  rejects(t, decodeReceipt, receipt(Array.from({ length: 257 }, () => event(0))), 'CODEC_OVERSIZE', 'events', '257 events');
  rejects(t, decodeReceipt, receipt([event(33)]), 'CODEC_OVERSIZE', 'attributes', '33 attributes');
  rejects(t, decodeReceipt, mp.arr(mp.bin(mp.hexFill(1, 32)), mp.u32(2), mp.str(''), mp.amount(0n), mp.arr()), 'CODEC_OVERSIZE', 'status', 'status 2');
  rejects(t, decodeParams, mp.arr(mp.amount(1n), mp.amount(1n), mp.u32(101), mp.u32(1), mp.u32(1), mp.u32(1)), 'CODEC_OVERSIZE', 'feeBurnPercent');
  rejects(t, decodeVote, mp.arr(mp.u32(3), mp.u32(1), mp.u32(0), mp.bin(''), mp.bin(mp.hexFill(3, 20))), 'CODEC_OVERSIZE', 'type', 'vote type 3');
  rejects(t, decodeVote, mp.arr(mp.u32(0), mp.u32(1), mp.u32(0), mp.bin(''), mp.bin(mp.hexFill(3, 20))), 'CODEC_WRONG_TYPE', 'type', 'vote type 0');
  // A block's txs are byte strings.
  const header = mp.arr(
    mp.u32(1), mp.str('c'), mp.u32(1), mp.amount(1n),
    ...Array.from({ length: 5 }, () => mp.bin(mp.hexFill(0, 32))),
    mp.bin(mp.hexFill(0, 20)),
    mp.bin(mp.hexFill(0, 32)), mp.bin(mp.hexFill(0, 32)),
  );
  t.equal(decodeBlock(h(mp.arr(header, mp.bin(''), mp.arr(mp.bin('01'))))).txs.length, 1, 'a block decodes');
  rejects(t, decodeBlock, mp.arr(header, mp.bin(''), mp.arr(mp.str('01'))), 'CODEC_WRONG_TYPE', 'txs[0]', 'a tx as str');
  rejects(t, decodeBlock, mp.arr(header, mp.str(''), mp.arr()), 'CODEC_WRONG_TYPE', 'lastCommit', 'a last commit as str');
});

t.test('property: every u32 round-trips in its shortest form; its other forms are rejected', async () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: U32_MAX }), (n) => {
      const bytes = encode(n);
      const hex = mp.u32(n);
      if (bytesToHex(bytes) !== hex || one.u32(bytes) !== n) return false;
      const forms: string[] = [];
      if (n < 0x100) forms.push(mp.wide.uint8(n));
      if (n < 0x10000) forms.push(mp.wide.uint16(n));
      forms.push(mp.wide.uint32(n));
      return forms.filter((f) => f !== hex).every((f) => errorOf(() => one.u32(h(f)))?.code === 'CODEC_NON_CANONICAL');
    }),
    { numRuns: 2000 },
  );
});

t.test('property: every amount round-trips; a leading zero byte is always rejected', async () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: AMOUNT_MAX }), (v) => {
      const bytes = encode(amountToBytes(v));
      if (bytesToHex(bytes) !== mp.amount(v) || one.amount(bytes) !== v) return false;
      const raw = amountToBytes(v);
      if (raw.length > 0 && raw[0] === 0) return false;
      if (raw.length >= 32) return true;
      const padded = mp.bin('00' + bytesToHex(raw));
      return errorOf(() => one.amount(h(padded)))?.code === 'CODEC_NON_CANONICAL';
    }),
    { numRuns: 2000 },
  );
});

t.test('property: a str is accepted only if it is valid UTF-8, and then round-trips', async () => {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  // Bytes biased towards UTF-8 lead and continuation bytes, so many inputs are near-valid.
  const byte = fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xbf }), fc.integer({ min: 0xc0, max: 0xff }));
  fc.assert(
    fc.property(fc.array(byte, { maxLength: 80 }), (body) => {
      const raw = Uint8Array.from(body);
      let valid = true;
      try {
        fatal.decode(raw);
      } catch {
        valid = false;
      }
      const err = errorOf(() => one.str(h(mp.strBytes(bytesToHex(raw)))));
      return valid ? err === null : err?.code === 'CODEC_NON_CANONICAL';
    }),
    { numRuns: 3000 },
  );
});

t.test('property: every string round-trips through encode', async () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 100 }), (s) => {
      const bytes = encode(s);
      return bytesToHex(bytes) === mp.str(s) && one.str(bytes) === s;
    }),
    { numRuns: 1000 },
  );
});

t.test('an encoding owns its memory (it does not pin the encoder\'s shared buffer)', async (t) => {
  encode(['x'.repeat(100_000)]); // grow the shared buffer
  const small = encode([1, 2, 3]);
  t.equal(small.buffer.byteLength, small.length);
  t.equal(small.byteOffset, 0);
});
