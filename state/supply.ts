/** Total TAG in existence (balances plus bonded stake), kept in state so that audits are cheap. */
import { Reader, amountToBytes, decodeCanonical, encode } from '../lib/index.ts';
import { SUPPLY_KEY } from './keys.ts';
import type { StateReader, StateView } from './stateView.ts';

export function encodeSupply(supply: bigint): Uint8Array {
  return encode([amountToBytes(supply)]);
}

export function loadSupply(state: StateReader): bigint {
  const bytes = state.get(SUPPLY_KEY);
  if (bytes === undefined) return 0n;
  return decodeCanonical(bytes, 'Supply', 64, (v) => Reader.array(v, 'Supply', 1).amount('supply'), encodeSupply);
}

export function saveSupply(view: StateView, supply: bigint): void {
  view.set(SUPPLY_KEY, encodeSupply(supply));
}
