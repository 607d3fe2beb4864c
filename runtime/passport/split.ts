/**
 * How a licence sale's price is divided (docs/spec/passport.md §Payment split). Integer arithmetic
 * only; every unit of the price goes to someone, so a sale neither creates nor destroys TAG:
 *
 *   pool        = price × contributorsShareBps / 10,000               (rounded down)
 *   total       = Σ shares of the listed contributors + foldedShares
 *   contributor = pool × shares / total                               (rounded down; 0 if total = 0)
 *   owner       = price − Σ contributor                               (the remainders and the folded part)
 */
import { assert } from '../../lib/index.ts';
import { BPS, type Contributor } from './records.ts';

export type Split = { owner: bigint; contributors: bigint[] };

export function splitPayment(price: bigint, contributorsShareBps: number, contributors: readonly Contributor[], foldedShares: number): Split {
  assert(price >= 0n, 'splitPayment: negative price');
  assert(Number.isInteger(contributorsShareBps) && contributorsShareBps >= 0 && contributorsShareBps <= BPS, 'splitPayment: bad bps');
  let total = BigInt(foldedShares);
  for (const c of contributors) total += BigInt(c.shares);
  if (total === 0n) return { owner: price, contributors: contributors.map(() => 0n) };
  const pool = (price * BigInt(contributorsShareBps)) / BigInt(BPS);
  let paid = 0n;
  const parts = contributors.map((c) => {
    const part = (pool * BigInt(c.shares)) / total;
    paid += part;
    return part;
  });
  assert(paid <= pool, 'splitPayment: contributors paid more than the pool');
  return { owner: price - paid, contributors: parts };
}
