/**
 * The bridge records genesis writes (docs/spec/bridge.md §Chain side): the parameters, the validators'
 * bridge keys and the first bridge validator set. They live here, not in runtime/bridge, because
 * genesis may not import the runtime; runtime/bridge re-exports them.
 *
 * Parameters live under `bridgeGlobalKey('params')`; a chain whose genesis sets none has the bridge
 * off (`checkpointInterval` 0): every bridge transaction but key registration fails with
 * BRIDGE_DISABLED and no checkpoint is closed.
 */
import {
  ETH_ADDRESS_BYTES,
  MAX_VALIDATORS,
  Reader,
  amountToBytes,
  concatBytes,
  decodeStateValue,
  encode,
  utf8ToBytes,
  type BridgeValidatorSet,
  type Encodable,
} from '../lib/index.ts';
import { PREFIX } from './keys.ts';
import type { StateReader, StateView } from './stateView.ts';

const RECORD_BYTES_MAX = 64 * 1024;

export const bridgeGlobalKey = (name: string): Uint8Array => concatBytes(Uint8Array.of(PREFIX.bridgeGlobal), utf8ToBytes(name));
export const bridgeKeyKey = (operator: Uint8Array): Uint8Array => concatBytes(Uint8Array.of(PREFIX.bridgeKey), operator);
export const bridgeKeyOwnerKey = (address: Uint8Array): Uint8Array => concatBytes(Uint8Array.of(PREFIX.bridgeKeyOwner), address);

export type BridgeParams = {
  /** A checkpoint closes at every height divisible by this; 0 turns the bridge off. */
  checkpointInterval: number;
  /** Withdrawal leaves per checkpoint; the excess waits for the next checkpoint. */
  withdrawalsPerCheckpointMax: number;
  /** Withdrawals burnt and not yet in a checkpoint; more fail with BRIDGE_WITHDRAWALS_FULL. */
  withdrawalsPendingMax: number;
  /** How far past the next deposit nonce an attestation may be (pending deposits ahead). */
  depositsAheadMax: number;
  /** The contract's `perTxCap`: a larger withdrawal could never be released, so it is refused at burn time (0: no cap). */
  withdrawalAmountMax: bigint;
  /** BNB Chain id (56 mainnet, 97 testnet) and the bridge contract address: the signatures' domain. */
  bnbChainId: number;
  bridgeContract: Uint8Array;
};

export const DEFAULT_BRIDGE_PARAMS: BridgeParams = {
  checkpointInterval: 0,
  withdrawalsPerCheckpointMax: 256,
  withdrawalsPendingMax: 4_096,
  depositsAheadMax: 1_024,
  withdrawalAmountMax: 0n,
  bnbChainId: 56,
  bridgeContract: new Uint8Array(ETH_ADDRESS_BYTES),
};

/** Ceiling of withdrawal leaves per checkpoint (each end-block hashes them all). */
export const WITHDRAWALS_PER_CHECKPOINT_CEILING = 4_096;

const PARAMS_KEY = bridgeGlobalKey('params');

export function bridgeParamsProblem(p: BridgeParams): string | null {
  if (!Number.isInteger(p.checkpointInterval) || p.checkpointInterval < 0 || p.checkpointInterval > 65_536) return 'checkpointInterval must be 0..65536';
  if (!Number.isInteger(p.withdrawalsPerCheckpointMax) || p.withdrawalsPerCheckpointMax < 1 || p.withdrawalsPerCheckpointMax > WITHDRAWALS_PER_CHECKPOINT_CEILING) {
    return `withdrawalsPerCheckpointMax must be 1..${WITHDRAWALS_PER_CHECKPOINT_CEILING}`;
  }
  if (!Number.isInteger(p.withdrawalsPendingMax) || p.withdrawalsPendingMax < 1 || p.withdrawalsPendingMax > 1_000_000) return 'withdrawalsPendingMax must be 1..1000000';
  if (!Number.isInteger(p.depositsAheadMax) || p.depositsAheadMax < 1 || p.depositsAheadMax > 65_536) return 'depositsAheadMax must be 1..65536';
  if (p.withdrawalAmountMax < 0n) return 'withdrawalAmountMax must be ≥ 0';
  if (!Number.isInteger(p.bnbChainId) || p.bnbChainId < 1) return 'bnbChainId must be a positive u32';
  if (p.bridgeContract.length !== ETH_ADDRESS_BYTES) return 'bridgeContract must be 20 bytes';
  return null;
}

