import t from 'tap';
import fc from 'fast-check';
import { bytesToHex, compareBytes, concatBytes, equalBytes, hexToBytes, sha256, u32ToBytes, utf8ToBytes } from '../../../lib/index.ts';
import { SparseMerkleTree, verifyStateProof, type StateProof } from '../../../state/smt.ts';

// ---------------------------------------------------------------------------------------------
// A naive reference, straight from the spec: the root of a key set, computed recursively from the
// whole sorted set of (keyHash, valueHash) with lib's sha256. It shares no code with the tree.

const ZERO = new Uint8Array(32);
const H = (...parts: Uint8Array[]): Uint8Array => sha256(concatBytes(...parts));
const leafHash = (key: Uint8Array, value: Uint8Array): Uint8Array => H(Uint8Array.of(0), sha256(key), sha256(value));
const nodeHash = (left: Uint8Array, right: Uint8Array): Uint8Array => H(Uint8Array.of(1), left, right);
const bit = (h: Uint8Array, i: number): number => ((h[i >>> 3] as number) >> (7 - (i & 7))) & 1;

type Item = { kh: Uint8Array; vh: Uint8Array };

function referenceRoot(model: Map<string, Uint8Array>): Uint8Array {
  const items: Item[] = [...model].map(([k, v]) => ({ kh: sha256(hexToBytes(k)), vh: sha256(v) }));
  items.sort((a, b) => compareBytes(a.kh, b.kh));
  return refSubtree(items, 0);
}

function refSubtree(items: Item[], depth: number): Uint8Array {
  if (items.length === 0) return ZERO;
  if (items.length === 1) return H(Uint8Array.of(0), items[0]!.kh, items[0]!.vh);
  const left = items.filter((it) => bit(it.kh, depth) === 0);
  const right = items.filter((it) => bit(it.kh, depth) === 1);
  return nodeHash(refSubtree(left, depth + 1), refSubtree(right, depth + 1));
}

type Change = readonly [Uint8Array, Uint8Array | null];

function applyToModel(model: Map<string, Uint8Array>, changes: readonly Change[]): void {
  for (const [k, v] of changes) {
    if (v === null) model.delete(bytesToHex(k));
    else model.set(bytesToHex(k), v);
  }
}

const hex = bytesToHex;
const u8 = utf8ToBytes;

/** Deterministic pseudo-random bytes: SHA-256 in counter mode. */
function detBytes(seed: string, i: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let off = 0, block = 0; off < length; off += 32, block++) {
    out.set(sha256(concatBytes(u8(seed), u32ToBytes(i), u32ToBytes(block))).subarray(0, length - off), off);
  }
  return out;
}

/** `count` keys whose keyHashes all begin with the same `bits` bits (found by search). */
function keysSharingPrefix(bits: number, count: number): Uint8Array[] {
  const target = sha256(u32ToBytes(0));
  const out: Uint8Array[] = [];
  for (let i = 0; out.length < count; i++) {
    const key = u32ToBytes(i);
    const kh = sha256(key);
    let same = true;
    for (let b = 0; b < bits && same; b++) same = bit(kh, b) === bit(target, b);
    if (same) out.push(key);
  }
  return out;
}

// Arbitraries: keys often drawn from a small pool so that batches repeat and delete keys.
const keyArb = fc.oneof(
  fc.integer({ min: 0, max: 24 }).map((i) => Uint8Array.of(i)),
  fc.uint8Array({ maxLength: 40 }),
);
const valueArb = fc.uint8Array({ maxLength: 12 });
const changeArb = fc.tuple(keyArb, fc.option(valueArb, { nil: null, freq: 4 }));
const batchArb = fc.array(changeArb, { maxLength: 30 });
const entriesArb = fc.uniqueArray(fc.tuple(fc.uint8Array({ maxLength: 40 }), valueArb), {
  selector: ([k]) => hex(k),
  maxLength: 60,
});

// ---------------------------------------------------------------------------------------------

