/**
 * Block headers, blocks, receipts and events: types and canonical encodings.
 * See docs/spec/encoding.md §Blocks.
 *
 *   Header  = [version: u32, chainId: str, height: u32, timeMs: amount, parentHash: bin(32),
 *              lastCommitHash: bin(32), txRoot: bin(32), receiptsRoot: bin(32), stateRoot: bin(32),
 *              proposer: bin(20), validatorSetHash: bin(32), nextValidatorSetHash: bin(32)]
 *   Block   = [header: Header, lastCommit: bin, txs: [bin …]]   (each tx is a SignedTx encoding)
 *   Receipt = [txHash: bin(32), status: u32, code: str, fee: amount, events: [Event …]]
 *   Event   = [type: str, attributes: [[key: str, value: str] …]]
 *
 * The block hash is SHA-256 of the Header encoding. `stateRoot` is the state after this block.
 * `lastCommit` is the encoded commit certificate of the parent block (empty at height 1) and
 * `lastCommitHash` its SHA-256 (zero at height 1): it puts the parent's signatures on chain, for
 * the block seed (`blockSeed`) and, later, for tracking which validators signed.
 */
import { Reader, amountToBytes, concatBytes, decodeCanonical, encode, sha256, utf8ToBytes, type Encodable } from '../lib/index.ts';
import { CHAIN_ID_BYTES_MAX, TX_BYTES_CEILING } from './tx.ts';

export const BLOCK_VERSION = 1;
export const ZERO_HASH = new Uint8Array(32);
export const BLOCK_BYTES_CEILING = 64 * 1024 * 1024;
export const BLOCK_TX_COUNT_CEILING = 100_000;
export const EVENTS_PER_RECEIPT_MAX = 256;
export const EVENT_ATTRIBUTES_MAX = 32;
export const LAST_COMMIT_BYTES_MAX = 64 * 1024;

export type Header = {
  version: number;
  chainId: string;
  height: number;
  timeMs: bigint;
  parentHash: Uint8Array;
  lastCommitHash: Uint8Array;
  txRoot: Uint8Array;
  receiptsRoot: Uint8Array;
  stateRoot: Uint8Array;
  proposer: Uint8Array;
  validatorSetHash: Uint8Array;
  nextValidatorSetHash: Uint8Array;
};

export type Block = { header: Header; lastCommit: Uint8Array; txs: Uint8Array[] };

export type ChainEvent = { type: string; attributes: Array<readonly [string, string]> };

export const RECEIPT_STATUS = { ok: 0, failed: 1 } as const;

export type Receipt = {
  txHash: Uint8Array;
  status: number;
  /** '' on success, otherwise a stable reason code such as 'TX_INSUFFICIENT_BALANCE'. */
  code: string;
  fee: bigint;
  events: ChainEvent[];
};

function headerToWire(h: Header): Encodable[] {
  return [
    h.version,
    h.chainId,
    h.height,
    amountToBytes(h.timeMs),
    h.parentHash,
    h.lastCommitHash,
    h.txRoot,
    h.receiptsRoot,
    h.stateRoot,
    h.proposer,
    h.validatorSetHash,
    h.nextValidatorSetHash,
  ];
}

export function encodeHeader(h: Header): Uint8Array {
  return encode(headerToWire(h));
}

export function blockHash(h: Header): Uint8Array {
  return sha256(encodeHeader(h));
}

function parseHeader(value: unknown): Header {
  const r = Reader.array(value, 'Header', 12);
  return {
    version: r.u32('version'),
    chainId: r.str('chainId', CHAIN_ID_BYTES_MAX),
    height: r.u32('height'),
    timeMs: r.amount('timeMs'),
    parentHash: r.bytes('parentHash', 32),
    lastCommitHash: r.bytes('lastCommitHash', 32),
    txRoot: r.bytes('txRoot', 32),
    receiptsRoot: r.bytes('receiptsRoot', 32),
    stateRoot: r.bytes('stateRoot', 32),
    proposer: r.bytes('proposer', 20),
    validatorSetHash: r.bytes('validatorSetHash', 32),
    nextValidatorSetHash: r.bytes('nextValidatorSetHash', 32),
  };
}

