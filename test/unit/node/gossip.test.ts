/**
 * The node's side of gossip: the envelope that lets resends through gossipsub's de-duplication,
 * the GossipPort publishing, and the verdicts of the gossip validator per topic.
 */
import t from 'tap';
import { compareBytes, nullLogger, ONE_TAG } from '../../../lib/index.ts';
import {
  VOTE_TYPE,
  decodeVoteMessage,
  encodeEvidence,
  encodeVoteMessage,
  signVote,
  type ConsensusMessage,
  type ReceiveResult,
  type Vote,
  type VoteMessage,
  type VotingValidator,
  ConsensusMessageError,
} from '../../../consensus/index.ts';
import {
  ConsensusGossip,
  EvidencePool,
  TX_BATCH_BYTES_MAX,
  TX_BATCH_DELAY_MS,
  TX_BATCH_MAX,
  TX_BATCH_MESSAGE_BYTES_MAX,
  TX_BATCHES_IN_CHECK_MAX,
  TX_CHECK_SLICE,
  createGossipValidator,
  decodeTxBatch,
  encodeTxBatch,
  openEnvelope,
  sealEnvelope,
} from '../../../node/gossip.ts';
import { TxError } from '../../../runtime/index.ts';
import { MempoolError } from '../../../node/mempool.ts';
import type { TopicKind } from '../../../node/index.ts';
import { fixedKey, signedTransfer, TEST_CHAIN_ID } from '../../utils/factories.ts';

const vals = [0x51, 0x52, 0x53, 0x54].map(fixedKey).sort((a, b) => compareBytes(a.address, b.address));
const set: VotingValidator[] = vals.map((k) => ({ address: k.address, publicKey: k.publicKey, power: 1n }));

function vote(k: (typeof vals)[number], height: number, blockByte: number): VoteMessage {
  const v: Vote = { type: VOTE_TYPE.prevote, height, round: 0, blockHash: new Uint8Array(32).fill(blockByte), validator: k.address };
  return { vote: v, signature: signVote(TEST_CHAIN_ID, v, k.secretKey) };
}

t.test('an envelope wraps a message with a fresh nonce; two seals of one message differ', async (t) => {
  const message = encodeVoteMessage(vote(vals[0]!, 1, 1));
  const a = sealEnvelope(message);
  const b = sealEnvelope(message);
  t.not(Buffer.from(a).toString('hex'), Buffer.from(b).toString('hex'), 'resends are new gossip messages');
  t.same(openEnvelope(a), message);
  t.same(decodeVoteMessage(openEnvelope(b)), decodeVoteMessage(message));
  t.throws(() => openEnvelope(new Uint8Array(8)), { code: 'GOSSIP_BAD_ENVELOPE' });
});

t.test('ConsensusGossip publishes each broadcast on its topic, enveloped; transactions as they are', async (t) => {
  const sent: Array<{ kind: TopicKind; data: Uint8Array }> = [];
  const gossip = new ConsensusGossip({ publish: async (kind, data) => (sent.push({ kind, data }), 3) }, nullLogger);
  const m = vote(vals[1]!, 2, 2);
  gossip.broadcastVote(m);
  gossip.broadcastVote(m);
  gossip.broadcastEvidence({ first: vote(vals[1]!, 2, 2), second: vote(vals[1]!, 2, 3) });
  t.same(sent.map((s) => s.kind), ['vote', 'vote', 'evidence']);
  t.same(decodeVoteMessage(openEnvelope(sent[0]!.data)), m);
  t.not(Buffer.from(sent[0]!.data).toString('hex'), Buffer.from(sent[1]!.data).toString('hex'), 'the resend differs on the wire');

  const txs = Array.from({ length: TX_BATCH_MAX + 3 }, (_, i) => signedTransfer(vals[0]!, i, vals[1]!.address, ONE_TAG).bytes);
  for (const tx of txs) gossip.broadcastTx(tx);
  t.equal(sent.length, 4, 'a full batch goes at once');
  t.same(decodeTxBatch(sent[3]!.data), txs.slice(0, TX_BATCH_MAX));
  await new Promise((r) => setTimeout(r, TX_BATCH_DELAY_MS * 3));
  t.equal(sent.length, 5, 'the rest after the batching delay');
  t.same(decodeTxBatch(sent[4]!.data), txs.slice(TX_BATCH_MAX));
  gossip.broadcastTx(Uint8Array.of(1));
  gossip.broadcastTx(new Uint8Array(TX_BATCH_BYTES_MAX));
  t.equal(sent.length, 7, 'a transaction that does not fit sends the batch before it, and goes alone');
  gossip.flushTxs();
  t.same(sent.slice(5).map((s) => decodeTxBatch(s.data).length), [1, 1]);
  t.ok(sent.every((s) => s.kind !== 'tx' || s.data.length <= TX_BATCH_MESSAGE_BYTES_MAX), 'every batch fits the topic limit');

  const failing = new ConsensusGossip({ publish: async () => Promise.reject(new Error('no peers')) }, nullLogger);
  failing.broadcastVote(m);
  await new Promise((r) => setImmediate(r));
  t.pass('a failed publish is logged, not thrown');
});