t.test('empty tree: zero root, no keys, exclusion proofs', async (t) => {
  const tree = SparseMerkleTree.empty();
  t.same(tree.root, ZERO);
  t.equal(tree.size, 0);
  t.equal(tree.get(u8('a')), undefined);
  const proof = tree.prove(u8('a'));
  t.same(proof, { key: u8('a'), value: null, siblings: [], leaf: null });
  t.ok(verifyStateProof(tree.root, proof));
  t.same(tree.update([]).root, ZERO);
  t.same(tree.update([[u8('a'), null]]).root, ZERO, 'deleting an absent key changes nothing');
});

t.test('single key: the root is the leaf hash', async (t) => {
  const tree = SparseMerkleTree.empty().update([[u8('alice'), u8('1')]]);
  t.same(tree.root, leafHash(u8('alice'), u8('1')));
  t.equal(tree.size, 1);
  t.same(tree.get(u8('alice')), u8('1'));
  const proof = tree.prove(u8('alice'));
  t.same(proof.siblings, []);
  t.ok(verifyStateProof(tree.root, proof));
});

t.test('hand-computed 2- and 3-key trees', async (t) => {
  // keyHash prefixes: heidi 000…, alice 001…, bob 1…
  const [alice, bob, heidi] = [u8('alice'), u8('bob'), u8('heidi')];
  t.equal(hex(sha256(heidi)).slice(0, 2), '05'); // 0000 0101
  t.equal(hex(sha256(alice)).slice(0, 2), '2b'); // 0010 1011
  t.equal(hex(sha256(bob)).slice(0, 2), '81'); //   1000 0001
  const [la, lb, lh] = [leafHash(alice, u8('1')), leafHash(bob, u8('2')), leafHash(heidi, u8('3'))];

  // Two keys sharing the prefix 00: an internal node at depth 2 under two single-child nodes.
  const two = SparseMerkleTree.empty().update([
    [alice, u8('1')],
    [heidi, u8('3')],
  ]);
  const twoRoot = nodeHash(nodeHash(nodeHash(lh, la), ZERO), ZERO);
  t.same(two.root, twoRoot);

  // Adding bob (prefix 1) fills the root's right side with bob's leaf.
  const three = two.update([[bob, u8('2')]]);
  t.same(three.root, nodeHash(nodeHash(nodeHash(lh, la), ZERO), lb));
  t.equal(three.size, 3);

  // Deleting alice leaves heidi alone under the root's left side: it collapses to depth 1.
  const collapsed = three.update([[alice, null]]);
  t.same(collapsed.root, nodeHash(lh, lb));
  t.equal(collapsed.size, 2);
  // …and deleting bob too leaves heidi's leaf as the root.
  t.same(collapsed.update([[bob, null]]).root, lh);

  // Golden values, also quoted in docs/spec/state-tree.md.
  t.equal(hex(twoRoot), GOLDEN.twoRoot);
  t.equal(hex(three.root), GOLDEN.threeRoot);
  const proof = three.prove(alice);
  t.same(proof.siblings.map(hex), GOLDEN.aliceSiblings);
  t.ok(verifyStateProof(three.root, proof));
  const absent = three.prove(u8('carol')); // 0100 1100: ends at the empty right child of depth 1
  t.equal(absent.leaf, null);
  t.same(absent.siblings.map(hex), GOLDEN.carolSiblings);
  t.ok(verifyStateProof(three.root, absent));
  const beside = three.prove(u8('grace')); // 1110 0000: ends at bob's leaf at depth 1
  t.same(beside.siblings.map(hex), [GOLDEN.n1]);
  t.same(beside.leaf, { keyHash: sha256(bob), valueHash: sha256(u8('2')) });
  t.equal(beside.value, null);
  t.ok(verifyStateProof(three.root, beside));
  t.equal(hex(collapsed.root), GOLDEN.afterDeleteAlice);
});

