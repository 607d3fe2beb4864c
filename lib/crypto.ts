/**
 * The only place that touches cryptographic libraries. Keys are made and messages signed with
 * @noble/curves; signatures on the hot path are verified with Node's native ed25519 (OpenSSL),
 * which is about 14 times faster here, through a bounded cache of imported public keys. Tests
 * cross-check the two verifiers. SHA-256 is Node's native hash; keccak-256 (for BNB Chain) is noble.
 * None of this does I/O, reads a clock or draws randomness, except `randomSecretKey`.
 */
import { createPublicKey, hash as nodeHash, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { concatBytes, equalBytes, toPlainBytes } from './bytes.ts';
import { encode } from './codec.ts';

export const PUBLIC_KEY_BYTES = 32;
export const SECRET_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const HASH_BYTES = 32;

export function sha256(data: Uint8Array): Uint8Array {
  return toPlainBytes(nodeHash('sha256', data, 'buffer'));
}

/**
 * SHA-256 as a 32-character latin1 string: ~3× faster than `sha256` (no Buffer allocation) and
 * compact to keep, for the state tree's hot path.
 */
export function sha256Latin1(data: Uint8Array): string {
  return nodeHash('sha256', data, 'binary'); // 'binary' is Node's name for latin1
}

export function keccak256(data: Uint8Array): Uint8Array {
  return keccak_256(data);
}

/** A fresh secret key from the operating system's CSPRNG. Only key generation draws randomness. */
export function randomSecretKey(): Uint8Array {
  return ed25519.utils.randomSecretKey();
}

export function publicKeyFromSecret(secretKey: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(secretKey);
}

/**
 * The bytes that are signed for a message of `type` on `chainId`: the canonical encoding of
 * `["tagger/<type>/v1", chainId, payload]`. The type tag and the chain id keep a signature made for
 * one kind of message, or for one chain, from being valid for any other.
 */
export function signingBytes(type: SignedMessageType, chainId: string, payload: Uint8Array): Uint8Array {
  return encode([`tagger/${type}/v1`, chainId, payload]);
}

export type SignedMessageType = 'tx' | 'vote' | 'proposal';

export function sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, secretKey);
}

/**
 * Pure-JS verification, the reference the native path is tested against. noble checks the cofactored
 * equation; rejecting an R with a small-order component makes it agree with OpenSSL's cofactorless
 * check for every prime-order key (docs/spec/encoding.md §Signatures). Slow: tests and tools only.
 */
export function verifyNoble(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (signature.length !== SIGNATURE_BYTES || !isValidPublicKey(publicKey)) return false;
    if (!ed25519.Point.fromBytes(signature.subarray(0, 32), false).isTorsionFree()) return false;
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

// DER SubjectPublicKeyInfo prefix for a raw 32-byte ed25519 key (RFC 8410).
const ED25519_SPKI_PREFIX = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
]);
const KEY_CACHE_MAX = 50_000;
const keyCache = new Map<string, KeyObject | null>();

function importPublicKey(publicKey: Uint8Array): KeyObject | null {
  const id = Buffer.from(publicKey).toString('latin1');
  const hit = keyCache.get(id);
  if (hit !== undefined) return hit;
  let key: KeyObject | null = null;
  // OpenSSL accepts signatures under small-order and non-canonically encoded keys that noble (and
  // RFC 8032's strict reading) rejects, e.g. (R = identity, S = 0) for any message under the
  // identity key. Such keys are refused here, once per key, so no signature under them verifies.
  if (isValidPublicKey(publicKey)) {
    try {
      key = createPublicKey({ key: Buffer.from(concatBytes(ED25519_SPKI_PREFIX, publicKey)), format: 'der', type: 'spki' });
    } catch {
      key = null;
    }
  }
  // A full cache is cleared whole: simpler than LRU and a rare event; the bound is what matters.
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
  keyCache.set(id, key);
  return key;
}

/** Native (OpenSSL) ed25519 verification; false for any malformed key or signature. */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  const key = importPublicKey(publicKey);
  if (key === null) return false;
  try {
    return nodeVerify(null, message, key, signature);
  } catch {
    return false;
  }
}

/**
 * True if `publicKey` is the canonical encoding of a curve point that is not of small order (not
 * every 32-byte string is; a small-order key would let anyone forge signatures for it).
 */
export function isValidPublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES) return false;
  try {
    const point = ed25519.Point.fromBytes(publicKey, false);
    return !point.isSmallOrder() && equalBytes(point.toBytes(), publicKey);
  } catch {
    return false;
  }
}

// secp256k1 (the BNB Chain bridge keys): Ethereum-style addresses and recoverable signatures over a
// 32-byte digest. Signing is RFC 6979 (deterministic) and always low-s.

export const SECP256K1_SIGNATURE_BYTES = 65;
export const ETH_ADDRESS_BYTES = 20;

/** A recoverable secp256k1 signature: `v` is 27 or 28 as `ecrecover` expects. */
export type Secp256k1Signature = { r: Uint8Array; s: Uint8Array; v: 27 | 28 };

/** A fresh secp256k1 secret key from the operating system's CSPRNG. */
export function secp256k1RandomSecretKey(): Uint8Array {
  return secp256k1.utils.randomSecretKey();
}

/** The 20-byte Ethereum address of a secp256k1 secret key: the last 20 bytes of keccak256(x ‖ y). */
export function secp256k1Address(secretKey: Uint8Array): Uint8Array {
  const uncompressed = secp256k1.getPublicKey(secretKey, false);
  return keccak_256(uncompressed.subarray(1)).subarray(12);
}

/** Signs a 32-byte digest as is (no prefix, no further hashing), low-s. */
export function secp256k1Sign(secretKey: Uint8Array, digest: Uint8Array): Secp256k1Signature {
  const sig = secp256k1.sign(digest, secretKey, { prehash: false, format: 'recovered', lowS: true });
  const recovery = sig[0];
  return { r: sig.slice(1, 33), s: sig.slice(33, 65), v: recovery === 1 ? 28 : 27 };
}

/** The address that signed `digest`, or null for a signature that recovers to no key. */
export function secp256k1Recover(digest: Uint8Array, sig: Secp256k1Signature): Uint8Array | null {
  try {
    const bytes = concatBytes(Uint8Array.of(sig.v - 27), sig.r, sig.s);
    const point = secp256k1.Signature.fromBytes(bytes, 'recovered').recoverPublicKey(digest);
    return keccak_256(point.toBytes(false).subarray(1)).subarray(12);
  } catch {
    return null;
  }
}
