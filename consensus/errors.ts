import { ChainError } from '../lib/index.ts';

export type SignerErrorType =
  | { code: 'SIGNER_DOUBLE_SIGN_REFUSED'; height: number; round: number; step: number; lastHeight: number; lastRound: number; lastStep: number }
  | { code: 'SIGNER_STATE_CORRUPT'; path: string; reason: string };
export class SignerError extends ChainError<SignerErrorType> {}

/** The write-ahead log holds a record that is damaged but not a torn tail, or one that cannot be read. */
export type WalErrorType =
  | { code: 'WAL_CORRUPT'; path: string; offset: number; reason: string }
  | { code: 'WAL_BAD_RECORD'; path: string; offset: number; reason: string };
export class WalError extends ChainError<WalErrorType> {}

/**
 * A consensus message from a peer that is invalid, whoever relayed it: the network scores the
 * sender down. (Messages that are merely late, early or repeated are ignored, not errors.)
 */
export type ConsensusMessageErrorType =
  | { code: 'CONSENSUS_UNKNOWN_VALIDATOR'; validator: string; height: number }
  | { code: 'CONSENSUS_BAD_SIGNATURE'; validator: string; height: number; round: number }
  | { code: 'CONSENSUS_WRONG_PROPOSER'; proposer: string; height: number; round: number }
  | { code: 'CONSENSUS_BAD_BLOCK'; height: number; round: number; reason: string }
  | { code: 'CONSENSUS_BLOCK_HASH_MISMATCH'; height: number; round: number }
  | { code: 'CONSENSUS_BAD_VALID_ROUND'; height: number; round: number }
  | { code: 'CONSENSUS_BAD_EVIDENCE'; reason: string };
export class ConsensusMessageError extends ChainError<ConsensusMessageErrorType> {}
