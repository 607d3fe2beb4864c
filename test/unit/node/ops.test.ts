/**
 * A real single-validator node in this process: the admin listener binds 127.0.0.1 only and serves
 * /metrics with the node's metrics once blocks are committed; the public RPC serves none of it; the
 * event stream is fed by the node's commits.
 */
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { pino } from 'pino';
import { DEFAULT_CONFIG } from '../../../node/config.ts';
import { initHome } from '../../../node/home.ts';
import { TaggerNode } from '../../../node/node.ts';
import { stopBeforeDirRemoval } from '../../utils/cleanup.ts';

t.test('admin listener on 127.0.0.1 with the named metrics; public RPC without them', async (t) => {
  const cleanup = stopBeforeDirRemoval(t);
  const home = t.testdir();
  await initHome({ home, chainId: 'ops-test', devPassword: 'pw', genesisTimeMs: BigInt(Date.now()), scryptN: 1024 });
  const config = structuredClone(DEFAULT_CONFIG);
  config.rpc.port = 0;
  config.admin = { enabled: true, port: 0 };
  config.consensus.blockIntervalMs = 10;
  config.consensus.emptyBlockIntervalMs = 0;
  const node = await TaggerNode.open({ home, config, log: pino({ level: 'silent' }) });
  let stopped = false;
  cleanup(async () => {
    if (!stopped) await node.stop();
  });
  let committed = 0;
  const three = new Promise<void>((resolve) => node.onCommit(() => ++committed === 3 && resolve()));
  const rpc = await node.start();
  await three;

  const admin = node.ops.admin?.server.address();
  t.ok(admin !== null && typeof admin === 'object' && admin.address === '127.0.0.1', 'the admin listener is bound to 127.0.0.1');
  const adminUrl = `http://127.0.0.1:${admin !== null && typeof admin === 'object' ? admin.port : 0}`;
  const res = await fetch(`${adminUrl}/metrics`);
  t.equal(res.status, 200);
  const text = await res.text();
  const names = [
    'tagger_height',
    'tagger_block_interval_seconds_count',
    'tagger_block_txs_bucket',
    'tagger_blocks_committed_total',
    'tagger_mempool_txs',
    'tagger_mempool_bytes',
    'tagger_label_rounds_closed_total',
    'tagger_slashes_total{kind="annotator"}',
    'tagger_slashed_tag_total{kind="validator"}',
    'tagger_stream_subscribers',
    'nodejs_eventloop_lag_seconds',
    'nodejs_gc_duration_seconds_bucket',
    'nodejs_heap_size_used_bytes',
  ];
  for (const name of names) t.match(text, new RegExp(`^${name.replace(/[{}]/g, '\\$&')}`, 'm'), `exposes ${name}`);
  const height = Number(/^tagger_height (\d+)$/m.exec(text)?.[1]);
  t.ok(height >= 3, `tagger_height is the committed height (${height})`);
  t.match(text, /^tagger_earliest_height 1$/m, 'an archive node keeps every height from 1');
  t.ok(Number(/^tagger_blocks_committed_total (\d+)$/m.exec(text)?.[1]) >= 3, 'blocks committed are counted');
  t.equal((await fetch(`${adminUrl}/ready`)).status, 200, 'a fresh producing node is ready');
  const dashboard = await readFile(new URL('../../../docs/grafana-dashboard.json', import.meta.url), 'utf8');
  const used = new Set(dashboard.match(/\b(?:tagger|nodejs|process)_[a-z0-9_]+/g) ?? []);
  t.ok(used.size >= 15, 'the dashboard queries the metrics');
  for (const name of used) {
    const base = name.replace(/_(bucket|sum|count)$/, '');
    t.ok(text.includes(`# TYPE ${name} `) || text.includes(`# TYPE ${base} `), `the dashboard's ${name} is exported`);
  }

  for (const path of ['/metrics', '/admin/metrics']) t.equal((await fetch(`${rpc}${path}`)).status, 404, `public ${path} is 404`);
  t.equal((await fetch(`${rpc}/ready`)).status, 200);
  t.ok(node.ops.events.latest() !== null, 'commits feed the event stream log');

  await node.stop();
  stopped = true;
  const refused = await fetch(`${adminUrl}/health`).then(() => 'answered', () => 'refused');
  t.equal(refused, 'refused', 'the admin listener closes with the node');
});

