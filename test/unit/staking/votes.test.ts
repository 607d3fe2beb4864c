/**
 * The runtime restates two consensus encodings (runtime may not import consensus): vote signing
 * bytes and the signer list of a commit. They must agree with consensus/types.ts byte for byte.
 */
import fc from 'fast-check';
import t from 'tap';
import { bytesToHex, encode } from '../../../lib/index.ts';
import { commitSigners, evidenceTxBody, voteSigningBytes as runtimeSigningBytes, verifyVoteSignature } from '../../../runtime/index.ts';
import { COMMIT_SIGNATURES_MAX, encodeCommit, signVote, voteSigningBytes, type Commit, type Vote, type VoteType } from '../../../consensus/index.ts';
import { numberedKey } from '../../utils/chain.ts';
import { StakingChain } from './harness.ts';

const key = numberedKey(9600);
const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n });

t.test('vote signing bytes agree with consensus for any vote', async (t) => {
  let runs = 0;
  fc.assert(
    fc.property(
      fc.constantFrom<VoteType>(1, 2),
      fc.integer({ min: 0, max: 0xffff_ffff }),
      fc.integer({ min: 0, max: 0xffff_ffff }),
      fc.oneof(bytes(32), fc.constant(new Uint8Array(0))),
      bytes(20),
      fc.string({ minLength: 3, maxLength: 20 }),
      (type, height, round, blockHash, validator, chainId) => {
        const vote: Vote = { type, height, round, blockHash, validator };
        runs++;
        return bytesToHex(runtimeSigningBytes(chainId, { ...vote, signature: new Uint8Array(64) })) === bytesToHex(voteSigningBytes(chainId, vote));
      },
    ),
  );
  t.ok(runs > 0);
  const vote: Vote = { type: 2, height: 9, round: 1, blockHash: new Uint8Array(32).fill(3), validator: key.address };
  const signature = signVote('tagger-test-1', vote, key.secretKey);
  t.ok(verifyVoteSignature('tagger-test-1', { ...vote, signature }, key.publicKey), 'a consensus signature verifies in the runtime');
  t.notOk(verifyVoteSignature('tagger-test-2', { ...vote, signature }, key.publicKey), 'not on another chain');
});

t.test('commit signers agree with consensus encodings; anything else is null', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), fc.array(bytes(20), { maxLength: 12 }), (height, validators) => {
      const commit: Commit = { height, round: 0, blockHash: new Uint8Array(32), signatures: validators.map((v) => ({ validator: v, signature: new Uint8Array(64) })) };
      const got = commitSigners(encodeCommit(commit));
      return got !== null && got.height === height && got.signers.map(bytesToHex).join() === validators.map(bytesToHex).join();
    }),
  );
  t.equal(commitSigners(new Uint8Array(0)), null, 'empty');
  t.equal(commitSigners(Uint8Array.of(0xc1)), null, 'not msgpack');
  t.equal(commitSigners(encode([1, 2, 3])), null, 'wrong shape');
  t.equal(COMMIT_SIGNATURES_MAX, 200, 'the runtime bounds the list the same way (200)');
});

t.test('evidenceTxBody turns consensus duplicate-vote evidence into an evidence transaction that slashes', async (t) => {
  const offender = numberedKey(9601);
  const reporter = numberedKey(9602);
  const chain = new StakingChain({ validators: [offender, numberedKey(9603)], accounts: [reporter] });
  chain.advanceTo(3);
  const vote = (blockHash: Uint8Array): { vote: Vote; signature: Uint8Array } => {
    const v: Vote = { type: 1, height: 2, round: 0, blockHash, validator: offender.address };
    return { vote: v, signature: signVote('tagger-test-1', v, offender.secretKey) };
  };
  const body = evidenceTxBody(vote(new Uint8Array(32).fill(1)), vote(new Uint8Array(32).fill(2)));
  const r = chain.send(reporter, body);
  t.equal(r.code, '');
  t.equal(chain.validator(offender).tombstoned, true);
});
