/**
 * Q16 fixed-point helpers for the label aggregator (runtime/labelling/aggregate.ts): an integer
 * log2, a table-driven 2^(−x), and an exact floor division. Integer-only and deterministic: every
 * value is a JavaScript `number` that holds an integer below 2^53, so each + − × is exact, and every
 * division is either by a power of two (exact in binary floating point) or goes through `divFloor`.
 * No Math.log, Math.exp or Math.pow (research/label-consensus.md §4, "Fixed-point recipe").
 */
import { assert } from '../../lib/index.ts';

/** One in Q16: a Q16 value v stands for v / 65536. */
export const Q16 = 65536;
const Q16_BITS = 16;
/** One in Q30, the scale of `exp2NegQ30`. */
export const Q30 = 1 << 30;

/**
 * floor(a / b) for integers 0 ≤ a < 2^53 and b ≥ 1, exactly.
 *
 * Why `Math.floor(a / b)` is exact here: IEEE 754 division is correctly rounded, so the computed
 * quotient q' differs from q = a / b by at most q · 2^−53 < 2^53 / b · 2^−53 = 1 / b. If b divides a,
 * q is an integer below 2^53 and is represented exactly. Otherwise q = n + f with 1/b ≤ f ≤ 1 − 1/b,
 * so q' stays strictly between n and n + 1 and its floor is n.
 */
export function divFloor(a: number, b: number): number {
  // Constant messages: these run in the aggregator's inner loops, where building a string per call
  // would cost more than the arithmetic.
  assert(Number.isSafeInteger(a) && a >= 0, 'divFloor: the dividend is not an integer in [0, 2^53)');
  assert(Number.isSafeInteger(b) && b >= 1, 'divFloor: the divisor is not a positive safe integer');
  return Math.floor(a / b);
}

/** Number of bits of the log2 mantissa: m ∈ [2^25, 2^26) stands for m / 2^25 ∈ [1, 2). */
const MANTISSA_BITS = 25;
const MANTISSA_ONE = 2 ** MANTISSA_BITS;
const MANTISSA_TWO = 2 ** (MANTISSA_BITS + 1);
const TWO_POW_32 = 2 ** 32;

/** POW2[i] = 2^i for i = 0..27, the scales of the mantissa: a lookup in the hot path, built by doubling. */
const POW2: readonly number[] = Array.from({ length: 28 }, (_, i) => (i === 0 ? 1 : 2 * (1 << (i - 1))));

/** Position of the most significant set bit of a positive safe integer (floor(log2 x)). */
function msbIndex(x: number): number {
  if (x < TWO_POW_32) return 31 - Math.clz32(x);
  // x < 2^53, so x / 2^32 < 2^21 and its floor is exact (division by a power of two).
  return 63 - Math.clz32(Math.floor(x / TWO_POW_32));
}

/**
 * log2(x) in Q16 for a positive safe integer x: 65536 · log2(x), within one unit (see the tests).
 *
 * The integer part is the position of the most significant bit. The fraction comes from the
 * mantissa m = x / 2^msb ∈ [1, 2), held as a Q25 integer and rounded to nearest when x has more than
 * 26 bits: squaring m doubles its log2, so after each squaring, m ≥ 2 means the next fraction bit is
 * 1 (then halve m). 17 rounds give 17 fraction bits, rounded to 16. The result is exact at powers of
 * two (m stays 2^25) and non-decreasing in x (each step is).
 */
export function log2Q16(x: number): number {
  assert(Number.isSafeInteger(x) && x >= 1, 'log2Q16: x is not a positive safe integer');
  let msb = msbIndex(x);
  let m: number;
  if (msb <= MANTISSA_BITS) {
    m = x << (MANTISSA_BITS - msb); // x < 2^(msb + 1), so m < 2^26: no 32-bit overflow
  } else {
    const scale = POW2[msb - MANTISSA_BITS] as number;
    m = Math.floor(x / scale); // division by a power of two: exact
    const rest = x - m * scale; // m · scale ≤ x < 2^53
    if (rest * 2 >= scale) m += 1; // round half up; rest · 2 < 2 · scale ≤ 2^53
    if (m === MANTISSA_TWO) {
      m = MANTISSA_ONE;
      msb += 1;
    }
  }
  let frac = 0;
  for (let round = 0; round <= Q16_BITS; round++) {
    m = squareQ25(m); // < 2^27
    const bit = m >>> (MANTISSA_BITS + 1); // 1 iff m ≥ 2 (branch-free: this loop is the hot spot)
    m >>>= bit;
    frac = (frac << 1) | bit;
  }
  // frac has 17 fraction bits; round to 16 (half up). frac + 1 ≤ 2^17, so the result is < 2^23.
  return msb * Q16 + ((frac + 1) >>> 1);
}

/**
 * floor(m² / 2^25) for 2^25 ≤ m < 2^26, in 32-bit integer operations (the hot loop of log2Q16).
 * With m = hi · 2^13 + lo (hi < 2^13, lo < 2^13): m² / 2^25 = 2 · hi² + (2^14 · hi · lo + lo²) / 2^25,
 * and floor((2^14 · a + b) / 2^25) = floor((a + floor(b / 2^14)) / 2^11) for integers a, b ≥ 0 (the
 * dropped fraction of b / 2^14 is below 1 and cannot carry the sum across a multiple of 2^11). Every
 * product and sum stays below 2^28.
 */
function squareQ25(m: number): number {
  const hi = m >>> 13;
  const lo = m & 0x1fff;
  return 2 * hi * hi + ((hi * lo + ((lo * lo) >>> 14)) >>> 11);
}

