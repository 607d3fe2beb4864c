/**
 * A local EVM node standing in for BNB Chain on the devnet: standard Ethereum JSON-RPC over HTTP on
 * 127.0.0.1 (fastify), so viem clients — the relayer, the deposit watcher, the CLI, wallets — talk to
 * it as to any chain. The chain itself is bridge/evmChain.ts; this file is the shell around it: the
 * HTTP server, the clock (block timestamps), interval mining, the one-at-a-time request queue and the
 * append-only block log that makes the chain survive a restart.
 *
 * Blocks: every eth_sendRawTransaction is mined at once in a block of its own (automine); with
 * `blockTimeMs` > 0 an empty block follows whenever that long passed without one, so the finalized
 * head ('safe' and 'finalized' tags: head − finalityDepth, never moving back) advances.
 *
 * Methods: web3_clientVersion, net_version, eth_chainId, eth_accounts ([]), eth_syncing, eth_blockNumber,
 * eth_getBlockByNumber/ByHash, eth_getBlockTransactionCountByNumber, eth_getBlockReceipts,
 * eth_getTransactionByHash, eth_getTransactionReceipt, eth_getLogs, eth_sendRawTransaction (legacy,
 * EIP-2930, EIP-1559), eth_call, eth_estimateGas, eth_getTransactionCount, eth_getBalance, eth_getCode,
 * eth_getStorageAt, eth_gasPrice, eth_maxPriorityFeePerGas, eth_feeHistory; evm_mine, evm_increaseTime,
 * evm_snapshot, evm_revert. No pending pool, no filters or subscriptions; CORS only for `corsOrigins`.
 */
