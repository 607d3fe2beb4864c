/**
 * TAG amounts: bigint counts of the smallest unit; 1 TAG = 10^18 units. Text forms are decimal.
 */
import { ChainError } from './errors.ts';
import { AMOUNT_MAX } from './codec.ts';

export const TAG_DECIMALS = 18;
export const ONE_TAG = 10n ** 18n;

export type AmountErrorType = { code: 'AMOUNT_INVALID'; input: string };
export class AmountError extends ChainError<AmountErrorType> {}

const UNITS_RE = /^(0|[1-9][0-9]{0,77})$/;
const TAG_RE = /^(0|[1-9][0-9]{0,59})(\.[0-9]{1,18})?$/;

/** Parses a decimal count of units ("1500000000000000000"). */
export function parseUnits(text: string): bigint {
  if (!UNITS_RE.test(text)) throw invalid(text);
  const v = BigInt(text);
  if (v > AMOUNT_MAX) throw invalid(text);
  return v;
}

/** Parses a decimal TAG amount ("1.5") into units. */
export function parseTag(text: string): bigint {
  if (!TAG_RE.test(text)) throw invalid(text);
  const [whole = '0', fraction = ''] = text.split('.');
  const v = BigInt(whole) * ONE_TAG + BigInt(fraction.padEnd(TAG_DECIMALS, '0'));
  if (v > AMOUNT_MAX) throw invalid(text);
  return v;
}

/** Formats units as a decimal TAG amount with no trailing zeros ("1.5"). */
export function formatTag(units: bigint): string {
  const whole = units / ONE_TAG;
  const fraction = (units % ONE_TAG).toString().padStart(TAG_DECIMALS, '0').replace(/0+$/, '');
  return fraction === '' ? whole.toString() : `${whole}.${fraction}`;
}

function invalid(text: string): AmountError {
  return new AmountError({ code: 'AMOUNT_INVALID', input: text.slice(0, 100) }, `invalid amount: "${text.slice(0, 100)}"`);
}
