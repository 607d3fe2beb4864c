/**
 * Stake-weighted sampling of annotators. Each annotator has a position (1-based) in a Fenwick
 * (binary indexed) tree of weights kept in state, so that updating one weight and drawing one
 * annotator both cost O(log capacity) reads — the sum-tree Kleros uses for juror drawing.
 *
 *   node i  → the sum of weights in (i − lowbit(i), i]   (raw big-endian amount bytes)
 *   leaf i  → annotator i's own weight
 *   index i → annotator i's address
 *
 * Draws take 256 bits from SHA-256(seed ‖ …) modulo the total weight: the bias is below 2^-128.
 */
import { assert, bytesToNumberBE, concatBytes, sha256, u32ToBytes } from '../../lib/index.ts';
import { PREFIX, type StateReader, type StateView } from '../../state/index.ts';

export const WEIGHT_TREE_LOG = 20;
/** Most annotators the tree holds. */
export const WEIGHT_TREE_CAPACITY = 1 << WEIGHT_TREE_LOG;

const nodeKey = (i: number): Uint8Array => concatBytes(Uint8Array.of(PREFIX.annotatorWeight, 0), u32ToBytes(i));
const leafKey = (i: number): Uint8Array => concatBytes(Uint8Array.of(PREFIX.annotatorWeight, 1), u32ToBytes(i));
const indexKey = (i: number): Uint8Array => concatBytes(Uint8Array.of(PREFIX.annotatorWeight, 2), u32ToBytes(i));
const TOTAL_KEY = Uint8Array.of(PREFIX.annotatorWeight, 3);

function readAmount(state: StateReader, key: Uint8Array): bigint {
  const bytes = state.get(key);
  return bytes === undefined ? 0n : bytesToNumberBE(bytes);
}

function writeAmount(view: StateView, key: Uint8Array, value: bigint): void {
  assert(value >= 0n, 'weight tree: negative amount');
  if (value === 0n) {
    view.delete(key);
    return;
  }
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = '0' + hex;
  view.set(key, new Uint8Array(Buffer.from(hex, 'hex')));
}

export function totalWeight(state: StateReader): bigint {
  return readAmount(state, TOTAL_KEY);
}

export function weightOf(state: StateReader, index: number): bigint {
  return readAmount(state, leafKey(index));
}

export function addressAt(state: StateReader, index: number): Uint8Array {
  const bytes = state.get(indexKey(index));
  assert(bytes !== undefined, `weight tree: no annotator at ${index}`);
  return bytes;
}

export function registerIndex(view: StateView, index: number, address: Uint8Array): void {
  assert(index >= 1 && index <= WEIGHT_TREE_CAPACITY, `weight tree: index ${index} out of range`);
  view.set(indexKey(index), address);
}

/** Sets annotator `index`'s weight. */
export function setWeight(view: StateView, index: number, weight: bigint): void {
  assert(index >= 1 && index <= WEIGHT_TREE_CAPACITY, `weight tree: index ${index} out of range`);
  const old = weightOf(view, index);
  if (old === weight) return;
  writeAmount(view, leafKey(index), weight);
  writeAmount(view, TOTAL_KEY, totalWeight(view) - old + weight);
  const delta = weight - old;
  for (let i = index; i <= WEIGHT_TREE_CAPACITY; i += i & -i) writeAmount(view, nodeKey(i), readAmount(view, nodeKey(i)) + delta);
}

/** The annotator index whose weight interval contains `x` (0 ≤ x < total). */
export function findByWeight(state: StateReader, x: bigint): number {
  let pos = 0;
  let rest = x;
  for (let bit = WEIGHT_TREE_LOG; bit >= 0; bit--) {
    const next = pos + (1 << bit);
    if (next > WEIGHT_TREE_CAPACITY) continue;
    const w = readAmount(state, nodeKey(next));
    if (w <= rest) {
      pos = next;
      rest -= w;
    }
  }
  return pos + 1;
}

/** A 256-bit draw from the seed and the draw's coordinates. */
export function drawNumber(seed: Uint8Array, ...coordinates: number[]): bigint {
  return bytesToNumberBE(sha256(concatBytes(seed, ...coordinates.map(u32ToBytes))));
}

/** One annotator index drawn with probability proportional to weight, or null if no one has weight. */
export function drawAnnotator(state: StateReader, seed: Uint8Array, ...coordinates: number[]): number | null {
  const total = totalWeight(state);
  if (total === 0n) return null;
  return findByWeight(state, drawNumber(seed, ...coordinates) % total);
}
