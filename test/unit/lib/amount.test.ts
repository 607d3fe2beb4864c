/** TAG amounts (lib/amount.ts): decimal parsing and formatting. */
import t from 'tap';
import fc from 'fast-check';
import { AMOUNT_MAX, ONE_TAG, formatTag, parseTag, parseUnits } from '../../../lib/index.ts';
import { codeOf } from '../../utils/factories.ts';

t.test('parseUnits: whole units as canonical decimal', async (t) => {
  t.equal(parseUnits('0'), 0n);
  t.equal(parseUnits('1500000000000000000'), 1_500_000_000_000_000_000n);
  t.equal(parseUnits(AMOUNT_MAX.toString()), AMOUNT_MAX);
  for (const bad of ['', '01', '00', '-1', '+1', '1.5', '1e3', '0x10', ' 1', '1 ', '1_000', '١', (AMOUNT_MAX + 1n).toString(), '9'.repeat(79)]) {
    t.equal(codeOf(() => parseUnits(bad)), 'AMOUNT_INVALID', JSON.stringify(bad));
  }
});

t.test('parseTag: decimal TAG with up to 18 decimals', async (t) => {
  t.equal(parseTag('1'), ONE_TAG);
  t.equal(parseTag('1.5'), 1_500_000_000_000_000_000n);
  t.equal(parseTag('0.000000000000000001'), 1n);
  t.equal(parseTag('0'), 0n);
  for (const bad of ['', '.5', '1.', '1.0000000000000000001', '01', '-1', '1,5', '1e18']) {
    t.equal(codeOf(() => parseTag(bad)), 'AMOUNT_INVALID', JSON.stringify(bad));
  }
});

t.test('formatTag: no trailing zeros', async (t) => {
  t.equal(formatTag(0n), '0');
  t.equal(formatTag(ONE_TAG), '1');
  t.equal(formatTag(1_500_000_000_000_000_000n), '1.5');
  t.equal(formatTag(1n), '0.000000000000000001');
});

t.test('property: parseTag ∘ formatTag is the identity', async () => {
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: 10n ** 59n * ONE_TAG }), (v) => parseTag(formatTag(v)) === v), { numRuns: 1000 });
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: AMOUNT_MAX }), (v) => parseUnits(v.toString()) === v), { numRuns: 1000 });
});
