import { ChainError } from '../lib/index.ts';

/** Bad input to the bridge's off-chain helpers: the same cases the contract reverts on. */
export type BridgeErrorType =
  | { code: 'BRIDGE_BAD_LENGTH'; field: string; expected: number; actual: number }
  | { code: 'BRIDGE_VALIDATOR_SET_INVALID'; reason: string }
  | { code: 'BRIDGE_WITHDRAWALS_INVALID'; reason: string }
  | { code: 'BRIDGE_OUT_OF_RANGE'; field: string; value: string }
  | { code: 'BRIDGE_EVM_REVERTED'; what: string; error: string }
  | { code: 'BRIDGE_DEPLOYMENT_MISMATCH'; field: string; expected: string; actual: string };

export class BridgeError extends ChainError<BridgeErrorType> {}
