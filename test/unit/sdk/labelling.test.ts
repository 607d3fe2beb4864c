/**
 * The SDK's labelling builders: every body survives sign → encode → decode unchanged; commit roots
 * and gold proofs are what the runtime recomputes (labelLeaf, goldLeaf, verifyMerkleProof); the
 * spec parser, the fee ceiling and the item batches respect the chain's rules.
 */
import t from 'tap';
import { ONE_TAG, bytesToHex, isChainError, merkleRoot, sha256, u32ToBytes, verifyMerkleProof } from '../../../lib/index.ts';
import { decodeSignedTx, encodeTx, goldLeaf, labelLeaf, requiredFee, signTx, type LabellingBody } from '../../../runtime/index.ts';
import { DEFAULT_PARAMS } from '../../../state/index.ts';
import {
  ITEMS_PER_TX_MAX,
  SALT_BYTES,
  batchItems,
  buildAnnotatorStake,
  buildAnnotatorUnstake,
  buildDispute,
  buildGoldReveal,
  buildLabelCommit,
  buildLabelReveal,
  buildTaskAddItems,
  buildTaskCancel,
  buildTaskCreate,
  buildTaskFund,
  goldSecrets,
  goldTree,
  labelCommitRoot,
  maxFeeFor,
  parseConfidence,
  taskSpecFromInput,
  type TaskSpecInput,
} from '../../../sdk/index.ts';
import { TEST_CHAIN_ID, fixedKey } from '../../utils/factories.ts';

const key = fixedKey(7);
const FEES = { baseFee: DEFAULT_PARAMS.baseFee, perByteFee: DEFAULT_PARAMS.perByteFee, txBytesMax: DEFAULT_PARAMS.txBytesMax };

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e: unknown) {
    if (isChainError(e)) return e.code;
    throw e;
  }
}

const input: TaskSpecInput = {
  schema: 'single',
  classes: 3,
  itemCount: 10,
  answersMin: 2,
  answersMax: 4,
  rewardPerAnswer: '1.5',
  bonusPerAnswer: '0.25',
  annotatorStake: '20',
  commitWindow: 10,
  revealWindow: 11,
  challengeWindow: 12,
  confidence: '0.9',
  feePerSeat: '0.01',
  seatsPerAnnotatorMax: 5,
  metadata: 'cats and dogs',
};

/** Signs, encodes and decodes a transaction carrying `body`; returns the decoded body and the bytes. */
function roundTrip(body: LabellingBody): { decoded: unknown; bytes: Uint8Array; again: Uint8Array } {
  const signed = signTx({ chainId: TEST_CHAIN_ID, sender: key.publicKey, nonce: 3, maxFee: ONE_TAG, body }, key.secretKey);
  const decoded = decodeSignedTx(signed.bytes);
  return { decoded: decoded.tx.body, bytes: encodeTx(signed.tx), again: encodeTx(decoded.tx) };
}

t.test('every builder: encode → decode gives the same body', async (t) => {
  const gold = goldSecrets([{ item: 1, label: 2 }, { item: 4, label: 0 }, { item: 7, label: 1 }]);
  const spec = taskSpecFromInput(input, goldTree(gold).root);
  const commit = buildLabelCommit(9, 2, key.address, [{ item: 3, label: 1 }, { item: 0, label: 2 }]);
  const bodies: LabellingBody[] = [
    buildTaskCreate(spec),
    buildTaskAddItems(9, [{ contentHash: sha256(u32ToBytes(1)), uri: 'ipfs://a' }, { contentHash: sha256(u32ToBytes(2)), uri: '' }]),
    buildTaskFund(9),
    buildTaskCancel(9),
    buildAnnotatorStake(25n * ONE_TAG),
    buildAnnotatorUnstake(1n),
    commit.body,
    buildLabelReveal(9, 2, commit.entries),
    buildGoldReveal(9, gold, [2, 0]),
    buildDispute(9, 4, 10n * ONE_TAG),
  ];
  t.strictSame(bodies.map((b) => b.kind), ['taskCreate', 'taskAddItems', 'taskFund', 'taskCancel', 'annotatorStake', 'annotatorUnstake', 'labelCommit', 'labelReveal', 'goldReveal', 'dispute']);
  for (const body of bodies) {
    const { decoded, bytes, again } = roundTrip(body);
    t.same(decoded, body, `${body.kind}: same fields`);
    t.equal(bytesToHex(again), bytesToHex(bytes), `${body.kind}: same bytes`);
  }
});

