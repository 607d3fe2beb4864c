/**
 * Transactions: canonical encoding, signing and hashing. See docs/spec/encoding.md §Transactions.
 *
 *   Tx       = [chainId: str, sender: bin(32) ed25519 public key, nonce: u32, maxFee: amount,
 *               kind: u32, payload: array]
 *   SignedTx = [tx: Tx, signature: bin(64)]
 *
 * The signature is ed25519 over `signingBytes('tx', chainId, encode(Tx))`; the transaction hash is
 * SHA-256 of the SignedTx encoding.
 */
import {
  ADDRESS_BYTES,
  CodecError,
  Reader,
  addressFromPublicKey,
  amountToBytes,
  decodeCanonical,
  encode,
  sha256,
  sign,
  signingBytes,
  verify,
  type Encodable,
} from '../lib/index.ts';
import { isLabellingKind, labellingBodyToWire, parseLabellingBody, type LabellingBody } from './labelling/txs.ts';
import { isStakingBody, isStakingKind, parseStakingBody, stakingBodyToWire, type StakingBody } from './staking/txs.ts';
import { isPassportBody, isPassportKind, parsePassportBody, passportBodyToWire, type PassportBody } from './passport/txs.ts';
import { bridgeBodyToWire, isBridgeBody, isBridgeKind, parseBridgeBody, type BridgeBody } from './bridge/txs.ts';

/** Transaction kinds and their wire numbers. Numbers are STATE-BREAKING and never reused. */
export const TX_KIND = {
  transfer: 1,
} as const;
export type TxKind = keyof typeof TX_KIND;

export type TransferBody = { kind: 'transfer'; to: Uint8Array; amount: bigint };
export type TxBody = TransferBody | LabellingBody | StakingBody | PassportBody | BridgeBody;

export type Tx = {
  chainId: string;
  sender: Uint8Array;
  nonce: number;
  maxFee: bigint;
  body: TxBody;
};

export type SignedTx = {
  tx: Tx;
  signature: Uint8Array;
  /** The canonical SignedTx encoding; its length is what the per-byte fee is charged on. */
  bytes: Uint8Array;
  hash: Uint8Array;
  senderAddress: Uint8Array;
};

/** A hard ceiling for any transaction, above every `txBytesMax` a genesis may set. */
export const TX_BYTES_CEILING = 1024 * 1024;
export const CHAIN_ID_BYTES_MAX = 64;

function bodyToWire(body: TxBody): [number, Encodable[]] {
  if (body.kind === 'transfer') return [TX_KIND.transfer, [body.to, amountToBytes(body.amount)]];
  if (isStakingBody(body)) return stakingBodyToWire(body);
  if (isPassportBody(body)) return passportBodyToWire(body);
  if (isBridgeBody(body)) return bridgeBodyToWire(body);
  return labellingBodyToWire(body);
}

function txToWire(tx: Tx): Encodable[] {
  const [kind, payload] = bodyToWire(tx.body);
  return [tx.chainId, tx.sender, tx.nonce, amountToBytes(tx.maxFee), kind, payload];
}

export function encodeTx(tx: Tx): Uint8Array {
  return encode(txToWire(tx));
}

function encodeSignedWire(tx: Tx, signature: Uint8Array): Uint8Array {
  return encode([txToWire(tx), signature]);
}

export function txSigningBytes(tx: Tx): Uint8Array {
  return signingBytes('tx', tx.chainId, encodeTx(tx));
}

export function signTx(tx: Tx, secretKey: Uint8Array): SignedTx {
  const signature = sign(secretKey, txSigningBytes(tx));
  return toSignedTx(tx, signature, encodeSignedWire(tx, signature));
}

function toSignedTx(tx: Tx, signature: Uint8Array, bytes: Uint8Array): SignedTx {
  return { tx, signature, bytes, hash: sha256(bytes), senderAddress: addressFromPublicKey(tx.sender) };
}

/** Decodes a SignedTx (checks structure and canonical form, not the signature). */
export function decodeSignedTx(bytes: Uint8Array, maxBytes = TX_BYTES_CEILING): SignedTx {
  const decoded = decodeCanonical(
    bytes,
    'SignedTx',
    Math.min(maxBytes, TX_BYTES_CEILING),
    parseSignedTx,
    (v) => encodeSignedWire(v.tx, v.signature),
  );
  return toSignedTx(decoded.tx, decoded.signature, bytes);
}

function parseSignedTx(value: unknown): { tx: Tx; signature: Uint8Array } {
  const r = Reader.array(value, 'SignedTx', 2);
  const tx = parseTx(r.raw());
  return { tx, signature: r.bytes('signature', 64) };
}

function parseTx(value: unknown): Tx {
  const r = Reader.array(value, 'Tx', 6);
  const chainId = r.str('chainId', CHAIN_ID_BYTES_MAX);
  const sender = r.bytes('sender', 32);
  const nonce = r.u32('nonce');
  const maxFee = r.amount('maxFee');
  const kind = r.u32('kind');
  const body = parseBody(kind, r.raw());
  return { chainId, sender, nonce, maxFee, body };
}

function parseBody(kind: number, payload: unknown): TxBody {
  switch (kind) {
    case TX_KIND.transfer: {
      const r = Reader.array(payload, 'Transfer', 2);
      return { kind: 'transfer', to: r.bytes('to', ADDRESS_BYTES), amount: r.amount('amount') };
    }
    default:
      if (isLabellingKind(kind)) return parseLabellingBody(kind, payload);
      if (isStakingKind(kind)) return parseStakingBody(kind, payload);
      if (isPassportKind(kind)) return parsePassportBody(kind, payload);
      if (isBridgeKind(kind)) return parseBridgeBody(kind, payload);
      throw new CodecError(
        { code: 'CODEC_WRONG_TYPE', what: 'Tx', field: 'kind', expected: 'a known transaction kind' },
        `Tx.kind: unknown transaction kind ${kind}`,
      );
  }
}

/** Native ed25519 check of the transaction's signature. */
export function verifyTxSignature(signed: SignedTx): boolean {
  return verify(signed.tx.sender, txSigningBytes(signed.tx), signed.signature);
}
