/**
 * A bounded load test of the public RPC (issue 7): a real devnet node process on 127.0.0.1 commits
 * blocks while READERS clients read accounts and blocks and SUBMITTERS clients submit signed
 * transfers, each a fixed number of requests, and one client floods past its rate limit. Every
 * client binds its own loopback address (127.0.0.x), so the node's per-IP limiter tells them apart.
 * Checks: every transfer is committed exactly once, no read is a 5xx, the flooder gets 429
 * RPC_RATE_LIMITED while everyone else and /health are served, and the node's memory afterwards
 * (its own /metrics on the admin listener) is under RSS_BOUND_BYTES. Nothing is timed.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { request, Agent } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ONE_TAG, addressFromPublicKey, addressToString, bytesToHex, publicKeyFromSecret, sha256, u32ToBytes } from '../../lib/index.ts';
import { signTx } from '../../runtime/index.ts';
import { DEFAULT_PARAMS } from '../../state/index.ts';
import { genesisToJson } from '../../genesis/index.ts';
import { DEFAULT_CONFIG } from '../../node/config.ts';
import { homePaths, saveNodeKey } from '../../node/home.ts';
import { stopBeforeDirRemoval } from '../utils/cleanup.ts';

const MAIN = fileURLToPath(new URL('../../node/main.ts', import.meta.url));
const CHAIN_ID = 'rpc-load';
const READERS = 8;
const READS_PER_READER = 60;
const SUBMITTERS = 4;
const TXS_PER_SUBMITTER = 25;
/** Requests per client per window: above what any well-behaved client here sends, far below the flood. */
const RATE_LIMIT = 300;
const FLOOD_MAX = 2 * RATE_LIMIT;
/**
 * Generous: a devnet node idles at 100–200 MiB RSS; this load adds a few hundred blocks and
 * transactions. Anything near 768 MiB means something grows with requests.
 */
const RSS_BOUND_BYTES = 768 * 2 ** 20;
const HEAP_BOUND_BYTES = 512 * 2 ** 20;

type Reply = { status: number; body: string; headers: Record<string, string | string[] | undefined> };

