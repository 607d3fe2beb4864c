/**
 * The BFT network end to end, with real node processes on 127.0.0.1 (docs/benchmarks.md):
 *
 * - throughput and finality: four validators; signed transfers from 1,000 funded senders are
 *   offered at NET_BENCH_RATE per second (default 1,200) for NET_BENCH_SECONDS (default 20),
 *   each sender's to one node (round-robin over nodes), 64 HTTP requests in flight at most. This
 *   process polls node 0's blocks and takes a transfer as final when its block is visible there.
 *   Reports committed transfers/s (first submission to last commit), finality submit → visible
 *   p50/p99, blocks per minute, and the CPU the four nodes used per transfer.
 * - catch-up: a chain of NET_BENCH_SYNC_BLOCKS (default 10,000) blocks, 4 transfers each, with
 *   3-of-4 commit certificates, is written to a home here; a node serves it and a fresh node
 *   with the same genesis syncs it, verifying every certificate and executing every block.
 *   Reports blocks/s from its first synced block to the last, and CPU per block.
 *
 * The four nodes and this process share the machine's cores: the figures are for the whole system.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ONE_TAG, addressFromPublicKey, compareBytes, publicKeyFromSecret, randomSecretKey, sha256, u32ToBytes } from '../lib/index.ts';
import { signTx } from '../runtime/index.ts';
import { DEFAULT_PARAMS } from '../state/index.ts';
import { genesisToJson, parseGenesisJson, type Genesis } from '../genesis/index.ts';
import { writeFileDurable } from '../consensus/index.ts';
import { DEFAULT_CONFIG, homePaths, saveNodeKey, type NodeConfig } from '../node/index.ts';
import { saveNetworkIdentity } from '../node/p2p/index.ts';
import { createTestnet, startTestnetNode, stopTestnetNodes, type RunningNode } from '../node/testnet.ts';
import { openTestChain, signedCommit } from '../test/utils/chain.ts';
import { freePorts } from '../test/e2e/fixtures/network.ts';

const RATE = Number(process.env['NET_BENCH_RATE'] ?? 1200);
const SECONDS = Number(process.env['NET_BENCH_SECONDS'] ?? 20);
const SYNC_BLOCKS = Number(process.env['NET_BENCH_SYNC_BLOCKS'] ?? 10_000);
const BLOCK_INTERVAL_MS = Number(process.env['NET_BENCH_BLOCK_INTERVAL_MS'] ?? 300);
const SENDERS = 1_000;
const IN_FLIGHT = 64;

type Key = { secretKey: Uint8Array; publicKey: Uint8Array; address: Uint8Array };
const keyOf = (n: number): Key => {
  const secretKey = sha256(u32ToBytes(n));
  const publicKey = publicKeyFromSecret(secretKey);
  return { secretKey, publicKey, address: addressFromPublicKey(publicKey) };
};

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return (await res.json()) as T;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

async function nodesCpu(running: readonly RunningNode[]): Promise<number> {
  return (await Promise.all(running.map((r) => cpuSeconds(r.child.pid)))).reduce((a, b) => a + b, 0);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function benchConfig(config: NodeConfig): void {
  config.consensus.blockIntervalMs = BLOCK_INTERVAL_MS;
  // One client (this process) sends everything: no per-client limit.
  config.rpc.rateLimitMax = 0;
  config.log.level = (process.env['NET_BENCH_LOG'] ?? 'warn') as NodeConfig['log']['level'];
}

/** Adds the senders to the genesis of every home. */
async function fundSenders(homes: string[], senders: Key[]): Promise<string> {
  const genesis = parseGenesisJson(await readFile(homePaths(homes[0]!).genesis, 'utf8'));
  const funded: Genesis = { ...genesis, accounts: [...genesis.accounts, ...senders.map((k) => ({ address: k.address, balance: 1000n * ONE_TAG }))] };
  const text = JSON.stringify(genesisToJson(funded), null, 2) + '\n';
  for (const home of homes) await writeFile(homePaths(home).genesis, text);
  return funded.chainId;
}

