import t from 'tap';
import { bytesToNumberBE, compareBytes, concatBytes, secp256k1Address, sha256, utf8ToBytes } from '../../../lib/index.ts';
import {
  ZERO_HASH,
  appchainIdFromChainId,
  checkpointDigest,
  collectSignatures,
  hasQuorum,
  uintWord,
  validatorSetHash,
  verifyWithdrawalProof,
  withdrawalLeaf,
  withdrawalProof,
  withdrawalsRoot,
  type SignerSignature,
} from '../../../bridge/checkpoint.ts';
import { loadCheckpointSig, loadWithdrawal, type BridgeBody } from '../../../runtime/index.ts';
import { loadValidatorSet } from '../../../state/index.ts';
import { TEST_CHAIN_ID } from '../../utils/factories.ts';
import { BridgeChain, TAG, TEST_BRIDGE_PARAMS } from './harness.ts';

const recipient = new Uint8Array(20).fill(0x22);
const codes = (rs: { code: string }[]): string[] => rs.map((r) => r.code);

/** A chain with bridge keys registered and `amount` minted to the user. */
function funded(opts: ConstructorParameters<typeof BridgeChain>[0] = {}, amount = 100n * TAG): BridgeChain {
  const c = new BridgeChain(opts);
  c.registerAll();
  const all = c.validatorKeys.map((_, i) => i);
  c.attest(all, c.depositBody(1, c.user.address, amount));
  return c;
}

const withdrawBody = (amount: bigint, to = recipient): BridgeBody => ({ kind: 'withdraw', recipient: to, amount });

t.test('withdraw burns TAG and records a leaf that proves against the checkpoint root', async (t) => {
  const c = funded();
  t.equal(c.globals().bridgedSupply, 100n * TAG);
  const before = c.balance(c.user);
  const r = c.send(c.user, withdrawBody(10n * TAG));
  t.equal(r.code, '');
  t.equal(before - c.balance(c.user), 10n * TAG + r.fee, 'the amount is burnt, the fee paid');
  t.equal(c.globals().bridgedSupply, 90n * TAG);
  t.same(loadWithdrawal(c.state, 1)?.amount, 10n * TAG);
  t.equal(c.send(c.user, withdrawBody(91n * TAG)).code, 'BRIDGE_OVER_BRIDGED_SUPPLY', 'only bridged TAG can leave');
  t.equal(c.send(c.user, withdrawBody(0n)).code, 'BRIDGE_ZERO_AMOUNT');
  t.equal(c.send(c.user, withdrawBody(TAG, new Uint8Array(20))).code, 'BRIDGE_ZERO_RECIPIENT');
  t.equal(c.send(c.validatorKeys[0]!, withdrawBody(20_000n * TAG)).code, 'BRIDGE_OVER_BRIDGED_SUPPLY');

  c.advanceTo(10);
  const cps = c.events('bridgeCheckpoint');
  t.same(cps.map((e) => [e['number'], e['startBlock'], e['endBlock'], e['withdrawalCount']]), [['1', '1', '5', '1'], ['2', '6', '10', '0']]);
  const cp = c.checkpoint(1);
  const leaf = withdrawalLeaf({ nonce: 1n, sender: c.user.address, recipient, amount: 10n * TAG });
  t.same(cp.withdrawalsRoot, withdrawalsRoot([leaf]));
  t.ok(verifyWithdrawalProof(cp.withdrawalsRoot, cp.withdrawalCount, leaf, 0, withdrawalProof([leaf], 0)));
  t.same(c.checkpoint(2).withdrawalsRoot, ZERO_HASH, 'no withdrawals: zero root');
});

t.test('withdrawals per checkpoint are capped; the excess waits for the next one', async (t) => {
  const c = funded({ params: { withdrawalsPerCheckpointMax: 2, withdrawalsPendingMax: 4 } });
  const r = c.block([1, 2, 3, 4, 5].map((n) => c.tx(c.user, withdrawBody(BigInt(n) * TAG))));
  t.same(codes(r), ['', '', '', '', 'BRIDGE_WITHDRAWALS_FULL'], 'pending withdrawals are bounded');
  t.equal(c.globals().nextWithdrawalNonce, 5);
  c.advanceTo(15);
  const [one, two, three] = [c.checkpoint(1), c.checkpoint(2), c.checkpoint(3)];
  t.same([one.withdrawalCount, two.withdrawalCount, three.withdrawalCount], [2, 2, 0]);
  t.same([one.firstWithdrawalNonce, two.firstWithdrawalNonce], [1, 3]);
  const leavesOf = (first: number, n: number): Uint8Array[] =>
    Array.from({ length: n }, (_, i) => {
      const w = loadWithdrawal(c.state, first + i)!;
      return withdrawalLeaf({ nonce: BigInt(first + i), sender: w.sender, recipient: w.recipient, amount: w.amount });
    });
  t.same(one.withdrawalsRoot, withdrawalsRoot(leavesOf(1, 2)));
  t.same(two.withdrawalsRoot, withdrawalsRoot(leavesOf(3, 2)));
  t.equal(two.startBlock, one.endBlock + 1, 'contiguous');
});

