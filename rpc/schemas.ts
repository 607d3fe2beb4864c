/**
 * JSON schemas of every request and reply. Requests are validated with them (fastify's ajv,
 * unknown body fields rejected); replies are serialized with them (fast-json-stringify); the
 * OpenAPI document at GET /openapi.json is generated from them. The shared ones are registered by
 * `$id` and referenced as `{ $ref: 'Name#' }`; they appear under `components.schemas` by name.
 * rpc/views.ts has the matching TypeScript types.
 */
import { U32_MAX } from '../lib/index.ts';
import { LABELLING_KIND, PASSPORT_KIND, STAKING_KIND } from '../runtime/index.ts';

// --- Request patterns --------------------------------------------------------------------------

/** A 32-byte hash: 64 hex digits, `0x` optional, either case. */
export const HASH_PARAM = {
  type: 'string',
  pattern: '^(0x)?[0-9a-fA-F]{64}$',
  description: '32-byte hash as hex (64 digits, 0x optional)',
} as const;

/** An address: bech32m with prefix `tag` (20 bytes). The checksum is checked by the handler. */
export const ADDRESS_PARAM = {
  type: 'string',
  pattern: '^(tag1[02-9ac-hj-np-z]{38}|TAG1[02-9AC-HJ-NP-Z]{38})$',
  description: 'account address, bech32m "tag1…"',
} as const;

/**
 * A block height in decimal, no sign or leading zero. A string, not an integer: ajv's coercion
 * would also take "0x10", "1e1" or " 1". The handler checks it is at most U32_MAX.
 */
export const HEIGHT_PARAM = { type: 'string', pattern: '^(0|[1-9][0-9]{0,9})$', description: 'block height, decimal u32' } as const;

/** Longest state key a proof is asked for, in bytes. Real keys are a prefix byte and an id. */
export const STATE_KEY_BYTES_MAX = 256;

export const STATE_KEY_PARAM = {
  type: 'string',
  pattern: '^0x(?:[0-9a-fA-F]{2})+$',
  maxLength: 2 + 2 * STATE_KEY_BYTES_MAX,
  description: `state key as 0x-hex (1 to ${STATE_KEY_BYTES_MAX} bytes)`,
} as const;

// --- Shared reply schemas ----------------------------------------------------------------------

const hex = { type: 'string', pattern: '^0x([0-9a-f]{2})*$', description: '0x-prefixed lower-case hex' } as const;
const hash = { type: 'string', pattern: '^0x[0-9a-f]{64}$', description: '32-byte hash, 0x-hex' } as const;
const address = { type: 'string', pattern: '^tag1[02-9ac-hj-np-z]{38}$', description: 'bech32m address' } as const;
const amount = { type: 'string', pattern: '^(0|[1-9][0-9]*)$', description: 'decimal units (1 TAG = 10^18 units)' } as const;
const timeMs = { type: 'string', pattern: '^(0|[1-9][0-9]*)$', description: 'decimal milliseconds since the Unix epoch' } as const;
const u32 = { type: 'integer', minimum: 0, maximum: U32_MAX } as const;

function object(properties: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'object', additionalProperties: false, required: Object.keys(properties), properties, ...extra };
}

const ErrorReply = {
  $id: 'ErrorReply',
  description: 'Every error reply. `code` is stable; see docs/rpc.md §Errors.',
  ...object({
    error: object({
      code: { type: 'string' },
      message: { type: 'string' },
      details: { type: 'object', additionalProperties: true },
    }),
  }),
};

const TransferBody = { $id: 'TransferBody', description: 'Body of a transfer: recipient and amount.', ...object({ to: address, amount }) };

const Tx = {
  $id: 'Tx',
  description: 'A decoded signed transaction; `kind` says what `body` holds.',
  ...object({
    hash,
    chainId: { type: 'string' },
    sender: { ...hex, description: 'ed25519 public key of the sender, 0x-hex' },
    senderAddress: address,
    nonce: u32,
    maxFee: amount,
    signature: hex,
    sizeBytes: u32,
    kind: {
      type: 'string',
      // Every kind the runtime decodes: a committed transaction of any kind must serialize.
      enum: ['transfer', ...Object.keys(LABELLING_KIND), ...Object.keys(STAKING_KIND), ...Object.keys(PASSPORT_KIND)],
    },
    body: { anyOf: [{ $ref: 'TransferBody#' }, { type: 'object', additionalProperties: true, description: 'a labelling or staking body (docs/spec/labelling.md, docs/spec/staking.md §Transactions)' }] },
  }),
};

const Event = {
  $id: 'Event',
  description: 'An event; attributes as a key → value map.',
  ...object({ type: { type: 'string' }, attributes: { type: 'object', additionalProperties: { type: 'string' } } }),
};

const Receipt = {
  $id: 'Receipt',
  description: 'The outcome of a committed transaction.',
  ...object({
    status: { type: 'string', enum: ['ok', 'failed'] },
    code: { type: 'string', description: 'empty on success, else a stable reason code such as TX_INSUFFICIENT_BALANCE' },
    fee: amount,
    events: { type: 'array', items: { $ref: 'Event#' } },
  }),
};