async function throughput(dir: string): Promise<Record<string, unknown>> {
  const ports = await freePorts(8);
  const nodes = await createTestnet({
    dir,
    validators: 4,
    chainId: 'bench-network',
    basePort: 1024,
    ports: [0, 1, 2, 3].map((i) => ({ rpc: ports[2 * i]!, p2p: ports[2 * i + 1]! })),
    devPassword: 'devnet',
    genesisTimeMs: BigInt(Date.now()),
    scryptN: 1024,
    config: benchConfig,
  });
  const senders = Array.from({ length: SENDERS }, (_, i) => keyOf(i + 1));
  const chainId = await fundSenders(nodes.map((n) => n.home), senders);
  const total = RATE * SECONDS;
  const perSender = Math.ceil(total / SENDERS);
  const txs: Array<{ bytes: Uint8Array; hash: string; node: number }> = [];
  for (let n = 0; n < perSender && txs.length < total; n++) {
    for (let s = 0; s < SENDERS && txs.length < total; s++) {
      const k = senders[s]!;
      const tx = signTx({ chainId, sender: k.publicKey, nonce: n, maxFee: ONE_TAG, body: { kind: 'transfer', to: senders[(s + 1) % SENDERS]!.address, amount: 1n } }, k.secretKey);
      txs.push({ bytes: tx.bytes, hash: `0x${Buffer.from(tx.hash).toString('hex')}`, node: s % 4 });
    }
  }
  const running: RunningNode[] = [];
  try {
    running.push(...(await Promise.all(nodes.map((n) => startTestnetNode(n)))));
    const urls = running.map((r) => r.rpcUrl);
    // Let the four connect and decide a couple of heights before the load starts.
    for (;;) {
      const heights = await Promise.all(urls.map(async (u) => (await getJson<{ latestHeight: number }>(`${u}/status`)).latestHeight));
      if (heights.every((h) => h >= 2)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const startHeight = (await getJson<{ latestHeight: number }>(`${urls[0]}/status`)).latestHeight;
    const submittedAt = new Map<string, number>();
    const latencies: number[] = [];
    let rejected = 0;
    let committed = 0;
    let lastCommitAt = 0;
    let pollerDone = false;
    // Follows node 0's blocks: a transfer is final when its block is there.
    const poller = (async () => {
      let next = startHeight + 1;
      while (!pollerDone) {
        const res = await fetch(`${urls[0]}/v1/blocks/${next}`, { signal: AbortSignal.timeout(10_000) }).catch(() => null);
        if (res === null || res.status !== 200) {
          await res?.arrayBuffer();
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        const block = (await res.json()) as { txs: string[] };
        const now = performance.now();
        for (const hash of block.txs) {
          const at = submittedAt.get(hash);
          if (at === undefined) continue;
          latencies.push(now - at);
          committed++;
          lastCommitAt = now;
        }
        next++;
      }
      return next - 1;
    })();
    const cpu0 = await nodesCpu(running);
    const t0 = performance.now();
    let sent = 0;
    let inFlight = 0;
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const due = Math.min(txs.length, Math.floor(((performance.now() - t0) / 1000) * RATE));
        while (sent < due && inFlight < IN_FLIGHT) {
          const tx = txs[sent++]!;
          inFlight++;
          submittedAt.set(tx.hash, performance.now());
          void fetch(`${urls[tx.node]}/v1/txs`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: tx.bytes })
            .then(async (res) => {
              if (res.status !== 202) rejected++;
              await res.arrayBuffer();
            }, () => void rejected++)
            .finally(() => void inFlight--);
        }
        if (sent === txs.length) {
          clearInterval(tick);
          resolve();
        }
      }, 5);
    });
    const submitSeconds = (performance.now() - t0) / 1000;
    const deadline = performance.now() + 120_000;
    while (committed < txs.length - rejected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    pollerDone = true;
    const endHeight = await poller;
    const spanSeconds = (lastCommitAt - t0) / 1000;
    const nodeCpuSeconds = (await nodesCpu(running)) - cpu0;
    latencies.sort((a, b) => a - b);
    const blocks = endHeight - startHeight;
    return {
      validators: 4,
      blockIntervalMs: BLOCK_INTERVAL_MS,
      offeredPerSec: RATE,
      offered: txs.length,
      submittedPerSec: Math.round(txs.length / submitSeconds),
      rejected,
      committed,
      committedPerSec: Math.round(committed / spanSeconds),
      finalityMsP50: Math.round(percentile(latencies, 50)),
      finalityMsP99: Math.round(percentile(latencies, 99)),
      blocks,
      blocksPerMinute: Math.round((blocks / spanSeconds) * 60),
      txsPerBlock: Math.round(committed / Math.max(1, blocks)),
      // CPU the four node processes used from the first submission until the measurement ended.
      nodesCpuCoresBusy: Number((nodeCpuSeconds / ((performance.now() - t0) / 1000)).toFixed(2)),
      nodesCpuMsPerTx: Number(((nodeCpuSeconds * 1000) / Math.max(1, committed)).toFixed(2)),
    };
  } finally {
    await stopTestnetNodes(running);
  }
}

