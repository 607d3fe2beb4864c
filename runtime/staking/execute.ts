/**
 * Executes staking transactions. Each handler succeeds (writes + events) or throws TxFailure with a
 * receipt code; applyTx runs it in a forked view, so a failure leaves nothing behind.
 * See docs/spec/staking.md §Transactions.
 */
import { addressFromPublicKey, addressToString, equalBytes, isValidPublicKey } from '../../lib/index.ts';
import type { StateView } from '../../state/index.ts';
import type { ChainEvent } from '../block.ts';
import { TxFailure } from '../errors.ts';
import { handleEvidence, jailValidator } from './misbehaviour.ts';
import { stakingEpochOf, type StakingParams } from './params.ts';
import {
  loadDelegation,
  loadStakingValidator,
  operatorOf,
  registerValidator,
  saveStakingValidator,
  validatorCount,
  type StakingValidator,
} from './records.ts';
import { debit } from '../labelling/index.ts';
import { bond, payFromPool, selfStake, settleDelegation, unbond } from './stake.ts';
import type { StakingBody } from './txs.ts';

export type StakingTxEnv = { chainId: string; height: number; timeMs: bigint; params: StakingParams };

const ev = (type: string, attributes: Array<readonly [string, string]>): ChainEvent => ({ type, attributes });

export function executeStaking(view: StateView, sender: Uint8Array, body: StakingBody, env: StakingTxEnv): ChainEvent[] {
  switch (body.kind) {
    case 'validatorCreate':
      return createValidator(view, sender, body, env);
    case 'validatorEdit':
      return editValidator(view, sender, body.commissionBps, body.moniker, env);
    case 'delegate':
      return delegate(view, sender, body.validator, body.amount);
    case 'undelegate':
      return undelegate(view, sender, body.validator, body.amount, env);
    case 'unjail':
      return unjail(view, sender, env);
    case 'claimRewards':
      return claimRewards(view, sender, body.validator);
    case 'evidence':
      return handleEvidence(view, sender, body.voteA, body.voteB, env);
  }
}

function mustLoad(view: StateView, operator: Uint8Array): StakingValidator {
  const v = loadStakingValidator(view, operator);
  if (v === null) throw new TxFailure('VALIDATOR_NOT_FOUND');
  return v;
}

function createValidator(
  view: StateView,
  operator: Uint8Array,
  body: Extract<StakingBody, { kind: 'validatorCreate' }>,
  env: StakingTxEnv,
): ChainEvent[] {
  const { params } = env;
  if (loadStakingValidator(view, operator) !== null) throw new TxFailure('VALIDATOR_EXISTS');
  if (!isValidPublicKey(body.consensusKey)) throw new TxFailure('VALIDATOR_BAD_KEY');
  const consensusAddress = addressFromPublicKey(body.consensusKey);
  // Consensus keys are never reused, not even a tombstoned validator's.
  if (operatorOf(view, consensusAddress) !== null) throw new TxFailure('VALIDATOR_KEY_IN_USE');
  if (body.commissionBps > params.commissionMaxBps) throw new TxFailure('VALIDATOR_BAD_COMMISSION');
  if (body.moniker.trim() === '') throw new TxFailure('VALIDATOR_BAD_MONIKER');
  if (body.selfStake < params.minSelfStake) throw new TxFailure('VALIDATOR_SELF_STAKE_TOO_LOW');
  if (validatorCount(view) >= params.validatorsMax) throw new TxFailure('VALIDATOR_REGISTRY_FULL');
  debit(view, operator, body.selfStake);
  const index = registerValidator(view, operator, consensusAddress);
  const v: StakingValidator = {
    operator,
    consensusKey: body.consensusKey,
    consensusAddress,
    moniker: body.moniker,
    commissionBps: body.commissionBps,
    commissionChangedEpoch: 0,
    tokens: 0n,
    shares: 0n,
    rewardIndex: 0n,
    commission: 0n,
    jailed: false,
    jailedUntil: 0,
    tombstoned: false,
    offence: [0, 0, 0],
    index,
  };
  saveStakingValidator(view, v);
  bond(view, operator, v, body.selfStake);
  return [
    ev('validator_created', [
      ['validator', addressToString(operator)],
      ['consensusAddress', addressToString(consensusAddress)],
      ['selfStake', body.selfStake.toString()],
      ['commissionBps', String(body.commissionBps)],
    ]),
  ];
}

