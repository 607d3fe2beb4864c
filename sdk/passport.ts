/**
 * Client side of Data Passports and licences (docs/spec/passport.md §Transactions): builders for
 * the nine transaction bodies, and a passport spec and offer terms from human input (kind and use
 * names, prices in TAG). The builders check what the chain would refuse for sure (sizes, ranges),
 * so that a mistake costs no fee; the chain checks everything again.
 */
import { ChainError, U32_MAX, parseTag, utf8ToBytes } from '../lib/index.ts';
import type { FeeSchedule } from './labelling.ts';
import {
  BPS,
  CONSENT_BASIS_BYTES_MAX,
  LICENCE_KIND,
  LICENCE_KIND_NAMES,
  METADATA_BYTES_MAX,
  METHOD_BYTES_MAX,
  METHOD_VERSION_BYTES_MAX,
  SCHEMA_BYTES_MAX,
  USES_MASK,
  USE_NAMES,
  encodeTx,
  type LicenceKind,
  type OfferTerms,
  type PassportBody,
  type PassportSpec,
} from '../runtime/index.ts';

export type PassportInputErrorType = { code: 'PASSPORT_BAD_INPUT'; field: string; reason: string };
/** Input a passport builder cannot turn into a valid transaction. */
export class PassportInputError extends ChainError<PassportInputErrorType> {}

function bad(field: string, reason: string): PassportInputError {
  return new PassportInputError({ code: 'PASSPORT_BAD_INPUT', field, reason }, `${field}: ${reason}`);
}

function u32(field: string, n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > U32_MAX) throw bad(field, `must be an integer from 0 to ${U32_MAX}`);
  return n;
}

function id(field: string, n: number): number {
  if (u32(field, n) === 0) throw bad(field, 'ids start at 1');
  return n;
}

function bytes32(field: string, b: Uint8Array): Uint8Array {
  if (b.length !== 32) throw bad(field, 'must be 32 bytes');
  return b;
}

function address(field: string, b: Uint8Array): Uint8Array {
  if (b.length !== 20) throw bad(field, 'must be a 20-byte address');
  return b;
}

function bounded(field: string, s: string, max: number): string {
  if (utf8ToBytes(s).length > max) throw bad(field, `at most ${max} bytes`);
  return s;
}

/** Checks the sizes and ranges the chain enforces on a spec (PASSPORT_METADATA_TOO_LARGE, PASSPORT_BAD_TERMS). */
export function checkPassportSpec(spec: PassportSpec): PassportSpec {
  bounded('schema', spec.schema, SCHEMA_BYTES_MAX);
  bounded('consent.basis', spec.consent.basis, CONSENT_BASIS_BYTES_MAX);
  bounded('method', spec.method, METHOD_BYTES_MAX);
  bounded('methodVersion', spec.methodVersion, METHOD_VERSION_BYTES_MAX);
  bounded('metadata', spec.metadata, METADATA_BYTES_MAX);
  bytes32('consent.documentHash', spec.consent.documentHash);
  if (spec.consent.attester !== null) address('consent.attester', spec.consent.attester);
  bytes32('paramsHash', spec.paramsHash);
  if ((spec.terms.uses & ~USES_MASK) !== 0) throw bad('terms.uses', 'unknown use bits');
  if (!Number.isInteger(spec.terms.contributorsShareBps) || spec.terms.contributorsShareBps < 0 || spec.terms.contributorsShareBps > BPS) {
    throw bad('terms.contributorsShareBps', `0 to ${BPS}`);
  }
  return spec;
}

/** A licence kind from its name: open, commercial or research-only (also "research"). */
export function licenceKindFromName(name: string): LicenceKind {
  const n = name === 'research' ? 'research-only' : name;
  const i = (LICENCE_KIND_NAMES as readonly string[]).indexOf(n);
  if (i < 0) throw bad('kind', `one of ${LICENCE_KIND_NAMES.join(', ')}`);
  return i as LicenceKind;
}

/** A uses mask from names (train, evaluate, redistribute, derive, commercial) or "all". */
export function usesFromNames(names: readonly string[]): number {
  let mask = 0;
  for (const name of names) {
    if (name === 'all') return USES_MASK;
    const i = (USE_NAMES as readonly string[]).indexOf(name);
    if (i < 0) throw bad('uses', `unknown use "${name}"; one of ${USE_NAMES.join(', ')}, all`);
    mask |= 1 << i;
  }
  return mask;
}

export type PassportSpecInput = {
  schema: string;
  consentBasis: string;
  consentAttester?: Uint8Array | null;
  consentDocumentHash?: Uint8Array;
  kind?: string;
  uses?: readonly string[];
  transferable?: boolean;
  /** The contributors' part of each sale, in percent (e.g. 30 for 30 %). */
  contributorsPercent?: number;
  method?: string;
  methodVersion?: string;
  paramsHash?: Uint8Array;
  metadata?: string;
};