/**
 * EXP2_NEG_Q30[i] = round(2^30 · 2^(−i/256)) for i = 0..256 (generated once with 60-digit decimal
 * arithmetic; the test checks every entry against Math.pow). A constant, never computed at run time,
 * because Math.pow is not required to round identically on every platform.
 */
const EXP2_NEG_Q30: readonly number[] = [
  1073741824, 1070838486, 1067942999, 1065055341, 1062175491, 1059303428, 1056439131, 1053582579,
  1050733751, 1047892626, 1045059183, 1042233401, 1039415261, 1036604740, 1033801819, 1031006477,
  1028218693, 1025438448, 1022665720, 1019900489, 1017142735, 1014392438, 1011649578, 1008914134,
  1006186087, 1003465416, 1000752102, 998046124, 995347464, 992656100, 989972014, 987295185,
  984625594, 981963222, 979308048, 976660054, 974019220, 971385527, 968758955, 966139485,
  963527098, 960921775, 958323496, 955732243, 953147997, 950570738, 948000448, 945437108,
  942880699, 940331203, 937788600, 935252872, 932724001, 930201967, 927686753, 925178340,
  922676710, 920181844, 917693724, 915212331, 912737649, 910269657, 907808339, 905353676,
  902905651, 900464244, 898029440, 895601218, 893179563, 890764456, 888355878, 885953814,
  883558244, 881169153, 878786521, 876410331, 874040567, 871677210, 869320244, 866969651,
  864625413, 862287515, 859955938, 857630665, 855311680, 852998965, 850692504, 848392279,
  846098274, 843810471, 841528855, 839253408, 836984114, 834720956, 832463917, 830212982,
  827968132, 825729353, 823496627, 821269938, 819049271, 816834607, 814625932, 812423229,
  810226483, 808035676, 805850792, 803671817, 801498734, 799331526, 797170178, 795014675,
  792865000, 790721137, 788583072, 786450787, 784324269, 782203500, 780088465, 777979150,
  775875538, 773777614, 771685363, 769598769, 767517817, 765442492, 763372778, 761308661,
  759250125, 757197155, 755149737, 753107854, 751071493, 749040637, 747015274, 744995386,
  742980960, 740971982, 738968435, 736970306, 734977579, 732990241, 731008277, 729031671,
  727060411, 725094480, 723133865, 721178552, 719228525, 717283772, 715344277, 713410026,
  711481005, 709557200, 707638598, 705725183, 703816941, 701913860, 700015924, 698123120,
  696235434, 694352853, 692475362, 690602947, 688735596, 686873293, 685016026, 683163781,
  681316545, 679474303, 677637043, 675804750, 673977412, 672155015, 670337545, 668524990,
  666717336, 664914570, 663116678, 661323648, 659535466, 657752119, 655973594, 654199878,
  652430958, 650666822, 648907455, 647152846, 645402981, 643657847, 641917433, 640181724,
  638450708, 636724373, 635002706, 633285695, 631573326, 629865587, 628162466, 626463950,
  624770026, 623080683, 621395908, 619715688, 618040012, 616368866, 614702239, 613040119,
  611382493, 609729349, 608080675, 606436459, 604796689, 603161352, 601530438, 599903933,
  598281827, 596664106, 595050760, 593441776, 591837143, 590236848, 588640881, 587049229,
  585461881, 583878825, 582300049, 580725543, 579155293, 577589290, 576027521, 574469975,
  572916640, 571367506, 569822560, 568281792, 566745190, 565212742, 563684439, 562160268,
  560640218, 559124278, 557612438, 556104685, 554601009, 553101399, 551605844, 550114332,
  548626854, 547143398, 545663953, 544188508, 542717053, 541249576, 539786068, 538326517,
  536870912,
];

/**
 * 2^(−x / 65536) in Q30 for a Q16 exponent x ≥ 0 (so x = 65536 gives 2^29, one half).
 *
 * x = n · 65536 + hi · 256 + lo. The table gives 2^(−hi/256) in Q30; the step to the next entry is
 * interpolated linearly over lo/256 (relative error below 1e−6, second-order term of a 1/256 step),
 * then the integer part n is a right shift, rounded half up. All values stay below 2^31, so the
 * bitwise operators (32-bit signed) are exact. Exact at integer exponents; non-increasing in x.
 */
export function exp2NegQ30(xQ16: number): number {
  assert(Number.isSafeInteger(xQ16) && xQ16 >= 0, 'exp2NegQ30: x is not a non-negative safe integer');
  const whole = Math.floor(xQ16 / Q16); // division by a power of two: exact
  if (whole > 30) return 0; // at most 2^−31 · 2^30 = 1/2 unit: taken as 0
  const frac = xQ16 - whole * Q16;
  const hi = frac >>> 8;
  const lo = frac & 0xff;
  const upper = EXP2_NEG_Q30[hi] as number;
  const lower = EXP2_NEG_Q30[hi + 1] as number;
  // (upper − lower) < 2^22 and lo < 2^8: the product and the sum stay below 2^31.
  const value = upper - (((upper - lower) * lo + 128) >>> 8);
  if (whole === 0) return value;
  return (value + (1 << (whole - 1))) >>> whole; // value + 2^29 < 2^31
}

/** 2^(−x / 65536) in Q16 (rounded half up from the Q30 value). */
export function exp2NegQ16(xQ16: number): number {
  return (exp2NegQ30(xQ16) + (1 << 13)) >>> 14;
}
