/**
 * TaggerBridge checkpoints on a real EVM (research/bridge.md §7.1-7.5, 7.8, 7.9): the quorum boundary,
 * signature rules (order, duplicates, high s, v, zero address, non-members), domain separation,
 * validator-set rotation, fresh-deployment state, contiguity and the equivocation breaker.
 */
import t from 'tap';
import { deployBridge } from '../../bridge/evm.ts';
import {
  CHECKPOINT_TYPE,
  TAGGER_BRIDGE,
  WITHDRAWAL_TYPE,
  appchainIdFromChainId,
  checkpointDigestWithType,
  domainSeparator,
  validatorSetHash,
  type BridgeValidatorSet,
  type SignerSignature,
} from '../../bridge/index.ts';
import { bytesToNumberBE, compareBytes, keccak256, secp256k1Recover, secp256k1Sign, utf8ToBytes } from '../../lib/index.ts';
import {
  APPCHAIN,
  BridgeFixture,
  EMPTY_SET,
  bytes,
  checkpointArg,
  hex,
  makeValidators,
  setArg,
  sigsArg,
  testKey,
  type Validator,
} from './fixtures/bridgeFixture.ts';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function wordOf(n: bigint): Uint8Array {
  return bytes(`0x${n.toString(16).padStart(64, '0')}`);
}

/** The validators of `f` whose powers are at these positions (in address order). */
function pick(f: BridgeFixture, positions: readonly number[]): Validator[] {
  return positions.map((i) => f.group.validators[i]!);
}

t.test('quorum: exactly 2/3 of the power is refused, more than 2/3 accepted; power counts, not heads', async (t) => {
  const f = await BridgeFixture.deploy({ powers: [30n, 30n, 15n, 15n] });
  const powers = f.group.validators.map((v) => v.power);
  const big = powers.flatMap((p, i) => (p === 30n ? [i] : []));
  const small = powers.flatMap((p, i) => (p === 15n ? [i] : []));
  const cp = f.nextCheckpoint();
  const digest = f.digest(cp);

  const twoThirds = await f.submit(cp, f.sign(digest, pick(f, big))); // 60 of 90
  t.equal(twoThirds.error?.name, 'NoQuorum', 'exactly 2/3 (60/90) is not a quorum');
  t.same(twoThirds.error?.args, [60n, 90n]);
  const threeOfFourHeads = await f.submit(cp, f.sign(digest, pick(f, [big[0]!, ...small]))); // 60 of 90
  t.equal(threeOfFourHeads.error?.name, 'NoQuorum', '3 of 4 validators holding 2/3 of the power is not a quorum');
  const none = await f.submit(cp, []);
  t.equal(none.error?.name, 'NoQuorum', 'zero signatures');

  const more = await f.submit(cp, f.sign(digest, pick(f, [...big, small[0]!]))); // 75 of 90
  t.equal(more.reverted, false, 'more than 2/3 (75/90) is a quorum');
  t.equal(await f.view('lastCheckpoint'), 1n);
  const events = f.events(more);
  t.equal(events[0]?.eventName, 'CheckpointAccepted');
  t.equal(events[0]?.args['digest'], hex(digest), 'the event carries the digest TypeScript computed');
  t.equal(events[0]?.args['stateRoot'], hex(cp.stateRoot), 'the state root is anchored in the event');

  const f2 = await BridgeFixture.deploy({ powers: [1n, 1n, 1n] });
  const cp2 = f2.nextCheckpoint();
  t.equal((await f2.submit(cp2, f2.sign(f2.digest(cp2), f2.group.validators.slice(0, 2)))).error?.name, 'NoQuorum', '2 of 3 equal powers');
  t.equal((await f2.submit(cp2)).reverted, false, '3 of 3');
});