import { open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import fastify, { type FastifyInstance } from 'fastify';
import fastifyCors from '@fastify/cors';
import type { Block } from '@ethereumjs/block';
import type { Hex } from 'viem';
import { assert, hexToBytes, nullLogger, type Logger } from '../lib/index.ts';
import {
  BLOCK_GAS_LIMIT,
  EvmChain,
  EvmRpcError,
  LOG_RANGE_MAX,
  RETAIN_BLOCKS_DEFAULT,
  SUGGESTED_TIP,
  toHex,
  type CallRequest,
  type LogMatch,
  type MinedBlock,
  type Prefund,
} from './evmChain.ts';

export type EvmNodeOpts = {
  /** eth_chainId (56 is BNB Chain, 97 its testnet; the devnet passes its own). */
  chainId: bigint;
  /** Default '127.0.0.1'. */
  host?: string;
  /** 0 = any free port. */
  port: number;
  /** Blocks behind the head that count as finalized ('finalized' and 'safe' block tags). */
  finalityDepth: number;
  /** Mine an empty block every this many ms when no tx arrives (0 = only on tx / evm_mine). */
  blockTimeMs: number;
  /** Accounts given a balance of native coin (BNB) in the genesis of the local chain. */
  prefund: Prefund;
  /** Append-only block log; on start the node replays it so state survives restarts. null = memory only. */
  logFile: string | null;
  logger?: Logger;
  /** Blocks kept in memory (default 100,000); older blocks, their txs and receipts answer null. */
  retainBlocks?: number;
  /**
   * Browser origins allowed to call the node (CORS), e.g. a dapp served on localhost; '*' for any.
   * Default none: a page the developer happens to visit cannot send evm_revert to the devnet.
   */
  corsOrigins?: readonly string[];
};

/** Most requests in one JSON-RPC batch. */
export const BATCH_MAX = 100;
/** Largest HTTP body accepted (a contract deployment is well under it). */
export const BODY_LIMIT_BYTES = 4 * 1024 * 1024;
/** Requests waiting for the VM at once; more are answered -32005 at once. */
export const QUEUE_MAX = 1_024;
/** Most blocks one mine() / evm_mine call produces, snapshots kept, blocks in one eth_feeHistory. */
export const MINE_MAX = 10_000;
export const SNAPSHOTS_MAX = 1_000;
export const FEE_HISTORY_MAX = 1_024;
const CLIENT_VERSION = 'tagger-evm-node/0.1.0 (@ethereumjs/vm 10.1.3)';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type RpcResponse = { jsonrpc: '2.0'; id: Json; result?: Json; error?: { code: number; message: string; data?: Json } };

const q = (n: bigint | number): Hex => `0x${n.toString(16)}`;

function invalidParams(message: string): EvmRpcError {
  return new EvmRpcError({ code: 'EVM_INVALID_PARAMS', rpcCode: -32602 }, message);
}

function wallClockSeconds(): bigint {
  return BigInt(Math.floor(Date.now() / 1000));
}

export class EvmNode {
  readonly url: string;
  private readonly chain: EvmChain;
  private readonly app: FastifyInstance;
  private readonly opts: EvmNodeOpts;
  private readonly logger: Logger;
  private readonly blockLog: BlockLog | null;
  private readonly snapshots = new Map<bigint, bigint>();
  private nextSnapshotId = 1n;
  private finalizedFloor = 0n;
  private timeOffset = 0n;
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  private constructor(chain: EvmChain, app: FastifyInstance, url: string, opts: EvmNodeOpts, blockLog: BlockLog | null, logger: Logger) {
    this.chain = chain;
    this.app = app;
    this.url = url;
    this.opts = opts;
    this.blockLog = blockLog;
    this.logger = logger;
  }

  static async start(opts: EvmNodeOpts): Promise<EvmNode> {
    if (!Number.isSafeInteger(opts.finalityDepth) || opts.finalityDepth < 0) throw invalidParams(`finalityDepth must be a non-negative integer`);
    if (!Number.isSafeInteger(opts.blockTimeMs) || opts.blockTimeMs < 0) throw invalidParams(`blockTimeMs must be a non-negative integer`);
    const retainBlocks = opts.retainBlocks ?? RETAIN_BLOCKS_DEFAULT;
    if (retainBlocks <= opts.finalityDepth) throw invalidParams('retainBlocks must exceed finalityDepth');
    const logger = (opts.logger ?? nullLogger).child({ module: 'evmNode' });
    const chain = await EvmChain.create({ chainId: opts.chainId, prefund: opts.prefund, retainBlocks });
    let blockLog: BlockLog | null = null;
    if (opts.logFile !== null) {
      const { log, entries, dropped } = await BlockLog.open(opts.logFile);
      blockLog = log;
      if (dropped) logger.warn({ file: opts.logFile }, 'ignored a torn last line of the block log');
      try {
        await replay(chain, entries);
      } catch (e) {
        await log.close();
        throw e;
      }
      logger.info({ file: opts.logFile, blocks: entries.length, head: chain.head().toString() }, 'replayed the block log');
    }
    const app = fastify({ logger: false, bodyLimit: BODY_LIMIT_BYTES });
    const host = opts.host ?? '127.0.0.1';
    // The node parses the body itself, so malformed JSON gets a JSON-RPC -32700 rather than an HTTP 400.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    const origins = opts.corsOrigins ?? [];
    if (origins.length > 0) {
      await app.register(fastifyCors, { origin: origins.includes('*') ? '*' : [...origins], methods: ['POST'], allowedHeaders: ['content-type'], maxAge: 600 });
    }
    app.setErrorHandler((error: { statusCode?: number; message: string }, _req, reply) => {
      void reply.code(error.statusCode ?? 500).send(errorResponse(null, -32600, error.message));
    });
    let node: EvmNode | null = null;
    app.post('/', async (req, reply) => {
      const body = typeof req.body === 'string' ? req.body : '';
      const response = node === null ? errorResponse(null, -32603, 'node is starting') : await node.handleBody(body);
      return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(response));
    });
    let address: string;
    try {
      address = await app.listen({ host, port: opts.port });
    } catch (e) {
      await blockLog?.close();
      throw e;
    }
    node = new EvmNode(chain, app, address, opts, blockLog, logger);
    node.scheduleEmptyBlock();
    logger.info({ url: address, chainId: opts.chainId.toString(), head: chain.head().toString() }, 'local EVM node listening');
    return node;
  }

  /** Latest block number. */
  head(): bigint {
    return this.chain.head();
  }

  /** The highest block counted final: head − finalityDepth, and never lower than before. */
  finalized(): bigint {
    const byDepth = this.chain.head() - BigInt(this.opts.finalityDepth);
    if (byDepth > this.finalizedFloor) this.finalizedFloor = byDepth;
    return this.finalizedFloor < this.chain.head() ? this.finalizedFloor : this.chain.head();
  }

  /** The clock of new blocks: wall-clock seconds plus what evm_increaseTime added. */
  private now(): bigint {
    return wallClockSeconds() + this.timeOffset;
  }

  /** Mines `count` empty blocks now. */
  async mine(count = 1): Promise<void> {
    if (!Number.isSafeInteger(count) || count < 1 || count > MINE_MAX) throw invalidParams(`count must be 1..${MINE_MAX}`);
    await this.serial(async () => {
      for (let i = 0; i < count; i++) await this.mineBlock(this.chain.nextTimestamp(this.now()), []);
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    await this.app.close();
    await this.tail;
    await this.blockLog?.close();
    this.logger.info({ head: this.chain.head().toString() }, 'local EVM node stopped');
  }

  /** One HTTP body: a single request or a batch. Never throws. */
  private async handleBody(body: string): Promise<RpcResponse | RpcResponse[]> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return errorResponse(null, -32700, 'parse error: the body is not valid JSON');
    }
    if (Array.isArray(parsed)) {
      if (parsed.length === 0) return errorResponse(null, -32600, 'invalid request: empty batch');
      if (parsed.length > BATCH_MAX) return errorResponse(null, -32600, `invalid request: a batch holds at most ${BATCH_MAX} requests, got ${parsed.length}`);
      const out: RpcResponse[] = [];
      for (const request of parsed) out.push(await this.handleRequest(request));
      return out;
    }
    return this.handleRequest(parsed);
  }

  private async handleRequest(request: unknown): Promise<RpcResponse> {
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      return errorResponse(null, -32600, 'invalid request: expected a JSON-RPC 2.0 request object');
    }
    const { jsonrpc, method, params, id: rawId } = request as Record<string, unknown>;
    const id: Json = typeof rawId === 'string' || typeof rawId === 'number' ? rawId : null;
    if (jsonrpc !== '2.0') return errorResponse(id, -32600, 'invalid request: jsonrpc must be "2.0"');
    if (typeof method !== 'string' || method.length === 0 || method.length > 100) return errorResponse(id, -32600, 'invalid request: method must be a non-empty string');
    if (params !== undefined && !Array.isArray(params)) return errorResponse(id, -32602, 'invalid params: params must be an array');
    const args: unknown[] = params ?? [];
    const handler = Object.hasOwn(this.methods, method) ? this.methods[method] : undefined;
    if (handler === undefined) return errorResponse(id, -32601, `the method ${method} does not exist/is not available`);
    try {
      const result = await this.serial(() => handler(args));
      return { jsonrpc: '2.0', id, result };
    } catch (e) {
      if (e instanceof EvmRpcError) {
        const data = e.type.code === 'EVM_EXECUTION_REVERTED' ? e.type.data : undefined;
        return errorResponse(id, e.type.rpcCode, e.message, data);
      }
      this.logger.error({ err: e, method }, 'JSON-RPC method failed');
      return errorResponse(id, -32603, `internal error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Runs `work` after every earlier request: the VM sees one operation at a time. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    if (this.queued >= QUEUE_MAX) {
      return Promise.reject(new EvmRpcError({ code: 'EVM_BUSY', rpcCode: -32005 }, `node busy: ${QUEUE_MAX} requests waiting`));
    }
    this.queued++;
    const run = this.tail.then(work).finally(() => {
      this.queued--;
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async mineBlock(timestamp: bigint, raws: Uint8Array[]): Promise<MinedBlock> {
    const parent = this.chain.head();
    const block = await this.chain.mineBlock(timestamp, raws);
    if (this.blockLog !== null) {
      try {
        await this.blockLog.append({ n: q(block.number), t: q(block.timestamp), h: block.hash, txs: raws.map(toHex) });
      } catch (e) {
        // A block not on disk is not mined: the state goes back to its parent.
        await this.chain.revertTo(parent);
        this.logger.error({ err: e }, 'could not append to the block log');
        throw new EvmRpcError({ code: 'EVM_INTERNAL', rpcCode: -32603 }, 'could not write the block log');
      }
    }
    this.scheduleEmptyBlock();
    return block;
  }

  private scheduleEmptyBlock(): void {
    if (this.opts.blockTimeMs === 0 || this.stopped) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.serial(async () => {
        if (!this.stopped) await this.mineBlock(this.chain.nextTimestamp(this.now()), []);
      }).catch((e: unknown) => {
        this.logger.warn({ err: e }, 'interval block not mined');
        this.scheduleEmptyBlock();
      });
    }, this.opts.blockTimeMs);
    this.timer.unref();
  }

  /** A block tag or number → a block number (may be above the head for numbers). */
  private blockNumberOf(tag: unknown): bigint {
    if (tag === undefined || tag === 'latest' || tag === 'pending') return this.chain.head();
    if (tag === 'earliest') return 0n;
    if (tag === 'safe' || tag === 'finalized') return this.finalized();
    if (typeof tag === 'object' && tag !== null && !Array.isArray(tag)) {
      const { blockNumber, blockHash } = tag as Record<string, unknown>;
      if (blockHash !== undefined) {
        const block = this.chain.blockByHash(hash32(blockHash, 'blockHash'));
        if (block === null) throw new EvmRpcError({ code: 'EVM_STATE_UNAVAILABLE', rpcCode: -32000, block: 'by hash' }, 'block not found');
        return block.number;
      }
      return this.blockNumberOf(blockNumber);
    }
    if (typeof tag === 'string') return quantity(tag, 'block');
    throw invalidParams(`invalid block tag ${JSON.stringify(tag)}: expected latest, pending, earliest, safe, finalized or a 0x number`);
  }

  /** The state at `tag`: runs `read` against it. */
  private async stateAt<T>(tag: unknown, read: () => Promise<T>): Promise<T> {
    const number = this.blockNumberOf(tag);
    if (number > this.chain.head()) {
      throw new EvmRpcError({ code: 'EVM_STATE_UNAVAILABLE', rpcCode: -32000, block: number.toString() }, `header not found: block ${number} is above the head ${this.chain.head()}`);
    }
    return this.chain.atBlock(number, read);
  }

  private readonly methods: Record<string, (params: unknown[]) => Promise<Json>> = {
    web3_clientVersion: async () => CLIENT_VERSION,
    net_version: async () => this.opts.chainId.toString(),
    eth_chainId: async () => q(this.opts.chainId),
    eth_accounts: async () => [],
    eth_syncing: async () => false,
    eth_blockNumber: async () => q(this.chain.head()),
    eth_gasPrice: async () => q(this.chain.nextBaseFee() + SUGGESTED_TIP),
    eth_maxPriorityFeePerGas: async () => q(SUGGESTED_TIP),

    eth_getBlockByNumber: async (p) => {
      const number = this.blockNumberOf(p[0]);
      const block = this.chain.blockByNumber(number);
      return block === null ? null : this.formatBlock(block, bool(p[1], 'full transactions'));
    },
    eth_getBlockByHash: async (p) => {
      const block = this.chain.blockByHash(hash32(p[0], 'block hash'));
      return block === null ? null : this.formatBlock(block, bool(p[1], 'full transactions'));
    },
    eth_getBlockTransactionCountByNumber: async (p) => {
      const block = this.chain.blockByNumber(this.blockNumberOf(p[0]));
      return block === null ? null : q(block.txs.length);
    },
    eth_getTransactionByHash: async (p) => {
      const at = this.chain.txByHash(hash32(p[0], 'transaction hash'));
      if (at === null) return null;
      return this.formatTx(this.chain.decodeBlock(at.block), at.block, at.index);
    },
    eth_getTransactionReceipt: async (p) => {
      const at = this.chain.txByHash(hash32(p[0], 'transaction hash'));
      return at === null ? null : formatReceipt(at.block, at.index);
    },
    eth_getBlockReceipts: async (p) => {
      const block = this.chain.blockByNumber(this.blockNumberOf(p[0]));
      return block === null ? null : block.txs.map((_, i) => formatReceipt(block, i));
    },
    eth_getLogs: async (p) => this.getLogs(p[0]),

    eth_sendRawTransaction: async (p) => {
      const raw = bytes(p[0], 'transaction');
      if (raw.length === 0) throw invalidParams('empty transaction');
      const block = await this.mineBlock(this.chain.nextTimestamp(this.now()), [raw]);
      const mined = block.txs[0];
      assert(mined !== undefined, 'the block holds the transaction');
      return mined.hash;
    },
    eth_call: async (p) => {
      const req = callRequest(p[0]);
      return this.stateAt(p[1], async () => (await this.chain.call(req, this.now())).returnData);
    },
    eth_estimateGas: async (p) => {
      const req = callRequest(p[0]);
      return this.stateAt(p[1], async () => q(await this.chain.estimateGas(req, this.now())));
    },
    eth_getTransactionCount: async (p) => {
      const who = address(p[0], 'address');
      return this.stateAt(p[1], async () => q(await this.chain.nonce(who)));
    },
    eth_getBalance: async (p) => {
      const who = address(p[0], 'address');
      return this.stateAt(p[1], async () => q(await this.chain.balance(who)));
    },
    eth_getCode: async (p) => {
      const who = address(p[0], 'address');
      return this.stateAt(p[1], () => this.chain.code(who));
    },
    eth_getStorageAt: async (p) => {
      const who = address(p[0], 'address');
      const slot = quantity(p[1], 'slot');
      if (slot >= 1n << 256n) throw invalidParams('slot must fit in 32 bytes');
      const key = hexToBytes(slot.toString(16).padStart(64, '0'));
      return this.stateAt(p[2], () => this.chain.storage(who, key));
    },
    eth_feeHistory: async (p) => this.feeHistory(p),

    evm_mine: async (p) => {
      const at = p[0] === undefined || p[0] === null ? null : quantity(p[0], 'timestamp');
      if (at !== null && at <= this.chain.headTimestamp()) throw invalidParams(`timestamp ${at} is not after the head's ${this.chain.headTimestamp()}`);
      await this.mineBlock(at ?? this.chain.nextTimestamp(this.now()), []);
      return '0x0';
    },
    evm_increaseTime: async (p) => {
      const seconds = quantity(p[0], 'seconds');
      if (seconds > 10n ** 10n) throw invalidParams('at most 10^10 seconds');
      this.timeOffset += seconds;
      return q(this.timeOffset);
    },
    evm_snapshot: async () => {
      const id = this.nextSnapshotId++;
      this.snapshots.set(id, this.chain.head());
      if (this.snapshots.size > SNAPSHOTS_MAX) this.snapshots.delete(this.snapshots.keys().next().value as bigint);
      return q(id);
    },
    evm_revert: async (p) => this.revert(quantity(p[0], 'snapshot id')),
  };

  /** evm_revert: back to the head at the snapshot, dropping later blocks and snapshots; refused below the finalized head. */
  private async revert(id: bigint): Promise<boolean> {
    const target = this.snapshots.get(id);
    if (target === undefined) return false;
    const finalized = this.finalized();
    if (target < finalized) {
      throw new EvmRpcError(
        { code: 'EVM_REVERT_REFUSED', rpcCode: -32000, target: target.toString(), finalized: finalized.toString() },
        `cannot revert to block ${target}: it is below the finalized block ${finalized}`,
      );
    }
    for (const later of [...this.snapshots.keys()]) if (later >= id) this.snapshots.delete(later);
    if (target === this.chain.head()) return true;
    await this.chain.revertTo(target);
    await this.blockLog?.truncate(target);
    this.logger.info({ head: target.toString() }, 'reverted to a snapshot');
    this.scheduleEmptyBlock();
    return true;
  }

  private getLogs(raw: unknown): Json {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalidParams('eth_getLogs takes one filter object');
    const f = raw as Record<string, unknown>;
    const addresses = f.address === undefined || f.address === null ? null : (Array.isArray(f.address) ? f.address : [f.address]).map((a) => address(a, 'address'));
    if (addresses !== null && addresses.length > 1000) throw invalidParams('at most 1000 addresses');
    if (f.topics !== undefined && f.topics !== null && !Array.isArray(f.topics)) throw invalidParams('topics must be an array');
    const rawTopics = (f.topics ?? []) as unknown[];
    if (rawTopics.length > 4) throw invalidParams('at most 4 topic positions');
    const topics = rawTopics.map((t) => {
      if (t === null) return null;
      if (Array.isArray(t)) {
        if (t.length > 100) throw invalidParams('at most 100 topics per position');
        return t.length === 0 ? null : t.map((x) => hash32(x, 'topic'));
      }
      return [hash32(t, 'topic')];
    });
    const out: LogMatch[] = [];
    if (f.blockHash !== undefined && f.blockHash !== null) {
      if (f.fromBlock !== undefined || f.toBlock !== undefined) throw invalidParams('blockHash excludes fromBlock and toBlock');
      const block = this.chain.blockByHash(hash32(f.blockHash, 'blockHash'));
      if (block === null) throw new EvmRpcError({ code: 'EVM_STATE_UNAVAILABLE', rpcCode: -32000, block: 'by hash' }, 'unknown block');
      this.chain.blockLogs(block, { addresses, topics }, out);
      return out.map(formatLog);
    }
    const head = this.chain.head();
    const from = this.blockNumberOf(f.fromBlock);
    const requestedTo = this.blockNumberOf(f.toBlock);
    if (from > requestedTo) throw invalidParams(`invalid block range: fromBlock ${from} is after toBlock ${requestedTo}`);
    if (requestedTo - from + 1n > BigInt(LOG_RANGE_MAX)) {
      throw new EvmRpcError(
        { code: 'EVM_LIMIT_EXCEEDED', rpcCode: -32005, limit: LOG_RANGE_MAX },
        `block range of ${requestedTo - from + 1n} blocks exceeds ${LOG_RANGE_MAX}: query a narrower range`,
      );
    }
    if (from > head) return [];
    const to = requestedTo > head ? head : requestedTo;
    return this.chain.logs({ fromBlock: from, toBlock: to, addresses, topics }).map(formatLog);
  }

  private feeHistory(p: unknown[]): Json {
    const count = quantity(p[0], 'blockCount');
    if (count < 1n || count > BigInt(FEE_HISTORY_MAX)) throw invalidParams(`blockCount must be 1..${FEE_HISTORY_MAX}`);
    let newest = this.blockNumberOf(p[1]);
    if (newest > this.chain.head()) newest = this.chain.head();
    const percentiles = p[2] === undefined || p[2] === null ? [] : p[2];
    if (!Array.isArray(percentiles) || percentiles.length > 100 || percentiles.some((x) => typeof x !== 'number' || x < 0 || x > 100)) {
      throw invalidParams('rewardPercentiles must be at most 100 numbers in 0..100');
    }
    let oldest = newest - count + 1n;
    if (oldest < this.chain.oldest()) oldest = this.chain.oldest();
    const baseFees: Hex[] = [];
    const ratios: number[] = [];
    const rewards: Hex[][] = [];
    for (let n = oldest; n <= newest; n++) {
      const record = this.chain.blockByNumber(n);
      if (record === null) continue;
      const baseFee = record.baseFee;
      baseFees.push(q(baseFee));
      ratios.push(Number(record.gasUsed) / Number(BLOCK_GAS_LIMIT));
      const tips = record.txs.map((tx) => tx.effectiveGasPrice - baseFee).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      rewards.push(percentiles.map((pc: number) => q(tips[Math.min(tips.length - 1, Math.floor((pc / 100) * tips.length))] ?? 0n)));
    }
    const next = this.chain.blockByNumber(newest + 1n);
    baseFees.push(q(next === null ? this.chain.nextBaseFee() : next.baseFee));
    const history: Record<string, Json> = { oldestBlock: q(oldest), baseFeePerGas: baseFees, gasUsedRatio: ratios };
    if (percentiles.length > 0) history.reward = rewards;
    return history;
  }

  private formatBlock(record: MinedBlock, full: boolean): Json {
    const block = this.chain.decodeBlock(record);
    const h = block.header;
    return {
      number: q(h.number),
      hash: record.hash,
      parentHash: toHex(h.parentHash),
      nonce: toHex(h.nonce),
      mixHash: toHex(h.mixHash),
      sha3Uncles: toHex(h.uncleHash),
      logsBloom: toHex(h.logsBloom),
      transactionsRoot: toHex(h.transactionsTrie),
      stateRoot: toHex(h.stateRoot),
      receiptsRoot: toHex(h.receiptTrie),
      miner: h.coinbase.toString(),
      difficulty: '0x0',
      totalDifficulty: '0x0',
      extraData: toHex(h.extraData),
      size: q(record.rlp.length),
      gasLimit: q(h.gasLimit),
      gasUsed: q(h.gasUsed),
      timestamp: q(h.timestamp),
      baseFeePerGas: q(h.baseFeePerGas ?? 0n),
      withdrawals: [],
      withdrawalsRoot: h.withdrawalsRoot === undefined ? null : toHex(h.withdrawalsRoot),
      blobGasUsed: q(h.blobGasUsed ?? 0n),
      excessBlobGas: q(h.excessBlobGas ?? 0n),
      parentBeaconBlockRoot: h.parentBeaconBlockRoot === undefined ? null : toHex(h.parentBeaconBlockRoot),
      uncles: [],
      transactions: full ? record.txs.map((_, i) => this.formatTx(block, record, i)) : record.txs.map((tx) => tx.hash),
    };
  }

  private formatTx(block: Block, record: MinedBlock, index: number): Json {
    const tx = block.transactions[index];
    const mined = record.txs[index];
    assert(tx !== undefined && mined !== undefined, `block ${record.number} has a transaction ${index}`);
    const out: Record<string, Json> = {
      hash: mined.hash,
      type: q(tx.type),
      blockHash: record.hash,
      blockNumber: q(record.number),
      transactionIndex: q(index),
      from: mined.from,
      to: mined.to,
      nonce: q(tx.nonce),
      gas: q(tx.gasLimit),
      gasPrice: q(mined.effectiveGasPrice),
      value: q(tx.value),
      input: toHex(tx.data),
      v: q(tx.v ?? 0n),
      r: q(tx.r ?? 0n),
      s: q(tx.s ?? 0n),
    };
    if (tx.type !== 0 || (tx.v !== undefined && tx.v > 28n)) out.chainId = q(this.opts.chainId);
    if (tx.type !== 0) {
      out.yParity = q(tx.v ?? 0n);
      const list = (tx as unknown as { accessList: [Uint8Array, Uint8Array[]][] }).accessList;
      out.accessList = list.map(([addr, keys]) => ({ address: toHex(addr), storageKeys: keys.map(toHex) }));
    }
    if ('maxFeePerGas' in tx) {
      out.maxFeePerGas = q(tx.maxFeePerGas);
      out.maxPriorityFeePerGas = q(tx.maxPriorityFeePerGas);
    }
    return out;
  }
}

