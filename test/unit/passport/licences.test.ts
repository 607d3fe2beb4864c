/**
 * Licence offers and purchases: the payment split conserves TAG exactly (1, 2 and 1,000
 * contributors, fast-check over random shares and prices), licence records, revocation,
 * transfer, withdrawal, expiry, and every receipt error.
 */
import t from 'tap';
import type { Test } from 'tap';
import fc from 'fast-check';
import { ONE_TAG, sha256, u32ToBytes } from '../../../lib/index.ts';
import {
  LICENCE_KIND,
  LIST,
  PASSPORT_STATUS,
  licenceActive,
  listLength,
  loadContributors,
  loadLicence,
  loadOffer,
  loadPassportHead,
  loadPassportVersion,
  saveContributors,
  savePassportVersion,
  splitPayment,
  type Contributor,
} from '../../../runtime/index.ts';
import { StateView, loadSupply } from '../../../state/index.ts';
import { LabellingChain } from '../../utils/labelling.ts';
import { acceptedLabels, attr, buyer, doneTask, offerTerms, ok, passportSpec, requester, stranger } from './fixtures.ts';

const addr = (n: number): Uint8Array => sha256(u32ToBytes(n)).subarray(0, 20);

/** Sum of every balance the sale could touch. */
function balances(chain: LabellingChain, who: readonly Uint8Array[]): bigint {
  return who.reduce((s, a) => s + chain.balance(a), 0n);
}

/** An external passport whose active version lists `contributors` (written into state directly). */
function passportWith(chain: LabellingChain, contributors: Contributor[], bps: number, folded = 0): number {
  const reg = ok(chain.send(requester, { kind: 'passportRegister', contentRoot: new Uint8Array(32).fill(5), recordCount: 3, spec: passportSpec({ terms: { ...passportSpec().terms, contributorsShareBps: bps } }) }));
  const id = Number(attr(reg, 'passport_created', 'passport'));
  const view = new StateView(chain.state);
  const v = loadPassportVersion(view, id, 1)!;
  const shares = contributors.reduce((s, c) => s + c.shares, 0);
  savePassportVersion(view, { ...v, provenance: { ...v.provenance, contributorCount: contributors.length, contributorShares: shares, foldedShares: folded } });
  saveContributors(view, id, 1, contributors);
  chain.state.apply(view.writes());
  return id;
}

function buyAndCheck(t: Test, chain: LabellingChain, id: number, price: bigint, contributors: Contributor[], bps: number, folded = 0): void {
  const offer = ok(chain.send(requester, { kind: 'licenceOffer', passport: id, terms: offerTerms({ price }) }));
  const offerId = Number(attr(offer, 'licence_offered', 'offer'));
  const touched = [buyer.address, requester.address, ...contributors.map((c) => c.address)];
  const before = new Map(touched.map((a) => [Buffer.from(a).toString('hex'), chain.balance(a)]));
  const total = balances(chain, [...new Map(touched.map((a) => [Buffer.from(a).toString('hex'), a])).values()]);
  const supply = loadSupply(chain.state);
  const receipt = chain.send(buyer, { kind: 'licenceBuy', offer: offerId, maxPrice: price });
  t.equal(receipt.code, '', 'bought');
  const fee = receipt.fee;
  const after = balances(chain, [...new Map(touched.map((a) => [Buffer.from(a).toString('hex'), a])).values()]);
  t.equal(after, total - fee, 'the sale moved TAG between the parties: nothing created or lost (only the fee left)');
  t.ok(loadSupply(chain.state) <= supply, 'no TAG minted by a sale');
  const split = splitPayment(price, bps, contributors, folded);
  const gain = (a: Uint8Array): bigint => chain.balance(a) - (before.get(Buffer.from(a).toString('hex')) ?? 0n);
  t.equal(gain(buyer.address), -price - fee, 'the buyer paid the price once, plus the fee');
  let toContributors = 0n;
  contributors.forEach((_, i) => {
    toContributors += split.contributors[i] ?? 0n;
  });
  t.equal(gain(requester.address), split.owner, 'the owner got the price less the contributors part');
  if (contributors.length <= 2) contributors.forEach((c, i) => t.equal(gain(c.address), split.contributors[i], `contributor ${i} paid by share`));
  t.equal(split.owner + toContributors, price);
  t.equal(attr(receipt, 'licence_bought', 'toContributors'), toContributors.toString());
}

