/**
 * The deposit watcher every validator runs (issue 6, research/bridge.md §4b): it scans BNB Chain for
 * the bridge's `Deposited` events in finalized blocks only, checks each one against its transaction
 * receipt, and hands the validator the deposits to attest on Tagger chain, in nonce order.
 *
 * What it accepts, and why:
 * - blocks at or below the finalized head (the RPC's `finalized` tag, BNB Chain fast finality), or
 *   `latest - confirmations` where an endpoint has no such tag: an unfinalized log can be reorged away;
 * - logs emitted by the bridge address with the `Deposited` topic and no `removed` flag: another
 *   contract can emit the same event (a spoofed deposit), a removed log is a reorged one;
 * - logs whose receipt succeeded and contains the same log (address, topics, data, index) in the same
 *   block: a log the receipt does not back is not a deposit;
 * - one deposit per nonce: a second, different deposit with a nonce already seen is logged as a hard
 *   error and never reported (the first stays).
 * It never skips a block: any RPC failure throws a typed BridgeError before the cursor moves, so the
 * next poll scans the same blocks again (a failed eth_getLogs also halves the range asked for, in case
 * the endpoint refuses wide ones). Memory is bounded: at most PENDING_DEPOSITS_MAX deposits are
 * held; when full, it stops scanning until `prune` makes room.
 */
import { decodeEventLog, getAbiItem, toEventSelector, type Hex, type Log, type PublicClient, type TransactionReceipt } from 'viem';
import { bytesToHex, equalBytes, hexToBytes, type Logger } from '../lib/index.ts';
import { rpcCall } from './bnbClient.ts';
import { TAGGER_BRIDGE } from './contracts/artifacts.ts';
import { BridgeError } from './errors.ts';

export type ObservedDeposit = {
  nonce: number;
  /** The 20-byte Tagger chain address the TAG is minted to. */
  recipient: Uint8Array;
  amount: bigint;
  bnbTxHash: Uint8Array;
  logIndex: number;
  bnbBlock: bigint;
};

export type WatcherOpts = {
  client: PublicClient;
  /** The TaggerBridge contract address. */
  bridge: Hex;
  /** The first BNB Chain block to scan (the bridge's deployment block). */
  fromBlock: bigint;
  /** null: use the RPC's 'finalized' block tag (BNB Chain fast finality); n: latest - n. */
  confirmations: number | null;
  /** Blocks per eth_getLogs call; default 2,000. */
  chunkBlocks?: number;
  /** Deposits held at most; default PENDING_DEPOSITS_MAX. */
  pendingMax?: number;
  logger: Logger;
};

export const DEPOSITED_EVENT = getAbiItem({ abi: TAGGER_BRIDGE.abi, name: 'Deposited' });
export const DEPOSITED_TOPIC: Hex = toEventSelector(DEPOSITED_EVENT);
export const PENDING_DEPOSITS_MAX = 65_536;
export const DEFAULT_CHUNK_BLOCKS = 2_000;
/** Tagger chain keeps deposit nonces as u32. */
const NONCE_MAX = 2 ** 32 - 1;

type RawLog = Log<bigint, number, false>;

/** True if two observations are the same deposit (the fields Tagger chain attests). */
function sameDeposit(a: ObservedDeposit, b: ObservedDeposit): boolean {
  return a.nonce === b.nonce && a.amount === b.amount && a.logIndex === b.logIndex && equalBytes(a.recipient, b.recipient) && equalBytes(a.bnbTxHash, b.bnbTxHash);
}

function describe(d: ObservedDeposit): string {
  return `tx 0x${bytesToHex(d.bnbTxHash)} log ${d.logIndex} block ${d.bnbBlock}: ${d.amount} to 0x${bytesToHex(d.recipient)}`;
}

function sameLog(a: { address: Hex; topics: readonly Hex[]; data: Hex; logIndex: number | null }, b: RawLog): boolean {
  return (
    a.logIndex === b.logIndex &&
    a.address.toLowerCase() === b.address.toLowerCase() &&
    a.data.toLowerCase() === b.data.toLowerCase() &&
    a.topics.length === b.topics.length &&
    a.topics.every((t, i) => t.toLowerCase() === b.topics[i]?.toLowerCase())
  );
}