function formatReceipt(record: MinedBlock, index: number): Json {
  const tx = record.txs[index];
  assert(tx !== undefined, `block ${record.number} has a transaction ${index}`);
  return {
    transactionHash: tx.hash,
    transactionIndex: q(index),
    blockHash: record.hash,
    blockNumber: q(record.number),
    from: tx.from,
    to: tx.to,
    cumulativeGasUsed: q(tx.cumulativeGasUsed),
    gasUsed: q(tx.gasUsed),
    effectiveGasPrice: q(tx.effectiveGasPrice),
    contractAddress: tx.contractAddress,
    logs: tx.logs.map((log, i) =>
      formatLog({ ...log, blockNumber: record.number, blockHash: record.hash, transactionHash: tx.hash, transactionIndex: index, logIndex: tx.firstLogIndex + i }),
    ),
    logsBloom: tx.logsBloom,
    status: q(tx.status),
    type: q(tx.type),
  };
}

function formatLog(log: LogMatch): Json {
  return {
    address: log.address,
    topics: log.topics,
    data: log.data,
    blockNumber: q(log.blockNumber),
    blockHash: log.blockHash,
    transactionHash: log.transactionHash,
    transactionIndex: q(log.transactionIndex),
    logIndex: q(log.logIndex),
    removed: false,
  };
}

