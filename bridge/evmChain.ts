/**
 * The chain behind the devnet's local EVM node (bridge/evmNode.ts): a genesis with prefunded
 * accounts, blocks built with @ethereumjs/vm's BlockBuilder (hardfork Cancun), the blocks, transactions
 * and receipts of the last `retainBlocks` blocks, log queries, calls and gas estimates, and reverts to
 * an earlier block. Pure apart from the VM's in-memory state: no I/O, no clock — every timestamp comes
 * from the caller, so replaying the same (timestamp, transactions) list gives the same block hashes.
 * The caller serialises access: one operation at a time.
 */
import { createBlock, createBlockFromRLP, type Block } from '@ethereumjs/block';
import { createCustomCommon, Hardfork, Mainnet, type Common } from '@ethereumjs/common';
import { createTx, createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx';
import { KECCAK256_RLP, KECCAK256_RLP_ARRAY, createAccount, createAddressFromString, type Address } from '@ethereumjs/util';
import { buildBlock, createVM, type RunTxResult, type VM } from '@ethereumjs/vm';
import { toRlp, type Hex } from 'viem';
import { ChainError, bytesToHex, equalBytes, hexToBytes, keccak256 } from '../lib/index.ts';

/** Failures the node answers with a JSON-RPC error; `rpcCode` is the JSON-RPC error code. */
export type EvmRpcErrorType =
  | { code: 'EVM_PARSE_ERROR'; rpcCode: -32700 }
  | { code: 'EVM_INVALID_REQUEST'; rpcCode: -32600 }
  | { code: 'EVM_METHOD_NOT_FOUND'; rpcCode: -32601; method: string }
  | { code: 'EVM_INVALID_PARAMS'; rpcCode: -32602 }
  | { code: 'EVM_TX_REJECTED'; rpcCode: -32003 }
  | { code: 'EVM_EXECUTION_REVERTED'; rpcCode: 3; data: Hex }
  | { code: 'EVM_EXECUTION_FAILED'; rpcCode: -32015; reason: string }
  | { code: 'EVM_LIMIT_EXCEEDED'; rpcCode: -32005; limit: number }
  | { code: 'EVM_STATE_UNAVAILABLE'; rpcCode: -32000; block: string }
  | { code: 'EVM_REVERT_REFUSED'; rpcCode: -32000; target: string; finalized: string }
  | { code: 'EVM_BUSY'; rpcCode: -32005 }
  | { code: 'EVM_INTERNAL'; rpcCode: -32603 };

export class EvmRpcError extends ChainError<EvmRpcErrorType> {}

/** Blocks kept in memory by default; older blocks, their transactions and receipts answer null. */
export const RETAIN_BLOCKS_DEFAULT = 100_000;
export const BLOCK_GAS_LIMIT = 30_000_000n;
/** Base fee of block 0; later blocks follow EIP-1559 from their parent. */
export const GENESIS_BASE_FEE = 1_000_000_000n;
/** The tip eth_maxPriorityFeePerGas suggests (1 gwei). */
export const SUGGESTED_TIP = 1_000_000_000n;
/** eth_getLogs: widest block range and most logs per query. */
export const LOG_RANGE_MAX = 10_000;
export const LOG_RESULTS_MAX = 10_000;

export type MinedLog = { address: Hex; topics: Hex[]; data: Hex };

export type MinedTx = {
  hash: Hex;
  from: Hex;
  to: Hex | null;
  type: number;
  status: 0 | 1;
  gasUsed: bigint;
  cumulativeGasUsed: bigint;
  effectiveGasPrice: bigint;
  contractAddress: Hex | null;
  logsBloom: Hex;
  logs: MinedLog[];
  /** logIndex of this transaction's first log within its block. */
  firstLogIndex: number;
};

export type MinedBlock = {
  number: bigint;
  hash: Hex;
  timestamp: bigint;
  gasUsed: bigint;
  baseFee: bigint;
  stateRoot: Uint8Array;
  /** The serialized block, decoded again when a reply needs the header or the transactions. */
  rlp: Uint8Array;
  txs: MinedTx[];
};

export type Prefund = ReadonlyArray<{ address: `0x${string}`; balance: bigint }>;

export type EvmChainOpts = {
  chainId: bigint;
  prefund: Prefund;
  retainBlocks?: number;
};

export type CallRequest = {
  from: Hex | null;
  to: Hex | null;
  data: Hex;
  value: bigint;
  gas: bigint | null;
};

export type LogFilter = {
  fromBlock: bigint;
  toBlock: bigint;
  addresses: Hex[] | null;
  /** Per position: null matches anything, else one of the listed topics. */
  topics: (Hex[] | null)[];
};

export type LogMatch = MinedLog & {
  blockNumber: bigint;
  blockHash: Hex;
  transactionHash: Hex;
  transactionIndex: number;
  logIndex: number;
};

export const toHex = (bytes: Uint8Array): Hex => `0x${bytesToHex(bytes)}`;
const fromHex = (hex: Hex): Uint8Array => hexToBytes(hex.slice(2));

/**
 * A rejected transaction, worded as geth words it where viem maps the words to a typed error
 * (NonceTooLowError, InsufficientFundsError, FeeCapTooLowError, IntrinsicGasTooLowError…), with
 * ethereumjs's details after.
 */
function invalidTx(message: string): EvmRpcError {
  return new EvmRpcError({ code: 'EVM_TX_REJECTED', rpcCode: -32003 }, `${gethWords(message)}${message}`);
}

function gethWords(message: string): string {
  const nonce = /account has nonce of: (\d+) tx has nonce of: (\d+)/.exec(message);
  if (nonce !== null) return BigInt(nonce[2] ?? '0') < BigInt(nonce[1] ?? '0') ? 'nonce too low: ' : 'nonce too high: ';
  if (message.includes("doesn't have enough funds")) return 'insufficient funds for gas * price + value: ';
  if (message.includes("less than the block's baseFeePerGas")) return 'max fee per gas less than block base fee: ';
  if (message.includes('gasLimit is too low')) return 'intrinsic gas too low: ';
  if (message.includes('higher gas limit than the')) return 'exceeds block gas limit: ';
  if (message.includes('Invalid Signature')) return 'invalid sender: ';
  return '';
}

function errorMessage(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  // ethereumjs appends a dump of the block and tx after " -> "; the first part says what failed.
  const head = message.split(' (block number=')[0] ?? message;
  return (head.split(' -> ')[0] ?? head).slice(0, 300);
}

export class EvmChain {
  readonly chainId: bigint;
  readonly common: Common;
  private readonly vm: VM;
  private readonly retain: number;
  private readonly blocks = new Map<bigint, MinedBlock>();
  private readonly byHash = new Map<Hex, bigint>();
  private readonly txIndex = new Map<Hex, { block: bigint; index: number }>();
  /** The head as an ethereumjs block, decoded when first needed (empty blocks are made without one). */
  private headBlockCache: Block | null;
  private headRecord: MinedBlock;

  private constructor(vm: VM, common: Common, chainId: bigint, retain: number, genesis: Block, genesisRecord: MinedBlock) {
    this.vm = vm;
    this.common = common;
    this.chainId = chainId;
    this.retain = retain;
    this.headBlockCache = genesis;
    this.headRecord = genesisRecord;
    this.store(genesisRecord);
  }

  /** Genesis: block 0 at timestamp 0 over the prefunded accounts, so it is the same on every start. */
  static async create(opts: EvmChainOpts): Promise<EvmChain> {
    const retain = opts.retainBlocks ?? RETAIN_BLOCKS_DEFAULT;
    if (!Number.isSafeInteger(retain) || retain < 16) {
      throw new EvmRpcError({ code: 'EVM_INVALID_PARAMS', rpcCode: -32602 }, `retainBlocks must be an integer >= 16, got ${retain}`);
    }
    const common = createCustomCommon({ chainId: Number(opts.chainId) }, Mainnet, { hardfork: Hardfork.Cancun });
    // BLOCKHASH reads this chain's retained blocks (the EVM itself limits it to the last 256).
    const hashes: { of: (n: number) => Uint8Array } = { of: () => new Uint8Array(32) };
    const blockchain = {
      getBlock: async (n: number) => ({ hash: () => hashes.of(n) }),
      putBlock: async () => undefined,
      shallowCopy() {
        return blockchain;
      },
    };
    const vm = await createVM({ common, blockchain });
    for (const { address, balance } of opts.prefund) {
      await vm.stateManager.putAccount(createAddressFromString(address), createAccount({ nonce: 0n, balance }));
    }
    const stateRoot = await vm.stateManager.getStateRoot();
    const genesis = createBlock(
      { header: { number: 0n, timestamp: 0n, gasLimit: BLOCK_GAS_LIMIT, baseFeePerGas: GENESIS_BASE_FEE, stateRoot }, withdrawals: [] },
      { common },
    );
    const record: MinedBlock = {
      number: 0n,
      hash: toHex(genesis.hash()),
      timestamp: 0n,
      gasUsed: 0n,
      baseFee: GENESIS_BASE_FEE,
      stateRoot,
      rlp: genesis.serialize(),
      txs: [],
    };
    const chain = new EvmChain(vm, common, opts.chainId, retain, genesis, record);
    hashes.of = (n) => {
      const block = chain.blockByNumber(BigInt(n));
      return block === null ? new Uint8Array(32) : fromHex(block.hash);
    };
    return chain;
  }

  head(): bigint {
    return this.headRecord.number;
  }

  headHash(): Hex {
    return this.headRecord.hash;
  }

  headTimestamp(): bigint {
    return this.headRecord.timestamp;
  }

  /** Oldest block still answered (older ones were dropped by retention). */
  oldest(): bigint {
    const oldest = this.head() - BigInt(this.retain) + 1n;
    return oldest > 0n ? oldest : 0n;
  }

  /** EIP-1559 (elasticity 2, change denominator 8), as @ethereumjs/block's calcNextBaseFee. */
  nextBaseFee(): bigint {
    const { gasUsed, baseFee } = this.headRecord;
    const target = BLOCK_GAS_LIMIT / 2n;
    if (gasUsed === target) return baseFee;
    if (gasUsed > target) {
      const delta = (baseFee * (gasUsed - target)) / target / 8n;
      return baseFee + (delta > 1n ? delta : 1n);
    }
    const delta = (baseFee * (target - gasUsed)) / target / 8n;
    return baseFee - delta > 0n ? baseFee - delta : 0n;
  }

  private headBlock(): Block {
    this.headBlockCache ??= createBlockFromRLP(this.headRecord.rlp, { common: this.common });
    return this.headBlockCache;
  }

  /** Timestamp of the next block: `now`, but always after its parent's. */
  nextTimestamp(nowSeconds: bigint): bigint {
    const after = this.headRecord.timestamp + 1n;
    return nowSeconds > after ? nowSeconds : after;
  }

  /** Decodes and checks a raw signed transaction; throws EVM_TX_REJECTED (never mines it) when it is invalid. */
  decodeTx(raw: Uint8Array): TypedTransaction {
    let tx: TypedTransaction;
    try {
      tx = createTxFromRLP(raw, { common: this.common });
    } catch (e) {
      const message = errorMessage(e);
      if (/chain ?id/i.test(message)) throw invalidTx(`invalid transaction: wrong chain id (this chain is ${this.chainId})`);
      throw invalidTx(`invalid transaction: ${message}`);
    }
    if (tx.type === 3 || tx.type === 4) throw invalidTx(`transaction type ${tx.type} is not accepted by this node`);
    if (!tx.isSigned()) throw invalidTx('transaction is not signed');
    const errors = tx.getValidationErrors();
    if (errors.length > 0) throw invalidTx(`invalid transaction: ${errors.join('; ')}`);
    try {
      tx.getSenderAddress();
    } catch (e) {
      throw invalidTx(`invalid signature: ${errorMessage(e)}`);
    }
    return tx;
  }

  /**
   * Builds, executes and appends one block with `rawTxs` in order. A reverted transaction is mined with
   * status 0; an invalid one (nonce, funds, fee, gas, signature, chain id) rejects the whole call and
   * nothing is mined.
   */
  async mineBlock(timestamp: bigint, rawTxs: readonly Uint8Array[]): Promise<MinedBlock> {
    if (timestamp <= this.headRecord.timestamp) {
      throw new EvmRpcError({ code: 'EVM_INVALID_PARAMS', rpcCode: -32602 }, `timestamp ${timestamp} is not after the head's ${this.headRecord.timestamp}`);
    }
    if (rawTxs.length === 0) return this.appendEmpty(timestamp);
    const txs = rawTxs.map((raw) => this.decodeTx(raw));
    const builder = await buildBlock(this.vm, {
      parentBlock: this.headBlock(),
      headerData: { timestamp, gasLimit: BLOCK_GAS_LIMIT },
      withdrawals: [],
      blockOpts: { putBlockIntoBlockchain: false },
    });
    const executed: { tx: TypedTransaction; result: RunTxResult }[] = [];
    for (const tx of txs) {
      try {
        executed.push({ tx, result: await builder.addTransaction(tx) });
      } catch (e) {
        await builder.revert();
        throw invalidTx(errorMessage(e));
      }
    }
    const { block } = await builder.build();
    const baseFee = block.header.baseFeePerGas ?? 0n;
    let logIndex = 0;
    const mined: MinedTx[] = executed.map(({ tx, result }) => {
      const logs = result.receipt.logs.map(([address, topics, data]): MinedLog => ({ address: toHex(address), topics: topics.map(toHex), data: toHex(data) }));
      const firstLogIndex = logIndex;
      logIndex += logs.length;
      const effectiveGasPrice = 'maxFeePerGas' in tx ? min(tx.maxFeePerGas, baseFee + tx.maxPriorityFeePerGas) : (tx as { gasPrice: bigint }).gasPrice;
      const status: 0 | 1 = result.execResult.exceptionError === undefined ? 1 : 0;
      return {
        hash: toHex(tx.hash()),
        from: tx.getSenderAddress().toString(),
        to: tx.to === undefined ? null : tx.to.toString(),
        type: tx.type,
        status,
        gasUsed: result.totalGasSpent,
        cumulativeGasUsed: result.receipt.cumulativeBlockGasUsed,
        effectiveGasPrice,
        contractAddress: result.createdAddress === undefined ? null : result.createdAddress.toString(),
        logsBloom: toHex(result.bloom.bitvector),
        logs: status === 1 ? logs : [],
        firstLogIndex,
      };
    });
    return this.append(block, mined);
  }

  /**
   * The block BlockBuilder builds without transactions, encoded here directly (an ethereumjs Block costs
   * ten times more, which interval mining and replaying a long log feel): the parent's state root (no
   * system contract runs: the EIP-4788 beacon-roots contract is not deployed here), empty tries and
   * bloom, the next base fee, no blob gas ever (blob transactions are refused). The Cancun header
   * field order is @ethereumjs/block's BlockHeader.raw(); a test rebuilds these blocks with it.
   */
  private appendEmpty(timestamp: bigint): MinedBlock {
    const parent = this.headRecord;
    const number = parent.number + 1n;
    const baseFee = this.nextBaseFee();
    const header = [
      fromHex(parent.hash),
      KECCAK256_RLP_ARRAY,
      new Uint8Array(20), // coinbase
      parent.stateRoot,
      KECCAK256_RLP, // transactions
      KECCAK256_RLP, // receipts
      new Uint8Array(256), // logs bloom
      unpadded(0n), // difficulty
      unpadded(number),
      unpadded(BLOCK_GAS_LIMIT),
      unpadded(0n), // gas used
      unpadded(timestamp),
      new Uint8Array(0), // extra data
      new Uint8Array(32), // mix hash
      new Uint8Array(8), // nonce
      unpadded(baseFee),
      KECCAK256_RLP, // withdrawals
      unpadded(0n), // blob gas used
      unpadded(0n), // excess blob gas
      new Uint8Array(32), // parent beacon block root
    ];
    const hash = toHex(keccak256(toRlp(header, 'bytes')));
    const rlp = toRlp([header, [], [], []], 'bytes');
    const record: MinedBlock = { number, hash, timestamp, gasUsed: 0n, baseFee, stateRoot: parent.stateRoot, rlp, txs: [] };
    this.headBlockCache = null;
    this.headRecord = record;
    this.store(record);
    return record;
  }

  private append(block: Block, txs: MinedTx[]): MinedBlock {
    const h = block.header;
    const stateRoot = equalBytes(h.stateRoot, this.headRecord.stateRoot) ? this.headRecord.stateRoot : h.stateRoot;
    const record: MinedBlock = {
      number: h.number,
      hash: toHex(block.hash()),
      timestamp: h.timestamp,
      gasUsed: h.gasUsed,
      baseFee: h.baseFeePerGas ?? 0n,
      stateRoot,
      rlp: block.serialize(),
      txs,
    };
    this.headBlockCache = block;
    this.headRecord = record;
    this.store(record);
    return record;
  }

  /** Drops every block after `number` and rolls the state back to that block's. */
  async revertTo(number: bigint): Promise<void> {
    const target = this.blocks.get(number);
    if (target === undefined || number > this.head()) {
      throw new EvmRpcError({ code: 'EVM_STATE_UNAVAILABLE', rpcCode: -32000, block: number.toString() }, `block ${number} is not retained`);
    }
    for (let n = this.head(); n > number; n--) {
      const dropped = this.blocks.get(n);
      if (dropped === undefined) continue;
      this.blocks.delete(n);
      this.byHash.delete(dropped.hash);
      for (const tx of dropped.txs) this.txIndex.delete(tx.hash);
    }
    await this.vm.stateManager.setStateRoot(target.stateRoot);
    this.headRecord = target;
    this.headBlockCache = null;
  }

  blockByNumber(number: bigint): MinedBlock | null {
    return this.blocks.get(number) ?? null;
  }

  blockByHash(hash: Hex): MinedBlock | null {
    const number = this.byHash.get(hash.toLowerCase() as Hex);
    return number === undefined ? null : this.blockByNumber(number);
  }

  decodeBlock(record: MinedBlock): Block {
    return record === this.headRecord ? this.headBlock() : createBlockFromRLP(record.rlp, { common: this.common });
  }

  txByHash(hash: Hex): { block: MinedBlock; index: number } | null {
    const at = this.txIndex.get(hash.toLowerCase() as Hex);
    if (at === undefined) return null;
    const block = this.blocks.get(at.block);
    return block === undefined ? null : { block, index: at.index };
  }

  /** Logs of retained blocks in [fromBlock, toBlock] (already bounded by the caller) matching the filter. */
  logs(filter: LogFilter): LogMatch[] {
    const out: LogMatch[] = [];
    const to = filter.toBlock < this.head() ? filter.toBlock : this.head();
    for (let n = filter.fromBlock; n <= to; n++) {
      const block = this.blocks.get(n);
      if (block !== undefined) this.blockLogs(block, filter, out);
    }
    return out;
  }

  blockLogs(block: MinedBlock, filter: Pick<LogFilter, 'addresses' | 'topics'>, out: LogMatch[]): void {
    for (const [transactionIndex, tx] of block.txs.entries()) {
      for (const [i, log] of tx.logs.entries()) {
        if (!matches(log, filter)) continue;
        if (out.length >= LOG_RESULTS_MAX) {
          throw new EvmRpcError({ code: 'EVM_LIMIT_EXCEEDED', rpcCode: -32005, limit: LOG_RESULTS_MAX }, `query returns more than ${LOG_RESULTS_MAX} results`);
        }
        out.push({ ...log, blockNumber: block.number, blockHash: block.hash, transactionHash: tx.hash, transactionIndex, logIndex: tx.firstLogIndex + i });
      }
    }
  }

  /** Runs `read` against the state after block `number` (the head's unless older), then restores the head's. */
  async atBlock<T>(number: bigint, read: () => Promise<T>): Promise<T> {
    if (number >= this.head()) return read();
    const block = this.blocks.get(number);
    if (block === undefined) {
      throw new EvmRpcError({ code: 'EVM_STATE_UNAVAILABLE', rpcCode: -32000, block: number.toString() }, `state of block ${number} is not retained`);
    }
    await this.vm.stateManager.setStateRoot(block.stateRoot);
    try {
      return await read();
    } finally {
      await this.vm.stateManager.setStateRoot(this.headRecord.stateRoot);
    }
  }

  async balance(address: Hex): Promise<bigint> {
    return (await this.vm.stateManager.getAccount(createAddressFromString(address)))?.balance ?? 0n;
  }

  async nonce(address: Hex): Promise<bigint> {
    return (await this.vm.stateManager.getAccount(createAddressFromString(address)))?.nonce ?? 0n;
  }

  async code(address: Hex): Promise<Hex> {
    return toHex(await this.vm.stateManager.getCode(createAddressFromString(address)));
  }

  async storage(address: Hex, slot: Uint8Array): Promise<Hex> {
    const account = createAddressFromString(address);
    if ((await this.vm.stateManager.getAccount(account)) === undefined) return toHex(new Uint8Array(32));
    const value = await this.vm.stateManager.getStorage(account, slot);
    const padded = new Uint8Array(32);
    padded.set(value, 32 - value.length);
    return toHex(padded);
  }

  /**
   * Executes a call against the current state in a throw-away checkpoint (nothing it writes stays).
   * Returns the gas the execution used, or throws EVM_EXECUTION_REVERTED with the revert bytes.
   */
  async call(req: CallRequest, nowSeconds: bigint): Promise<{ returnData: Hex; gasUsed: bigint }> {
    const gas = req.gas ?? BLOCK_GAS_LIMIT;
    const result = await this.execute(req, gas, nowSeconds);
    if (result.error !== null) throw result.error;
    return { returnData: result.returnData, gasUsed: result.gasUsed };
  }

  /** A gas limit (intrinsic cost included) with which the call succeeds, at most 1.5% above the least one. */
  async estimateGas(req: CallRequest, nowSeconds: bigint): Promise<bigint> {
    const cap = req.gas ?? BLOCK_GAS_LIMIT;
    const intrinsic = this.intrinsicGas(req);
    if (intrinsic > cap) {
      throw new EvmRpcError({ code: 'EVM_EXECUTION_FAILED', rpcCode: -32015, reason: 'intrinsic gas' }, `gas required exceeds allowance (${cap})`);
    }
    const first = await this.execute(req, cap - intrinsic, nowSeconds);
    if (first.error !== null) throw first.error;
    const used = intrinsic + first.gasUsed;
    const succeeds = async (gas: bigint): Promise<boolean> => (await this.execute(req, gas - intrinsic, nowSeconds)).error === null;
    if (await succeeds(used)) return used;
    // A call that forwards gas keeps 1/64 back (EIP-150), so it needs more than it used: try that
    // much more, then bisect to within 1.5% of the least that works (as geth does).
    let low = used;
    let high = cap;
    const optimistic = ((used + 2_300n) * 64n) / 63n;
    if (optimistic < cap) {
      if (await succeeds(optimistic)) high = optimistic;
      else low = optimistic;
    }
    while (high - low > 1n && (high - low) * 1000n > high * 15n) {
      const mid = (low + high) / 2n;
      if (await succeeds(mid)) high = mid;
      else low = mid;
    }
    return high;
  }

  private intrinsicGas(req: CallRequest): bigint {
    const tx = createTx(
      { to: req.to ?? undefined, data: fromHex(req.data), value: req.value, gasLimit: BLOCK_GAS_LIMIT, maxFeePerGas: 0n, type: 2 },
      { common: this.common },
    );
    return tx.getIntrinsicGas();
  }

  private async execute(req: CallRequest, gasLimit: bigint, nowSeconds: bigint): Promise<{ returnData: Hex; gasUsed: bigint; error: EvmRpcError | null }> {
    const block = createBlock(
      {
        header: {
          number: this.head() + 1n,
          parentHash: fromHex(this.headRecord.hash),
          timestamp: this.nextTimestamp(nowSeconds),
          gasLimit: BLOCK_GAS_LIMIT,
          baseFeePerGas: 0n,
        },
        withdrawals: [],
      },
      { common: this.common },
    );
    const caller: Address | undefined = req.from === null ? undefined : createAddressFromString(req.from);
    await this.vm.evm.journal.checkpoint();
    try {
      const result = await this.vm.evm.runCall({
        caller,
        origin: caller,
        to: req.to === null ? undefined : createAddressFromString(req.to),
        data: fromHex(req.data),
        value: req.value,
        gasLimit,
        block,
      });
      const returnData = toHex(result.execResult.returnValue);
      const failure = result.execResult.exceptionError;
      if (failure === undefined) return { returnData, gasUsed: result.execResult.executionGasUsed, error: null };
      const error =
        failure.error === 'revert'
          ? new EvmRpcError({ code: 'EVM_EXECUTION_REVERTED', rpcCode: 3, data: returnData }, revertMessage(returnData))
          : new EvmRpcError({ code: 'EVM_EXECUTION_FAILED', rpcCode: -32015, reason: failure.error }, `execution failed: ${failure.error}`);
      return { returnData, gasUsed: result.execResult.executionGasUsed, error };
    } finally {
      await this.vm.evm.journal.revert();
      this.vm.evm.journal.cleanJournal();
    }
  }

  private store(record: MinedBlock): void {
    this.blocks.set(record.number, record);
    this.byHash.set(record.hash, record.number);
    for (const [index, tx] of record.txs.entries()) this.txIndex.set(tx.hash, { block: record.number, index });
    const evicted = this.blocks.get(record.number - BigInt(this.retain));
    if (evicted !== undefined) {
      this.blocks.delete(evicted.number);
      this.byHash.delete(evicted.hash);
      for (const tx of evicted.txs) this.txIndex.delete(tx.hash);
    }
  }
}

/** A number as RLP wants it: big-endian without leading zeros, 0 as no bytes. */
function unpadded(n: bigint): Uint8Array {
  if (n === 0n) return new Uint8Array(0);
  const hex = n.toString(16);
  return hexToBytes(hex.length % 2 === 0 ? hex : `0${hex}`);
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function matches(log: MinedLog, filter: Pick<LogFilter, 'addresses' | 'topics'>): boolean {
  if (filter.addresses !== null && !filter.addresses.includes(log.address)) return false;
  for (const [i, wanted] of filter.topics.entries()) {
    if (wanted === null) continue;
    const topic = log.topics[i];
    if (topic === undefined || !wanted.includes(topic)) return false;
  }
  return true;
}

/** `execution reverted` plus the reason of an Error(string) revert, when the data is one. */
function revertMessage(data: Hex): string {
  // Error(string): selector 0x08c379a0, offset, length, bytes.
  if (data.startsWith('0x08c379a0') && data.length >= 138) {
    const length = Number.parseInt(data.slice(74, 138), 16);
    const bytes = fromHex(`0x${data.slice(138, 138 + length * 2)}`);
    const reason = new TextDecoder().decode(bytes);
    return `execution reverted: ${reason}`;
  }
  return 'execution reverted';
}