export function encodeBridgeParams(p: BridgeParams): Uint8Array {
  return encode([p.checkpointInterval, p.withdrawalsPerCheckpointMax, p.withdrawalsPendingMax, p.depositsAheadMax, amountToBytes(p.withdrawalAmountMax), p.bnbChainId, p.bridgeContract]);
}

export function loadBridgeParams(state: StateReader): BridgeParams {
  const bytes = state.get(PARAMS_KEY);
  if (bytes === undefined) return DEFAULT_BRIDGE_PARAMS;
  return decodeStateValue(bytes, 'BridgeParams', 256, (v) => {
    const r = Reader.array(v, 'BridgeParams', 7);
    return {
      checkpointInterval: r.u32('checkpointInterval'),
      withdrawalsPerCheckpointMax: r.u32('withdrawalsPerCheckpointMax'),
      withdrawalsPendingMax: r.u32('withdrawalsPendingMax'),
      depositsAheadMax: r.u32('depositsAheadMax'),
      withdrawalAmountMax: r.amount('withdrawalAmountMax'),
      bnbChainId: r.u32('bnbChainId'),
      bridgeContract: r.bytes('bridgeContract', ETH_ADDRESS_BYTES),
    };
  });
}

/** Writes the parameters (genesis, tests); callers check `bridgeParamsProblem` first. */
export function saveBridgeParams(view: StateView, p: BridgeParams): void {
  view.set(PARAMS_KEY, encodeBridgeParams(p));
}

// ── bridge keys ──────────────────────────────────────────────────────────────────────────────────

export function loadBridgeKey(state: StateReader, operator: Uint8Array): Uint8Array | null {
  return state.get(bridgeKeyKey(operator)) ?? null;
}

export function loadBridgeKeyOwner(state: StateReader, address: Uint8Array): Uint8Array | null {
  return state.get(bridgeKeyOwnerKey(address)) ?? null;
}

/** Records `address` as `operator`'s bridge key (both directions); callers check it is not in use. */
export function saveBridgeKey(view: StateView, operator: Uint8Array, address: Uint8Array): void {
  const old = loadBridgeKey(view, operator);
  if (old !== null) view.delete(bridgeKeyOwnerKey(old));
  view.set(bridgeKeyKey(operator), address);
  view.set(bridgeKeyOwnerKey(address), operator);
}

// ── the bridge validator set (as the contract sees it) ───────────────────────────────────────────

const SET_KEY = bridgeGlobalKey('set');

function setToWire(set: BridgeValidatorSet): Encodable[] {
  return [Number(set.id), set.signers, set.powers.map((p) => amountToBytes(p))];
}

export function parseBridgeSet(v: unknown, what: string): BridgeValidatorSet {
  const r = Reader.array(v, what, 3);
  const id = BigInt(r.u32('id'));
  const signers = r.list('signers', MAX_VALIDATORS, (s) => Reader.array([s], what, 1).bytes('signer', ETH_ADDRESS_BYTES));
  const powers = r.list('powers', MAX_VALIDATORS, (p) => Reader.array([p], what, 1).amount('power'));
  return { id, signers, powers };
}

export function bridgeSetToWire(set: BridgeValidatorSet): Encodable[] {
  return setToWire(set);
}

/** The set that signs the next checkpoint (id 0, empty, before the first checkpoint unless genesis set it). */
export function loadBridgeSet(state: StateReader): BridgeValidatorSet {
  const bytes = state.get(SET_KEY);
  if (bytes === undefined) return { id: 0n, signers: [], powers: [] };
  return decodeStateValue(bytes, 'BridgeSet', RECORD_BYTES_MAX, (v) => parseBridgeSet(v, 'BridgeSet'));
}

export function saveBridgeSet(view: StateView, set: BridgeValidatorSet): void {
  view.set(SET_KEY, encode(setToWire(set)));
}