t.test('payment split: 1, 2 and 1,000 contributors, exact conservation', async (t) => {
  const chain = LabellingChain.withAccounts([requester, buyer, stranger]);
  const one = [{ address: addr(1), shares: 7 }];
  buyAndCheck(t, chain, passportWith(chain, one, 3_000), 100n * ONE_TAG + 1n, one, 3_000);
  t.equal(chain.balance(addr(1)), ((100n * ONE_TAG + 1n) * 3_000n) / 10_000n, 'a sole contributor gets the whole pool');

  const two = [
    { address: addr(2), shares: 2 },
    { address: addr(3), shares: 1 },
  ];
  buyAndCheck(t, chain, passportWith(chain, two, 5_000), 10n, two, 5_000);
  // pool = 5; 5 × 2 / 3 = 3, 5 × 1 / 3 = 1: owner gets 10 − 4 = 6 (the remainder unit included).
  t.equal(chain.balance(addr(2)), 3n);
  t.equal(chain.balance(addr(3)), 1n);

  const many = Array.from({ length: 1_000 }, (_, i) => ({ address: addr(100 + i), shares: 1 + (i % 13) }));
  const id = passportWith(chain, many, 7_000, 5);
  buyAndCheck(t, chain, id, 999_999_999_999_999_999_999n, many, 7_000, 5);
  const split = splitPayment(999_999_999_999_999_999_999n, 7_000, many, 5);
  let sum = 0n;
  for (const [i, c] of many.entries()) {
    sum += chain.balance(c.address);
    if (i % 97 === 0) t.equal(chain.balance(c.address), split.contributors[i], `contributor ${i}`);
  }
  t.equal(sum + split.owner, 999_999_999_999_999_999_999n, 'all 1,000 credits and the owner part add up to the price');
});

t.test('a passport from a labelled task pays its real contributors by accepted labels', async (t) => {
  const { chain, task } = doneTask(8);
  ok(chain.send(requester, { kind: 'passportCreate', task, spec: passportSpec() }));
  const list = loadContributors(chain.state, 1, 1);
  t.equal(list.length, acceptedLabels(chain, task).size);
  buyAndCheck(t, chain, 1, 1_000n * ONE_TAG + 3n, list, 3_000);
});

t.test('property: the split never creates or loses a unit and pays by share', async (t) => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
      fc.integer({ min: 0, max: 10_000 }),
      fc.array(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 64 }),
      fc.integer({ min: 0, max: 1_000_000 }),
      (price, bps, shares, folded) => {
        const contributors = shares.map((s, i) => ({ address: addr(i), shares: s }));
        const split = splitPayment(price, bps, contributors, folded);
        const paid = split.contributors.reduce((a, b) => a + b, 0n);
        if (split.owner + paid !== price) return false;
        if (split.owner < 0n || split.contributors.some((p) => p < 0n)) return false;
        const total = BigInt(shares.reduce((a, b) => a + b, 0) + folded);
        const pool = (price * BigInt(bps)) / 10_000n;
        if (paid > pool) return false;
        // Each is the floor of its exact share; rounding loses less than one unit per contributor.
        if (total > 0n && split.contributors.some((p, i) => p !== (pool * BigInt(shares[i] ?? 0)) / total)) return false;
        if (total > 0n && pool - paid > BigInt(contributors.length) + (pool * BigInt(folded)) / total) return false;
        return true;
      },
    ),
    { numRuns: 500, seed: 5 },
  );
  t.pass('500 random splits conserve');
});

t.test('property: purchases on chain conserve the parties’ TAG for random shares and prices', async (t) => {
  const chain = LabellingChain.withAccounts([requester, buyer, stranger], 10n ** 30n);
  let n = 0;
  fc.assert(
    fc.property(
      fc.bigInt({ min: 1n, max: 10n ** 24n }),
      fc.integer({ min: 0, max: 10_000 }),
      fc.array(fc.integer({ min: 1, max: 1_000 }), { minLength: 1, maxLength: 8 }),
      (price, bps, shares) => {
        n++;
        const contributors = shares.map((s, i) => ({ address: addr(10_000 + n * 16 + i), shares: s }));
        const id = passportWith(chain, contributors, bps);
        const offer = chain.send(requester, { kind: 'licenceOffer', passport: id, terms: offerTerms({ price }) });
        const offerId = Number(attr(offer, 'licence_offered', 'offer'));
        const parties = [buyer.address, requester.address, ...contributors.map((c) => c.address)];
        const before = balances(chain, parties);
        const receipt = chain.send(buyer, { kind: 'licenceBuy', offer: offerId, maxPrice: price });
        return receipt.status === 0 && balances(chain, parties) === before - receipt.fee;
      },
    ),
    { numRuns: 25, seed: 11 },
  );
  t.pass('25 random on-chain purchases conserve');
});

