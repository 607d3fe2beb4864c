/**
 * TaggerBridge deposits and withdrawals on a real EVM (research/bridge.md §7.6, 7.7, 7.10, 7.12, 7.15):
 * measured deposits, release against a checkpointed withdrawals root, replay through another proof or
 * another checkpoint, fuzzed proofs (differential against the TypeScript tree), caps, delays,
 * cancellation, guardian pause and unpause, misbehaving tokens and re-entry, and a compromised set.
 */
import t from 'tap';
import fc from 'fast-check';
import { encodeFunctionData, toFunctionSelector, type Hex } from 'viem';
import {
  TAGGER_BRIDGE,
  verifyWithdrawalProof,
  withdrawalLeaf,
  withdrawalNode,
  withdrawalProof,
  withdrawalsRoot,
  type BridgeWithdrawal,
} from '../../bridge/index.ts';
import { keccak256, utf8ToBytes } from '../../lib/index.ts';
import { BridgeFixture, TAG, hex, makeWithdrawal, withdrawalArg } from './fixtures/bridgeFixture.ts';

const toTagger = (label: string): Uint8Array => keccak256(utf8ToBytes(label)).subarray(0, 20);

/** A fixture holding `locked` TAG deposited by user 0. */
async function funded(locked: bigint, opts: Parameters<typeof BridgeFixture.deploy>[0] = {}): Promise<BridgeFixture> {
  const f = await BridgeFixture.deploy(opts);
  const r = await f.bridgeCall(f.users[0]!, 'deposit', [hex(toTagger('alice')), locked]);
  if (r.reverted) throw new Error(`deposit failed: ${r.error?.name}`);
  return f;
}

t.test('deposit: locks TAG, numbers deposits, emits the Tagger recipient and the measured amount', async (t) => {
  const f = await BridgeFixture.deploy();
  const alice = toTagger('alice');
  const user = f.address(f.users[0]!);
  const before = await f.tokenBalance(user);
  const r1 = await f.bridgeCall(f.users[0]!, 'deposit', [hex(alice), 100n * TAG]);
  t.equal(r1.reverted, false);
  const [e1] = f.events(r1);
  t.equal(e1?.eventName, 'Deposited');
  t.same(e1?.args, { nonce: 1n, from: user, recipient: hex(alice), amount: 100n * TAG }, 'nonce 1, sender, Tagger recipient, amount');
  t.equal(await f.tokenBalance(f.bridge), 100n * TAG, 'locked in the bridge');
  t.equal(await f.tokenBalance(user), before - 100n * TAG);
  const r2 = await f.bridgeCall(f.users[1]!, 'deposit', [hex(alice), 1n]);
  t.equal(f.events(r2)[0]?.args['nonce'], 2n, 'nonces count up by one');
  t.equal(await f.view('depositNonce'), 2n);

  t.equal((await f.bridgeCall(f.users[0]!, 'deposit', [hex(alice), 0n])).error?.name, 'ZeroAmount');
  t.equal((await f.bridgeCall(f.users[0]!, 'deposit', [hex(new Uint8Array(20)), 5n])).error?.name, 'ZeroRecipient');
  const poor = f.guardianKeys[0]!; // holds no TAG and approved nothing
  t.equal((await f.bridgeCall(poor, 'deposit', [hex(alice), 5n])).error?.name, 'TokenCallFailed', 'a failing transferFrom');
  t.equal(await f.view('depositNonce'), 2n, 'failed deposits take no nonce');
});

