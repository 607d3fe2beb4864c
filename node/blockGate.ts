/**
 * One door to the block executor for the two writers of the chain: the BFT engine (which builds,
 * executes and commits blocks as it decides them) and block sync (which verifies and commits blocks
 * that peers have already decided). Every call that executes or commits takes the same lock, so
 * they never interleave, and each re-reads the committed height under the lock:
 *
 * - a height that sync committed while the engine was still deciding it is never committed twice:
 *   the engine's commit is checked against the stored block (a different hash at one height means
 *   more than a third of the validators signed two blocks: the node halts) and dropped;
 * - an engine still deciding such a height gets answers that keep it safe until it hears
 *   (`notifyCommitted`) that it should move on: a proposal it must build is the stored block, a
 *   proposal it must execute is invalid (it prevotes nil for a height already decided);
 * - a block the engine decides but no longer holds (evicted from the executor's cache after many
 *   rounds) is fetched by sync rather than halting the node.
 *
 * Sync verifies every block's commit certificate against the validator set of its height — the set
 * in the committed state before it (`validatorsAt`), so set changes made by the runtime flow
 * through — before executing the block with every signature and root checked.
 */
import { assert, bytesToHex, ChainError, equalBytes, type Logger } from '../lib/index.ts';
import { blockHash as hashHeader, decodeBlock } from '../runtime/index.ts';
import { decodeCommit, verifyCommit, type BftBlockPort, type Commit, type VotingValidator } from '../consensus/index.ts';
import type { ChainStore } from '../state/index.ts';
import type { BlockExecutor } from './blockExecutor.ts';
import type { BlockPair } from './p2p/index.ts';

export type SyncErrorType = { code: 'SYNC_WRONG_HEIGHT'; expected: number; actual: number };
/** A synced block that is not the next one (a peer answering out of order). */
export class SyncError extends ChainError<SyncErrorType> {}

/** Stored blocks handed to a stale engine as its "built" proposal; they live one height. */
const STALE_BLOCKS_MAX = 4;

export type BlockGateDeps = {
  chainId: string;
  store: ChainStore;
  executor: BlockExecutor;
  log: Logger;
  /** Commit nothing above this height (0: no limit), for planned upgrades. */
  haltHeight: number;
  /** The engine decided `height` but the block is not here: fetch it by sync. */
  onMissingBlock(height: number): void;
};

export class BlockGate implements BftBlockPort {
  private readonly deps: BlockGateDeps;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly stale = new Map<string, Uint8Array>();

  constructor(deps: BlockGateDeps) {
    this.deps = deps;
  }

  /** Runs `fn` when every earlier call has finished; calls run one at a time, in order. */
  private exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  lastCommitted(): { height: number; timeMs: bigint } {
    return this.deps.executor.lastCommitted();
  }

  hasPendingTxs(): boolean {
    return this.deps.executor.hasPendingTxs();
  }

  validatorsAt(height: number): VotingValidator[] {
    return this.deps.executor.validatorsAt(height);
  }

  blockHashOf(block: Uint8Array): Uint8Array {
    return this.deps.executor.blockHashOf(block);
  }

  proposalBlock(blockHash: Uint8Array): Uint8Array | null {
    return this.deps.executor.proposalBlock(blockHash) ?? this.stale.get(bytesToHex(blockHash)) ?? null;
  }

  buildProposal(height: number, round: number, timeMs: bigint): Promise<{ blockHash: Uint8Array }> {
    return this.exclusive(async () => {
      const committed = this.lastCommitted().height;
      if (height === committed + 1) return this.deps.executor.buildProposal(height, round, timeMs);
      assert(height <= committed, `buildProposal: height ${height} is past the next one`);
      const bytes = await this.deps.store.blockBytes(height);
      assert(bytes !== undefined, `buildProposal: committed block ${height} is not stored`);
      const blockHash = hashHeader(decodeBlock(bytes).header);
      if (this.stale.size >= STALE_BLOCKS_MAX) this.stale.clear();
      this.stale.set(bytesToHex(blockHash), bytes);
      this.deps.log.debug({ height, round }, 'Height already committed by sync; proposing the stored block');
      return { blockHash };
    });
  }

  executeProposal(height: number, block: Uint8Array): Promise<{ blockHash: Uint8Array; valid: boolean }> {
    return this.exclusive(async () => {
      if (height === this.lastCommitted().height + 1) return this.deps.executor.executeProposal(height, block);
      return { blockHash: this.blockHashOf(block), valid: false };
    });
  }

  commitBlock(height: number, blockHash: Uint8Array, commit: Commit): Promise<void> {
    return this.exclusive(async () => {
      const committed = this.lastCommitted().height;
      if (height <= committed) {
        await this.checkStored(height, blockHash);
        return;
      }
      assert(height === committed + 1, `commitBlock: height ${height} is past the next one`);
      if (this.deps.haltHeight > 0 && height > this.deps.haltHeight) return;
      if (!this.deps.executor.holds(blockHash)) {
        this.deps.log.warn({ height, hash: bytesToHex(blockHash) }, 'Decided a block this node no longer holds; fetching it by block sync');
        this.deps.onMissingBlock(height);
        return;
      }
      await this.deps.executor.commitBlock(height, blockHash, commit);
    });
  }

  /** Halts the node if the stored block at `height` is not `blockHash`: the chain forked. */
  private async checkStored(height: number, blockHash: Uint8Array): Promise<void> {
    const stored = await this.deps.store.blockBytes(height);
    assert(stored !== undefined, `block ${height} is committed but not stored`);
    const storedHash = hashHeader(decodeBlock(stored).header);
    assert(
      equalBytes(storedHash, blockHash),
      `two blocks decided at height ${height} (${bytesToHex(storedHash)} stored, ${bytesToHex(blockHash)} decided): more than a third of the validators are faulty`,
    );
  }

  /**
   * Verifies and commits synced blocks in order (SyncClient's ApplyBatch). Heights this node has
   * already committed are skipped. Throws a ChainError at the first block that does not decode, is
   * not the next height, lacks a valid commit certificate or fails execution; the blocks before it
   * stay committed. Returns how many it committed.
   */
  async applySynced(pairs: readonly BlockPair[]): Promise<number> {
    let applied = 0;
    for (const pair of pairs) {
      const done = await this.exclusive(() => this.applyOne(pair));
      if (done === 'halt') break;
      if (done === 'applied') applied++;
    }
    return applied;
  }

  private async applyOne(pair: BlockPair): Promise<'applied' | 'skipped' | 'halt'> {
    const committed = this.lastCommitted().height;
    if (pair.height <= committed) return 'skipped';
    if (pair.height !== committed + 1) throw new SyncError({ code: 'SYNC_WRONG_HEIGHT', expected: committed + 1, actual: pair.height });
    if (this.deps.haltHeight > 0 && pair.height > this.deps.haltHeight) return 'halt';
    const block = decodeBlock(pair.block);
    if (block.header.height !== pair.height) throw new SyncError({ code: 'SYNC_WRONG_HEIGHT', expected: pair.height, actual: block.header.height });
    const blockHash = hashHeader(block.header);
    const commit = decodeCommit(pair.commit);
    verifyCommit(this.deps.chainId, commit, pair.height, blockHash, this.validatorsAt(pair.height));
    this.deps.executor.executeBlock(block);
    await this.deps.executor.commitBlock(pair.height, blockHash, commit);
    return 'applied';
  }
}
