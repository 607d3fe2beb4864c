/** Accounts and the validator set as stored in state. */
import { Reader, amountToBytes, decodeCanonical, encode, sha256 } from '../lib/index.ts';
import { VALIDATOR_SET_KEY, accountKey } from './keys.ts';
import type { StateReader, StateView } from './stateView.ts';

export type Account = { balance: bigint; nonce: number };

export const EMPTY_ACCOUNT: Account = { balance: 0n, nonce: 0 };

export function encodeAccount(a: Account): Uint8Array {
  return encode([amountToBytes(a.balance), a.nonce]);
}

export function decodeAccount(bytes: Uint8Array): Account {
  return decodeCanonical(bytes, 'Account', 64, (v) => {
    const r = Reader.array(v, 'Account', 2);
    return { balance: r.amount('balance'), nonce: r.u32('nonce') };
  }, encodeAccount);
}

export function loadAccount(state: StateReader, address: Uint8Array): Account {
  const bytes = state.get(accountKey(address));
  return bytes === undefined ? EMPTY_ACCOUNT : decodeAccount(bytes);
}

export function saveAccount(view: StateView, address: Uint8Array, account: Account): void {
  // An account with nothing in it is not stored, so that state holds no dust entries.
  if (account.balance === 0n && account.nonce === 0) view.delete(accountKey(address));
  else view.set(accountKey(address), encodeAccount(account));
}

export type Validator = { address: Uint8Array; publicKey: Uint8Array; power: bigint; name: string };

/** The active validator set, sorted by address. Its hash goes in every block header. */
export type ValidatorSet = readonly Validator[];

export const VALIDATOR_SET_MAX = 200;

export function encodeValidatorSet(set: ValidatorSet): Uint8Array {
  return encode(set.map((v) => [v.address, v.publicKey, amountToBytes(v.power), v.name]));
}

export function decodeValidatorSet(bytes: Uint8Array): ValidatorSet {
  return decodeCanonical(bytes, 'ValidatorSet', 64 * 1024, (value) => {
    return Reader.list(value, 'ValidatorSet', VALIDATOR_SET_MAX, (item) => {
      const r = Reader.array(item, 'Validator', 4);
      return {
        address: r.bytes('address', 20),
        publicKey: r.bytes('publicKey', 32),
        power: r.amount('power'),
        name: r.str('name', 64),
      };
    });
  }, encodeValidatorSet);
}

export function validatorSetHash(set: ValidatorSet): Uint8Array {
  return sha256(encodeValidatorSet(set));
}

export function loadValidatorSet(state: StateReader): ValidatorSet {
  const bytes = state.get(VALIDATOR_SET_KEY);
  return bytes === undefined ? [] : decodeValidatorSet(bytes);
}

export function saveValidatorSet(view: StateView, set: ValidatorSet): void {
  view.set(VALIDATOR_SET_KEY, encodeValidatorSet(set));
}
