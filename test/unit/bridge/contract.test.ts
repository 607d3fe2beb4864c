/**
 * The chain's checkpoint, signed by its validators' registered bridge keys, is accepted by the real
 * TaggerBridge contract (on the in-process EVM, test/bridge/fixtures), and the withdrawal burnt on
 * the chain is released there with its proof: deposit → attest → mint → withdraw → checkpoint →
 * sign → submit → release.
 */
import t from 'tap';
import { collectSignatures, withdrawalLeaf, withdrawalProof, type SignerSignature } from '../../../bridge/checkpoint.ts';
import { loadCheckpointSig, toBridgeCheckpoint } from '../../../runtime/index.ts';
import { BridgeFixture, bytes, hex } from '../../bridge/fixtures/bridgeFixture.ts';
import { BridgeChain, TAG } from './harness.ts';

t.test('a chain checkpoint is accepted by the contract and its withdrawal released', async (t) => {
  const power = 100n * TAG; // StakingChain's genesis power per validator
  const f = await BridgeFixture.deploy({ powers: [power, power, power] });
  const c = new BridgeChain({ validators: 3, bridgeKeys: f.group.validators.map((v) => v.key), params: { bnbChainId: 56, bridgeContract: bytes(f.bridge) } });
  c.registerAll();

  // A deposit locked on BNB Chain, attested and minted on Tagger chain.
  const dep = await f.bridgeCall(f.users[0]!, 'deposit', [hex(c.user.address), 50n * TAG]);
  t.notOk(dep.reverted);
  const deposited = f.events(dep).find((e) => e.eventName === 'Deposited')!;
  const nonce = Number(deposited.args['nonce']);
  const amount = deposited.args['amount'] as bigint;
  c.attest([0, 1, 2], c.depositBody(nonce, c.user.address, amount));
  t.equal(c.globals().bridgedSupply, 50n * TAG);

  // A withdrawal burnt on Tagger chain, checkpointed and signed.
  const recipient = bytes(f.address(f.users[1]!));
  t.equal(c.send(c.user, { kind: 'withdraw', recipient, amount: 10n * TAG }).code, '');
  c.advanceTo(5);
  const record = c.checkpoint(1);
  t.same(record.signingSet, f.group.set, 'the chain computes the set the contract was deployed with');
  c.block([0, 1, 2].map((i) => c.tx(c.validatorKeys[i]!, c.signBody(1, record.digest, i))));
  t.equal(c.checkpoint(1).signed, true);

  const stored: SignerSignature[] = record.signingSet.signers.map((signer) => {
    const b = loadCheckpointSig(c.state, 1, signer)!;
    return { signer, signature: { r: b.subarray(0, 32), s: b.subarray(32, 64), v: b[64] as 27 | 28 } };
  });
  const cp = toBridgeCheckpoint(record);
  t.same(f.digest(cp), record.digest, 'the contract domain gives the same digest');
  const submitted = await f.submit(cp, collectSignatures(record.digest, record.signingSet, stored));
  t.notOk(submitted.reverted, `submitCheckpoint: ${submitted.error?.name ?? ''}`);
  t.equal(await f.view('lastCheckpoint'), 1n);

  const w = { nonce: 1n, sender: c.user.address, recipient, amount: 10n * TAG };
  const before = await f.tokenBalance(hex(recipient));
  const released = await f.withdraw(1n, w, 0, withdrawalProof([withdrawalLeaf(w)], 0));
  t.notOk(released.reverted, `withdraw: ${released.error?.name ?? ''}`);
  t.equal((await f.tokenBalance(hex(recipient))) - before, 10n * TAG);
  t.equal(await f.view('totalLocked'), 50n * TAG, 'the contract counts TAG locked by deposits');
  t.equal(await f.view('totalReleased'), 10n * TAG, 'and TAG released by withdrawals');
});