t.test('config: admin off by default; bad CORS origins and limits are rejected', async (t) => {
  const { parseConfig } = await import('../../../node/config.ts');
  t.equal(DEFAULT_CONFIG.admin.enabled, false);
  t.strictSame(DEFAULT_CONFIG.rpc.corsOrigins, []);
  t.strictSame(parseConfig({ rpc: { corsOrigins: ['https://a.example', 'http://localhost:3000', '*'] } }).rpc.corsOrigins, ['https://a.example', 'http://localhost:3000', '*']);
  for (const bad of [{ rpc: { corsOrigins: ['https://a.example/path'] } }, { rpc: { rateLimitWindowMs: 10 } }, { admin: { port: 70000 } }, { admin: { host: '0.0.0.0' } }]) {
    t.throws(() => parseConfig(bad), { code: /^CONFIG_(INVALID_VALUE|UNKNOWN_KEY)$/ }, JSON.stringify(bad));
  }
});

t.test('metrics count label rounds closed and slashes from committed end-of-block events', async (t) => {
  const { NodeMetrics } = await import('../../../node/metrics.ts');
  const status = { chainId: 'c', nodeId: 'n', height: 7, blockHash: new Uint8Array(32), stateRoot: new Uint8Array(32), timeMs: 0n, syncing: false, mempoolTxs: 2, mempoolBytes: 300, validatorAddress: null };
  const m = new NodeMetrics({ status: () => status, round: () => 4, p2p: () => null, inboxDepth: () => null, stream: () => ({ subscribers: 1, slowDropped: 2, rejected: 0, entries: 0, bytes: 0 }) });
  const header = { timeMs: 1000n } as never;
  const ev = (type: string, attributes: Array<[string, string]>) => ({ type, attributes });
  const receipts = [
    { txHash: new Uint8Array(32), status: 0, code: '', fee: 0n, events: [ev('round_closed', [['finalized', '5'], ['slashed', '2000000000000000000']]), ev('round_closed', [['finalized', '1'], ['slashed', '0']])] },
    { txHash: new Uint8Array(32), status: 0, code: '', fee: 0n, events: [ev('validator_slashed', [['amount', '500000000000000000']])] },
  ];
  m.recordCommit({ height: 7, hash: new Uint8Array(32), block: { header, lastCommit: new Uint8Array(0), txs: [] }, txs: [], receipts });
  m.recordCommit({ height: 8, hash: new Uint8Array(32), block: { header: { timeMs: 3500n } as never, lastCommit: new Uint8Array(0), txs: [] }, txs: [], receipts: [] });
  const text = (await m.render()).body;
  t.match(text, /^tagger_label_rounds_closed_total 2$/m);
  t.match(text, /^tagger_label_items_finalized_total 6$/m);
  t.match(text, /^tagger_slashes_total\{kind="annotator"\} 1$/m);
  t.match(text, /^tagger_slashes_total\{kind="validator"\} 1$/m);
  t.match(text, /^tagger_slashed_tag_total\{kind="annotator"\} 2$/m);
  t.match(text, /^tagger_slashed_tag_total\{kind="validator"\} 0\.5$/m);
  t.match(text, /^tagger_block_interval_seconds_sum 2\.5$/m);
  t.match(text, /^tagger_consensus_round 4$/m);
  t.match(text, /^tagger_mempool_bytes 300$/m);
  t.match(text, /^tagger_stream_closed_total\{reason="slow"\} 2$/m);
});
