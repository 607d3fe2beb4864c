/**
 * The bridge as a devnet user meets it: `tagger start` runs the embedded local EVM with the contracts
 * deployed; `tagger bridge deposit --wait` mints, `tagger bridge withdraw` burns and the node's own
 * relayer releases it on the local EVM; `tagger bridge audit` matches. Then kill -9 and restart: the
 * local EVM replays its block log, nothing is minted twice, a second deposit is minted in order, and
 * the audit still matches.
 */
import t from 'tap';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hex } from 'viem';
import { bytesToHex, ONE_TAG, secp256k1Address, secp256k1RandomSecretKey } from '../../lib/index.ts';
import { createBnbPublicClient } from '../../bridge/bnbClient.ts';
import { TAG_TOKEN } from '../../bridge/index.ts';
import { DEVNET_EVM_CHAIN_ID } from '../../node/bridgeDevnet.ts';
import { stopBeforeDirRemoval } from '../utils/cleanup.ts';
import { waitFor } from './fixtures/network.ts';

const MAIN = fileURLToPath(new URL('../../node/main.ts', import.meta.url));
const run = promisify(execFile);
const ENV = { TAGGER_PASSWORD: 'devnet', TAGGER_EVM_PORT: '0' };

type Started = { url: string; stop: (signal?: NodeJS.Signals) => Promise<number | null> };

async function startNode(home: string): Promise<Started> {
  const child = spawn(process.execPath, [MAIN, 'start', '--home', home, '--rpc-port', '0', '--block-interval-ms', '200', '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...ENV },
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

async function cli<T>(args: string[]): Promise<T> {
  const { stdout } = await run(process.execPath, [MAIN, ...args], { env: { ...process.env, ...ENV } });
  return JSON.parse(stdout) as T;
}

type Devnet = { evmRpc: string; token: Hex; bridge: Hex; devEvmAddress: Hex; devEvmKeyFile: string };
type Audit = { ok: boolean; checks: Array<{ name: string; ok: boolean }> };

t.test('devnet bridge: deposit, withdraw, release, audit, kill -9, restart, deposit again', async (t) => {
  const cleanup = stopBeforeDirRemoval(t);
  const home = t.testdir();
  let node = await startNode(home);
  cleanup(() => node.stop('SIGKILL'));
  const devnet = JSON.parse(await readFile(join(home, 'bridge', 'devnet.json'), 'utf8')) as Devnet;
  const dev = (await cli<{ address: string }>(['keys', 'show', 'dev', '--home', home])).address;
  // The local EVM takes a free port at each start (TAGGER_EVM_PORT=0): read the URL from devnet.json.
  const tokenBalance = async (owner: Hex): Promise<bigint> => {
    const info = JSON.parse(await readFile(join(home, 'bridge', 'devnet.json'), 'utf8')) as Devnet;
    const bnb = createBnbPublicClient({ url: info.evmRpc, chainId: DEVNET_EVM_CHAIN_ID });
    return bnb.readContract({ address: info.token, abi: TAG_TOKEN.abi, functionName: 'balanceOf', args: [owner] });
  };

  const deposit = await cli<{ nonce: number; status: string }>([
    'bridge', 'deposit', '--to', dev, '--amount', '100', '--bnb-rpc', devnet.evmRpc, '--evm-key', devnet.devEvmKeyFile, '--wait', '--rpc', node.url,
  ]);
  t.equal(deposit.nonce, 1);
  t.equal(deposit.status, 'minted', 'the deposit is minted on Tagger chain');

  const recipient: Hex = `0x${bytesToHex(secp256k1Address(secp256k1RandomSecretKey()))}`;
  const withdrawal = await cli<{ nonce: number }>(['bridge', 'withdraw', '--from', 'dev', '--to', recipient, '--amount', '40', '--home', home, '--rpc', node.url]);
  t.equal(withdrawal.nonce, 1);
  await waitFor(async () => (await tokenBalance(recipient)) === 40n * ONE_TAG, 'the node relays the checkpoint and releases the withdrawal', 180_000);

  const audit = await cli<Audit>(['bridge', 'audit', '--json', '--bnb-rpc', devnet.evmRpc, '--rpc', node.url]);
  t.ok(audit.ok, `audit: ${JSON.stringify(audit.checks)}`);
  t.equal(audit.checks.length, 4);

  // kill -9, restart: the local EVM replays its log; the chain does not mint nonce 1 again.
  await node.stop('SIGKILL');
  node = await startNode(home);
  const again = JSON.parse(await readFile(join(home, 'bridge', 'devnet.json'), 'utf8')) as Devnet;
  t.equal(again.bridge, devnet.bridge, 'same contracts after the restart');
  t.equal(await tokenBalance(recipient), 40n * ONE_TAG, 'the release survived the restart');
  const second = await cli<{ nonce: number; status: string }>([
    'bridge', 'deposit', '--to', dev, '--amount', '7', '--bnb-rpc', again.evmRpc, '--evm-key', devnet.devEvmKeyFile, '--wait', '--rpc', node.url,
  ]);
  t.equal(second.nonce, 2);
  t.equal(second.status, 'minted');
  const status = await cli<{ tagger: { globals: { bridgedSupply: string; nextDepositNonce: number } } }>(['bridge', 'status', '--json', '--rpc', node.url]);
  t.equal(BigInt(status.tagger.globals.bridgedSupply), 67n * ONE_TAG, '100 + 7 minted once each, 40 burnt');
  t.equal(status.tagger.globals.nextDepositNonce, 3);
  const audit2 = await cli<Audit>(['bridge', 'audit', '--json', '--bnb-rpc', again.evmRpc, '--rpc', node.url]);
  t.ok(audit2.ok, `audit after restart: ${JSON.stringify(audit2.checks)}`);
});
