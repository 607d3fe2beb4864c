/** Accounts and the validator set as stored in state. */
import { Reader, amountToBytes, decodeCanonical, encode, sha256 } from '../lib/index.ts';
import { VALIDATOR_SET_KEY, accountKey } from './keys.ts';
import type { StateReader, StateView } from './stateView.ts';

export type Account = Readonly<{ balance: bigint; nonce: number }>;

export const EMPTY_ACCOUNT: Account = Object.freeze({ balance: 0n, nonce: 0 });

export function encodeAccount(a: Account): Uint8Array {
  return encode([amountToBytes(a.balance), a.nonce]);
}

export function decodeAccount(bytes: Uint8Array): Account {
  return decodeCanonical(bytes, 'Account', 64, (v) => {
    const r = Reader.array(v, 'Account', 2);
    return { balance: r.amount('balance'), nonce: r.u32('nonce') };
  }, encodeAccount);
}

/**
 * Decoded accounts by the identity of their stored bytes. Account objects are never mutated (updates
 * make new ones), so an account written earlier in a block is read back without decoding. Weak keys:
 * entries go when the bytes do.
 */
const decodedAccounts = new WeakMap<Uint8Array, Account>();

export function loadAccount(state: StateReader, address: Uint8Array): Account {
  const bytes = state.get(accountKey(address));
  if (bytes === undefined) return EMPTY_ACCOUNT;
  let account = decodedAccounts.get(bytes);
  if (account === undefined) {
    // Frozen: one decoded object is shared by every reader of these bytes.
    account = Object.freeze(decodeAccount(bytes));
    decodedAccounts.set(bytes, account);
  }
  return account;
}

export function saveAccount(view: StateView, address: Uint8Array, account: Account): void {
  // An account with nothing in it is not stored, so that state holds no dust entries.
  if (account.balance === 0n && account.nonce === 0) {
    view.delete(accountKey(address));
    return;
  }
  const bytes = encodeAccount(account);
  decodedAccounts.set(bytes, Object.freeze({ ...account }));
  view.set(accountKey(address), bytes);
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