const GOLDEN = {
  twoRoot: 'b319a4ca656e4e9512db45249e0724c59fd06af5702a7c5318616f851cff37b1',
  threeRoot: '53b93a32b3b60c53256cdbee511726b5270af307f4859957c6d56cc380a96630',
  aliceSiblings: [
    'd6658c2dfb72ebe11b407f7e77386354ac0208d6e5a05c5c7907dcdd2c225d27', // bob's leaf
    '0000000000000000000000000000000000000000000000000000000000000000', // empty (prefix 01)
    '07917da949ee1928e46bdc25d15490cd308106f716e87ca3bd82879cc6c3e0f0', // heidi's leaf
  ],
  carolSiblings: [
    'd6658c2dfb72ebe11b407f7e77386354ac0208d6e5a05c5c7907dcdd2c225d27', // bob's leaf
    '3757ae0ceddf0f86e3c47be9f2e53be792a9fd9d163047002bdee90333de1518', // node(heidi, alice)
  ],
  n1: '9eb208c3709f9968c364a05540229a1c24ac9c1389c6ca21cc9096f462b4af39', // node(node(heidi, alice), empty)
  afterDeleteAlice: 'e29edbd40fcf5b10902830600d1b1ba56f304bd87bec2a2819d34ac8adf14257',
};

