/**
 * `tagger testnet --validators 4`: writes four homes, starts four validator processes on
 * 127.0.0.1, prints their RPC URLs, and stops them all on SIGTERM. A second run on the same
 * directory continues the same chain.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StatusJson } from '../../sdk/index.ts';
import { freeRange, getJson, waitFor } from './fixtures/network.ts';
import { stopBeforeDirRemoval } from '../utils/cleanup.ts';

const MAIN = fileURLToPath(new URL('../../node/main.ts', import.meta.url));

type Printed = { dir: string; nodes: Array<{ name: string; rpc: string; p2p: string; home: string }> };

/** Runs `tagger testnet`, resolves once it printed its nodes; `stop` sends SIGTERM and waits. */
async function testnet(args: string[]): Promise<{ printed: Printed; stop: () => Promise<number | null>; kill: () => void }> {
  const child = spawn(process.execPath, [MAIN, 'testnet', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const printed = await new Promise<Printed>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      try {
        resolve(JSON.parse(out) as Printed);
      } catch {
        // Not the whole document yet.
      }
    });
    void exited.then((code) => reject(new Error(`testnet exited (${code}):\n${err}`)));
  });
  return {
    printed,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
    kill: () => child.kill('SIGKILL'),
  };
}

t.test('tagger testnet runs four validators until SIGTERM, and resumes the same chain', async (t) => {
  const cleanup = stopBeforeDirRemoval(t);
  const dir = t.testdir();
  const base = await freeRange(8);
  const run = await testnet(['--validators', '4', '--dir', dir, '--base-port', String(base)]);
  cleanup(run.kill);
  const { nodes } = run.printed;
  t.equal(nodes.length, 4, 'four nodes');
  t.same(nodes.map((n) => n.rpc), [0, 1, 2, 3].map((i) => `http://127.0.0.1:${base + 2 * i}`), 'RPC on base + 2i');
  t.ok(nodes.every((n, i) => n.p2p.startsWith(`/ip4/127.0.0.1/tcp/${base + 2 * i + 1}/p2p/12D3KooW`)), 'P2P on base + 2i + 1');
  await waitFor(async () => (await Promise.all(nodes.map((n) => getJson<StatusJson>(`${n.rpc}/status`)))).every((s) => s.latestHeight >= 2), 'all four at height 2', 120_000);
  const h2 = await Promise.all(nodes.map(async (n) => (await getJson<{ hash: string }>(`${n.rpc}/v1/blocks/2`)).hash));
  t.equal(new Set(h2).size, 1, 'one block at height 2');
  t.equal(await run.stop(), 0, 'SIGTERM stops the testnet cleanly');
  for (const n of nodes) {
    const down = await fetch(`${n.rpc}/status`).then(() => false, () => true);
    t.ok(down, `${n.name} is stopped`);
  }

  const again = await testnet(['--dir', dir]);
  cleanup(again.kill);
  t.same(again.printed.nodes.map((n) => n.rpc), nodes.map((n) => n.rpc), 'the same nodes');
  await waitFor(async () => (await getJson<StatusJson>(`${nodes[0]!.rpc}/status`)).latestHeight >= 4, 'the chain goes on', 120_000);
  t.equal((await getJson<{ hash: string }>(`${nodes[3]!.rpc}/v1/blocks/2`)).hash, h2[0], 'on the same chain');
  t.equal(await again.stop(), 0);
});

t.test('bad arguments are usage errors', async (t) => {
  const dir = t.testdir();
  for (const args of [['--validators', '0'], ['--validators', 'x'], ['--validators', '4', '--base-port', '65530']]) {
    const child = spawn(process.execPath, [MAIN, 'testnet', '--dir', dir, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    t.not(code, 0, `${args.join(' ')} fails`);
    t.match(err, /"code":"(CLI_USAGE|TESTNET_BAD_SIZE|TESTNET_BAD_PORT)"/, `${args.join(' ')}: ${err.trim()}`);
  }
});
