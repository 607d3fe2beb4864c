/**
 * State tree benchmark: build a 1,000,000-key tree with `fromEntries`, apply batches of 10,000
 * random 32-byte keys (40-byte values) to it, and time proof generation and verification.
 * `run()` prints nothing and returns the figures.
 */
import { randomBytes } from 'node:crypto';
import { SparseMerkleTree, verifyStateProof, type StateProof } from '../state/smt.ts';

const TREE_KEYS = 1_000_000;
const BATCH_KEYS = 10_000;
const KEY_BYTES = 32;
const VALUE_BYTES = 40;
const RUNS = 5;
const PROOFS = 20_000;

type Entry = readonly [Uint8Array, Uint8Array];

/** `count` random entries, viewed out of one allocation so the data set itself stays small. */
function randomEntries(count: number): Entry[] {
  const bytes = new Uint8Array(randomBytes(count * (KEY_BYTES + VALUE_BYTES)));
  const out: Entry[] = [];
  for (let i = 0, at = 0; i < count; i++, at += KEY_BYTES + VALUE_BYTES) {
    out.push([bytes.subarray(at, at + KEY_BYTES), bytes.subarray(at + KEY_BYTES, at + KEY_BYTES + VALUE_BYTES)]);
  }
  return out;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

export async function run(): Promise<Record<string, unknown>> {
  const entries = randomEntries(TREE_KEYS);
  const heapBefore = process.memoryUsage().heapUsed;
  let t0 = performance.now();
  const tree = SparseMerkleTree.fromEntries(entries);
  const buildMs = performance.now() - t0;
  const heapTreeMB = (process.memoryUsage().heapUsed - heapBefore) / 1e6;

  // (a) Batches of new random keys (inserts: the costliest kind of change), each applied to the
  // million-key tree. One warm-up batch, not counted.
  tree.update(randomEntries(BATCH_KEYS));
  const insertRuns: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const batch = randomEntries(BATCH_KEYS);
    t0 = performance.now();
    const next = tree.update(batch);
    insertRuns.push(performance.now() - t0);
    if (next.size !== TREE_KEYS + BATCH_KEYS) throw new Error('bench: wrong size after update');
  }
  // The same, changing the values of 10,000 existing keys.
  const changeRuns: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const fresh = randomBytes(BATCH_KEYS * VALUE_BYTES);
    const batch: Entry[] = [];
    for (let i = 0; i < BATCH_KEYS; i++) {
      const key = (entries[(r * 7919 + i * 97) % TREE_KEYS] as Entry)[0];
      batch.push([key, new Uint8Array(fresh.buffer, fresh.byteOffset + i * VALUE_BYTES, VALUE_BYTES)]);
    }
    t0 = performance.now();
    tree.update(batch);
    changeRuns.push(performance.now() - t0);
  }

  // (b) Proofs of present and of absent keys, then their verification.
  const root = tree.root;
  const probes: Uint8Array[] = [];
  for (let i = 0; i < PROOFS / 2; i++) probes.push((entries[(i * 104_729) % TREE_KEYS] as Entry)[0]);
  for (const [key] of randomEntries(PROOFS / 2)) probes.push(key);
  const proofs: StateProof[] = [];
  t0 = performance.now();
  for (const key of probes) proofs.push(tree.prove(key));
  const proveMs = performance.now() - t0;
  let siblings = 0;
  for (const proof of proofs) siblings += proof.siblings.length;
  t0 = performance.now();
  for (const proof of proofs) if (!verifyStateProof(root, proof)) throw new Error('bench: proof failed');
  const verifyMs = performance.now() - t0;

  return {
    treeKeys: TREE_KEYS,
    buildMs: Math.round(buildMs),
    heapTreeMB: Math.round(heapTreeMB),
    batchKeys: BATCH_KEYS,
    insertBatchMsMedian: round(median(insertRuns)),
    insertBatchMsRuns: insertRuns.map((x) => round(x)),
    changeBatchMsMedian: round(median(changeRuns)),
    changeBatchMsRuns: changeRuns.map((x) => round(x)),
    proofs: PROOFS,
    avgProofSiblings: round(siblings / proofs.length),
    provePerSec: Math.round((PROOFS * 1000) / proveMs),
    verifyPerSec: Math.round((PROOFS * 1000) / verifyMs),
  };
}
