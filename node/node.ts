/**
 * The composition root: opens the store (writing genesis state on first start), and wires the
 * mempool, block executor, signer, consensus engine and RPC server. Only this folder constructs
 * shells and connects them.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Logger as PinoLogger } from 'pino';
import { addressToString, bytesToHex, concatBytes, equalBytes, sha256, utf8ToBytes, type Logger } from '../lib/index.ts';
import { CHAIN_ID_KEY, ChainStore, StateView, loadAccount, loadValidatorSet } from '../state/index.ts';
import { genesisHash, genesisToState, parseGenesisJson, type Genesis } from '../genesis/index.ts';
import {
  BftEngine,
  DEFAULT_BFT_ENGINE_OPTS,
  DEFAULT_CORE_CONFIG,
  Signer,
  SoloEngine,
  WAL_ROTATE_BYTES_DEFAULT,
  Wal,
  openWalFile,
  signVote,
  type ClockPort,
  type ConsensusEngine,
  type GossipPort,
} from '../consensus/index.ts';
import { checkEvidenceTx, loadBridgeParams } from '../runtime/index.ts';
import { buildServer, registerStorageAdminRoutes, type RpcDeps } from '../rpc/index.ts';
import type { FastifyInstance } from 'fastify';
import { BlockExecutor, type CommittedBlockInfo } from './blockExecutor.ts';
import { BlockGate } from './blockGate.ts';
import { ChainFollower } from './chainSync.ts';
import type { NodeConfig } from './config.ts';
import { ConsensusGossip, EvidencePool, TX_BATCH_MESSAGE_BYTES_MAX, createGossipValidator } from './gossip.ts';
import { homePaths, loadNodeKey, type HomePaths, type NodeKey } from './home.ts';
import { Mempool } from './mempool.ts';
import {
  DEFAULT_P2P_CONFIG,
  P2PNetwork,
  createP2PConfig,
  loadOrCreateNetworkIdentity,
  storeBlockSource,
  type P2PConfig,
} from './p2p/index.ts';
import { createRpcDeps } from './rpcDeps.ts';
import { EvidenceReporter } from './evidenceReporter.ts';
import { BridgeService } from './bridgeService.ts';
import { BnbLookup } from '../bridge/index.ts';
import { createBnbPublicClient } from '../bridge/bnbClient.ts';
import { loadEvmKey } from './bridgeDevnet.ts';
import { NodeOps } from './ops.ts';
import { NodeStorage } from './storage.ts';
import { ChainError } from '../lib/index.ts';

export type NodeErrorType =
  | { code: 'NODE_GENESIS_MISMATCH'; stored: string; genesis: string }
  | { code: 'NODE_SIGNER_AHEAD'; signedHeight: number; storedHeight: number }
  | { code: 'NODE_NOT_A_VALIDATOR'; address: string }
  | { code: 'NODE_BRIDGE_NO_RELAYER_KEY'; path: string };
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

/**
 * `solo`: the single-validator engine, no network (the devnet). `bft`: the Tendermint engine over
 * the P2P network, as a validator or, when the node key is not in the set, as a full node.
 */
export type NodeMode = 'solo' | 'bft';

/** The parts a node running the BFT engine has on top of a solo node. */
type Networked = { network: P2PNetwork; follower: ChainFollower; gossip: ConsensusGossip; evidence: EvidencePool; reporter: EvidenceReporter };

/** Blocks per sync request: half the server's cap, so two requests in flight fit its byte budget. */
const SYNC_BATCH = 128;

/** The P2P settings from the node config; the rest keep the network layer's defaults. */
export function p2pConfigOf(config: NodeConfig): P2PConfig {
  const c = config.p2p;
  return createP2PConfig({
    listen: c.listen,
    bootstrap: c.bootstrap,
    connectionsMax: c.connectionsMax,
    // The node takes every message in its gossip validator (the engine queues what it accepts),
    // so the network's inboxes need keep nothing.
    inboxMax: 1,
    topicBytesMax: { ...DEFAULT_P2P_CONFIG.topicBytesMax, tx: TX_BATCH_MESSAGE_BYTES_MAX },
    sync: { ...DEFAULT_P2P_CONFIG.sync, requestTimeoutMs: c.syncRequestTimeoutMs },
    score: { ...DEFAULT_P2P_CONFIG.score, banMs: c.banMs },
  });
}