export function decodeHeader(bytes: Uint8Array): Header {
  return decodeCanonical(bytes, 'Header', 1024, parseHeader, encodeHeader);
}

export function encodeBlock(b: Block): Uint8Array {
  return encode([headerToWire(b.header), b.lastCommit, b.txs]);
}

export function decodeBlock(bytes: Uint8Array): Block {
  return decodeCanonical(bytes, 'Block', BLOCK_BYTES_CEILING, (value) => {
    const r = Reader.array(value, 'Block', 3);
    const header = parseHeader(r.raw());
    const lastCommit = r.bytesMax('lastCommit', LAST_COMMIT_BYTES_MAX);
    const txs = r.list('txs', BLOCK_TX_COUNT_CEILING, (item, i) =>
      Reader.array([item], 'Block', 1).bytesMax(`txs[${i}]`, TX_BYTES_CEILING),
    );
    return { header, lastCommit, txs };
  }, encodeBlock);
}

/** SHA-256 of the parent's encoded commit; zero when there is none (height 1). */
export function lastCommitHash(lastCommit: Uint8Array): Uint8Array {
  return lastCommit.length === 0 ? ZERO_HASH : sha256(lastCommit);
}

/**
 * The block's seed for the runtime's sampling (labelling seats): a hash of the parent's hash and
 * the parent's commit signatures. No single proposer can compute it before the other validators
 * sign; the proposer's remaining freedom (which > 2/3 subset of signatures to include) is
 * discussed in docs/adr/0007-randomness.md.
 */
export function blockSeed(parentHash: Uint8Array, lastCommit: Uint8Array): Uint8Array {
  return sha256(concatBytes(SEED_DOMAIN, parentHash, lastCommit));
}
const SEED_DOMAIN = utf8ToBytes('tagger/block-seed/v1');

function eventToWire(e: ChainEvent): Encodable[] {
  return [e.type, e.attributes.map(([k, v]) => [k, v])];
}

function receiptToWire(r: Receipt): Encodable[] {
  return [r.txHash, r.status, r.code, amountToBytes(r.fee), r.events.map(eventToWire)];
}

export function encodeReceipt(r: Receipt): Uint8Array {
  return encode(receiptToWire(r));
}

function parseEvent(value: unknown): ChainEvent {
  const r = Reader.array(value, 'Event', 2);
  const type = r.str('type', 64);
  const attributes = r.list('attributes', EVENT_ATTRIBUTES_MAX, (item) => {
    const a = Reader.array(item, 'EventAttribute', 2);
    return [a.str('key', 64), a.str('value', 1024)] as const;
  });
  return { type, attributes };
}

function parseReceipt(value: unknown): Receipt {
  const r = Reader.array(value, 'Receipt', 5);
  return {
    txHash: r.bytes('txHash', 32),
    status: r.u32('status', 1),
    code: r.str('code', 64),
    fee: r.amount('fee'),
    events: r.list('events', EVENTS_PER_RECEIPT_MAX, parseEvent),
  };
}

export function decodeReceipt(bytes: Uint8Array): Receipt {
  return decodeCanonical(bytes, 'Receipt', 512 * 1024, parseReceipt, encodeReceipt);
}

/** All receipts of one block, as stored. */
export function encodeReceipts(receipts: readonly Receipt[]): Uint8Array {
  return encode(receipts.map(receiptToWire));
}

export function decodeReceipts(bytes: Uint8Array): Receipt[] {
  return decodeCanonical(
    bytes,
    'Receipts',
    BLOCK_BYTES_CEILING,
    (value) => Reader.list(value, 'Receipts', BLOCK_TX_COUNT_CEILING, parseReceipt),
    encodeReceipts,
  );
}