t.test('a commit root is the Merkle root of the runtime leaves; salts are fresh', async (t) => {
  const labels = [{ item: 5, label: 1 }, { item: 2, label: 0 }, { item: 9, label: 3 }];
  const a = buildLabelCommit(4, 1, key.address, labels);
  const b = buildLabelCommit(4, 1, key.address, labels);
  if (a.body.kind !== 'labelCommit' || b.body.kind !== 'labelCommit') throw new Error('not a commit');
  const leaves = a.entries.map((e) => labelLeaf(4, 1, key.address, e));
  t.equal(bytesToHex(a.body.root), bytesToHex(merkleRoot(leaves)), 'root over labelLeaf in entry order');
  t.equal(bytesToHex(labelCommitRoot(4, 1, key.address, a.entries)), bytesToHex(a.body.root));
  t.equal(a.body.count, 3);
  t.strictSame(a.entries.map((e) => [e.item, e.label]), labels.map((l) => [l.item, l.label]), 'entries keep the order given');
  t.ok(a.entries.every((e) => e.salt.length === SALT_BYTES), '32-byte salts');
  t.equal(new Set(a.entries.map((e) => bytesToHex(e.salt))).size, 3, 'salts differ between entries');
  t.not(bytesToHex(a.body.root), bytesToHex(b.body.root), 'the same labels committed twice give different roots');
  t.not(bytesToHex(labelCommitRoot(4, 1, fixedKey(8).address, a.entries)), bytesToHex(a.body.root), 'the root binds the annotator');
  t.not(bytesToHex(labelCommitRoot(4, 2, key.address, a.entries)), bytesToHex(a.body.root), 'and the round');

  t.equal(codeOf(() => buildLabelCommit(4, 1, key.address, [])), 'LABELLING_BAD_INPUT', 'no labels');
  t.equal(codeOf(() => buildLabelCommit(4, 1, key.address, [{ item: 1, label: 0 }, { item: 1, label: 1 }])), 'LABELLING_BAD_INPUT', 'an item twice');
  t.equal(codeOf(() => buildLabelCommit(4, 1, key.address, [{ item: -1, label: 0 }])), 'LABELLING_BAD_INPUT', 'a negative item');
  t.equal(codeOf(() => buildLabelCommit(4, 1, key.address, [{ item: 1, label: 0.5 }])), 'LABELLING_BAD_INPUT', 'a fractional label');
});

t.test('gold tree: every proof verifies against the root with goldLeaf', async (t) => {
  const gold = goldSecrets([0, 3, 4, 8, 11].map((item) => ({ item, label: item % 3 })));
  const { root, proofs } = goldTree(gold);
  gold.forEach((g, i) => {
    t.ok(verifyMerkleProof(root, goldLeaf(g.item, g.label, g.salt), i, gold.length, proofs[i] ?? []), `entry ${i}`);
    t.notOk(verifyMerkleProof(root, goldLeaf(g.item, g.label + 1, g.salt), i, gold.length, proofs[i] ?? []), `entry ${i} with another label`);
  });
  const reveal = buildGoldReveal(3, gold, [4, 1]);
  if (reveal.kind !== 'goldReveal') throw new Error('not a gold reveal');
  t.equal(reveal.goldCount, 5);
  t.strictSame(reveal.entries.map((e) => [e.item, e.index]), [[11, 4], [3, 1]]);
  for (const e of reveal.entries) t.ok(verifyMerkleProof(root, goldLeaf(e.item, e.label, e.salt), e.index, reveal.goldCount, e.proof));
  t.equal(codeOf(() => buildGoldReveal(3, gold, [5])), 'LABELLING_BAD_INPUT', 'a position past the list');
  t.equal(codeOf(() => goldTree([])), 'LABELLING_BAD_INPUT');
  t.equal(codeOf(() => goldSecrets([{ item: 1, label: 0 }, { item: 1, label: 1 }])), 'LABELLING_BAD_INPUT', 'an item twice');
});

