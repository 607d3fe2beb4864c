/** Votes and commit certificates (consensus/types.ts). */
import t from 'tap';
import { bytesToHex, compareBytes, hexToBytes, sign, signingBytes } from '../../../lib/index.ts';
import {
  VOTE_TYPE,
  decodeCommit,
  decodeVote,
  encodeCommit,
  encodeVote,
  signVote,
  verifyCommit,
  voteSigningBytes,
  type Commit,
  type Vote,
  type VotingValidator,
} from '../../../consensus/index.ts';
import { errorOf, fixedKey, type Key } from '../../utils/factories.ts';
import * as mp from '../../utils/mp.ts';

type T = Parameters<Parameters<typeof t.test>[0]>[0];

const CHAIN = 'tagger-test-1';
const HASH = new Uint8Array(32).fill(0xbb);
const OTHER_HASH = new Uint8Array(32).fill(0xcc);
const HEIGHT = 42;

const keys = [fixedKey(1), fixedKey(2), fixedKey(3), fixedKey(4)];
const validatorsOf = (ks: readonly Key[], powers: readonly bigint[] = ks.map(() => 10n)): VotingValidator[] =>
  ks.map((k, i) => ({ address: k.address, publicKey: k.publicKey, power: powers[i]! }));
const byAddress = (ks: readonly Key[]): Key[] => [...ks].sort((a, b) => compareBytes(a.address, b.address));

function precommit(k: Key, opts: { height?: number; round?: number; hash?: Uint8Array; type?: 1 | 2; chainId?: string } = {}): { validator: Uint8Array; signature: Uint8Array } {
  const vote: Vote = {
    type: opts.type ?? VOTE_TYPE.precommit,
    height: opts.height ?? HEIGHT,
    round: opts.round ?? 0,
    blockHash: opts.hash ?? HASH,
    validator: k.address,
  };
  return { validator: k.address, signature: signVote(opts.chainId ?? CHAIN, vote, k.secretKey) };
}

function commitOf(signers: readonly Key[], round = 0): Commit {
  return { height: HEIGHT, round, blockHash: HASH, signatures: byAddress(signers).map((k) => precommit(k, { round })) };
}

function check(t: T, commit: Commit, validators: VotingValidator[], code: string, msg: string, height = HEIGHT, hash = HASH): void {
  const err = errorOf(() => verifyCommit(CHAIN, commit, height, hash, validators));
  t.equal(err?.code ?? 'valid', code, msg);
}

t.test('vote encoding: [type, height, round, blockHash, validator], signed under "tagger/vote/v1"', async (t) => {
  const k = keys[0]!;
  const vote: Vote = { type: VOTE_TYPE.prevote, height: 300, round: 2, blockHash: HASH, validator: k.address };
  const wire = mp.arr(mp.u32(1), mp.u32(300), mp.u32(2), mp.bin(bytesToHex(HASH)), mp.bin(bytesToHex(k.address)));
  t.equal(bytesToHex(encodeVote(vote)), wire);
  t.same(decodeVote(hexToBytes(wire)), vote);
  t.equal(bytesToHex(voteSigningBytes(CHAIN, vote)), mp.arr(mp.str('tagger/vote/v1'), mp.str(CHAIN), mp.bin(wire)));
  const nil: Vote = { ...vote, blockHash: new Uint8Array(0) };
  t.same(decodeVote(encodeVote(nil)), nil, 'a vote for nil');
  const pc: Vote = { ...vote, type: VOTE_TYPE.precommit };
  t.same(decodeVote(encodeVote(pc)), pc);
  t.not(bytesToHex(voteSigningBytes(CHAIN, pc)), bytesToHex(voteSigningBytes(CHAIN, vote)), 'prevote and precommit sign different bytes');
});

t.test('commit encoding round trip', async (t) => {
  const c = commitOf(keys.slice(0, 3));
  const wire = mp.arr(
    mp.u32(HEIGHT),
    mp.u32(0),
    mp.bin(bytesToHex(HASH)),
    mp.arr(...c.signatures.map((s) => mp.arr(mp.bin(bytesToHex(s.validator)), mp.bin(bytesToHex(s.signature))))),
  );
  t.equal(bytesToHex(encodeCommit(c)), wire);
  t.same(decodeCommit(hexToBytes(wire)), c);
  const empty: Commit = { height: 1, round: 0, blockHash: HASH, signatures: [] };
  t.same(decodeCommit(encodeCommit(empty)), empty);
  t.equal(errorOf(() => decodeCommit(hexToBytes(mp.arr(mp.u32(1), mp.u32(0), mp.bin(''), mp.arr()))))?.code, 'CODEC_WRONG_LENGTH', 'a commit is never for nil');
});

