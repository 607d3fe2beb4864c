/**
 * Staking transactions against docs/spec/staking.md §Transactions: each kind's happy path and every
 * receipt code it can fail with. Evidence has its own file (misbehaviour.test.ts).
 */
import t from 'tap';
import { addressFromPublicKey, addressToString, bytesToHex, concatBytes } from '../../../lib/index.ts';
import {
  RECEIPT_STATUS,
  REWARD_POOL_ADDRESS,
  decodeSignedTx,
  encodeTx,
  loadDelegation,
  loadUnbonding,
  operatorOf,
  signTx,
  type StakingBody,
} from '../../../runtime/index.ts';
import { DEFAULT_PARAMS, loadAccount } from '../../../state/index.ts';
import { numberedKey } from '../../utils/chain.ts';
import { TEST_CHAIN_ID, codeOf } from '../../utils/factories.ts';
import { StakingChain, TAG } from './harness.ts';

const genesisValidator = numberedKey(9000);
const operator = numberedKey(7001);
const consensus = numberedKey(7002);
const bob = numberedKey(7003);
const carol = numberedKey(7004);
const poor = numberedKey(7005);
const noFees = { ...DEFAULT_PARAMS, baseFee: 0n, perByteFee: 0n };

function create(overrides: Partial<Extract<StakingBody, { kind: 'validatorCreate' }>> = {}): StakingBody {
  return { kind: 'validatorCreate', consensusKey: consensus.publicKey, selfStake: 50n * TAG, commissionBps: 1_000, moniker: 'op-1', ...overrides };
}

function chainWithValidator(params: ConstructorParameters<typeof StakingChain>[0] = {}): StakingChain {
  const chain = new StakingChain({ accounts: [operator, bob, carol], chainParams: noFees, ...params });
  chain.addConsensusKey(consensus);
  const r = chain.send(operator, create());
  if (r.status !== RECEIPT_STATUS.ok) throw new Error(`create failed: ${r.code}`);
  return chain;
}

t.test('wire: every staking body round-trips through a signed transaction; kind 14 (redelegate) is not a kind', async (t) => {
  const bodies: StakingBody[] = [
    create(),
    { kind: 'validatorEdit', commissionBps: 7, moniker: 'x' },
    { kind: 'delegate', validator: operator.address, amount: 5n },
    { kind: 'undelegate', validator: operator.address, amount: 5n },
    { kind: 'unjail' },
    { kind: 'claimRewards', validator: operator.address },
  ];
  const chain = new StakingChain();
  bodies.push({ kind: 'evidence', voteA: chain.vote(consensus, 3, new Uint8Array(32).fill(1)), voteB: chain.vote(consensus, 3, new Uint8Array(0)) });
  for (const body of bodies) {
    const signed = signTx({ chainId: TEST_CHAIN_ID, sender: bob.publicKey, nonce: 0, maxFee: TAG, body }, bob.secretKey);
    t.same(decodeSignedTx(signed.bytes).tx.body, body, `${body.kind} round-trips`);
  }
  const tx = { chainId: TEST_CHAIN_ID, sender: bob.publicKey, nonce: 0, maxFee: TAG, body: { kind: 'unjail' } as const };
  const bytes = encodeTx(tx);
  // The kind is the fifth field; 0x0f (unjail) → 0x0e (14).
  const at = bytes.indexOf(0x0f, 40);
  const patched = Uint8Array.from(bytes);
  patched[at] = 0x0e;
  const resigned = concatBytes(Uint8Array.of(0x92), patched, Uint8Array.of(0xc4, 64), new Uint8Array(64));
  t.equal(codeOf(() => decodeSignedTx(resigned)), 'CODEC_WRONG_TYPE', 'kind 14 does not decode');
});

