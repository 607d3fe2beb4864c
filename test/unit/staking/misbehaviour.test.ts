/**
 * Misbehaviour against docs/spec/staking.md §Slashing: double-sign evidence (what is verified, what
 * is rejected, what is slashed: the stake bonded at the offence, delegators and later unbonding
 * included, earlier unbonding not) and downtime (the signed-blocks window, jail, unjail).
 */
import t from 'tap';
import { addressToString, sha256, utf8ToBytes } from '../../../lib/index.ts';
import { RECEIPT_STATUS, checkEvidenceTx, loadSigningInfo, loadUnbonding, signTx, type SignedTx, type SignedVote, type StakingBody } from '../../../runtime/index.ts';
import { DEFAULT_PARAMS, loadAccount } from '../../../state/index.ts';
import { VOTE_TYPE } from '../../../consensus/index.ts';
import { numberedKey } from '../../utils/chain.ts';
import { TEST_CHAIN_ID } from '../../utils/factories.ts';
import { StakingChain, TAG, census } from './harness.ts';

const A = numberedKey(9100);
const B = numberedKey(9101);
const C = numberedKey(9102);
const bob = numberedKey(9110);
const carol = numberedKey(9111);
const reporter = numberedKey(9112);
const noFees = { ...DEFAULT_PARAMS, baseFee: 0n, perByteFee: 0n };
const hash = (s: string): Uint8Array => sha256(utf8ToBytes(s));

/**
 * Reports `a`/`b` in the next block. Evidence is free and all or nothing: refused evidence is left
 * out of the block (the block still happens) and its code comes back with no events; accepted
 * evidence comes back as its receipt, with no fee event.
 */
function evidence(chain: StakingChain, a: SignedVote, b: SignedVote): { code: string; events: Array<{ type: string; attributes: Array<readonly [string, string]> }> } {
  const tx = chain.tx(reporter, { kind: 'evidence', voteA: a, voteB: b }, 0n);
  const env = { chainId: TEST_CHAIN_ID, height: chain.height + 1, timeMs: chain.timeMs + chain.blockTimeMs, proposer: A.address, seed: new Uint8Array(32), verifySignatures: true };
  const refused = checkEvidenceTx(chain.state, tx, env);
  if (refused !== null) {
    chain.block();
    return { code: refused, events: [] };
  }
  const r = chain.block([tx])[0]!;
  return { code: r.code, events: r.events };
}

t.test('double sign: slashes 5 % of the power at the offence — delegators and later unbonding included — and tombstones', async (t) => {
  const chain = new StakingChain({ validators: [A, B], accounts: [bob, carol, reporter], chainParams: noFees, params: { blockReward: 0n } });
  chain.send(bob, { kind: 'delegate', validator: A.address, amount: 100n * TAG }); // height 1
  chain.send(carol, { kind: 'delegate', validator: A.address, amount: 20n * TAG }); // 2
  chain.send(carol, { kind: 'undelegate', validator: A.address, amount: 20n * TAG }); // 3: epoch 0, before the offence's epoch
  chain.advanceTo(6); // set of epoch 1 (heights 6…10) fixed at the end of 5: A = 200
  t.equal(chain.validator(A).tokens, 200n * TAG);
  const offence = 7;
  chain.advanceTo(offence);
  chain.send(bob, { kind: 'undelegate', validator: A.address, amount: 40n * TAG }); // 8: after the offence
  const supplyBefore = census(chain.state).supply;
  const r = evidence(chain, chain.vote(A, offence, hash('x')), chain.vote(A, offence, hash('y'))); // 9
  t.equal(r.code, '', 'accepted');
  t.same(r.events.map((e) => e.type), ['validator_slashed', 'validator_tombstoned'], 'no fee event: evidence is free');
  const slashed = Object.fromEntries(r.events[0]?.attributes ?? []);
  t.equal(slashed['amount'], (10n * TAG).toString(), '5 % of the power at the offence (200 TAG)');
  t.equal(slashed['fromUnbonding'], (2n * TAG).toString(), '5 % of the unbonding created after the offence');
  t.equal(slashed['reason'], 'double_sign');
  const v = chain.validator(A);
  t.same([v.tombstoned, v.jailed, v.tokens], [true, true, 152n * TAG], 'the other 8 TAG from the bonded 160');
  t.equal(chain.stakeOf(bob, A), 57n * TAG, 'bob’s bonded 60 TAG lost 5 %');
  t.equal(chain.stakeOf(A, A), 95n * TAG, 'the self-stake lost 5 %');
  t.equal(census(chain.state).supply, supplyBefore - 10n * TAG, 'the slash is burned');
  t.equal(evidence(chain, chain.vote(A, offence, hash('y')), chain.vote(A, offence, hash('x'))).code, 'EVIDENCE_DUPLICATE', 'the same offence again');
  t.equal(evidence(chain, chain.vote(A, offence, hash('x'), { round: 1 }), chain.vote(A, offence, hash('y'), { round: 1 })).code, 'EVIDENCE_VALIDATOR_TOMBSTONED', 'only the first double sign is punished');
  t.equal(census(chain.state).supply, supplyBefore - 10n * TAG, 'no second slash');

  // Unbonding: bob's (after the offence) lost 5 %, carol's (before) nothing.
  const bobBefore = chain.balance(bob);
  const carolBefore = chain.balance(carol);
  chain.advanceTo(8 + 30);
  t.equal(chain.balance(bob) - bobBefore, 38n * TAG, 'bob’s unbonding 40 → 38');
  t.equal(chain.balance(carol) - carolBefore, 20n * TAG, 'carol’s earlier unbonding 20 → 20 (released at 33)');
  t.notOk(chain.activeSet().includes(Buffer.from(A.address).toString('hex')), 'out of the set from the next epoch');

  // A tombstoned validator: no second slash, no delegations, no unjail.
  t.equal(chain.send(bob, { kind: 'delegate', validator: A.address, amount: TAG }).code, 'VALIDATOR_TOMBSTONED');
  t.equal(chain.send(A, { kind: 'unjail' }).code, 'VALIDATOR_TOMBSTONED');
});

