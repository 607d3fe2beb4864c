/**
 * The JSON forms of everything the RPC returns, and the converters that make them. Encodings (see
 * docs/rpc.md §Encodings): bytes as 0x-prefixed lower-case hex; amounts and times as decimal
 * strings (amounts in units, 1 TAG = 10^18 units; times in ms); addresses as bech32m `tag1…`;
 * heights, indexes, nonces and counts as JSON numbers (all are u32). The SDK returns these types.
 */
import { addressToString, bytesToHex, sha256 } from '../lib/index.ts';
import type { ChainEvent, Header, Receipt, SignedTx, TxBody } from '../runtime/index.ts';
import type { StateProof } from '../state/index.ts';
import type { AccountView, BlockView, CommitView, NodeStatus, SubmitResult, TxView } from './deps.ts';

/** 0x-prefixed lower-case hex. */
export type Hex = string;

export type HealthJson = { ok: true };

export type StatusJson = {
  chainId: string;
  nodeId: string;
  latestHeight: number;
  /** The lowest height whose block, receipts and transactions this node keeps (1 unless pruned or restored from a snapshot). */
  earliestHeight: number;
  latestBlockHash: Hex;
  latestStateRoot: Hex;
  /** Decimal milliseconds since the Unix epoch. */
  latestTimeMs: string;
  syncing: boolean;
  mempool: { txs: number; bytes: number };
  validatorAddress: string | null;
};

export type AccountJson = {
  address: string;
  balance: string;
  /** The nonce the account's next transaction must carry, by committed state. */
  nonce: number;
  /** The nonce to give a new transaction, counting the account's transactions waiting in the mempool. */
  pendingNonce: number;
};

export type TransferBodyJson = { to: string; amount: string };

/** Common fields of a decoded transaction; `kind` says what `body` holds. */
type TxJsonBase = {
  hash: Hex;
  chainId: string;
  /** The sender's ed25519 public key. */
  sender: Hex;
  senderAddress: string;
  nonce: number;
  maxFee: string;
  signature: Hex;
  /** Length of the canonical SignedTx encoding, which the per-byte fee is charged on. */
  sizeBytes: number;
};
export type TxJson = TxJsonBase & BodyJson;

export type EventJson = { type: string; attributes: Record<string, string> };

export type ReceiptJson = { status: 'ok' | 'failed'; code: string; fee: string; events: EventJson[] };

export type CommittedTxJson = {
  status: 'committed';
  hash: Hex;
  height: number;
  index: number;
  blockHash: Hex;
  tx: TxJson;
  receipt: ReceiptJson;
};
export type PendingTxJson = { status: 'pending'; hash: Hex };
export type TxStatusJson = CommittedTxJson | PendingTxJson;

export type SubmitTxJson = { hash: Hex; duplicate: boolean };

export type HeaderJson = {
  version: number;
  chainId: string;
  height: number;
  timeMs: string;
  parentHash: Hex;
  /** Hash of the parent's commit certificate the block carries (`lastCommit`). */
  lastCommitHash: Hex;
  txRoot: Hex;
  receiptsRoot: Hex;
  stateRoot: Hex;
  proposer: string;
  validatorSetHash: Hex;
  nextValidatorSetHash: Hex;
};

export type CommitJson = {
  height: number;
  round: number;
  blockHash: Hex;
  signatures: Array<{ validator: string; signature: Hex }>;
};

export type BlockJson = {
  hash: Hex;
  header: HeaderJson;
  /** Transaction hashes, in block order. */
  txs: Hex[];
  txCount: number;
  commit: CommitJson | null;
  /** Only with `?full=true`: the decoded transactions, in block order. */
  decodedTxs?: TxJson[];
};

export type StateProofJson = {
  key: Hex;
  value: Hex | null;
  siblings: Hex[];
  leaf: { keyHash: Hex; valueHash: Hex } | null;
};

export type StateProofReplyJson = { height: number; stateRoot: Hex; proof: StateProofJson };

export function hex(bytes: Uint8Array): Hex {
  return '0x' + bytesToHex(bytes);
}

export function statusToJson(s: NodeStatus): StatusJson {
  return {
    chainId: s.chainId,
    nodeId: s.nodeId,
    latestHeight: s.height,
    earliestHeight: s.earliestHeight ?? 1,
    latestBlockHash: hex(s.blockHash),
    latestStateRoot: hex(s.stateRoot),
    latestTimeMs: s.timeMs.toString(),
    syncing: s.syncing,
    mempool: { txs: s.mempoolTxs, bytes: s.mempoolBytes },
    validatorAddress: s.validatorAddress === null ? null : addressToString(s.validatorAddress),
  };
}

