/**
 * Data Passport and licence state records and their keys. Every record is a fixed-order msgpack
 * array; the layouts are listed byte by byte in docs/spec/passport.md §State. Keys start with a
 * prefix from state/keys.ts (0x20–0x2f).
 */
import {
  ADDRESS_BYTES,
  HASH_BYTES,
  Reader,
  amountToBytes,
  concatBytes,
  decodeStateValue,
  encode,
  u32ToBytes,
  utf8ToBytes,
  type Encodable,
} from '../../lib/index.ts';
import { PREFIX, stateLoader, type StateReader, type StateView } from '../../state/index.ts';

const RECORD_BYTES_MAX = 128 * 1024;

/** Limits on the free-form parts of a passport and an offer (checked at execution: a receipt error, not an undecodable tx). */
export const SCHEMA_BYTES_MAX = 256;
export const CONSENT_BASIS_BYTES_MAX = 64;
export const METHOD_BYTES_MAX = 64;
export const METHOD_VERSION_BYTES_MAX = 32;
export const METADATA_BYTES_MAX = 1024;
/** What the wire accepts for those strings: larger than the limits above, so that oversize metadata is a receipt code. */
export const WIRE_STRING_BYTES_MAX = 4096;
/** Source tasks of one passport version. */
export const SOURCE_TASKS_MAX = 1;
export const BPS = 10_000;

/** Version status. STATE-BREAKING. */
export const PASSPORT_STATUS = { building: 0, active: 1 } as const;
export type PassportStatus = (typeof PASSPORT_STATUS)[keyof typeof PASSPORT_STATUS];
export const PASSPORT_STATUS_NAMES = ['building', 'active'] as const;

/** Where a version's records come from. STATE-BREAKING. */
export const PASSPORT_SOURCE = { task: 0, external: 1 } as const;
export type PassportSource = (typeof PASSPORT_SOURCE)[keyof typeof PASSPORT_SOURCE];
export const PASSPORT_SOURCE_NAMES = ['task', 'external'] as const;

/** Licence kinds. STATE-BREAKING. */
export const LICENCE_KIND = { open: 0, commercial: 1, research: 2 } as const;
export type LicenceKind = (typeof LICENCE_KIND)[keyof typeof LICENCE_KIND];
export const LICENCE_KIND_NAMES = ['open', 'commercial', 'research-only'] as const;

/** Permitted-use bits (a licence's `uses` is a mask of them). STATE-BREAKING. */
export const USE = { train: 1, evaluate: 2, redistribute: 4, derive: 8, commercial: 16 } as const;
export const USE_NAMES = ['train', 'evaluate', 'redistribute', 'derive', 'commercial'] as const;
export const USES_MASK = 0b11111;

/** The basis under which the raw data was collected, who attested it and a hash of the consent document. */
export type Consent = { basis: string; attester: Uint8Array | null; documentHash: Uint8Array };

/** A passport version's default licence terms. */
export type PassportTerms = {
  kind: LicenceKind;
  uses: number;
  /** Whether the passport may change owner (docs/spec/passport.md §Transfer). */
  transferable: boolean;
  /** The contributors' part of every sale, in basis points of the price. */
  contributorsShareBps: number;
};

/** What a creator chooses for a version; for a task source the runtime fills method, methodVersion and paramsHash. */
export type PassportSpec = {
  schema: string;
  consent: Consent;
  terms: PassportTerms;
  method: string;
  methodVersion: string;
  paramsHash: Uint8Array;
  metadata: string;
};

export type Provenance = {
  sourceTasks: number[];
  method: string;
  methodVersion: string;
  paramsHash: Uint8Array;
  meanConfidenceQ16: number;
  contributorCount: number;
  /** Sum of the listed contributors' shares (accepted labels). */
  contributorShares: number;
  /** Accepted labels of contributors beyond the cap, folded into the owner's part. */
  foldedShares: number;
};

/** Who owns passport `id` and which versions exist. */
export type PassportHead = {
  id: number;
  owner: Uint8Array;
  /** Versions 1 … latest exist. */
  latest: number;
  /** The newest active version, 0 while none is active. */
  active: number;
  createdHeight: number;
};