t.test('evidence that does not prove a double sign is rejected with its reason', async (t) => {
  const chain = new StakingChain({ validators: [A, B], accounts: [reporter], chainParams: noFees });
  const outsider = numberedKey(9199);
  chain.advanceTo(6);
  const h = 4;
  const x = hash('x');
  const y = hash('y');
  const forged = { ...chain.vote(A, h, y), signature: chain.vote(B, h, y).signature };
  const cases: Array<[string, SignedVote, SignedVote, string]> = [
    ['a forged signature', chain.vote(A, h, x), forged, 'EVIDENCE_BAD_SIGNATURE'],
    ['a signature for another chain', chain.vote(A, h, x), chain.vote(A, h, y, { chainId: 'other-chain-1' }), 'EVIDENCE_BAD_SIGNATURE'],
    ['the same block hash twice', chain.vote(A, h, x), chain.vote(A, h, x), 'EVIDENCE_SAME_BLOCK'],
    ['different heights', chain.vote(A, h, x), chain.vote(A, h + 1, y), 'EVIDENCE_VOTES_MISMATCH'],
    ['different rounds', chain.vote(A, h, x), chain.vote(A, h, y, { round: 1 }), 'EVIDENCE_VOTES_MISMATCH'],
    ['a prevote and a precommit', chain.vote(A, h, x, { type: VOTE_TYPE.prevote }), chain.vote(A, h, y), 'EVIDENCE_VOTES_MISMATCH'],
    ['two validators', chain.vote(A, h, x), chain.vote(B, h, y), 'EVIDENCE_VOTES_MISMATCH'],
    ['a height not yet reached', chain.vote(A, 100, x), chain.vote(A, 100, y), 'EVIDENCE_FUTURE'],
    ['height zero', chain.vote(A, 0, x), chain.vote(A, 0, y), 'EVIDENCE_FUTURE'],
    ['a key that was not in the set', chain.vote(outsider, h, x), chain.vote(outsider, h, y), 'EVIDENCE_UNKNOWN_VALIDATOR'],
  ];
  for (const [name, a, b, code] of cases) {
    const r = evidence(chain, a, b);
    t.same([r.code, r.events.length], [code, 0], `${name}: ${code}, refused and left out of the block`);
  }
  t.equal(chain.validator(A).tombstoned, false, 'nothing was slashed');
  t.equal(evidence(chain, chain.vote(A, h, x, { type: VOTE_TYPE.prevote }), chain.vote(A, h, new Uint8Array(0), { type: VOTE_TYPE.prevote })).code, '', 'a prevote for a block and one for nil is a double sign');
});

t.test('evidence expires by blocks and by time, before unbonding completes', async (t) => {
  const byBlocks = new StakingChain({ validators: [A, B], accounts: [reporter], chainParams: noFees });
  byBlocks.advanceTo(24); // the evidence goes in block 25: offence 5 is 20 blocks old
  t.equal(evidence(byBlocks, byBlocks.vote(A, 4, hash('x')), byBlocks.vote(A, 4, hash('y'))).code, 'EVIDENCE_EXPIRED', '21 blocks old');
  t.equal(evidence(byBlocks, byBlocks.vote(A, 6, hash('x')), byBlocks.vote(A, 6, hash('y'))).code, '', '20 blocks old: still accepted');

  const byTime = new StakingChain({ validators: [A, B], accounts: [reporter], chainParams: noFees });
  byTime.blockTimeMs = 10_000n; // evidenceMaxAgeMs is 60 s
  byTime.advanceTo(10);
  t.equal(evidence(byTime, byTime.vote(A, 4, hash('x')), byTime.vote(A, 4, hash('y'))).code, 'EVIDENCE_EXPIRED', '70 s old, only 7 blocks');
  t.equal(evidence(byTime, byTime.vote(A, 6, hash('x')), byTime.vote(A, 6, hash('y'))).code, '', '60 s old: accepted');
  t.ok(byTime.params.evidenceMaxAgeBlocks < byTime.params.unbondingBlocks, 'parameters keep the max age below unbonding');
});