function errorResponse(id: Json, code: number, message: string, data?: Hex): RpcResponse {
  return { jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } };
}

// --- parameters ---

function quantity(value: unknown, what: string): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(value)) throw invalidParams(`invalid ${what}: expected a 0x-prefixed hex number, got ${JSON.stringify(value) ?? 'nothing'}`);
  return BigInt(value);
}

function bytes(value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(value)) throw invalidParams(`invalid ${what}: expected 0x-prefixed hex bytes`);
  return hexToBytes(value.slice(2));
}

function address(value: unknown, what: string): Hex {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(value)) throw invalidParams(`invalid ${what}: expected a 0x-prefixed 20-byte address`);
  return value.toLowerCase() as Hex;
}

function hash32(value: unknown, what: string): Hex {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(value)) throw invalidParams(`invalid ${what}: expected a 0x-prefixed 32-byte hash`);
  return value.toLowerCase() as Hex;
}

function bool(value: unknown, what: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalidParams(`invalid ${what}: expected true or false`);
  return value;
}

function callRequest(value: unknown): CallRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidParams('expected a call object {from, to, data, value, gas}');
  const c = value as Record<string, unknown>;
  const input = c.input ?? c.data;
  const gas = c.gas === undefined || c.gas === null ? null : quantity(c.gas, 'gas');
  return {
    from: c.from === undefined || c.from === null ? null : address(c.from, 'from'),
    to: c.to === undefined || c.to === null ? null : address(c.to, 'to'),
    data: input === undefined || input === null ? '0x' : toHex(bytes(input, 'data')),
    value: c.value === undefined || c.value === null ? 0n : quantity(c.value, 'value'),
    gas,
  };
}