export class DepositWatcher {
  private readonly client: PublicClient;
  private readonly bridge: Hex;
  private readonly confirmations: number | null;
  private readonly chunkBlocks: bigint;
  /** Blocks asked for in the next eth_getLogs: halved after a failed one (an endpoint refusing a wide range), doubled back after a success. */
  private chunk: bigint;
  private readonly pendingMax: number;
  private readonly log: Logger;
  /** The last block scanned: every block up to it has been read and its deposits kept. */
  private scannedThrough: bigint;
  /** Nonces below this were pruned (minted on Tagger chain): seeing one again is not news. */
  private prunedBelow = 0;
  private readonly deposits = new Map<number, ObservedDeposit>();

  constructor(opts: WatcherOpts) {
    this.client = opts.client;
    this.bridge = opts.bridge.toLowerCase() as Hex;
    this.confirmations = opts.confirmations;
    this.chunkBlocks = BigInt(opts.chunkBlocks ?? DEFAULT_CHUNK_BLOCKS);
    this.chunk = this.chunkBlocks;
    this.pendingMax = opts.pendingMax ?? PENDING_DEPOSITS_MAX;
    this.log = opts.logger.child({ module: 'depositWatcher' });
    this.scannedThrough = opts.fromBlock - 1n;
    if (this.chunkBlocks < 1n || this.pendingMax < 1 || (this.confirmations !== null && this.confirmations < 0)) {
      throw new BridgeError({ code: 'BRIDGE_OUT_OF_RANGE', field: 'watcher options', value: `${this.chunkBlocks}/${this.pendingMax}/${this.confirmations}` }, 'bad watcher options');
    }
  }

  /** The last BNB Chain block scanned. */
  get cursor(): bigint {
    return this.scannedThrough;
  }

  /** Deposits held (seen and not pruned). */
  get size(): number {
    return this.deposits.size;
  }

  /**
   * One bounded scan step: reads the finalized head, scans (cursor, min(head, cursor + chunk)] and
   * returns the deposits seen for the first time, in nonce order. Throws a BridgeError on any RPC
   * failure, with the cursor and the held deposits unchanged.
   */
  async poll(): Promise<ObservedDeposit[]> {
    const head = await this.finalizedHead();
    if (head <= this.scannedThrough) return [];
    const from = this.scannedThrough + 1n;
    const to = head < this.scannedThrough + this.chunk ? head : this.scannedThrough + this.chunk;
    let logs;
    try {
      logs = await rpcCall('eth_getLogs', () => this.client.getLogs({ address: this.bridge, event: DEPOSITED_EVENT, fromBlock: from, toBlock: to, strict: true }));
    } catch (e: unknown) {
      if (this.chunk > 1n) this.chunk /= 2n;
      throw e;
    }
    if (this.chunk < this.chunkBlocks) this.chunk = this.chunk * 2n < this.chunkBlocks ? this.chunk * 2n : this.chunkBlocks;
    const ordered = [...(logs as RawLog[])].sort((a, b) => (a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1));

    // Everything is staged and committed at the end, so a failure half-way changes nothing.
    const staged = new Map<number, ObservedDeposit>();
    const receipts = new Map<string, TransactionReceipt>();
    let through = to;
    for (const raw of ordered) {
      const d = await this.verify(raw, from, to, receipts);
      if (d === null) continue;
      const known = this.deposits.get(d.nonce) ?? staged.get(d.nonce);
      if (known !== undefined) {
        if (!sameDeposit(known, d)) this.conflict(known, d);
        continue;
      }
      if (d.nonce < this.prunedBelow) {
        this.log.debug({ nonce: d.nonce }, 'Deposit already minted and pruned');
        continue;
      }
      if (this.deposits.size + staged.size >= this.pendingMax) {
        // Full: keep only whole blocks and stop before this one; it is scanned again after a prune.
        through = d.bnbBlock - 1n;
        for (const [nonce, s] of staged) if (s.bnbBlock > through) staged.delete(nonce);
        this.log.warn({ held: this.deposits.size, block: d.bnbBlock }, 'Deposit watcher full: waiting for deposits to be minted');
        break;
      }
      staged.set(d.nonce, d);
    }
    for (const [nonce, d] of staged) this.deposits.set(nonce, d);
    if (through > this.scannedThrough) this.scannedThrough = through;
    const fresh = [...staged.values()].sort((a, b) => a.nonce - b.nonce);
    if (fresh.length > 0) this.log.info({ from: from.toString(), to: through.toString(), nonces: fresh.map((d) => d.nonce) }, 'Deposits observed');
    return fresh;
  }

  /** Deposits seen with nonce >= from, in nonce order, at most `limit`, contiguous only (stops at a gap). */
  pending(from: number, limit: number): ObservedDeposit[] {
    const out: ObservedDeposit[] = [];
    for (let nonce = from; out.length < limit; nonce++) {
      const d = this.deposits.get(nonce);
      if (d === undefined) break;
      out.push(d);
    }
    return out;
  }

