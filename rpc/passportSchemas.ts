/**
 * JSON schemas of the passport and licence endpoints' requests and replies
 * (rpc/routes/passports.ts); the TypeScript types are in rpc/passportViews.ts. Registered by `$id`
 * next to SHARED_SCHEMAS, so they appear by name under `components.schemas` in /openapi.json.
 */
import { U32_PARAM } from './labellingSchemas.ts';
import { PARTS } from './schemas.ts';

const { hex, hash, address, amount, u32, object } = PARTS;

const nullable = (schema: Record<string, unknown>): Record<string, unknown> => ({ anyOf: [schema, { type: 'null' }] });
const height = { ...u32, description: 'the committed height the reply was read at' } as const;
const next = { ...nullable(u32), description: 'cursor of the next page, null at the end' };
const uses = { type: 'array', items: { type: 'string', enum: ['train', 'evaluate', 'redistribute', 'derive', 'commercial'] } } as const;
const kind = { type: 'string', enum: ['open', 'commercial', 'research-only'] } as const;

// --- Requests ----------------------------------------------------------------------------------

/** Entries per page at most. */
export const PASSPORT_PAGE_MAX = 100;
/** Licences the check endpoint reads at most (the newest of the address's licences for the passport). */
export const LICENCE_CHECK_SCAN_MAX = 256;

export const PASSPORT_PAGE_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    cursor: { ...U32_PARAM, default: '0', description: 'position in the index to start from' },
    limit: { type: 'string', pattern: '^([1-9]|[1-9][0-9]|100)$', default: String(PASSPORT_PAGE_MAX), description: `page size, 1 to ${PASSPORT_PAGE_MAX}` },
  },
} as const;

// --- Replies -----------------------------------------------------------------------------------

const PassportTerms = object({
  kind,
  uses,
  usesMask: u32,
  transferable: { type: 'boolean' },
  contributorsShareBps: u32,
});

const passportVersionFields = {
  passport: u32,
  version: u32,
  parent: nullable(u32),
  status: { type: 'string', enum: ['building', 'active'] },
  source: { type: 'string', enum: ['task', 'external'] },
  contentRoot: hash,
  recordCount: u32,
  schema: { type: 'string' },
  consent: object({ basis: { type: 'string' }, attester: nullable(address), documentHash: hash }),
  terms: PassportTerms,
  provenance: object({
    sourceTasks: { type: 'array', items: u32 },
    method: { type: 'string' },
    methodVersion: { type: 'string' },
    paramsHash: hash,
    meanConfidenceQ16: u32,
    contributorCount: u32,
    contributorShares: u32,
    foldedShares: u32,
  }),
  metadata: { type: 'string' },
  createdHeight: u32,
  activeHeight: nullable(u32),
};

const PassportVersion = { $id: 'PassportVersion', description: 'One version of a Data Passport.', ...object(passportVersionFields) };
const PassportVersionReply = { $id: 'PassportVersionReply', ...object({ height, ...passportVersionFields }) };

const passportFields = {
  id: u32,
  owner: address,
  latestVersion: u32,
  activeVersion: nullable(u32),
  createdHeight: u32,
  latest: { $ref: 'PassportVersion#' },
};
const Passport = { $id: 'Passport', description: 'A Data Passport: owner, versions, and its newest version.', ...object(passportFields) };
const PassportReply = { $id: 'PassportReply', ...object({ height, ...passportFields }) };
const PassportsPage = { $id: 'PassportsPage', ...object({ height, passports: { type: 'array', items: { $ref: 'Passport#' } }, nextCursor: next }) };
const PassportVersionsPage = {
  $id: 'PassportVersionsPage',
  ...object({ height, passport: u32, versions: { type: 'array', items: { $ref: 'PassportVersion#' } }, nextCursor: next }),
};
const ContributorsPage = {
  $id: 'ContributorsPage',
  ...object({ height, passport: u32, version: u32, total: u32, contributors: { type: 'array', items: object({ address, shares: u32 }) }, nextCursor: next }),
};

const offerFields = {
  id: u32,
  passport: u32,
  seller: address,
  kind,
  price: amount,
  uses,
  usesMask: u32,
  durationBlocks: { ...u32, description: 'licence length in blocks; 0 for perpetual' },
  expiresAt: { ...nullable(u32), description: 'last height the offer can be bought at; null for none' },
  transferable: { type: 'boolean' },
  revocable: { type: 'boolean' },
  maxSales: nullable(u32),
  sold: u32,
  withdrawn: { type: 'boolean' },
  createdHeight: u32,
};
const Offer = { $id: 'Offer', description: 'A licence offer.', ...object(offerFields) };
const OfferReply = { $id: 'OfferReply', ...object({ height, ...offerFields }) };
const OffersPage = { $id: 'OffersPage', ...object({ height, passport: u32, offers: { type: 'array', items: { $ref: 'Offer#' } }, nextCursor: next }) };

const licenceFields = {
  id: u32,
  offer: u32,
  passport: u32,
  version: u32,
  holder: address,
  buyer: address,
  kind,
  price: amount,
  uses,
  usesMask: u32,
  transferable: { type: 'boolean' },
  revocable: { type: 'boolean' },
  startHeight: u32,
  expiresAt: { ...nullable(u32), description: 'first height the licence no longer holds; null for perpetual' },
  revokedHeight: nullable(u32),
  revokeReason: nullable(hex),
  active: { type: 'boolean', description: 'not revoked and not expired at the reply height' },
};
const Licence = { $id: 'Licence', description: 'A licence record.', ...object(licenceFields) };
const LicenceReply = { $id: 'LicenceReply', ...object({ height, ...licenceFields }) };
const LicencesPage = { $id: 'LicencesPage', ...object({ height, licences: { type: 'array', items: { $ref: 'Licence#' } }, nextCursor: next }) };
const LicenceCheck = {
  $id: 'LicenceCheck',
  description: `Whether an address holds an active licence for a passport (the newest ${LICENCE_CHECK_SCAN_MAX} of its licences for it are read).`,
  ...object({
    height,
    passport: u32,
    address,
    licensed: { type: 'boolean' },
    licences: { type: 'array', items: { $ref: 'Licence#' } },
    scanned: u32,
    complete: { type: 'boolean', description: 'false if the address has more licences for the passport than were read' },
  }),
};

export const PASSPORT_SCHEMAS = [
  PassportVersion,
  PassportVersionReply,
  Passport,
  PassportReply,
  PassportsPage,
  PassportVersionsPage,
  ContributorsPage,
  Offer,
  OfferReply,
  OffersPage,
  Licence,
  LicenceReply,
  LicencesPage,
  LicenceCheck,
] as const;
