/**
 * Chain parameters, stored in state under `PARAMS_KEY` and set by genesis. Amounts in units.
 */
import { Reader, amountToBytes, decodeCanonical, encode } from '../lib/index.ts';

export type Params = {
  /** Flat part of every transaction's fee. */
  baseFee: bigint;
  /** Per byte of the signed transaction's encoding. */
  perByteFee: bigint;
  /** Share of each fee destroyed, in percent (0–100); the rest goes to the block's proposer. */
  feeBurnPercent: number;
  /** Largest accepted signed transaction, in bytes. */
  txBytesMax: number;
  /** Most transactions in one block. */
  blockTxCountMax: number;
  /** Most bytes of transactions in one block. */
  blockBytesMax: number;
};

export const DEFAULT_PARAMS: Params = {
  baseFee: 10n ** 15n, // 0.001 TAG
  perByteFee: 10n ** 12n, // 0.000001 TAG per byte
  feeBurnPercent: 50,
  txBytesMax: 128 * 1024,
  blockTxCountMax: 10_000,
  blockBytesMax: 8 * 1024 * 1024,
};

export function encodeParams(p: Params): Uint8Array {
  return encode([
    amountToBytes(p.baseFee),
    amountToBytes(p.perByteFee),
    p.feeBurnPercent,
    p.txBytesMax,
    p.blockTxCountMax,
    p.blockBytesMax,
  ]);
}

export function decodeParams(bytes: Uint8Array): Params {
  return decodeCanonical(bytes, 'Params', 1024, parseParams, encodeParams);
}

function parseParams(value: unknown): Params {
  const r = Reader.array(value, 'Params', 6);
  return {
    baseFee: r.amount('baseFee'),
    perByteFee: r.amount('perByteFee'),
    feeBurnPercent: r.u32('feeBurnPercent', 100),
    txBytesMax: r.u32('txBytesMax'),
    blockTxCountMax: r.u32('blockTxCountMax'),
    blockBytesMax: r.u32('blockBytesMax'),
  };
}
