/**
 * Turns the duplicate votes the consensus engine caught into `evidence` transactions
 * (docs/spec/staking.md §Evidence). After every commit it looks at the evidence pool: evidence the
 * committed state no longer accepts (already punished, expired, or never valid) leaves the pool;
 * the rest is signed with the node key and put in the mempool, which relays it like any
 * transaction. Evidence pays no fee, so a validator reports without holding TAG; every node that saw
 * the double sign reports it, the first to be committed slashes, and the others are then refused.
 */
import { bytesToHex, type Logger } from '../lib/index.ts';
import { checkEvidenceTx, evidenceTxBody, signTx, type BlockEnv, type SignedTx } from '../runtime/index.ts';
import type { StateReader } from '../state/index.ts';
import type { DuplicateVoteEvidence } from '../consensus/index.ts';
import type { EvidencePool } from './gossip.ts';

export type EvidenceReporterDeps = {
  chainId: string;
  pool: EvidencePool;
  key: { secretKey: Uint8Array; publicKey: Uint8Array; address: Uint8Array };
  /** Committed state and the head it belongs to. */
  state(): StateReader;
  head(): { height: number; timeMs: bigint };
  nextNonce(address: Uint8Array): number;
  inMempool(hash: Uint8Array): boolean;
  /** Adds to the mempool and relays; throws what the mempool throws. */
  submit(bytes: Uint8Array): void;
  log: Logger;
};

export class EvidenceReporter {
  private readonly deps: EvidenceReporterDeps;
  /** Pool key → hash of the transaction that reports it, while it waits in the mempool. */
  private readonly reported = new Map<string, Uint8Array>();
  /** Evidence transactions committed from this node (a metric). */
  submitted = 0;

  constructor(deps: EvidenceReporterDeps) {
    this.deps = deps;
  }

  /** Called after each commit (and sync): at most one pass over the bounded pool. */
  onCommit(): void {
    const { pool } = this.deps;
    const head = this.deps.head();
    const env: BlockEnv = {
      chainId: this.deps.chainId,
      height: head.height + 1,
      timeMs: head.timeMs,
      proposer: this.deps.key.address,
      seed: new Uint8Array(32),
      verifySignatures: false,
    };
    for (const [key, evidence] of pool.entries()) {
      const waiting = this.reported.get(key);
      if (waiting !== undefined && this.deps.inMempool(waiting)) continue;
      const signed = this.sign(evidence, this.deps.nextNonce(this.deps.key.address));
      const refused = checkEvidenceTx(this.deps.state(), signed, env);
      if (refused !== null) {
        // Punished (by this report or another), expired, or not evidence of anything: done with it.
        pool.remove(key);
        this.reported.delete(key);
        if (refused !== 'EVIDENCE_DUPLICATE' && refused !== 'EVIDENCE_VALIDATOR_TOMBSTONED') {
          this.deps.log.warn({ evidence: key, reason: refused }, 'Dropped double-sign evidence the chain does not accept');
        }
        continue;
      }
      try {
        this.deps.submit(signed.bytes);
        this.reported.set(key, signed.hash);
        this.submitted++;
        this.deps.log.warn({ evidence: key, tx: bytesToHex(signed.hash) }, 'Reported a double sign');
      } catch (e: unknown) {
        // The mempool is full or the nonce is taken: the next commit tries again.
        this.deps.log.warn({ evidence: key, err: e instanceof Error ? e.message : String(e) }, 'Could not submit double-sign evidence yet');
      }
    }
    for (const key of this.reported.keys()) if (!pool.hasKey(key)) this.reported.delete(key);
  }

  private sign(evidence: DuplicateVoteEvidence, nonce: number): SignedTx {
    const { key } = this.deps;
    const body = evidenceTxBody(evidence.first, evidence.second);
    return signTx({ chainId: this.deps.chainId, sender: key.publicKey, nonce, maxFee: 0n, body }, key.secretKey);
  }
}
