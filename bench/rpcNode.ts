/**
 * For bench/rpc.bench.ts: a devnet node process (`tagger start`) with pre-funded accounts and a
 * config of the bench's choosing, its memory as it reports it on the admin listener, and fast
 * transfer signing (native ed25519, checked byte-for-byte against runtime's signTx).
 */
import { spawn } from 'node:child_process';
import { createPrivateKey, sign as nativeSign, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ONE_TAG, addressFromPublicKey, amountToBytes, encode, equalBytes, publicKeyFromSecret, sha256, u32ToBytes } from '../lib/index.ts';
import { TX_KIND, signTx, txSigningBytes, type Tx } from '../runtime/index.ts';
import { DEFAULT_PARAMS } from '../state/index.ts';
import { genesisToJson } from '../genesis/index.ts';
import { DEFAULT_CONFIG, type NodeConfig } from '../node/config.ts';
import { homePaths, saveNodeKey } from '../node/home.ts';

const MAIN = fileURLToPath(new URL('../node/main.ts', import.meta.url));
/** DER header of a PKCS#8 ed25519 private key; the 32-byte seed follows. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

export type BenchKey = { secretKey: Uint8Array; publicKey: Uint8Array; address: Uint8Array; keyObject: KeyObject };

export function benchKey(seed: number): BenchKey {
  const secretKey = sha256(u32ToBytes(seed));
  const publicKey = publicKeyFromSecret(secretKey);
  const keyObject = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, secretKey]), format: 'der', type: 'pkcs8' });
  return { secretKey, publicKey, address: addressFromPublicKey(publicKey), keyObject };
}

/**
 * A signed transfer's wire bytes, signed natively (~20× noble's pace, which would otherwise bound
 * the client). The layout is runtime/tx.ts's; `checkSigner` proves they agree.
 */
export function signTransfer(chainId: string, key: BenchKey, nonce: number, to: Uint8Array): Uint8Array {
  const tx: Tx = { chainId, sender: key.publicKey, nonce, maxFee: ONE_TAG, body: { kind: 'transfer', to, amount: 1n } };
  const signature = new Uint8Array(nativeSign(null, txSigningBytes(tx), key.keyObject));
  return encode([[chainId, key.publicKey, nonce, amountToBytes(ONE_TAG), TX_KIND.transfer, [to, amountToBytes(1n)]], signature]);
}

export function checkSigner(chainId: string): void {
  const key = benchKey(1);
  const to = sha256(u32ToBytes(2)).subarray(0, 20);
  const reference = signTx({ chainId, sender: key.publicKey, nonce: 7, maxFee: ONE_TAG, body: { kind: 'transfer', to, amount: 1n } }, key.secretKey).bytes;
  if (!equalBytes(signTransfer(chainId, key, 7, to), reference)) throw new Error('bench signer disagrees with signTx');
}

export type BenchNode = { url: string; admin: string; home: string; stop: () => Promise<void> };

/** Writes a devnet home funding `accounts`, starts `tagger start` on it, and reads its URLs. */
export async function startBenchNode(chainId: string, accounts: readonly Uint8Array[], tune: (c: NodeConfig) => void): Promise<BenchNode> {
  const home = await mkdtemp(join(tmpdir(), 'tagger-rpcbench-'));
  const paths = homePaths(home);
  const validator = await saveNodeKey(paths.nodeKey, sha256(u32ToBytes(4_242_424)));
  const genesis = {
    chainId,
    genesisTimeMs: 1_700_000_000_000n,
    params: DEFAULT_PARAMS,
    validators: [{ name: 'v0', publicKey: validator.publicKey, power: ONE_TAG }],
    accounts: accounts.map((address) => ({ address, balance: 1000n * ONE_TAG })),
  };
  await writeFile(paths.genesis, JSON.stringify(genesisToJson(genesis)));
  const config = structuredClone(DEFAULT_CONFIG);
  config.rpc.port = 0;
  config.admin = { enabled: true, port: 0 };
  tune(config);
  await writeFile(paths.config, JSON.stringify(config));
  const child = spawn(process.execPath, [MAIN, 'start', '--home', home, '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const urls = await new Promise<{ url: string; admin: string }>((resolve, reject) => {
    let err = '';
    let admin: string | null = null;
    const onData = (c: Buffer): void => {
      err += c.toString();
      admin ??= /"admin":"(http:\/\/[^"]+)"/.exec(err)?.[1] ?? null;
      const rpc = /RPC: (http:\/\/\S+)/.exec(err)?.[1];
      if (admin !== null && rpc !== undefined) {
        child.stderr.off('data', onData);
        child.stderr.resume();
        resolve({ url: rpc, admin });
      }
    };
    child.stderr.on('data', onData);
    void exited.then(() => reject(new Error(`node exited before serving RPC:\n${err}`)));
  });
  return {
    ...urls,
    home,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      await rm(home, { recursive: true, force: true });
    },
  };
}

export type NodeMemory = { rssMiB: number; heapUsedMiB: number; heapTotalMiB: number; externalMiB: number };

/** The node's RSS, V8 heap (used, and reserved) and memory outside it (Buffers), from its Prometheus metrics. */
export async function nodeMemory(admin: string): Promise<NodeMemory> {
  const text = await (await fetch(`${admin}/metrics`)).text();
  const read = (name: string): number => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  const mib = (name: string): number => Math.round(read(name) / 2 ** 20);
  return { rssMiB: mib('process_resident_memory_bytes'), heapUsedMiB: mib('nodejs_heap_size_used_bytes'), heapTotalMiB: mib('nodejs_heap_size_total_bytes'), externalMiB: mib('nodejs_external_memory_bytes') };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