const TxStatus = {
  $id: 'TxStatus',
  description: 'A committed transaction with its receipt, or `{ status: "pending", hash }` while it waits in the mempool.',
  type: 'object',
  additionalProperties: false,
  required: ['status', 'hash'],
  properties: {
    status: { type: 'string', enum: ['committed', 'pending'] },
    hash,
    height: u32,
    index: u32,
    blockHash: hash,
    tx: { $ref: 'Tx#' },
    receipt: { $ref: 'Receipt#' },
  },
};

const SubmitTxReply = { $id: 'SubmitTxReply', description: 'Accepted into the mempool (or already there).', ...object({ hash, duplicate: { type: 'boolean', description: 'already in the mempool' } }) };

const Header = {
  $id: 'Header',
  description: 'Every field of a block header (docs/spec/encoding.md §Blocks).',
  ...object({
    version: u32,
    chainId: { type: 'string' },
    height: u32,
    timeMs,
    parentHash: hash,
    lastCommitHash: { ...hash, description: "hash of the parent's commit certificate carried in the block" },
    txRoot: hash,
    receiptsRoot: hash,
    stateRoot: { ...hash, description: 'state root after this block' },
    proposer: address,
    validatorSetHash: hash,
    nextValidatorSetHash: hash,
  }),
};

const Commit = {
  $id: 'Commit',
  description: 'Commit certificate: the precommit signatures that finalized the block.',
  ...object({
    height: u32,
    round: u32,
    blockHash: hash,
    signatures: { type: 'array', items: object({ validator: address, signature: hex }) },
  }),
};

const Block = {
  $id: 'Block',
  description: 'A committed block: hash, header, transaction hashes and commit certificate.',
  type: 'object',
  additionalProperties: false,
  required: ['hash', 'header', 'txs', 'txCount', 'commit'],
  properties: {
    hash,
    header: { $ref: 'Header#' },
    txs: { type: 'array', items: hash, description: 'transaction hashes in block order' },
    txCount: u32,
    commit: { anyOf: [{ $ref: 'Commit#' }, { type: 'null' }], description: 'the commit certificate, null if not stored' },
    decodedTxs: { type: 'array', items: { $ref: 'Tx#' }, description: 'only with ?full=true' },
  },
};

const StateProof = {
  $id: 'StateProof',
  description: 'Sparse Merkle proof (docs/spec/state-tree.md): inclusion if value is non-null, else exclusion.',
  ...object({
    key: hex,
    value: { type: ['string', 'null'], description: 'the value as 0x-hex, null when proving absence' },
    siblings: { type: 'array', items: hash, description: 'sibling hashes from the root downward' },
    leaf: {
      anyOf: [object({ keyHash: hash, valueHash: hash }), { type: 'null' }],
      description: 'the leaf where the key path ends, null at an empty subtree',
    },
  }),
};

const StateProofReply = {
  $id: 'StateProofReply',
  description: 'A state proof with the height and state root it is checked against.',
  ...object({ height: u32, stateRoot: hash, proof: { $ref: 'StateProof#' } }),
};

const Account = {
  $id: 'Account',
  description: 'Balance and next nonces; an account never seen is all zero.',
  ...object({
    address,
    balance: amount,
    nonce: { ...u32, description: "the nonce the account's next transaction must carry, by committed state" },
    pendingNonce: {
      ...u32,
      description: 'the nonce to give a new transaction: one past the run of this account\'s transactions waiting in the mempool from `nonce` on; equal to `nonce` when none wait',
    },
  }),
};

const Status = {
  $id: 'Status',
  description: 'The node and its latest committed block.',
  ...object({
    chainId: { type: 'string' },
    nodeId: { type: 'string' },
    latestHeight: u32,
    earliestHeight: { ...u32, description: 'the lowest height whose block, receipts and transactions this node keeps; older ones answer 410 PRUNED' },
    latestBlockHash: hash,
    latestStateRoot: hash,
    latestTimeMs: timeMs,
    syncing: { type: 'boolean' },
    mempool: object({ txs: u32, bytes: { type: 'integer', minimum: 0 } }),
    validatorAddress: { type: ['string', 'null'], description: 'bech32m address of this node as a validator, or null' },
  }),
};

const Health = { $id: 'Health', description: 'The node is running.', ...object({ ok: { type: 'boolean', enum: [true] } }) };

/** Registered on the root instance, in dependency order, before any route. */
export const SHARED_SCHEMAS: ReadonlyArray<Record<string, unknown>> = [
  ErrorReply,
  TransferBody,
  Tx,
  Event,
  Receipt,
  TxStatus,
  SubmitTxReply,
  Header,
  Commit,
  Block,
  StateProof,
  StateProofReply,
  Account,
  Status,
  Health,
];

/** The reply building blocks, for the route files that define their own schemas (rpc/labellingSchemas.ts). */
export const PARTS = { hex, hash, address, amount, u32, object } as const;

export function ref(id: string): { $ref: string } {
  return { $ref: `${id}#` };
}

/** Error replies every route can give (documented in OpenAPI; serialized by the same schema). */
export const ERROR_REPLIES = { '4xx': ref('ErrorReply'), '5xx': ref('ErrorReply') } as const;
