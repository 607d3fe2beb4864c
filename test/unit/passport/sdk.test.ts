/**
 * The SDK's passport builders: every body survives the canonical encoding (sign → bytes → decode),
 * human input is turned into the chain's numbers, and input the chain would refuse is refused
 * before any fee is spent. Also the wire form: oversize strings decode (and fail at execution with
 * PASSPORT_METADATA_TOO_LARGE), a bad licence kind does not decode.
 */
import t from 'tap';
import { ONE_TAG, encode } from '../../../lib/index.ts';
import { PASSPORT_KIND, USES_MASK, decodeSignedTx, parsePassportBody, signTx } from '../../../runtime/index.ts';
import {
  buildLicenceBuy,
  buildLicenceOffer,
  buildLicenceRevoke,
  buildLicenceTransfer,
  buildLicenceWithdraw,
  buildPassportCreate,
  buildPassportRegister,
  buildPassportTransfer,
  buildPassportVersion,
  offerTermsFrom,
  passportSpecFrom,
  usesFromNames,
} from '../../../sdk/index.ts';
import { TEST_CHAIN_ID } from '../../utils/factories.ts';
import { buyer, passportSpec, requester } from './fixtures.ts';

t.test('every passport body round-trips through the transaction encoding', async (t) => {
  const spec = passportSpec();
  const terms = offerTermsFrom({ price: '12.5', kind: 'research-only', uses: ['train', 'evaluate'], durationBlocks: 100, maxSales: 3 });
  const bodies = [
    buildPassportCreate(7, spec),
    buildPassportRegister(new Uint8Array(32).fill(1), 10, spec),
    buildPassportVersion(1, { task: 7 }, spec),
    buildPassportVersion(1, { contentRoot: new Uint8Array(32).fill(2), recordCount: 3 }, spec),
    buildPassportTransfer(1, buyer.address),
    buildLicenceOffer(1, terms),
    buildLicenceWithdraw(2),
    buildLicenceBuy(2, 12n * ONE_TAG),
    buildLicenceRevoke(3, new Uint8Array(32).fill(4)),
    buildLicenceTransfer(3, requester.address),
  ];
  t.equal(new Set(bodies.map((b) => b.kind)).size, Object.keys(PASSPORT_KIND).length, 'one of each kind');
  for (const [nonce, body] of bodies.entries()) {
    const signed = signTx({ chainId: TEST_CHAIN_ID, sender: requester.publicKey, nonce, maxFee: ONE_TAG, body }, requester.secretKey);
    t.same(decodeSignedTx(signed.bytes).tx.body, body, body.kind);
  }
  t.equal(terms.price, 12n * ONE_TAG + ONE_TAG / 2n);
  t.equal(terms.kind, 2);
  t.equal(terms.uses, 3);
});

t.test('human input and refusals before sending', async (t) => {
  t.equal(usesFromNames(['all']), USES_MASK);
  t.equal(usesFromNames(['commercial', 'train']), 17);
  t.throws(() => usesFromNames(['sell']), { code: 'PASSPORT_BAD_INPUT' });
  t.throws(() => offerTermsFrom({ price: '1', kind: 'open' }), { code: 'PASSPORT_BAD_INPUT' }, 'an open licence is free');
  t.throws(() => offerTermsFrom({ price: '1', kind: 'lease' }), { code: 'PASSPORT_BAD_INPUT' });
  const spec = passportSpecFrom({ schema: 's', consentBasis: 'public-domain', contributorsPercent: 25, uses: ['train'] });
  t.equal(spec.terms.contributorsShareBps, 2_500);
  t.equal(spec.terms.uses, 1);
  t.throws(() => passportSpecFrom({ schema: 'x'.repeat(300), consentBasis: 'b' }), { code: 'PASSPORT_BAD_INPUT' });
  t.throws(() => buildPassportCreate(0, spec), { code: 'PASSPORT_BAD_INPUT' }, 'ids start at 1');
  t.throws(() => buildPassportRegister(new Uint8Array(31), 1, spec), { code: 'PASSPORT_BAD_INPUT' });
  t.throws(() => buildPassportRegister(new Uint8Array(32), 0, spec), { code: 'PASSPORT_BAD_INPUT' });
  t.throws(() => buildPassportTransfer(1, new Uint8Array(19)), { code: 'PASSPORT_BAD_INPUT' });
});

t.test('the wire form: oversize text decodes (a receipt error later), a bad enum does not', async (t) => {
  const spec = passportSpec({ metadata: 'x'.repeat(2_000) });
  const body = buildPassportRegister(new Uint8Array(32), 1, passportSpec());
  const wire = [new Uint8Array(32), 1, ['s', ['b', new Uint8Array(0), new Uint8Array(32)], [0, 1, true, 0], '', '', new Uint8Array(32), spec.metadata]];
  const decoded = parsePassportBody(PASSPORT_KIND.passportRegister, wire);
  t.equal(decoded.kind, body.kind);
  t.throws(() => parsePassportBody(PASSPORT_KIND.licenceOffer, [1, 3, new Uint8Array(0), 1, 0, 0, false, true, 0]), { code: 'CODEC_OVERSIZE' }, 'licence kind 3 is unknown');
  t.throws(() => parsePassportBody(PASSPORT_KIND.passportRegister, [new Uint8Array(32), 1, ['x'.repeat(5_000), ['b', new Uint8Array(0), new Uint8Array(32)], [0, 1, true, 0], '', '', new Uint8Array(32), '']]), { code: 'CODEC_OVERSIZE' });
  t.ok(encode(wire).length > 2_000);
});