t.test('signatures: order, duplicates, malleated twins, v, zero address, non-members', async (t) => {
  const f = await BridgeFixture.deploy();
  const cp = f.nextCheckpoint();
  const digest = f.digest(cp);
  const all = f.sign(digest); // ascending by signer
  const [a, b, c, d] = all as [SignerSignature, SignerSignature, SignerSignature, SignerSignature];

  t.equal((await f.submit(cp, [a, a, b, c])).error?.name, 'SignersNotAscending', 'the same signer twice');
  t.equal((await f.submit(cp, [b, a, c, d])).error?.name, 'SignersNotAscending', 'signers out of order');

  // The malleated twin (r, n - s, v ^ 1) recovers to the same signer: only the low-s rule refuses it.
  const twin = {
    signer: a.signer,
    signature: { r: a.signature.r, s: wordOf(N - bytesToNumberBE(a.signature.s)), v: a.signature.v === 27 ? 28 : 27 },
  } as const satisfies SignerSignature;
  t.same(secp256k1Recover(digest, twin.signature), a.signer, 'the twin is a valid signature by the same key');
  t.equal((await f.submit(cp, [twin, b, c])).error?.name, 'HighS', 'high-s twin refused');
  t.equal((await f.submit(cp, [twin, a, b, c])).error?.name, 'HighS', 'twin next to the original refused');

  const badV = { signer: a.signer, signature: { ...a.signature, v: 29 } } as unknown as SignerSignature;
  t.equal((await f.submit(cp, [badV, b, c])).error?.name, 'BadV', 'v outside {27, 28}');
  const zero = { signer: a.signer, signature: { r: new Uint8Array(32), s: a.signature.s, v: a.signature.v } } as const;
  t.equal((await f.submit(cp, [zero, b, c])).error?.name, 'ZeroSigner', 'a signature recovering to address(0)');

  const foreign = makeValidators('outsider', [10n]).validators[0]!;
  const foreignSig = { signer: foreign.address, signature: secp256k1Sign(foreign.key, digest) };
  const withForeign = [a, b, foreignSig].sort((x, y) => compareBytes(x.signer, y.signer));
  t.equal((await f.submit(cp, withForeign)).error?.name, 'SignerNotInSet', 'a valid signature by a non-member');

  t.equal((await f.submit(cp, [a, b, c])).reverted, false, 'the three good signatures pass');
});

t.test('domain separation: other chain id, other contract, other appchain, other message type', async (t) => {
  const f = await BridgeFixture.deploy();
  const cp = f.nextCheckpoint();
  const sep = (chainId: bigint, contract: Uint8Array, appchain: string): Uint8Array =>
    domainSeparator({ chainId, contract, appchainId: appchainIdFromChainId(appchain) });
  const right = sep(f.domain.chainId, f.domain.contract, APPCHAIN);
  t.equal(await f.view('domainSeparator'), hex(right), 'TypeScript and the contract agree on the separator');
  t.equal(await f.view('checkpointDigest', [checkpointArg(cp)]), hex(f.digest(cp)), 'and on the digest');

  const wrong = {
    'chain id 97 instead of 56': checkpointDigestWithType(sep(97n, f.domain.contract, APPCHAIN), CHECKPOINT_TYPE, cp),
    'another contract address': checkpointDigestWithType(sep(f.domain.chainId, bytes(f.token), APPCHAIN), CHECKPOINT_TYPE, cp),
    'another appchain id': checkpointDigestWithType(sep(f.domain.chainId, f.domain.contract, 'tagger-other'), CHECKPOINT_TYPE, cp),
    'the withdrawal message type': checkpointDigestWithType(right, WITHDRAWAL_TYPE, cp),
  };
  for (const [what, digest] of Object.entries(wrong)) {
    // Each validator's signature is valid for the wrong digest; the contract recovers other addresses.
    const sigs = f.group.validators.map((v) => ({ signer: v.address, signature: secp256k1Sign(v.key, digest) }));
    const r = await f.submit(cp, sigs);
    t.equal(r.reverted, true, `signed over ${what}: refused`);
    t.match(r.error?.name, /^(SignerNotInSet|SignersNotAscending)$/, `${what}: no signer of the set recovered`);
  }

  // The same validators and the same checkpoint, on a second bridge (another contract) and on a
  // bridge deployed on another chain id: signatures made for the first bridge do not carry over.
  const sigsForF = f.sign(f.digest(cp));
  const other = await f.sibling();
  t.not(other.bridge, f.bridge);
  t.equal((await other.submit(cp, sigsForF)).reverted, true, 'signatures for bridge A refused by bridge B');
  const testnet = await BridgeFixture.deploy({ chainId: 97n });
  t.equal(testnet.bridge, f.bridge, 'same deployer and nonce: the same address, only the chain id differs');
  t.equal((await testnet.submit(cp, sigsForF)).reverted, true, 'signatures for chain 56 refused on chain 97');
  t.equal((await f.submit(cp, sigsForF)).reverted, false, 'and accepted where they were made for');
});