// --- the block log ---

type LogEntry = { n: Hex; t: Hex; h: Hex; txs: Hex[] };

function parseEntry(line: string): LogEntry | null {
  try {
    const e = JSON.parse(line) as Partial<LogEntry>;
    const hex = (x: unknown): x is Hex => typeof x === 'string' && /^0x[0-9a-f]*$/.test(x);
    if (!hex(e.n) || !hex(e.t) || !hex(e.h) || !Array.isArray(e.txs) || !e.txs.every(hex)) return null;
    return e as LogEntry;
  } catch {
    return null;
  }
}

function invalidLog(reason: string): EvmRpcError {
  return new EvmRpcError({ code: 'EVM_INTERNAL', rpcCode: -32603 }, `block log: ${reason}`);
}

/** Rebuilds the chain from the log; every block must come out with the hash the log recorded. */
async function replay(chain: EvmChain, entries: readonly LogEntry[]): Promise<void> {
  for (const entry of entries) {
    const number = BigInt(entry.n);
    if (number !== chain.head() + 1n) throw invalidLog(`block ${number} follows block ${chain.head()}`);
    let block: MinedBlock;
    try {
      block = await chain.mineBlock(
        BigInt(entry.t),
        entry.txs.map((tx) => hexToBytes(tx.slice(2))),
      );
    } catch (e) {
      throw invalidLog(`block ${number} does not replay (another chain id or prefund list?): ${e instanceof Error ? e.message : String(e)}`);
    }
    if (block.hash !== entry.h) {
      throw invalidLog(`block ${number} replays to ${block.hash}, the log says ${entry.h} (another chain id or prefund list?)`);
    }
  }
}

