/**
 * Bridge latency on the devnet as `npm start` runs it (one validator, default config: blocks every
 * second when there are transactions, every 5 s when idle; checkpoint every 5 blocks; the embedded
 * EVM mines a block every second and counts 2 behind its head as final; the node polls BNB Chain every
 * 2 s). A real `tagger start` process in a temporary home:
 *   - deposit: from the BNB Chain receipt of `deposit` to the TAG being spendable on Tagger chain;
 *   - burn → release: from the committed `withdraw` transaction to the TAG arriving at the BNB Chain
 *     recipient (checkpoint closes, is signed, relayed, the withdrawal proven and released).
 * Runs WITHDRAWALS sequential withdrawals and reports each, the median and the maximum.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hex } from 'viem';
import { addressFromString, ONE_TAG, secp256k1Address, secp256k1RandomSecretKey, bytesToHex } from '../lib/index.ts';
import { createBnbPublicClient, createBnbWalletClient } from '../bridge/bnbClient.ts';
import { TAGGER_BRIDGE, TAG_TOKEN } from '../bridge/index.ts';
import { DEVNET_EVM_CHAIN_ID, loadEvmKey } from '../node/bridgeDevnet.ts';
import { Keyring, TaggerClient, sendTx } from '../sdk/index.ts';

const MAIN = fileURLToPath(new URL('../node/main.ts', import.meta.url));
const WITHDRAWALS = 5;
const hex = (b: Uint8Array): Hex => `0x${bytesToHex(b)}`;

async function until<T>(what: string, probe: () => Promise<T | null>, limitMs = 180_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`bridge latency bench: gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const home = await mkdtemp(join(tmpdir(), 'tagger-bridge-bench-'));
  const child = spawn(process.execPath, [MAIN, 'start', '--home', home, '--rpc-port', '0', '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TAGGER_PASSWORD: 'devnet', TAGGER_EVM_PORT: '0' },
  });
  try {
    let err = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (c: Buffer) => {
        err += c.toString();
        const m = /RPC: (http:\/\/[^\s]+)/.exec(err);
        if (m !== null) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`devnet exited (${code}):\n${err}`)));
    });
    const info = JSON.parse(await readFile(join(home, 'bridge', 'devnet.json'), 'utf8')) as { evmRpc: string; token: Hex; bridge: Hex };
    const userKey = (await loadEvmKey(join(home, 'bridge', 'dev-evm-key.json'), false))!;
    const bnb = createBnbPublicClient({ url: info.evmRpc, chainId: DEVNET_EVM_CHAIN_ID });
    const wallet = createBnbWalletClient({ url: info.evmRpc, chainId: DEVNET_EVM_CHAIN_ID }, hex(userKey));
    const tagger = new TaggerClient({ url });
    const keyring = new Keyring({ dir: join(home, 'keyring') });
    const devSecret = await keyring.unlock('dev', 'devnet');
    const dev = (await keyring.show('dev')).address;

    // Deposit latency.
    const approve = await wallet.writeContract({ address: info.token, abi: TAG_TOKEN.abi, functionName: 'approve', args: [info.bridge, 1_000n * ONE_TAG] });
    await bnb.waitForTransactionReceipt({ hash: approve });
    const before = BigInt((await tagger.account(dev)).balance);
    const depositTx = await wallet.writeContract({ address: info.bridge, abi: TAGGER_BRIDGE.abi, functionName: 'deposit', args: [hex(addressFromString(dev)), 100n * ONE_TAG] });
    await bnb.waitForTransactionReceipt({ hash: depositTx });
    const depositStart = performance.now();
    await until('the deposit minted', async () => (BigInt((await tagger.account(dev)).balance) === before + 100n * ONE_TAG ? true : null));
    const depositMs = Math.round(performance.now() - depositStart);

    // Burn → release, sequentially.
    const releaseMs: number[] = [];
    for (let i = 0; i < WITHDRAWALS; i++) {
      const recipient = secp256k1Address(secp256k1RandomSecretKey());
      const burn = await sendTx(tagger, devSecret, { kind: 'withdraw', recipient, amount: 1n * ONE_TAG });
      if (burn.committed?.receipt.status !== 'ok') throw new Error(`withdraw failed: ${JSON.stringify(burn.committed?.receipt)}`);
      const start = performance.now();
      await until(`withdrawal ${i + 1} released`, async () => {
        const got = await bnb.readContract({ address: info.token, abi: TAG_TOKEN.abi, functionName: 'balanceOf', args: [hex(recipient)] });
        return got === ONE_TAG ? true : null;
      });
      releaseMs.push(Math.round(performance.now() - start));
    }
    const sorted = [...releaseMs].sort((a, b) => a - b);
    return {
      depositToMintMs: depositMs,
      burnToReleaseMs: releaseMs,
      burnToReleaseP50Ms: sorted[Math.floor(sorted.length / 2)],
      burnToReleaseMaxMs: sorted[sorted.length - 1],
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(home, { recursive: true, force: true });
  }
}