t.test('the checkpoint digest is what bridge/checkpoint.ts computes from the chain', async (t) => {
  const c = funded();
  c.send(c.user, withdrawBody(7n * TAG));
  c.advanceTo(5);
  const cp = c.checkpoint(1);
  // The bridge set, rebuilt here: registered keys ascending, with the validators' powers.
  const powers = loadValidatorSet(c.state).map((v) => v.power);
  const members = c.bridgeKeys.map((k, i) => ({ signer: secp256k1Address(k), power: powers[i]! })).sort((a, b) => compareBytes(a.signer, b.signer));
  const set = { id: 1n, signers: members.map((m) => m.signer), powers: members.map((m) => m.power) };
  t.same(cp.signingSet, set);
  const domain = { chainId: 97n, contract: TEST_BRIDGE_PARAMS.bridgeContract, appchainId: appchainIdFromChainId(TEST_CHAIN_ID) };
  const leaf = withdrawalLeaf({ nonce: 1n, sender: c.user.address, recipient, amount: 7n * TAG });
  const digest = checkpointDigest(domain, {
    number: 1n,
    startBlock: 1n,
    endBlock: 5n,
    blockRangeRoot: ZERO_HASH,
    stateRoot: ZERO_HASH,
    withdrawalsRoot: withdrawalsRoot([leaf]),
    withdrawalCount: 1,
    nextValidatorSetId: 1n,
    nextValidatorSetHash: validatorSetHash(set),
  });
  t.same(cp.digest, digest);
});

t.test('checkpoint signatures: registered keys of the signing set only, quorum above 2/3', async (t) => {
  const c = new BridgeChain({ validators: 4 });
  // Validator 3 registers no key: the bridge set is validators 0–2.
  c.block([0, 1, 2].map((i) => c.tx(c.validatorKeys[i]!, c.keyRegisterBody(c.validatorKeys[i]!, c.bridgeKeys[i]!))));
  c.advanceTo(5);
  const cp = c.checkpoint(1);
  t.equal(cp.signingSet.signers.length, 3);
  const d = cp.digest;
  t.equal(c.send(c.validatorKeys[3]!, c.signBody(1, d, 3)).code, 'BRIDGE_NO_KEY', 'no registered key');
  t.equal(c.send(c.validatorKeys[0]!, c.signBody(2, d, 0)).code, 'BRIDGE_CHECKPOINT_NOT_FOUND');
  t.equal(c.send(c.validatorKeys[0]!, c.signBody(1, d, 0, c.bridgeKeys[3])).code, 'BRIDGE_BAD_SIGNATURE', 'signed by a key that is not its registered one');
  t.equal(c.send(c.validatorKeys[0]!, c.signBody(1, sha256(utf8ToBytes('other')), 0)).code, 'BRIDGE_BAD_SIGNATURE', 'another digest');
  // The malleated twin (r, n − s, v ^ 1) recovers to the same key but has high s.
  const good = c.signBody(1, d, 1) as { signature: Uint8Array };
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const s = bytesToNumberBE(good.signature.subarray(32, 64));
  const twin = concatBytes(good.signature.subarray(0, 32), uintWord('s', n - s), Uint8Array.of(good.signature[64] === 27 ? 28 : 27));
  t.equal(c.send(c.validatorKeys[1]!, { kind: 'checkpointSign', number: 1, signature: twin }).code, 'BRIDGE_BAD_SIGNATURE', 'high s');

  t.equal(c.send(c.validatorKeys[0]!, c.signBody(1, d, 0)).code, '');
  t.equal(c.send(c.validatorKeys[0]!, c.signBody(1, d, 0)).code, 'BRIDGE_ALREADY_SIGNED');
  t.equal(c.send(c.validatorKeys[1]!, c.signBody(1, d, 1)).code, '');
  t.equal(c.checkpoint(1).signed, false, 'exactly 2/3 of the bridge set: not signed');
  // Validator 3 registers now: its key is not in checkpoint 1's signing set.
  t.equal(c.send(c.validatorKeys[3]!, c.keyRegisterBody(c.validatorKeys[3]!, c.bridgeKeys[3]!)).code, '');
  const registeredAt = c.height;
  t.equal(c.send(c.validatorKeys[3]!, c.signBody(1, d, 3)).code, 'BRIDGE_NOT_SIGNER');
  t.equal(c.send(c.validatorKeys[2]!, c.signBody(1, d, 2)).code, '');
  const signed = c.checkpoint(1);
  t.equal(signed.signed, true);
  t.equal(c.events('bridgeCheckpointQuorum').length, 0, 'the quorum event is in the transaction receipt, not end-block');

  // The stored signatures are what the relayer collects: the contract's quorum holds for them.
  const sigs: SignerSignature[] = signed.signingSet.signers.map((signer) => {
    const b = loadCheckpointSig(c.state, 1, signer)!;
    return { signer, signature: { r: b.subarray(0, 32), s: b.subarray(32, 64), v: b[64] as 27 | 28 } };
  });
  const collected = collectSignatures(d, signed.signingSet, sigs);
  t.equal(collected.length, 3);
  t.ok(hasQuorum(signed.signingSet, collected.map((x) => x.signer)));

  // The first checkpoint closed after validator 3 registered rotates to the four-member set, signed by the old one.
  c.advanceTo(c.height + 5);
  const k = c.globals().lastCheckpoint;
  const rotating = c.checkpoint(k - 1);
  t.ok(rotating.endBlock > registeredAt && c.checkpoint(k - 2).endBlock < registeredAt);
  t.equal(rotating.signingSet.id, 1n);
  t.equal(rotating.signingSet.signers.length, 3);
  t.equal(rotating.nextValidatorSetId, 2);
  const after = c.checkpoint(k);
  t.equal(after.signingSet.id, 2n);
  t.equal(after.signingSet.signers.length, 4);
  t.equal(after.nextValidatorSetId, 2, 'no further change');
  t.same(after.nextValidatorSetHash, rotating.nextValidatorSetHash);
  t.same(validatorSetHash(after.signingSet), rotating.nextValidatorSetHash);
});
