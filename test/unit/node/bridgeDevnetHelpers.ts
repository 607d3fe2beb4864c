import type { Hex } from 'viem';
import { bytesToHex } from '../../../lib/index.ts';
import { validatorSetHash, type BridgeValidatorSet } from '../../../bridge/index.ts';

export { genesisBridgeSet } from '../../../genesis/index.ts';

export function validatorSetHashOf(set: BridgeValidatorSet): Hex {
  return `0x${bytesToHex(validatorSetHash(set))}`;
}
