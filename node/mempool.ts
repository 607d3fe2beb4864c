/**
 * Transactions waiting for a block. Checks at the door — canonical decoding, chain id, size,
 * signature (native ed25519), nonce window, fee — so that invalid transactions never take space.
 * Bounded by count, bytes and per-sender count. Each sender's transactions come out in nonce
 * order, contiguous from the account's next nonce; senders in order of first arrival.
 */
import { ChainError, bytesToHex, type Logger } from '../lib/index.ts';
import { decodeSignedTx, requiredFee, TxError, verifyTxSignature, type SignedTx } from '../runtime/index.ts';
import type { Account, Params } from '../state/index.ts';

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
};

export const DEFAULT_MEMPOOL_OPTS: MempoolOpts = { txCountMax: 50_000, bytesMax: 64 * 1024 * 1024, perSenderMax: 256, nonceGapMax: 64 };

export type MempoolDeps = {
  chainId: string;
  params(): Params;
  account(address: Uint8Array): Account;
  log: Logger;
};

type SenderQueue = { address: Uint8Array; byNonce: Map<number, SignedTx> };

export class Mempool {
  private readonly opts: MempoolOpts;
  private readonly deps: MempoolDeps;
  private readonly byHash = new Map<string, SignedTx>();
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
    const id = bytesToHex(tx.hash);
    const existing = this.byHash.get(id);
    if (existing !== undefined) return { tx: existing, duplicate: true };

    if (tx.tx.chainId !== this.deps.chainId) {
      throw new TxError({ code: 'TX_WRONG_CHAIN', detail: `expected chain id ${this.deps.chainId}` }, `TX_WRONG_CHAIN: expected chain id ${this.deps.chainId}`);
    }
    const fee = requiredFee(params, tx.bytes.length);
    if (tx.tx.maxFee < fee) throw new TxError({ code: 'TX_FEE_TOO_LOW', detail: `fee is ${fee}` }, `TX_FEE_TOO_LOW: the fee for this transaction is ${fee} units, maxFee is ${tx.tx.maxFee}`);
    const account = this.deps.account(tx.senderAddress);
    if (tx.tx.nonce < account.nonce) {
      throw new MempoolError({ code: 'MEMPOOL_NONCE_TOO_LOW', expected: account.nonce, actual: tx.tx.nonce }, `nonce ${tx.tx.nonce} already used; next is ${account.nonce}`);
    }
    const nonceMax = account.nonce + this.opts.nonceGapMax;
    if (tx.tx.nonce > nonceMax) {
      throw new MempoolError({ code: 'MEMPOOL_NONCE_TOO_HIGH', max: nonceMax, actual: tx.tx.nonce }, `nonce ${tx.tx.nonce} is too far ahead; at most ${nonceMax}`);
    }
    if (account.balance < fee) {
      throw new TxError({ code: 'TX_CANNOT_PAY_FEE', detail: `fee is ${fee}` }, `TX_CANNOT_PAY_FEE: fee is ${fee} units, balance is ${account.balance}`);
    }
    const senderId = bytesToHex(tx.senderAddress);
    const queue = this.senders.get(senderId);
    if (queue?.byNonce.has(tx.tx.nonce) === true) {
      throw new MempoolError({ code: 'MEMPOOL_NONCE_TAKEN', nonce: tx.tx.nonce }, `another transaction with nonce ${tx.tx.nonce} is waiting`);
    }
    if ((queue?.byNonce.size ?? 0) >= this.opts.perSenderMax) {
      throw new MempoolError({ code: 'MEMPOOL_SENDER_FULL', sender: senderId, max: this.opts.perSenderMax }, `sender has ${this.opts.perSenderMax} transactions waiting`);
    }
    if (this.byHash.size >= this.opts.txCountMax || this.totalBytes + tx.bytes.length > this.opts.bytesMax) {
      throw new MempoolError({ code: 'MEMPOOL_FULL', txs: this.byHash.size, bytes: this.totalBytes }, 'mempool is full; try again later');
    }
    // The signature last: it is the most expensive check.
    if (!verifyTxSignature(tx)) throw new TxError({ code: 'TX_BAD_SIGNATURE', detail: 'signature does not verify' }, 'TX_BAD_SIGNATURE: signature does not verify');

    if (queue === undefined) this.senders.set(senderId, { address: tx.senderAddress, byNonce: new Map([[tx.tx.nonce, tx]]) });
    else queue.byNonce.set(tx.tx.nonce, tx);
    this.byHash.set(id, tx);
    this.totalBytes += tx.bytes.length;
    return { tx, duplicate: false };
  }

  /** Transactions ready for a block, at most `max`, each sender's in contiguous nonce order. */
  *ready(max: number): Generator<SignedTx> {
    let count = 0;
    for (const queue of this.senders.values()) {
      let nonce = this.deps.account(queue.address).nonce;
      for (let tx = queue.byNonce.get(nonce); tx !== undefined; tx = queue.byNonce.get(++nonce)) {
        if (count++ >= max) return;
        yield tx;
      }
    }
  }

  remove(hash: Uint8Array): void {
    const id = bytesToHex(hash);
    const tx = this.byHash.get(id);
    if (tx === undefined) return;
    this.byHash.delete(id);
    this.totalBytes -= tx.bytes.length;
    const senderId = bytesToHex(tx.senderAddress);
    const queue = this.senders.get(senderId);
    if (queue === undefined) return;
    queue.byNonce.delete(tx.tx.nonce);
    if (queue.byNonce.size === 0) this.senders.delete(senderId);
  }

  /** After a block: drops what it included and whatever its senders can no longer use. */
  afterCommit(included: readonly SignedTx[]): void {
    const touched = new Map<string, Uint8Array>();
    for (const tx of included) {
      this.remove(tx.hash);
      touched.set(bytesToHex(tx.senderAddress), tx.senderAddress);
    }
    for (const [senderId, address] of touched) {
      const queue = this.senders.get(senderId);
      if (queue === undefined) continue;
      const next = this.deps.account(address).nonce;
      for (const [nonce, tx] of [...queue.byNonce]) if (nonce < next) this.remove(tx.hash);
    }
  }
}
