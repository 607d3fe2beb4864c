/**
 * Transactions waiting for a block. Checks at the door — canonical decoding, chain id, size,
 * signature (native ed25519), nonce window, fee, and a balance that covers the fees of everything
 * the sender has waiting — so that invalid transactions never take space.
 *
 * Bounded by count, bytes and per-sender count. A transaction is *ready* when it and every lower
 * nonce down to the account's next nonce are here; only ready ones go into blocks, each sender's in
 * nonce order, senders in order of first arrival. Transactions behind a nonce gap are *future*:
 * they are evicted first when the pool is full, and dropped when the gap has not closed within
 * `futureTtlBlocks` blocks, so no one can fill the pool with transactions that never become ready.
 */
import { ChainError, bytesToHex, type Logger } from '../lib/index.ts';
import { decodeSignedTx, feeSponsor, isPassportBody, isStakingBody, requiredFee, TxError, verifyTxSignature, type SignedTx } from '../runtime/index.ts';
import type { Account, Params, StateReader } from '../state/index.ts';

export type MempoolErrorType =
  | { code: 'MEMPOOL_FULL'; txs: number; bytes: number }
  | { code: 'MEMPOOL_SENDER_FULL'; sender: string; max: number }
  | { code: 'MEMPOOL_NONCE_TOO_LOW'; expected: number; actual: number }
  | { code: 'MEMPOOL_NONCE_TOO_HIGH'; max: number; actual: number }
  | { code: 'MEMPOOL_NONCE_TAKEN'; nonce: number };
export class MempoolError extends ChainError<MempoolErrorType> {}

export type MempoolOpts = {
  txCountMax: number;
  bytesMax: number;
  perSenderMax: number;
  /** How far past the account's next nonce a transaction may be. */
  nonceGapMax: number;
  /** Blocks a sender's transactions may wait behind a nonce gap before they are dropped. */
  futureTtlBlocks: number;
};

export const DEFAULT_MEMPOOL_OPTS: MempoolOpts = {
  txCountMax: 50_000,
  bytesMax: 64 * 1024 * 1024,
  perSenderMax: 256,
  nonceGapMax: 64,
  futureTtlBlocks: 20,
};

export type MempoolDeps = {
  chainId: string;
  params(): Params;
  account(address: Uint8Array): Account;
  /** Latest committed height, to age future transactions. */
  height(): number;
  /** Committed state, to see whether a label transaction's fee is sponsored by a task's escrow. */
  state?: () => StateReader;
  /**
   * Double-sign evidence pays no fee (docs/spec/staking.md §Evidence), so it is admitted only if it
   * would be included on the committed state: null if so, else why not.
   */
  checkEvidence?: (tx: SignedTx) => string | null;
  log: Logger;
};

/** `fee` is what the sender pays: 0 for a label transaction sponsored by a task. */
type Entry = { tx: SignedTx; fee: bigint; addedAt: number };
type SenderQueue = { address: Uint8Array; byNonce: Map<number, Entry>; fees: bigint };

export class Mempool {
  private readonly opts: MempoolOpts;
  private readonly deps: MempoolDeps;
  private readonly byHash = new Map<string, Entry>();
  /** Insertion order = order of each sender's first waiting transaction. */
  private readonly senders = new Map<string, SenderQueue>();
  private totalBytes = 0;

  constructor(opts: MempoolOpts, deps: MempoolDeps) {
    this.opts = opts;
    this.deps = deps;
  }