t.test('downtime: missing more than the window allows slashes 1 % and jails; unjail after the jail period', async (t) => {
  const chain = new StakingChain({ validators: [A, B, C], accounts: [reporter], chainParams: noFees, params: { blockReward: 0n } });
  // Window 10, at least 50 % signed: the 6th miss within 10 blocks jails.
  chain.advanceTo(1);
  for (let i = 0; i < 5; i++) chain.block([], { absent: [C] });
  chain.blocks(2); // the 5th miss is counted in the next block
  t.equal(loadSigningInfo(chain.state, C.address).missed, 5, 'five misses counted');
  t.equal(chain.validator(C).jailed, false, 'five is allowed');
  chain.blocks(10); // the window slides past them
  t.equal(loadSigningInfo(chain.state, C.address).missed, 0, 'the window forgets old misses');
  chain.advanceTo(20);
  const supply = census(chain.state).supply;
  for (let i = 0; i < 6; i++) chain.block([], { absent: [C] });
  chain.block(); // block 27 counts the miss at 26
  const v = chain.validator(C);
  t.equal(v.jailed, true, 'six misses in the window jail');
  t.equal(v.tombstoned, false, 'downtime does not tombstone');
  t.equal(v.tokens, 99n * TAG, '1 % of 100 TAG');
  t.equal(census(chain.state).supply, supply - TAG, 'burned');
  const jailed = chain.events('validator_jailed');
  t.equal(jailed.length, 1);
  t.equal(jailed[0]?.['reason'], 'downtime');
  t.equal(jailed[0]?.['validator'], addressToString(C.address));
  const until = Number(jailed[0]?.['until']);
  t.equal(loadSigningInfo(chain.state, C.address).missed, 0, 'its window was cleared');

  chain.advanceTo(30);
  t.notOk(chain.activeSet().includes(Buffer.from(C.address).toString('hex')), 'out of the set at the epoch boundary');
  t.equal(chain.send(C, { kind: 'unjail' }).code, chain.height < until ? 'VALIDATOR_STILL_JAILED' : '', 'too early');
  chain.advanceTo(until - 1);
  const r = chain.send(C, { kind: 'unjail' });
  t.same([r.status, r.code], [RECEIPT_STATUS.ok, ''], 'unjailed once the jail period is over');
  chain.advanceTo(40);
  t.ok(chain.activeSet().includes(Buffer.from(C.address).toString('hex')), 'back in the set at the next epoch boundary');
  t.equal(loadUnbonding(chain.state, C.address, C.address).length, 0);
});

t.test('evidence is free and all or nothing: a reporter without TAG reports; refused evidence never enters a block', async (t) => {
  const broke = numberedKey(9113);
  const chain = new StakingChain({ validators: [A, B], accounts: [reporter] });
  chain.advanceTo(3);
  t.equal(chain.balance(broke), 0n, 'the reporter holds no TAG');
  const report = (body: StakingBody): SignedTx => signTx({ chainId: TEST_CHAIN_ID, sender: broke.publicKey, nonce: 0, maxFee: 0n, body }, broke.secretKey);
  const bad = report({ kind: 'evidence', voteA: chain.vote(A, 2, hash('x')), voteB: chain.vote(B, 2, hash('y')) });
  let invalid: unknown = null;
  try {
    chain.block([bad]);
  } catch (e: unknown) {
    invalid = e;
  }
  t.match(invalid, { type: { code: 'BLOCK_TX_REJECTED', reason: 'TX_EVIDENCE_REJECTED', detail: 'EVIDENCE_VOTES_MISMATCH' } }, 'a block carrying refused evidence is invalid');
  chain.height--; // the failed block did not happen (the harness counted it)
  chain.timeMs -= chain.blockTimeMs;
  t.equal(loadAccount(chain.state, broke.address).nonce, 0, 'and the nonce is unchanged');
  const good = report({ kind: 'evidence', voteA: chain.vote(A, 2, hash('x')), voteB: chain.vote(A, 2, hash('y')) });
  const [r] = chain.block([good]);
  t.same([r?.status, r?.fee, r?.events[0]?.type], [RECEIPT_STATUS.ok, 0n, 'validator_slashed'], 'valid evidence: ok, no fee');
  t.equal(loadAccount(chain.state, broke.address).nonce, 1, 'the reporter’s nonce advanced');
  t.equal(chain.balance(broke), 0n, 'it still holds nothing: the report cost it nothing');
});
