/**
 * Rewards (docs/spec/staking.md §Rewards) and TAG conservation.
 *
 * - A worked example: two validators, commission, a delegator; the rewards and the commission match
 *   the spec's integer formulas exactly.
 * - A fast-check property: random blocks of staking operations (create, edit, delegate, undelegate,
 *   claim, double-sign evidence, validators missing blocks) through the real runtime. After every
 *   block, enumerating the state by key prefix:
 *     Σ balances (the reward pool's included) + Σ bonded tokens + Σ unbonding pools = supply,
 *     the reward pool holds at least what it owes (unpaid rewards + unclaimed commission),
 *     supply moved by exactly minted − burned fees − slashed.
 */
import fc from 'fast-check';
import t from 'tap';
import { ONE_TAG, bytesToHex, sha256, u32ToBytes } from '../../../lib/index.ts';
import {
  DEFAULT_STAKING_PARAMS,
  REWARD_INDEX_SCALE,
  REWARD_POOL_ADDRESS,
  applyBlockTxs,
  checkEvidenceTx,
  loadDelegation,
  saveStakingParams,
  signTx,
  type Receipt,
  type SignedTx,
  type StakingBody,
} from '../../../runtime/index.ts';
import { DEFAULT_PARAMS, MapStateReader, PARAMS_KEY, StateView, encodeParams, loadAccount, loadSupply, saveAccount, saveSupply } from '../../../state/index.ts';
import { numberedKey } from '../../utils/chain.ts';
import { TEST_CHAIN_ID, type Key } from '../../utils/factories.ts';
import { StakingChain, TAG, census, type Census } from './harness.ts';

const A = numberedKey(9400);
const B = numberedKey(9401);
const bob = numberedKey(9410);
/** Reports double signs in the property test; evidence is free, so it needs no TAG. */
const reporter = numberedKey(9411);
const noFees = { ...DEFAULT_PARAMS, baseFee: 0n, perByteFee: 0n };

t.test('worked example: by power, then commission, then per share', async (t) => {
  const chain = new StakingChain({ validators: [A, B], accounts: [A, B, bob], chainParams: noFees, power: 100n * TAG });
  t.equal(chain.send(B, { kind: 'validatorEdit', commissionBps: 500, moniker: 'b' }).code, ''); // 1
  t.equal(chain.send(bob, { kind: 'delegate', validator: B.address, amount: 100n * TAG }).code, ''); // 2
  chain.advanceTo(5); // the set of epoch 1: A 100, B 200
  const a0 = chain.validator(A);
  const b0 = chain.validator(B);
  chain.advanceTo(15); // 10 blocks, 1 TAG each, with the same set
  const total = TAG; // per block
  const toA = (total * 100n) / 300n;
  const toB = (total * 200n) / 300n;
  const commissionB = (toB * 500n) / 10_000n;
  let indexA = a0.rewardIndex;
  let indexB = b0.rewardIndex;
  for (let i = 0; i < 10; i++) {
    indexA += (toA * REWARD_INDEX_SCALE) / a0.shares;
    indexB += ((toB - commissionB) * REWARD_INDEX_SCALE) / b0.shares;
  }
  const a = chain.validator(A);
  const b = chain.validator(B);
  t.equal(a.rewardIndex, indexA, 'A: no commission, all to its shares');
  t.equal(b.rewardIndex, indexB, 'B: its shares get the rest after 5 %');
  t.equal(b.commission - b0.commission, 10n * commissionB, 'B’s commission accrued');
  // Bob holds half of B's shares since block 2: blocks 2–5 at 1/2 of the rewards (power 100 of
  // 200), blocks 6–15 at 2/3, minus 5 %, halved: 4 · 0.2375 + 10 · 0.31667 ≈ 4.1167 TAG.
  const d = loadDelegation(chain.state, bob.address, B.address);
  t.ok(d !== null);
  const expected = ((d?.shares ?? 0n) * (b.rewardIndex - (d?.rewardIndex ?? 0n))) / REWARD_INDEX_SCALE;
  const before = chain.balance(bob);
  const r = chain.send(bob, { kind: 'claimRewards', validator: B.address }); // paid before block 16's own rewards
  t.equal(r.code, '');
  const paid = chain.balance(bob) - before;
  t.equal(paid, expected, 'bob is paid shares · Δindex / 10^27');
  t.ok(paid > 4116n * 10n ** 15n && paid < 4117n * 10n ** 15n, `≈ 4.1167 TAG (${paid})`);
  t.ok(chain.balance(REWARD_POOL_ADDRESS) > 0n, 'the pool keeps what others are owed');
});

type Op =
  | { op: 'delegate' | 'undelegate'; who: number; val: number; amount: number }
  | { op: 'claim'; who: number; val: number }
  | { op: 'create'; who: number; stake: number; commission: number }
  | { op: 'edit'; who: number; commission: number }
  | { op: 'evidence'; val: number; back: number }
  | { op: 'unjail'; val: number };

