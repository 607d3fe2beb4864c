/**
 * Passport and licence transaction bodies and their wire forms (the `payload` of a Tx whose
 * `kind` is one of PASSPORT_KIND). See docs/spec/passport.md §Transactions.
 *
 *   passportCreate   30  [task: u32, spec: PassportSpec]
 *   passportRegister 31  [contentRoot: bin(32), recordCount: u32, spec: PassportSpec]
 *   passportVersion  32  [passport: u32, task: u32 (0 = external), contentRoot: bin(0|32), recordCount: u32, spec: PassportSpec]
 *   passportTransfer 33  [passport: u32, to: bin(20)]
 *   licenceOffer     34  [passport: u32, kind: u32, price: amount, uses: u32, durationBlocks: u32,
 *                         expiresAt: u32, transferable: bool, revocable: bool, maxSales: u32]
 *   licenceWithdraw  35  [offer: u32]
 *   licenceBuy       36  [offer: u32, maxPrice: amount]
 *   licenceRevoke    37  [licence: u32, reason: bin(32)]
 *   licenceTransfer  38  [licence: u32, to: bin(20)]
 *   (39 is reserved)
 */
import { ADDRESS_BYTES, CodecError, HASH_BYTES, Reader, amountToBytes, type Encodable } from '../../lib/index.ts';
import { parsePassportSpec, passportSpecToWire, type LicenceKind, type PassportSpec } from './records.ts';

/** Wire numbers. STATE-BREAKING, never reused. */
export const PASSPORT_KIND = {
  passportCreate: 30,
  passportRegister: 31,
  passportVersion: 32,
  passportTransfer: 33,
  licenceOffer: 34,
  licenceWithdraw: 35,
  licenceBuy: 36,
  licenceRevoke: 37,
  licenceTransfer: 38,
} as const;

export type OfferTerms = {
  kind: LicenceKind;
  price: bigint;
  uses: number;
  durationBlocks: number;
  expiresAt: number;
  transferable: boolean;
  revocable: boolean;
  maxSales: number;
};

export type PassportBody =
  | { kind: 'passportCreate'; task: number; spec: PassportSpec }
  | { kind: 'passportRegister'; contentRoot: Uint8Array; recordCount: number; spec: PassportSpec }
  | { kind: 'passportVersion'; passport: number; task: number; contentRoot: Uint8Array | null; recordCount: number; spec: PassportSpec }
  | { kind: 'passportTransfer'; passport: number; to: Uint8Array }
  | { kind: 'licenceOffer'; passport: number; terms: OfferTerms }
  | { kind: 'licenceWithdraw'; offer: number }
  | { kind: 'licenceBuy'; offer: number; maxPrice: bigint }
  | { kind: 'licenceRevoke'; licence: number; reason: Uint8Array }
  | { kind: 'licenceTransfer'; licence: number; to: Uint8Array };

export type PassportKindName = PassportBody['kind'];

const PASSPORT_KIND_NAMES: ReadonlySet<string> = new Set(Object.keys(PASSPORT_KIND));

export function isPassportKind(kind: number): boolean {
  return kind >= PASSPORT_KIND.passportCreate && kind <= PASSPORT_KIND.licenceTransfer;
}

export function isPassportBody(body: { kind: string }): body is PassportBody {
  return PASSPORT_KIND_NAMES.has(body.kind);
}

export function passportBodyToWire(body: PassportBody): [number, Encodable[]] {
  switch (body.kind) {
    case 'passportCreate':
      return [PASSPORT_KIND.passportCreate, [body.task, passportSpecToWire(body.spec)]];
    case 'passportRegister':
      return [PASSPORT_KIND.passportRegister, [body.contentRoot, body.recordCount, passportSpecToWire(body.spec)]];
    case 'passportVersion':
      return [
        PASSPORT_KIND.passportVersion,
        [body.passport, body.task, body.contentRoot ?? new Uint8Array(0), body.recordCount, passportSpecToWire(body.spec)],
      ];
    case 'passportTransfer':
      return [PASSPORT_KIND.passportTransfer, [body.passport, body.to]];
    case 'licenceOffer':
      return [
        PASSPORT_KIND.licenceOffer,
        [body.passport, ...offerTermsToWire(body.terms)],
      ];
    case 'licenceWithdraw':
      return [PASSPORT_KIND.licenceWithdraw, [body.offer]];
    case 'licenceBuy':
      return [PASSPORT_KIND.licenceBuy, [body.offer, amountToBytes(body.maxPrice)]];
    case 'licenceRevoke':
      return [PASSPORT_KIND.licenceRevoke, [body.licence, body.reason]];
    case 'licenceTransfer':
      return [PASSPORT_KIND.licenceTransfer, [body.licence, body.to]];
  }
}

