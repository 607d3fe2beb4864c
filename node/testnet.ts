/**
 * `tagger testnet --validators N`: a local network of N validators on 127.0.0.1. It writes a genesis
 * with N equal validators and one funded `dev` key per node, N homes (`<dir>/node0` …) whose
 * configs bootstrap every node to every other, then runs one `tagger start` process per home,
 * prints their RPC URLs and stops them all on Ctrl-C or SIGTERM. An existing testnet directory is
 * reused as it is (the chain continues). Reference: docs/operators.md §A local testnet.
 *
 * Ports: node i serves RPC on `basePort + 2i` and P2P on `basePort + 2i + 1`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChainError, addressFromString, addressToString, randomSecretKey } from '../lib/index.ts';
import { DEFAULT_PARAMS } from '../state/index.ts';
import { genesisToJson, parseGenesisJson, type Genesis } from '../genesis/index.ts';
import { writeFileDurable } from '../consensus/index.ts';
import { Keyring } from '../sdk/keyring.ts';
import { DEFAULT_CONFIG, parseConfigJson, type NodeConfig } from './config.ts';
import { DEV_BALANCE, VALIDATOR_FEE_BALANCE, VALIDATOR_POWER, exists, homePaths, saveNodeKey } from './home.ts';
import { saveNetworkIdentity } from './p2p/index.ts';

export type TestnetErrorType =
  | { code: 'TESTNET_BAD_SIZE'; validators: number }
  | { code: 'TESTNET_BAD_PORT'; basePort: number }
  | { code: 'TESTNET_INCOMPLETE'; home: string }
  | { code: 'TESTNET_START_FAILED'; node: string; reason: string };
export class TestnetError extends ChainError<TestnetErrorType> {}

export const TESTNET_VALIDATORS_MAX = 32;
export const TESTNET_BASE_PORT = 26700;

export type TestnetNode = {
  name: string;
  home: string;
  rpcPort: number;
  p2pPort: number;
  peerId: string;
  /** The full P2P address other nodes dial. */
  p2pAddr: string;
  validator: string;
  devAddress: string;
};

export type TestnetOpts = {
  dir: string;
  validators: number;
  chainId: string;
  basePort: number;
  devPassword: string;
  genesisTimeMs: bigint;
  /** Keyring cost (tests use the minimum); the keyring default otherwise. */
  scryptN?: number;
  /** Settings for every node on top of the defaults (ports and peers are set per node). */
  config?: (config: NodeConfig) => void;
  /** Explicit ports per node (tests pick free ones); `basePort` otherwise. */
  ports?: Array<{ rpc: number; p2p: number }>;
  /**
   * The bridge: every validator gets a bridge key (`<home>/bridge-key.json`) registered at genesis and
   * a fee balance; the contracts' addresses follow from `deployer` (node/bridgeDevnet.ts); node0
   * relays with a key in `<home>/relayer-key.json`. The BNB Chain endpoint is set through `config`.
   */
  bridge?: { deployer: Uint8Array };
};

export function testnetHome(dir: string, i: number): string {
  return join(dir, `node${i}`);
}

function portsOf(opts: TestnetOpts, i: number): { rpc: number; p2p: number } {
  return opts.ports?.[i] ?? { rpc: opts.basePort + 2 * i, p2p: opts.basePort + 2 * i + 1 };
}

/**
 * Writes the N homes of a new testnet: keys, network identities, one funded `dev` key per home,
 * one genesis, and configs that bootstrap each node to all the others.
 */
