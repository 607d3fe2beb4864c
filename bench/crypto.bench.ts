/** Signature verification per second: Node's native ed25519 vs noble, one core and all cores. */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { ed25519 } from '@noble/curves/ed25519.js';
import { publicKeyFromSecret, sha256, sign, u32ToBytes, verify } from '../lib/index.ts';

type Sample = { publicKey: Uint8Array; message: Uint8Array; signature: Uint8Array };

function samples(n: number): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const secret = sha256(u32ToBytes(i));
    const message = sha256(u32ToBytes(i + 1_000_000));
    out.push({ publicKey: publicKeyFromSecret(secret), message, signature: sign(secret, message) });
  }
  return out;
}

function rate(fn: (s: Sample) => boolean, set: Sample[], seconds: number): number {
  const end = performance.now() + seconds * 1000;
  let count = 0;
  const start = performance.now();
  while (performance.now() < end) {
    for (const s of set) if (!fn(s)) throw new Error('verification failed');
    count += set.length;
  }
  return Math.round(count / ((performance.now() - start) / 1000));
}

/** Worker body: verifies for `seconds` and posts its count. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const prefix = Buffer.from('302a300506032b6570032100', 'hex');
const set = workerData.set.map((s) => ({ key: createPublicKey({ key: Buffer.concat([prefix, Buffer.from(s.publicKey)]), format: 'der', type: 'spki' }), message: Buffer.from(s.message), signature: Buffer.from(s.signature) }));
const end = Date.now() + workerData.seconds * 1000;
let count = 0;
while (Date.now() < end) { for (const s of set) { if (!verify(null, s.message, s.key, s.signature)) throw new Error('bad'); } count += set.length; }
parentPort.postMessage(count);
`;

async function nativeAllCores(set: Sample[], seconds: number): Promise<number> {
  const threads = availableParallelism();
  const counts = await Promise.all(
    Array.from({ length: threads }, () => new Promise<number>((resolve, reject) => {
      const w = new Worker(WORKER, { eval: true, workerData: { set, seconds } });
      w.once('message', resolve);
      w.once('error', reject);
    })),
  );
  return Math.round(counts.reduce((a, b) => a + b, 0) / seconds);
}

export async function run(): Promise<Record<string, unknown>> {
  const set = samples(256);
  const seconds = 3;
  return {
    cores: availableParallelism(),
    nativeVerifyPerSecOneCore: rate((s) => verify(s.publicKey, s.message, s.signature), set, seconds),
    // The library's own verify, as published; lib's verifyNoble adds a torsion check on R on top.
    nobleVerifyPerSecOneCore: rate((s) => ed25519.verify(s.signature, s.message, s.publicKey, { zip215: false }), set.slice(0, 64), seconds),
    nativeVerifyPerSecAllCores: await nativeAllCores(set, seconds),
  };
}