t.test('matches the reference for random batches, size and get', async (t) => {
  fc.assert(
    fc.property(fc.array(batchArb, { maxLength: 8 }), (batches) => {
      const model = new Map<string, Uint8Array>();
      let tree = SparseMerkleTree.empty();
      for (const batch of batches) {
        tree = tree.update(batch);
        applyToModel(model, batch);
        if (!equalBytes(tree.root, referenceRoot(model))) return false;
        if (tree.size !== model.size) return false;
        for (const [k, v] of model) if (!equalBytes(tree.get(hexToBytes(k)) ?? new Uint8Array(1), v)) return false;
        for (const [k, v] of batch) if (v === null && !model.has(hex(k)) && tree.get(k) !== undefined) return false;
        const listed = [...tree.entries()];
        if (listed.length !== model.size) return false;
        for (const [k, v] of listed) if (!equalBytes(model.get(hex(k)) ?? new Uint8Array(1), v)) return false;
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass();
});

t.test('later duplicates in a batch win', async (t) => {
  const k = u8('k');
  const e = SparseMerkleTree.empty();
  t.same(e.update([[k, u8('1')], [k, u8('2')]]).get(k), u8('2'));
  t.equal(e.update([[k, u8('1')], [k, null]]).get(k), undefined);
  t.equal(e.update([[k, u8('1')], [k, null]]).size, 0);
  const one = e.update([[k, u8('1')]]);
  t.same(one.update([[k, null], [k, u8('3')]]).get(k), u8('3'));
  t.equal(one.update([[k, null], [k, u8('3')]]).size, 1);
  t.same(SparseMerkleTree.fromEntries([[k, u8('1')], [k, u8('2')]]).get(k), u8('2'));
  t.equal(SparseMerkleTree.fromEntries([[k, u8('1')], [k, u8('2')]]).size, 1);

  // Big batches are bucket-sorted; one key repeated 100 times makes a bucket large enough for the
  // fallback sort, which must keep input order too.
  const entries: [Uint8Array, Uint8Array][] = [];
  for (let i = 0; i < 3000; i++) {
    entries.push([detBytes('dup', i, 32), detBytes('dv', i, 8)]);
    if (i % 30 === 0) entries.push([k, u32ToBytes(i)]);
  }
  const model = new Map(entries.map(([key, v]) => [hex(key), v]));
  const bulk = SparseMerkleTree.fromEntries(entries);
  t.same(bulk.get(k), u32ToBytes(2970));
  t.equal(bulk.size, 3001);
  t.same(bulk.root, referenceRoot(model));
  t.same(SparseMerkleTree.empty().update(entries).root, bulk.root);
  const withDeletes = bulk.update(entries.map(([key, v], i) => [key, i % 2 === 0 ? null : v] as const));
  for (const [i, [key, v]] of entries.entries()) {
    if (i % 2 === 0) model.delete(hex(key));
    else model.set(hex(key), v);
  }
  t.same(withDeletes.root, referenceRoot(model));
  t.equal(withDeletes.size, model.size);
});

t.test('order independence: same key set, any order and batching, same root', async (t) => {
  fc.assert(
    fc.property(
      entriesArb.chain((entries) =>
        fc.tuple(
          fc.constant(entries),
          fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }),
          fc.array(fc.nat({ max: 10 }), { maxLength: 10 }),
        ),
      ),
      ([entries, shuffled, cuts]) => {
        const whole = SparseMerkleTree.empty().update(entries);
        let pieces = SparseMerkleTree.empty();
        let at = 0;
        for (const cut of [...cuts, shuffled.length]) {
          pieces = pieces.update(shuffled.slice(at, at + cut + 1));
          at += cut + 1;
          if (at >= shuffled.length) break;
        }
        const oneByOne = shuffled.reduce((tree, e) => tree.update([e]), SparseMerkleTree.empty());
        return (
          equalBytes(whole.root, pieces.root) &&
          equalBytes(whole.root, oneByOne.root) &&
          equalBytes(whole.root, SparseMerkleTree.fromEntries(shuffled).root) &&
          pieces.size === entries.length
        );
      },
    ),
    { numRuns: 200 },
  );
  t.pass();
});

t.test('deleting back to an earlier key set restores its root; old versions stay intact', async (t) => {
  fc.assert(
    fc.property(entriesArb, entriesArb, fc.array(valueArb, { maxLength: 60 }), (base, extra, newValues) => {
      const tree = SparseMerkleTree.fromEntries(base);
      const root = tree.root;
      const baseKeys = new Set(base.map(([k]) => hex(k)));
      const added = extra.filter(([k]) => !baseKeys.has(hex(k)));
      // Add new keys and change some existing values, then undo both, in separate batches.
      const changed = base.slice(0, newValues.length).map(([k], i) => [k, newValues[i] as Uint8Array] as const);
      const grown = tree.update([...added, ...changed]);
      const undone = grown
        .update(added.map(([k]) => [k, null] as const))
        .update(base.slice(0, changed.length));
      // One batch that adds and then deletes the same keys changes nothing either.
      const noop = tree.update([...added, ...added.map(([k]) => [k, null] as const)]);
      const intact = equalBytes(tree.root, root) && tree.size === base.length && base.every(([k, v]) => equalBytes(tree.get(k) ?? new Uint8Array(1), v));
      return intact && equalBytes(undone.root, root) && undone.size === base.length && equalBytes(noop.root, root);
    }),
    { numRuns: 200 },
  );
  t.pass();
});

t.test('fromEntries equals incremental updates', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(keyArb, valueArb), { maxLength: 80 }), (entries) => {
      const bulk = SparseMerkleTree.fromEntries(entries);
      const incremental = entries.reduce((tree, e) => tree.update([e]), SparseMerkleTree.empty());
      return equalBytes(bulk.root, incremental.root) && bulk.size === incremental.size;
    }),
    { numRuns: 200 },
  );
  // Large enough for fromEntries and update to take the bucket-sort path.
  const entries: [Uint8Array, Uint8Array][] = [];
  for (let i = 0; i < 6000; i++) entries.push([detBytes('k', i, 32), detBytes('v', i, 40)]);
  entries.push([entries[10]![0], u8('last wins')]);
  const model = new Map(entries.map(([k, v]) => [hex(k), v]));
  const bulk = SparseMerkleTree.fromEntries(entries);
  t.same(bulk.root, referenceRoot(model));
  t.equal(bulk.size, 6000);
  t.same(bulk.get(entries[10]![0]), u8('last wins'));
  let batched = SparseMerkleTree.empty();
  for (let i = 0; i < entries.length; i += 2500) batched = batched.update(entries.slice(i, i + 2500));
  t.same(batched.root, bulk.root);
  // A large mixed batch: deletes, changes and inserts.
  const changes: Change[] = [];
  for (let i = 0; i < 3000; i++) changes.push([entries[i * 2]![0], i % 3 === 0 ? null : detBytes('w', i, 40)]);
  for (let i = 0; i < 3000; i++) changes.push([detBytes('n', i, 32), detBytes('nv', i, 8)]);
  const next = bulk.update(changes);
  applyToModel(model, changes);
  t.same(next.root, referenceRoot(model));
  t.equal(next.size, model.size);
  t.same(bulk.root, SparseMerkleTree.fromEntries(entries).root, 'the old version is unchanged');
});

