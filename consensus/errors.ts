import { ChainError } from '../lib/index.ts';

export type SignerErrorType =
  | { code: 'SIGNER_DOUBLE_SIGN_REFUSED'; height: number; round: number; step: number; lastHeight: number; lastRound: number; lastStep: number }
  | { code: 'SIGNER_STATE_CORRUPT'; path: string; reason: string };
export class SignerError extends ChainError<SignerErrorType> {}