export class TaggerNode {
  readonly paths: HomePaths;
  readonly genesis: Genesis;
  readonly store: ChainStore;
  readonly mempool: Mempool;
  readonly executor: BlockExecutor;
  readonly engine: ConsensusEngine;
  readonly server: FastifyInstance;
  readonly mode: NodeMode;
  /** The P2P network (null for a solo node). */
  readonly network: P2PNetwork | null;
  /** Metrics, the event-stream log and the admin listener (node/ops.ts). */
  readonly ops: NodeOps;
  /** Pruning, compaction and snapshots (node/storage.ts). */
  readonly storage: NodeStorage;
  private readonly net: Networked | null;
  private readonly config: NodeConfig;
  private readonly log: Logger;
  private readonly commitListeners = new Set<(info: CommittedBlockInfo) => void>();
  private stopping = false;
  /** The node's bridge duties (node/bridgeService.ts); null when the config turns them off or no BNB Chain endpoint is set. */
  readonly bridge: BridgeService | null;

  private constructor(parts: {
    paths: HomePaths;
    genesis: Genesis;
    store: ChainStore;
    mempool: Mempool;
    executor: BlockExecutor;
    engine: ConsensusEngine;
    server: FastifyInstance;
    net: Networked | null;
    ops: NodeOps;
    config: NodeConfig;
    log: Logger;
    bridge: BridgeService | null;
  }) {
    this.bridge = parts.bridge;
    this.paths = parts.paths;
    this.genesis = parts.genesis;
    this.store = parts.store;
    this.mempool = parts.mempool;
    this.executor = parts.executor;
    this.engine = parts.engine;
    this.server = parts.server;
    this.net = parts.net;
    this.network = parts.net?.network ?? null;
    this.ops = parts.ops;
    this.mode = parts.net === null ? 'solo' : 'bft';
    this.config = parts.config;
    this.log = parts.log;
    const net = parts.net;
    this.storage = new NodeStorage(parts.config, { store: parts.store, chainId: parts.genesis.chainId, home: parts.paths.home, log: parts.log, syncing: () => net?.follower.syncing ?? false });
    this.commitListeners.add((info) => this.storage.afterCommit(info.height));
    if (parts.ops.admin !== null) registerStorageAdminRoutes(parts.ops.admin, this.storage);
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
      const p2p = opts.config.p2p;
      const bft = validators.length > 1 || p2p.enabled || p2p.bootstrap.length > 0;
      if (!bft && !validators.some((v) => equalBytes(v.address, key.address))) {
        throw new NodeError(
          { code: 'NODE_NOT_A_VALIDATOR', address: addressToString(key.address) },
          `node key ${addressToString(key.address)} is not the chain's validator; to follow the chain as a full node, set p2p.bootstrap to its peers`,
        );
      }
      let node: TaggerNode | null = null;
      const mempool = new Mempool(opts.config.mempool, {
        chainId: genesis.chainId,
        params: () => executor.params(),
        account: (address) => loadAccount(store.state, address),
        state: () => store.state,
        height: () => store.head?.height ?? 0,
        checkEvidence: (tx) => {
          const head = store.head;
          const env = { chainId: genesis.chainId, height: (head?.height ?? 0) + 1, timeMs: head?.timeMs ?? genesis.genesisTimeMs, proposer: key.address, seed: new Uint8Array(32), verifySignatures: false };
          return checkEvidenceTx(store.state, tx, env);
        },
        log: log.child({ module: 'mempool' }),
      });
      const executor: BlockExecutor = new BlockExecutor({
        chainId: genesis.chainId,
        store,
        mempool,
        proposer: key.address,
        index: opts.config.storage.index,
        log: log.child({ module: 'executor' }),
        onCommit: (info) => node?.notifyCommit(info),
      });
      const signer = await openSigner(key, paths, store, bft, log);
      const clock = opts.clock ?? systemClock;
      let engine: ConsensusEngine;
      let net: Networked | null = null;
      if (bft) {
        const built = await openBft({ opts, paths, genesis, store, mempool, executor, signer, key, clock, log });
        engine = built.engine;
        net = built.net;
      } else {
        engine = new SoloEngine(
          { chainId: genesis.chainId, blockIntervalMs: opts.config.consensus.blockIntervalMs, emptyBlockIntervalMs: opts.config.consensus.emptyBlockIntervalMs, haltHeight: opts.config.consensus.haltHeight },
          { blocks: executor, signer, clock, log: log.child({ module: 'consensus' }) },
        );
      }
      const base = createRpcDeps({
        chainId: genesis.chainId,
        nodeId: bytesToHex(sha256(key.publicKey).subarray(0, 20)),
        store,
        mempool,
        validatorAddress: key.address,
        syncing: () => net?.follower.syncing ?? false,
      });
      const gossip = net?.gossip ?? null;
      const bnb = bnbLookupOf(opts.config, store);
      const withBnb: RpcDeps = bnb === null ? base : { ...base, bnb };
      const deps: RpcDeps = gossip === null ? withBnb : {
        ...withBnb,
        submitTx: (bytes) => {
          const result = withBnb.submitTx(bytes);
          if (!result.duplicate) gossip.broadcastTx(bytes);
          return result;
        },
      };
      const ops = await NodeOps.create({ config: opts.config, deps, engine, network: net?.network ?? null, startHeight: store.head?.height ?? 0, log: opts.log });
      const server = await buildServer(deps, { ...ops.rpcOpts(), logger: opts.log.child({ module: 'rpc' }) });
      const bridge = await openBridgeService(opts, paths, genesis.chainId, key, store, mempool, deps, log);
      node = new TaggerNode({ paths, genesis, store, mempool, executor, engine, server, net, ops, config: opts.config, log, bridge });
      node.onCommit((info) => ops.recordCommit(info));
      if (bridge !== null) node.onCommit(() => bridge.onCommit());
      const reporter = net?.reporter;
      if (reporter !== undefined) node.onCommit(() => reporter.onCommit());
      return node;
    } catch (e: unknown) {
      await store.close();
      throw e;
    }
  }

  /** Starts the RPC listener, the P2P network and consensus. Resolves to the RPC URL. */
  async start(): Promise<string> {
    await this.server.listen({ host: this.config.rpc.host, port: this.config.rpc.port });
    const address = this.server.server.address() as AddressInfo;
    let admin: string | null = null;
    try {
      admin = await this.ops.start();
    } catch (e: unknown) {
      await this.server.close();
      throw e;
    }
    if (this.net !== null) {
      try {
        await this.net.network.start();
      } catch (e: unknown) {
        await this.server.close();
        await this.ops.stop();
        throw e;
      }
    }
    this.engine.start();
    this.bridge?.start();
    const net = this.net;
    if (net !== null && this.engine instanceof BftEngine) {
      // Sync only once the engine has replayed its WAL: the replay re-executes logged blocks at
      // the height after the stored one, which a sync that commits that height would pull away.
      void this.engine.whenIdle().then(() => {
        if (!this.stopping) net.follower.start();
      });
    }
    const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    this.log.info({ rpc: url, admin, p2p: this.p2pAddrs(), mode: this.mode, chainId: this.genesis.chainId, height: this.store.head?.height }, 'Node started');
    return url;
  }

  /** The P2P addresses peers can dial (each ending in /p2p/<peer id>); empty for a solo node. */
  p2pAddrs(): string[] {
    return this.network === null ? [] : this.network.listenAddrs();
  }

  /** Graceful stop: no new requests, sync and consensus stopped, the network closed, the database closed. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.bridge?.stop();
    await this.server.close();
    await this.ops.stop();
    if (this.net !== null) await this.net.follower.stop();
    await this.engine.stop();
    if (this.net !== null) await this.net.network.stop();
    await this.storage.stop();
    await this.store.close();
    this.log.info({ height: this.store.head?.height }, 'Node stopped');
  }

  onCommit(listener: (info: CommittedBlockInfo) => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  private notifyCommit(info: CommittedBlockInfo): void {
    this.log.info({ height: info.height, txs: info.txs.length, hash: bytesToHex(info.hash) }, 'Committed block');
    const halt = this.config.consensus.haltHeight;
    if (this.mode === 'bft' && halt > 0 && info.height === halt) this.log.warn({ haltHeight: halt }, 'Reached halt height; no more blocks');
    if (this.mode === 'solo' && loadValidatorSet(this.store.state).length !== 1) {
      // The single-validator engine cannot gather votes: stop rather than sign blocks the new set
      // would not accept. Restarted, the node runs the BFT engine.
      this.log.error({ height: info.height }, 'The validator set grew beyond this node; stopping block production: restart the node with p2p configured');
      void this.engine.stop();
    }
    for (const listener of this.commitListeners) listener(info);
  }
}

/**
 * Opens the signer. A guard that remembers signing past the stored chain means the database was
 * replaced or lost: the single-validator engine refuses to start, since it would make those
 * heights again alone; a BFT node starts, catches up by block sync, and the guard keeps it silent
 * at every height/round/step up to the last one it signed.
 */