t.test('validatorCreate: bonds the self-stake, registers the key, joins the set at the next epoch boundary', async (t) => {
  const chain = new StakingChain({ accounts: [operator], chainParams: noFees });
  chain.addConsensusKey(consensus);
  const before = chain.balance(operator);
  const r = chain.send(operator, create());
  t.equal(r.code, '', 'ok');
  t.equal(r.events[1]?.type, 'validator_created');
  t.equal(chain.balance(operator), before - 50n * TAG, 'the self-stake left the balance');
  const v = chain.validator(operator);
  t.same([v.tokens, v.shares, v.commissionBps, v.moniker, v.jailed], [50n * TAG, 50n * TAG, 1_000, 'op-1', false]);
  t.same(operatorOf(chain.state, consensus.address), operator.address, 'consensus address → operator');
  t.equal(loadDelegation(chain.state, operator.address, operator.address)?.shares, 50n * TAG, 'self-delegation');
  t.notOk(chain.activeSet().includes(bytesToHex(consensus.address)), 'not in the set mid-epoch');
  chain.advanceTo(4);
  t.notOk(chain.activeSet().includes(bytesToHex(consensus.address)), 'still not before the boundary');
  chain.advanceTo(5);
  t.ok(chain.activeSet().includes(bytesToHex(consensus.address)), 'in the set from the epoch boundary (height 5)');
});

t.test('validatorCreate receipt codes', async (t) => {
  const smallOrderKey = concatBytes(Uint8Array.of(1), new Uint8Array(31)); // the identity point
  const chain = new StakingChain({ accounts: [operator, bob, carol], chainParams: noFees, params: { validatorsMax: 3 } });
  chain.addConsensusKey(consensus);
  const cases: Array<[string, StakingBody, string]> = [
    ['a small-order consensus key', create({ consensusKey: smallOrderKey }), 'VALIDATOR_BAD_KEY'],
    ['the genesis validator’s key', create({ consensusKey: genesisValidator.publicKey }), 'VALIDATOR_KEY_IN_USE'],
    ['commission above the maximum', create({ commissionBps: 5_001 }), 'VALIDATOR_BAD_COMMISSION'],
    ['a blank moniker', create({ moniker: '  ' }), 'VALIDATOR_BAD_MONIKER'],
    ['self-stake below the minimum', create({ selfStake: 10n * TAG - 1n }), 'VALIDATOR_SELF_STAKE_TOO_LOW'],
    ['more than the balance', create({ selfStake: 20_000n * TAG }), 'TX_INSUFFICIENT_BALANCE'],
  ];
  for (const [name, body, code] of cases) {
    const r = chain.send(operator, body);
    t.same([r.status, r.code], [RECEIPT_STATUS.failed, code], name);
  }
  t.equal(chain.send(operator, create()).code, '', 'the valid one');
  t.equal(chain.send(operator, create({ consensusKey: numberedKey(7100).publicKey })).code, 'VALIDATOR_EXISTS', 'one validator per operator');
  t.equal(chain.send(bob, create()).code, 'VALIDATOR_KEY_IN_USE', 'a key in use by another operator');
  t.equal(chain.send(bob, create({ consensusKey: numberedKey(7101).publicKey })).code, '', 'the third validator');
  t.equal(chain.send(carol, create({ consensusKey: numberedKey(7102).publicKey })).code, 'VALIDATOR_REGISTRY_FULL', 'validatorsMax reached');
});

t.test('validatorEdit: moniker and commission, one bounded change per epoch', async (t) => {
  const chain = chainWithValidator();
  t.equal(chain.height, 1);
  let r = chain.send(operator, { kind: 'validatorEdit', commissionBps: 1_000, moniker: 'renamed' });
  t.equal(r.code, '', 'a rename alone');
  t.equal(chain.validator(operator).moniker, 'renamed');
  t.equal(chain.send(operator, { kind: 'validatorEdit', commissionBps: 1_501, moniker: 'renamed' }).code, 'VALIDATOR_COMMISSION_CHANGE_TOO_LARGE', '+501 bps');
  r = chain.send(operator, { kind: 'validatorEdit', commissionBps: 1_500, moniker: 'renamed' });
  t.equal(r.code, '', '+500 bps');
  t.equal(chain.validator(operator).commissionBps, 1_500);
  t.equal(chain.send(operator, { kind: 'validatorEdit', commissionBps: 1_400, moniker: 'renamed' }).code, 'VALIDATOR_COMMISSION_CHANGE_TOO_SOON', 'twice in epoch 0');
  chain.advanceTo(5); // the next transaction is at height 6: epoch 1
  t.equal(chain.send(operator, { kind: 'validatorEdit', commissionBps: 1_000, moniker: 'renamed' }).code, '', 'again in epoch 1');
  t.equal(chain.send(operator, { kind: 'validatorEdit', commissionBps: 1_000, moniker: '' }).code, 'VALIDATOR_BAD_MONIKER');
  t.equal(chain.send(bob, { kind: 'validatorEdit', commissionBps: 0, moniker: 'bob' }).code, 'VALIDATOR_NOT_FOUND', 'not an operator');
  chain.advanceTo(10);
  t.equal(chain.send(operator, { kind: 'validatorEdit', commissionBps: 3_000, moniker: 'x' }).code, 'VALIDATOR_COMMISSION_CHANGE_TOO_LARGE', 'far above');
  const edgy = new StakingChain({ accounts: [operator], chainParams: noFees, params: { commissionChangeMaxBps: 10_000 } });
  edgy.addConsensusKey(consensus);
  edgy.send(operator, create());
  t.equal(edgy.send(operator, { kind: 'validatorEdit', commissionBps: 5_001, moniker: 'x' }).code, 'VALIDATOR_BAD_COMMISSION', 'above commissionMaxBps');
});

