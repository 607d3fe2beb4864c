/**
 * End to end on a real devnet node in a child process: 20,000 signed transfers from 2,000 senders
 * submitted over HTTP to POST /v1/txs (binary bodies, 32 requests in flight), until all are
 * committed. Reports submissions/s, committed transfers/s and the blocks they took.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ONE_TAG, addressFromPublicKey, addressToString, publicKeyFromSecret, sha256, u32ToBytes } from '../lib/index.ts';
import { signTx } from '../runtime/index.ts';
import { DEFAULT_PARAMS } from '../state/index.ts';
import { genesisToJson } from '../genesis/index.ts';
import { DEFAULT_CONFIG } from '../node/config.ts';
import { homePaths, saveNodeKey } from '../node/home.ts';

const SENDERS = 2_000;
const PER_SENDER = 10;
const IN_FLIGHT = 32;
const MAIN = fileURLToPath(new URL('../node/main.ts', import.meta.url));

async function startNode(home: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [MAIN, 'start', '--home', home, '--rpc-port', '0', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /RPC: (http:\/\/\S+)/.exec(err);
      if (m !== null) resolve(m[1] as string);
    });
    child.on('exit', (code) => reject(new Error(`node exited ${code}: ${err}`)));
  });
  return { url, stop: async () => void (child.kill('SIGTERM'), await new Promise((r) => child.on('exit', r))) };
}

export async function run(): Promise<Record<string, unknown>> {
  const home = await mkdtemp(join(tmpdir(), 'tagger-bench-'));
  const paths = homePaths(home);
  const validator = await saveNodeKey(paths.nodeKey, sha256(u32ToBytes(424242)));
  const keys = Array.from({ length: SENDERS }, (_, i) => {
    const secretKey = sha256(u32ToBytes(i + 1));
    const publicKey = publicKeyFromSecret(secretKey);
    return { secretKey, publicKey, address: addressFromPublicKey(publicKey) };
  });
  const genesis = {
    chainId: 'bench-e2e',
    genesisTimeMs: 1_700_000_000_000n,
    params: DEFAULT_PARAMS,
    validators: [{ name: 'v0', publicKey: validator.publicKey, power: ONE_TAG }],
    accounts: keys.map((k) => ({ address: k.address, balance: 1000n * ONE_TAG })),
  };
  await writeFile(paths.genesis, JSON.stringify(genesisToJson(genesis)));
  const config = structuredClone(DEFAULT_CONFIG);
  config.consensus.blockIntervalMs = 250;
  await writeFile(paths.config, JSON.stringify(config));
  const txs: Uint8Array[] = [];
  for (let n = 0; n < PER_SENDER; n++) {
    for (const k of keys) {
      txs.push(signTx({ chainId: genesis.chainId, sender: k.publicKey, nonce: n, maxFee: ONE_TAG, body: { kind: 'transfer', to: keys[0]!.address, amount: 1n } }, k.secretKey).bytes);
    }
  }
  const node = await startNode(home);
  try {
    const startStatus = (await (await fetch(`${node.url}/status`)).json()) as { latestHeight: number };
    const t0 = performance.now();
    let next = 0;
    let rejected = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < txs.length) {
          const body = txs[next++]!;
          const res = await fetch(`${node.url}/v1/txs`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body });
          if (res.status !== 202) rejected++;
          await res.arrayBuffer();
        }
      }),
    );
    const submitSeconds = (performance.now() - t0) / 1000;
    const target = keys[SENDERS - 1]!;
    for (;;) {
      const account = (await (await fetch(`${node.url}/v1/accounts/${addressToString(target.address)}`)).json()) as { nonce: number };
      const status = (await (await fetch(`${node.url}/status`)).json()) as { mempool: { txs: number } };
      if (account.nonce === PER_SENDER && status.mempool.txs === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const totalSeconds = (performance.now() - t0) / 1000;
    const endStatus = (await (await fetch(`${node.url}/status`)).json()) as { latestHeight: number; latestBlockHash: string };
    return {
      transfers: txs.length,
      rejected,
      submittedPerSec: Math.round(txs.length / submitSeconds),
      committedPerSec: Math.round(txs.length / totalSeconds),
      blocks: endStatus.latestHeight - startStatus.latestHeight,
      lastBlockHash: endStatus.latestBlockHash,
    };
  } finally {
    await node.stop();
    await rm(home, { recursive: true, force: true });
  }
}
