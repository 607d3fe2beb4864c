/**
 * The node's lifecycle as an operator meets it, with real `tagger start` processes:
 * - SIGTERM while blocks full of transfers are being produced: the process exits 0 after "Node
 *   stopped", and on restart every block and transaction it had reported committed is still there,
 *   under the same hashes, what it had only in its mempool is simply not there, and the chain goes
 *   on — twice in a row;
 * - `--halt-height H` (planned upgrades): the node commits H and nothing after it while still serving
 *   RPC; restarted without the flag, it goes on past H.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ONE_TAG, addressFromPublicKey, addressFromString, bytesToHex, publicKeyFromSecret } from '../../lib/index.ts';
import { Keyring, TaggerClient, buildTransfer, buildTx, signTx } from '../../sdk/index.ts';
import { homePaths } from '../../node/home.ts';
import { getJson, waitFor } from './fixtures/network.ts';
import { stopBeforeDirRemoval } from '../utils/cleanup.ts';

const MAIN = fileURLToPath(new URL('../../node/main.ts', import.meta.url));
const RECIPIENT = 'tag1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc52hqkx3';

type Started = { url: string; log: () => string; stop: (signal?: NodeJS.Signals) => Promise<number | null> };

async function startNode(home: string, extra: string[] = []): Promise<Started> {
  const child = spawn(process.execPath, [MAIN, 'start', '--no-bridge', '--home', home, '--rpc-port', '0', '--block-interval-ms', '30', '--log-level', 'info', ...extra], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      if (err.length < 4 * 1024 * 1024) err += chunk.toString();
      const m = /RPC: (http:\/\/[^\s]+)/.exec(err);
      if (m !== null) resolve(m[1] as string);
    });
    void exited.then((code) => reject(new Error(`node exited (${code}) before serving RPC:\n${err.slice(-2000)}`)));
  });
  return {
    url,
    log: () => err,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

const heightOf = async (url: string): Promise<number> => (await getJson<{ latestHeight: number }>(`${url}/status`)).latestHeight;

t.test('SIGTERM during block production loses nothing committed and restarts cleanly, twice', async (t) => {
  const cleanup = stopBeforeDirRemoval(t);
  const home = t.testdir();
  let node = await startNode(home);
  cleanup(() => node.stop('SIGKILL'));
  const secret = await new Keyring({ dir: homePaths(home).keyring }).unlock('dev', 'devnet');
  const chainId = (await getJson<{ chainId: string }>(`${node.url}/status`)).chainId;
  const to = addressFromString(RECIPIENT);
  const dev = addressFromPublicKey(publicKeyFromSecret(secret));
  let nonce = 0;
  const committed = new Map<string, number>(); // tx hash → height, as reported before each stop

  for (let round = 0; round < 2; round++) {
    const client = new TaggerClient({ url: node.url });
    // What was only in the mempool at a stop is gone: go on from the committed nonce.
    nonce = (await client.account(dev)).nonce;
    const sent: string[] = [];
    // Fill the mempool so that blocks are being built and committed when SIGTERM arrives.
    for (let i = 0; i < 150; i++) {
      const signed = signTx(buildTx(secret, buildTransfer(to, ONE_TAG), { chainId, nonce: nonce++ }), secret);
      await client.submitTx(signed.bytes);
      sent.push('0x' + bytesToHex(signed.hash));
    }
    const start = await heightOf(node.url);
    await waitFor(async () => (await heightOf(node.url)) >= start + 2, 'two more blocks');
    for (const hash of sent) {
      const tx = await getJson<{ status: string; height?: number }>(`${node.url}/v1/txs/${hash}`);
      if (tx.status === 'committed') committed.set(hash, tx.height as number);
    }
    const before = await heightOf(node.url);
    const hashBefore = (await getJson<{ hash: string }>(`${node.url}/v1/blocks/${before}`)).hash;
    // A last batch, and SIGTERM while it is being put in blocks.
    const late: string[] = [];
    for (let i = 0; i < 100; i++) {
      const signed = signTx(buildTx(secret, buildTransfer(to, ONE_TAG), { chainId, nonce: nonce++ }), secret);
      await client.submitTx(signed.bytes);
      late.push('0x' + bytesToHex(signed.hash));
    }
    t.equal(await node.stop('SIGTERM'), 0, `round ${round}: SIGTERM exits 0`);
    t.match(node.log(), /Node stopped/, `round ${round}: the node says it stopped`);

    node = await startNode(home);
    t.ok((await heightOf(node.url)) >= before, `round ${round}: the restarted node starts at or past ${before}`);
    t.equal((await getJson<{ hash: string }>(`${node.url}/v1/blocks/${before}`)).hash, hashBefore, `round ${round}: block ${before} is the same block`);
    let kept = 0;
    for (const [hash, height] of committed) {
      const tx = await getJson<{ status: string; height: number }>(`${node.url}/v1/txs/${hash}`);
      if (tx.status === 'committed' && tx.height === height) kept++;
    }
    t.equal(kept, committed.size, `round ${round}: all ${committed.size} transactions reported committed are still committed at their heights`);
    // Of the last batch, what was committed is a prefix by nonce: no block was half kept.
    const states = await Promise.all(
      late.map(async (hash) => {
        const res = await fetch(`${node.url}/v1/txs/${hash}`);
        return res.status === 404 ? 'absent' : ((await res.json()) as { status: string }).status;
      }),
    );
    const prefix = states.indexOf('committed') === -1 ? 0 : states.lastIndexOf('committed') + 1;
    t.ok(states.slice(0, prefix).every((x) => x === 'committed'), `round ${round}: ${prefix} of the last 100 were committed before the stop, in nonce order`);
    t.ok(states.slice(prefix).every((x) => x === 'absent'), `round ${round}: the other ${100 - prefix} are gone with the mempool, none half-applied`);
  }
  const last = await heightOf(node.url);
  await waitFor(async () => (await heightOf(node.url)) > last, 'the chain goes on after the last restart');
  t.ok(committed.size > 0, `${committed.size} transactions were committed across the rounds`);
});

t.test('--halt-height: nothing is committed after it, RPC keeps serving; without it the chain goes on', async (t) => {
  const cleanup = stopBeforeDirRemoval(t);
  const home = t.testdir();
  const halt = 6;
  let node = await startNode(home, ['--halt-height', String(halt)]);
  cleanup(() => node.stop('SIGKILL'));
  await waitFor(async () => (await heightOf(node.url)) >= halt, `height ${halt}`);
  await waitFor(() => /Reached halt height/.test(node.log()), 'the node logs the halt');
  // Many block intervals later the height has not moved, and the RPC still answers.
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 100));
    t.equal(await heightOf(node.url), halt, `still at ${halt}`);
  }
  t.equal(await node.stop('SIGTERM'), 0, 'a halted node stops cleanly');
  node = await startNode(home);
  await waitFor(async () => (await heightOf(node.url)) > halt + 1, 'past the halt height after a restart without it');
  t.pass(`the chain went on past ${halt}`);
});
