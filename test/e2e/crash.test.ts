/**
 * kill -9 at random instants while a node commits blocks: every restart must open cleanly (the
 * rebuilt state tree matches the committed root), keep every block it reported committed, and
 * keep producing blocks.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ChainStore } from '../../state/index.ts';
import { bytesToHex } from '../../lib/index.ts';
import { homePaths, initHome } from '../../node/home.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/busyNode.ts', import.meta.url));

/** A small seeded generator (mulberry32) so a failing run can be replayed with CRASH_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

type Run = { committed: Map<number, string> };

/** Starts the busy node, waits until it has committed `minBlocks` more blocks plus a random few ms, then SIGKILLs it. */
async function runAndKill(home: string, minBlocks: number, extraMs: number): Promise<Run> {
  const child = spawn(process.execPath, [FIXTURE, home], { stdio: ['ignore', 'pipe', 'inherit'] });
  const committed = new Map<number, string>();
  let buffer = '';
  let seen = 0;
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`busy node exited early: ${code} ${signal}`))));
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const m = /^committed (\d+) ([0-9a-f]{64})$/.exec(line);
        if (m === null) continue;
        committed.set(Number(m[1]), m[2] as string);
        if (++seen === minBlocks) setTimeout(() => child.kill('SIGKILL'), extraMs);
      }
    });
  });
  return { committed };
}

t.test('the store survives SIGKILL at random instants', async (t) => {
  const seed = Number(process.env['CRASH_SEED'] ?? 20261122);
  const random = prng(seed);
  t.comment(`CRASH_SEED=${seed}`);
  const home = t.testdir();
  await initHome({ home, chainId: 'crash-test', devPassword: 'devnet', genesisTimeMs: 1_700_000_000_000n, scryptN: 1024 });
  const paths = homePaths(home);
  const everCommitted = new Map<number, string>();
  for (let round = 0; round < 6; round++) {
    const { committed } = await runAndKill(home, 3, Math.floor(random() * 80));
    for (const [h, root] of committed) everCommitted.set(h, root);
    const store = await ChainStore.open(paths.chainDb); // throws STORE_CORRUPT if the root does not match
    const head = store.head;
    t.ok(head !== null, `round ${round}: head exists`);
    const reported = Math.max(...committed.keys());
    t.ok(head!.height >= reported, `round ${round}: head ${head!.height} keeps reported height ${reported} (seed ${seed})`);
    const expected = everCommitted.get(head!.height);
    if (expected !== undefined) t.equal(bytesToHex(head!.stateRoot), expected, `round ${round}: root at ${head!.height} as reported`);
    for (const h of [1, reported]) t.ok((await store.blockBytes(h)) !== undefined, `round ${round}: block ${h} stored`);
    await store.close();
  }
});
