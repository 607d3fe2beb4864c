/**
 * Staking parameters live in state/stakingParams.ts (genesis sets them); re-exported here with the
 * helpers the module derives from them. See docs/spec/staking.md §Parameters.
 */
import type { StakingParams } from '../../state/index.ts';

export {
  DEFAULT_STAKING_PARAMS,
  STAKING_CEILINGS,
  STAKING_PARAMS_KEY,
  decodeStakingParams,
  encodeStakingParams,
  loadStakingParams,
  saveStakingParams,
  stakingParamsProblem,
  type StakingParams,
  type StakingParamsProblem,
} from '../../state/index.ts';

/** Epoch of a height: heights 1…E are epoch 0, E+1…2E epoch 1, and so on (height 0 is epoch 0). */
export function stakingEpochOf(height: number, p: StakingParams): number {
  return height === 0 ? 0 : Math.floor((height - 1) / p.epochBlocks);
}

/** Most missed blocks in the window before a validator is jailed: more than this jails. */
export function missedBlocksMax(p: StakingParams): number {
  return p.signedBlocksWindow - Math.floor((p.signedBlocksWindow * p.minSignedBps) / 10_000);
}
