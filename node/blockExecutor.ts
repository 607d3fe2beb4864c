/**
 * The shell around the runtime: builds blocks from the mempool, executes blocks, and stores them
 * with their state in one batch. Implements consensus's BlockPort.
 */
import { assert, bytesToHex, equalBytes, isChainError, merkleRoot, sha256, type Logger } from '../lib/index.ts';
import {
  BLOCK_VERSION,
  BlockError,
  applyBlockTxs,
  blockHash as hashHeader,
  blockSeed,
  lastCommitHash,
  buildBlockTxs,
  decodeBlock,
  encodeBlock,
  encodeReceipt,
  encodeReceipts,
  loadLastValidatorSet,
  validateHeaderLinkage,
  type Block,
  type BlockEnv,
  type Header,
  type Receipt,
  type SignedTx,
} from '../runtime/index.ts';
import {
  decodeParams,
  loadValidatorSet,
  PARAMS_KEY,
  StateView,
  validatorSetHash,
  type ChainStore,
  type Params,
  type SparseMerkleTree,
  type StateWrite,
} from '../state/index.ts';
import { decodeCommit, encodeCommit, verifyCommit, type BftBlockPort, type Commit, type VotingValidator } from '../consensus/index.ts';
import { blockIndex } from './indexer.ts';
import type { Mempool } from './mempool.ts';

/** A block executed but not yet committed. */
export type ExecutedBlock = {
  block: Block;
  hash: Uint8Array;
  txs: SignedTx[];
  receipts: Receipt[];
  /** Each receipt's encoding (the receipts root's leaves), kept for the transaction index. */
  receiptBytes: Uint8Array[];
  writes: StateWrite[];
  tree: SparseMerkleTree;
};

export type CommittedBlockInfo = { height: number; hash: Uint8Array; block: Block; txs: SignedTx[]; receipts: Receipt[] };

export type BlockExecutorDeps = {
  chainId: string;
  store: ChainStore;
  mempool: Mempool;
  proposer: Uint8Array;
  log: Logger;
  onCommit?: (info: CommittedBlockInfo) => void;
  /** False: write no query indexes (accounts' transactions, events); default true (`storage.index`). */
  index?: boolean;
};

/**
 * Executed blocks kept while waiting for a commit; a commit clears them. When full, blocks of
 * heights already committed go first, then the oldest: one height with more proposals than this
 * (a long run of failed rounds) loses its earliest ones, never the newest. If the engine commits a
 * block that was evicted, the node fetches it by block sync instead (node/blockGate.ts).
 */
export const PENDING_MAX = 16;

export class BlockExecutor implements BftBlockPort {
  private readonly deps: BlockExecutorDeps;
  private readonly pending = new Map<string, ExecutedBlock>();
  /** The certificate stored with the last block this executor committed (checked before it was). */
  private storedCommit: { height: number; bytes: Uint8Array } | null = null;

  constructor(deps: BlockExecutorDeps) {
    this.deps = deps;
  }

  params(): Params {
    const bytes = this.deps.store.state.get(PARAMS_KEY);
    assert(bytes !== undefined, 'params missing from state');
    return decodeParams(bytes);
  }

  lastCommitted(): { height: number; timeMs: bigint } {
    const head = this.deps.store.head;
    assert(head !== null, 'store has no genesis');
    return { height: head.height, timeMs: head.timeMs };
  }

  hasPendingTxs(): boolean {
    return this.deps.mempool.hasReady();
  }

  async buildProposal(height: number, round: number, timeMs: bigint): Promise<{ blockHash: Uint8Array }> {
    const { store, mempool } = this.deps;
    const head = store.head;
    assert(head !== null && height === head.height + 1, 'buildProposal: not the next height');
    const params = this.params();
    const view = new StateView(store.state);
    const lastCommit = height === 1 ? new Uint8Array(0) : await store.commitBytes(height - 1);
    assert(lastCommit !== undefined, `buildProposal: no commit stored for height ${height - 1}`);
    const seed = blockSeed(head.blockHash, lastCommit);
    const env: BlockEnv = { chainId: this.deps.chainId, height, timeMs, proposer: this.deps.proposer, seed, verifySignatures: false, lastCommit, parentStateRoot: head.stateRoot };
    // Signatures were verified at the mempool door.
    const built = buildBlockTxs(view, mempool.ready(params.blockTxCountMax * 2), env, params);
    for (const { tx, error } of built.rejected) {
      this.deps.log.debug({ tx: bytesToHex(tx.hash), code: error.code }, 'Dropped transaction at block building');
      mempool.remove(tx.hash);
    }
    const executed = this.finish(view, built.included, built.receipts, {
      height,
      timeMs,
      parentHash: head.blockHash,
      lastCommit,
    });
    this.remember(executed);
    this.deps.log.debug({ height, round, txs: built.included.length }, 'Built proposal');
    return { blockHash: executed.hash };
  }

