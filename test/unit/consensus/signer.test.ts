import t from 'tap';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { bytesToHex, isChainError, verify } from '../../../lib/index.ts';
import { Signer, VOTE_TYPE, voteSigningBytes, type Vote } from '../../../consensus/index.ts';
import { fixedKey } from '../../utils/factories.ts';

const key = fixedKey(7);
const hashA = new Uint8Array(32).fill(0xaa);
const hashB = new Uint8Array(32).fill(0xbb);
const vote = (height: number, round: number, blockHash: Uint8Array, type: 1 | 2 = VOTE_TYPE.precommit): Vote => ({
  type,
  height,
  round,
  blockHash,
  validator: key.address,
});

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'signed';
  } catch (e: unknown) {
    return isChainError(e) ? e.code : String(e);
  }
}

t.test('never signs two different messages for one height/round/step, across restarts', async (t) => {
  const statePath = join(t.testdir(), 'signer-state');
  const signer = await Signer.open({ ...key, statePath });
  t.equal(signer.firstFreeRound(5), 0);
  const sig = await signer.signVote('c', vote(5, 0, hashA));
  t.ok(verify(key.publicKey, voteSigningBytes('c', vote(5, 0, hashA)), sig), 'a real signature');
  t.same(await signer.signVote('c', vote(5, 0, hashA)), sig, 'the same bytes again give the same signature');
  t.equal(await refusal(signer.signVote('c', vote(5, 0, hashB))), 'SIGNER_DOUBLE_SIGN_REFUSED', 'conflicting block');
  t.equal(await refusal(signer.signVote('c', vote(4, 9, hashB))), 'SIGNER_DOUBLE_SIGN_REFUSED', 'lower height');
  t.equal(await refusal(signer.signVote('c', vote(5, 0, hashA, VOTE_TYPE.prevote))), 'SIGNER_DOUBLE_SIGN_REFUSED', 'earlier step');

  // A restart (a new Signer over the same file) remembers.
  const restarted = await Signer.open({ ...key, statePath });
  t.equal(await refusal(restarted.signVote('c', vote(5, 0, hashB))), 'SIGNER_DOUBLE_SIGN_REFUSED', 'after restart');
  t.equal(restarted.firstFreeRound(5), 1, 'a restart at the same height moves to the next round');
  t.equal(restarted.firstFreeRound(6), 0);
  t.equal(await refusal(restarted.signVote('c', vote(5, 1, hashB))), 'signed', 'a later round is fine');
});

t.test('a corrupt signer state stops the node instead of guessing', async (t) => {
  const statePath = join(t.testdir(), 'signer-state');
  await writeFile(statePath, 'zz not hex');
  t.equal(await refusal(Signer.open({ ...key, statePath })), 'SIGNER_STATE_CORRUPT');
});

t.test('concurrent requests for one height/round/step: exactly one message is signed', async (t) => {
  const statePath = join(t.testdir(), 'signer-state');
  const signer = await Signer.open({ ...key, statePath });
  for (let h = 1; h <= 20; h++) {
    const results = await Promise.allSettled([signer.signVote('c', vote(h, 0, hashA)), signer.signVote('c', vote(h, 0, hashB)), signer.signVote('c', vote(h, 0, hashA))]);
    const signed = results.filter((r) => r.status === 'fulfilled').map((r) => bytesToHex(r.value));
    t.equal(new Set(signed).size, 1, `height ${h}: one signature`);
    t.equal(signed.length, 2, `height ${h}: the first and the identical repeat succeed`);
    t.equal(results[1]?.status, 'rejected', `height ${h}: the conflicting message is refused`);
  }
  const restarted = await Signer.open({ ...key, statePath });
  t.same(restarted.lastSigned?.height, 20, 'the file matches the last signature');
});
