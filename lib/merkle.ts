/**
 * Ordered binary Merkle tree over a list of leaves (RFC 6962 §2.1 shape, SHA-256): leaf hash
 * H(0x00 ‖ leaf), node hash H(0x01 ‖ left ‖ right), the split at the largest power of two below n,
 * and H() of nothing for the empty list. Used for transaction and receipt roots.
 */
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
