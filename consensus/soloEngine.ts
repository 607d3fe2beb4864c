/**
 * The single-validator engine: for a chain whose validator set is this node alone. Each block is
 * built, precommitted by the signer (whose guard is on disk before the signature exists) and
 * committed with a one-signature commit certificate. After a crash between signing and storing,
 * the signer hands out the next round at the same height, so the re-built block is signed at a new
 * round and never conflicts with the lost one. The BFT engine replaces this one behind the same
 * ports (docs/adr/0004-consensus-engine-boundary.md).
 */
import { bytesToHex, type Logger } from '../lib/index.ts';
import type { BlockPort, ClockPort, ConsensusEngine } from './ports.ts';
import type { Signer } from './signer.ts';
import { VOTE_TYPE, type Commit, type Vote } from './types.ts';

export type SoloEngineOpts = {
  chainId: string;
  /** Least time between blocks. */
  blockIntervalMs: number;
  /** Most time between blocks when there is nothing to include; 0 makes a block every interval. */
  emptyBlockIntervalMs: number;
  /** Stop producing after committing this height (0 = never), for planned upgrades. */
  haltHeight: number;
};

export type SoloEngineDeps = { blocks: BlockPort; signer: Signer; clock: ClockPort; log: Logger; onHalt?: () => void };

export class SoloEngine implements ConsensusEngine {
  private readonly opts: SoloEngineOpts;
  private readonly deps: SoloEngineDeps;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(opts: SoloEngineOpts, deps: SoloEngineDeps) {
    this.opts = opts;
    this.deps = deps;
  }

  start(): void {
    if (this.loop !== null) return;
    this.loop = this.run().catch((e: unknown) => {
      this.deps.log.error({ err: e }, 'Consensus engine stopped on an error');
      throw e;
    });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.loop !== null) await this.loop.catch(() => undefined);
  }

  private async run(): Promise<void> {
    const { blocks, clock } = this.deps;
    let lastBlockAt = clock.nowMs();
    while (!this.abort.signal.aborted) {
      await clock.sleep(this.opts.blockIntervalMs, this.abort.signal);
      if (this.abort.signal.aborted) break;
      const idleMs = clock.nowMs() - lastBlockAt;
      const due = blocks.hasPendingTxs() || this.opts.emptyBlockIntervalMs === 0 || idleMs >= BigInt(this.opts.emptyBlockIntervalMs);
      if (!due) continue;
      const height = blocks.lastCommitted().height + 1;
      if (this.opts.haltHeight > 0 && height > this.opts.haltHeight) {
        this.deps.log.warn({ haltHeight: this.opts.haltHeight }, 'Reached halt height; no more blocks');
        this.deps.onHalt?.();
        break;
      }
      await this.produce(height);
      lastBlockAt = clock.nowMs();
    }
  }

  /** One height, start to finish. Not interrupted by stop(): a started block is committed. */
  private async produce(height: number): Promise<void> {
    const { blocks, signer, clock } = this.deps;
    const round = signer.firstFreeRound(height);
    const parentTime = blocks.lastCommitted().timeMs;
    const now = clock.nowMs();
    const timeMs = now > parentTime ? now : parentTime + 1n;
    const { blockHash } = await blocks.buildProposal(height, round, timeMs);
    const vote: Vote = { type: VOTE_TYPE.precommit, height, round, blockHash, validator: signer.address };
    const signature = await signer.signVote(this.opts.chainId, vote);
    const commit: Commit = { height, round, blockHash, signatures: [{ validator: signer.address, signature }] };
    await blocks.commitBlock(height, blockHash, commit);
    this.deps.log.debug({ height, round, hash: bytesToHex(blockHash) }, 'Committed block');
  }
}