export function accountToJson(address: Uint8Array, a: AccountView): AccountJson {
  return { address: addressToString(address), balance: a.balance.toString(), nonce: a.nonce, pendingNonce: a.pendingNonce };
}

type BodyJson = { kind: 'transfer'; body: TransferBodyJson } | { kind: Exclude<TxBody['kind'], 'transfer'>; body: Record<string, unknown> };

function bodyToJson(body: TxBody): BodyJson {
  if (body.kind === 'transfer') return { kind: 'transfer', body: { to: addressToString(body.to), amount: body.amount.toString() } };
  const { kind, ...fields } = body;
  return { kind, body: plainJson(fields) as Record<string, unknown> };
}

/** Labelling bodies as JSON: amounts as decimal strings, byte strings as 0x-hex, in field order. */
function plainJson(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return hex(value);
  if (Array.isArray(value)) return value.map(plainJson);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainJson(v)]));
  return value;
}

export function txToJson(signed: SignedTx): TxJson {
  const { tx } = signed;
  const base: TxJsonBase = {
    hash: hex(signed.hash),
    chainId: tx.chainId,
    sender: hex(tx.sender),
    senderAddress: addressToString(signed.senderAddress),
    nonce: tx.nonce,
    maxFee: tx.maxFee.toString(),
    signature: hex(signed.signature),
    sizeBytes: signed.bytes.length,
  };
  return { ...base, ...bodyToJson(tx.body) };
}

export function eventToJson(e: ChainEvent): EventJson {
  // fromEntries makes own data properties: an attribute called "__proto__" stays an attribute.
  return { type: e.type, attributes: Object.fromEntries(e.attributes) };
}

/** Receipt status 0 is success (runtime's `RECEIPT_STATUS`; wire values never change). */
const RECEIPT_STATUS_OK = 0;

export function receiptToJson(r: Receipt): ReceiptJson {
  return {
    status: r.status === RECEIPT_STATUS_OK ? 'ok' : 'failed',
    code: r.code,
    fee: r.fee.toString(),
    events: r.events.map(eventToJson),
  };
}

export function committedTxToJson(v: TxView): CommittedTxJson {
  return {
    status: 'committed',
    hash: hex(v.tx.hash),
    height: v.height,
    index: v.index,
    blockHash: hex(v.blockHash),
    tx: txToJson(v.tx),
    receipt: receiptToJson(v.receipt),
  };
}

export function submitToJson(r: SubmitResult): SubmitTxJson {
  return { hash: hex(r.hash), duplicate: r.duplicate };
}

export function headerToJson(h: Header): HeaderJson {
  return {
    version: h.version,
    chainId: h.chainId,
    height: h.height,
    timeMs: h.timeMs.toString(),
    parentHash: hex(h.parentHash),
    lastCommitHash: hex(h.lastCommitHash),
    txRoot: hex(h.txRoot),
    receiptsRoot: hex(h.receiptsRoot),
    stateRoot: hex(h.stateRoot),
    proposer: addressToString(h.proposer),
    validatorSetHash: hex(h.validatorSetHash),
    nextValidatorSetHash: hex(h.nextValidatorSetHash),
  };
}

export function commitToJson(c: CommitView): CommitJson {
  return {
    height: c.height,
    round: c.round,
    blockHash: hex(c.blockHash),
    signatures: c.signatures.map((s) => ({ validator: addressToString(s.validator), signature: hex(s.signature) })),
  };
}

/**
 * A block as JSON. A transaction's hash is SHA-256 of its SignedTx encoding (runtime/tx.ts). With
 * `full`, the stored transactions are decoded too (they were checked when the block was applied).
 */
export function blockToJson(v: BlockView, full: boolean, decodeTx: (bytes: Uint8Array) => SignedTx): BlockJson {
  const { header, txs } = v.block;
  const out: BlockJson = {
    hash: hex(v.hash),
    header: headerToJson(header),
    txs: v.txHashes?.map(hex) ?? txs.map((bytes) => hex(sha256(bytes))),
    txCount: txs.length,
    commit: v.commit === null ? null : commitToJson(v.commit),
  };
  if (full) out.decodedTxs = txs.map((bytes) => txToJson(decodeTx(bytes)));
  return out;
}

export function proofToJson(p: StateProof): StateProofJson {
  return {
    key: hex(p.key),
    value: p.value === null ? null : hex(p.value),
    siblings: p.siblings.map(hex),
    leaf: p.leaf === null ? null : { keyHash: hex(p.leaf.keyHash), valueHash: hex(p.leaf.valueHash) },
  };
}