/** Writes `count` blocks (4 transfers each, 3-of-4 certificates) into a new home; returns it. */
async function buildChain(dir: string, count: number): Promise<{ source: string; genesisPath: string; validators: Key[] }> {
  const validators = [101, 102, 103, 104].map(keyOf).sort((a, b) => compareBytes(a.address, b.address));
  const senders = Array.from({ length: 64 }, (_, i) => keyOf(1000 + i));
  const genesis: Genesis = {
    chainId: 'bench-sync',
    genesisTimeMs: 1_700_000_000_000n,
    params: DEFAULT_PARAMS,
    validators: validators.map((k, i) => ({ name: `v${i}`, publicKey: k.publicKey, power: ONE_TAG })),
    accounts: senders.map((k) => ({ address: k.address, balance: 1_000_000n * ONE_TAG })),
  };
  const source = join(dir, 'source');
  const paths = homePaths(source);
  await mkdir(paths.data, { recursive: true });
  const genesisText = JSON.stringify(genesisToJson(genesis), null, 2) + '\n';
  await writeFile(paths.genesis, genesisText);
  const chain = await openTestChain(paths.chainDb, genesis, validators[0]);
  let nonce = 0;
  for (let h = 1; h <= count; h++) {
    for (let i = 0; i < 4; i++) {
      const k = senders[(h * 4 + i) % senders.length]!;
      chain.mempool.add(signTx({ chainId: genesis.chainId, sender: k.publicKey, nonce: Math.floor(nonce / senders.length), maxFee: ONE_TAG, body: { kind: 'transfer', to: validators[0]!.address, amount: 1n } }, k.secretKey).bytes);
      nonce++;
    }
    const { blockHash } = await chain.executor.buildProposal(h, 0, genesis.genesisTimeMs + BigInt(h) * 1000n);
    await chain.executor.commitBlock(h, blockHash, signedCommit(genesis.chainId, h, blockHash, validators.slice(0, 3)));
  }
  await chain.store.close();
  return { source, genesisPath: paths.genesis, validators };
}

async function writeFullNodeHome(home: string, genesisPath: string, rpc: number, p2p: number, bootstrap: string[]): Promise<string> {
  const paths = homePaths(home);
  await mkdir(paths.data, { recursive: true });
  if (genesisPath !== paths.genesis) await copyFile(genesisPath, paths.genesis);
  await saveNodeKey(paths.nodeKey, randomSecretKey());
  const identity = await saveNetworkIdentity(paths.networkKey, randomSecretKey());
  const config = structuredClone(DEFAULT_CONFIG);
  config.log.level = 'warn';
  config.rpc.port = rpc;
  config.p2p.enabled = true;
  config.p2p.listen = `/ip4/127.0.0.1/tcp/${p2p}`;
  config.p2p.bootstrap = bootstrap;
  config.p2p.syncCheckMs = 200;
  await writeFileDurable(paths.config, JSON.stringify(config, null, 2) + '\n');
  return `/ip4/127.0.0.1/tcp/${p2p}/p2p/${identity.peerId}`;
}

async function catchUp(dir: string): Promise<Record<string, unknown>> {
  const built0 = performance.now();
  const { source, genesisPath } = await buildChain(dir, SYNC_BLOCKS);
  const buildSeconds = (performance.now() - built0) / 1000;
  const ports = await freePorts(4);
  const sourceAddr = await writeFullNodeHome(source, genesisPath, ports[0]!, ports[1]!, []);
  const fresh = join(dir, 'fresh');
  await writeFullNodeHome(fresh, genesisPath, ports[2]!, ports[3]!, [sourceAddr]);
  const node = (home: string, rpc: number, p2p: number) => ({ name: home, home, rpcPort: rpc, p2pPort: p2p, peerId: '', p2pAddr: '', validator: '', devAddress: '' });
  const running: RunningNode[] = [];
  try {
    running.push(await startTestnetNode(node(source, ports[0]!, ports[1]!)));
    running.push(await startTestnetNode(node(fresh, ports[2]!, ports[3]!)));
    const url = running[1]!.rpcUrl;
    const cpu0 = await nodesCpu(running);
    let first = 0;
    let firstHeight = 0;
    const deadline = performance.now() + 600_000;
    for (;;) {
      const height = (await getJson<{ latestHeight: number }>(`${url}/status`)).latestHeight;
      if (first === 0 && height > 0) {
        first = performance.now();
        firstHeight = height;
      }
      if (height >= SYNC_BLOCKS || performance.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - first) / 1000;
    const height = (await getJson<{ latestHeight: number }>(`${url}/status`)).latestHeight;
    const [serverCpu, clientCpu] = await Promise.all(running.map((r) => cpuSeconds(r.child.pid)));
    return {
      blocks: SYNC_BLOCKS,
      txsPerBlock: 4,
      reached: height,
      blocksPerSec: Math.round((height - firstHeight) / seconds),
      seconds: Number(seconds.toFixed(1)),
      // CPU per block of the syncing node (verify, execute, store) and of the serving node: each
      // process's CPU since it started, start-up included.
      syncingCpuMsPerBlock: Number((((clientCpu ?? NaN) * 1000) / height).toFixed(2)),
      servingCpuMsPerBlock: Number((((serverCpu ?? NaN) * 1000) / height).toFixed(2)),
      cpuCoresBusy: Number((((await nodesCpu(running)) - cpu0) / seconds).toFixed(2)),
      chainBuildSeconds: Number(buildSeconds.toFixed(1)),
    };
  } finally {
    await stopTestnetNodes(running);
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'tagger-net-bench-'));
  try {
    const only = process.env['NET_BENCH_ONLY'];
    const out: Record<string, unknown> = {};
    if (only !== 'sync') out['throughput'] = await throughput(join(dir, 'net'));
    if (only !== 'throughput') out['catchUp'] = await catchUp(join(dir, 'sync'));
    return out;
  } finally {
    if (process.env['NET_BENCH_KEEP'] === undefined) await rm(dir, { recursive: true, force: true });
    else process.stderr.write(`kept ${dir}\n`);
  }
}