t.test('deposit with a fee-on-transfer or false-returning token: the event carries what arrived', async (t) => {
  const f = await BridgeFixture.deploy({ mockToken: true });
  await f.tokenCall(f.deployer, 'setFeeBps', [100n]); // 1 %
  const r = await f.bridgeCall(f.users[0]!, 'deposit', [hex(toTagger('bob')), 1_000n]);
  t.equal(r.reverted, false);
  t.equal(f.events(r)[0]?.args['amount'], 990n, 'credited amount = balance delta, not the amount asked');
  t.equal(await f.tokenBalance(f.bridge), 990n);
  await f.tokenCall(f.deployer, 'setFeeBps', [10_000n]); // everything is taken
  t.equal((await f.bridgeCall(f.users[0]!, 'deposit', [hex(toTagger('bob')), 1_000n])).error?.name, 'NothingReceived');
  await f.tokenCall(f.deployer, 'setFeeBps', [0n]);
  await f.tokenCall(f.deployer, 'setReturnFalse', [true]);
  t.equal((await f.bridgeCall(f.users[0]!, 'deposit', [hex(toTagger('bob')), 1_000n])).error?.name, 'TokenCallFailed', 'transferFrom returning false');
  t.equal(await f.view('depositNonce'), 1n);
});

t.test('withdraw: releases against a checkpointed root, once', async (t) => {
  const f = await funded(10_000n * TAG);
  const user1 = f.address(f.users[1]!);
  const ws = [1n, 2n, 3n, 4n, 5n].map((n) => makeWithdrawal(n, user1, n * TAG));
  await f.checkpoint(ws);
  const before = await f.tokenBalance(user1);
  const r = await f.withdrawFrom(1n, ws, 2);
  t.equal(r.reverted, false);
  t.same(f.events(r)[0], { eventName: 'WithdrawalReleased', args: { nonce: 3n, recipient: user1, amount: 3n * TAG } });
  t.equal(await f.tokenBalance(user1), before + 3n * TAG, 'released to the recipient');
  t.equal(await f.view('claimed', [3n]), true);
  t.equal((await f.withdrawFrom(1n, ws, 2)).error?.name, 'AlreadyClaimed', 'the same proof again');
  for (const i of [0, 1, 3, 4]) t.equal((await f.withdrawFrom(1n, ws, i)).reverted, false, `leaf ${i}`);
  t.equal(await f.tokenBalance(user1), before + 15n * TAG);
  t.equal(await f.tokenBalance(f.bridge), 10_000n * TAG - 15n * TAG, 'locked = deposited - released');
  t.equal((await f.withdraw(2n, ws[0]!, 0, withdrawalProof(ws.map(withdrawalLeaf), 0))).error?.name, 'UnknownCheckpoint');

  const zeroTo = makeWithdrawal(9n, hex(new Uint8Array(20)), TAG);
  const zeroAmount = makeWithdrawal(10n, user1, 0n);
  await f.checkpoint([zeroTo, zeroAmount]);
  t.equal((await f.withdrawFrom(2n, [zeroTo, zeroAmount], 0)).error?.name, 'ZeroRecipient');
  t.equal((await f.withdrawFrom(2n, [zeroTo, zeroAmount], 1)).error?.name, 'ZeroAmount');
});

t.test('replay: the same nonce through another proof or another checkpoint is refused', async (t) => {
  const f = await funded(10_000n * TAG);
  const to = f.address(f.users[1]!);
  const w = makeWithdrawal(7n, to, 10n * TAG);
  const filler = makeWithdrawal(8n, to, TAG);
  // A (buggy or malicious) checkpoint holding the same leaf twice: two distinct valid proofs.
  const cp1 = [w, filler, w];
  await f.checkpoint(cp1);
  const leaves = cp1.map(withdrawalLeaf);
  const root = withdrawalsRoot(leaves);
  t.ok(verifyWithdrawalProof(root, 3, leaves[0]!, 0, withdrawalProof(leaves, 0)), 'proof at index 0 is valid');
  t.ok(verifyWithdrawalProof(root, 3, leaves[2]!, 2, withdrawalProof(leaves, 2)), 'so is the other proof at index 2');
  t.equal((await f.withdrawFrom(1n, cp1, 0)).reverted, false, 'first release');
  t.equal((await f.withdrawFrom(1n, cp1, 2)).error?.name, 'AlreadyClaimed', 'another proof of the same nonce');
  // A later checkpoint containing the same leaf again.
  await f.checkpoint([w]);
  t.equal((await f.withdrawFrom(2n, [w], 0)).error?.name, 'AlreadyClaimed', 'another checkpoint with the same leaf');
  t.equal(await f.tokenBalance(f.bridge), 10_000n * TAG - 10n * TAG, 'released once');
});