async function openSigner(key: NodeKey, paths: HomePaths, store: ChainStore, bft: boolean, log: Logger): Promise<Signer> {
  const signer = await Signer.open({ ...key, statePath: paths.signerState });
  const signed = signer.lastSigned;
  const stored = store.head?.height ?? 0;
  if (signed !== null && signed.height > stored + 1 && bft) {
    log.warn({ signedHeight: signed.height, storedHeight: stored }, 'The signer signed past the stored chain; it stays silent up to there while the node catches up');
  } else if (signed !== null && signed.height > stored + 1) {
    // The guard remembers signing past the stored chain: the database was replaced or lost.
    // Signing again at those heights could double-sign, so refuse and say why.
    throw new NodeError(
      { code: 'NODE_SIGNER_AHEAD', signedHeight: signed.height, storedHeight: stored },
      `this validator signed at height ${signed.height} but the database ends at ${stored}: restore the database (data/chain) rather than rebuild it, or, if this key never signed on any other copy of this chain, move data/signer-state aside`,
    );
  }
  return signer;
}

type BftParts = {
  opts: NodeOpts;
  paths: HomePaths;
  genesis: Genesis;
  store: ChainStore;
  mempool: Mempool;
  executor: BlockExecutor;
  signer: Signer;
  key: NodeKey;
  clock: ClockPort;
  log: Logger;
};

