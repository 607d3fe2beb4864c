/** lib/dataset.ts: the record encoding and the streaming content root (docs/spec/export.md). */
import t from 'tap';
import {
  DatasetError,
  DatasetRootBuilder,
  bytesToHex,
  datasetRecordProof,
  datasetRoot,
  decodeDatasetRecord,
  encode,
  encodeDatasetRecord,
  merkleRoot,
  sha256,
  u32ToBytes,
  verifyDatasetRecord,
  type DatasetRecord,
} from '../../lib/index.ts';

function leaf(i: number): Uint8Array {
  // Leaves of varied lengths, so a builder that mixed up leaves would show.
  return sha256(u32ToBytes(i)).subarray(0, 1 + (i % 32));
}

function record(i: number): DatasetRecord {
  return { index: i, itemHash: sha256(u32ToBytes(i)), status: i % 3, label: (i % 5) - 1, confidenceQ16: (i * 977) % 65537, answers: i % 7 };
}

/** A small deterministic PRNG (xorshift32) for the random sizes. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

t.test('the builder equals merkleRoot for n = 0..300', async (t) => {
  const leaves: Uint8Array[] = [];
  const b = new DatasetRootBuilder();
  let mismatches = 0;
  for (let n = 0; n <= 300; n++) {
    if (n > 0) {
      leaves.push(leaf(n - 1));
      b.push(leaf(n - 1));
    }
    if (b.count !== n || bytesToHex(b.root()) !== bytesToHex(merkleRoot(leaves))) mismatches++;
  }
  t.equal(mismatches, 0, 'every prefix length 0..300 gives the same root');
  t.equal(bytesToHex(new DatasetRootBuilder().root()), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'empty: SHA-256 of nothing');
});

t.test('the builder equals merkleRoot for random sizes', async (t) => {
  const next = prng(20261202);
  for (let run = 0; run < 12; run++) {
    const n = 301 + (next() % 5000);
    const leaves = Array.from({ length: n }, (_, i) => leaf(i + run));
    const b = new DatasetRootBuilder();
    for (const l of leaves) b.push(l);
    t.equal(bytesToHex(b.root()), bytesToHex(merkleRoot(leaves)), `n = ${n}`);
  }
});

t.test('toState/fromState and encodeState/decodeState resume identically', async (t) => {
  const next = prng(7);
  for (let run = 0; run < 40; run++) {
    const n = next() % 700;
    const cut = n === 0 ? 0 : next() % (n + 1);
    const whole = new DatasetRootBuilder();
    const first = new DatasetRootBuilder();
    for (let i = 0; i < n; i++) whole.push(leaf(i));
    for (let i = 0; i < cut; i++) first.push(leaf(i));
    const state = first.toState();
    t.ok(state.stack.length <= 32, 'the stack is bounded');
    const resumed = DatasetRootBuilder.fromState(state);
    const decoded = DatasetRootBuilder.decodeState(first.encodeState());
    for (let i = cut; i < n; i++) {
      resumed.push(leaf(i));
      decoded.push(leaf(i));
    }
    t.equal(resumed.count, n);
    t.equal(bytesToHex(resumed.root()), bytesToHex(whole.root()), `n = ${n}, cut at ${cut} (toState)`);
    t.equal(bytesToHex(decoded.root()), bytesToHex(whole.root()), `n = ${n}, cut at ${cut} (encodeState)`);
  }
  // Mutating the exported state must not change the builder.
  const b = new DatasetRootBuilder();
  for (let i = 0; i < 5; i++) b.push(leaf(i));
  const before = bytesToHex(b.root());
  b.toState().stack[0]!.fill(0);
  t.equal(bytesToHex(b.root()), before, 'toState returns copies');
});

t.test('fromState rejects inconsistent states', async (t) => {
  const h = new Uint8Array(32);
  t.throws(() => DatasetRootBuilder.fromState({ count: 3, stack: [h] }), { code: 'DATASET_BAD_BUILDER_STATE' }, 'count 3 needs two hashes');
  t.throws(() => DatasetRootBuilder.fromState({ count: 1, stack: [new Uint8Array(31)] }), { code: 'DATASET_BAD_BUILDER_STATE' });
  t.throws(() => DatasetRootBuilder.fromState({ count: -1, stack: [] }), { code: 'DATASET_BAD_BUILDER_STATE' });
  t.throws(() => DatasetRootBuilder.decodeState(encode([1, [new Uint8Array(31)]])), { code: 'DATASET_BAD_BUILDER_STATE' });
});

t.test('record encoding is the contract array, label + 1', async (t) => {
  const r = record(4); // label 3
  t.same(encodeDatasetRecord(r), encode([4, r.itemHash, 1, 4, r.confidenceQ16, 4]));
  const none = { ...record(0), label: -1 };
  t.same(encodeDatasetRecord(none), encode([0, none.itemHash, 0, 0, none.confidenceQ16, 0]), '-1 (none) is stored as 0');
  t.same(decodeDatasetRecord(encodeDatasetRecord(r)), r, 'round trip');
  t.same(decodeDatasetRecord(encodeDatasetRecord(none)), none, 'round trip of none');
  t.throws(() => encodeDatasetRecord({ ...r, status: 3 }), DatasetError);
  t.throws(() => encodeDatasetRecord({ ...r, confidenceQ16: 65537 }), { code: 'DATASET_BAD_RECORD' });
  t.throws(() => encodeDatasetRecord({ ...r, itemHash: new Uint8Array(31) }), { code: 'DATASET_BAD_RECORD' });
  t.throws(() => encodeDatasetRecord({ ...r, label: -2 }), { code: 'DATASET_BAD_RECORD' });
  t.throws(() => decodeDatasetRecord(encode([4, r.itemHash, 3, 4, 0, 4])), { code: 'CODEC_OVERSIZE' });
});

t.test('the direct record encoder writes exactly what lib/codec.ts encode writes', async (t) => {
  const edges = [0, 1, 127, 128, 255, 256, 65_535, 65_536, 0xff_ffff, 0xffff_fffe, 0xffff_ffff];
  const next = prng(99);
  let mismatches = 0;
  let runs = 0;
  for (const a of edges) {
    for (let k = 0; k < 40; k++) {
      const pick = (): number => (next() % 2 === 0 ? (edges[next() % edges.length] as number) : next());
      const r: DatasetRecord = {
        index: a,
        itemHash: sha256(u32ToBytes(k)),
        status: k % 3,
        label: Math.min(pick(), 0xffff_fffe) - (k % 4 === 0 ? 1 : 0),
        confidenceQ16: pick() % 65_537,
        answers: pick(),
      };
      if (r.label < -1) r.label = -1;
      runs++;
      const expected = encode([r.index, r.itemHash, r.status, r.label + 1, r.confidenceQ16, r.answers]);
      if (bytesToHex(encodeDatasetRecord(r)) !== bytesToHex(expected)) mismatches++;
    }
  }
  t.equal(mismatches, 0, `${runs} records with edge and random values`);
});

t.test('record proofs against the content root', async (t) => {
  const records = Array.from({ length: 37 }, (_, i) => record(i));
  const root = datasetRoot(records);
  const b = new DatasetRootBuilder();
  for (const r of records) b.pushRecord(r);
  t.equal(bytesToHex(b.root()), bytesToHex(root), 'datasetRoot equals the builder');
  for (const i of [0, 17, 36]) {
    const proof = datasetRecordProof(records, i);
    t.ok(verifyDatasetRecord(root, records[i]!, records.length, proof), `record ${i} verifies`);
    t.notOk(verifyDatasetRecord(root, { ...records[i]!, label: records[i]!.label + 1 }, records.length, proof), `a changed label on record ${i} does not`);
  }
});