t.test('fuzzed proofs: any mutation is refused, by the contract exactly when TypeScript refuses it', async (t) => {
  const f = await funded(1_000_000n * TAG, { perTxCap: 100_000n * TAG, epochCap: 1_000_000n * TAG, largeWithdrawal: 100_000n * TAG });
  const to = f.address(f.users[1]!);
  const ws = Array.from({ length: 11 }, (_, i) => makeWithdrawal(BigInt(i + 1), to, BigInt(i + 1) * TAG));
  const leaves = ws.map(withdrawalLeaf);
  await f.checkpoint(ws);
  const root = withdrawalsRoot(leaves);

  type Attempt = { w: BridgeWithdrawal; index: number; proof: Uint8Array[] };
  const flip = (b: Uint8Array, bit: number): Uint8Array => {
    const out = Uint8Array.from(b);
    out[(bit >> 3) % out.length]! ^= 1 << (bit & 7);
    return out;
  };
  const mutations: Record<string, (a: Attempt, x: number, y: number) => Attempt> = {
    nonce: (a, x) => ({ ...a, w: { ...a.w, nonce: a.w.nonce ^ (1n << BigInt(x % 64)) } }),
    sender: (a, x) => ({ ...a, w: { ...a.w, sender: flip(a.w.sender, x % 160) } }),
    recipient: (a, x) => ({ ...a, w: { ...a.w, recipient: flip(a.w.recipient, x % 160) } }),
    amount: (a, x) => ({ ...a, w: { ...a.w, amount: a.w.amount ^ (1n << BigInt(x % 72)) } }),
    sibling: (a, x, y) => ({ ...a, proof: a.proof.map((p, i) => (i === y % a.proof.length ? flip(p, x % 256) : p)) }),
    index: (a, x) => ({ ...a, index: (a.index + 1 + (x % 15)) % 16 }),
    'proof too long': (a, x) => ({ ...a, proof: [...a.proof, keccak256(Uint8Array.of(x & 0xff))] }),
    'proof too short': (a) => ({ ...a, proof: a.proof.slice(0, -1) }),
    'siblings swapped': (a, _x, y) => {
      const p = [...a.proof];
      const i = y % (p.length - 1);
      [p[i], p[i + 1]] = [p[i + 1]!, p[i]!];
      return { ...a, proof: p };
    },
    'proof of another leaf': (a, x) => {
      const other = (a.index + 1 + (x % 10)) % ws.length;
      return { ...a, proof: withdrawalProof(leaves, other) };
    },
  };
  const names = Object.keys(mutations);
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(fc.nat(ws.length - 1), fc.nat(names.length - 1), fc.nat(), fc.nat(), async (index, m, x, y) => {
      const original: Attempt = { w: ws[index]!, index, proof: withdrawalProof(leaves, index) };
      const a = mutations[names[m]!]!(original, x, y);
      const tsValid = verifyWithdrawalProof(root, ws.length, withdrawalLeaf(a.w), a.index, a.proof);
      const r = await f.withdraw(1n, a.w, a.index, a.proof);
      if (!tsValid) refused++;
      return tsValid === false && r.reverted === true;
    }),
    { numRuns: 120, seed: 6 },
  );
  t.equal(refused, 120, 'every mutation refused by TypeScript, and by the contract');

  // An inner node is never a leaf: the contract computes the leaf from the withdrawal's fields, and a
  // proof one level short is refused for its length.
  const inner = withdrawalNode(leaves[0]!, leaves[1]!);
  t.notOk(verifyWithdrawalProof(root, ws.length, inner, 0, withdrawalProof(leaves, 0).slice(1)), 'inner node as a leaf');
  t.equal((await f.withdraw(1n, ws[0]!, 0, withdrawalProof(leaves, 0).slice(1))).error?.name, 'BadProof');
  // Nothing was released by the fuzzing; every genuine proof still works afterwards.
  for (let i = 0; i < ws.length; i++) t.equal((await f.withdrawFrom(1n, ws, i)).reverted, false, `genuine leaf ${i}`);
});

