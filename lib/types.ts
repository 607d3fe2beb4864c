/** Shared primitive types. Amounts are always bigint; heights, rounds and nonces are u32 numbers. */
export type Hash = Uint8Array; // 32 bytes, SHA-256 unless stated otherwise
export type Address = Uint8Array; // 20 bytes
export type PublicKey = Uint8Array; // 32 bytes, ed25519
export type Signature = Uint8Array; // 64 bytes, ed25519
export type Height = number;
export type Round = number;
export type Amount = bigint;