t.test('licence records, checks, revocation, transfer and the receipt errors', async (t) => {
  const chain = LabellingChain.withAccounts([requester, buyer, stranger]);
  const id = passportWith(chain, [], 0);
  const price = 10n * ONE_TAG;
  const offerReceipt = ok(chain.send(requester, { kind: 'licenceOffer', passport: id, terms: offerTerms({ price, durationBlocks: 50, maxSales: 2 }) }));
  const offerId = Number(attr(offerReceipt, 'licence_offered', 'offer'));

  t.equal(chain.send(requester, { kind: 'licenceBuy', offer: offerId, maxPrice: price }).code, 'LICENCE_SELF_PURCHASE');
  t.equal(chain.send(buyer, { kind: 'licenceBuy', offer: 999, maxPrice: price }).code, 'OFFER_NOT_FOUND');
  t.equal(chain.send(buyer, { kind: 'licenceBuy', offer: offerId, maxPrice: price - 1n }).code, 'OFFER_PRICE_ABOVE_MAX');
  const bought = ok(chain.send(buyer, { kind: 'licenceBuy', offer: offerId, maxPrice: price }));
  const licId = Number(attr(bought, 'licence_bought', 'licence'));
  const lic = loadLicence(chain.state, licId)!;
  t.equal(lic.passport, id);
  t.equal(lic.version, 1);
  t.equal(lic.startHeight, chain.height);
  t.equal(lic.expiresAt, chain.height + 50);
  t.equal(lic.price, price);
  t.ok(licenceActive(lic, chain.height));
  t.notOk(licenceActive(lic, lic.expiresAt), 'expired at expiresAt');
  t.equal(listLength(chain.state, LIST.licencesByPassport, u32ToBytes(id)), 1);
  t.equal(listLength(chain.state, LIST.licencesByHolder, buyer.address), 1);
  const held = chain.balance(buyer);
  t.equal(chain.send(buyer, { kind: 'licenceBuy', offer: offerId, maxPrice: price }).code, 'LICENCE_ALREADY_HELD', 'not charged twice');
  t.ok(held - chain.balance(buyer) < ONE_TAG, 'only the fee was charged');

  // Sold out after maxSales.
  ok(chain.send(stranger, { kind: 'licenceBuy', offer: offerId, maxPrice: price }));
  t.equal(loadOffer(chain.state, offerId)?.sold, 2);

  // Revocation only as the terms allow, only by the owner.
  t.equal(chain.send(buyer, { kind: 'licenceRevoke', licence: licId, reason: new Uint8Array(32) }).code, 'PASSPORT_NOT_OWNER');
  t.equal(chain.send(requester, { kind: 'licenceRevoke', licence: 999, reason: new Uint8Array(32) }).code, 'LICENCE_NOT_FOUND');
  // Transfer by the holder while active.
  t.equal(chain.send(stranger, { kind: 'licenceTransfer', licence: licId, to: stranger.address }).code, 'LICENCE_NOT_HOLDER');
  t.equal(chain.send(buyer, { kind: 'licenceTransfer', licence: licId, to: buyer.address }).code, 'LICENCE_SAME_HOLDER');
  ok(chain.send(buyer, { kind: 'licenceTransfer', licence: licId, to: requester.address }));
  t.same(loadLicence(chain.state, licId)?.holder, requester.address);
  t.same(loadLicence(chain.state, licId)?.buyer, buyer.address, 'the buyer stays recorded');
  ok(chain.send(requester, { kind: 'licenceRevoke', licence: licId, reason: new Uint8Array(32).fill(1) }));
  t.equal(loadLicence(chain.state, licId)?.revokedHeight, chain.height);
  t.equal(chain.send(requester, { kind: 'licenceRevoke', licence: licId, reason: new Uint8Array(32) }).code, 'LICENCE_ALREADY_REVOKED');
  t.equal(chain.send(requester, { kind: 'licenceTransfer', licence: licId, to: buyer.address }).code, 'LICENCE_INACTIVE', 'a revoked licence cannot move');

  // A non-revocable, non-transferable offer.
  const fixed = ok(chain.send(requester, { kind: 'licenceOffer', passport: id, terms: offerTerms({ price: 1n, revocable: false, transferable: false }) }));
  const fixedOffer = Number(attr(fixed, 'licence_offered', 'offer'));
  const b2 = ok(chain.send(buyer, { kind: 'licenceBuy', offer: fixedOffer, maxPrice: 1n }));
  const lic2 = Number(attr(b2, 'licence_bought', 'licence'));
  t.equal(loadLicence(chain.state, lic2)?.expiresAt, 0, 'perpetual');
  t.equal(chain.send(requester, { kind: 'licenceRevoke', licence: lic2, reason: new Uint8Array(32) }).code, 'LICENCE_NOT_REVOCABLE');
  t.equal(chain.send(buyer, { kind: 'licenceTransfer', licence: lic2, to: stranger.address }).code, 'LICENCE_NOT_TRANSFERABLE');

  // Offers: bad terms, expiry, withdrawal, unknown passport.
  t.equal(chain.send(requester, { kind: 'licenceOffer', passport: 999, terms: offerTerms() }).code, 'PASSPORT_NOT_FOUND');
  t.equal(chain.send(stranger, { kind: 'licenceOffer', passport: id, terms: offerTerms() }).code, 'PASSPORT_NOT_OWNER');
  t.equal(chain.send(requester, { kind: 'licenceOffer', passport: id, terms: offerTerms({ kind: LICENCE_KIND.open, price: 1n }) }).code, 'OFFER_BAD_TERMS');
  t.equal(chain.send(requester, { kind: 'licenceOffer', passport: id, terms: offerTerms({ uses: 0 }) }).code, 'OFFER_BAD_TERMS');
  t.equal(chain.send(requester, { kind: 'licenceOffer', passport: id, terms: offerTerms({ expiresAt: 1 }) }).code, 'OFFER_EXPIRED');
  const short = ok(chain.send(requester, { kind: 'licenceOffer', passport: id, terms: offerTerms({ price: 1n, expiresAt: chain.height + 2 }) }));
  const shortId = Number(attr(short, 'licence_offered', 'offer'));
  chain.blocks(3);
  t.equal(chain.send(stranger, { kind: 'licenceBuy', offer: shortId, maxPrice: 1n }).code, 'OFFER_EXPIRED', 'expired offer refused');
  const w = ok(chain.send(requester, { kind: 'licenceOffer', passport: id, terms: offerTerms({ price: 1n }) }));
  const wId = Number(attr(w, 'licence_offered', 'offer'));
  t.equal(chain.send(buyer, { kind: 'licenceWithdraw', offer: wId }).code, 'PASSPORT_NOT_OWNER');
  ok(chain.send(requester, { kind: 'licenceWithdraw', offer: wId }));
  t.equal(chain.send(requester, { kind: 'licenceWithdraw', offer: wId }).code, 'OFFER_WITHDRAWN');
  t.equal(chain.send(requester, { kind: 'licenceWithdraw', offer: 999 }).code, 'OFFER_NOT_FOUND');
  t.equal(chain.send(buyer, { kind: 'licenceBuy', offer: wId, maxPrice: 1n }).code, 'OFFER_WITHDRAWN', 'withdrawn offer refused');
  t.equal(chain.send(stranger, { kind: 'licenceBuy', offer: offerId, maxPrice: price }).code, 'OFFER_SOLD_OUT');

  // Insufficient funds: the buyer can pay the fee but not the price.
  const rich = ok(chain.send(requester, { kind: 'licenceOffer', passport: id, terms: offerTerms({ price: 10n ** 40n }) }));
  const richId = Number(attr(rich, 'licence_offered', 'offer'));
  const before = chain.balance(stranger);
  const r = chain.send(stranger, { kind: 'licenceBuy', offer: richId, maxPrice: 10n ** 40n });
  t.equal(r.code, 'LICENCE_INSUFFICIENT_FUNDS');
  t.equal(chain.balance(stranger), before - r.fee, 'a failed purchase costs only the fee');
  t.equal(loadPassportHead(chain.state, id)?.active, 1);
  t.equal(loadPassportVersion(chain.state, id, 1)?.status, PASSPORT_STATUS.active);
});
