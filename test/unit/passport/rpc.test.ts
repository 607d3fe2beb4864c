/**
 * The passport and licence read endpoints over a LabellingChain's state (fastify inject): a task
 * labelled to done, its passport, versions, contributors, offers, licences, the owner and holder
 * indexes with cursor pagination, the licence check, and the 404 / 400 replies.
 */
import t from 'tap';
import { ONE_TAG, addressToString, bytesToHex } from '../../../lib/index.ts';
import type {
  ContributorsPageJson,
  LicenceCheckJson,
  LicenceReplyJson,
  LicencesPageJson,
  OfferReplyJson,
  OffersPageJson,
  PassportReplyJson,
  PassportVersionReplyJson,
  PassportVersionsPageJson,
  PassportsPageJson,
} from '../../../rpc/index.ts';
import { errorOf, serve } from '../rpc/helpers.ts';
import { acceptedLabels, attr, buyer, doneTask, offerTerms, ok, passportSpec, requester, stranger, taskRoot } from './fixtures.ts';

t.test('passport endpoints answer from state with bounded pages', async (t) => {
  const { chain, task } = doneTask(8);
  ok(chain.send(requester, { kind: 'passportCreate', task, spec: passportSpec() }));
  ok(chain.send(requester, { kind: 'passportVersion', passport: 1, task: 0, contentRoot: new Uint8Array(32).fill(9), recordCount: 3, spec: passportSpec() }));
  ok(chain.send(requester, { kind: 'passportRegister', contentRoot: new Uint8Array(32).fill(8), recordCount: 2, spec: passportSpec() }));
  ok(chain.send(requester, { kind: 'licenceOffer', passport: 1, terms: offerTerms({ price: 5n * ONE_TAG, durationBlocks: 1_000 }) }));
  ok(chain.send(requester, { kind: 'licenceOffer', passport: 1, terms: offerTerms({ price: ONE_TAG, revocable: false }) }));
  const bought = ok(chain.send(buyer, { kind: 'licenceBuy', offer: 1, maxPrice: 5n * ONE_TAG }));
  t.equal(attr(bought, 'licence_bought', 'version'), '2', 'a licence is for the newest active version');
  ok(chain.send(stranger, { kind: 'licenceBuy', offer: 2, maxPrice: ONE_TAG }));
  const { app } = await serve(t, { state: () => ({ height: chain.height, reader: chain.state }) });
  const get = async <T>(url: string): Promise<T> => {
    const res = await app.inject({ method: 'GET', url });
    t.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 200)}`);
    return res.json<T>();
  };

  const p = await get<PassportReplyJson>('/v1/passports/1');
  t.equal(p.owner, addressToString(requester.address));
  t.equal(p.latestVersion, 2);
  t.equal(p.activeVersion, 2);
  t.equal(p.latest.parent, 1);
  t.equal(p.height, chain.height);

  const v1 = await get<PassportVersionReplyJson>('/v1/passports/1/versions/1');
  t.equal(v1.contentRoot, '0x' + bytesToHex(taskRoot(chain, task)), 'the task-built root');
  t.equal(v1.status, 'active');
  t.equal(v1.source, 'task');
  t.same(v1.provenance.sourceTasks, [task]);
  t.equal(v1.parent, null);
  t.equal(v1.terms.kind, 'commercial');
  t.equal(v1.consent.attester, addressToString(stranger.address));

  const versions = await get<PassportVersionsPageJson>('/v1/passports/1/versions?limit=1');
  t.same(versions.versions.map((v) => v.version), [1]);
  t.equal(versions.nextCursor, 2);
  const versions2 = await get<PassportVersionsPageJson>('/v1/passports/1/versions?cursor=2&limit=1');
  t.same(versions2.versions.map((v) => v.version), [2]);
  t.equal(versions2.nextCursor, null);

  const contributors = await get<ContributorsPageJson>('/v1/passports/1/versions/1/contributors?limit=2');
  t.equal(contributors.total, acceptedLabels(chain, task).size);
  t.equal(contributors.contributors.length, 2);
  t.equal(contributors.nextCursor, 2);

  const owned = await get<PassportsPageJson>(`/v1/accounts/${addressToString(requester.address)}/passports`);
  t.same(owned.passports.map((x) => x.id), [1, 2]);
  const byTask = await get<PassportsPageJson>(`/v1/tasks/${task}/passports`);
  t.same(byTask.passports.map((x) => x.id), [1]);

  const offers = await get<OffersPageJson>('/v1/passports/1/offers');
  t.same(offers.offers.map((o) => [o.id, o.price, o.sold]), [
    [1, (5n * ONE_TAG).toString(), 1],
    [2, ONE_TAG.toString(), 1],
  ]);
  const offer = await get<OfferReplyJson>('/v1/offers/2');
  t.equal(offer.revocable, false);

  const sold = await get<LicencesPageJson>('/v1/passports/1/licences');
  t.equal(sold.licences.length, 2);
  const lic = await get<LicenceReplyJson>('/v1/licences/1');
  t.equal(lic.buyer, addressToString(buyer.address));
  t.equal(lic.version, 2);
  t.equal(lic.active, true);
  t.equal(lic.expiresAt, lic.startHeight + 1_000);

  const check = await get<LicenceCheckJson>(`/v1/passports/1/licensed/${addressToString(buyer.address)}`);
  t.equal(check.licensed, true);
  t.equal(check.complete, true);
  const none = await get<LicenceCheckJson>(`/v1/passports/2/licensed/${addressToString(buyer.address)}`);
  t.equal(none.licensed, false, 'no licence for another passport');

  // Revoke and transfer: the check and the holder index follow.
  ok(chain.send(requester, { kind: 'licenceRevoke', licence: 1, reason: new Uint8Array(32).fill(1) }));
  const revoked = await get<LicenceCheckJson>(`/v1/passports/1/licensed/${addressToString(buyer.address)}`);
  t.equal(revoked.licensed, false, 'a revoked licence does not count');
  t.equal((await get<LicenceReplyJson>('/v1/licences/1')).revokeReason, '0x' + '01'.repeat(32));
  ok(chain.send(stranger, { kind: 'licenceTransfer', licence: 2, to: buyer.address }));
  t.equal((await get<LicenceCheckJson>(`/v1/passports/1/licensed/${addressToString(buyer.address)}`)).licensed, true, 'a licence received by transfer counts');
  t.same((await get<LicencesPageJson>(`/v1/accounts/${addressToString(stranger.address)}/licences`)).licences, [], 'the old holder no longer lists it');
  t.same((await get<LicencesPageJson>(`/v1/accounts/${addressToString(buyer.address)}/licences`)).licences.map((l) => l.id), [1, 2]);

  // Owner transfer: the old owner's index skips it.
  ok(chain.send(requester, { kind: 'passportTransfer', passport: 2, to: stranger.address }));
  t.same((await get<PassportsPageJson>(`/v1/accounts/${addressToString(requester.address)}/passports`)).passports.map((x) => x.id), [1]);
  t.same((await get<PassportsPageJson>(`/v1/accounts/${addressToString(stranger.address)}/passports`)).passports.map((x) => x.id), [2]);

  for (const [url, code] of [
    ['/v1/passports/99', 'PASSPORT_NOT_FOUND'],
    ['/v1/passports/1/versions/9', 'PASSPORT_VERSION_NOT_FOUND'],
    ['/v1/offers/99', 'OFFER_NOT_FOUND'],
    ['/v1/licences/99', 'LICENCE_NOT_FOUND'],
    ['/v1/passports/99/offers', 'PASSPORT_NOT_FOUND'],
  ] as const) {
    const res = await app.inject({ method: 'GET', url });
    t.equal(res.statusCode, 404, url);
    t.equal(errorOf(res).code, code, url);
  }
  for (const url of ['/v1/passports/abc', '/v1/passports/1/versions?limit=101', '/v1/passports/1/offers?limit=0', '/v1/passports/4294967296', '/v1/accounts/nope/passports']) {
    const res = await app.inject({ method: 'GET', url });
    t.equal(res.statusCode, 400, url);
  }
  const api = await app.inject({ method: 'GET', url: '/openapi.json' });
  const doc = api.json<{ paths: Record<string, unknown> }>();
  for (const path of ['/v1/passports/{id}', '/v1/passports/{id}/licensed/{address}', '/v1/accounts/{address}/licences']) t.ok(path in doc.paths, `openapi lists ${path}`);
});
