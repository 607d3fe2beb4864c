/**
 * The TypeScript formats (bridge/checkpoint.ts) against the contract, byte for byte, on random inputs;
 * the checked-in compiler output against the sources; the TAG token's BEP-20 surface; the secp256k1
 * helpers of lib/crypto.ts; signature collection.
 */
import t from 'tap';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import {
  CHECKPOINT_TYPE,
  DOMAIN_TYPE,
  SECP256K1_HALF_ORDER,
  TAG_TOKEN,
  VALIDATOR_SET_TYPE,
  WITHDRAWAL_TYPE,
  appchainIdFromChainId,
  collectSignatures,
  hasQuorum,
  signCheckpoint,
  validatorSetHash,
  verifyWithdrawalProof,
  withdrawalLeaf,
  withdrawalProof,
  withdrawalsRoot,
  withdrawalTreeDepth,
  ZERO_HASH,
  type BridgeCheckpoint,
  type BridgeWithdrawal,
} from '../../bridge/index.ts';
import { bytesToNumberBE, secp256k1Address, secp256k1Recover, secp256k1Sign } from '../../lib/index.ts';
import { ARTIFACTS_PATH, renderArtifacts } from './fixtures/compile.ts';
import { BridgeFixture, TAG, checkpointArg, hex, makeValidators, setArg, testKey, withdrawalArg } from './fixtures/bridgeFixture.ts';

const makeW = (): BridgeWithdrawal => ({ nonce: 5n, sender: new Uint8Array(20).fill(1), recipient: new Uint8Array(20).fill(2), amount: 7n });
const bytesN = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const u256 = fc.bigInt({ min: 0n, max: 2n ** 256n - 1n });

t.test('the checked-in compiler output matches the sources', async (t) => {
  t.equal(readFileSync(ARTIFACTS_PATH, 'utf8'), renderArtifacts(), 'run `npm run bridge:compile` after editing a .sol file');
});

t.test('TypeScript and the contract agree on digests, set hashes and leaves', async (t) => {
  const f = await BridgeFixture.deploy();
  // The property compares against the contract's own view functions: it fails if a view disagrees.
  t.equal(await f.view('withdrawalLeaf', [withdrawalArg(makeW())]), hex(withdrawalLeaf(makeW())), 'a first leaf agrees');
  const checkpoint = fc.record({
    number: u64,
    startBlock: u64,
    endBlock: u64,
    blockRangeRoot: bytesN(32),
    stateRoot: bytesN(32),
    withdrawalsRoot: bytesN(32),
    withdrawalCount: fc.nat({ max: 2 ** 32 - 1 }),
    nextValidatorSetId: u64,
    nextValidatorSetHash: bytesN(32),
  });
  await fc.assert(
    fc.asyncProperty(checkpoint, async (cp: BridgeCheckpoint) => (await f.view('checkpointDigest', [checkpointArg(cp)])) === hex(f.digest(cp))),
    { numRuns: 60, seed: 1 },
  );
  const set = fc.record({ id: u64, signers: fc.array(bytesN(20), { maxLength: 8 }), powers: fc.array(u256, { maxLength: 8 }) });
  await fc.assert(
    fc.asyncProperty(set, async (s) => (await f.view('hashValidatorSet', [setArg(s)])) === hex(validatorSetHash(s))),
    { numRuns: 60, seed: 2 },
  );
  const withdrawal = fc.record({ nonce: u64, sender: bytesN(20), recipient: bytesN(20), amount: u256 });
  await fc.assert(
    fc.asyncProperty(withdrawal, async (w: BridgeWithdrawal) => (await f.view('withdrawalLeaf', [withdrawalArg(w)])) === hex(withdrawalLeaf(w))),
    { numRuns: 60, seed: 3 },
  );
});

t.test('withdrawals tree: every leaf proves, with exactly ceil(log2 n) siblings', async (t) => {
  t.equal(hex(withdrawalsRoot([])), hex(ZERO_HASH), 'no withdrawals: the zero root');
  fc.assert(
    fc.property(fc.array(bytesN(32), { minLength: 1, maxLength: 40 }), (leaves) => {
      const root = withdrawalsRoot(leaves);
      return leaves.every((leaf, i) => {
        const proof = withdrawalProof(leaves, i);
        return proof.length === withdrawalTreeDepth(leaves.length) && verifyWithdrawalProof(root, leaves.length, leaf, i, proof);
      });
    }),
    { numRuns: 100, seed: 4 },
  );
  const one = [Uint8Array.of(...new Uint8Array(32).fill(9))];
  t.equal(hex(withdrawalsRoot(one)), hex(one[0]!), 'one leaf: the leaf is the root, the proof is empty');
  t.throws(() => withdrawalProof(one, 1), { code: 'BRIDGE_OUT_OF_RANGE' });
});

