import t from 'tap';
import { secp256k1Address, sha256, utf8ToBytes } from '../../../lib/index.ts';
import { loadBridgeKey, loadDeposit } from '../../../runtime/index.ts';
import { BridgeChain, TAG } from './harness.ts';

const alice = sha256(utf8ToBytes('alice')).subarray(0, 20);
const bob = sha256(utf8ToBytes('bob')).subarray(0, 20);
const codes = (rs: { code: string }[]): string[] => rs.map((r) => r.code);

t.test('bridge keys: possession proved over the chain id and the operator', async (t) => {
  const c = new BridgeChain();
  const [v0, v1] = c.validatorKeys as [typeof c.validatorKeys[0], typeof c.validatorKeys[0]];
  // A proof made for another operator or another chain does not register.
  t.equal(c.send(v0, c.keyRegisterBody(v1, c.bridgeKeys[0]!)).code, 'BRIDGE_BAD_KEY_PROOF');
  const otherChain = c.keyRegisterBody(v0, c.bridgeKeys[0]!, 'another-chain');
  t.equal(c.send(v0, otherChain).code, 'BRIDGE_BAD_KEY_PROOF');
  // Not a validator operator.
  t.equal(c.send(c.user, c.keyRegisterBody(c.user, c.bridgeKeys[0]!)).code, 'BRIDGE_NOT_OPERATOR');
  t.equal(c.send(v0, c.keyRegisterBody(v0, c.bridgeKeys[0]!)).code, '');
  t.same(loadBridgeKey(c.state, v0.address), secp256k1Address(c.bridgeKeys[0]!));
  // One key, one operator.
  t.equal(c.send(v1, c.keyRegisterBody(v1, c.bridgeKeys[0]!)).code, 'BRIDGE_KEY_IN_USE');
  // Rotation frees the old key.
  t.equal(c.send(v0, c.keyRegisterBody(v0, c.bridgeKeys[2]!)).code, '');
  t.equal(c.send(v1, c.keyRegisterBody(v1, c.bridgeKeys[0]!)).code, '');
});

t.test('a deposit is minted at more than 2/3 of the power, not at exactly 2/3', async (t) => {
  const c = new BridgeChain({ validators: 3 });
  const body = c.depositBody(1, alice, 5n * TAG);
  t.same(codes(c.attest([0, 1], body)), ['', '']);
  t.equal(c.balance(alice), 0n, 'two of three equal validators is exactly 2/3: nothing minted');
  t.equal(c.globals().nextDepositNonce, 1);
  t.same(codes(c.attest([0], body)), ['BRIDGE_ALREADY_ATTESTED']);
  const before = c.supply();
  t.same(codes(c.attest([2], body)), ['']);
  t.equal(c.balance(alice), 5n * TAG);
  t.equal(c.globals().bridgedSupply, 5n * TAG);
  t.equal(c.globals().nextDepositNonce, 2);
  t.equal(loadDeposit(c.state, 1), null, 'the minted deposit leaves state');
  t.ok(c.supply() - before >= 5n * TAG, 'supply grows by the minted amount (plus the block reward)');
  t.same(codes(c.attest([0], body)), ['BRIDGE_DEPOSIT_DONE'], 'a minted nonce cannot be attested again');
  t.equal(c.balance(alice), 5n * TAG);
});

t.test('deposits are minted in nonce order: a gap halts minting, later nonces wait', async (t) => {
  const c = new BridgeChain({ validators: 4 });
  const d1 = c.depositBody(1, alice, 1n * TAG);
  const d2 = c.depositBody(2, bob, 2n * TAG);
  const d3 = c.depositBody(3, alice, 3n * TAG);
  t.same(codes(c.attest([0, 1, 2, 3], d3)), ['', '', '', '']);
  t.same(codes(c.attest([0, 1, 2, 3], d2)), ['', '', '', '']);
  t.equal(c.balance(alice) + c.balance(bob), 0n, 'nonce 1 missing: nothing minted');
  t.equal(loadDeposit(c.state, 3)?.ready, true, 'nonce 3 has its quorum and waits');
  t.same(codes(c.attest([0, 1], d1)), ['', '']);
  t.equal(c.balance(alice), 0n, '2 of 4 is not a quorum');
  const r = c.attest([2], d1);
  t.same(codes(r), ['']);
  const minted = r[0]!.events.filter((e) => e.type === 'bridgeDepositMinted').map((e) => Object.fromEntries(e.attributes)['nonce']);
  t.same(minted, ['1', '2', '3'], 'one quorum releases the waiting nonces, in order');
  t.equal(c.balance(alice), 4n * TAG);
  t.equal(c.balance(bob), 2n * TAG);
  t.equal(c.globals().bridgedSupply, 6n * TAG);
  t.equal(c.globals().nextDepositNonce, 4);
});

t.test('conflicting attestations are refused; non-validators are refused; bounds', async (t) => {
  const c = new BridgeChain({ validators: 3 });
  t.same(codes(c.attest([0], c.depositBody(1, alice, TAG))), ['']);
  t.same(codes(c.attest([1], c.depositBody(1, bob, TAG))), ['BRIDGE_DEPOSIT_CONFLICT'], 'other recipient');
  t.same(codes(c.attest([1], c.depositBody(1, alice, 2n * TAG))), ['BRIDGE_DEPOSIT_CONFLICT'], 'other amount');
  t.same(codes(c.attest([1], c.depositBody(1, alice, TAG, 7))), ['BRIDGE_DEPOSIT_CONFLICT'], 'other log index');
  t.same(codes(c.attest([1], { ...c.depositBody(1, alice, TAG), bnbTxHash: new Uint8Array(32) } as never)), ['BRIDGE_DEPOSIT_CONFLICT'], 'other tx hash');
  t.same(loadDeposit(c.state, 1)?.attesters.length, 1, 'conflicts are not counted');
  t.equal(c.send(c.user, c.depositBody(1, alice, TAG)).code, 'BRIDGE_NOT_VALIDATOR');
  t.same(codes(c.attest([1], c.depositBody(17, alice, TAG))), ['BRIDGE_DEPOSIT_TOO_FAR'], 'depositsAheadMax 16 bounds pending nonces');
  t.same(codes(c.attest([1], c.depositBody(16, alice, TAG))), ['']);
  t.same(codes(c.attest([1], c.depositBody(2, alice, 0n))), ['BRIDGE_ZERO_AMOUNT']);
  t.same(codes(c.attest([0, 1], c.depositBody(1, alice, TAG))), ['BRIDGE_ALREADY_ATTESTED', '']);
  t.equal(c.balance(alice), 0n);
});

t.test('the bridge is off without parameters', async (t) => {
  const c = new BridgeChain({ bridgeOff: true });
  t.same(codes(c.attest([0], c.depositBody(1, alice, TAG))), ['BRIDGE_DISABLED']);
  t.equal(c.send(c.user, { kind: 'withdraw', recipient: new Uint8Array(20).fill(1), amount: 1n }).code, 'BRIDGE_DISABLED');
  c.blocks(10);
  t.equal(c.events('bridgeCheckpoint').length, 0);
});