function editValidator(view: StateView, operator: Uint8Array, commissionBps: number, moniker: string, env: StakingTxEnv): ChainEvent[] {
  const { params } = env;
  const v = mustLoad(view, operator);
  if (moniker.trim() === '') throw new TxFailure('VALIDATOR_BAD_MONIKER');
  let changedEpoch = v.commissionChangedEpoch;
  if (commissionBps !== v.commissionBps) {
    if (commissionBps > params.commissionMaxBps) throw new TxFailure('VALIDATOR_BAD_COMMISSION');
    const delta = commissionBps > v.commissionBps ? commissionBps - v.commissionBps : v.commissionBps - commissionBps;
    if (delta > params.commissionChangeMaxBps) throw new TxFailure('VALIDATOR_COMMISSION_CHANGE_TOO_LARGE');
    const epoch = stakingEpochOf(env.height, params);
    if (v.commissionChangedEpoch === epoch + 1) throw new TxFailure('VALIDATOR_COMMISSION_CHANGE_TOO_SOON');
    changedEpoch = epoch + 1;
  }
  saveStakingValidator(view, { ...v, commissionBps, moniker, commissionChangedEpoch: changedEpoch });
  return [ev('validator_edited', [['validator', addressToString(operator)], ['commissionBps', String(commissionBps)], ['moniker', moniker]])];
}

function delegate(view: StateView, delegator: Uint8Array, operator: Uint8Array, amount: bigint): ChainEvent[] {
  if (amount === 0n) throw new TxFailure('TX_ZERO_AMOUNT');
  const v = mustLoad(view, operator);
  if (v.tombstoned) throw new TxFailure('VALIDATOR_TOMBSTONED');
  debit(view, delegator, amount);
  const { paid } = bond(view, delegator, v, amount);
  return [
    ev('delegated', [['delegator', addressToString(delegator)], ['validator', addressToString(operator)], ['amount', amount.toString()], ['rewards', paid.toString()]]),
  ];
}

function undelegate(view: StateView, delegator: Uint8Array, operator: Uint8Array, amount: bigint, env: StakingTxEnv): ChainEvent[] {
  const v = mustLoad(view, operator);
  const out = unbond(view, delegator, v, amount, env.height, env.params);
  const events = [
    ev('undelegated', [
      ['delegator', addressToString(delegator)],
      ['validator', addressToString(operator)],
      ['amount', out.tokens.toString()],
      ['completionHeight', String(out.completionHeight)],
      ['rewards', out.paid.toString()],
    ]),
  ];
  // An operator whose own stake falls below the minimum is jailed (it may unjail after topping up).
  if (equalBytes(delegator, operator) && !out.validator.jailed && selfStake(view, out.validator) < env.params.minSelfStake) {
    jailValidator(view, out.validator, env.height);
    events.push(ev('validator_jailed', [['validator', addressToString(operator)], ['reason', 'self_stake'], ['until', String(env.height)]]));
  }
  return events;
}

function unjail(view: StateView, operator: Uint8Array, env: StakingTxEnv): ChainEvent[] {
  const v = mustLoad(view, operator);
  if (v.tombstoned) throw new TxFailure('VALIDATOR_TOMBSTONED');
  if (!v.jailed) throw new TxFailure('VALIDATOR_NOT_JAILED');
  if (env.height < v.jailedUntil) throw new TxFailure('VALIDATOR_STILL_JAILED');
  if (selfStake(view, v) < env.params.minSelfStake) throw new TxFailure('VALIDATOR_SELF_STAKE_TOO_LOW');
  saveStakingValidator(view, { ...v, jailed: false });
  return [ev('validator_unjailed', [['validator', addressToString(operator)]])];
}

function claimRewards(view: StateView, claimer: Uint8Array, operator: Uint8Array): ChainEvent[] {
  const v = mustLoad(view, operator);
  const d = loadDelegation(view, claimer, operator);
  const isOperator = equalBytes(claimer, operator);
  if (d === null && !isOperator) throw new TxFailure('DELEGATION_NOT_FOUND');
  const rewards = d === null ? 0n : settleDelegation(view, claimer, v, d);
  const commission = isOperator ? v.commission : 0n;
  if (commission > 0n) {
    payFromPool(view, claimer, commission);
    saveStakingValidator(view, { ...v, commission: 0n });
  }
  return [
    ev('rewards_claimed', [['delegator', addressToString(claimer)], ['validator', addressToString(operator)], ['rewards', rewards.toString()], ['commission', commission.toString()]]),
  ];
}