  /** Forgets deposits with nonce < `belowNonce` (minted on Tagger chain); keeps memory bounded. */
  prune(belowNonce: number): void {
    if (belowNonce <= this.prunedBelow) return;
    this.prunedBelow = belowNonce;
    for (const nonce of [...this.deposits.keys()]) if (nonce < belowNonce) this.deposits.delete(nonce);
  }

  /** The highest block this watcher may read: finalized, or `latest - confirmations`. -1 if none yet. */
  private async finalizedHead(): Promise<bigint> {
    const confirmations = this.confirmations;
    if (confirmations === null) {
      const block = await rpcCall('eth_getBlockByNumber(finalized)', () => this.client.getBlock({ blockTag: 'finalized' }));
      return block.number;
    }
    const latest = await rpcCall('eth_blockNumber', () => this.client.getBlockNumber({ cacheTime: 0 }));
    return latest - BigInt(confirmations);
  }

  /**
   * The deposit a log records, or null if it is not one (logged). Throws when the RPC contradicts
   * itself (the deposit may be real: retry rather than skip).
   */
  private async verify(raw: RawLog, from: bigint, to: bigint, receipts: Map<string, TransactionReceipt>): Promise<ObservedDeposit | null> {
    const where = { tx: raw.transactionHash, logIndex: raw.logIndex, block: String(raw.blockNumber) };
    if (raw.removed) {
      this.log.warn(where, 'Ignored a removed (reorged) Deposited log');
      return null;
    }
    if (raw.address.toLowerCase() !== this.bridge || raw.topics[0]?.toLowerCase() !== DEPOSITED_TOPIC) {
      this.log.warn({ ...where, address: raw.address }, 'Ignored a log not emitted by the bridge as Deposited');
      return null;
    }
    if (raw.blockNumber < from || raw.blockNumber > to) {
      throw new BridgeError({ code: 'BRIDGE_RPC_INCONSISTENT', what: `log in block ${raw.blockNumber} outside ${from}..${to}` }, 'eth_getLogs answered outside the range');
    }
    let args: { nonce: bigint; recipient: Hex; amount: bigint };
    try {
      args = decodeEventLog({ abi: [DEPOSITED_EVENT], topics: raw.topics, data: raw.data, strict: true }).args;
    } catch {
      this.log.warn(where, 'Ignored an undecodable Deposited log');
      return null;
    }
    if (args.nonce < 1n || args.nonce > BigInt(NONCE_MAX) || args.amount <= 0n || /^0x0{40}$/.test(args.recipient)) {
      this.log.error({ ...where, nonce: String(args.nonce), amount: String(args.amount) }, 'Ignored a Deposited log out of range');
      return null;
    }

    let receipt = receipts.get(raw.transactionHash);
    if (receipt === undefined) {
      receipt = await rpcCall('eth_getTransactionReceipt', () => this.client.getTransactionReceipt({ hash: raw.transactionHash }));
      receipts.set(raw.transactionHash, receipt);
    }
    if (receipt.blockHash.toLowerCase() !== raw.blockHash.toLowerCase() || receipt.blockNumber !== raw.blockNumber) {
      throw new BridgeError(
        { code: 'BRIDGE_RPC_INCONSISTENT', what: `receipt of ${raw.transactionHash} in block ${receipt.blockHash}, log in ${raw.blockHash}` },
        'a deposit log and its receipt name different blocks',
      );
    }
    if (receipt.status !== 'success') {
      this.log.warn(where, 'Ignored a Deposited log of a reverted transaction');
      return null;
    }
    if (!receipt.logs.some((l) => sameLog(l, raw))) {
      this.log.warn(where, 'Ignored a Deposited log its receipt does not contain');
      return null;
    }
    return {
      nonce: Number(args.nonce),
      recipient: hexToBytes(args.recipient),
      amount: args.amount,
      bnbTxHash: hexToBytes(raw.transactionHash),
      logIndex: raw.logIndex,
      bnbBlock: raw.blockNumber,
    };
  }

  private conflict(first: ObservedDeposit, second: ObservedDeposit): void {
    const err = new BridgeError(
      { code: 'BRIDGE_DEPOSIT_CONFLICT', nonce: first.nonce, first: describe(first), second: describe(second) },
      `two different deposits with nonce ${first.nonce}`,
    );
    this.log.error({ err: err.toJSON() }, 'Deposit nonce seen twice with different content: the first is kept');
  }
}
