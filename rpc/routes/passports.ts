/**
 * The Data Passport and licence read endpoints (docs/rpc.md §Passports): passports by id, owner and
 * task, versions and their contributors, offers, licences by passport and holder, and the licence
 * check a data gateway asks. Answered from the committed state (`RpcDeps.state()`) with the
 * runtime's own decoders, in one synchronous turn per request, so a reply is consistent with its
 * `height`. Lists come from the secondary indexes the runtime keeps in state
 * (runtime/passport/lists.ts): every page reads at most PASSPORT_PAGE_MAX index entries.
 */
import type { FastifyPluginAsync } from 'fastify';
import { U32_MAX, addressFromString, concatBytes, equalBytes, u32ToBytes } from '../../lib/index.ts';
import {
  LIST,
  licenceActive,
  listAt,
  listLength,
  listPage,
  loadContributors,
  loadLicence,
  loadOffer,
  loadPassportHead,
  loadPassportVersion,
  type PassportHead,
  type PassportVersion,
} from '../../runtime/index.ts';
import type { StateReader } from '../../state/index.ts';
import { RpcError } from '../errors.ts';
import { U32_PARAM, params } from '../labellingSchemas.ts';
import { LICENCE_CHECK_SCAN_MAX, PASSPORT_PAGE_QUERY } from '../passportSchemas.ts';
import {
  contributorToJson,
  licenceToJson,
  offerToJson,
  passportToJson,
  passportVersionToJson,
  type ContributorsPageJson,
  type LicenceCheckJson,
  type LicenceJson,
  type LicenceReplyJson,
  type LicencesPageJson,
  type OfferJson,
  type OfferReplyJson,
  type OffersPageJson,
  type PassportJson,
  type PassportReplyJson,
  type PassportVersionJson,
  type PassportVersionReplyJson,
  type PassportVersionsPageJson,
  type PassportsPageJson,
} from '../passportViews.ts';
import { ADDRESS_PARAM, ERROR_REPLIES, ref } from '../schemas.ts';
import type { RoutesOpts } from './status.ts';

type PageQuery = { cursor: string; limit: string };
type IdParams = { id: string };
type VersionParams = IdParams & { version: string };
type AddressParams = { address: string };
type CheckParams = IdParams & AddressParams;

/** A decimal u32 from a path or query parameter (the schema has checked the digits). */
function u32(text: string, name: string, part: 'params' | 'querystring'): number {
  const n = Number(text);
  if (n > U32_MAX) {
    const issues = [{ path: `/${name}`, message: `must be <= ${U32_MAX}` }];
    throw new RpcError({ code: 'RPC_INVALID_REQUEST', part, issues }, `invalid ${part}: ${name} must be <= ${U32_MAX}`);
  }
  return n;
}

function page(q: PageQuery): { cursor: number; limit: number } {
  return { cursor: u32(q.cursor, 'cursor', 'querystring'), limit: Number(q.limit) };
}

function headOf(state: StateReader, id: number): PassportHead {
  const head = loadPassportHead(state, id);
  if (head === null) throw new RpcError({ code: 'PASSPORT_NOT_FOUND', passport: id }, `no passport ${id}`);
  return head;
}

function versionOf(state: StateReader, id: number, version: number): PassportVersion {
  const v = loadPassportVersion(state, id, version);
  if (v === null) throw new RpcError({ code: 'PASSPORT_VERSION_NOT_FOUND', passport: id, version }, `passport ${id} has no version ${version}`);
  return v;
}

function passportJson(state: StateReader, head: PassportHead): PassportJson {
  return passportToJson(head, versionOf(state, head.id, head.latest));
}

const ID = { ...U32_PARAM, description: 'passport id' };
const ID_PARAMS = params({ id: ID });
const VERSION_PARAMS = params({ id: ID, version: { ...U32_PARAM, description: 'version number (1 = first)' } });
const OFFER_PARAMS = params({ id: { ...U32_PARAM, description: 'offer id' } });
const LICENCE_PARAMS = params({ id: { ...U32_PARAM, description: 'licence id' } });
const TASK_PARAMS = params({ id: { ...U32_PARAM, description: 'task id' } });
const ADDRESS_PARAMS = params({ address: ADDRESS_PARAM });
const CHECK_PARAMS = params({ id: ID, address: ADDRESS_PARAM });

const schema = (summary: string, reply: string, extra: Record<string, unknown> = {}) => ({
  schema: { tags: ['passports'], summary, ...extra, response: { 200: ref(reply), ...ERROR_REPLIES } },
});