t.test('delegate: shares at the current rate; receipt codes', async (t) => {
  const chain = chainWithValidator();
  const before = chain.balance(bob);
  const r = chain.send(bob, { kind: 'delegate', validator: operator.address, amount: 30n * TAG });
  t.equal(r.code, '');
  t.equal(r.events[1]?.type, 'delegated');
  t.equal(chain.balance(bob), before - 30n * TAG);
  t.same([chain.validator(operator).tokens, chain.validator(operator).shares], [80n * TAG, 80n * TAG]);
  t.equal(chain.stakeOf(bob, operator), 30n * TAG);
  t.equal(chain.send(bob, { kind: 'delegate', validator: operator.address, amount: 0n }).code, 'TX_ZERO_AMOUNT');
  t.equal(chain.send(bob, { kind: 'delegate', validator: carol.address, amount: TAG }).code, 'VALIDATOR_NOT_FOUND');
  t.equal(chain.send(bob, { kind: 'delegate', validator: operator.address, amount: 100_000n * TAG }).code, 'TX_INSUFFICIENT_BALANCE');
  t.equal(chain.send(bob, { kind: 'delegate', validator: genesisValidator.address, amount: TAG }).code, '', 'to a genesis validator (operator = its consensus address)');
});

t.test('undelegate: unbonding entry, release after unbondingBlocks; receipt codes; self-stake below the minimum jails', async (t) => {
  const chain = chainWithValidator();
  chain.send(bob, { kind: 'delegate', validator: operator.address, amount: 30n * TAG });
  const before = chain.balance(bob);
  const r = chain.send(bob, { kind: 'undelegate', validator: operator.address, amount: 10n * TAG });
  t.equal(r.code, '');
  const height = chain.height;
  const entries = loadUnbonding(chain.state, bob.address, operator.address);
  t.same(entries.map((e) => [e.initial, e.creationHeight, e.completionHeight]), [[10n * TAG, height, height + 30]]);
  t.equal(chain.stakeOf(bob, operator), 20n * TAG);
  chain.advanceTo(height + 29);
  t.equal(chain.balance(bob), before, 'nothing before completion');
  chain.block();
  t.equal(chain.balance(bob), before + 10n * TAG, 'released at completion height');
  t.same(chain.events('unbonding_completed'), [{ delegator: addressToString(bob.address), validator: addressToString(operator.address), amount: (10n * TAG).toString() }]);
  t.same(loadUnbonding(chain.state, bob.address, operator.address), [], 'entry gone');

  t.equal(chain.send(bob, { kind: 'undelegate', validator: operator.address, amount: 0n }).code, 'TX_ZERO_AMOUNT');
  t.equal(chain.send(bob, { kind: 'undelegate', validator: carol.address, amount: TAG }).code, 'VALIDATOR_NOT_FOUND');
  t.equal(chain.send(carol, { kind: 'undelegate', validator: operator.address, amount: TAG }).code, 'DELEGATION_NOT_FOUND');
  t.equal(chain.send(bob, { kind: 'undelegate', validator: operator.address, amount: 20n * TAG + 1n }).code, 'DELEGATION_INSUFFICIENT');
  for (let i = 0; i < 3; i++) t.equal(chain.send(bob, { kind: 'undelegate', validator: operator.address, amount: TAG }).code, '', `entry ${i + 1}`);
  t.equal(chain.send(bob, { kind: 'undelegate', validator: operator.address, amount: TAG }).code, 'UNBONDING_ENTRIES_FULL', 'unbondingEntriesMax = 3');

  // All of bob's remaining shares: the delegation disappears.
  const rest = chain.stakeOf(bob, operator);
  const all = new StakingChain({ accounts: [operator, bob], chainParams: noFees, params: { unbondingEntriesMax: 5 } });
  all.addConsensusKey(consensus);
  all.send(operator, create());
  all.send(bob, { kind: 'delegate', validator: operator.address, amount: rest });
  t.equal(all.send(bob, { kind: 'undelegate', validator: operator.address, amount: rest }).code, '');
  t.equal(loadDelegation(all.state, bob.address, operator.address), null, 'no delegation left');

  // The operator takes its own stake below minSelfStake (10 TAG): jailed, not slashed.
  const r2 = all.send(operator, { kind: 'undelegate', validator: operator.address, amount: 41n * TAG });
  t.equal(r2.code, '');
  t.same(r2.events.map((e) => e.type), ['fee', 'undelegated', 'validator_jailed']);
  t.equal(all.validator(operator).jailed, true);
  t.equal(all.validator(operator).tokens, 9n * TAG, 'no slash');
});

