import { ChainError } from '../lib/index.ts';

/** Every genesis problem names the JSON path it was found at, e.g. `accounts[2].balance`. */
export type GenesisErrorType =
  | { code: 'GENESIS_NOT_JSON'; reason: string }
  | { code: 'GENESIS_INVALID_FIELD'; path: string; reason: string }
  | { code: 'GENESIS_UNKNOWN_FIELD'; path: string }
  | { code: 'GENESIS_DUPLICATE_ACCOUNT'; path: string; address: string }
  | { code: 'GENESIS_DUPLICATE_VALIDATOR'; path: string; publicKey: string }
  | { code: 'GENESIS_BAD_KEY'; path: string }
  | { code: 'GENESIS_ZERO_STAKE'; path: string }
  | { code: 'GENESIS_NO_VALIDATORS' }
  | { code: 'GENESIS_TOO_MANY_VALIDATORS'; count: number; max: number }
  | { code: 'GENESIS_SUPPLY_OVERFLOW'; max: string };
export class GenesisError extends ChainError<GenesisErrorType> {}
