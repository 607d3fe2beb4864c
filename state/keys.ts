/**
 * State key layout. Every key starts with a one-byte prefix naming its kind; see
 * docs/spec/state.md. Prefixes are STATE-BREAKING and never reused.
 */
import { ADDRESS_BYTES, assert, concatBytes, utf8ToBytes } from '../lib/index.ts';

export const PREFIX = {
  global: 0x00,
  account: 0x01,
  validator: 0x02,
} as const;

export const PARAMS_KEY = concatBytes(Uint8Array.of(PREFIX.global), utf8ToBytes('params'));
export const SUPPLY_KEY = concatBytes(Uint8Array.of(PREFIX.global), utf8ToBytes('supply'));
export const VALIDATOR_SET_KEY = concatBytes(Uint8Array.of(PREFIX.global), utf8ToBytes('validators'));
export const CHAIN_ID_KEY = concatBytes(Uint8Array.of(PREFIX.global), utf8ToBytes('chainId'));

export function accountKey(address: Uint8Array): Uint8Array {
  assert(address.length === ADDRESS_BYTES, 'accountKey: bad address length');
  return concatBytes(Uint8Array.of(PREFIX.account), address);
}

export function validatorKey(address: Uint8Array): Uint8Array {
  assert(address.length === ADDRESS_BYTES, 'validatorKey: bad address length');
  return concatBytes(Uint8Array.of(PREFIX.validator), address);
}