t.test('rotation: only the previous set installs the next; the old set is refused afterwards', async (t) => {
  const f = await BridgeFixture.deploy();
  const oldGroup = f.group;
  const newGroup = makeValidators('rotated', [5n, 7n, 9n, 11n, 13n], 2n);
  const rotating = f.nextCheckpoint([], { nextValidatorSetId: 2n, nextValidatorSetHash: validatorSetHash(newGroup.set) });
  const digest = f.digest(rotating);

  t.equal((await f.submit(rotating, f.sign(digest), oldGroup.set, EMPTY_SET)).reverted, true, 'the new set must be in calldata');
  const badNext = { ...newGroup.set, powers: [...newGroup.set.powers.slice(0, 4), 1n] };
  t.equal((await f.submit(rotating, f.sign(digest), oldGroup.set, badNext)).error?.name, 'UnknownValidatorSet', 'a set not matching the signed hash');
  const byNew = newGroup.validators.map((v) => ({ signer: v.address, signature: secp256k1Sign(v.key, digest) }));
  t.equal((await f.submit(rotating, byNew, oldGroup.set, newGroup.set)).reverted, true, 'the new set cannot install itself');
  const twoThirdsOld = f.sign(digest, oldGroup.validators.slice(0, 2));
  t.equal((await f.submit(rotating, twoThirdsOld, oldGroup.set, newGroup.set)).error?.name, 'NoQuorum', 'rotation signed by <= 2/3 of the old set');

  const skipId = f.nextCheckpoint([], { nextValidatorSetId: 3n, nextValidatorSetHash: validatorSetHash({ ...newGroup.set, id: 3n }) });
  t.equal((await f.submit(skipId, f.sign(f.digest(skipId)), oldGroup.set, { ...newGroup.set, id: 3n })).error?.name, 'BadValidatorSetId', 'id must be current + 1');
  const sameIdOtherHash = f.nextCheckpoint([], { nextValidatorSetId: 1n, nextValidatorSetHash: validatorSetHash({ ...newGroup.set, id: 1n }) });
  t.equal((await f.submit(sameIdOtherHash, f.sign(f.digest(sameIdOtherHash)), oldGroup.set, { ...newGroup.set, id: 1n })).error?.name, 'BadValidatorSetId', 'another set under the current id');

  const ok = await f.submit(rotating, f.sign(digest), oldGroup.set, newGroup.set);
  t.equal(ok.reverted, false, 'the old set signs the checkpoint that installs the new set');
  t.same(f.events(ok).map((e) => e.eventName), ['ValidatorSetRotated', 'CheckpointAccepted']);
  t.equal(await f.view('validatorSetHash'), hex(validatorSetHash(newGroup.set)));
  t.equal(await f.view('validatorSetId'), 2n);

  const next = f.nextCheckpoint([], { nextValidatorSetId: 2n, nextValidatorSetHash: validatorSetHash(newGroup.set) });
  const nextDigest = f.digest(next);
  t.equal((await f.submit(next, f.sign(nextDigest), oldGroup.set)).error?.name, 'UnknownValidatorSet', 'old set after rotation, old set passed');
  t.equal((await f.submit(next, f.sign(nextDigest), newGroup.set)).reverted, true, 'old set signatures against the new set');
  f.group = newGroup;
  t.equal((await f.submit(next)).reverted, false, 'the new set signs the next checkpoint');
});

t.test('rotation: malformed new sets are refused', async (t) => {
  const f = await BridgeFixture.deploy();
  const good = makeValidators('rotated', [5n, 7n, 9n], 2n).set;
  const zeroAddress = new Uint8Array(20);
  const cases: Record<string, BridgeValidatorSet> = {
    empty: { id: 2n, signers: [], powers: [] },
    'zero power': { ...good, powers: [5n, 0n, 9n] },
    unsorted: { ...good, signers: [good.signers[1]!, good.signers[0]!, good.signers[2]!] },
    duplicate: { ...good, signers: [good.signers[0]!, good.signers[0]!, good.signers[2]!] },
    'zero address': { ...good, signers: [zeroAddress, good.signers[1]!, good.signers[2]!] },
    'powers and signers differ in length': { ...good, powers: [5n, 7n] },
    'more than MAX_VALIDATORS': makeValidators('huge', Array.from({ length: 129 }, () => 1n), 2n).set,
  };
  for (const [what, set] of Object.entries(cases)) {
    const cp = f.nextCheckpoint([], { nextValidatorSetId: 2n, nextValidatorSetHash: validatorSetHash(set) });
    const r = await f.submit(cp, f.sign(f.digest(cp)), f.group.set, set);
    t.equal(r.error?.name, 'BadValidatorSet', what);
  }
  t.equal(await f.view('validatorSetId'), 1n, 'nothing was installed');
});