t.test('caps: per transaction, per epoch, and the epoch rolling over', async (t) => {
  const f = await funded(100_000n * TAG); // perTxCap 1000, epochCap 2500, large 500, epoch 1 day
  const to = f.address(f.users[1]!);
  const ws = [
    makeWithdrawal(1n, to, 1_001n * TAG),
    makeWithdrawal(2n, to, 1_000n * TAG),
    makeWithdrawal(3n, to, 1_000n * TAG),
    makeWithdrawal(4n, to, 400n * TAG),
    makeWithdrawal(5n, to, 200n * TAG),
    makeWithdrawal(6n, to, 100n * TAG),
  ];
  await f.checkpoint(ws);
  t.equal((await f.withdrawFrom(1n, ws, 0)).error?.name, 'OverPerTxCap', 'above the per-transaction cap');
  t.equal((await f.withdrawFrom(1n, ws, 1)).reverted, false, 'at the per-transaction cap (queued: large)');
  t.equal((await f.withdrawFrom(1n, ws, 2)).reverted, false, '2000 of 2500');
  t.equal((await f.withdrawFrom(1n, ws, 3)).reverted, false, '2400 of 2500');
  t.equal((await f.withdrawFrom(1n, ws, 4)).error?.name, 'OverEpochCap', '2600 > 2500');
  t.equal(await f.view('claimed', [5n]), false, 'a capped withdrawal stays claimable');
  t.equal((await f.withdrawFrom(1n, ws, 5)).reverted, false, '2500 of 2500: exactly the cap');
  f.evm.advance(86_400n);
  t.equal((await f.withdrawFrom(1n, ws, 4)).reverted, false, 'the next epoch has a fresh cap');
  t.equal(await f.view('epochVolume'), 200n * TAG);
});

t.test('delay: large withdrawals are queued, executed after the delay, cancellable by a guardian quorum', async (t) => {
  const f = await funded(100_000n * TAG);
  const to = f.address(f.users[1]!);
  const big = makeWithdrawal(1n, to, 500n * TAG); // = largeWithdrawal
  const big2 = makeWithdrawal(2n, to, 900n * TAG);
  const small = makeWithdrawal(3n, to, 499n * TAG);
  const ws = [big, big2, small];
  await f.checkpoint(ws);
  const before = await f.tokenBalance(to);

  const queuedAt = f.evm.timestamp;
  const q = await f.withdrawFrom(1n, ws, 0);
  const [queued] = f.events(q);
  t.equal(queued?.eventName, 'WithdrawalQueued');
  t.equal(queued?.args['releaseAt'], queuedAt + 43_200n, 'released after delaySeconds');
  t.equal(await f.tokenBalance(to), before, 'nothing paid yet');
  t.equal((await f.withdrawFrom(1n, ws, 2)).reverted, false, 'just under the threshold: paid at once');
  t.equal(await f.tokenBalance(to), before + 499n * TAG);

  t.equal((await f.bridgeCall(f.relayer, 'executeQueued', [1n])).error?.name, 'TooEarly');
  f.evm.advance(43_199n);
  t.equal((await f.bridgeCall(f.relayer, 'executeQueued', [1n])).error?.name, 'TooEarly', 'one second early');
  f.evm.advance(1n);
  const done = await f.bridgeCall(f.relayer, 'executeQueued', [1n]);
  t.same(f.events(done)[0], { eventName: 'WithdrawalReleased', args: { nonce: 1n, recipient: to, amount: 500n * TAG } });
  t.equal(await f.tokenBalance(to), before + 999n * TAG);
  t.equal((await f.bridgeCall(f.relayer, 'executeQueued', [1n])).error?.name, 'NotQueued', 'executed once');

  t.equal((await f.withdrawFrom(1n, ws, 1)).reverted, false, 'second large withdrawal queued');
  t.equal((await f.bridgeCall(f.users[0]!, 'approveCancel', [2n])).error?.name, 'NotGuardian');
  const [g0, g1] = f.guardianKeys as [Uint8Array, Uint8Array];
  t.equal(f.events(await f.bridgeCall(g0, 'approveCancel', [2n]))[0]?.eventName, 'GuardianApproved', 'one guardian approves');
  t.equal((await f.bridgeCall(g0, 'approveCancel', [2n])).error?.name, 'AlreadyApproved', 'twice by the same guardian');
  const cancelled = await f.bridgeCall(g1, 'approveCancel', [2n]);
  t.same(f.events(cancelled).map((e) => e.eventName), ['GuardianApproved', 'WithdrawalCancelled'], 'a second guardian cancels');
  f.evm.advance(43_200n);
  t.equal((await f.bridgeCall(f.relayer, 'executeQueued', [2n])).error?.name, 'NotQueued', 'a cancelled withdrawal never executes');
  t.equal((await f.withdrawFrom(1n, ws, 1)).error?.name, 'AlreadyClaimed', 'nor can it be proven again');
  t.equal(await f.tokenBalance(to), before + 999n * TAG);
});

