/**
 * JSON schemas of the bridge endpoints' requests and replies (rpc/routes/bridge.ts); the TypeScript
 * types are in rpc/bridgeViews.ts. Registered by `$id` next to SHARED_SCHEMAS, so they appear by
 * name under `components.schemas` in /openapi.json.
 */
import { U32_PARAM } from './labellingSchemas.ts';
import { PARTS } from './schemas.ts';

const { hash, address, amount, u32, object } = PARTS;

const nullable = (schema: Record<string, unknown>): Record<string, unknown> => ({ anyOf: [schema, { type: 'null' }] });
const height = { ...u32, description: 'the committed height the reply was read at' } as const;
const evmAddress = { type: 'string', pattern: '^0x[0-9a-f]{40}$', description: 'BNB Chain (EVM) address, 0x-hex' } as const;
const signature = { type: 'string', pattern: '^0x[0-9a-f]{130}$', description: 'secp256k1 signature r ‖ s ‖ v (65 bytes), 0x-hex' } as const;

// --- Requests ----------------------------------------------------------------------------------

/** Entries per page at most (deposits, withdrawals, checkpoints). */
export const BRIDGE_PAGE_MAX = 100;

const LIMIT = { type: 'string', pattern: '^([1-9]|[1-9][0-9]|100)$', description: `page size, 1 to ${BRIDGE_PAGE_MAX}` } as const;

/** `from` has no default here: each list starts where its records start (the handler fills it in). */
export const BRIDGE_PAGE_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: { ...U32_PARAM, description: 'nonce or number to start from (inclusive)' },
    limit: { ...LIMIT, default: String(BRIDGE_PAGE_MAX) },
  },
} as const;

// --- Replies -----------------------------------------------------------------------------------

const BridgeSet = {
  $id: 'BridgeSet',
  description: 'A bridge validator set as TaggerBridge takes it: signers strictly ascending, their powers.',
  ...object({
    id: u32,
    signers: { type: 'array', items: evmAddress },
    powers: { type: 'array', items: amount },
  }),
};

const BnbTx = {
  $id: 'BnbTx',
  description: 'The BNB Chain transaction found for a release or checkpoint submission: null txHash when there is none yet; error when the lookup failed.',
  ...object({ txHash: nullable(hash), error: nullable({ type: 'string' }) }),
};

const BridgeStatus = {
  $id: 'BridgeStatus',
  description: 'The bridge parameters, counters and the set that signs the next checkpoint.',
  ...object({
    height,
    enabled: { type: 'boolean', description: 'false when checkpointInterval is 0 (the chain refuses bridge transactions)' },
    params: object({
      checkpointInterval: u32,
      withdrawalsPerCheckpointMax: u32,
      withdrawalsPendingMax: u32,
      depositsAheadMax: u32,
      withdrawalAmountMax: { ...amount, description: 'largest withdrawal the chain burns; "0": no cap' },
      bnbChainId: u32,
      bridgeContract: evmAddress,
    }),
    globals: object({
      nextDepositNonce: u32,
      nextWithdrawalNonce: u32,
      checkpointedNonce: { ...u32, description: 'withdrawals up to this nonce are in a checkpoint' },
      withdrawalsPending: { ...u32, description: 'burnt, not yet in a checkpoint' },
      lastCheckpoint: u32,
      lastEndBlock: u32,
      bridgedSupply: { ...amount, description: 'TAG minted by deposits minus TAG burnt by withdrawals' },
    }),
    signingSet: { $ref: 'BridgeSet#' },
  }),
};

const depositFields = {
  nonce: u32,
  status: { type: 'string', enum: ['pending', 'ready', 'minted'], description: 'ready: quorum reached, waits for an earlier nonce' },
  recipient: { ...nullable(address), description: 'null once minted (the record is deleted; see its bridgeDepositMinted event)' },
  amount: nullable(amount),
  bnbTxHash: nullable(hash),
  logIndex: nullable(u32),
  attesters: nullable({ type: 'array', items: address }),
};