t.test('secp256k1: low-s, recoverable, the Ethereum address of the key', async (t) => {
  // A well-known vector: the secret key 0x01 repeated has this address.
  t.equal(hex(secp256k1Address(new Uint8Array(32).fill(1))), '0x1a642f0e3c3af545e7acbd38b07251b3990914f1');
  fc.assert(
    fc.property(bytesN(32), fc.nat(1000), (digest, k) => {
      const key = testKey(`k${k}`);
      const sig = secp256k1Sign(key, digest);
      const recovered = secp256k1Recover(digest, sig);
      return bytesToNumberBE(sig.s) <= SECP256K1_HALF_ORDER && recovered !== null && hex(recovered) === hex(secp256k1Address(key));
    }),
    { numRuns: 50, seed: 5 },
  );
});

t.test('collectSignatures: drops forgeries, outsiders and duplicates, sorts by signer', async (t) => {
  const { validators, set } = makeValidators('collect', [1n, 1n, 1n, 1n]);
  const digest = new Uint8Array(32).fill(3);
  const sigs = validators.map((v) => signCheckpoint(v.key, digest)).reverse();
  const outsider = signCheckpoint(testKey('outsider'), digest);
  const lying = { signer: validators[0]!.address, signature: sigs[0]!.signature }; // sigs[0] is validator 3's
  const collected = collectSignatures(digest, set, [...sigs, sigs[1]!, outsider, lying]);
  t.same(collected.map((s) => hex(s.signer)), validators.map((v) => hex(v.address)), 'one per member, ascending');
  t.ok(hasQuorum(set, collected.slice(0, 3).map((s) => s.signer)), '3 of 4');
  t.notOk(hasQuorum(set, collected.slice(0, 2).map((s) => s.signer)), '2 of 4');
  t.notOk(hasQuorum(makeValidators('q', [1n, 1n, 1n]).set, []), 'nobody');
});

t.test('TAG: a plain BEP-20', async (t) => {
  const f = await BridgeFixture.deploy();
  t.equal(await f.view('name', [], f.token), 'Tagger');
  t.equal(await f.view('symbol', [], f.token), 'TAG');
  t.equal(await f.view('decimals', [], f.token), 18);
  t.equal(await f.view('totalSupply', [], f.token), 1_000_000_000n * TAG);
  t.equal(((await f.view('getOwner', [], f.token)) as string).toLowerCase(), f.address(f.deployer), 'BEP-20 getOwner');
  const [a, b] = f.users as [Uint8Array, Uint8Array];
  const before = await f.tokenBalance(f.address(b));
  const r = await f.tokenCall(a, 'transfer', [f.address(b), 12_345n]);
  t.equal(r.logs.length, 1, 'one Transfer event');
  t.equal(r.logs[0]?.topics[0], '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef', 'Transfer(address,address,uint256)');
  t.equal(await f.tokenBalance(f.address(b)), before + 12_345n, 'no fee on transfer');
  t.equal((await f.tokenCall(a, 'transfer', [f.address(b), 0n])).logs.length, 1, 'a zero-value transfer emits Transfer too');
  t.equal((await f.tokenCall(a, 'transfer', [f.address(b), 10n ** 40n])).error?.name, 'InsufficientBalance');
  t.equal((await f.tokenCall(a, 'transfer', ['0x0000000000000000000000000000000000000000', 1n])).error?.name, 'ZeroAddress');
  t.equal((await f.tokenCall(b, 'transferFrom', [f.address(a), f.address(b), 1n])).error?.name, 'InsufficientAllowance');
  t.equal(TAG_TOKEN.abi.some((e) => e.type === 'function' && /mint|burn|pause|blacklist|upgrade/i.test(e.name)), false, 'no mint, burn, pause, blocklist or upgrade');
});

t.test('pinned vectors (docs/spec/bridge.md): a change here is a breaking change of the bridge', async (t) => {
  t.equal(hex(DOMAIN_TYPE), '0x96a5216e314ce081acf5477eeb1b369404f65865ddbc08acf7f63ecbc948e5e3');
  t.equal(hex(CHECKPOINT_TYPE), '0xb8676ea17d5cbba6df5f0393cb21e05d84324c3ac26b596191d89b22d3b609a8');
  t.equal(hex(WITHDRAWAL_TYPE), '0xa7358b2d71dabae2bb45e404fa73261c4d24e4118fe2816d6d2a49d374440ffc');
  t.equal(hex(VALIDATOR_SET_TYPE), '0x73629e3fafc43228cad71039789f6d80797785fc8e357cfaa250f7fe8b5a73c8');
  t.equal(hex(appchainIdFromChainId('tagger-devnet')), '0xb969e631d7410f609b9b24e7684f9ea6504493b18e9b75cea8d62e8df1a7d541');
  const w = { nonce: 1n, sender: new Uint8Array(20).fill(0x11), recipient: new Uint8Array(20).fill(0x22), amount: 10n ** 18n };
  t.equal(hex(withdrawalLeaf(w)), '0x67e711705e649e0774b685e1edbbeb82ddae03af441872846b08421da851df43');
  const three = [w, { ...w, nonce: 2n }, { ...w, nonce: 3n }].map(withdrawalLeaf);
  t.equal(hex(withdrawalsRoot(three)), '0xb1e46572b422b63edd86747a753db100e369afa857f7b0f6866ac2e30c482ff8');
});
