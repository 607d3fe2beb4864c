/**
 * Q16 fixed-point helpers (runtime/labelling/fixedPoint.ts) against Math.log2 / Math.pow.
 * Tolerances: log2Q16 within 1 unit (2^−16) of 65536 · log2(x); exp2NegQ30 within 2^30 · 1.5e−6
 * (relative: the linear interpolation between table entries) + 1 unit; exp2NegQ16 within 1 unit.
 */
import t from 'tap';
import fc from 'fast-check';
import { AssertionError } from '../../../lib/index.ts';
import { Q16, Q30, divFloor, exp2NegQ16, exp2NegQ30, log2Q16 } from '../../../runtime/labelling/fixedPoint.ts';

const LOG2_TOLERANCE = 1;
const EXP2_RELATIVE = 1.5e-6;

const log2Error = (x: number): number => Math.abs(log2Q16(x) - Q16 * Math.log2(x));
const exp2Error = (x: number): number => Math.abs(exp2NegQ30(x) - Q30 * Math.pow(2, -x / Q16));

t.test('log2Q16: exact at every power of two up to 2^52', async (t) => {
  for (let n = 0; n <= 52; n++) t.equal(log2Q16(2 ** n), n * Q16, `2^${n}`);
});

t.test('log2Q16: within one unit of Math.log2 (every x below 2^17, then across all magnitudes)', async (t) => {
  let worst = 0;
  for (let x = 1; x < 2 ** 17; x++) worst = Math.max(worst, log2Error(x));
  t.ok(worst <= LOG2_TOLERANCE, `small x: worst error ${worst}`);
  // Neighbours of powers of two, where the mantissa is rounded and may carry into the next octave.
  for (let n = 2; n <= 52; n++) {
    for (const x of [2 ** n - 1, 2 ** n + 1, 2 ** n - 2 ** Math.max(0, n - 27)]) {
      if (Number.isSafeInteger(x)) t.ok(log2Error(x) <= LOG2_TOLERANCE, `x = ${x}: error ${log2Error(x)}`);
    }
  }
  fc.assert(fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (x) => log2Error(x) <= LOG2_TOLERANCE), { numRuns: 20_000 });
  // Uniform over magnitudes too (fast-check's integers favour large values).
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 52 }), fc.double({ min: 1, max: 2, noNaN: true, maxExcluded: true }), (n, f) => {
      const x = Math.max(1, Math.min(Number.MAX_SAFE_INTEGER, Math.floor(2 ** n * f)));
      return log2Error(x) <= LOG2_TOLERANCE;
    }),
    { numRuns: 20_000 },
  );
});

t.test('log2Q16: non-decreasing', async (t) => {
  let previous = log2Q16(1);
  let ok = true;
  for (let x = 2; x < 2 ** 18; x++) {
    const v = log2Q16(x);
    if (v < previous) ok = false;
    previous = v;
  }
  t.ok(ok, 'consecutive integers below 2^18');
  fc.assert(
    fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 2 ** 30 }), (x, step) => {
      const y = Math.min(Number.MAX_SAFE_INTEGER, x + step);
      return log2Q16(x) <= log2Q16(y);
    }),
    { numRuns: 20_000 },
  );
});

t.test('exp2NegQ30: exact at integer exponents, zero once below half a unit', async (t) => {
  for (let n = 0; n <= 30; n++) t.equal(exp2NegQ30(n * Q16), 2 ** (30 - n), `2^-${n}`);
  t.equal(exp2NegQ30(31 * Q16), 0);
  t.equal(exp2NegQ30(1000 * Q16), 0);
  t.equal(exp2NegQ30(Number.MAX_SAFE_INTEGER), 0);
});

t.test('exp2NegQ30: the 256 table entries are round(2^30 · 2^(−i/256))', async (t) => {
  for (let i = 0; i < 256; i++) {
    const expected = Math.round(Q30 * Math.pow(2, -i / 256));
    t.ok(Math.abs(exp2NegQ30(i * 256) - expected) <= 1, `entry ${i}: ${exp2NegQ30(i * 256)} vs ${expected}`);
  }
});

t.test('exp2NegQ30 and exp2NegQ16: close to Math.pow over the whole range', async (t) => {
  let worst30 = 0;
  let worst16 = 0;
  for (let x = 0; x < 32 * Q16; x += 13) {
    const exact = Math.pow(2, -x / Q16);
    worst30 = Math.max(worst30, exp2Error(x) - Q30 * exact * EXP2_RELATIVE);
    worst16 = Math.max(worst16, Math.abs(exp2NegQ16(x) - Q16 * exact));
  }
  t.ok(worst30 <= 1, `Q30: worst error beyond the relative bound ${worst30}`);
  t.ok(worst16 <= 1, `Q16: worst error ${worst16}`);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 40 * Q16 }), (x) => exp2Error(x) <= Q30 * Math.pow(2, -x / Q16) * EXP2_RELATIVE + 1),
    { numRuns: 20_000 },
  );
});

t.test('exp2NegQ30: non-increasing', async (t) => {
  let previous = exp2NegQ30(0);
  let ok = true;
  for (let x = 1; x < 3 * Q16; x++) {
    const v = exp2NegQ30(x);
    if (v > previous) ok = false;
    previous = v;
  }
  t.ok(ok, 'every exponent below 3 (covers the table seams and two shifts)');
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 40 * Q16 }), fc.integer({ min: 0, max: Q16 }), (x, step) => exp2NegQ30(x + step) <= exp2NegQ30(x)),
    { numRuns: 20_000 },
  );
});

t.test('log2 and exp2 invert each other', async () => {
  // 2^(−(log2(2^30) − log2(y))) · 2^30 = y for y ≤ 2^30, within the sum of both tolerances.
  fc.assert(
    fc.property(fc.integer({ min: 1, max: Q30 }), (y) => {
      const back = exp2NegQ30(30 * Q16 - log2Q16(y));
      return Math.abs(back - y) <= y * (LOG2_TOLERANCE * Math.LN2 / Q16 + EXP2_RELATIVE) + 1;
    }),
    { numRuns: 20_000 },
  );
});

t.test('divFloor: the exact floor, checked with BigInt', async () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (a, b) => BigInt(divFloor(a, b)) === BigInt(a) / BigInt(b)),
    { numRuns: 20_000 },
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: 1000 }), (a, b) => BigInt(divFloor(a, b)) === BigInt(a) / BigInt(b)),
    { numRuns: 20_000 },
  );
  // Just below a multiple, near 2^53: where a rounded quotient could reach the next integer.
  for (const b of [3, 7, 1_000_003, 2 ** 26 + 1]) {
    const a = Math.floor((Number.MAX_SAFE_INTEGER - 1) / b) * b - 1;
    if (BigInt(divFloor(a, b)) !== BigInt(a) / BigInt(b)) throw new Error(`divFloor(${a}, ${b})`);
  }
});

t.test('invalid arguments are assertion failures', async (t) => {
  for (const x of [0, -1, 1.5, 2 ** 53, Number.NaN, Infinity]) t.throws(() => log2Q16(x), AssertionError, `log2Q16(${x})`);
  for (const x of [-1, 0.5, 2 ** 53, Number.NaN]) t.throws(() => exp2NegQ30(x), AssertionError, `exp2NegQ30(${x})`);
  t.throws(() => divFloor(1, 0), AssertionError);
  t.throws(() => divFloor(-1, 2), AssertionError);
  t.throws(() => divFloor(2 ** 53, 3), AssertionError);
  t.throws(() => divFloor(1.5, 1), AssertionError);
});