export async function createTestnet(opts: TestnetOpts): Promise<TestnetNode[]> {
  if (!Number.isInteger(opts.validators) || opts.validators < 1 || opts.validators > TESTNET_VALIDATORS_MAX) {
    throw new TestnetError({ code: 'TESTNET_BAD_SIZE', validators: opts.validators }, `--validators must be from 1 to ${TESTNET_VALIDATORS_MAX}`);
  }
  const last = portsOf(opts, opts.validators - 1);
  if (!Number.isInteger(opts.basePort) || opts.basePort < 1024 || Math.max(last.rpc, last.p2p) > 65535) {
    throw new TestnetError({ code: 'TESTNET_BAD_PORT', basePort: opts.basePort }, `--base-port must leave room for ${2 * opts.validators} ports from 1024 to 65535`);
  }
  const nodes: TestnetNode[] = [];
  const publicKeys: Uint8Array[] = [];
  for (let i = 0; i < opts.validators; i++) {
    const home = testnetHome(opts.dir, i);
    const paths = homePaths(home);
    await mkdir(paths.data, { recursive: true, mode: 0o700 });
    const key = await saveNodeKey(paths.nodeKey, randomSecretKey());
    const identity = await saveNetworkIdentity(paths.networkKey, randomSecretKey());
    const keyring = new Keyring(opts.scryptN === undefined ? { dir: paths.keyring } : { dir: paths.keyring, scryptN: opts.scryptN });
    const dev = await keyring.add('dev', opts.devPassword);
    const ports = portsOf(opts, i);
    publicKeys.push(key.publicKey);
    nodes.push({
      name: `node${i}`,
      home,
      rpcPort: ports.rpc,
      p2pPort: ports.p2p,
      peerId: identity.peerId,
      p2pAddr: `/ip4/127.0.0.1/tcp/${ports.p2p}/p2p/${identity.peerId}`,
      validator: addressToString(key.address),
      devAddress: dev.address,
    });
  }
  const genesis: Genesis = {
    chainId: opts.chainId,
    genesisTimeMs: opts.genesisTimeMs,
    params: DEFAULT_PARAMS,
    validators: publicKeys.map((publicKey, i) => ({ name: `validator-${i}`, publicKey, power: VALIDATOR_POWER })),
    accounts: nodes.map((n) => ({ address: addressFromString(n.devAddress), balance: DEV_BALANCE })),
  };
  if (opts.bridge !== undefined) {
    const { devnetGenesisBridge, loadEvmKey } = await import('./bridgeDevnet.ts');
    const keys: Array<{ validator: string; secret: Uint8Array }> = [];
    for (const [i, node] of nodes.entries()) {
      keys.push({ validator: `validator-${i}`, secret: (await loadEvmKey(join(node.home, DEFAULT_CONFIG.bridge.bridgeKeyFile), true))! });
      genesis.accounts.push({ address: addressFromString(node.validator), balance: VALIDATOR_FEE_BALANCE });
    }
    await loadEvmKey(join(nodes[0]!.home, DEFAULT_CONFIG.bridge.relayerKeyFile), true);
    genesis.bridge = devnetGenesisBridge(opts.bridge.deployer, keys);
  }
  const genesisText = JSON.stringify(genesisToJson(genesis), null, 2) + '\n';
  parseGenesisJson(genesisText);
  for (const node of nodes) {
    const config = structuredClone(DEFAULT_CONFIG);
    if (opts.bridge !== undefined && node === nodes[0]) config.bridge.relayer = true;
    opts.config?.(config);
    config.rpc.port = node.rpcPort;
    config.p2p.enabled = true;
    config.p2p.listen = `/ip4/127.0.0.1/tcp/${node.p2pPort}`;
    config.p2p.bootstrap = nodes.filter((n) => n !== node).map((n) => n.p2pAddr);
    const paths = homePaths(node.home);
    await writeFileDurable(paths.config, JSON.stringify(config, null, 2) + '\n', 0o644);
    // genesis.json last: it marks the home complete.
    await writeFileDurable(paths.genesis, genesisText, 0o644);
  }
  return nodes;
}

/** Reads the nodes of an existing testnet directory (`node0`, `node1`, … with a genesis each). */
export async function loadTestnet(dir: string): Promise<TestnetNode[]> {
  const nodes: TestnetNode[] = [];
  for (let i = 0; i < TESTNET_VALIDATORS_MAX && (await exists(testnetHome(dir, i))); i++) {
    const home = testnetHome(dir, i);
    const paths = homePaths(home);
    if (!(await exists(paths.genesis)) || !(await exists(paths.networkKey))) {
      throw new TestnetError({ code: 'TESTNET_INCOMPLETE', home }, `${home} is not a complete testnet home; remove the testnet directory and run again`);
    }
    const config = parseConfigJson(await readFile(paths.config, 'utf8'), paths.config);
    const identity = JSON.parse(await readFile(paths.networkKey, 'utf8')) as { peerId: string };
    const nodeKey = JSON.parse(await readFile(paths.nodeKey, 'utf8')) as { address: string };
    const p2pPort = Number(/\/tcp\/(\d+)/.exec(config.p2p.listen)?.[1] ?? 0);
    const dev = await new Keyring({ dir: paths.keyring }).show('dev');
    nodes.push({
      name: `node${i}`,
      home,
      rpcPort: config.rpc.port,
      p2pPort,
      peerId: identity.peerId,
      p2pAddr: `/ip4/127.0.0.1/tcp/${p2pPort}/p2p/${identity.peerId}`,
      validator: nodeKey.address,
      devAddress: dev.address,
    });
  }
  return nodes;
}

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

export type RunningNode = { node: TestnetNode; child: ChildProcess; rpcUrl: string; exited: Promise<number | null> };

/**
 * Starts one `tagger start` process for a testnet home; its log (stderr) is copied to
 * `<home>/node.log`. Resolves once the node serves RPC.
 */
export async function startTestnetNode(node: TestnetNode, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<RunningNode> {
  const child = spawn(process.execPath, [MAIN, 'start', '--home', node.home, ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  const logFile = createWriteStream(join(node.home, 'node.log'), { flags: 'a' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    logFile.end();
    resolve(code);
  }));
  const rpcUrl = await new Promise<string>((resolve, reject) => {
    let head = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      logFile.write(chunk);
      if (head.length > 64 * 1024) return;
      head += chunk.toString();
      const m = /RPC: (http:\/\/\S+)/.exec(head);
      if (m !== null) resolve(m[1] as string);
    });
    void exited.then((code) => {
      const reason = `exited with code ${code}: ${head.slice(-2000)}`;
      reject(new TestnetError({ code: 'TESTNET_START_FAILED', node: node.name, reason }, `${node.name} ${reason}`));
    });
  });
  return { node, child, rpcUrl, exited };
}

/** Stops running nodes with SIGTERM and waits for each to exit. */
export async function stopTestnetNodes(running: readonly RunningNode[]): Promise<void> {
  for (const r of running) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
  await Promise.all(running.map((r) => r.exited));
}