t.test('pause: any guardian pauses; unpausing needs the quorum of the current pause round', async (t) => {
  const f = await funded(100_000n * TAG);
  const to = f.address(f.users[1]!);
  const ws = [makeWithdrawal(1n, to, 600n * TAG), makeWithdrawal(2n, to, 10n * TAG)];
  await f.checkpoint(ws);
  t.equal((await f.withdrawFrom(1n, ws, 0)).reverted, false, 'queued before the pause');
  const [g0, g1, g2] = f.guardianKeys as [Uint8Array, Uint8Array, Uint8Array];

  t.equal((await f.bridgeCall(f.users[0]!, 'pause', [])).error?.name, 'NotGuardian', 'only guardians pause');
  t.equal((await f.bridgeCall(g0, 'approveUnpause', [])).error?.name, 'NotPaused');
  t.equal((await f.bridgeCall(g2, 'pause', [])).reverted, false, 'one guardian pauses');
  t.equal(await f.view('paused'), true);
  f.evm.advance(43_200n);
  t.equal((await f.bridgeCall(f.users[0]!, 'deposit', [hex(toTagger('x')), 1n])).error?.name, 'IsPaused', 'deposit');
  t.equal((await f.withdrawFrom(1n, ws, 1)).error?.name, 'IsPaused', 'withdraw');
  t.equal((await f.bridgeCall(f.relayer, 'executeQueued', [1n])).error?.name, 'IsPaused', 'execute a queued withdrawal');
  t.equal((await f.submit(f.nextCheckpoint())).error?.name, 'IsPaused', 'submit a checkpoint');

  t.equal((await f.bridgeCall(f.users[0]!, 'approveUnpause', [])).error?.name, 'NotGuardian');
  t.equal((await f.bridgeCall(g0, 'approveUnpause', [])).reverted, false);
  t.equal(await f.view('paused'), true, 'a single guardian cannot unpause');
  t.equal((await f.bridgeCall(g0, 'approveUnpause', [])).error?.name, 'AlreadyApproved', 'nor by approving twice');
  t.equal(f.events(await f.bridgeCall(g1, 'approveUnpause', [])).at(-1)?.eventName, 'Unpaused', 'two guardians unpause');
  t.equal(await f.view('paused'), false);
  t.equal((await f.bridgeCall(f.relayer, 'executeQueued', [1n])).reverted, false, 'work resumes');

  // Approvals do not carry over into the next pause.
  t.equal((await f.bridgeCall(g1, 'pause', [])).reverted, false);
  t.equal((await f.bridgeCall(g0, 'approveUnpause', [])).reverted, false, 'g0 approves again in the new round');
  t.equal(await f.view('paused'), true, 'the old round\'s approval of g1 does not count');
  t.equal((await f.bridgeCall(g2, 'approveUnpause', [])).reverted, false);
  t.equal(await f.view('paused'), false);
});