t.test('unjail: receipt codes, then a successful unjail after topping up the self-stake', async (t) => {
  const chain = chainWithValidator();
  t.equal(chain.send(bob, { kind: 'unjail' }).code, 'VALIDATOR_NOT_FOUND');
  t.equal(chain.send(operator, { kind: 'unjail' }).code, 'VALIDATOR_NOT_JAILED');
  chain.send(operator, { kind: 'undelegate', validator: operator.address, amount: 45n * TAG });
  t.equal(chain.validator(operator).jailed, true, 'jailed for self-stake');
  t.equal(chain.send(operator, { kind: 'unjail' }).code, 'VALIDATOR_SELF_STAKE_TOO_LOW');
  chain.send(operator, { kind: 'delegate', validator: operator.address, amount: 5n * TAG });
  const r = chain.send(operator, { kind: 'unjail' });
  t.equal(r.code, '');
  t.equal(r.events[1]?.type, 'validator_unjailed');
  t.equal(chain.validator(operator).jailed, false);
});

t.test('claimRewards: a delegator is paid its share, the operator its commission; receipt codes', async (t) => {
  const chain = chainWithValidator();
  chain.send(bob, { kind: 'delegate', validator: operator.address, amount: 50n * TAG });
  chain.advanceTo(10); // in the set from height 6: 5 blocks of rewards so far
  const v = chain.validator(operator);
  t.ok(v.commission > 0n && v.rewardIndex > 0n, 'rewards accrued');
  const pool = chain.balance(REWARD_POOL_ADDRESS);
  const bobBefore = chain.balance(bob);
  const r = chain.send(bob, { kind: 'claimRewards', validator: operator.address });
  t.equal(r.code, '');
  const claimed = BigInt(r.events[1]?.attributes.find(([k]) => k === 'rewards')?.[1] ?? '0');
  t.ok(claimed > 0n, 'bob was paid');
  t.equal(chain.balance(bob), bobBefore + claimed);
  const opBefore = chain.balance(operator);
  const commission = chain.validator(operator).commission;
  const r2 = chain.send(operator, { kind: 'claimRewards', validator: operator.address });
  const paid = BigInt(r2.events[1]?.attributes.find(([k]) => k === 'rewards')?.[1] ?? '0') + BigInt(r2.events[1]?.attributes.find(([k]) => k === 'commission')?.[1] ?? '0');
  t.ok(paid >= commission, 'the operator gets its delegation rewards and the commission');
  t.equal(chain.balance(operator), opBefore + paid);
  t.ok(chain.validator(operator).commission < commission / 4n, 'commission paid out (only this block’s accrues again)');
  t.ok(chain.balance(REWARD_POOL_ADDRESS) < pool + 3n * TAG, 'the pool paid');
  t.equal(chain.send(carol, { kind: 'claimRewards', validator: operator.address }).code, 'DELEGATION_NOT_FOUND');
  t.equal(chain.send(bob, { kind: 'claimRewards', validator: carol.address }).code, 'VALIDATOR_NOT_FOUND');
  t.equal(loadAccount(chain.state, poor.address).balance, 0n);
  t.equal(addressFromPublicKey(consensus.publicKey).length, 20);
});