export const passportRoutes: FastifyPluginAsync<RoutesOpts> = async (app, { deps }) => {
  app.get<{ Params: IdParams }>('/v1/passports/:id', schema('A passport: owner, versions and its newest version', 'PassportReply', { params: ID_PARAMS }), async (req): Promise<PassportReplyJson> => {
    const id = u32(req.params.id, 'id', 'params');
    const { height, reader } = deps.state();
    return { height, ...passportJson(reader, headOf(reader, id)) };
  });

  app.get<{ Params: IdParams; Querystring: PageQuery }>(
    '/v1/passports/:id/versions',
    schema('A page of a passport’s versions, oldest first (the cursor is a version number)', 'PassportVersionsPage', { params: ID_PARAMS, querystring: PASSPORT_PAGE_QUERY }),
    async (req): Promise<PassportVersionsPageJson> => {
      const id = u32(req.params.id, 'id', 'params');
      const { cursor, limit } = page(req.query);
      const { height, reader } = deps.state();
      const head = headOf(reader, id);
      const first = Math.max(1, cursor);
      const last = Math.min(head.latest, first + limit - 1);
      const versions: PassportVersionJson[] = [];
      for (let v = first; v <= last; v++) versions.push(passportVersionToJson(versionOf(reader, id, v)));
      return { height, passport: id, versions, nextCursor: last < head.latest ? last + 1 : null };
    },
  );

  app.get<{ Params: VersionParams }>(
    '/v1/passports/:id/versions/:version',
    schema('One version of a passport (old versions stay readable)', 'PassportVersionReply', { params: VERSION_PARAMS }),
    async (req): Promise<PassportVersionReplyJson> => {
      const id = u32(req.params.id, 'id', 'params');
      const version = u32(req.params.version, 'version', 'params');
      const { height, reader } = deps.state();
      headOf(reader, id);
      return { height, ...passportVersionToJson(versionOf(reader, id, version)) };
    },
  );

  app.get<{ Params: VersionParams; Querystring: PageQuery }>(
    '/v1/passports/:id/versions/:version/contributors',
    schema('A page of a version’s contributors and their shares (best first)', 'ContributorsPage', { params: VERSION_PARAMS, querystring: PASSPORT_PAGE_QUERY }),
    async (req): Promise<ContributorsPageJson> => {
      const id = u32(req.params.id, 'id', 'params');
      const version = u32(req.params.version, 'version', 'params');
      const { cursor, limit } = page(req.query);
      const { height, reader } = deps.state();
      versionOf(reader, id, version);
      const all = loadContributors(reader, id, version);
      const end = Math.min(all.length, cursor + limit);
      return { height, passport: id, version, total: all.length, contributors: all.slice(cursor, end).map(contributorToJson), nextCursor: end < all.length ? end : null };
    },
  );

  app.get<{ Params: AddressParams; Querystring: PageQuery }>(
    '/v1/accounts/:address/passports',
    schema('A page of the passports an address owns', 'PassportsPage', { params: ADDRESS_PARAMS, querystring: PASSPORT_PAGE_QUERY }),
    async (req): Promise<PassportsPageJson> => {
      const owner = addressFromString(req.params.address);
      const { cursor, limit } = page(req.query);
      const { height, reader } = deps.state();
      const { entries, next } = listPage(reader, LIST.passportsByOwner, owner, cursor, limit);
      const seen = new Set<number>();
      const passports: PassportJson[] = [];
      for (const { entry } of entries) {
        const id = entry[0] as number;
        const head = loadPassportHead(reader, id);
        // The index keeps every owner a passport had: skip those it has left, and repeats.
        if (head === null || !equalBytes(head.owner, owner) || seen.has(id)) continue;
        seen.add(id);
        passports.push(passportJson(reader, head));
      }
      return { height, passports, nextCursor: next };
    },
  );

  app.get<{ Params: IdParams; Querystring: PageQuery }>(
    '/v1/tasks/:id/passports',
    schema('A page of the passports built from a task', 'PassportsPage', { params: TASK_PARAMS, querystring: PASSPORT_PAGE_QUERY }),
    async (req): Promise<PassportsPageJson> => {
      const task = u32(req.params.id, 'id', 'params');
      const { cursor, limit } = page(req.query);
      const { height, reader } = deps.state();
      const { entries, next } = listPage(reader, LIST.passportsByTask, u32ToBytes(task), cursor, limit);
      const seen = new Set<number>();
      const passports: PassportJson[] = [];
      for (const { entry } of entries) {
        const id = entry[0] as number;
        if (seen.has(id)) continue;
        seen.add(id);
        passports.push(passportJson(reader, headOf(reader, id)));
      }
      return { height, passports, nextCursor: next };
    },
  );

  app.get<{ Params: IdParams; Querystring: PageQuery }>(
    '/v1/passports/:id/offers',
    schema('A page of a passport’s licence offers, oldest first', 'OffersPage', { params: ID_PARAMS, querystring: PASSPORT_PAGE_QUERY }),
    async (req): Promise<OffersPageJson> => {
      const id = u32(req.params.id, 'id', 'params');
      const { cursor, limit } = page(req.query);
      const { height, reader } = deps.state();
      headOf(reader, id);
      const { entries, next } = listPage(reader, LIST.offersByPassport, u32ToBytes(id), cursor, limit);
      const offers: OfferJson[] = [];
      for (const { entry } of entries) {
        const offer = loadOffer(reader, entry[0] as number);
        if (offer !== null) offers.push(offerToJson(offer));
      }
      return { height, passport: id, offers, nextCursor: next };
    },
  );

  app.get<{ Params: IdParams }>('/v1/offers/:id', schema('A licence offer', 'OfferReply', { params: OFFER_PARAMS }), async (req): Promise<OfferReplyJson> => {
    const id = u32(req.params.id, 'id', 'params');
    const { height, reader } = deps.state();
    const offer = loadOffer(reader, id);
    if (offer === null) throw new RpcError({ code: 'OFFER_NOT_FOUND', offer: id }, `no offer ${id}`);
    return { height, ...offerToJson(offer) };
  });

  app.get<{ Params: IdParams }>('/v1/licences/:id', schema('A licence record', 'LicenceReply', { params: LICENCE_PARAMS }), async (req): Promise<LicenceReplyJson> => {
    const id = u32(req.params.id, 'id', 'params');
    const { height, reader } = deps.state();
    const licence = loadLicence(reader, id);
    if (licence === null) throw new RpcError({ code: 'LICENCE_NOT_FOUND', licence: id }, `no licence ${id}`);
    return { height, ...licenceToJson(licence, height) };
  });

  app.get<{ Params: IdParams; Querystring: PageQuery }>(
    '/v1/passports/:id/licences',
    schema('A page of the licences sold for a passport, oldest first', 'LicencesPage', { params: ID_PARAMS, querystring: PASSPORT_PAGE_QUERY }),
    async (req): Promise<LicencesPageJson> => {
      const id = u32(req.params.id, 'id', 'params');
      const { cursor, limit } = page(req.query);
      const { height, reader } = deps.state();
      headOf(reader, id);
      const { entries, next } = listPage(reader, LIST.licencesByPassport, u32ToBytes(id), cursor, limit);
      const licences: LicenceJson[] = [];
      for (const { entry } of entries) {
        const l = loadLicence(reader, entry[0] as number);
        if (l !== null) licences.push(licenceToJson(l, height));
      }
      return { height, licences, nextCursor: next };
    },
  );

  app.get<{ Params: AddressParams; Querystring: PageQuery }>(
    '/v1/accounts/:address/licences',
    schema('A page of the licences an address holds (bought or received), oldest first', 'LicencesPage', { params: ADDRESS_PARAMS, querystring: PASSPORT_PAGE_QUERY }),
    async (req): Promise<LicencesPageJson> => {
      const holder = addressFromString(req.params.address);
      const { cursor, limit } = page(req.query);
      const { height, reader } = deps.state();
      const { entries, next } = listPage(reader, LIST.licencesByHolder, holder, cursor, limit);
      const licences: LicenceJson[] = [];
      for (const { entry } of entries) {
        const l = loadLicence(reader, entry[0] as number);
        // A licence transferred away stays in its old holder's index: skip it.
        if (l !== null && equalBytes(l.holder, holder)) licences.push(licenceToJson(l, height));
      }
      return { height, licences, nextCursor: next };
    },
  );

  app.get<{ Params: CheckParams }>(
    '/v1/passports/:id/licensed/:address',
    schema('Whether an address holds an active licence for a passport at the latest height', 'LicenceCheck', { params: CHECK_PARAMS }),
    async (req): Promise<LicenceCheckJson> => {
      const id = u32(req.params.id, 'id', 'params');
      const who = addressFromString(req.params.address);
      const { height, reader } = deps.state();
      headOf(reader, id);
      const scope = concatBytes(u32ToBytes(id), who);
      const n = listLength(reader, LIST.licencesByPassportHolder, scope);
      const licences: LicenceJson[] = [];
      let scanned = 0;
      // Newest first: a gateway's question is about the licences bought last.
      for (let seq = n - 1; seq >= 0 && scanned < LICENCE_CHECK_SCAN_MAX; seq--, scanned++) {
        const entry = listAt(reader, LIST.licencesByPassportHolder, scope, seq);
        const l = entry === null ? null : loadLicence(reader, entry[0] as number);
        if (l !== null && equalBytes(l.holder, who) && licenceActive(l, height)) licences.push(licenceToJson(l, height));
      }
      return { height, passport: id, address: req.params.address.toLowerCase(), licensed: licences.length > 0, licences, scanned, complete: scanned === n };
    },
  );
};