t.test('the gossip validator: engine verdicts, mempool verdicts, evidence checks', async (t) => {
  const received: ConsensusMessage[] = [];
  let next: ReceiveResult = { status: 'accepted' };
  const behind: number[] = [];
  let addResult: () => { duplicate: boolean } = () => ({ duplicate: false });
  const evidence = new EvidencePool(2);
  const validate = createGossipValidator({
    chainId: TEST_CHAIN_ID,
    mempool: { add: () => addResult() as never },
    engine: { receive: (m) => (received.push(m), next) },
    evidence,
    validators: () => set,
    onBehind: (h) => behind.push(h),
    log: nullLogger,
  });
  const m = vote(vals[0]!, 5, 1);
  const wire = sealEnvelope(encodeVoteMessage(m));
  t.equal(validate('vote', wire, 'peerA'), 'accept');
  t.same(received[0], { kind: 'vote', ...m }, 'the engine gets the decoded vote');
  next = { status: 'ignored', reason: 'DUPLICATE' };
  t.equal(validate('vote', wire, 'peerA'), 'ignore');
  next = { status: 'rejected', error: new ConsensusMessageError({ code: 'CONSENSUS_BAD_SIGNATURE', validator: '', height: 5, round: 0 }) };
  t.equal(validate('vote', wire, 'peerA'), 'reject', 'a bad signature is rejected (the network scores the sender)');
  next = { status: 'ignored', reason: 'FUTURE_TOO_FAR' };
  t.equal(validate('vote', wire, 'peerA'), 'ignore');
  t.same(behind, [5], 'gossip beyond the buffer says the node is behind');
  t.throws(() => validate('vote', sealEnvelope(Uint8Array.of(1, 2, 3)), 'peerA'), { name: 'CodecError' }, 'garbage throws a ChainError: the network rejects it');
  t.throws(() => validate('proposal', Uint8Array.of(1), 'peerA'), { code: 'GOSSIP_BAD_ENVELOPE' });

  const batch = encodeTxBatch([signedTransfer(vals[0]!, 0, vals[1]!.address, ONE_TAG).bytes, signedTransfer(vals[0]!, 1, vals[1]!.address, ONE_TAG).bytes]);
  const tx = batch;
  t.equal(await validate('tx', batch, 'p'), 'accept');
  addResult = () => ({ duplicate: true });
  t.equal(await validate('tx', batch, 'p'), 'ignore', 'transactions the pool holds are not relayed again');
  let calls = 0;
  addResult = () => ({ duplicate: calls++ === 0 });
  t.equal(await validate('tx', batch, 'p'), 'accept', 'one new transaction is enough to relay the batch');
  addResult = () => {
    throw new MempoolError({ code: 'MEMPOOL_NONCE_TOO_LOW', expected: 1, actual: 0 });
  };
  t.equal(await validate('tx', batch, 'p'), 'ignore', 'stale for this node is not the relayer’s fault');
  calls = 0;
  addResult = () => {
    if (calls++ === 0) return { duplicate: false };
    throw new TxError({ code: 'TX_BAD_SIGNATURE', detail: '' });
  };
  t.equal(await validate('tx', batch, 'p'), 'reject', 'one forged transaction rejects the batch');
  t.throws(() => validate('tx', Uint8Array.of(0x92, 1, 2), 'p'), { name: 'CodecError' }, 'a batch that does not decode');
  addResult = () => ({ duplicate: false });
  const big = encodeTxBatch(Array.from({ length: TX_CHECK_SLICE * 2 }, (_, i) => signedTransfer(vals[0]!, i, vals[1]!.address, ONE_TAG).bytes));
  const inCheck = Array.from({ length: TX_BATCHES_IN_CHECK_MAX }, () => Promise.resolve(validate('tx', big, 'p')));
  t.equal(validate('tx', big, 'p'), 'ignore', 'past the bound on batches in check, a batch is ignored at once');
  t.same(await Promise.all(inCheck), inCheck.map(() => 'accept'), 'the others complete, yielding to the event loop between slices');
  t.equal(await validate('tx', big, 'p'), 'accept', 'and the bound frees up');
  const real = createGossipValidator({
    chainId: TEST_CHAIN_ID,
    mempool: { add: () => { throw new MempoolError({ code: 'MEMPOOL_FULL', txs: 1, bytes: 1 }); } },
    engine: { receive: () => next },
    evidence,
    validators: () => set,
    onBehind: () => undefined,
    log: nullLogger,
  });
  t.equal(await real('tx', tx, 'p'), 'ignore', 'a full pool ignores');

  const first = vote(vals[2]!, 3, 1);
  const second = vote(vals[2]!, 3, 2);
  t.equal(validate('evidence', sealEnvelope(encodeEvidence({ first, second })), 'p'), 'accept', 'valid evidence is relayed');
  t.equal(validate('evidence', sealEnvelope(encodeEvidence({ first, second })), 'p'), 'ignore', 'once');
  t.equal(evidence.size, 1);
  const forged = { ...second, signature: new Uint8Array(64).fill(7) };
  t.equal(validate('evidence', sealEnvelope(encodeEvidence({ first: vote(vals[3]!, 3, 1), second: { ...forged, vote: { ...forged.vote, validator: vals[3]!.address } } })), 'p'), 'reject', 'a forged signature is rejected');
  t.equal(validate('evidence', sealEnvelope(encodeEvidence({ first, second: first })), 'p'), 'reject', 'the same vote twice is no evidence');
  const stranger = fixedKey(0x99);
  t.equal(validate('evidence', sealEnvelope(encodeEvidence({ first: vote(stranger, 3, 1), second: vote(stranger, 3, 2) })), 'p'), 'ignore', 'a key outside the set cannot be judged here');
});
