/**
 * Passport parameters. They live in state under `passportGlobalKey('params')`; a chain whose
 * genesis sets none uses DEFAULT_PASSPORT_PARAMS (docs/spec/passport.md §Parameters).
 */
import { Reader, decodeStateValue, encode } from '../../lib/index.ts';
import type { StateReader, StateView } from '../../state/index.ts';
import { BPS, CONTRIBUTORS_CEILING, passportGlobalKey } from './records.ts';

export type PassportParams = {
  /** Work units per block for building passports from tasks: one unit per item, then one per tallied annotator. */
  buildUnitsPerBlockMax: number;
  /** Most contributors listed on a passport version; the rest are folded into the owner's part. */
  contributorsMax: number;
  /** Least contributors' part of a sale a task-derived passport may set, in basis points. */
  contributorsShareBpsMin: number;
};

export const DEFAULT_PASSPORT_PARAMS: PassportParams = {
  buildUnitsPerBlockMax: 2_000,
  contributorsMax: 1_024,
  contributorsShareBpsMin: 1_000,
};

const PARAMS_KEY = passportGlobalKey('params');

export function passportParamsProblem(p: PassportParams): string | null {
  if (!Number.isInteger(p.buildUnitsPerBlockMax) || p.buildUnitsPerBlockMax < 1 || p.buildUnitsPerBlockMax > 100_000) return 'buildUnitsPerBlockMax must be 1..100000';
  if (!Number.isInteger(p.contributorsMax) || p.contributorsMax < 1 || p.contributorsMax > CONTRIBUTORS_CEILING) return `contributorsMax must be 1..${CONTRIBUTORS_CEILING}`;
  if (!Number.isInteger(p.contributorsShareBpsMin) || p.contributorsShareBpsMin < 0 || p.contributorsShareBpsMin > BPS) return `contributorsShareBpsMin must be 0..${BPS}`;
  return null;
}

export function encodePassportParams(p: PassportParams): Uint8Array {
  return encode([p.buildUnitsPerBlockMax, p.contributorsMax, p.contributorsShareBpsMin]);
}

export function loadPassportParams(state: StateReader): PassportParams {
  const bytes = state.get(PARAMS_KEY);
  if (bytes === undefined) return DEFAULT_PASSPORT_PARAMS;
  return decodeStateValue(bytes, 'PassportParams', 64, (v) => {
    const r = Reader.array(v, 'PassportParams', 3);
    return { buildUnitsPerBlockMax: r.u32('buildUnitsPerBlockMax'), contributorsMax: r.u32('contributorsMax'), contributorsShareBpsMin: r.u32('contributorsShareBpsMin') };
  });
}

/** Writes the parameters (genesis, tests); callers check `passportParamsProblem` first. */
export function savePassportParams(view: StateView, p: PassportParams): void {
  view.set(PARAMS_KEY, encodePassportParams(p));
}
