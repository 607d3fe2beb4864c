/**
 * The SDK's staking builders: every body survives signing and `decodeSignedTx` unchanged, bad
 * input is refused before a fee is spent, and the fee ceiling covers the fee the runtime charges.
 */
import t from 'tap';
import { ONE_TAG, addressToString, sha256, utf8ToBytes } from '../../../lib/index.ts';
import { decodeSignedTx, requiredFee, signTx, type StakingBody } from '../../../runtime/index.ts';
import { DEFAULT_PARAMS } from '../../../state/index.ts';
import {
  StakingInputError,
  buildClaimRewards,
  buildDelegate,
  buildEvidence,
  buildUndelegate,
  buildUnjail,
  buildValidatorCreate,
  buildValidatorEdit,
  stakingMaxFee,
} from '../../../sdk/staking.ts';
import { fixedKey } from '../../utils/factories.ts';

const sender = fixedKey(0x31);
const consensus = fixedKey(0x32);
const operator = fixedKey(0x33).address;
const vote = (blockHash: Uint8Array) => ({ type: 2, height: 7, round: 1, blockHash, validator: consensus.address, signature: new Uint8Array(64).fill(9) });

const bodies: Array<[string, StakingBody]> = [
  ['validatorCreate', buildValidatorCreate({ consensusKey: consensus.publicKey, selfStake: 100n * ONE_TAG, commissionBps: 500, moniker: 'node-1 ✓' })],
  ['validatorEdit', buildValidatorEdit({ commissionBps: 600, moniker: 'renamed' })],
  ['delegate', buildDelegate(operator, 5n * ONE_TAG)],
  ['delegate', buildDelegate(addressToString(operator), 1n)],
  ['undelegate', buildUndelegate(operator, ONE_TAG / 3n)],
  ['unjail', buildUnjail()],
  ['claimRewards', buildClaimRewards(addressToString(operator))],
  ['evidence', buildEvidence(vote(sha256(utf8ToBytes('a'))), vote(new Uint8Array(0)))],
];

t.test('every staking body round-trips through signing and decodeSignedTx', async (t) => {
  let nonce = 0;
  for (const [kind, body] of bodies) {
    t.equal(body.kind, kind);
    const signed = signTx({ chainId: 'tagger-test-1', sender: sender.publicKey, nonce: nonce++, maxFee: ONE_TAG, body }, sender.secretKey);
    const decoded = decodeSignedTx(signed.bytes);
    t.strictSame(decoded.tx.body, body, `${kind} decodes to what was built`);
    t.strictSame(decoded.hash, signed.hash, `${kind} hash`);
  }
  t.strictSame(buildDelegate(addressToString(operator), 1n), { kind: 'delegate', validator: operator, amount: 1n }, 'a bech32m validator is the same address');
});

t.test('bad input is refused with STAKING_BAD_INPUT (or ADDRESS_INVALID) naming the field', async (t) => {
  const fieldOf = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e: unknown) {
      if (e instanceof StakingInputError) return e.type.field;
      if (e instanceof Error && 'code' in e) return String(e.code);
      throw e;
    }
    return 'accepted';
  };
  const good = { consensusKey: consensus.publicKey, selfStake: ONE_TAG, commissionBps: 0, moniker: 'm' };
  t.equal(fieldOf(() => buildValidatorCreate({ ...good, consensusKey: new Uint8Array(31) })), 'consensusKey');
  t.equal(fieldOf(() => buildValidatorCreate({ ...good, consensusKey: new Uint8Array(32) })), 'consensusKey', 'not a valid ed25519 point');
  t.equal(fieldOf(() => buildValidatorCreate({ ...good, selfStake: 0n })), 'selfStake');
  t.equal(fieldOf(() => buildValidatorCreate({ ...good, commissionBps: 10_001 })), 'commissionBps');
  t.equal(fieldOf(() => buildValidatorCreate({ ...good, commissionBps: 1.5 })), 'commissionBps');
  t.equal(fieldOf(() => buildValidatorCreate({ ...good, moniker: '   ' })), 'moniker');
  t.equal(fieldOf(() => buildValidatorCreate({ ...good, moniker: 'é'.repeat(33) })), 'moniker', '66 bytes');
  t.equal(fieldOf(() => buildValidatorCreate({ ...good, moniker: 'x'.repeat(64) })), 'accepted', '64 bytes');
  t.equal(fieldOf(() => buildValidatorEdit({ commissionBps: -1, moniker: 'm' })), 'commissionBps');
  t.equal(fieldOf(() => buildDelegate(operator, 0n)), 'amount');
  t.equal(fieldOf(() => buildUndelegate(new Uint8Array(19), 1n)), 'validator');
  t.equal(fieldOf(() => buildClaimRewards('tag1nope')), 'ADDRESS_INVALID');
  t.equal(fieldOf(() => buildEvidence({ ...vote(new Uint8Array(0)), type: 3 }, vote(new Uint8Array(0)))), 'voteA.type');
  t.equal(fieldOf(() => buildEvidence(vote(new Uint8Array(0)), vote(new Uint8Array(5)))), 'voteB.blockHash');
});

t.test('the fee ceiling covers the fee the runtime charges', async (t) => {
  const fees = { baseFee: 1_000n, perByteFee: 7n, txBytesMax: DEFAULT_PARAMS.txBytesMax };
  const params = { ...DEFAULT_PARAMS, baseFee: fees.baseFee, perByteFee: fees.perByteFee };
  for (const [kind, body] of bodies) {
    const maxFee = stakingMaxFee('tagger-test-1', body, fees);
    const signed = signTx({ chainId: 'tagger-test-1', sender: sender.publicKey, nonce: 3, maxFee, body }, sender.secretKey);
    const fee = requiredFee(params, signed.bytes.length);
    t.ok(fee <= maxFee, `${kind}: fee ${fee} ≤ ceiling ${maxFee}`);
    t.ok(maxFee - fee < 1_000n, `${kind}: and not far above it`);
  }
});