/** An HTTP client bound to one loopback address: to the node's rate limiter, one client. */
function client(localAddress: string): { get: (url: string) => Promise<Reply>; post: (url: string, body: Uint8Array) => Promise<Reply>; close: () => void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const send = (url: string, method: string, body?: Uint8Array): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const headers = body === undefined ? {} : { 'content-type': 'application/octet-stream', 'content-length': String(body.length) };
      const req = request(url, { method, agent, localAddress, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  return { get: (url) => send(url, 'GET'), post: (url, body) => send(url, 'POST', body), close: () => agent.destroy() };
}

type Node = { url: string; admin: string; stop: () => Promise<number | null> };

/** `tagger start` in a child process; the RPC and admin URLs come from its start-up output. */
async function startNode(home: string): Promise<Node> {
  const child = spawn(process.execPath, [MAIN, 'start', '--no-bridge', '--home', home, '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const urls = await new Promise<{ url: string; admin: string }>((resolve, reject) => {
    let err = '';
    let admin: string | null = null;
    const onData = (c: Buffer): void => {
      err += c.toString();
      admin ??= /"admin":"(http:\/\/[^"]+)"/.exec(err)?.[1] ?? null;
      const rpc = /RPC: (http:\/\/\S+)/.exec(err)?.[1];
      if (admin !== null && rpc !== undefined) {
        child.stderr.off('data', onData);
        child.stderr.resume(); // keep draining the log, without keeping it
        resolve({ url: rpc, admin });
      }
    };
    child.stderr.on('data', onData);
    void exited.then((code) => reject(new Error(`node exited (${code}) before serving RPC:\n${err}`)));
  });
  return {
    ...urls,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)`, 'm').exec(text);
  if (m === null) throw new Error(`no metric ${name}`);
  return Number(m[1]);
}

t.test('the RPC under concurrent reads, submissions and a flooding client while blocks are produced', async (t) => {
  const cleanup = stopBeforeDirRemoval(t);
  const home = t.testdir();
  const paths = homePaths(home);
  const validator = await saveNodeKey(paths.nodeKey, sha256(u32ToBytes(7_000_001)));
  const senders = Array.from({ length: SUBMITTERS }, (_, i) => {
    const secretKey = sha256(u32ToBytes(7_100_000 + i));
    const publicKey = publicKeyFromSecret(secretKey);
    return { secretKey, publicKey, address: addressFromPublicKey(publicKey) };
  });
  const genesis = {
    chainId: CHAIN_ID,
    genesisTimeMs: 1_700_000_000_000n,
    params: DEFAULT_PARAMS,
    validators: [{ name: 'v0', publicKey: validator.publicKey, power: ONE_TAG }],
    accounts: senders.map((s) => ({ address: s.address, balance: 1000n * ONE_TAG })),
  };
  await writeFile(paths.genesis, JSON.stringify(genesisToJson(genesis)));
  const config = structuredClone(DEFAULT_CONFIG);
  config.rpc.port = 0;
  config.rpc.rateLimitMax = RATE_LIMIT;
  config.rpc.rateLimitWindowMs = 10 * 60_000; // the whole test is one window
  config.admin = { enabled: true, port: 0 };
  config.consensus.blockIntervalMs = 100;
  config.consensus.emptyBlockIntervalMs = 100;
  await writeFile(paths.config, JSON.stringify(config));

  const node = await startNode(home);
  cleanup(async () => void (await node.stop()));
  const clients: Array<ReturnType<typeof client>> = [];
  const clientAt = (host: number): ReturnType<typeof client> => {
    const c = client(`127.0.0.${host}`);
    clients.push(c);
    return c;
  };
  t.teardown(() => clients.forEach((c) => c.close()));
  // The load starts once there is a block to read (before it, /v1/blocks/latest is a 404).
  const setup = clientAt(3);
  while ((await setup.get(`${node.url}/v1/blocks/latest`)).status !== 200) await new Promise((r) => setTimeout(r, 50));

  // Each submitter signs its transfers (nonces 0…) to fresh recipients and posts them one by one.
  const submitted: string[][] = senders.map(() => []);
  const submitterClients = senders.map((_, j) => clientAt(30 + j));
  const submitting = senders.map(async (s, j) => {
    const c = submitterClients[j]!;
    for (let n = 0; n < TXS_PER_SUBMITTER; n++) {
      const to = sha256(u32ToBytes(7_200_000 + j * 1000 + n)).subarray(0, 20);
      const tx = signTx({ chainId: CHAIN_ID, sender: s.publicKey, nonce: n, maxFee: ONE_TAG, body: { kind: 'transfer', to, amount: 1n } }, s.secretKey);
      const res = await c.post(`${node.url}/v1/txs`, tx.bytes);
      t.equal(res.status, 202, `submitter ${j} tx ${n} accepted`, { body: res.body });
      submitted[j]!.push('0x' + bytesToHex(tx.hash));
    }
  });

  // Readers cycle through an account, the latest block and a block by height.
  const readStatuses = new Map<number, number>();
  const reading = Array.from({ length: READERS }, async (_, i) => {
    const c = clientAt(10 + i);
    let height = 1;
    for (let r = 0; r < READS_PER_READER; r++) {
      const which = r % 3;
      const url =
        which === 0 ? `${node.url}/v1/accounts/${addressToString(senders[r % SUBMITTERS]!.address)}` : which === 1 ? `${node.url}/v1/blocks/latest` : `${node.url}/v1/blocks/${height}`;
      const res = await c.get(url);
      readStatuses.set(res.status, (readStatuses.get(res.status) ?? 0) + 1);
      if (which === 1 && res.status === 200) height = (JSON.parse(res.body) as { header: { height: number } }).header.height;
    }
  });

  // One client floods until refused (at most FLOOD_MAX requests), while the others run.
  const flooder = clientAt(9);
  const flooding = (async () => {
    for (let i = 0; i < FLOOD_MAX; i++) {
      const res = await flooder.get(`${node.url}/status`);
      if (res.status === 429) return { res, after: i };
    }
    return null;
  })();

  const limited = await flooding;
  t.not(limited, null, `the flooder is refused within ${FLOOD_MAX} requests`);
  if (limited !== null) {
    t.equal(limited.after, RATE_LIMIT, 'refused right after its limit');
    const body = JSON.parse(limited.res.body) as { error: { code: string; details: Record<string, unknown> } };
    t.equal(body.error.code, 'RPC_RATE_LIMITED');
    t.match(body.error.details, { limit: RATE_LIMIT, windowMs: config.rpc.rateLimitWindowMs });
    t.ok(Number(limited.res.headers['retry-after']) > 0, 'Retry-After says when to come back');
  }
  t.equal((await flooder.get(`${node.url}/v1/blocks/latest`)).status, 429, 'the flooder stays refused');
  t.equal((await flooder.get(`${node.url}/health`)).status, 200, '/health is served to the flooder');
  t.equal((await clientAt(8).get(`${node.url}/status`)).status, 200, 'a fresh client is served while the flooder is refused');

  await Promise.all([...submitting, ...reading]);
  t.same([...readStatuses.keys()], [200], `all ${READERS * READS_PER_READER} reads answered 200 (none 429, none 5xx)`);

  // Every submitted transfer is committed, exactly once. Each sender's nonce reaching the count is
  // the node saying so; the account's transaction index then lists each hash once.
  const checker = clientAt(2);
  for (const s of senders) {
    for (;;) {
      const account = JSON.parse((await checker.get(`${node.url}/v1/accounts/${addressToString(s.address)}`)).body) as { nonce: number };
      if (account.nonce === TXS_PER_SUBMITTER) break;
      t.ok(account.nonce < TXS_PER_SUBMITTER, 'nonce never passes the transfers sent');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  for (const [j, s] of senders.entries()) {
    const c = submitterClients[j]!; // its request budget has room left
    const page = JSON.parse((await c.get(`${node.url}/v1/accounts/${addressToString(s.address)}/txs?limit=100`)).body) as { txs: Array<{ hash: string; status: string }> };
    t.same(page.txs.map((x) => x.hash).sort(), [...submitted[j]!].sort(), `sender ${j}: each of its ${TXS_PER_SUBMITTER} transfers indexed exactly once`);
    t.ok(page.txs.every((x) => x.status === 'ok'), `sender ${j}: all succeeded`);
    for (const hash of submitted[j]!) {
      const res = await c.get(`${node.url}/v1/txs/${hash}`);
      const view = JSON.parse(res.body) as { status: string; height?: number };
      if (view.status !== 'committed') t.fail(`${hash} is ${res.status} ${view.status}`);
    }
  }

  // Memory after the load, as the node reports it on its admin listener.
  const metrics = (await checker.get(`${node.admin}/metrics`)).body;
  const rss = metric(metrics, 'process_resident_memory_bytes');
  const heap = metric(metrics, 'nodejs_heap_size_used_bytes');
  t.ok(rss > 0 && rss < RSS_BOUND_BYTES, `node RSS ${Math.round(rss / 2 ** 20)} MiB < ${RSS_BOUND_BYTES / 2 ** 20} MiB`);
  t.ok(heap > 0 && heap < HEAP_BOUND_BYTES, `node heap used ${Math.round(heap / 2 ** 20)} MiB < ${HEAP_BOUND_BYTES / 2 ** 20} MiB`);
  t.equal((await checker.get(`${node.url}/health`)).status, 200, 'the node is healthy after the load');
  t.equal(await node.stop(), 0, 'and stops cleanly');
});
