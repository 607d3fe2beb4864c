/**
 * A validator that double-signs is caught, slashed and tombstoned, on a network of four real
 * processes. Node 3 runs with the test hook TAGGER_TEST_DOUBLE_SIGN_HEIGHT: from that height on (ten
 * heights) each of its prevotes comes with a second, conflicting one signed with its key. The other nodes' engines see both votes, their
 * evidence pools turn them into free `evidence` transactions, and exactly one is committed: the
 * first slashes `slashDoubleSignBps` of the power bonded at the offence and tombstones the
 * validator; the later reports are refused at the mempool door. The three honest validators go on.
 */
import t from 'tap';
import { addressFromString, hexToBytes } from '../../lib/index.ts';
import { DEFAULT_STAKING_PARAMS, decodeStakingValidator, stakingValidatorKey } from '../../runtime/index.ts';
import { VALIDATOR_POWER } from '../../node/home.ts';
import { TestNetwork, getJson, waitFor } from './fixtures/network.ts';

const DOUBLE_SIGN_HEIGHT = 4;

type Receipt = { status: string; code: string; fee: string; events: Array<{ type: string; attributes: Record<string, string> }> };
type FullBlock = { decodedTxs?: Array<{ hash: string; kind: string }> };

t.test('a double-signing validator is slashed and tombstoned; the others go on', async (t) => {
  const net = await TestNetwork.create(t, 4);
  await Promise.all([0, 1, 2].map((i) => net.start(i)).concat(net.start(3, { TAGGER_TEST_DOUBLE_SIGN_HEIGHT: String(DOUBLE_SIGN_HEIGHT) })));
  const culprit = net.nodes[3]!.validator;

  // Find the committed evidence transactions by walking the blocks after the offence.
  const evidenceTxs: string[] = [];
  let scanned = 0;
  const scan = async (): Promise<void> => {
    const tip = await net.height(0);
    for (let h = scanned + 1; h <= tip; h++) {
      const block = await getJson<FullBlock>(`${net.url(0)}/v1/blocks/${h}?full=true`);
      for (const tx of block.decodedTxs ?? []) if (tx.kind === 'evidence') evidenceTxs.push(tx.hash);
      scanned = h;
    }
  };
  await waitFor(async () => {
    await scan();
    return evidenceTxs.length > 0;
  }, 'an evidence transaction in a block', 120_000);

  const first = await getJson<{ height: number; receipt: Receipt }>(`${net.url(1)}/v1/txs/${evidenceTxs[0]}`);
  t.equal(first.receipt.status, 'ok', 'the evidence is accepted');
  t.equal(first.receipt.fee, '0', 'evidence pays no fee');
  const slashed = first.receipt.events.find((e) => e.type === 'validator_slashed');
  t.equal(slashed?.attributes['validator'], culprit, 'the double signer is slashed');
  t.equal(slashed?.attributes['reason'], 'double_sign');
  const offence = Number(slashed?.attributes['offenceHeight']);
  t.ok(offence >= DOUBLE_SIGN_HEIGHT && offence < DOUBLE_SIGN_HEIGHT + 10, `for an offence in the hooked heights (${offence})`);
  const expected = (VALIDATOR_POWER * BigInt(DEFAULT_STAKING_PARAMS.slashDoubleSignBps)) / 10_000n;
  t.equal(slashed?.attributes['amount'], expected.toString(), `${DEFAULT_STAKING_PARAMS.slashDoubleSignBps} bps of the stake bonded at the offence`);
  t.ok(first.receipt.events.some((e) => e.type === 'validator_tombstoned' && e.attributes['validator'] === culprit), 'and tombstoned');

  // The honest three go on, and later reports of the same offence are never included.
  const after = first.height + 5;
  await net.waitHeight([0, 1, 2], after);
  await scan();
  t.equal(evidenceTxs.length, 1, `one evidence transaction up to height ${scanned}, however many nodes and offences were reported`);

  // The committed record, read through a state proof: tombstoned, jailed, the stake reduced.
  const key = stakingValidatorKey(addressFromString(culprit));
  const proof = await getJson<{ proof: { value: string | null } }>(`${net.url(2)}/v1/state/proof?key=0x${Buffer.from(key).toString('hex')}`);
  t.not(proof.proof.value, null, 'the validator record exists');
  const record = decodeStakingValidator(hexToBytes(proof.proof.value!.slice(2)));
  t.ok(record.tombstoned, 'tombstoned in state');
  t.ok(record.jailed, 'jailed in state');
  t.equal(record.tokens, VALIDATOR_POWER - expected, 'its bonded tokens lost the slash');
  t.match(await net.log(3), /TEST HOOK: sent a conflicting prevote/, 'the hook did fire on node 3');
  await waitFor(async () => /Reported a double sign/.test((await Promise.all([0, 1, 2].map((i) => net.log(i)))).join('\n')), 'an honest node logs its report');
});
