/**
 * Per-block reward distribution, O(validators): docs/spec/staking.md §Rewards.
 *
 *   pool      = blockReward (minted) + the validators' share of the block's fees
 *   validator = pool · power / eligible power            (rounded down; the dust stays in the pool)
 *   operator  += validator · commissionBps / 10,000      (accrued, paid by claimRewards)
 *   index     += (validator − commission) · 10^27 / shares
 *
 * A delegator is owed `shares · (index − its index) / 10^27`, paid when its delegation changes or
 * it claims. Eligible: members of the set that validated the block, not jailed, with shares.
 */
import { addressToString } from '../../lib/index.ts';
import { loadAccount, loadSupply, loadValidatorSet, saveAccount, saveSupply, type StateView } from '../../state/index.ts';
import type { ChainEvent } from '../block.ts';
import type { StakingParams } from './params.ts';
import { REWARD_INDEX_SCALE, REWARD_POOL_ADDRESS, loadValidatorByConsensus, saveStakingValidator, type StakingValidator } from './records.ts';

/** The fees of a block: the validators' share (`toProposer`, named before staking) and the burned share. */
export type BlockFees = { toProposer: bigint; burned: bigint };

export function distributeRewards(view: StateView, proposer: Uint8Array, fees: BlockFees, params: StakingParams): ChainEvent[] {
  if (fees.burned > 0n) saveSupply(view, loadSupply(view) - fees.burned);
  const eligible: Array<{ v: StakingValidator; power: bigint }> = [];
  let eligiblePower = 0n;
  for (const member of loadValidatorSet(view)) {
    const v = loadValidatorByConsensus(view, member.address);
    if (v === null || v.jailed || v.shares === 0n || member.power === 0n) continue;
    eligible.push({ v, power: member.power });
    eligiblePower += member.power;
  }
  if (eligiblePower === 0n) {
    // No staking validator to pay (a state without one): the fees go to the proposer, nothing is minted.
    if (fees.toProposer > 0n) {
      const account = loadAccount(view, proposer);
      saveAccount(view, proposer, { ...account, balance: account.balance + fees.toProposer });
    }
    return [];
  }
  const minted = params.blockReward;
  const total = minted + fees.toProposer;
  if (total === 0n) return [];
  if (minted > 0n) saveSupply(view, loadSupply(view) + minted);
  const pool = loadAccount(view, REWARD_POOL_ADDRESS);
  saveAccount(view, REWARD_POOL_ADDRESS, { ...pool, balance: pool.balance + total });
  let distributed = 0n;
  for (const { v, power } of eligible) {
    const amount = (total * power) / eligiblePower;
    const commission = (amount * BigInt(v.commissionBps)) / 10_000n;
    const rewardIndex = v.rewardIndex + ((amount - commission) * REWARD_INDEX_SCALE) / v.shares;
    saveStakingValidator(view, { ...v, commission: v.commission + commission, rewardIndex });
    distributed += amount;
  }
  // Fees alone leave no event (they are in the transactions' receipts); minted TAG is announced, so
  // that the supply can be audited from receipts.
  if (minted === 0n) return [];
  return [
    {
      type: 'block_rewards',
      attributes: [
        ['minted', minted.toString()],
        ['fees', fees.toProposer.toString()],
        ['distributed', distributed.toString()],
        ['validators', String(eligible.length)],
        ['pool', addressToString(REWARD_POOL_ADDRESS)],
      ],
    },
  ];
}
