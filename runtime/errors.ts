import { ChainError } from '../lib/index.ts';
import type { PassportFailureCode } from './passport/errors.ts';
import type { BridgeFailureCode } from './bridge/errors.ts';

/** Why a transaction cannot go in a block at all (it changes nothing, not even the nonce). */
export type TxRejectCode =
  | 'TX_WRONG_CHAIN'
  | 'TX_TOO_LARGE'
  | 'TX_BAD_SIGNATURE'
  | 'TX_BAD_NONCE'
  | 'TX_FEE_TOO_LOW'
  | 'TX_CANNOT_PAY_FEE'
  /** Evidence that does not verify (docs/spec/staking.md §Evidence): free evidence is all or nothing. */
  | 'TX_EVIDENCE_REJECTED';

export type TxErrorType = { code: TxRejectCode; detail: string };
export class TxError extends ChainError<TxErrorType> {}

/** Why a transaction that paid its fee failed; recorded in its receipt. */
export type TxFailureCode = 'TX_INSUFFICIENT_BALANCE' | 'TX_ZERO_AMOUNT' | LabellingFailureCode | StakingFailureCode | PassportFailureCode | BridgeFailureCode;

/** Staking failures (docs/spec/staking.md §Receipt codes). */
export type StakingFailureCode =
  | 'VALIDATOR_EXISTS'
  | 'VALIDATOR_BAD_KEY'
  | 'VALIDATOR_KEY_IN_USE'
  | 'VALIDATOR_BAD_COMMISSION'
  | 'VALIDATOR_BAD_MONIKER'
  | 'VALIDATOR_SELF_STAKE_TOO_LOW'
  | 'VALIDATOR_REGISTRY_FULL'
  | 'VALIDATOR_NOT_FOUND'
  | 'VALIDATOR_COMMISSION_CHANGE_TOO_LARGE'
  | 'VALIDATOR_COMMISSION_CHANGE_TOO_SOON'
  | 'VALIDATOR_TOMBSTONED'
  | 'VALIDATOR_NOT_JAILED'
  | 'VALIDATOR_STILL_JAILED'
  | 'DELEGATION_NOT_FOUND'
  | 'DELEGATION_INSUFFICIENT'
  | 'UNBONDING_ENTRIES_FULL'
  | 'EVIDENCE_VOTES_MISMATCH'
  | 'EVIDENCE_SAME_BLOCK'
  | 'EVIDENCE_FUTURE'
  | 'EVIDENCE_EXPIRED'
  | 'EVIDENCE_UNKNOWN_VALIDATOR'
  | 'EVIDENCE_BAD_SIGNATURE'
  | 'EVIDENCE_DUPLICATE'
  | 'EVIDENCE_VALIDATOR_TOMBSTONED';

/** Labelling failures (docs/spec/labelling.md §Receipt codes). */
export type LabellingFailureCode =
  | 'TASK_NO_ITEMS'
  | 'TASK_TOO_MANY_ITEMS'
  | 'TASK_BAD_CLASSES'
  | 'TASK_BAD_ANSWERS'
  | 'TASK_BAD_WINDOW'
  | 'TASK_BAD_CONFIDENCE'
  | 'TASK_BAD_SEATS'
  | 'TASK_STAKE_TOO_LOW'
  | 'TASK_ESCROW_OVERFLOW'
  | 'TASK_NOT_FOUND'
  | 'TASK_NOT_REQUESTER'
  | 'TASK_WRONG_STATUS'
  | 'TASK_ITEMS_OVERFLOW'
  | 'ANNOTATOR_NOT_FOUND'
  | 'ANNOTATOR_REGISTRY_FULL'
  | 'ANNOTATOR_INSUFFICIENT_STAKE'
  | 'ANNOTATOR_UNBONDING_FULL'
  | 'LABEL_ROUND_NOT_FOUND'
  | 'LABEL_NOT_ASSIGNED'
  | 'LABEL_ALREADY_COMMITTED'
  | 'LABEL_COMMIT_CLOSED'
  | 'LABEL_BAD_COUNT'
  | 'LABEL_NOT_COMMITTED'
  | 'LABEL_REVEAL_NOT_OPEN'
  | 'LABEL_REVEAL_CLOSED'
  | 'LABEL_ALREADY_REVEALED'
  | 'LABEL_REVEAL_MISMATCH'
  | 'LABEL_ITEM_NOT_ASSIGNED'
  | 'LABEL_DUPLICATE_ITEM'
  | 'LABEL_OUT_OF_RANGE'
  | 'GOLD_NOT_OPEN'
  | 'GOLD_BAD_PROOF'
  | 'GOLD_ALREADY_REVEALED'
  | 'GOLD_ITEM_CLOSED'
  | 'DISPUTE_NOT_FINAL'
  | 'DISPUTE_WINDOW_CLOSED'
  | 'DISPUTE_ALREADY'
  | 'DISPUTE_BOND_TOO_LOW';

/** Thrown inside execution to fail the transaction; applyTx turns it into a failed receipt. */
export class TxFailure extends ChainError<{ code: TxFailureCode }> {
  constructor(code: TxFailureCode, message: string = code) {
    super({ code }, message);
  }
}

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
