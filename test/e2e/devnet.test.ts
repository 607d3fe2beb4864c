/**
 * The README's flow with real processes: `tagger start` creates a devnet home and serves RPC;
 * `tagger keys add` and `tagger tx transfer` move TAG; queries see it; a restart keeps everything.
 */
import t from 'tap';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { stopBeforeDirRemoval } from '../utils/cleanup.ts';

const MAIN = fileURLToPath(new URL('../../node/main.ts', import.meta.url));
const run = promisify(execFile);

type Started = { url: string; stop: (signal?: NodeJS.Signals) => Promise<number | null> };

async function startNode(home: string): Promise<Started> {
  const child = spawn(process.execPath, [MAIN, 'start', '--home', home, '--rpc-port', '0', '--block-interval-ms', '50', '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const m = /RPC: (http:\/\/[^\s]+)/.exec(err);
      if (m !== null) resolve(m[1] as string);
    });
    void exited.then((code) => reject(new Error(`node exited (${code}) before serving RPC:\n${err}`)));
  });
  return {
    url,
    stop: async (signal = 'SIGTERM') => {
      child.kill(signal);
      return exited;
    },
  };
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<unknown> {
  const { stdout } = await run(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env } });
  return JSON.parse(stdout);
}

t.test('devnet: start, transfer with the CLI, restart', async (t) => {
  const cleanup = stopBeforeDirRemoval(t);
  const home = t.testdir();
  const node = await startNode(home);
  cleanup(() => node.stop('SIGKILL'));

  const status = (await cli(['query', 'status', '--node', node.url])) as { chainId: string; latestHeight: number };
  t.equal(status.chainId, 'tagger-devnet-1');

  const bob = (await cli(['keys', 'add', 'bob', '--home', home], { TAGGER_PASSWORD: 'bob-password' })) as { address: string };
  t.match(bob.address, /^tag1[02-9ac-hj-np-z]{38}$/);

  const result = (await cli(['tx', 'transfer', '--from', 'dev', '--to', bob.address, '--amount', '12.5', '--home', home, '--node', node.url], {
    TAGGER_PASSWORD: 'devnet',
  })) as { status: string; height: number; receipt: { status: string } };
  t.equal(result.status, 'committed');
  t.equal(result.receipt.status, 'ok');

  const account = (await cli(['query', 'account', bob.address, '--node', node.url])) as { balance: string; nonce: number };
  t.equal(account.balance, (125n * 10n ** 17n).toString(), 'bob holds 12.5 TAG');

  const block = (await cli(['query', 'block', String(result.height), '--node', node.url])) as { header: { height: number } };
  t.equal(block.header.height, result.height);

  t.equal(await node.stop('SIGTERM'), 0, 'SIGTERM stops the node cleanly');

  const again = await startNode(home);
  cleanup(() => again.stop('SIGKILL'));
  const after = (await cli(['query', 'account', bob.address, '--node', again.url])) as { balance: string };
  t.equal(after.balance, account.balance, 'balance survives a restart');
  const status2 = (await cli(['query', 'status', '--node', again.url])) as { latestHeight: number };
  t.ok(status2.latestHeight >= result.height, 'height survives a restart');
});

t.test('bad input at the CLI gives a typed error and a non-zero exit', async (t) => {
  const home = t.testdir();
  await t.rejects(cli(['query', 'account', 'tag1notanaddress', '--node', 'http://127.0.0.1:1']), /ADDRESS_INVALID/);
  await t.rejects(cli(['genesis', 'validate', '--file', `${home}/missing.json`]), /ENOENT|CLI_FAILED/);
  await t.rejects(cli(['frobnicate']), /CLI_USAGE/);
});