t.test('task spec from human units', async (t) => {
  const spec = taskSpecFromInput(input, null);
  t.match(spec, {
    schema: 0,
    classes: 3,
    rewardPerAnswer: 15n * ONE_TAG / 10n,
    bonusPerAnswer: ONE_TAG / 4n,
    annotatorStake: 20n * ONE_TAG,
    feePerSeat: ONE_TAG / 100n,
    confidenceQ16: 58_982,
    metadata: 'cats and dogs',
  });
  t.equal(bytesToHex(spec.goldRoot), '00'.repeat(32), 'no gold: a zero root');
  const noBonus: TaskSpecInput = { ...input };
  delete noBonus.bonusPerAnswer;
  t.equal(taskSpecFromInput(noBonus, null).bonusPerAnswer, 0n, 'bonus defaults to 0');
  t.equal(taskSpecFromInput({ ...input, schema: 'multi', classes: 16 }, null).schema, 1);

  for (const [what, bad] of [
    ['schema', { schema: 'pick' }],
    ['classes', { classes: 1 }],
    ['multi-label classes', { schema: 'multi', classes: 17 }],
    ['amount as a number', { rewardPerAnswer: 1 }],
    ['window', { commitWindow: 1.5 }],
    ['confidence', { confidence: '0.4' }],
    ['metadata', { metadata: 'x'.repeat(513) }],
  ] as const) {
    t.not(codeOf(() => taskSpecFromInput({ ...input, ...bad } as unknown as TaskSpecInput, null)), 'ok', what);
  }
  t.equal(codeOf(() => taskSpecFromInput({ ...input, rewardPerAnswer: '1.x' }, null)), 'AMOUNT_INVALID');
});

t.test('parseConfidence', async (t) => {
  const cases: Array<[string | number, number]> = [['0.9', 58_982], [0.9, 58_982], ['0.5', 32_768], ['1', 65_536], ['1.0', 65_536], ['0.75', 49_152], ['0.95', 62_259]];
  for (const [text, q] of cases) t.equal(parseConfidence(text), q, String(text));
  for (const bad of ['0.49', '1.01', '2', '-0.9', '.9', 'abc', '0.9x', 1.5]) t.equal(codeOf(() => parseConfidence(bad)), 'LABELLING_BAD_INPUT', String(bad));
});

t.test('maxFeeFor covers the fee of the signed transaction', async (t) => {
  const commit = buildLabelCommit(1, 0, key.address, Array.from({ length: 500 }, (_, i) => ({ item: i, label: i % 2 })));
  const bodies = [buildTaskFund(1), commit.body, buildLabelReveal(1, 0, commit.entries)];
  for (const body of bodies) {
    const maxFee = maxFeeFor(TEST_CHAIN_ID, body, FEES);
    const signed = signTx({ chainId: TEST_CHAIN_ID, sender: key.publicKey, nonce: 4_000_000_000, maxFee, body }, key.secretKey);
    const fee = requiredFee(DEFAULT_PARAMS, signed.bytes.length);
    t.ok(maxFee >= fee, `${body.kind}: ${maxFee} ≥ ${fee}`);
    t.ok(maxFee - fee <= DEFAULT_PARAMS.perByteFee * 200n, `${body.kind}: a tight ceiling`);
  }
});

t.test('batchItems: ≤ 2000 items and ≤ txBytesMax per transaction, order kept', async (t) => {
  const short = Array.from({ length: 4_500 }, (_, i) => ({ contentHash: sha256(u32ToBytes(i)), uri: `u${i}` }));
  const long = Array.from({ length: 3_000 }, (_, i) => ({ contentHash: sha256(u32ToBytes(i)), uri: `ipfs://${String(i).padStart(240, '0')}` }));
  for (const [name, items] of [['short uris', short], ['long uris', long]] as const) {
    const batches = batchItems(items, FEES.txBytesMax);
    t.strictSame(batches.flat(), items, `${name}: every item once, in order`);
    for (const [i, batch] of batches.entries()) {
      t.ok(batch.length >= 1 && batch.length <= ITEMS_PER_TX_MAX, `${name}: batch ${i} has ${batch.length} items`);
      const body = buildTaskAddItems(1, batch);
      const signed = signTx({ chainId: TEST_CHAIN_ID, sender: key.publicKey, nonce: 4_000_000_000, maxFee: maxFeeFor(TEST_CHAIN_ID, body, FEES), body }, key.secretKey);
      t.ok(signed.bytes.length <= FEES.txBytesMax, `${name}: batch ${i} is ${signed.bytes.length} bytes`);
    }
  }
  t.equal(batchItems(short, FEES.txBytesMax).length, 3, 'short items: limited by count');
  t.ok(batchItems(long, FEES.txBytesMax).length > 5, 'long items: limited by bytes');
  t.strictSame(batchItems([], FEES.txBytesMax), []);
  t.equal(codeOf(() => buildTaskAddItems(1, [{ contentHash: new Uint8Array(31), uri: 'x' }])), 'LABELLING_BAD_INPUT', 'a short content hash');
  t.equal(codeOf(() => buildTaskAddItems(1, [{ contentHash: new Uint8Array(32), uri: 'x'.repeat(257) }])), 'LABELLING_BAD_INPUT', 'a long uri');
  t.equal(codeOf(() => buildAnnotatorStake(0n)), 'LABELLING_BAD_INPUT', 'a zero stake');
});