t.test('re-entry from the token during a release cannot release twice', async (t) => {
  const f = await BridgeFixture.deploy({ mockToken: true });
  await f.bridgeCall(f.users[0]!, 'deposit', [hex(toTagger('bob')), 1_000n * TAG]);
  const to = f.address(f.users[1]!);
  const ws = [makeWithdrawal(1n, to, 10n * TAG), makeWithdrawal(2n, to, 10n * TAG)];
  await f.checkpoint(ws);
  const leaves = ws.map(withdrawalLeaf);
  const again = encodeFunctionData({ abi: TAGGER_BRIDGE.abi, functionName: 'withdraw', args: [1n, withdrawalArg(ws[1]!), 1n, withdrawalProof(leaves, 1).map(hex)] });
  await f.tokenCall(f.deployer, 'setHook', [f.bridge, again]);
  const before = await f.tokenBalance(to);
  const r = await f.withdrawFrom(1n, ws, 0);
  t.equal(r.reverted, false, 'the outer release goes through');
  t.equal(await f.view('hookSucceeded', [], f.token), false, 'the re-entrant withdraw failed');
  const hookReturn = (await f.view('hookReturn', [], f.token)) as Hex;
  t.equal(hookReturn, toFunctionSelector('Reentrant()'), 'with Reentrant');
  t.equal(await f.tokenBalance(to), before + 10n * TAG, 'one release');
  t.equal(await f.view('claimed', [2n]), false, 'the inner withdrawal left no trace');
  await f.tokenCall(f.deployer, 'setReturnFalse', [true]);
  t.equal((await f.withdrawFrom(1n, ws, 1)).error?.name, 'TokenCallFailed', 'a transfer returning false reverts the release');
  t.equal(await f.view('claimed', [2n]), false, 'and the claim with it');
});

t.test('a compromised set: <= 2/3 of the keys releases nothing, > 2/3 is bounded by the epoch cap', async (t) => {
  const f = await funded(100_000n * TAG);
  const thief = f.address(f.users[2]!);
  const loot = Array.from({ length: 8 }, (_, i) => makeWithdrawal(BigInt(100 + i), thief, 499n * TAG));
  const forged = f.nextCheckpoint(loot);
  const digest = f.digest(forged);
  const stolenTwoThirds = f.sign(digest, f.group.validators.slice(0, 2)); // 20 of 40
  t.equal((await f.submit(forged, stolenTwoThirds)).error?.name, 'NoQuorum', 'keys worth 2/3 - e sign in vain');
  t.equal((await f.withdrawFrom(1n, loot, 0)).error?.name, 'UnknownCheckpoint');

  const stolen = f.sign(digest, f.group.validators.slice(0, 3)); // 30 of 40
  t.equal((await f.submit(forged, stolen)).reverted, false, 'keys worth > 2/3 get a forged checkpoint in');
  const before = await f.tokenBalance(thief);
  let taken = 0;
  for (let i = 0; i < loot.length; i++) if (!(await f.withdrawFrom(1n, loot, i)).reverted) taken++;
  t.equal(taken, 5, 'five releases of 499 fit in the 2500 epoch cap, the rest are refused');
  t.ok((await f.tokenBalance(thief)) - before <= 2_500n * TAG, 'loss bounded by the epoch cap');
  t.equal((await f.bridgeCall(f.guardianKeys[1]!, 'pause', [])).reverted, false, 'a guardian pauses');
  f.evm.advance(86_400n);
  t.equal((await f.withdrawFrom(1n, loot, 5)).error?.name, 'IsPaused', 'no more releases in the next epoch');
});