  get size(): number {
    return this.byHash.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  has(hash: Uint8Array): boolean {
    return this.byHash.has(bytesToHex(hash));
  }

  /** Checks and adds a transaction. Throws CodecError, TxError or MempoolError. */
  add(bytes: Uint8Array): { tx: SignedTx; duplicate: boolean } {
    const params = this.deps.params();
    const tx = decodeSignedTx(bytes, params.txBytesMax);
    const existing = this.byHash.get(bytesToHex(tx.hash));
    if (existing !== undefined) return { tx: existing.tx, duplicate: true };

    if (tx.tx.chainId !== this.deps.chainId) {
      throw new TxError({ code: 'TX_WRONG_CHAIN', detail: `expected chain id ${this.deps.chainId}` }, `TX_WRONG_CHAIN: expected chain id ${this.deps.chainId}`);
    }
    const evidence = tx.tx.body.kind === 'evidence';
    const fee = evidence ? 0n : requiredFee(params, tx.bytes.length);
    if (tx.tx.maxFee < fee) throw new TxError({ code: 'TX_FEE_TOO_LOW', detail: `fee is ${fee}` }, `TX_FEE_TOO_LOW: the fee for this transaction is ${fee} units, maxFee is ${tx.tx.maxFee}`);
    const account = this.deps.account(tx.senderAddress);
    if (tx.tx.nonce < account.nonce) {
      throw new MempoolError({ code: 'MEMPOOL_NONCE_TOO_LOW', expected: account.nonce, actual: tx.tx.nonce }, `nonce ${tx.tx.nonce} already used; next is ${account.nonce}`);
    }
    const nonceMax = account.nonce + this.opts.nonceGapMax;
    if (tx.tx.nonce > nonceMax) {
      throw new MempoolError({ code: 'MEMPOOL_NONCE_TOO_HIGH', max: nonceMax, actual: tx.tx.nonce }, `nonce ${tx.tx.nonce} is too far ahead; at most ${nonceMax}`);
    }
    const senderId = bytesToHex(tx.senderAddress);
    const queue = this.senders.get(senderId);
    const waitingFees = queue?.fees ?? 0n;
    // A seat holder's label transactions are paid from the task's escrow: they need no balance.
    const sponsored = tx.tx.body.kind !== 'transfer' && !isStakingBody(tx.tx.body) && !isPassportBody(tx.tx.body) && this.deps.state !== undefined && feeSponsor(this.deps.state(), tx.senderAddress, tx.tx.body, fee) !== null;
    const payerFee = sponsored ? 0n : fee;
    if (account.balance < waitingFees + payerFee) {
      throw new TxError(
        { code: 'TX_CANNOT_PAY_FEE', detail: `fees due ${waitingFees + fee}` },
        `TX_CANNOT_PAY_FEE: this fee (${fee} units) and those of the sender's waiting transactions (${waitingFees}) exceed the balance ${account.balance}`,
      );
    }
    if (queue?.byNonce.has(tx.tx.nonce) === true) {
      throw new MempoolError({ code: 'MEMPOOL_NONCE_TAKEN', nonce: tx.tx.nonce }, `another transaction with nonce ${tx.tx.nonce} is waiting`);
    }
    if ((queue?.byNonce.size ?? 0) >= this.opts.perSenderMax) {
      throw new MempoolError({ code: 'MEMPOOL_SENDER_FULL', sender: senderId, max: this.opts.perSenderMax }, `sender has ${this.opts.perSenderMax} transactions waiting`);
    }
    // The signature before any eviction, and last among the checks: it is the most expensive.
    if (!verifyTxSignature(tx)) throw new TxError({ code: 'TX_BAD_SIGNATURE', detail: 'signature does not verify' }, 'TX_BAD_SIGNATURE: signature does not verify');
    const refused = evidence ? (this.deps.checkEvidence?.(tx) ?? null) : null;
    if (refused !== null) throw new TxError({ code: 'TX_EVIDENCE_REJECTED', detail: refused }, `TX_EVIDENCE_REJECTED: the evidence would not be included (${refused})`);
    this.makeRoom(tx, this.nextNonce(tx.senderAddress) === tx.tx.nonce);

    const entry: Entry = { tx, fee: payerFee, addedAt: this.deps.height() };
    if (queue === undefined) this.senders.set(senderId, { address: tx.senderAddress, byNonce: new Map([[tx.tx.nonce, entry]]), fees: payerFee });
    else {
      queue.byNonce.set(tx.tx.nonce, entry);
      queue.fees += payerFee;
    }
    this.byHash.set(bytesToHex(tx.hash), entry);
    this.totalBytes += tx.bytes.length;
    return { tx, duplicate: false };
  }

  /** Frees space for `tx` if the pool is full: a ready transaction may evict a future one. */
  private makeRoom(tx: SignedTx, ready: boolean): void {
    const fits = (): boolean => this.byHash.size < this.opts.txCountMax && this.totalBytes + tx.bytes.length <= this.opts.bytesMax;
    while (!fits()) {
      const victim = ready ? this.lastFutureTx() : undefined;
      if (victim === undefined) {
        throw new MempoolError({ code: 'MEMPOOL_FULL', txs: this.byHash.size, bytes: this.totalBytes }, 'mempool is full; try again later');
      }
      this.remove(victim.hash);
    }
  }

  /** The highest-nonce future transaction of the most recently arrived sender that has any. */
  private lastFutureTx(): SignedTx | undefined {
    const queues = [...this.senders.values()];
    for (let i = queues.length - 1; i >= 0; i--) {
      const queue = queues[i] as SenderQueue;
      const next = this.contiguousEnd(queue);
      let highest: Entry | undefined;
      for (const [nonce, entry] of queue.byNonce) if (nonce > next && (highest === undefined || nonce > highest.tx.tx.nonce)) highest = entry;
      if (highest !== undefined) return highest.tx;
    }
    return undefined;
  }

  /** The first nonce after the run of waiting transactions that starts at the account's next nonce. */
  private contiguousEnd(queue: SenderQueue): number {
    let nonce = this.deps.account(queue.address).nonce;
    while (queue.byNonce.has(nonce)) nonce++;
    return nonce;
  }

  /** The nonce a sender's next transaction should carry, counting the ones already waiting. */
  nextNonce(address: Uint8Array): number {
    const queue = this.senders.get(bytesToHex(address));
    return queue === undefined ? this.deps.account(address).nonce : this.contiguousEnd(queue);
  }

  /** True if at least one transaction could go in the next block. */
  hasReady(): boolean {
    for (const queue of this.senders.values()) if (queue.byNonce.has(this.deps.account(queue.address).nonce)) return true;
    return false;
  }

  /** Ready transactions, at most `max`, each sender's in contiguous nonce order. */
  *ready(max: number): Generator<SignedTx> {
    let count = 0;
    for (const queue of this.senders.values()) {
      let nonce = this.deps.account(queue.address).nonce;
      for (let entry = queue.byNonce.get(nonce); entry !== undefined; entry = queue.byNonce.get(++nonce)) {
        if (count++ >= max) return;
        yield entry.tx;
      }
    }
  }

  remove(hash: Uint8Array): void {
    const id = bytesToHex(hash);
    const entry = this.byHash.get(id);
    if (entry === undefined) return;
    this.byHash.delete(id);
    this.totalBytes -= entry.tx.bytes.length;
    const senderId = bytesToHex(entry.tx.senderAddress);
    const queue = this.senders.get(senderId);
    if (queue === undefined) return;
    queue.byNonce.delete(entry.tx.tx.nonce);
    queue.fees -= entry.fee;
    if (queue.byNonce.size === 0) this.senders.delete(senderId);
  }

  /**
   * After a block: drops what it included, what its senders can no longer use (nonces below the
   * account's), and senders whose transactions have waited behind a gap for `futureTtlBlocks`.
   * One pass over the waiting senders, bounded by `txCountMax`.
   */
  afterCommit(included: readonly SignedTx[]): void {
    for (const tx of included) this.remove(tx.hash);
    const height = this.deps.height();
    for (const queue of [...this.senders.values()]) {
      const next = this.deps.account(queue.address).nonce;
      let oldestFuture = Infinity;
      for (const [nonce, entry] of [...queue.byNonce]) {
        if (nonce < next) this.remove(entry.tx.hash);
        else if (!queue.byNonce.has(next)) oldestFuture = Math.min(oldestFuture, entry.addedAt);
      }
      if (oldestFuture !== Infinity && height - oldestFuture >= this.opts.futureTtlBlocks) {
        this.deps.log.debug({ sender: bytesToHex(queue.address), txs: queue.byNonce.size }, 'Dropped transactions stuck behind a nonce gap');
        for (const entry of [...queue.byNonce.values()]) this.remove(entry.tx.hash);
      }
    }
  }
}