/** One JSON line per block, appended and fsynced before the block is answered; a revert rewrites the file. */
class BlockLog {
  private readonly path: string;
  private handle: FileHandle;

  private constructor(path: string, handle: FileHandle) {
    this.path = path;
    this.handle = handle;
  }

  /** Reads the entries; a torn last line (a kill during a write) is dropped and cut from the file. */
  static async open(path: string): Promise<{ log: BlockLog; entries: LogEntry[]; dropped: boolean }> {
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as { code?: string }).code !== 'ENOENT') throw e;
    }
    const lines = text.split('\n');
    const entries: LogEntry[] = [];
    let dropped = false;
    let lastLine = lines.length - 1;
    while (lastLine >= 0 && lines[lastLine] === '') lastLine--;
    for (const [i, line] of lines.entries()) {
      if (line === '') continue;
      const entry = parseEntry(line);
      if (entry === null || (i === lines.length - 1 && !text.endsWith('\n'))) {
        if (i !== lastLine) throw invalidLog(`line ${i + 1} is not a block entry`);
        dropped = true;
        continue;
      }
      entries.push(entry);
    }
    if (dropped) await writeEntries(path, entries);
    const handle = await open(path, 'a');
    return { log: new BlockLog(path, handle), entries, dropped };
  }

  async append(entry: LogEntry): Promise<void> {
    await this.handle.write(`${JSON.stringify(entry)}\n`);
    await this.handle.sync();
  }

  /** Keeps the entries of blocks up to `number`. */
  async truncate(number: bigint): Promise<void> {
    await this.handle.close();
    const text = await readFile(this.path, 'utf8');
    const kept = text
      .split('\n')
      .map(parseEntry)
      .filter((e): e is LogEntry => e !== null && BigInt(e.n) <= number);
    await writeEntries(this.path, kept);
    this.handle = await open(this.path, 'a');
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Writes the file anew: a temporary file, fsync, rename, fsync of the directory. */
async function writeEntries(path: string, entries: readonly LogEntry[]): Promise<void> {
  const tmp = `${path}.tmp`;
  const file = await open(tmp, 'w');
  try {
    await file.write(entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