type Block = { ops: Op[]; absent: number };

const genesisValidators = [numberedKey(9500), numberedKey(9501), numberedKey(9502)];
const operators = [numberedKey(9510), numberedKey(9511)];
const consensusKeys = [numberedKey(9520), numberedKey(9521)];
const delegators = [numberedKey(9530), numberedKey(9531), numberedKey(9532)];
/** Operator addresses delegations can target: the genesis validators, then the two operators. */
const targets = [...genesisValidators, ...operators];
const signersFor = (val: number): Key => (val < 3 ? (genesisValidators[val] as Key) : (consensusKeys[val - 3] as Key));

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constantFrom('delegate' as const, 'undelegate' as const), who: fc.integer({ min: 0, max: 4 }), val: fc.integer({ min: 0, max: 4 }), amount: fc.integer({ min: 0, max: 400 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('claim' as const), who: fc.integer({ min: 0, max: 4 }), val: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('create' as const), who: fc.integer({ min: 0, max: 1 }), stake: fc.integer({ min: 5, max: 400 }), commission: fc.integer({ min: 0, max: 5_000 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('edit' as const), who: fc.integer({ min: 0, max: 1 }), commission: fc.integer({ min: 0, max: 5_000 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('evidence' as const), val: fc.integer({ min: 0, max: 4 }), back: fc.integer({ min: 1, max: 25 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unjail' as const), val: fc.integer({ min: 0, max: 4 }) }) },
);
const blockArb: fc.Arbitrary<Block> = fc.record({
  ops: fc.array(opArb, { maxLength: 4 }),
  // Mostly everyone signs; sometimes one or two validators are away for a block.
  absent: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 31 }) }),
});

function attr(r: { attributes: ReadonlyArray<readonly [string, string]> }, name: string): bigint {
  return BigInt(r.attributes.find(([k]) => k === name)?.[1] ?? '0');
}

function check(c: Census, context: string): void {
  const held = c.accounts + c.bonded + c.unbonding;
  if (held !== c.supply) throw new Error(`${context}: held ${held} ≠ supply ${c.supply} (diff ${held - c.supply})`);
  if (c.pool < c.owed) throw new Error(`${context}: the reward pool holds ${c.pool} but owes ${c.owed}`);
}

/** A validator that goes offline for a stretch of blocks (index 5: nobody), so that downtime jails happen. */
type Outage = { val: number; from: number; blocks: number };

function runSequence(blocks: readonly Block[], outage: Outage, seen: Map<string, number>): void {
  const chain = new StakingChain({
    validators: genesisValidators,
    accounts: [...genesisValidators, ...operators, ...delegators],
    balance: 10_000n * TAG,
    power: 100n * TAG,
  });
  for (const k of consensusKeys) chain.addConsensusKey(k);
  let before = census(chain.state);
  check(before, 'genesis');
  const people = [...delegators, ...operators];
  for (const [i, block] of blocks.entries()) {
    const txs: SignedTx[] = [];
    let evidenceInBlock = false;
    for (const o of block.ops) {
      let from: Key;
      let body: StakingBody;
      switch (o.op) {
        case 'delegate':
        case 'undelegate':
          from = people[o.who] as Key;
          body = { kind: o.op, validator: (targets[o.val] as Key).address, amount: BigInt(o.amount) * ONE_TAG + BigInt(o.amount % 7) };
          break;
        case 'claim':
          from = people[o.who] as Key;
          body = { kind: 'claimRewards', validator: (targets[o.val] as Key).address };
          break;
        case 'create':
          from = operators[o.who] as Key;
          body = { kind: 'validatorCreate', consensusKey: (consensusKeys[o.who] as Key).publicKey, selfStake: BigInt(o.stake) * TAG, commissionBps: o.commission, moniker: `op${o.who}` };
          break;
        case 'edit':
          from = operators[o.who] as Key;
          body = { kind: 'validatorEdit', commissionBps: o.commission, moniker: `op${o.who}` };
          break;
        case 'evidence': {
          // Evidence is free and all or nothing: a block holds it only if it verifies (one per
          // block here, so the check against the committed state is the check in the block).
          if (evidenceInBlock) continue;
          const height = Math.max(1, chain.height - o.back);
          const k = signersFor(o.val);
          const seed = (s: number): Uint8Array => sha256(Uint8Array.from([...u32ToBytes(height), s]));
          const evidence: StakingBody = { kind: 'evidence', voteA: chain.vote(k, height, seed(1)), voteB: chain.vote(k, height, seed(2)) };
          // Checked with a throw-away signature, so a refusal does not use up the reporter's nonce.
          const probe = signTx({ chainId: TEST_CHAIN_ID, sender: reporter.publicKey, nonce: 0, maxFee: 0n, body: evidence }, reporter.secretKey);
          const env = { chainId: TEST_CHAIN_ID, height: chain.height + 1, timeMs: chain.timeMs + chain.blockTimeMs, proposer: A.address, seed: new Uint8Array(32), verifySignatures: true };
          const refused = checkEvidenceTx(chain.state, probe, env);
          if (refused !== null) {
            seen.set(refused, (seen.get(refused) ?? 0) + 1);
            continue;
          }
          evidenceInBlock = true;
          txs.push(chain.tx(reporter, evidence, 0n));
          continue;
        }
        case 'unjail':
          from = targets[o.val] as Key;
          body = { kind: 'unjail' };
          break;
      }
      txs.push(chain.tx(from, body));
    }
    const away = (b: number): boolean => ((block.absent >> b) & 1) === 1 || (b === outage.val && i >= outage.from && i < outage.from + outage.blocks);
    const absent = [0, 1, 2, 3, 4].filter(away).map(signersFor);
    const receipts: Receipt[] = chain.block(txs, { absent });
    let burned = 0n;
    let slashed = 0n;
    for (const r of receipts) {
      const kind = r.status === 0 ? (r.events.find((e) => e.type !== 'fee')?.type ?? 'none') : r.code;
      seen.set(kind, (seen.get(kind) ?? 0) + 1);
      for (const e of r.events) {
        if (e.type === 'fee') burned += attr(e, 'burned');
        if (e.type === 'validator_slashed') slashed += attr(e, 'amount');
      }
    }
    let minted = 0n;
    for (const e of chain.blockEvents.get(chain.height) ?? []) {
      seen.set(e.type, (seen.get(e.type) ?? 0) + 1);
      if (e.type === 'block_rewards') minted += attr(e, 'minted');
      if (e.type === 'validator_slashed') slashed += attr(e, 'amount');
    }
    const after = census(chain.state);
    const context = `block ${i + 1} (height ${chain.height}) ${JSON.stringify(block)}`;
    check(after, context);
    if (after.supply !== before.supply + minted - burned - slashed) {
      throw new Error(`${context}: supply ${after.supply} ≠ ${before.supply} + ${minted} − ${burned} − ${slashed}`);
    }
    before = after;
  }
}

t.test('property: staking conserves TAG exactly, and the reward pool is always solvent', async (t) => {
  const seen = new Map<string, number>();
  const runs = Number(process.env['PROPERTY_RUNS'] ?? 25);
  fc.assert(
    fc.property(
      fc.array(blockArb, { minLength: 45, maxLength: 45 }),
      fc.record({ val: fc.integer({ min: 0, max: 5 }), from: fc.integer({ min: 2, max: 20 }), blocks: fc.integer({ min: 3, max: 15 }) }),
      (blocks, outage) => {
        runSequence(blocks, outage, seen);
      },
    ),
    { numRuns: runs, seed: 20_260_101 },
  );
  t.comment(`outcomes over all runs: ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
  for (const kind of ['delegated', 'undelegated', 'rewards_claimed', 'validator_created', 'validator_edited', 'validator_slashed', 'validator_jailed', 'validator_unjailed', 'unbonding_completed', 'validator_set_changed', 'block_rewards']) {
    t.ok((seen.get(kind) ?? 0) > 0, `the random runs reached ${kind}`);
  }
  t.ok(bytesToHex(REWARD_POOL_ADDRESS).length === 40);
});

t.test('a state with no staking validator: the fees go to the proposer and nothing is minted', async (t) => {
  const state = new MapStateReader();
  const view = new StateView(state);
  view.set(PARAMS_KEY, encodeParams(DEFAULT_PARAMS));
  saveStakingParams(view, { ...DEFAULT_STAKING_PARAMS, blockReward: TAG });
  saveAccount(view, bob.address, { balance: 10n * TAG, nonce: 0 });
  saveSupply(view, 10n * TAG);
  state.apply(view.writes());
  const proposer = numberedKey(9450).address;
  const tx = signTx({ chainId: 'tagger-test-1', sender: bob.publicKey, nonce: 0, maxFee: TAG, body: { kind: 'transfer', to: A.address, amount: TAG } }, bob.secretKey);
  const block = new StateView(state);
  const { receipts } = applyBlockTxs(block, [tx.bytes], { chainId: 'tagger-test-1', height: 1, timeMs: 1n, proposer, seed: new Uint8Array(32), verifySignatures: true }, DEFAULT_PARAMS);
  state.apply(block.writes());
  const fee = receipts[0]?.fee ?? 0n;
  const burned = (fee * BigInt(DEFAULT_PARAMS.feeBurnPercent)) / 100n;
  t.ok(fee > 0n);
  t.equal(loadAccount(state, proposer).balance, fee - burned, 'the proposer is paid, as before staking');
  t.equal(loadAccount(state, REWARD_POOL_ADDRESS).balance, 0n, 'the pool holds nothing');
  t.equal(loadSupply(state), 10n * TAG - burned, 'nothing minted');
  t.same(receipts.slice(1), [], 'no block_rewards event');
});