t.test('keys with long shared prefixes: deep paths and re-collapse', async (t) => {
  const keys = keysSharingPrefix(11, 4);
  const model = new Map<string, Uint8Array>();
  let tree = SparseMerkleTree.empty();
  for (const [i, key] of keys.entries()) {
    tree = tree.update([[key, Uint8Array.of(i)]]);
    model.set(hex(key), Uint8Array.of(i));
    t.same(tree.root, referenceRoot(model));
    const proof = tree.prove(key);
    if (i > 0) t.ok(proof.siblings.length >= 12, 'leaf sits below the shared prefix');
    t.ok(verifyStateProof(tree.root, proof));
  }
  for (const key of keys.slice(1)) {
    tree = tree.update([[key, null]]);
    model.delete(hex(key));
    t.same(tree.root, referenceRoot(model));
  }
  t.same(tree.root, leafHash(keys[0]!, Uint8Array.of(0)), 'collapsed back to a lone leaf');
  t.same(tree.prove(keys[0]!).siblings, []);
});

// ---------------------------------------------------------------------------------------------
// Proofs.

function flip(b: Uint8Array, i = 0): Uint8Array {
  const out = Uint8Array.from(b);
  out[i % out.length] = (out[i % out.length] as number) ^ 1;
  return out;
}

/** Every way we know to spoil a valid proof; none may verify. */
function tamperings(proof: StateProof, otherLeaf: StateProof['leaf']): StateProof[] {
  const out: StateProof[] = [];
  const { key, value, siblings, leaf } = proof;
  // (An exclusion proof can rightly prove another absent key too, so only inclusion proofs here.)
  if (value !== null) out.push({ ...proof, key: concatBytes(key, Uint8Array.of(0)) });
  out.push({ ...proof, value: value === null ? new Uint8Array(0) : concatBytes(value, Uint8Array.of(0)) });
  if (value !== null) out.push({ ...proof, value: null });
  if (value !== null && value.length > 0) out.push({ ...proof, value: flip(value) });
  for (let i = 0; i < siblings.length; i++) {
    out.push({ ...proof, siblings: siblings.map((s, j) => (j === i ? flip(s, i) : s)) });
  }
  if (siblings.length > 0) {
    out.push({ ...proof, siblings: siblings.slice(0, -1) });
    out.push({ ...proof, siblings: siblings.slice(1) });
  }
  out.push({ ...proof, siblings: [...siblings, ZERO] });
  out.push({ ...proof, siblings: [ZERO, ...siblings] });
  if (leaf !== null) {
    out.push({ ...proof, leaf: null });
    out.push({ ...proof, leaf: { keyHash: flip(leaf.keyHash, 31), valueHash: leaf.valueHash } });
    out.push({ ...proof, leaf: { keyHash: leaf.keyHash, valueHash: flip(leaf.valueHash) } });
  } else {
    out.push({ ...proof, leaf: { keyHash: ZERO, valueHash: ZERO } });
  }
  if (otherLeaf !== null && (leaf === null || !equalBytes(otherLeaf.keyHash, leaf.keyHash))) out.push({ ...proof, leaf: otherLeaf });
  return out;
}

t.test('inclusion and exclusion proofs verify; tampered ones do not', async (t) => {
  fc.assert(
    fc.property(entriesArb, fc.array(keyArb, { maxLength: 10 }), (entries, probes) => {
      const tree = SparseMerkleTree.fromEntries(entries);
      const root = tree.root;
      const other = SparseMerkleTree.fromEntries([...entries, [u8('other'), u8('x')]]).root;
      const model = new Map(entries.map(([k, v]) => [hex(k), v]));
      const keys = [...entries.map(([k]) => k), ...probes];
      const leaves = keys.map((k) => tree.prove(k).leaf).filter((l) => l !== null);
      for (const [i, key] of keys.entries()) {
        const proof = tree.prove(key);
        const expected = model.get(hex(key));
        if (expected === undefined ? proof.value !== null : !equalBytes(proof.value ?? new Uint8Array(1), expected)) return false;
        if (!verifyStateProof(root, proof)) return false;
        if (verifyStateProof(other, proof)) return false;
        const otherLeaf = leaves.length > 0 ? (leaves[i % leaves.length] ?? null) : null;
        for (const bad of tamperings(proof, otherLeaf)) if (verifyStateProof(root, bad)) return false;
      }
      return true;
    }),
    { numRuns: 200 },
  );
  t.pass();
});

