/**
 * The public RPC and the node's memory under load (issue 7), on a real devnet node process
 * (`tagger start`, block interval 250 ms, rate limit off, admin listener on) on 127.0.0.1:
 *
 * 1. reads: autocannon against GET /v1/accounts/:address, /v1/blocks/latest and /v1/blocks/:height
 *    while a trickle of transfers (20/s) keeps blocks non-empty;
 * 2. fan-out: SUBSCRIBERS clients on GET /v1/stream?types=block; per block, the time from the
 *    block's header time to each subscriber's receipt of its frame, and the node's RSS meanwhile;
 * 3. volume: TXS transfers (to fresh accounts) from SENDERS pre-funded accounts, IN_FLIGHT requests
 *    at a time, for at most TX_SECONDS; the node's RSS sampled every 10 s; peak and final.
 *
 * Environment: RPC_BENCH_TXS (1,000,000), RPC_BENCH_TX_SECONDS (1200), RPC_BENCH_READ_SECONDS (10),
 * RPC_BENCH_SUBSCRIBERS (1000), RPC_BENCH_RECIPIENTS (`fresh`: every transfer creates an account;
 * `existing`: transfers go to the other senders, so the state does not grow). Figures and what
 * bounds them: docs/benchmarks.md.
 */
import { request, type IncomingMessage } from 'node:http';
import autocannon from 'autocannon';
import { addressToString, sha256, u32ToBytes } from '../lib/index.ts';
import { benchKey, checkSigner, nodeMemory, percentile, signTransfer, startBenchNode, type BenchKey, type BenchNode, type NodeMemory } from './rpcNode.ts';

