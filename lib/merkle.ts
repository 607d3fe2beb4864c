/**
 * Ordered binary Merkle tree over a list of leaves (RFC 6962 §2.1 shape, SHA-256): leaf hash
 * H(0x00 ‖ leaf), node hash H(0x01 ‖ left ‖ right), the split at the largest power of two below n,
 * and H() of nothing for the empty list. Used for transaction and receipt roots.
 */
import { assert } from './assert.ts';
import { concatBytes } from './bytes.ts';
import { sha256 } from './crypto.ts';

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);

export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256(new Uint8Array(0));
  return subtreeRoot(leaves.map((leaf) => sha256(concatBytes(LEAF, leaf))));
}

function subtreeRoot(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 1) return hashes[0] as Uint8Array;
  let split = 1;
  while (split * 2 < hashes.length) split *= 2;
  const left = subtreeRoot(hashes.slice(0, split));
  const right = subtreeRoot(hashes.slice(split));
  return sha256(concatBytes(NODE, left, right));
}

/**
 * The audit path of leaf `index` (RFC 6962 §2.1.1): sibling hashes from the leaf up. With the
 * leaf and the leaf count it recomputes the root (`verifyMerkleProof`).
 */
export function merkleProof(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  assert(Number.isInteger(index) && index >= 0 && index < leaves.length, `merkleProof: index ${index} out of range`);
  return auditPath(leaves.map((leaf) => sha256(concatBytes(LEAF, leaf))), index);
}

function auditPath(hashes: readonly Uint8Array[], index: number): Uint8Array[] {
  if (hashes.length === 1) return [];
  let split = 1;
  while (split * 2 < hashes.length) split *= 2;
  if (index < split) return [...auditPath(hashes.slice(0, split), index), subtreeRoot(hashes.slice(split))];
  return [...auditPath(hashes.slice(split), index - split), subtreeRoot(hashes.slice(0, split))];
}

/** Proofs longer than this cannot belong to a tree of at most 2^32 leaves. */
export const MERKLE_PROOF_DEPTH_MAX = 32;

/**
 * True if `proof` shows `leaf` at `index` of a `count`-leaf tree with root `root`. The root does
 * not commit to `count` by itself: a proof may verify for more than one size when the leaf's path
 * has the same shape in both; what it proves is that the leaf is in the tree.
 */
export function verifyMerkleProof(root: Uint8Array, leaf: Uint8Array, index: number, count: number, proof: readonly Uint8Array[]): boolean {
  if (!Number.isInteger(index) || !Number.isInteger(count) || index < 0 || index >= count) return false;
  if (proof.length > MERKLE_PROOF_DEPTH_MAX) return false;
  const computed = rootFromPath(sha256(concatBytes(LEAF, leaf)), index, count, proof, proof.length);
  return computed !== null && computed.length === root.length && computed.every((b, i) => b === root[i]);
}

/** Recomputes a subtree root from the path's last `depth` entries (the deepest come first). */
function rootFromPath(hash: Uint8Array, index: number, count: number, proof: readonly Uint8Array[], depth: number): Uint8Array | null {
  if (count === 1) return depth === 0 ? hash : null;
  if (depth === 0) return null;
  let split = 1;
  while (split * 2 < count) split *= 2;
  const sibling = proof[depth - 1] as Uint8Array;
  if (index < split) {
    const left = rootFromPath(hash, index, split, proof, depth - 1);
    return left === null ? null : sha256(concatBytes(NODE, left, sibling));
  }
  const right = rootFromPath(hash, index - split, count - split, proof, depth - 1);
  return right === null ? null : sha256(concatBytes(NODE, sibling, right));
}
