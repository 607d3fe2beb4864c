/**
 * The composition root: opens the store (writing genesis state on first start), and wires the
 * mempool, block executor, signer, consensus engine and RPC server. Only this folder constructs
 * shells and connects them.
 */
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Logger as PinoLogger } from 'pino';
import { addressToString, bytesToHex, equalBytes, sha256, type Logger } from '../lib/index.ts';
import { CHAIN_ID_KEY, ChainStore, StateView, loadAccount, loadValidatorSet } from '../state/index.ts';
import { genesisHash, genesisToState, parseGenesisJson, type Genesis } from '../genesis/index.ts';
import { Signer, SoloEngine, type ClockPort, type ConsensusEngine } from '../consensus/index.ts';
import { buildServer } from '../rpc/index.ts';
import type { FastifyInstance } from 'fastify';
import { BlockExecutor, type CommittedBlockInfo } from './blockExecutor.ts';
import type { NodeConfig } from './config.ts';
import { homePaths, loadNodeKey, type HomePaths } from './home.ts';
import { Mempool } from './mempool.ts';
import { createRpcDeps } from './rpcDeps.ts';
import { ChainError } from '../lib/index.ts';

export type NodeErrorType =
  | { code: 'NODE_GENESIS_MISMATCH'; stored: string; genesis: string }
  | { code: 'NODE_SIGNER_AHEAD'; signedHeight: number; storedHeight: number }
  | { code: 'NODE_NOT_A_VALIDATOR'; address: string }
  | { code: 'NODE_MULTI_VALIDATOR_UNSUPPORTED'; validators: number };
export class NodeError extends ChainError<NodeErrorType> {}

export const systemClock: ClockPort = {
  nowMs: () => BigInt(Date.now()),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    }),
};

export type NodeOpts = { home: string; config: NodeConfig; log: PinoLogger; clock?: ClockPort };

export class TaggerNode {
  readonly paths: HomePaths;
  readonly genesis: Genesis;
  readonly store: ChainStore;
  readonly mempool: Mempool;
  readonly executor: BlockExecutor;
  readonly engine: ConsensusEngine;
  readonly server: FastifyInstance;
  private readonly config: NodeConfig;
  private readonly log: Logger;
  private readonly commitListeners = new Set<(info: CommittedBlockInfo) => void>();

  private constructor(parts: {
    paths: HomePaths;
    genesis: Genesis;
    store: ChainStore;
    mempool: Mempool;
    executor: BlockExecutor;
    engine: ConsensusEngine;
    server: FastifyInstance;
    config: NodeConfig;
    log: Logger;
  }) {
    this.paths = parts.paths;
    this.genesis = parts.genesis;
    this.store = parts.store;
    this.mempool = parts.mempool;
    this.executor = parts.executor;
    this.engine = parts.engine;
    this.server = parts.server;
    this.config = parts.config;
    this.log = parts.log;
  }

