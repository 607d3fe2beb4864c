/**
 * A validator created after genesis has an operator key (its account) and a consensus key (its node).
 * Its node does its bridge duties with the consensus key: registering the bridge key, attesting
 * deposits and signing checkpoints all count for the operator (`bridgeOperatorOf`), once.
 */
import t from 'tap';
import { bytesToHex, secp256k1Address, sha256, u32ToBytes } from '../../../lib/index.ts';
import { bridgeOperatorOf, loadBridgeKey, loadDeposit, type TxBody } from '../../../runtime/index.ts';
import { numberedKey } from '../../utils/chain.ts';
import { BridgeChain, TAG } from './harness.ts';

t.test('duties sent with a validator\'s consensus key count for its operator', async (t) => {
  const c = new BridgeChain({ validators: 3 });
  c.registerAll();
  const op = numberedKey(9400);
  const cons = numberedKey(9401);
  c.addConsensusKey(cons);
  c.block([c.tx(c.user, { kind: 'transfer', to: op.address, amount: 1_000n * TAG }), c.tx(c.user, { kind: 'transfer', to: cons.address, amount: 10n * TAG }, TAG)]);
  const create: TxBody = { kind: 'validatorCreate', consensusKey: cons.publicKey, selfStake: 500n * TAG, commissionBps: 0, moniker: 'late' };
  t.equal(c.send(op, create).code, '');
  c.advanceTo(11); // past an epoch boundary: the new validator is in the set
  t.ok(c.activeSet().includes(bytesToHex(cons.address)), 'the new validator validates');
  t.same(bridgeOperatorOf(c.state, cons.address), op.address, 'its consensus key speaks for its operator');
  t.same(bridgeOperatorOf(c.state, op.address), op.address, 'and so does the operator itself');
  t.same(bridgeOperatorOf(c.state, c.user.address), c.user.address, 'anyone else speaks for themselves');

  const secret = sha256(u32ToBytes(7777));
  t.equal(c.send(cons, c.keyRegisterBody(op, secret)).code, '', 'the node registers the bridge key for its operator');
  t.same(loadBridgeKey(c.state, op.address), secp256k1Address(secret));
  t.equal(loadBridgeKey(c.state, cons.address), null, 'nothing is registered under the consensus address');

  const deposit = c.depositBody(1, c.user.address, 5n * TAG);
  t.equal(c.send(cons, deposit).code, '', 'attested with the consensus key');
  t.same(loadDeposit(c.state, 1)?.attesters.map(bytesToHex), [bytesToHex(op.address)], 'counted for the operator');
  t.equal(c.send(op, deposit).code, 'BRIDGE_ALREADY_ATTESTED', 'one validator attests once, whichever key it uses');

  // The operator's key joins the bridge set at the next checkpoint; the one after is its to sign.
  c.advanceTo(20);
  const cp = c.checkpoint(c.globals().lastCheckpoint);
  t.ok(cp.signingSet.signers.some((s) => bytesToHex(s) === bytesToHex(secp256k1Address(secret))), 'its bridge key signs this checkpoint');
  const sign = c.signBody(cp.number, cp.digest, 0, secret);
  t.equal(c.send(cons, sign).code, '', 'signed with the consensus key');
  t.equal(c.send(op, sign).code, 'BRIDGE_ALREADY_SIGNED', 'one signature per validator, whichever key sends it');
});
