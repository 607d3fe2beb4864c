/**
 * Account addresses. An address is the first 20 bytes of SHA-256 over the account's ed25519 public
 * key, written as bech32m (BIP-350) with the human-readable part `tag`: `tag1` + 32 data
 * characters + a 6-character checksum that catches any error in up to 4 characters. See
 * docs/spec/encoding.md §Addresses.
 */
import { bech32m } from '@scure/base';
import { ChainError } from './errors.ts';
import { sha256 } from './crypto.ts';

export const ADDRESS_BYTES = 20;
export const ADDRESS_HRP = 'tag';

export type AddressErrorType = { code: 'ADDRESS_INVALID'; input: string; reason: string };
export class AddressError extends ChainError<AddressErrorType> {}

export function addressFromPublicKey(publicKey: Uint8Array): Uint8Array {
  return sha256(publicKey).subarray(0, ADDRESS_BYTES);
}

export function addressToString(address: Uint8Array): string {
  return bech32m.encode(ADDRESS_HRP, bech32m.toWords(address));
}

export function addressFromString(text: string): Uint8Array {
  const input = text.slice(0, 100);
  let decoded: { prefix: string; words: number[] };
  try {
    decoded = bech32m.decode(text as `${string}1${string}`, 90);
  } catch (e: unknown) {
    const reason = e instanceof Error ? e.message : 'undecodable';
    throw new AddressError({ code: 'ADDRESS_INVALID', input, reason }, `invalid address: ${reason}`);
  }
  if (decoded.prefix !== ADDRESS_HRP) {
    throw new AddressError(
      { code: 'ADDRESS_INVALID', input, reason: `prefix must be "${ADDRESS_HRP}"` },
      `invalid address: prefix must be "${ADDRESS_HRP}"`,
    );
  }
  const bytes = Uint8Array.from(bech32m.fromWords(decoded.words));
  if (bytes.length !== ADDRESS_BYTES) {
    throw new AddressError(
      { code: 'ADDRESS_INVALID', input, reason: `must hold ${ADDRESS_BYTES} bytes` },
      `invalid address: must hold ${ADDRESS_BYTES} bytes`,
    );
  }
  return bytes;
}