t.test('a fresh deployment: every piece of state set, nothing accepted without signatures', async (t) => {
  const f = await BridgeFixture.deploy();
  t.equal(await f.view('validatorSetHash'), hex(validatorSetHash(f.group.set)), 'set hash stored at construction');
  t.not(await f.view('validatorSetHash'), hex(new Uint8Array(32)));
  t.equal(await f.view('lastCheckpoint'), 0n);
  t.equal(TAGGER_BRIDGE.abi.some((e) => e.type === 'function' && /init/i.test(e.name)), false, 'no initializer to call');
  const w = await f.withdraw(0n, { nonce: 1n, sender: new Uint8Array(20), recipient: bytes(f.address(f.users[0]!)), amount: 1n }, 0, []);
  t.equal(w.error?.name, 'UnknownCheckpoint', 'checkpoint 0 (never accepted) has no withdrawals');
  const w7 = await f.withdraw(7n, { nonce: 1n, sender: new Uint8Array(20), recipient: bytes(f.address(f.users[0]!)), amount: 1n }, 0, []);
  t.equal(w7.error?.name, 'UnknownCheckpoint', 'an unknown checkpoint number');
  const zeroRoot = f.nextCheckpoint([], { withdrawalCount: 1 });
  t.equal((await f.submit(zeroRoot)).error?.name, 'BadWithdrawals', 'a zero withdrawals root with withdrawals');
  const rootNoCount = f.nextCheckpoint([], { withdrawalsRoot: keccak256(utf8ToBytes('x')) });
  t.equal((await f.submit(rootNoCount)).error?.name, 'BadWithdrawals', 'a root with no withdrawals');
  const tooMany = f.nextCheckpoint([], { withdrawalsRoot: keccak256(utf8ToBytes('x')), withdrawalCount: 2 ** 20 + 1 });
  t.equal((await f.submit(tooMany)).error?.name, 'BadWithdrawals', 'more withdrawals than a proof can reach');

  // Deployments that would leave the bridge unguarded or unverifiable are refused.
  const deployWith = async (config: Record<string, unknown>, set: BridgeValidatorSet, guardians: string[]): Promise<string> =>
    f.evm.deploy(f.deployer, TAGGER_BRIDGE, [{ ...f.config(), ...config }, setArg(set), guardians]).then(
      () => 'deployed',
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
  const guardians = f.guardianKeys.map((k) => f.address(k));
  t.equal(await deployWith({}, f.group.set, guardians), 'deployed', 'the fixture configuration deploys');
  t.match(await deployWith({}, EMPTY_SET, guardians), /BadValidatorSet/, 'an empty validator set');
  t.match(await deployWith({}, { ...f.group.set, powers: f.group.set.powers.map(() => 0n) }, guardians), /BadValidatorSet/, 'zero total power');
  t.match(await deployWith({ token: f.address(f.users[0]!) }, f.group.set, guardians), /BadConfig/, 'a token address with no code');
  t.match(await deployWith({ guardianQuorum: 1n }, f.group.set, guardians), /BadConfig/, 'one guardian could unpause alone');
  t.match(await deployWith({ guardianQuorum: 4n }, f.group.set, guardians), /BadConfig/, 'a quorum no guardians can reach');
  t.match(await deployWith({}, f.group.set, [guardians[0]!, guardians[0]!]), /BadConfig/, 'a duplicated guardian');
  t.match(await deployWith({ appchainId: hex(new Uint8Array(32)) }, f.group.set, guardians), /BadConfig/, 'a zero appchain id');
  t.match(await deployWith({ perTxCap: 10n, epochCap: 5n }, f.group.set, guardians), /BadConfig/, 'a per-transaction cap above the epoch cap');
  t.match(await deployWith({ delaySeconds: 30n * 86_400n + 1n }, f.group.set, guardians), /BadConfig/, 'a delay longer than 30 days');
  t.match(await deployWith({ epochSeconds: 0n }, f.group.set, guardians), /BadConfig/, 'a zero epoch');
  const params = {
    token: f.token,
    tokenHolder: f.address(f.deployer),
    tokenSupply: 0n,
    appchainId: appchainIdFromChainId(APPCHAIN),
    lastEndBlock: 0n,
    perTxCap: 1n,
    epochCap: 1n,
    epochSeconds: 1n,
    largeWithdrawal: 1n,
    delaySeconds: 0n,
    guardianQuorum: 2n,
    validatorSet: f.group.set,
    guardians,
  };
  t.ok((await deployBridge(f.evm, f.deployer, params)).bridge, 'deployBridge: deployed and read back');
  await t.rejects(deployBridge(f.evm, f.deployer, { ...params, guardianQuorum: 1n }), { code: 'BRIDGE_EVM_REVERTED' }, 'deployBridge reports a refused deployment');
});

t.test('continuity: skipped, gapped, overlapping, reversed, too long and replayed checkpoints', async (t) => {
  const f = await BridgeFixture.deploy();
  const first = await f.checkpoint(); // 1: blocks 1..10
  const cases = {
    'skipped number': f.nextCheckpoint([], { number: 3n }),
    'start after lastEnd + 1 (gap)': f.nextCheckpoint([], { startBlock: 12n, endBlock: 20n }),
    'start before lastEnd + 1 (overlap)': f.nextCheckpoint([], { startBlock: 10n, endBlock: 20n }),
    'replayed checkpoint 1': first,
  };
  for (const [what, cp] of Object.entries(cases)) {
    t.equal((await f.submit(cp)).error?.name, 'NotContiguous', what);
  }
  t.equal((await f.submit(f.nextCheckpoint([], { endBlock: 10n }))).error?.name, 'BadBlockRange', 'end before start');
  t.equal((await f.submit(f.nextCheckpoint([], { endBlock: 11n + 65_536n }))).error?.name, 'BadBlockRange', 'more than MAX_CHECKPOINT_BLOCKS');
  t.equal((await f.submit(f.nextCheckpoint([], { endBlock: 11n + 65_535n }))).reverted, false, 'exactly MAX_CHECKPOINT_BLOCKS');
  t.equal(await f.view('lastEndBlock'), 11n + 65_535n);
});

t.test('equivocation: two validly signed checkpoints for one number pause the bridge', async (t) => {
  const f = await BridgeFixture.deploy();
  const anyone = f.users[2]!;
  const a = f.nextCheckpoint();
  const b = f.nextCheckpoint([], { stateRoot: keccak256(utf8ToBytes('a different state')) });
  const sigsA = f.sign(f.digest(a));
  const sigsB = f.sign(f.digest(b));
  const report = (x: typeof a, sx: SignerSignature[], y: typeof a, sy: SignerSignature[], set = f.group.set) =>
    f.bridgeCall(anyone, 'reportConflict', [checkpointArg(x), sigsArg(sx), checkpointArg(y), sigsArg(sy), setArg(set)]);

  t.equal((await report(a, sigsA, a, sigsA)).error?.name, 'NotConflicting', 'the same checkpoint twice is not a conflict');
  const other = f.nextCheckpoint([], { number: 2n });
  t.equal((await report(a, sigsA, other, f.sign(f.digest(other)))).error?.name, 'NotConflicting', 'different numbers');
  t.equal((await report(a, sigsA, b, sigsB.slice(0, 2))).error?.name, 'NoQuorum', 'one side signed by <= 2/3');
  t.equal(await f.view('paused'), false);

  t.equal((await f.submit(a)).reverted, false, 'a is accepted');
  const r = await report(a, sigsA, b, sigsB);
  t.equal(r.reverted, false, 'anyone may report');
  t.same(f.events(r).map((e) => e.eventName), ['ConflictProven', 'Paused']);
  t.equal(await f.view('paused'), true, 'the bridge paused itself');
  t.equal((await f.submit(f.nextCheckpoint())).error?.name, 'IsPaused', 'no checkpoint while paused');
});

t.test('equivocation at an accepted number is judged against the set that signed it', async (t) => {
  const f = await BridgeFixture.deploy();
  const oldGroup = f.group;
  const newGroup = makeValidators('rotated', [1n, 1n, 1n], 2n);
  const a = f.nextCheckpoint([], { nextValidatorSetId: 2n, nextValidatorSetHash: validatorSetHash(newGroup.set) });
  const b = { ...a, blockRangeRoot: keccak256(utf8ToBytes('forked blocks')) };
  t.equal((await f.submit(a, f.sign(f.digest(a)), oldGroup.set, newGroup.set)).reverted, false);
  const call = (set: BridgeValidatorSet) =>
    f.bridgeCall(testKey('watcher'), 'reportConflict', [checkpointArg(a), sigsArg(f.sign(f.digest(a))), checkpointArg(b), sigsArg(f.sign(f.digest(b))), setArg(set)]);
  t.equal((await call(newGroup.set)).error?.name, 'UnknownValidatorSet', 'the current set did not sign number 1');
  t.equal((await call(oldGroup.set)).reverted, false, 'the old set did, and is held to it');
  t.equal(await f.view('paused'), true);
});
