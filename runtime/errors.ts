import { ChainError } from '../lib/index.ts';

/** Why a transaction cannot go in a block at all (it changes nothing, not even the nonce). */
export type TxRejectCode =
  | 'TX_WRONG_CHAIN'
  | 'TX_TOO_LARGE'
  | 'TX_BAD_SIGNATURE'
  | 'TX_BAD_NONCE'
  | 'TX_FEE_TOO_LOW'
  | 'TX_CANNOT_PAY_FEE';

export type TxErrorType = { code: TxRejectCode; detail: string };
export class TxError extends ChainError<TxErrorType> {}

/** Why a transaction that paid its fee failed; recorded in its receipt. */
export type TxFailureCode = 'TX_INSUFFICIENT_BALANCE' | 'TX_ZERO_AMOUNT';

export type BlockErrorType =
  | { code: 'BLOCK_TX_REJECTED'; index: number; reason: TxRejectCode; detail: string }
  | { code: 'BLOCK_TX_UNDECODABLE'; index: number; reason: string }
  | { code: 'BLOCK_TOO_MANY_TXS'; count: number; max: number }
  | { code: 'BLOCK_TOO_LARGE'; bytes: number; max: number }
  | { code: 'BLOCK_WRONG_CHAIN'; chainId: string }
  | { code: 'BLOCK_WRONG_HEIGHT'; expected: number; actual: number }
  | { code: 'BLOCK_WRONG_PARENT' }
  | { code: 'BLOCK_WRONG_PROPOSER'; proposer: string }
  | { code: 'BLOCK_TIME_NOT_INCREASING'; parentTimeMs: string; timeMs: string }
  | { code: 'BLOCK_BAD_LAST_COMMIT'; reason: string }
  | { code: 'BLOCK_WRONG_ROOT'; root: 'lastCommitHash' | 'txRoot' | 'receiptsRoot' | 'stateRoot' | 'validatorSetHash' | 'nextValidatorSetHash' }
  | { code: 'BLOCK_WRONG_VERSION'; version: number };
export class BlockError extends ChainError<BlockErrorType> {}