  /**
   * Validates and executes a block from elsewhere (another proposer, sync, replay), checking every
   * transaction's signature and every root in its header. Throws BlockError if it is invalid.
   * When the mempool holds every transaction of the block, their signatures are not checked again:
   * a transaction's hash covers its signature, and the mempool checked each one at its door.
   */
  executeBlock(block: Block): ExecutedBlock {
    const { store } = this.deps;
    const head = store.head;
    assert(head !== null, 'store has no genesis');
    const h = block.header;
    validateHeaderLinkage(h, { height: head.height, hash: head.blockHash, timeMs: head.timeMs }, this.deps.chainId);
    if (!loadValidatorSet(store.state).some((v) => equalBytes(v.address, h.proposer))) {
      throw new BlockError({ code: 'BLOCK_WRONG_PROPOSER', proposer: bytesToHex(h.proposer) }, 'the proposer is not in the validator set');
    }
    this.checkLastCommit(block, head.height, head.blockHash);
    const params = this.params();
    const view = new StateView(store.state);
    const seed = blockSeed(h.parentHash, block.lastCommit);
    const env: BlockEnv = {
      chainId: this.deps.chainId,
      height: h.height,
      timeMs: h.timeMs,
      proposer: h.proposer,
      seed,
      verifySignatures: !this.mempoolHoldsAll(block.txs),
      lastCommit: block.lastCommit,
      // Bridge checkpoints commit to the state the block starts from (docs/spec/bridge.md).
      parentStateRoot: head.stateRoot,
    };
    const { receipts, decoded } = applyBlockTxs(view, block.txs, env, params);
    const at = { height: h.height, timeMs: h.timeMs, parentHash: h.parentHash, lastCommit: block.lastCommit };
    const executed = this.finish(view, decoded, receipts, at, h.proposer);
    const ours = executed.block.header;
    for (const root of ['lastCommitHash', 'txRoot', 'receiptsRoot', 'stateRoot', 'validatorSetHash', 'nextValidatorSetHash'] as const) {
      if (!equalBytes(ours[root], h[root])) throw new BlockError({ code: 'BLOCK_WRONG_ROOT', root });
    }
    const result = { ...executed, block, hash: hashHeader(h) };
    this.remember(result);
    return result;
  }

  /**
   * The block must carry a valid commit certificate for its parent (none at height 1): > 2/3 of
   * the validator set's power signed the parent's hash.
   */
  private checkLastCommit(block: Block, parentHeight: number, parentHash: Uint8Array): void {
    if (parentHeight === 0) {
      if (block.lastCommit.length !== 0) throw new BlockError({ code: 'BLOCK_BAD_LAST_COMMIT', reason: 'height 1 carries no last commit' });
      return;
    }
    // The certificate this node stored with the parent was checked when it was (sync verifies it,
    // the engine checks every precommit it counts): the same bytes need no second check.
    if (this.storedCommit !== null && this.storedCommit.height === parentHeight && equalBytes(this.storedCommit.bytes, block.lastCommit)) return;
    try {
      const commit = decodeCommit(block.lastCommit);
      // The parent was validated by the state's "last" set (it differs from the next one after an epoch change).
      verifyCommit(this.deps.chainId, commit, parentHeight, parentHash, loadLastValidatorSet(this.deps.store.state));
    } catch (e: unknown) {
      if (!isChainError(e)) throw e;
      throw new BlockError({ code: 'BLOCK_BAD_LAST_COMMIT', reason: e.message });
    }
  }

  private finish(
    view: StateView,
    txs: SignedTx[],
    receipts: Receipt[],
    at: { height: number; timeMs: bigint; parentHash: Uint8Array; lastCommit: Uint8Array },
    proposer = this.deps.proposer,
  ): ExecutedBlock {
    const writes = view.writes();
    const tree = this.deps.store.tree.update(writes);
    const receiptBytes = receipts.map(encodeReceipt);
    // The set that validated this block, and the one the runtime chose for the next (staking epochs).
    const setHash = validatorSetHash(loadLastValidatorSet(view));
    const nextSetHash = validatorSetHash(loadValidatorSet(view));
    const header: Header = {
      version: BLOCK_VERSION,
      chainId: this.deps.chainId,
      height: at.height,
      timeMs: at.timeMs,
      parentHash: at.parentHash,
      lastCommitHash: lastCommitHash(at.lastCommit),
      txRoot: merkleRoot(txs.map((t) => t.bytes)),
      receiptsRoot: merkleRoot(receiptBytes),
      stateRoot: tree.root,
      proposer,
      validatorSetHash: setHash,
      nextValidatorSetHash: nextSetHash,
    };
    const block: Block = { header, lastCommit: at.lastCommit, txs: txs.map((t) => t.bytes) };
    return { block, hash: hashHeader(header), txs, receipts, receiptBytes, writes, tree };
  }