export type PassportVersion = {
  id: number;
  version: number;
  /** The version this one supersedes, 0 for the first. */
  parent: number;
  status: PassportStatus;
  source: PassportSource;
  contentRoot: Uint8Array;
  recordCount: number;
  schema: string;
  consent: Consent;
  terms: PassportTerms;
  provenance: Provenance;
  metadata: string;
  createdHeight: number;
  /** Height it became active, 0 while building. */
  activeHeight: number;
};

export type Contributor = { address: Uint8Array; shares: number };

/** A build in progress: walks the task's items, then selects the contributors. */
export type BuildJob = {
  id: number;
  version: number;
  task: number;
  itemCount: number;
  /** 0: items; 1: contributor selection. */
  phase: number;
  /** Next item (phase 0) or tallied contributor (phase 1). */
  cursor: number;
  builder: Uint8Array;
  confidenceSum: bigint;
  /** Distinct annotators tallied so far. */
  tallied: number;
  /** Selected contributors so far, best first (shares descending, address ascending). */
  top: Contributor[];
  folded: number;
};

export type Offer = {
  id: number;
  passport: number;
  seller: Uint8Array;
  kind: LicenceKind;
  price: bigint;
  uses: number;
  /** Licence length in blocks from purchase; 0 for perpetual. */
  durationBlocks: number;
  /** Last height the offer can be bought at; 0 for no expiry. */
  expiresAt: number;
  transferable: boolean;
  /** The passport owner may revoke licences from this offer (for breach of terms). */
  revocable: boolean;
  /** Most sales, 0 for unlimited. */
  maxSales: number;
  sold: number;
  withdrawn: boolean;
  createdHeight: number;
};

export type Licence = {
  id: number;
  offer: number;
  passport: number;
  version: number;
  holder: Uint8Array;
  buyer: Uint8Array;
  kind: LicenceKind;
  price: bigint;
  uses: number;
  transferable: boolean;
  revocable: boolean;
  startHeight: number;
  /** First height the licence no longer holds; 0 for perpetual. */
  expiresAt: number;
  /** Height it was revoked, 0 if not. */
  revokedHeight: number;
  revokeReason: Uint8Array;
};

// ── keys ────────────────────────────────────────────────────────────────────────────────────────

function key(prefix: number, ...parts: Uint8Array[]): Uint8Array {
  return concatBytes(Uint8Array.of(prefix), ...parts);
}

export const passportGlobalKey = (name: string): Uint8Array => key(PREFIX.passportGlobal, utf8ToBytes(name));
export const passportHeadKey = (id: number): Uint8Array => key(PREFIX.passport, u32ToBytes(id));
export const passportVersionKey = (id: number, version: number): Uint8Array => key(PREFIX.passportVersion, u32ToBytes(id), u32ToBytes(version));
export const contributorsKey = (id: number, version: number): Uint8Array => key(PREFIX.passportContributors, u32ToBytes(id), u32ToBytes(version));
export const buildJobKey = (id: number, version: number): Uint8Array => key(PREFIX.passportBuild, u32ToBytes(id), u32ToBytes(version));
export const tallyKey = (id: number, version: number, who: Uint8Array): Uint8Array =>
  key(PREFIX.passportTally, u32ToBytes(id), u32ToBytes(version), who);
export const tallyListKey = (id: number, version: number, i: number): Uint8Array =>
  key(PREFIX.passportTallyList, u32ToBytes(id), u32ToBytes(version), u32ToBytes(i));
export const offerKey = (id: number): Uint8Array => key(PREFIX.licenceOffer, u32ToBytes(id));
export const licenceKey = (id: number): Uint8Array => key(PREFIX.licence, u32ToBytes(id));
export const licenceHeldKey = (offer: number, buyer: Uint8Array): Uint8Array => key(PREFIX.licenceHeld, u32ToBytes(offer), buyer);

// ── encodings ───────────────────────────────────────────────────────────────────────────────────

const optAddress = (a: Uint8Array | null): Uint8Array => a ?? new Uint8Array(0);

function readOptAddress(r: Reader, field: string): Uint8Array | null {
  const b = r.bytesMax(field, ADDRESS_BYTES);
  if (b.length === 0) return null;
  return Reader.array([b], field, 1).bytes(field, ADDRESS_BYTES);
}

export function consentToWire(c: Consent): Encodable[] {
  return [c.basis, optAddress(c.attester), c.documentHash];
}