const Deposit = { $id: 'BridgeDeposit', description: 'A deposit by its BNB Chain nonce.', ...object(depositFields) };
const DepositReply = { $id: 'BridgeDepositReply', description: 'A deposit and the height it was read at.', ...object({ height, ...depositFields }) };
const DepositsPage = {
  $id: 'BridgeDepositsPage',
  description: 'Deposits by nonce: minted ones as stubs, then those being attested.',
  ...object({ height, deposits: { type: 'array', items: { $ref: 'BridgeDeposit#' } }, nextFrom: nullable(u32) }),
};

const withdrawalFields = {
  nonce: u32,
  sender: address,
  recipient: evmAddress,
  amount,
  burnHeight: { ...u32, description: 'height of the block that burnt it' },
  status: { type: 'string', enum: ['pending', 'checkpointed', 'signed'], description: 'signed: its checkpoint has > 2/3 of the signing power' },
  checkpoint: nullable(u32),
  index: { ...nullable(u32), description: 'leaf index within the checkpoint' },
};

const WithdrawalProof = {
  $id: 'BridgeWithdrawalProof',
  description: 'Arguments of TaggerBridge.withdraw(checkpoint, w, index, siblings), and the root they verify against.',
  ...object({ checkpoint: u32, index: u32, leaf: hash, siblings: { type: 'array', items: hash }, withdrawalsRoot: hash, withdrawalCount: u32 }),
};

const Withdrawal = { $id: 'BridgeWithdrawal', description: 'A withdrawal burnt on Tagger chain.', ...object(withdrawalFields) };
const WithdrawalReply = {
  $id: 'BridgeWithdrawalReply',
  description: 'A withdrawal, its proof once checkpointed, and its BNB Chain release transaction.',
  ...object({ height, ...withdrawalFields, proof: nullable({ $ref: 'BridgeWithdrawalProof#' }), bnb: nullable({ $ref: 'BnbTx#' }) }),
};
const WithdrawalsPage = {
  $id: 'BridgeWithdrawalsPage',
  description: 'Withdrawals in nonce order.',
  ...object({ height, withdrawals: { type: 'array', items: { $ref: 'BridgeWithdrawal#' } }, nextFrom: nullable(u32) }),
};

const checkpointFields = {
  number: u32,
  startBlock: u32,
  endBlock: u32,
  blockRangeRoot: hash,
  stateRoot: hash,
  withdrawalsRoot: hash,
  withdrawalCount: u32,
  firstWithdrawalNonce: u32,
  nextValidatorSetId: u32,
  nextValidatorSetHash: hash,
  digest: { ...hash, description: 'what the signing set signs (TaggerBridge.checkpointDigest)' },
  signingSet: { $ref: 'BridgeSet#' },
  signedPower: amount,
  signed: { type: 'boolean' },
  signatures: { type: 'array', items: object({ signer: evmAddress, signature }) },
  nextSet: { ...nullable({ $ref: 'BridgeSet#' }), description: 'submitCheckpoint\'s `next` when the set rotates; else null' },
};

const Checkpoint = { $id: 'BridgeCheckpoint', description: 'A closed checkpoint and its signatures.', ...object(checkpointFields) };
const CheckpointReply = {
  $id: 'BridgeCheckpointReply',
  description: 'A checkpoint, its signatures, the next set, and its BNB Chain submission transaction.',
  ...object({ height, ...checkpointFields, bnb: nullable({ $ref: 'BnbTx#' }) }),
};
const CheckpointsPage = {
  $id: 'BridgeCheckpointsPage',
  description: 'Checkpoints in number order.',
  ...object({ height, checkpoints: { type: 'array', items: { $ref: 'BridgeCheckpoint#' } }, nextFrom: nullable(u32) }),
};

/** Registered on the root instance, in dependency order, before any route. */
export const BRIDGE_SCHEMAS: ReadonlyArray<Record<string, unknown>> = [
  BridgeSet,
  BnbTx,
  BridgeStatus,
  Deposit,
  DepositReply,
  DepositsPage,
  WithdrawalProof,
  Withdrawal,
  WithdrawalReply,
  WithdrawalsPage,
  Checkpoint,
  CheckpointReply,
  CheckpointsPage,
];