  private remember(executed: ExecutedBlock): void {
    const id = bytesToHex(executed.hash);
    this.pending.delete(id);
    if (this.pending.size >= PENDING_MAX) {
      const committed = this.lastCommitted().height;
      for (const [key, held] of this.pending) if (held.block.header.height <= committed) this.pending.delete(key);
    }
    // Map order is insertion order: the first key is the oldest block.
    while (this.pending.size >= PENDING_MAX) this.pending.delete(this.pending.keys().next().value as string);
    this.pending.set(id, executed);
    assert(this.pending.size <= PENDING_MAX, 'pending blocks over the bound');
  }

  /** True if every one of `txs` (encoded) is in the mempool, whose door checked its signature. */
  private mempoolHoldsAll(txs: readonly Uint8Array[]): boolean {
    for (const bytes of txs) if (!this.deps.mempool.has(sha256(bytes))) return false;
    return true;
  }

  /** True if the executor holds the executed block `blockHash`, ready to commit. */
  holds(blockHash: Uint8Array): boolean {
    return this.pending.has(bytesToHex(blockHash));
  }

  /** BftBlockPort: the set of the committed state decides the next height. */
  validatorsAt(height: number): VotingValidator[] {
    assert(height === this.lastCommitted().height + 1, 'validatorsAt: only the next height');
    return loadValidatorSet(this.deps.store.state).map((v) => ({ address: v.address, publicKey: v.publicKey, power: v.power }));
  }

  /** BftBlockPort: the header hash of encoded block bytes (CodecError if they are no block). */
  blockHashOf(bytes: Uint8Array): Uint8Array {
    return hashHeader(decodeBlock(bytes).header);
  }

  /** BftBlockPort: a built or executed block, encoded, to travel with a proposal. */
  proposalBlock(blockHash: Uint8Array): Uint8Array | null {
    const executed = this.pending.get(bytesToHex(blockHash));
    return executed === undefined ? null : encodeBlock(executed.block);
  }

  /** BftBlockPort: executes a proposed block; a block that breaks a rule is `valid: false`. */
  async executeProposal(height: number, bytes: Uint8Array): Promise<{ blockHash: Uint8Array; valid: boolean }> {
    const block = decodeBlock(bytes);
    const blockHash = hashHeader(block.header);
    if (block.header.height !== height) return { blockHash, valid: false };
    try {
      this.executeBlock(block);
      return { blockHash, valid: true };
    } catch (e: unknown) {
      if (!isChainError(e)) throw e;
      this.deps.log.debug({ height, hash: bytesToHex(blockHash), code: e.code }, 'Proposed block is invalid');
      return { blockHash, valid: false };
    }
  }

  async commitBlock(height: number, blockHash: Uint8Array, commit: Commit): Promise<void> {
    const executed = this.pending.get(bytesToHex(blockHash));
    assert(executed !== undefined, `commitBlock: unknown block ${bytesToHex(blockHash)}`);
    assert(executed.block.header.height === height, 'commitBlock: height mismatch');
    const commitBytes = encodeCommit(commit);
    await this.deps.store.commitBlock({
      height,
      blockHash,
      timeMs: executed.block.header.timeMs,
      blockBytes: encodeBlock(executed.block),
      commitBytes,
      receiptsBytes: encodeReceipts(executed.receipts),
      txs: executed.txs.map((t, i) => ({ hash: t.hash, bytes: t.bytes, receiptBytes: executed.receiptBytes[i] as Uint8Array })),
      writes: executed.writes,
      tree: executed.tree,
      ...(this.deps.index === false ? {} : { index: blockIndex(executed.txs, executed.receipts) }),
    });
    this.pending.clear();
    this.storedCommit = { height, bytes: commitBytes };
    this.deps.mempool.afterCommit(executed.txs);
    this.deps.onCommit?.({ height, hash: blockHash, block: executed.block, txs: executed.txs, receipts: executed.receipts });
  }
}