/** A passport spec from human input; defaults: commercial, every use, transferable, 30 % to contributors. */
export function passportSpecFrom(input: PassportSpecInput): PassportSpec {
  const percent = input.contributorsPercent ?? 30;
  if (!Number.isFinite(percent) || percent < 0 || percent > 100) throw bad('contributorsPercent', '0 to 100');
  return checkPassportSpec({
    schema: input.schema,
    consent: { basis: input.consentBasis, attester: input.consentAttester ?? null, documentHash: input.consentDocumentHash ?? new Uint8Array(32) },
    terms: {
      kind: licenceKindFromName(input.kind ?? 'commercial'),
      uses: input.uses === undefined ? USES_MASK : usesFromNames(input.uses),
      transferable: input.transferable ?? true,
      contributorsShareBps: Math.round(percent * 100),
    },
    method: input.method ?? '',
    methodVersion: input.methodVersion ?? '',
    paramsHash: input.paramsHash ?? new Uint8Array(32),
    metadata: input.metadata ?? '',
  });
}

export type OfferInput = {
  kind?: string;
  /** Price in TAG, e.g. "12.5". */
  price: string;
  uses?: readonly string[];
  durationBlocks?: number;
  expiresAt?: number;
  transferable?: boolean;
  revocable?: boolean;
  maxSales?: number;
};

/** Offer terms from human input; an open licence must be free. */
export function offerTermsFrom(input: OfferInput): OfferTerms {
  const kind = licenceKindFromName(input.kind ?? 'commercial');
  const price = parseTag(input.price);
  if (kind === LICENCE_KIND.open && price !== 0n) throw bad('price', 'an open licence is free');
  const uses = input.uses === undefined ? usesFromNames(['train', 'evaluate']) : usesFromNames(input.uses);
  if (uses === 0) throw bad('uses', 'at least one use');
  return {
    kind,
    price,
    uses,
    durationBlocks: u32('durationBlocks', input.durationBlocks ?? 0),
    expiresAt: u32('expiresAt', input.expiresAt ?? 0),
    transferable: input.transferable ?? false,
    revocable: input.revocable ?? true,
    maxSales: u32('maxSales', input.maxSales ?? 0),
  };
}

// ── bodies ──────────────────────────────────────────────────────────────────────────────────────

export function buildPassportCreate(task: number, spec: PassportSpec): PassportBody {
  return { kind: 'passportCreate', task: id('task', task), spec: checkPassportSpec(spec) };
}

export function buildPassportRegister(contentRoot: Uint8Array, recordCount: number, spec: PassportSpec): PassportBody {
  if (u32('recordCount', recordCount) === 0) throw bad('recordCount', 'at least one record');
  return { kind: 'passportRegister', contentRoot: bytes32('contentRoot', contentRoot), recordCount, spec: checkPassportSpec(spec) };
}

/** A new version: from a done task (`{ task }`) or an external dataset (`{ contentRoot, recordCount }`). */
export function buildPassportVersion(passport: number, source: { task: number } | { contentRoot: Uint8Array; recordCount: number }, spec: PassportSpec): PassportBody {
  const base = { kind: 'passportVersion' as const, passport: id('passport', passport), spec: checkPassportSpec(spec) };
  if ('task' in source) return { ...base, task: id('task', source.task), contentRoot: null, recordCount: 0 };
  if (u32('recordCount', source.recordCount) === 0) throw bad('recordCount', 'at least one record');
  return { ...base, task: 0, contentRoot: bytes32('contentRoot', source.contentRoot), recordCount: source.recordCount };
}

export function buildPassportTransfer(passport: number, to: Uint8Array): PassportBody {
  return { kind: 'passportTransfer', passport: id('passport', passport), to: address('to', to) };
}

export function buildLicenceOffer(passport: number, terms: OfferTerms): PassportBody {
  return { kind: 'licenceOffer', passport: id('passport', passport), terms };
}

export function buildLicenceWithdraw(offer: number): PassportBody {
  return { kind: 'licenceWithdraw', offer: id('offer', offer) };
}

/** Buys from `offer`, paying at most `maxPrice` (the offer's price; a guard against buying the wrong offer). */
export function buildLicenceBuy(offer: number, maxPrice: bigint): PassportBody {
  if (maxPrice < 0n) throw bad('maxPrice', 'must not be negative');
  return { kind: 'licenceBuy', offer: id('offer', offer), maxPrice };
}

export function buildLicenceRevoke(licence: number, reason: Uint8Array = new Uint8Array(32)): PassportBody {
  return { kind: 'licenceRevoke', licence: id('licence', licence), reason: bytes32('reason', reason) };
}

export function buildLicenceTransfer(licence: number, to: Uint8Array): PassportBody {
  return { kind: 'licenceTransfer', licence: id('licence', licence), to: address('to', to) };
}

const SIGNATURE_AND_FRAMING_BYTES = 64 + 16;

/** A fee ceiling that covers the fee of a passport transaction under `fees` (the fee charged is the exact one). */
export function passportMaxFee(chainId: string, body: PassportBody, fees: FeeSchedule): bigint {
  const probe = encodeTx({ chainId, sender: new Uint8Array(32), nonce: U32_MAX, maxFee: 10n ** 30n, body });
  return fees.baseFee + fees.perByteFee * BigInt(probe.length + SIGNATURE_AND_FRAMING_BYTES);
}
