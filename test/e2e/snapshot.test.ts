/**
 * Pruning and snapshots with real node processes on 127.0.0.1: a validator that prunes to a small
 * window keeps producing blocks, answers 410 PRUNED below its window, compacts on the admin
 * listener's request, restarts cleanly and writes snapshots; a new home restored from one of them
 * (`tagger snapshot restore`) starts at the snapshot's height and follows the chain by block sync.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { StatusJson } from '../../sdk/index.ts';
import { ChainStore } from '../../state/index.ts';
import { parseGenesisJson } from '../../genesis/index.ts';
import { homePaths } from '../../node/home.ts';
import { listSnapshots, pruneSnapshots, snapshotStoreHead, snapshotsDir } from '../../node/snapshot.ts';
import { TestNetwork, freePorts, waitFor } from './fixtures/network.ts';

const MAIN = fileURLToPath(new URL('../../node/main.ts', import.meta.url));
const run = promisify(execFile);

async function cli(args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [MAIN, ...args]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** What `tagger snapshot create` does, in this process: snapshot the stopped node's head, keep 2. */
async function offlineSnapshot(home: string): Promise<number> {
  const genesis = parseGenesisJson(await readFile(homePaths(home).genesis, 'utf8'));
  const store = await ChainStore.open(homePaths(home).chainDb);
  try {
    const { manifest } = await snapshotStoreHead(store, genesis.chainId, snapshotsDir(home));
    await pruneSnapshots(snapshotsDir(home), 2);
    return manifest.height;
  } finally {
    await store.close();
  }
}

async function editConfig(home: string, edit: (c: Record<string, Record<string, unknown>>) => void): Promise<void> {
  const path = join(home, 'config.json');
  const config = JSON.parse(await readFile(path, 'utf8')) as Record<string, Record<string, unknown>>;
  edit(config);
  await writeFile(path, JSON.stringify(config, null, 2));
}

t.test('a pruning validator keeps its window and writes snapshots; a node restored from one follows the chain', async (t) => {
  const t0 = Date.now();
  const net = await TestNetwork.create(t, 1, 'tagger-snapshot-e2e');
  const v = net.nodes[0]!;
  const [adminPort] = (await freePorts(1)) as [number];
  await editConfig(v.home, (c) => {
    c['storage'] = { retainBlocks: 10, pruneBatchHeights: 3, compactEveryHeights: 5 };
    c['snapshot'] = { interval: 5, keep: 2, chunkBytes: 64 * 1024 };
    c['admin'] = { enabled: true, port: adminPort };
  });
  await net.start(0);
  const status = async (i: number): Promise<StatusJson> => net.status(i);
  await waitFor(async () => {
    const s = await status(0);
    return s.latestHeight >= 14 && s.earliestHeight >= 3;
  }, 'the validator past height 14 with its window pruned', 90_000);
  t.comment(`T+${Date.now() - t0} ms: pruned`);

  // What the window promises, over HTTP.
  const s = await status(0);
  t.ok(s.earliestHeight <= s.latestHeight - 9, `nothing inside the window of 10 is pruned (earliest ${s.earliestHeight}, latest ${s.latestHeight})`);
  for (let height = s.latestHeight - 4; height <= s.latestHeight; height++) {
    t.equal((await fetch(`${net.url(0)}/v1/blocks/${height}`)).status, 200, `block ${height} in the window is served`);
  }
  const pruned = await fetch(`${net.url(0)}/v1/blocks/1`);
  t.equal(pruned.status, 410, 'block 1 is pruned: 410');
  t.equal(((await pruned.json()) as { error: { code: string } }).error.code, 'PRUNED');
  t.equal((await fetch(`${net.url(0)}/v1/blocks/${s.earliestHeight}`)).status, 200, 'the earliest kept block is served');
  const compact = await fetch(`http://127.0.0.1:${adminPort}/storage/compact`, { method: 'POST' });
  t.equal(compact.status, 200, 'compaction on the admin listener');
  t.equal(((await compact.json()) as { ok: boolean }).ok, true);
  t.equal((await fetch(`${net.url(0)}/storage/compact`, { method: 'POST' })).status, 404, 'not on the public RPC');

  // A clean restart after pruning; an offline snapshot of the head while it is down.
  t.equal(await net.stop(0), 0, 'SIGTERM: a clean exit');
  // The same code as `tagger snapshot create` (a separate process start costs many seconds here).
  const offline = await offlineSnapshot(v.home);
  const snapshots = join(v.home, 'snapshots');
  const listed = await listSnapshots(snapshots);
  t.equal(listed.length, 2, 'snapshot.keep bounds the snapshots kept');
  t.equal(listed[0], offline, 'the offline snapshot is the newest');
  t.ok((await readdir(snapshots)).every((n) => /^\d+$/.test(n)), 'no temporary directory is left behind');
  const h = listed[1]!;
  t.equal(h % 5, 0, `a periodic snapshot at a multiple of snapshot.interval (${h})`);
  t.comment(`T+${Date.now() - t0} ms: offline snapshot`);

  // A new home, restored by the CLI.
  const full = await net.addFullNode('full');
  const fullHome = net.nodes[full]!.home;
  const restored = await cli(['snapshot', 'restore', '--home', fullHome, '--from', join(snapshots, String(h))]);
  t.equal(restored['height'], h);
  t.equal(restored['trust'], 'genesis-validators');
  t.comment(`T+${Date.now() - t0} ms: restored`);

  // Slower blocks and a wider window after the restart, so the heights the restored node needs stay
  // within the validator's window while it starts (a restored node needs a peer holding h + 1).
  await editConfig(v.home, (c) => {
    (c['consensus'] as Record<string, unknown>)['blockIntervalMs'] = 300;
    c['storage'] = { retainBlocks: 40, pruneBatchHeights: 3, compactEveryHeights: 5 };
  });
  await Promise.all([net.start(0), net.start(full)]);
  t.comment(`T+${Date.now() - t0} ms: both started`);
  const after = await status(full);
  t.ok(after.latestHeight >= h, `the restored node starts at the snapshot's height (${after.latestHeight})`);
  t.equal(after.earliestHeight, h, 'and keeps heights from there');
  // Past the validator's height when it stopped: blocks made after the restart reach the restored node too.
  const target = offline + 3;
  await net.waitHeight([0, full], target, 90_000);
  t.comment(`T+${Date.now() - t0} ms: followed`);
  for (let height = h; height <= target; height++) {
    t.equal(await net.blockHash(full, height), await net.blockHash(0, height), `block ${height} agrees`);
  }
  t.equal((await fetch(`${net.url(full)}/v1/blocks/${h - 1}`)).status, 410, 'below the snapshot: 410 PRUNED on the restored node');
  const dev = v.devAddress;
  const [a, b] = await Promise.all([fetch(`${net.url(0)}/v1/accounts/${dev}`), fetch(`${net.url(full)}/v1/accounts/${dev}`)]);
  t.equal(((await b.json()) as { balance: string }).balance, ((await a.json()) as { balance: string }).balance, 'an account reads the same on both');
});