export function parseConsent(value: unknown, stringMax: number): Consent {
  const r = Reader.array(value, 'Consent', 3);
  return { basis: r.str('basis', stringMax), attester: readOptAddress(r, 'attester'), documentHash: r.bytes('documentHash', HASH_BYTES) };
}

export function termsToWire(t: PassportTerms): Encodable[] {
  return [t.kind, t.uses, t.transferable, t.contributorsShareBps];
}

export function parseTerms(value: unknown): PassportTerms {
  const r = Reader.array(value, 'PassportTerms', 4);
  return { kind: r.u32('kind', 2) as LicenceKind, uses: r.u32('uses'), transferable: r.bool('transferable'), contributorsShareBps: r.u32('contributorsShareBps') };
}

export function passportSpecToWire(s: PassportSpec): Encodable[] {
  return [s.schema, consentToWire(s.consent), termsToWire(s.terms), s.method, s.methodVersion, s.paramsHash, s.metadata];
}

/** The wire form accepts strings up to WIRE_STRING_BYTES_MAX; execution applies the tighter limits. */
export function parsePassportSpec(value: unknown): PassportSpec {
  const r = Reader.array(value, 'PassportSpec', 7);
  return {
    schema: r.str('schema', WIRE_STRING_BYTES_MAX),
    consent: parseConsent(r.raw(), WIRE_STRING_BYTES_MAX),
    terms: parseTerms(r.raw()),
    method: r.str('method', WIRE_STRING_BYTES_MAX),
    methodVersion: r.str('methodVersion', WIRE_STRING_BYTES_MAX),
    paramsHash: r.bytes('paramsHash', HASH_BYTES),
    metadata: r.str('metadata', WIRE_STRING_BYTES_MAX),
  };
}

export function encodePassportHead(h: PassportHead): Uint8Array {
  return encode([h.id, h.owner, h.latest, h.active, h.createdHeight]);
}

export function decodePassportHead(bytes: Uint8Array): PassportHead {
  return decodeStateValue(bytes, 'PassportHead', 256, (v) => {
    const r = Reader.array(v, 'PassportHead', 5);
    return { id: r.u32('id'), owner: r.bytes('owner', ADDRESS_BYTES), latest: r.u32('latest'), active: r.u32('active'), createdHeight: r.u32('createdHeight') };
  });
}

function provenanceToWire(p: Provenance): Encodable[] {
  return [p.sourceTasks, p.method, p.methodVersion, p.paramsHash, p.meanConfidenceQ16, p.contributorCount, p.contributorShares, p.foldedShares];
}

function parseProvenance(value: unknown): Provenance {
  const r = Reader.array(value, 'Provenance', 8);
  return {
    sourceTasks: r.list('sourceTasks', SOURCE_TASKS_MAX, (x, i) => Reader.array([x], 'Provenance', 1).u32(`sourceTasks[${i}]`)),
    method: r.str('method', METHOD_BYTES_MAX),
    methodVersion: r.str('methodVersion', METHOD_VERSION_BYTES_MAX),
    paramsHash: r.bytes('paramsHash', HASH_BYTES),
    meanConfidenceQ16: r.u32('meanConfidenceQ16'),
    contributorCount: r.u32('contributorCount'),
    contributorShares: r.u32('contributorShares'),
    foldedShares: r.u32('foldedShares'),
  };
}

export function encodePassportVersion(p: PassportVersion): Uint8Array {
  return encode([
    p.id,
    p.version,
    p.parent,
    p.status,
    p.source,
    p.contentRoot,
    p.recordCount,
    p.schema,
    consentToWire(p.consent),
    termsToWire(p.terms),
    provenanceToWire(p.provenance),
    p.metadata,
    p.createdHeight,
    p.activeHeight,
  ]);
}