function offerTermsToWire(t: OfferTerms): Encodable[] {
  return [t.kind, amountToBytes(t.price), t.uses, t.durationBlocks, t.expiresAt, t.transferable, t.revocable, t.maxSales];
}

function address(r: Reader, field: string): Uint8Array {
  return r.bytes(field, ADDRESS_BYTES);
}

export function parsePassportBody(kind: number, payload: unknown): PassportBody {
  switch (kind) {
    case PASSPORT_KIND.passportCreate: {
      const r = Reader.array(payload, 'PassportCreate', 2);
      return { kind: 'passportCreate', task: r.u32('task'), spec: parsePassportSpec(r.raw()) };
    }
    case PASSPORT_KIND.passportRegister: {
      const r = Reader.array(payload, 'PassportRegister', 3);
      return { kind: 'passportRegister', contentRoot: r.bytes('contentRoot', HASH_BYTES), recordCount: r.u32('recordCount'), spec: parsePassportSpec(r.raw()) };
    }
    case PASSPORT_KIND.passportVersion: {
      const r = Reader.array(payload, 'PassportVersion', 5);
      const passport = r.u32('passport');
      const task = r.u32('task');
      const root = r.bytesMax('contentRoot', HASH_BYTES);
      if (root.length !== 0 && root.length !== HASH_BYTES) {
        throw new CodecError(
          { code: 'CODEC_WRONG_LENGTH', what: 'PassportVersion', field: 'contentRoot', expected: HASH_BYTES, actual: root.length },
          `PassportVersion.contentRoot: expected 0 or ${HASH_BYTES} bytes`,
        );
      }
      return { kind: 'passportVersion', passport, task, contentRoot: root.length === 0 ? null : root, recordCount: r.u32('recordCount'), spec: parsePassportSpec(r.raw()) };
    }
    case PASSPORT_KIND.passportTransfer: {
      const r = Reader.array(payload, 'PassportTransfer', 2);
      return { kind: 'passportTransfer', passport: r.u32('passport'), to: address(r, 'to') };
    }
    case PASSPORT_KIND.licenceOffer: {
      const r = Reader.array(payload, 'LicenceOffer', 9);
      const passport = r.u32('passport');
      const terms: OfferTerms = {
        kind: r.u32('kind', 2) as LicenceKind,
        price: r.amount('price'),
        uses: r.u32('uses'),
        durationBlocks: r.u32('durationBlocks'),
        expiresAt: r.u32('expiresAt'),
        transferable: r.bool('transferable'),
        revocable: r.bool('revocable'),
        maxSales: r.u32('maxSales'),
      };
      return { kind: 'licenceOffer', passport, terms };
    }
    case PASSPORT_KIND.licenceWithdraw:
      return { kind: 'licenceWithdraw', offer: Reader.array(payload, 'LicenceWithdraw', 1).u32('offer') };
    case PASSPORT_KIND.licenceBuy: {
      const r = Reader.array(payload, 'LicenceBuy', 2);
      return { kind: 'licenceBuy', offer: r.u32('offer'), maxPrice: r.amount('maxPrice') };
    }
    case PASSPORT_KIND.licenceRevoke: {
      const r = Reader.array(payload, 'LicenceRevoke', 2);
      return { kind: 'licenceRevoke', licence: r.u32('licence'), reason: r.bytes('reason', HASH_BYTES) };
    }
    case PASSPORT_KIND.licenceTransfer: {
      const r = Reader.array(payload, 'LicenceTransfer', 2);
      return { kind: 'licenceTransfer', licence: r.u32('licence'), to: address(r, 'to') };
    }
    default:
      throw new CodecError(
        { code: 'CODEC_WRONG_TYPE', what: 'Tx', field: 'kind', expected: 'a known transaction kind' },
        `Tx.kind: unknown transaction kind ${kind}`,
      );
  }
}
