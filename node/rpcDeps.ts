/** The node's implementation of the RPC facade, reading from the store and the mempool. */
import { assert, equalBytes, sha256 } from '../lib/index.ts';
import { ZERO_HASH, blockHash, decodeBlock, decodeReceipt, decodeReceipts, decodeSignedTx } from '../runtime/index.ts';
import { loadAccount, type ChainStore } from '../state/index.ts';
import { decodeCommit } from '../consensus/index.ts';
import { RpcError, type AccountView, type BlockView, type NodeStatus, type RpcDeps, type TxView } from '../rpc/index.ts';
import type { Mempool } from './mempool.ts';

export type RpcDepsParts = {
  chainId: string;
  nodeId: string;
  store: ChainStore;
  mempool: Mempool;
  validatorAddress: Uint8Array | null;
  syncing: () => boolean;
};

/** A read below the store's earliest height (checked after the read: pruning may run meanwhile). */
function pruned(what: 'block' | 'tx' | 'events', height: number, earliestHeight: number): RpcError {
  return new RpcError({ code: 'PRUNED', what, height, earliestHeight }, `${what === 'tx' ? 'the transaction\'s block' : what === 'block' ? 'block' : 'the events of block'} ${height} was pruned: this node keeps heights from ${earliestHeight} (ask an archive node)`);
}

/** Decoded blocks kept for the block routes (the latest ones are polled). */
const RECENT_BLOCKS_MAX = 256;

export function createRpcDeps(p: RpcDepsParts): RpcDeps {
  const { store, mempool } = p;

  // Committed blocks never change: the latest ones, which explorers poll, are decoded and hashed
  // once. Bounded; the oldest entry goes first. Pruning is checked before the cache.
  const recent = new Map<number, BlockView>();

  async function blockByHeight(height: number): Promise<BlockView | undefined> {
    if (height >= 1 && height < store.earliestHeight) throw pruned('block', height, store.earliestHeight);
    const cached = recent.get(height);
    if (cached !== undefined) return cached;
    const bytes = await store.blockBytes(height);
    if (bytes === undefined) {
      if (height >= 1 && height < store.earliestHeight) throw pruned('block', height, store.earliestHeight);
      return undefined;
    }
    const block = decodeBlock(bytes);
    const commitBytes = await store.commitBytes(height);
    const hash = height === store.head?.height ? store.head.blockHash : undefined;
    const view: BlockView = {
      hash: hash ?? blockHash(block.header),
      block,
      commit: commitBytes === undefined ? null : decodeCommit(commitBytes),
      txHashes: block.txs.map((tx) => sha256(tx)),
    };
    if (recent.size >= RECENT_BLOCKS_MAX) recent.delete(recent.keys().next().value as number);
    recent.set(height, view);
    return view;
  }

  return {
    status(): NodeStatus {
      const head = store.head;
      assert(head !== null, 'status before genesis');
      return {
        chainId: p.chainId,
        nodeId: p.nodeId,
        height: head.height,
        blockHash: head.blockHash,
        stateRoot: head.stateRoot,
        timeMs: head.timeMs,
        syncing: p.syncing(),
        mempoolTxs: mempool.size,
        mempoolBytes: mempool.bytes,
        validatorAddress: p.validatorAddress,
        earliestHeight: store.earliestHeight,
      };
    },
    submitTx(bytes: Uint8Array) {
      const { tx, duplicate } = mempool.add(bytes);
      return { hash: tx.hash, duplicate };
    },
    account(address: Uint8Array): AccountView {
      // Both from the same synchronous turn: the mempool counts from the same committed nonce.
      const account = loadAccount(store.state, address);
      return { ...account, pendingNonce: mempool.nextNonce(address) };
    },
    blockByHeight,
    async blockByHash(hash: Uint8Array) {
      const height = await store.heightByHash(hash);
      return height === undefined ? undefined : blockByHeight(height);
    },
    async tx(hash: Uint8Array): Promise<TxView | undefined> {
      // The index entry holds this transaction's own encodings: no block or receipts to decode.
      const at = await store.txRecord(hash);
      if (at === undefined) {
        const height = await store.prunedTxHeight(hash);
        if (height !== undefined) throw pruned('tx', height, store.earliestHeight);
        return undefined;
      }
      const tx = decodeSignedTx(at.txBytes);
      const receipt = decodeReceipt(at.receiptBytes);
      assert(equalBytes(tx.hash, hash) && equalBytes(receipt.txHash, hash), 'index points at the wrong transaction');
      return { tx, height: at.height, index: at.index, blockHash: at.blockHash, receipt };
    },
    async blockEvents(height: number) {
      const bytes = await store.receiptsBytes(height);
      if (bytes === undefined) {
        if (height >= 1 && height < store.earliestHeight) throw pruned('events', height, store.earliestHeight);
        return undefined;
      }
      // End-of-block events are the receipts with a zero transaction hash, after the transactions' own.
      return decodeReceipts(bytes).filter((r) => equalBytes(r.txHash, ZERO_HASH)).flatMap((r) => r.events);
    },
    async accountTxs(address, before, limit) {
      return store.accountTxs(address, before, limit);
    },
    async events(q) {
      // Past pruning the index is gone too: start at the earliest kept height.
      const fromHeight = Math.max(q.fromHeight, store.earliestHeight);
      const type = q.type;
      const filter = type === null || q.term === `type:${type}` ? undefined : (e: { type: string }) => e.type === type;
      return store.events({ term: q.term, fromHeight, toHeight: q.toHeight, after: q.after, limit: q.limit, ...(filter === undefined ? {} : { filter }) });
    },
    isPending(hash: Uint8Array) {
      return mempool.has(hash);
    },
    proveState(key: Uint8Array) {
      const head = store.head;
      assert(head !== null, 'proof before genesis');
      return { height: head.height, stateRoot: head.stateRoot, proof: store.tree.prove(key) };
    },
    state() {
      const head = store.head;
      assert(head !== null, 'state before genesis');
      return { height: head.height, reader: store.state };
    },
  };
}