t.test('a proof does not prove a different key', async (t) => {
  const tree = SparseMerkleTree.fromEntries([
    [u8('alice'), u8('1')],
    [u8('bob'), u8('2')],
    [u8('heidi'), u8('3')],
  ]);
  const proof = tree.prove(u8('alice'));
  t.notOk(verifyStateProof(tree.root, { ...proof, key: u8('heidi') }));
  t.notOk(verifyStateProof(tree.root, { ...proof, key: u8('heidi'), value: null }));
  const absent = tree.prove(u8('carol'));
  t.notOk(verifyStateProof(tree.root, { ...absent, key: u8('alice') }), 'absence of a present key');
  // bob's path ends at bob's leaf: no exclusion proof for bob can fold to the root.
  const bobProof = tree.prove(u8('bob'));
  t.notOk(verifyStateProof(tree.root, { ...bobProof, value: null }));
});

t.test('exclusion via another leaf requires that leaf to lie on the key path', async (t) => {
  // Forge a one-level "tree" whose fold matches: key k goes right at depth 0 (bit 0 of its keyHash).
  const key = u8('bob'); // keyHash starts with bit 1
  const sibling = detBytes('s', 0, 32);
  const fold = (leafKeyHash: Uint8Array) => nodeHash(sibling, H(Uint8Array.of(0), leafKeyHash, ZERO));
  const onPath = sha256(u8('victor')); // 1001…: shares bit 0 with bob
  const offPath = sha256(u8('alice')); // 0010…
  const good = { key, value: null, siblings: [sibling], leaf: { keyHash: onPath, valueHash: ZERO } };
  t.ok(verifyStateProof(fold(onPath), good));
  t.notOk(verifyStateProof(fold(offPath), { ...good, leaf: { keyHash: offPath, valueHash: ZERO } }));
});

t.test('malformed proofs are rejected without throwing', async (t) => {
  const tree = SparseMerkleTree.fromEntries([
    [u8('alice'), u8('1')],
    [u8('bob'), u8('2')],
  ]);
  const root = tree.root;
  const proof = tree.prove(u8('alice'));
  const bad: unknown[] = [
    null,
    undefined,
    42,
    'proof',
    {},
    { ...proof, key: 'alice' },
    { ...proof, key: undefined },
    { ...proof, value: undefined },
    { ...proof, value: 'x' },
    { ...proof, siblings: undefined },
    { ...proof, siblings: 'ab' },
    { ...proof, siblings: [new Uint8Array(31)] },
    { ...proof, siblings: [new Uint8Array(33)] },
    { ...proof, siblings: [null] },
    { ...proof, siblings: Array.from({ length: 257 }, () => ZERO) },
    { ...proof, leaf: undefined },
    { ...proof, leaf: 'leaf' },
    { ...proof, leaf: {} },
    { ...proof, leaf: { keyHash: new Uint8Array(31), valueHash: ZERO } },
    { ...proof, leaf: { keyHash: ZERO, valueHash: [1, 2] } },
    { ...proof, leaf: null }, // inclusion claimed with no leaf
    Object.defineProperty({ ...proof }, 'siblings', {
      get() {
        throw new Error('boom');
      },
    }),
  ];
  for (const [i, p] of bad.entries()) t.equal(verifyStateProof(root, p as StateProof), false, `malformed #${i}`);
  // At most 256 siblings, even against a root forged to match a longer fold.
  const forge = (n: number) => {
    const key = u8('deep');
    const kh = sha256(key);
    const siblings = Array.from({ length: n }, (_, i) => detBytes('deep', i, 32));
    let acc: Uint8Array = ZERO;
    for (let i = n - 1; i >= 0; i--) acc = bit(kh, i) === 0 ? nodeHash(acc, siblings[i]!) : nodeHash(siblings[i]!, acc);
    return [acc, { key, value: null, siblings, leaf: null }] as const;
  };
  t.ok(verifyStateProof(...forge(256)), '256 siblings fold');
  t.notOk(verifyStateProof(...forge(257)), '257 siblings are refused');
  t.equal(verifyStateProof(new Uint8Array(31), proof), false);
  t.equal(verifyStateProof(null as unknown as Uint8Array, proof), false);
  t.ok(verifyStateProof(root, proof));
  fc.assert(
    fc.property(fc.anything(), (p) => verifyStateProof(root, p as StateProof) === false),
    { numRuns: 300 },
  );
});