/**
 * Wires the BFT engine to the network: the engine reaches blocks through the gate it shares with
 * block sync, publishes through ConsensusGossip, and hears the network through the gossip
 * validator, whose verdicts (the engine's `receive`) decide relaying and peer scores.
 */
async function openBft(p: BftParts): Promise<{ engine: BftEngine; net: Networked }> {
  const { opts, genesis, store, log } = p;
  const c = opts.config.consensus;
  const chainId = genesis.chainId;
  const identity = await loadOrCreateNetworkIdentity(p.paths.networkKey);
  const evidence = new EvidencePool();
  let follower: ChainFollower | null = null;
  const gate = new BlockGate({
    chainId,
    store,
    executor: p.executor,
    haltHeight: c.haltHeight,
    log: log.child({ module: 'gate' }),
    onMissingBlock: () => follower?.poke(),
  });
  const network = new P2PNetwork(
    { chainId, identitySeed: identity.seed, config: p2pConfigOf(opts.config) },
    {
      validate: (topic, data, from) => validate(topic, data, from),
      blocks: storeBlockSource(store),
      clock: p.clock,
      log: log.child({ module: 'p2p' }),
    },
  );
  const gossip = new ConsensusGossip(network, log.child({ module: 'gossip' }));
  const reporter = new EvidenceReporter({
    chainId,
    pool: evidence,
    key: p.key,
    state: () => store.state,
    head: () => store.head ?? { height: 0, timeMs: genesis.genesisTimeMs },
    nextNonce: (address) => p.mempool.nextNonce(address),
    inMempool: (hash) => p.mempool.has(hash),
    submit: (bytes) => {
      if (!p.mempool.add(bytes).duplicate) gossip.broadcastTx(bytes);
    },
    log: log.child({ module: 'evidence' }),
  });
  const doubleSignAt = Number(process.env.TAGGER_TEST_DOUBLE_SIGN_HEIGHT ?? 0);
  const wal = await Wal.open(await openWalFile(p.paths.consensusWal), { rotateBytes: WAL_ROTATE_BYTES_DEFAULT }, log.child({ module: 'wal' }));
  const engine = new BftEngine(
    {
      ...DEFAULT_BFT_ENGINE_OPTS,
      chainId,
      core: { ...DEFAULT_CORE_CONFIG, proposeMs: c.timeoutProposeMs, prevoteMs: c.timeoutPrevoteMs, precommitMs: c.timeoutPrecommitMs, deltaMs: c.timeoutDeltaMs },
      commitWaitMs: c.blockIntervalMs,
      rebroadcastMs: c.rebroadcastMs,
    },
    {
      blocks: gate,
      signer: p.signer,
      clock: p.clock,
      gossip: doubleSignAt > 0 ? doubleSigningGossip(gossip, chainId, p.key, doubleSignAt, log) : gossip,
      evidence: { addEvidence: (e) => void evidence.addEvidence(e) },
      wal,
      log: log.child({ module: 'consensus' }),
      onPeerFault: (peer) => void network.penalize(peer, 'invalidMessage'),
    },
  );
  const validate = createGossipValidator({
    chainId,
    mempool: p.mempool,
    engine,
    evidence,
    validators: () => gate.validatorsAt(gate.lastCommitted().height + 1),
    onBehind: () => follower?.poke(),
    log: log.child({ module: 'gossip' }),
  });
  follower = new ChainFollower(
    { checkMs: opts.config.p2p.syncCheckMs, batchSize: SYNC_BATCH },
    { network, gate, onSynced: () => engine.notifyCommitted(), clock: p.clock, log: log.child({ module: 'sync' }) },
  );
  const set = gate.validatorsAt(gate.lastCommitted().height + 1);
  log.info({ peerId: identity.peerId, validators: set.length, isValidator: set.some((v) => equalBytes(v.address, p.signer.address)) }, 'Running the BFT engine');
  return { engine, net: { network, follower, gossip, evidence, reporter } };
}