export function decodePassportVersion(bytes: Uint8Array): PassportVersion {
  return decodeStateValue(bytes, 'PassportVersion', 16 * 1024, (v) => {
    const r = Reader.array(v, 'PassportVersion', 14);
    return {
      id: r.u32('id'),
      version: r.u32('version'),
      parent: r.u32('parent'),
      status: r.u32('status', 1) as PassportStatus,
      source: r.u32('source', 1) as PassportSource,
      contentRoot: r.bytes('contentRoot', HASH_BYTES),
      recordCount: r.u32('recordCount'),
      schema: r.str('schema', SCHEMA_BYTES_MAX),
      consent: parseConsent(r.raw(), CONSENT_BASIS_BYTES_MAX),
      terms: parseTerms(r.raw()),
      provenance: parseProvenance(r.raw()),
      metadata: r.str('metadata', METADATA_BYTES_MAX),
      createdHeight: r.u32('createdHeight'),
      activeHeight: r.u32('activeHeight'),
    };
  });
}

/** Contributors are listed shares-descending, address-ascending; at most `contributorsMax` (a parameter, ≤ CONTRIBUTORS_CEILING). */
export const CONTRIBUTORS_CEILING = 4_096;

export function encodeContributors(list: readonly Contributor[]): Uint8Array {
  return encode(list.map((c) => [c.address, c.shares]));
}

export function decodeContributors(bytes: Uint8Array): Contributor[] {
  return decodeStateValue(bytes, 'Contributors', RECORD_BYTES_MAX, (v) =>
    Reader.list(v, 'Contributors', CONTRIBUTORS_CEILING, (x) => {
      const r = Reader.array(x, 'Contributor', 2);
      return { address: r.bytes('address', ADDRESS_BYTES), shares: r.u32('shares') };
    }),
  );
}

export function encodeBuildJob(j: BuildJob): Uint8Array {
  return encode([
    j.id,
    j.version,
    j.task,
    j.itemCount,
    j.phase,
    j.cursor,
    j.builder,
    amountToBytes(j.confidenceSum),
    j.tallied,
    j.top.map((c) => [c.address, c.shares]),
    j.folded,
  ]);
}

export function decodeBuildJob(bytes: Uint8Array): BuildJob {
  return decodeStateValue(bytes, 'BuildJob', RECORD_BYTES_MAX, (v) => {
    const r = Reader.array(v, 'BuildJob', 11);
    return {
      id: r.u32('id'),
      version: r.u32('version'),
      task: r.u32('task'),
      itemCount: r.u32('itemCount'),
      phase: r.u32('phase', 1),
      cursor: r.u32('cursor'),
      builder: r.bytesMax('builder', 2048),
      confidenceSum: r.amount('confidenceSum'),
      tallied: r.u32('tallied'),
      top: r.list('top', CONTRIBUTORS_CEILING, (x) => {
        const cr = Reader.array(x, 'Contributor', 2);
        return { address: cr.bytes('address', ADDRESS_BYTES), shares: cr.u32('shares') };
      }),
      folded: r.u32('folded'),
    };
  });
}

export function encodeOffer(o: Offer): Uint8Array {
  return encode([
    o.id,
    o.passport,
    o.seller,
    o.kind,
    amountToBytes(o.price),
    o.uses,
    o.durationBlocks,
    o.expiresAt,
    o.transferable,
    o.revocable,
    o.maxSales,
    o.sold,
    o.withdrawn,
    o.createdHeight,
  ]);
}

export function decodeOffer(bytes: Uint8Array): Offer {
  return decodeStateValue(bytes, 'Offer', 512, (v) => {
    const r = Reader.array(v, 'Offer', 14);
    return {
      id: r.u32('id'),
      passport: r.u32('passport'),
      seller: r.bytes('seller', ADDRESS_BYTES),
      kind: r.u32('kind', 2) as LicenceKind,
      price: r.amount('price'),
      uses: r.u32('uses'),
      durationBlocks: r.u32('durationBlocks'),
      expiresAt: r.u32('expiresAt'),
      transferable: r.bool('transferable'),
      revocable: r.bool('revocable'),
      maxSales: r.u32('maxSales'),
      sold: r.u32('sold'),
      withdrawn: r.bool('withdrawn'),
      createdHeight: r.u32('createdHeight'),
    };
  });
}

export function encodeLicence(l: Licence): Uint8Array {
  return encode([
    l.id,
    l.offer,
    l.passport,
    l.version,
    l.holder,
    l.buyer,
    l.kind,
    amountToBytes(l.price),
    l.uses,
    l.transferable,
    l.revocable,
    l.startHeight,
    l.expiresAt,
    l.revokedHeight,
    l.revokeReason,
  ]);
}