const CHAIN_ID = 'bench-rpc';
const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const TXS = env('RPC_BENCH_TXS', 1_000_000);
const TX_SECONDS = env('RPC_BENCH_TX_SECONDS', 1200);
const READ_SECONDS = env('RPC_BENCH_READ_SECONDS', 10);
const SUBSCRIBERS = env('RPC_BENCH_SUBSCRIBERS', 1000);
const FRESH_RECIPIENTS = (process.env['RPC_BENCH_RECIPIENTS'] ?? 'fresh') === 'fresh';
const SENDERS = 10_000;
const IN_FLIGHT = 64;
const READ_CONNECTIONS = 32;
const FANOUT_BLOCKS = 10;
const FANOUT_WAIT_MS = 120_000;
const RSS_SAMPLE_MS = 10_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function post(url: string, body: Uint8Array): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${url}/v1/txs`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body });
  if (res.status === 202) {
    await res.arrayBuffer();
    return { status: 202 };
  }
  const json = (await res.json()) as { error?: { code?: string } };
  return { status: res.status, ...(json.error?.code === undefined ? {} : { code: json.error.code }) };
}

/** Transfers from one key, one every `everyMs`, until stopped: blocks keep being produced with work in them. */
function trickle(node: BenchNode, key: BenchKey, everyMs: number): { stop: () => Promise<number> } {
  let running = true;
  let nonce = 0;
  const done = (async () => {
    while (running) {
      const res = await post(node.url, signTransfer(CHAIN_ID, key, nonce, sha256(u32ToBytes(900_000_000 + nonce)).subarray(0, 20)));
      if (res.status === 202) nonce++;
      await sleep(everyMs);
    }
    return nonce;
  })();
  return {
    stop: async () => {
      running = false;
      return done;
    },
  };
}

async function reads(node: BenchNode, address: string): Promise<Record<string, unknown>> {
  const latest = (await (await fetch(`${node.url}/v1/blocks/latest`)).json()) as { header: { height: number } };
  const paths = { account: `/v1/accounts/${address}`, latestBlock: '/v1/blocks/latest', blockByHeight: `/v1/blocks/${Math.max(1, latest.header.height - 5)}` };
  const out: Record<string, unknown> = {};
  for (const [name, path] of Object.entries(paths)) {
    const r = await autocannon({ url: `${node.url}${path}`, connections: READ_CONNECTIONS, duration: READ_SECONDS });
    out[name] = {
      path,
      readsPerSec: Math.round(r.requests.average),
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      maxMs: r.latency.max,
      requests: r.requests.total,
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
    };
  }
  return out;
}

type Sub = { res: IncomingMessage | null; closed: boolean };

async function fanout(node: BenchNode): Promise<Record<string, unknown>> {
  const received = new Map<number, { timeMs: number; at: number[] }>();
  const subs: Sub[] = [];
  const open = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const sub: Sub = { res: null, closed: false };
      subs.push(sub);
      const req = request(`${node.url}/v1/stream?types=block`, { agent: false }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`stream answered ${res.statusCode}`));
        sub.res = res;
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const at = Date.now();
          buf += chunk;
          let end: number;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const frame = buf.slice(0, end);
            buf = buf.slice(end + 2);
            if (!frame.includes('event: block')) continue;
            const data = JSON.parse(frame.slice(frame.indexOf('data: ') + 6)) as { height: number; timeMs: string };
            const entry = received.get(data.height) ?? { timeMs: Number(data.timeMs), at: [] };
            entry.at.push(at);
            received.set(data.height, entry);
          }
        });
        res.on('close', () => void (sub.closed = true));
        resolve();
      });
      req.on('error', reject);
      req.end();
    });
  for (let i = 0; i < SUBSCRIBERS; i += 100) await Promise.all(Array.from({ length: Math.min(100, SUBSCRIBERS - i) }, open));
  const firstHeight = ((await (await fetch(`${node.url}/v1/blocks/latest`)).json()) as { header: { height: number } }).header.height + 1;
  const deadline = Date.now() + FANOUT_WAIT_MS;
  const complete = (h: number): boolean => (received.get(h)?.at.length ?? 0) >= SUBSCRIBERS;
  let memory: NodeMemory | null = null;
  while (Date.now() < deadline) {
    if (memory === null && complete(firstHeight)) memory = await nodeMemory(node.admin);
    let done = true;
    for (let h = firstHeight; h < firstHeight + FANOUT_BLOCKS; h++) done &&= complete(h);
    if (done) break;
    await sleep(100);
  }
  memory ??= await nodeMemory(node.admin);
  const perDelivery: number[] = [];
  const allReceived: number[] = [];
  const spread: number[] = [];
  let blocks = 0;
  for (let h = firstHeight; h < firstHeight + FANOUT_BLOCKS; h++) {
    const e = received.get(h);
    if (e === undefined) continue;
    blocks++;
    const lat = e.at.map((a) => a - e.timeMs);
    perDelivery.push(...lat);
    if (e.at.length >= SUBSCRIBERS) {
      allReceived.push(Math.max(...lat));
      spread.push(Math.max(...e.at) - Math.min(...e.at));
    }
  }
  const dropped = subs.filter((s) => s.closed).length;
  for (const s of subs) s.res?.destroy();
  perDelivery.sort((a, b) => a - b);
  allReceived.sort((a, b) => a - b);
  spread.sort((a, b) => a - b);
  return {
    subscribers: SUBSCRIBERS,
    blocksMeasured: blocks,
    blocksReachingAll: allReceived.length,
    droppedOrClosed: dropped,
    deliveryMs: { p50: percentile(perDelivery, 50), p99: percentile(perDelivery, 99), max: perDelivery.at(-1) },
    allReceivedMs: { p50: percentile(allReceived, 50), p99: percentile(allReceived, 99), max: allReceived.at(-1) },
    firstToLastMs: { p50: percentile(spread, 50), max: spread.at(-1) },
    nodeMemoryConnected: memory,
  };
}

async function volume(node: BenchNode, keys: readonly BenchKey[]): Promise<Record<string, unknown>> {
  const samples: Array<{ s: number; submitted: number; height: number } & NodeMemory> = [];
  const t0 = performance.now();
  const deadline = t0 + TX_SECONDS * 1000;
  let next = 0;
  let accepted = 0;
  let mempoolFullRetries = 0;
  const rejected = new Map<string, number>();
  const height = async (): Promise<number> => ((await (await fetch(`${node.url}/status`)).json()) as { latestHeight: number }).latestHeight;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push({ s: Math.round((performance.now() - t0) / 1000), submitted: accepted, height: await height(), ...(await nodeMemory(node.admin)) });
      const until = performance.now() + RSS_SAMPLE_MS;
      while (sampling && performance.now() < until) await sleep(200);
    }
  })();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < TXS && performance.now() < deadline) {
        const i = next++;
        const to = FRESH_RECIPIENTS ? sha256(u32ToBytes(i)).subarray(0, 20) : keys[(i + 1) % keys.length]!.address;
        const body = signTransfer(CHAIN_ID, keys[i % keys.length]!, Math.floor(i / keys.length), to);
        for (;;) {
          const res = await post(node.url, body);
          if (res.status === 202) {
            accepted++;
            break;
          }
          if (res.code === 'MEMPOOL_FULL' && performance.now() < deadline) {
            mempoolFullRetries++;
            await sleep(100);
            continue;
          }
          const code = res.code ?? String(res.status);
          rejected.set(code, (rejected.get(code) ?? 0) + 1);
          break;
        }
      }
    }),
  );
  const submitSeconds = (performance.now() - t0) / 1000;
  // Wait (bounded) for the mempool to empty: what was accepted is committed.
  const drainDeadline = performance.now() + 120_000;
  for (;;) {
    const status = (await (await fetch(`${node.url}/status`)).json()) as { mempool: { txs: number } };
    if (status.mempool.txs === 0 || performance.now() > drainDeadline) break;
    await sleep(500);
  }
  const committedSeconds = (performance.now() - t0) / 1000;
  sampling = false;
  await sampler;
  const final = await nodeMemory(node.admin);
  samples.push({ s: Math.round(committedSeconds), submitted: accepted, height: await height(), ...final });
  return {
    target: TXS,
    recipients: FRESH_RECIPIENTS ? 'fresh' : 'existing',
    timeBudgetSeconds: TX_SECONDS,
    attempted: next,
    accepted,
    rejected: Object.fromEntries(rejected),
    mempoolFullRetries,
    submitSeconds: Math.round(submitSeconds),
    acceptedPerSec: Math.round(accepted / submitSeconds),
    allCommittedAfterSeconds: Math.round(committedSeconds),
    peakRssMiB: Math.max(...samples.map((x) => x.rssMiB)),
    finalRssMiB: final.rssMiB,
    finalHeapUsedMiB: final.heapUsedMiB,
    samples,
  };
}

export async function run(): Promise<Record<string, unknown>> {
  checkSigner(CHAIN_ID);
  const keys = Array.from({ length: SENDERS }, (_, i) => benchKey(1_000_000 + i));
  const trickleKey = benchKey(999);
  const node = await startBenchNode(CHAIN_ID, [trickleKey.address, ...keys.map((k) => k.address)], (c) => {
    c.consensus.blockIntervalMs = 250;
    c.consensus.emptyBlockIntervalMs = 250;
    c.rpc.rateLimitMax = 0; // one client hammers the RPC on purpose
    c.rpc.streamSubscribersMax = Math.max(SUBSCRIBERS + 16, c.rpc.streamSubscribersMax);
    c.log.level = 'info';
  });
  try {
    const idle = await nodeMemory(node.admin);
    const drip = trickle(node, trickleKey, 50);
    await sleep(2000);
    const readFigures = await reads(node, addressToString(keys[0]!.address));
    const afterReads = await nodeMemory(node.admin);
    const fanoutFigures = await fanout(node);
    const trickled = await drip.stop();
    const afterFanout = await nodeMemory(node.admin);
    const volumeFigures = await volume(node, keys);
    return { idleMemory: idle, reads: { ...readFigures, trickledTransfers: trickled, nodeMemoryAfter: afterReads }, fanout: { ...fanoutFigures, nodeMemoryAfter: afterFanout }, volume: volumeFigures };
  } finally {
    await node.stop();
  }
}