/**
 * TEST HOOK (`TAGGER_TEST_DOUBLE_SIGN_HEIGHT=H`): makes this validator misbehave on purpose. With each
 * of its own prevotes at heights H … H + 9 it also sends a second prevote for another block at the
 * same height and round, signed with the node key directly, past the signer's guard. Several
 * heights, so that a validator that started late and is still catching up at H double-signs where
 * the others will see it. Used by the end-to-end test that shows a double signer is slashed and
 * tombstoned; never set it on a real validator.
 */
function doubleSigningGossip(gossip: ConsensusGossip, chainId: string, key: NodeKey, height: number, log: Logger): GossipPort {
  log.warn({ height }, 'TEST HOOK: this validator will double-sign from the given height');
  const span = 10;
  let lastHeight = 0;
  return {
    broadcastProposal: (m) => gossip.broadcastProposal(m),
    broadcastEvidence: (e) => gossip.broadcastEvidence(e),
    broadcastVote: (m) => {
      gossip.broadcastVote(m);
      const h = m.vote.height;
      if (h < height || h >= height + span || h === lastHeight || m.vote.type !== 1 || !equalBytes(m.vote.validator, key.address)) return;
      lastHeight = h;
      const vote = { ...m.vote, blockHash: sha256(concatBytes(m.vote.blockHash, utf8ToBytes('conflicting'))) };
      gossip.broadcastVote({ vote, signature: signVote(chainId, vote, key.secretKey) });
      log.warn({ height: h, round: vote.round }, 'TEST HOOK: sent a conflicting prevote');
    },
  };
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

/**
 * The bridge service, when the config enables it and names a BNB Chain endpoint: the validator's
 * bridge key (if the file exists) for attesting and signing, the relayer's key when relaying.
 */
async function openBridgeService(
  opts: NodeOpts,
  paths: HomePaths,
  chainId: string,
  key: NodeKey,
  store: ChainStore,
  mempool: Mempool,
  deps: RpcDeps,
  log: Logger,
): Promise<BridgeService | null> {
  const c = opts.config.bridge;
  if (!c.enabled || c.bnbRpcUrl === '') return null;
  const bridgeSecret = await loadEvmKey(join(paths.home, c.bridgeKeyFile), false);
  let relayerKey: `0x${string}` | null = null;
  if (c.relayer) {
    const secret = await loadEvmKey(join(paths.home, c.relayerKeyFile), false);
    if (secret === null) throw new NodeError({ code: 'NODE_BRIDGE_NO_RELAYER_KEY', path: join(paths.home, c.relayerKeyFile) }, `bridge.relayer is on but ${join(paths.home, c.relayerKeyFile)} does not exist`);
    relayerKey = `0x${bytesToHex(secret)}`;
  }
  return new BridgeService(
    { bnbRpcUrl: c.bnbRpcUrl, confirmations: c.confirmations === 0 ? null : c.confirmations, fromBlock: BigInt(c.fromBlock), pollMs: c.pollMs, rpcTimeoutMs: c.rpcTimeoutMs, relayerKey },
    {
      chainId,
      key,
      bridgeSecret,
      state: () => store.state,
      nextNonce: (address) => mempool.nextNonce(address),
      inMempool: (hash) => mempool.has(hash),
      submit: (bytes) => void deps.submitTx(bytes),
      log: log.child({ module: 'bridge' }),
    },
  );
}

/** BNB Chain lookups for the bridge routes (release and submission transactions), when an endpoint is set. */
function bnbLookupOf(config: NodeConfig, store: ChainStore): BnbLookup | null {
  const c = config.bridge;
  const p = loadBridgeParams(store.state);
  if (!c.enabled || c.bnbRpcUrl === '' || p.checkpointInterval === 0) return null;
  const client = createBnbPublicClient({ url: c.bnbRpcUrl, chainId: p.bnbChainId, timeoutMs: c.rpcTimeoutMs });
  return new BnbLookup(client, { bridge: `0x${bytesToHex(p.bridgeContract)}`, fromBlock: BigInt(c.fromBlock) });
}
