/**
 * JSON views of passports, versions, contributors, offers and licences (rpc/routes/passports.ts);
 * the matching JSON schemas are in rpc/passportSchemas.ts. Amounts are decimal strings, bytes 0x-hex,
 * addresses bech32m.
 */
import { addressToString } from '../lib/index.ts';
import {
  LICENCE_KIND_NAMES,
  PASSPORT_SOURCE_NAMES,
  PASSPORT_STATUS_NAMES,
  USE_NAMES,
  licenceActive,
  type Contributor,
  type Licence,
  type Offer,
  type PassportHead,
  type PassportVersion,
} from '../runtime/index.ts';
import { hex, type Hex } from './views.ts';

export type PassportTermsJson = { kind: string; uses: string[]; usesMask: number; transferable: boolean; contributorsShareBps: number };

export type PassportVersionJson = {
  passport: number;
  version: number;
  parent: number | null;
  status: string;
  source: string;
  contentRoot: Hex;
  recordCount: number;
  schema: string;
  consent: { basis: string; attester: string | null; documentHash: Hex };
  terms: PassportTermsJson;
  provenance: {
    sourceTasks: number[];
    method: string;
    methodVersion: string;
    paramsHash: Hex;
    meanConfidenceQ16: number;
    contributorCount: number;
    contributorShares: number;
    foldedShares: number;
  };
  metadata: string;
  createdHeight: number;
  activeHeight: number | null;
};

export type PassportJson = {
  id: number;
  owner: string;
  latestVersion: number;
  activeVersion: number | null;
  createdHeight: number;
  latest: PassportVersionJson;
};

export type PassportReplyJson = { height: number } & PassportJson;
export type PassportVersionReplyJson = { height: number } & PassportVersionJson;
export type PassportsPageJson = { height: number; passports: PassportJson[]; nextCursor: number | null };
export type PassportVersionsPageJson = { height: number; passport: number; versions: PassportVersionJson[]; nextCursor: number | null };
export type ContributorJson = { address: string; shares: number };
export type ContributorsPageJson = { height: number; passport: number; version: number; total: number; contributors: ContributorJson[]; nextCursor: number | null };

export type OfferJson = {
  id: number;
  passport: number;
  seller: string;
  kind: string;
  price: string;
  uses: string[];
  usesMask: number;
  durationBlocks: number;
  expiresAt: number | null;
  transferable: boolean;
  revocable: boolean;
  maxSales: number | null;
  sold: number;
  withdrawn: boolean;
  createdHeight: number;
};
export type OfferReplyJson = { height: number } & OfferJson;
export type OffersPageJson = { height: number; passport: number; offers: OfferJson[]; nextCursor: number | null };

export type LicenceJson = {
  id: number;
  offer: number;
  passport: number;
  version: number;
  holder: string;
  buyer: string;
  kind: string;
  price: string;
  uses: string[];
  usesMask: number;
  transferable: boolean;
  revocable: boolean;
  startHeight: number;
  expiresAt: number | null;
  revokedHeight: number | null;
  revokeReason: Hex | null;
  active: boolean;
};
export type LicenceReplyJson = { height: number } & LicenceJson;
export type LicencesPageJson = { height: number; licences: LicenceJson[]; nextCursor: number | null };
export type LicenceCheckJson = { height: number; passport: number; address: string; licensed: boolean; licences: LicenceJson[]; scanned: number; complete: boolean };

const orNull = (n: number): number | null => (n === 0 ? null : n);

export function usesToNames(mask: number): string[] {
  return USE_NAMES.filter((_, i) => (mask & (1 << i)) !== 0);
}

export function passportVersionToJson(v: PassportVersion): PassportVersionJson {
  return {
    passport: v.id,
    version: v.version,
    parent: orNull(v.parent),
    status: PASSPORT_STATUS_NAMES[v.status],
    source: PASSPORT_SOURCE_NAMES[v.source],
    contentRoot: hex(v.contentRoot),
    recordCount: v.recordCount,
    schema: v.schema,
    consent: { basis: v.consent.basis, attester: v.consent.attester === null ? null : addressToString(v.consent.attester), documentHash: hex(v.consent.documentHash) },
    terms: {
      kind: LICENCE_KIND_NAMES[v.terms.kind],
      uses: usesToNames(v.terms.uses),
      usesMask: v.terms.uses,
      transferable: v.terms.transferable,
      contributorsShareBps: v.terms.contributorsShareBps,
    },
    provenance: { ...v.provenance, sourceTasks: [...v.provenance.sourceTasks], paramsHash: hex(v.provenance.paramsHash) },
    metadata: v.metadata,
    createdHeight: v.createdHeight,
    activeHeight: orNull(v.activeHeight),
  };
}

export function passportToJson(head: PassportHead, latest: PassportVersion): PassportJson {
  return {
    id: head.id,
    owner: addressToString(head.owner),
    latestVersion: head.latest,
    activeVersion: orNull(head.active),
    createdHeight: head.createdHeight,
    latest: passportVersionToJson(latest),
  };
}

export function contributorToJson(c: Contributor): ContributorJson {
  return { address: addressToString(c.address), shares: c.shares };
}

export function offerToJson(o: Offer): OfferJson {
  return {
    id: o.id,
    passport: o.passport,
    seller: addressToString(o.seller),
    kind: LICENCE_KIND_NAMES[o.kind],
    price: o.price.toString(),
    uses: usesToNames(o.uses),
    usesMask: o.uses,
    durationBlocks: o.durationBlocks,
    expiresAt: orNull(o.expiresAt),
    transferable: o.transferable,
    revocable: o.revocable,
    maxSales: orNull(o.maxSales),
    sold: o.sold,
    withdrawn: o.withdrawn,
    createdHeight: o.createdHeight,
  };
}

export function licenceToJson(l: Licence, height: number): LicenceJson {
  return {
    id: l.id,
    offer: l.offer,
    passport: l.passport,
    version: l.version,
    holder: addressToString(l.holder),
    buyer: addressToString(l.buyer),
    kind: LICENCE_KIND_NAMES[l.kind],
    price: l.price.toString(),
    uses: usesToNames(l.uses),
    usesMask: l.uses,
    transferable: l.transferable,
    revocable: l.revocable,
    startHeight: l.startHeight,
    expiresAt: orNull(l.expiresAt),
    revokedHeight: orNull(l.revokedHeight),
    revokeReason: l.revokedHeight === 0 ? null : hex(l.revokeReason),
    active: licenceActive(l, height),
  };
}