t.test('verifyCommit accepts a valid 1-of-1 and 3-of-4 commit', async (t) => {
  check(t, commitOf([keys[0]!]), validatorsOf([keys[0]!]), 'valid', '1 of 1');
  check(t, commitOf(keys.slice(0, 3)), validatorsOf(keys), 'valid', '3 of 4, equal power');
  check(t, commitOf(keys.slice(1)), validatorsOf(keys), 'valid', 'another 3 of 4');
  check(t, commitOf(keys), validatorsOf(keys), 'valid', '4 of 4');
  check(t, commitOf(keys.slice(0, 3), 7), validatorsOf(keys), 'valid', 'a later round');
  check(t, commitOf([keys[0]!]), validatorsOf(keys, [100n, 1n, 1n, 1n]), 'valid', 'one validator with most of the power');
});

t.test('verifyCommit rejects', async (t) => {
  const vals = validatorsOf(keys);
  check(t, commitOf(keys.slice(0, 3)), vals, 'COMMIT_WRONG_HEIGHT', 'wrong height', HEIGHT + 1);
  check(t, commitOf(keys.slice(0, 3)), vals, 'COMMIT_WRONG_BLOCK', 'wrong block hash', HEIGHT, OTHER_HASH);
  check(t, commitOf([...keys.slice(0, 2), fixedKey(9)]), vals, 'COMMIT_UNKNOWN_VALIDATOR', 'a signer outside the set');

  const sorted = commitOf(keys.slice(0, 3));
  const dup: Commit = { ...sorted, signatures: [sorted.signatures[0]!, sorted.signatures[0]!, sorted.signatures[1]!] };
  check(t, dup, vals, 'COMMIT_DUPLICATE_SIGNER', 'the same signer twice');
  const reversed: Commit = { ...sorted, signatures: [...sorted.signatures].reverse() };
  check(t, reversed, vals, 'COMMIT_UNSORTED', 'signers not sorted by address');

  const badSig = commitOf(keys.slice(0, 3));
  const flipped = Uint8Array.from(badSig.signatures[1]!.signature);
  flipped[0]! ^= 1;
  badSig.signatures[1] = { ...badSig.signatures[1]!, signature: flipped };
  check(t, badSig, vals, 'COMMIT_BAD_SIGNATURE', 'a corrupted signature');

  const [s0, s1, s2] = byAddress(keys.slice(0, 3));
  const mixed = (sig: { validator: Uint8Array; signature: Uint8Array }, name: string): void => {
    const c: Commit = { height: HEIGHT, round: 0, blockHash: HASH, signatures: [precommit(s0!), sig, precommit(s2!)] };
    check(t, c, vals, 'COMMIT_BAD_SIGNATURE', name);
  };
  mixed(precommit(s1!, { type: VOTE_TYPE.prevote }), 'a prevote signature used as a precommit');
  mixed(precommit(s1!, { hash: OTHER_HASH }), 'a precommit for another block');
  mixed(precommit(s1!, { height: HEIGHT + 1 }), 'a precommit for another height');
  mixed(precommit(s1!, { round: 1 }), 'a precommit for another round');
  mixed(precommit(s1!, { chainId: 'another-chain' }), 'a precommit for another chain');
  mixed({ validator: s1!.address, signature: precommit(s0!).signature }, "another validator's signature");
  const vote: Vote = { type: VOTE_TYPE.precommit, height: HEIGHT, round: 0, blockHash: HASH, validator: s1!.address };
  mixed({ validator: s1!.address, signature: sign(s1!.secretKey, signingBytes('tx', CHAIN, encodeVote(vote))) }, 'signed as a tx, not a vote');
});

t.test('quorum: strictly more than two thirds of the power', async (t) => {
  const three = keys.slice(0, 3);
  check(t, commitOf(three.slice(0, 2)), validatorsOf(three), 'COMMIT_NO_QUORUM', 'exactly 2/3 (2 of 3 equal powers) fails');
  check(t, commitOf(keys.slice(0, 2)), validatorsOf(keys), 'COMMIT_NO_QUORUM', '2 of 4');
  check(t, commitOf([]), validatorsOf(keys), 'COMMIT_NO_QUORUM', 'no signatures');
  check(t, commitOf([]), [], 'COMMIT_NO_QUORUM', 'an empty set never reaches quorum');
  // Powers 2,1 (total 3): the power-2 validator alone holds exactly 2/3.
  const two = byAddress(keys.slice(0, 2));
  check(t, commitOf([two[0]!]), validatorsOf(two, [2n, 1n]), 'COMMIT_NO_QUORUM', 'exactly 2/3 by power fails');
  check(t, commitOf([two[0]!]), validatorsOf(two, [201n, 100n]), 'valid', 'just above 2/3 by power');
  check(t, commitOf([two[0]!]), validatorsOf(two, [200n, 100n]), 'COMMIT_NO_QUORUM', 'exactly 200/300');
  const err = errorOf(() => verifyCommit(CHAIN, commitOf(three.slice(0, 2)), HEIGHT, HASH, validatorsOf(three)));
  t.match(err, { signedPower: '20', totalPower: '30' });
  // Huge powers do not overflow.
  const big = 10n ** 40n;
  check(t, commitOf(keys.slice(0, 3)), validatorsOf(keys, [big, big, big, big]), 'valid', 'powers of 10^40');
});
