/**
 * Everything the RPC server needs from the node, as one facade (the node implements it; tests pass
 * a fake). The RPC never touches the database, the network or consensus directly.
 */
import type { Account, AccountTxHit, EventHit, IndexCursor, StateProof, StateReader } from '../state/index.ts';
import type { Block, ChainEvent, Receipt, SignedTx } from '../runtime/index.ts';
import type { BridgeBnbLookup } from './bridgeViews.ts';

export type NodeStatus = {
  chainId: string;
  nodeId: string;
  /** Latest committed height; 0 before the first block. */
  height: number;
  blockHash: Uint8Array;
  stateRoot: Uint8Array;
  timeMs: bigint;
  /** True while the node is catching up and its state is behind the network. */
  syncing: boolean;
  mempoolTxs: number;
  mempoolBytes: number;
  validatorAddress: Uint8Array | null;
  /** The lowest height whose block, receipts and transactions the node keeps (pruning); absent: 1. */
  earliestHeight?: number;
};

export type CommitSignature = { validator: Uint8Array; signature: Uint8Array };
export type CommitView = { height: number; round: number; blockHash: Uint8Array; signatures: CommitSignature[] };

export type BlockView = {
  hash: Uint8Array;
  block: Block;
  commit: CommitView | null;
  /** The transactions' hashes in block order, when the provider has them (else computed per reply). */
  txHashes?: readonly Uint8Array[];
};

export type TxView = {
  tx: SignedTx;
  height: number;
  index: number;
  blockHash: Uint8Array;
  receipt: Receipt;
};

/**
 * A committed account, plus the nonce its next transaction should carry counting those already
 * waiting in the mempool: one past the contiguous run of waiting nonces that starts at `nonce`, or
 * `nonce` when none wait. Always at least `nonce`.
 */
export type AccountView = Account & { pendingNonce: number };

/** Result of a submission: accepted into the mempool (or already there). */
export type SubmitResult = { hash: Uint8Array; duplicate: boolean };

/**
 * An event query: `term` (one of `type:…`, `account:…`, `task:…`, `passport:…`) picks the index to
 * walk, `type` filters further; heights inclusive; `after` resumes a previous page.
 */
export type EventQuery = { term: string | null; type: string | null; fromHeight: number; toHeight: number; after: IndexCursor | null; limit: number };

export type RpcDeps = {
  status(): NodeStatus;
  /** Decodes, checks and adds a transaction to the mempool. Throws CodecError, TxError or MempoolError. */
  submitTx(bytes: Uint8Array): SubmitResult;
  account(address: Uint8Array): AccountView;
  /** Blocks, transactions and events below the node's earliest height throw RpcError PRUNED. */
  blockByHeight(height: number): Promise<BlockView | undefined>;
  blockByHash(hash: Uint8Array): Promise<BlockView | undefined>;
  tx(hash: Uint8Array): Promise<TxView | undefined>;
  /** Events of the block's end-of-block work (labelling rounds drawn and closed, tasks done…); undefined if no such block. */
  blockEvents(height: number): Promise<ChainEvent[] | undefined>;
  /**
   * An account's committed transactions, newest first, strictly before `before` (docs/rpc.md
   * §Queries); from the account index written with each block.
   */
  accountTxs(address: Uint8Array, before: IndexCursor | null, limit: number): Promise<AccountTxHit[]>;
  /** Events in height order from the event index; `next` is where to resume (null: the range is done). */
  events(q: EventQuery): Promise<{ hits: EventHit[]; next: IndexCursor | null }>;
  /** True if the transaction is waiting in the mempool. */
  isPending(hash: Uint8Array): boolean;
  /** Proof for `key` against the latest committed state root. */
  proveState(key: Uint8Array): { height: number; stateRoot: Uint8Array; proof: StateProof };
  /**
   * The committed state and its height. The reader follows the node's commits: read everything a
   * reply needs in one synchronous turn (no await in between) and it is all from `height`.
   */
  state(): { height: number; reader: StateReader };
  /** BNB Chain transactions of bridge releases and checkpoint submissions; absent: replies say `bnb: null`. */
  bnb?: BridgeBnbLookup;
};