  static async open(opts: NodeOpts): Promise<TaggerNode> {
    const paths = homePaths(opts.home);
    const log = opts.log;
    const genesis = parseGenesisJson(await readFile(paths.genesis, 'utf8'));
    const key = await loadNodeKey(paths.nodeKey);
    const store = await ChainStore.open(paths.chainDb);
    try {
      await ensureGenesis(store, genesis, log);
      const validators = loadValidatorSet(store.state);
      if (validators.length !== 1) {
        throw new NodeError({ code: 'NODE_MULTI_VALIDATOR_UNSUPPORTED', validators: validators.length }, 'this node runs single-validator chains only; multi-validator consensus is not available yet');
      }
      if (!validators.some((v) => equalBytes(v.address, key.address))) {
        throw new NodeError({ code: 'NODE_NOT_A_VALIDATOR', address: addressToString(key.address) }, `node key ${addressToString(key.address)} is not the chain's validator`);
      }
      let node: TaggerNode | null = null;
      const mempool = new Mempool(opts.config.mempool, {
        chainId: genesis.chainId,
        params: () => executor.params(),
        account: (address) => loadAccount(store.state, address),
        state: () => store.state,
    height: () => store.head?.height ?? 0,
        log: log.child({ module: 'mempool' }),
      });
      const executor: BlockExecutor = new BlockExecutor({
        chainId: genesis.chainId,
        store,
        mempool,
        proposer: key.address,
        log: log.child({ module: 'executor' }),
        onCommit: (info) => node?.notifyCommit(info),
      });
      const signer = await Signer.open({ ...key, statePath: paths.signerState });
      const signed = signer.lastSigned;
      const stored = store.head?.height ?? 0;
      if (signed !== null && signed.height > stored + 1) {
        // The guard remembers signing past the stored chain: the database was replaced or lost.
        // Signing again at those heights could double-sign, so refuse and say why.
        throw new NodeError(
          { code: 'NODE_SIGNER_AHEAD', signedHeight: signed.height, storedHeight: stored },
          `this validator signed at height ${signed.height} but the database ends at ${stored}: restore the database (data/chain) rather than rebuild it, or, if this key never signed on any other copy of this chain, move data/signer-state aside`,
        );
      }
      const engine = new SoloEngine(
        { chainId: genesis.chainId, ...opts.config.consensus },
        { blocks: executor, signer, clock: opts.clock ?? systemClock, log: log.child({ module: 'consensus' }) },
      );
      const server = await buildServer(
        createRpcDeps({
          chainId: genesis.chainId,
          nodeId: bytesToHex(sha256(key.publicKey).subarray(0, 20)),
          store,
          mempool,
          validatorAddress: key.address,
          syncing: () => false,
        }),
        { logger: opts.log.child({ module: 'rpc' }), bodyLimitBytes: opts.config.rpc.bodyLimitBytes },
      );
      node = new TaggerNode({ paths, genesis, store, mempool, executor, engine, server, config: opts.config, log });
      return node;
    } catch (e: unknown) {
      await store.close();
      throw e;
    }
  }

  /** Starts the RPC listener and block production. Resolves to the RPC URL. */
  async start(): Promise<string> {
    await this.server.listen({ host: this.config.rpc.host, port: this.config.rpc.port });
    const address = this.server.server.address() as AddressInfo;
    this.engine.start();
    const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    this.log.info({ rpc: url, chainId: this.genesis.chainId, height: this.store.head?.height }, 'Node started');
    return url;
  }

  /** Graceful stop: no new requests, the block in flight is committed, the database closed. */
  async stop(): Promise<void> {
    await this.server.close();
    await this.engine.stop();
    await this.store.close();
    this.log.info({ height: this.store.head?.height }, 'Node stopped');
  }

  onCommit(listener: (info: CommittedBlockInfo) => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  private notifyCommit(info: CommittedBlockInfo): void {
    this.log.info({ height: info.height, txs: info.txs.length, hash: bytesToHex(info.hash) }, 'Committed block');
    for (const listener of this.commitListeners) listener(info);
  }
}

/** On first start writes the genesis state; afterwards checks the store belongs to this genesis. */
async function ensureGenesis(store: ChainStore, genesis: Genesis, log: Logger): Promise<void> {
  const stored = store.state.get(CHAIN_ID_KEY);
  if (store.head === null) {
    const view = new StateView(store.state);
    genesisToState(genesis, view);
    const head = await store.initGenesis(view.writes(), genesis.genesisTimeMs, genesisHash(genesis));
    log.info({ chainId: genesis.chainId, stateRoot: bytesToHex(head.stateRoot) }, 'Wrote genesis state');
    return;
  }
  const storedId = stored === undefined ? '' : new TextDecoder().decode(stored);
  const storedHash = store.genesisHash === null ? '' : bytesToHex(store.genesisHash);
  const fileHash = bytesToHex(genesisHash(genesis));
  if (storedId !== genesis.chainId || storedHash !== fileHash) {
    throw new NodeError(
      { code: 'NODE_GENESIS_MISMATCH', stored: `${storedId} ${storedHash}`, genesis: `${genesis.chainId} ${fileHash}` },
      `the database was started from another genesis (chain "${storedId}", genesis hash ${storedHash}); genesis.json is chain "${genesis.chainId}", hash ${fileHash}. Restore the original genesis.json or start a new home.`,
    );
  }
}
