/** merkleRoot (lib/merkle.ts) against an RFC 6962 §2.1 reference written from the RFC. */
import t from 'tap';
import fc from 'fast-check';
import { bytesToHex, concatBytes, merkleProof, merkleRoot, sha256, verifyMerkleProof } from '../../../lib/index.ts';

/** MTH(D[n]) exactly as RFC 6962 §2.1 states it, with k the largest power of two below n. */
function mth(d: readonly Uint8Array[]): Uint8Array {
  const n = d.length;
  if (n === 0) return sha256(new Uint8Array(0));
  if (n === 1) return sha256(concatBytes(Uint8Array.of(0), d[0]!));
  let k = 1;
  while (k << 1 < n) k <<= 1;
  return sha256(concatBytes(Uint8Array.of(1), mth(d.slice(0, k)), mth(d.slice(k))));
}

t.test('known roots (RFC 6962 shape)', async (t) => {
  t.equal(bytesToHex(merkleRoot([])), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'empty: SHA-256 of nothing');
  t.equal(bytesToHex(merkleRoot([new Uint8Array(0)])), '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', 'one empty leaf: SHA-256(0x00)');
  const [a, b, c] = [Uint8Array.of(0), Uint8Array.of(1), Uint8Array.of(2)];
  const leaf = (x: Uint8Array): Uint8Array => sha256(concatBytes(Uint8Array.of(0), x));
  const node = (l: Uint8Array, r: Uint8Array): Uint8Array => sha256(concatBytes(Uint8Array.of(1), l, r));
  t.equal(bytesToHex(merkleRoot([a, b, c])), bytesToHex(node(node(leaf(a), leaf(b)), leaf(c))), '3 leaves split 2 + 1');
});

t.test('property: equals the RFC reference', async () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 70 }), (leaves) => bytesToHex(merkleRoot(leaves)) === bytesToHex(mth(leaves))),
    { numRuns: 500 },
  );
});

t.test('property: order, count and content all change the root; leaves and nodes cannot be confused', async () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.uint8Array({ minLength: 1, maxLength: 8 }), { minLength: 2, maxLength: 12, selector: bytesToHex }), (leaves) => {
      const root = bytesToHex(merkleRoot(leaves));
      const swapped = [leaves[1]!, leaves[0]!, ...leaves.slice(2)];
      const dropped = leaves.slice(0, -1);
      const leafHashes = leaves.map((l) => sha256(concatBytes(Uint8Array.of(0), l)));
      // A one-leaf tree whose leaf is the concatenation of two leaf hashes is not the two-leaf tree.
      const forged = merkleRoot([concatBytes(leafHashes[0]!, leafHashes[1]!)]);
      return (
        root !== bytesToHex(merkleRoot(swapped)) &&
        root !== bytesToHex(merkleRoot(dropped)) &&
        bytesToHex(merkleRoot(leaves.slice(0, 2))) !== bytesToHex(forged)
      );
    }),
    { numRuns: 300 },
  );
});

t.test('inclusion proofs: every leaf of every tree size verifies; any change fails', async (t) => {
  for (let n = 1; n <= 20; n++) {
    const leaves = Array.from({ length: n }, (_, i) => Uint8Array.of(i, n));
    const root = merkleRoot(leaves);
    for (let i = 0; i < n; i++) {
      const proof = merkleProof(leaves, i);
      if (!verifyMerkleProof(root, leaves[i]!, i, n, proof)) t.fail(`n=${n} i=${i}`);
      if (verifyMerkleProof(root, Uint8Array.of(99), i, n, proof)) t.fail(`n=${n} i=${i}: another leaf`);
      if (n > 1 && verifyMerkleProof(root, leaves[i]!, (i + 1) % n, n, proof)) t.fail(`n=${n} i=${i}: another index`);
      if (proof.length > 0 && verifyMerkleProof(root, leaves[i]!, i, n, proof.slice(1))) t.fail(`n=${n} i=${i}: a shortened proof`);
    }
  }
  t.pass('all proofs checked');
  t.notOk(verifyMerkleProof(new Uint8Array(32), Uint8Array.of(1), 0, 0, []), 'an empty tree holds nothing');
  t.notOk(verifyMerkleProof(new Uint8Array(32), Uint8Array.of(1), -1, 2, []), 'a negative index');
});