export function decodeLicence(bytes: Uint8Array): Licence {
  return decodeStateValue(bytes, 'Licence', 512, (v) => {
    const r = Reader.array(v, 'Licence', 15);
    return {
      id: r.u32('id'),
      offer: r.u32('offer'),
      passport: r.u32('passport'),
      version: r.u32('version'),
      holder: r.bytes('holder', ADDRESS_BYTES),
      buyer: r.bytes('buyer', ADDRESS_BYTES),
      kind: r.u32('kind', 2) as LicenceKind,
      price: r.amount('price'),
      uses: r.u32('uses'),
      transferable: r.bool('transferable'),
      revocable: r.bool('revocable'),
      startHeight: r.u32('startHeight'),
      expiresAt: r.u32('expiresAt'),
      revokedHeight: r.u32('revokedHeight'),
      revokeReason: r.bytesMax('revokeReason', HASH_BYTES),
    };
  });
}

/** True while the licence grants its uses at `height`: not revoked and not expired. */
export function licenceActive(l: Licence, height: number): boolean {
  return l.revokedHeight === 0 && (l.expiresAt === 0 || height < l.expiresAt);
}

// ── typed access ────────────────────────────────────────────────────────────────────────────────

const getHead = stateLoader(decodePassportHead);
const getVersion = stateLoader(decodePassportVersion);
const getJob = stateLoader(decodeBuildJob);
const getOffer = stateLoader(decodeOffer);
const getLicence = stateLoader(decodeLicence);

export const loadPassportHead = (s: StateReader, id: number): PassportHead | null => getHead(s, passportHeadKey(id));
export const savePassportHead = (v: StateView, h: PassportHead): void => v.set(passportHeadKey(h.id), encodePassportHead(h));
export const loadPassportVersion = (s: StateReader, id: number, version: number): PassportVersion | null =>
  getVersion(s, passportVersionKey(id, version));
export const savePassportVersion = (v: StateView, p: PassportVersion): void => v.set(passportVersionKey(p.id, p.version), encodePassportVersion(p));
export function loadContributors(s: StateReader, id: number, version: number): Contributor[] {
  const bytes = s.get(contributorsKey(id, version));
  return bytes === undefined ? [] : decodeContributors(bytes);
}
export function saveContributors(v: StateView, id: number, version: number, list: readonly Contributor[]): void {
  if (list.length === 0) v.delete(contributorsKey(id, version));
  else v.set(contributorsKey(id, version), encodeContributors(list));
}
export const loadBuildJob = (s: StateReader, id: number, version: number): BuildJob | null => getJob(s, buildJobKey(id, version));
export const saveBuildJob = (v: StateView, j: BuildJob): void => v.set(buildJobKey(j.id, j.version), encodeBuildJob(j));
export const loadOffer = (s: StateReader, id: number): Offer | null => getOffer(s, offerKey(id));
export const saveOffer = (v: StateView, o: Offer): void => v.set(offerKey(o.id), encodeOffer(o));
export const loadLicence = (s: StateReader, id: number): Licence | null => getLicence(s, licenceKey(id));
export const saveLicence = (v: StateView, l: Licence): void => v.set(licenceKey(l.id), encodeLicence(l));

export function loadLicenceHeld(s: StateReader, offer: number, buyer: Uint8Array): number | null {
  const bytes = s.get(licenceHeldKey(offer, buyer));
  return bytes === undefined ? null : decodeStateValue(bytes, 'LicenceHeld', 16, (v) => Reader.array(v, 'LicenceHeld', 1).u32('licence'));
}

export function saveLicenceHeld(v: StateView, offer: number, buyer: Uint8Array, licence: number): void {
  v.set(licenceHeldKey(offer, buyer), encode([licence]));
}

// ── counters ────────────────────────────────────────────────────────────────────────────────────

/** Sequential ids: 'passports', 'offers', 'licences' count the ids handed out (ids start at 1). */
export function loadPassportCounter(state: StateReader, name: string): number {
  const bytes = state.get(passportGlobalKey(name));
  return bytes === undefined ? 0 : decodeStateValue(bytes, 'Counter', 16, (v) => Reader.array(v, 'Counter', 1).u32('n'));
}

export function savePassportCounter(view: StateView, name: string, n: number): void {
  view.set(passportGlobalKey(name), encode([n]));
}
