import { ChainError } from '../lib/index.ts';

/** Bad input to the bridge's off-chain helpers: the same cases the contract reverts on. */
export type BridgeErrorType =
  | { code: 'BRIDGE_BAD_LENGTH'; field: string; expected: number; actual: number }
  | { code: 'BRIDGE_VALIDATOR_SET_INVALID'; reason: string }
  | { code: 'BRIDGE_WITHDRAWALS_INVALID'; reason: string }
  | { code: 'BRIDGE_OUT_OF_RANGE'; field: string; value: string }
  | { code: 'BRIDGE_EVM_REVERTED'; what: string; error: string }
  | { code: 'BRIDGE_DEPLOYMENT_MISMATCH'; field: string; expected: string; actual: string }
  /** A BNB Chain JSON-RPC call failed (timeout, HTTP or JSON-RPC error): nothing changed, retry later. */
  | { code: 'BRIDGE_RPC_FAILED'; method: string; error: string }
  /** The RPC's answers contradict each other (a log without its receipt, another block hash): retry later. */
  | { code: 'BRIDGE_RPC_INCONSISTENT'; what: string }
  /** Two different deposits claim one nonce: the first is kept, the second never reported. */
  | { code: 'BRIDGE_DEPOSIT_CONFLICT'; nonce: number; first: string; second: string }
  /** What the relayer would submit differs from what the contract computes or from what Tagger chain says. */
  | { code: 'BRIDGE_RELAY_MISMATCH'; number: number; what: string; expected: string; actual: string };

export class BridgeError extends ChainError<BridgeErrorType> {}
