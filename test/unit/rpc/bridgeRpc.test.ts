/**
 * The bridge read endpoints over a chain driven by the real runtime (test/unit/bridge/harness.ts:
 * validators with bridge keys, deposits attested and minted, withdrawals burnt, checkpoints closed
 * and signed). Each answer is compared with what the runtime's loaders read from the same state;
 * the withdrawal proof is checked against the checkpoint's withdrawals root recomputed from the
 * leaves; then pages, bounds, 404s and 400s, and the optional BNB Chain lookup.
 */
import t from 'tap';
import type { Test } from 'tap';
import {
  addressToString,
  bytesToHex,
  hexToBytes,
  sha256,
  u32ToBytes,
  verifyWithdrawalProof,
  withdrawalLeaf,
  withdrawalNode,
  withdrawalsRoot,
} from '../../../lib/index.ts';
import { loadBridgeGlobals, loadBridgeParams, loadBridgeSet, loadWithdrawal } from '../../../runtime/index.ts';
import type { StateReader } from '../../../state/index.ts';
import type {
  BridgeStatusJson,
  CheckpointReplyJson,
  CheckpointsPageJson,
  DepositReplyJson,
  DepositsPageJson,
  RpcDeps,
  WithdrawalReplyJson,
  WithdrawalsPageJson,
} from '../../../rpc/index.ts';
import { BridgeChain, TAG } from '../bridge/harness.ts';
import { errorOf, serve } from './helpers.ts';

const h = (b: Uint8Array): string => '0x' + bytesToHex(b);
const EVM_A = new Uint8Array(20).fill(0xa1);
const EVM_B = new Uint8Array(20).fill(0xb2);

async function setup(t: Test, reader: () => { height: number; reader: StateReader }, extra: Partial<RpcDeps> = {}) {
  const { app } = await serve(t, { state: reader, ...extra });
  const get = async <T>(url: string): Promise<T> => {
    const res = await app.inject({ url });
    t.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 300)}`);
    return res.json<T>();
  };
  const fail = async (url: string): Promise<[number, string]> => {
    const res = await app.inject({ url });
    return [res.statusCode, res.statusCode === 200 ? '' : errorOf(res).code];
  };
  return { app, get, fail };
}

/** Recomputes the root from a leaf and its siblings, as the contract does. */
function rootFrom(leaf: Uint8Array, index: number, siblings: readonly Uint8Array[]): Uint8Array {
  let node = leaf;
  let i = index;
  for (const s of siblings) {
    node = (i & 1) === 0 ? withdrawalNode(node, s) : withdrawalNode(s, node);
    i >>= 1;
  }
  return node;
}

t.test('deposits, withdrawals with proofs and checkpoints are what the state holds', async (t) => {
  const c = new BridgeChain({ validators: 3 });
  const { get, fail } = await setup(t, () => ({ height: c.height, reader: c.state }));
  const user = addressToString(c.user.address);
  c.registerAll();

  const status0 = await get<BridgeStatusJson>('/v1/bridge');
  const p = loadBridgeParams(c.state);
  t.strictSame(status0.params, {
    checkpointInterval: 5,
    withdrawalsPerCheckpointMax: 8,
    withdrawalsPendingMax: 64,
    depositsAheadMax: 16,
    withdrawalAmountMax: '0',
    bnbChainId: 97,
    bridgeContract: h(p.bridgeContract),
  });
  t.match(status0, { height: c.height, enabled: true, signingSet: { id: 0, signers: [], powers: [] } });
  t.strictSame(status0.globals, { nextDepositNonce: 1, nextWithdrawalNonce: 1, checkpointedNonce: 0, withdrawalsPending: 0, lastCheckpoint: 0, lastEndBlock: 0, bridgedSupply: '0' });

  // Deposit 2 reaches quorum first: ready, waiting for 1; 1 is attested by one validator of three.
  t.strictSame(await fail('/v1/bridge/deposits/1'), [404, 'BRIDGE_DEPOSIT_NOT_FOUND'], 'not attested yet');
  c.attest([0, 1, 2], c.depositBody(2, c.user.address, 7n * TAG));
  c.attest([0], c.depositBody(1, c.user.address, 50n * TAG, 3));
  const d1 = await get<DepositReplyJson>('/v1/bridge/deposits/1');
  t.strictSame(d1, {
    height: c.height,
    nonce: 1,
    status: 'pending',
    recipient: user,
    amount: (50n * TAG).toString(),
    bnbTxHash: h(sha256(u32ToBytes(1))),
    logIndex: 3,
    attesters: [addressToString(c.validatorKeys[0]!.address)],
  });
  t.match(await get<DepositReplyJson>('/v1/bridge/deposits/2'), { status: 'ready', attesters: { length: 3 } });
  const pending = await get<DepositsPageJson>('/v1/bridge/deposits');
  t.strictSame(pending.deposits.map((d) => [d.nonce, d.status]), [[1, 'pending'], [2, 'ready']]);
  t.equal(pending.nextFrom, null, 'scanned up to nextDepositNonce + depositsAheadMax');
  t.strictSame((await get<DepositsPageJson>('/v1/bridge/deposits?limit=1')).nextFrom, 2);

  c.attest([1, 2], c.depositBody(1, c.user.address, 50n * TAG, 3));
  t.equal(loadBridgeGlobals(c.state).nextDepositNonce, 3, 'both minted');
  t.strictSame(await get<DepositReplyJson>('/v1/bridge/deposits/2'), {
    height: c.height, nonce: 2, status: 'minted', recipient: null, amount: null, bnbTxHash: null, logIndex: null, attesters: null,
  });
  const all = await get<DepositsPageJson>('/v1/bridge/deposits?from=1');
  t.strictSame(all.deposits.map((d) => [d.nonce, d.status]), [[1, 'minted'], [2, 'minted']]);
  t.strictSame(await fail('/v1/bridge/deposits/0'), [404, 'BRIDGE_DEPOSIT_NOT_FOUND']);
  t.strictSame(await fail('/v1/bridge/deposits/3'), [404, 'BRIDGE_DEPOSIT_NOT_FOUND']);

  // Checkpoint 1 closed at height 5 with no withdrawals; three withdrawals, then checkpoint 2 (height 10) takes them.
  t.equal(c.height, 5);
  t.match(await get<CheckpointReplyJson>('/v1/bridge/checkpoints/1'), { number: 1, withdrawalCount: 0, firstWithdrawalNonce: 1, withdrawalsRoot: h(new Uint8Array(32)) });
  for (const [to, amount] of [[EVM_A, 1n], [EVM_B, 2n], [EVM_A, 3n]] as const) t.equal(c.send(c.user, { kind: 'withdraw', recipient: to, amount: amount * TAG }).code, '');
  const w1 = await get<WithdrawalReplyJson>('/v1/bridge/withdrawals/1');
  t.strictSame(w1, {
    height: c.height,
    nonce: 1,
    sender: user,
    recipient: h(EVM_A),
    amount: TAG.toString(),
    burnHeight: 6,
    status: 'pending',
    checkpoint: null,
    index: null,
    proof: null,
    bnb: null,
  });
  t.match(await get<BridgeStatusJson>('/v1/bridge'), { globals: { nextWithdrawalNonce: 4, withdrawalsPending: 3, lastCheckpoint: 1, bridgedSupply: (51n * TAG).toString() } });

  c.advanceTo(10);
  const record = c.checkpoint(2);
  t.equal(record.withdrawalCount, 3);
  for (let nonce = 1; nonce <= 3; nonce++) {
    const w = await get<WithdrawalReplyJson>(`/v1/bridge/withdrawals/${nonce}`);
    t.match(w, { status: 'checkpointed', checkpoint: 2, index: nonce - 1 });
    const proof = w.proof!;
    const stored = loadWithdrawal(c.state, nonce)!;
    const leaf = withdrawalLeaf({ nonce: BigInt(nonce), sender: stored.sender, recipient: stored.recipient, amount: stored.amount });
    t.equal(proof.leaf, h(leaf), `leaf ${nonce} recomputed from the record`);
    t.equal(h(rootFrom(leaf, proof.index, proof.siblings.map(hexToBytes))), h(record.withdrawalsRoot), `proof ${nonce} reaches the checkpoint's root`);
    t.ok(verifyWithdrawalProof(record.withdrawalsRoot, record.withdrawalCount, leaf, proof.index, proof.siblings.map(hexToBytes)));
    t.strictSame([proof.checkpoint, proof.withdrawalCount, proof.withdrawalsRoot], [2, 3, h(record.withdrawalsRoot)]);
  }
  const leaves = [1, 2, 3].map((n) => {
    const w = loadWithdrawal(c.state, n)!;
    return withdrawalLeaf({ nonce: BigInt(n), sender: w.sender, recipient: w.recipient, amount: w.amount });
  });
  t.equal(h(withdrawalsRoot(leaves)), h(record.withdrawalsRoot), 'the runtime root is the root of the records');

  const cp2 = await get<CheckpointReplyJson>('/v1/bridge/checkpoints/2');
  t.match(cp2, {
    number: 2,
    startBlock: 6,
    endBlock: 10,
    withdrawalCount: 3,
    firstWithdrawalNonce: 1,
    nextValidatorSetId: 1,
    digest: h(record.digest),
    signingSet: { id: 1, signers: record.signingSet.signers.map(h), powers: record.signingSet.powers.map(String) },
    signed: false,
    signedPower: '0',
    signatures: [],
    nextSet: null,
    bnb: null,
  });

  // Signatures by two of three: not signed yet; by the third: signed; stored ones served ascending.
  c.block([0, 1].map((i) => c.tx(c.validatorKeys[i]!, c.signBody(2, record.digest, i))));
  t.match(await get<CheckpointReplyJson>('/v1/bridge/checkpoints/2'), { signed: false, signatures: { length: 2 } });
  c.block([c.tx(c.validatorKeys[2]!, c.signBody(2, record.digest, 2))]);
  const signed = await get<CheckpointReplyJson>('/v1/bridge/checkpoints/2');
  t.equal(signed.signed, true);
  t.equal(signed.signedPower, record.signingSet.powers.reduce((a, b) => a + b, 0n).toString());
  t.strictSame(signed.signatures.map((s) => s.signer), record.signingSet.signers.map(h), 'one per signer, in set order (ascending)');
  t.ok(signed.signatures.every((s) => /^0x[0-9a-f]{130}$/.test(s.signature)));
  t.equal((await get<WithdrawalReplyJson>('/v1/bridge/withdrawals/2')).status, 'signed');

  // Validator 0 changes its bridge key: checkpoint 3 (height 15) rotates to set 2.
  c.block([c.tx(c.validatorKeys[0]!, c.keyRegisterBody(c.validatorKeys[0]!, sha256(u32ToBytes(8000))))]);
  t.equal(c.send(c.user, { kind: 'withdraw', recipient: EVM_B, amount: 4n * TAG }).code, '');
  c.advanceTo(15);
  const cp3 = await get<CheckpointReplyJson>('/v1/bridge/checkpoints/3');
  t.match(cp3, { number: 3, startBlock: 11, endBlock: 15, nextValidatorSetId: 2, signingSet: { id: 1 }, withdrawalCount: 1, firstWithdrawalNonce: 4 });
  const set2 = loadBridgeSet(c.state);
  t.strictSame(cp3.nextSet, { id: 2, signers: set2.signers.map(h), powers: set2.powers.map(String) }, 'no checkpoint 4 yet: the current set');
  c.advanceTo(20);
  const cp4 = await get<CheckpointReplyJson>('/v1/bridge/checkpoints/4');
  t.strictSame((await get<CheckpointReplyJson>('/v1/bridge/checkpoints/3')).nextSet, cp4.signingSet, 'checkpoint 4\'s signing set');
  t.equal(cp4.signingSet.id, 2);
  t.match(await get<WithdrawalReplyJson>('/v1/bridge/withdrawals/4'), { checkpoint: 3, index: 0, proof: { checkpoint: 3, index: 0, siblings: [] } });

  // Pages.
  const wPage = await get<WithdrawalsPageJson>('/v1/bridge/withdrawals?limit=3');
  t.strictSame(wPage.withdrawals.map((w) => [w.nonce, w.checkpoint, w.index]), [[1, 2, 0], [2, 2, 1], [3, 2, 2]]);
  t.equal(wPage.nextFrom, 4);
  const wRest = await get<WithdrawalsPageJson>('/v1/bridge/withdrawals?from=4');
  t.strictSame(wRest.withdrawals.map((w) => [w.nonce, w.checkpoint]), [[4, 3]]);
  t.equal(wRest.nextFrom, null);
  t.strictSame((await get<WithdrawalsPageJson>('/v1/bridge/withdrawals?from=99')).withdrawals, []);
  const cPage = await get<CheckpointsPageJson>('/v1/bridge/checkpoints?from=2&limit=1');
  t.strictSame([cPage.checkpoints.map((x) => x.number), cPage.nextFrom], [[2], 3]);
  const cAll = await get<CheckpointsPageJson>('/v1/bridge/checkpoints');
  t.strictSame([cAll.checkpoints.map((x) => x.number), cAll.nextFrom], [[1, 2, 3, 4], null]);
  t.strictSame(cAll.checkpoints[1]!.signatures, signed.signatures);

  // Errors.
  t.strictSame(await fail('/v1/bridge/withdrawals/0'), [404, 'BRIDGE_WITHDRAWAL_NOT_FOUND']);
  t.strictSame(await fail('/v1/bridge/withdrawals/5'), [404, 'BRIDGE_WITHDRAWAL_NOT_FOUND']);
  t.strictSame(await fail('/v1/bridge/checkpoints/5'), [404, 'BRIDGE_CHECKPOINT_NOT_FOUND']);
  t.strictSame(await fail('/v1/bridge/checkpoints/0'), [404, 'BRIDGE_CHECKPOINT_NOT_FOUND']);
  for (const url of [
    '/v1/bridge/withdrawals/x',
    '/v1/bridge/withdrawals/-1',
    '/v1/bridge/withdrawals/4294967296',
    '/v1/bridge/checkpoints/01',
    '/v1/bridge/deposits?limit=101',
    '/v1/bridge/deposits?limit=0',
    '/v1/bridge/withdrawals?from=abc',
    '/v1/bridge/checkpoints?from=4294967296',
    '/v1/bridge/checkpoints?cursor=1',
  ]) {
    t.strictSame(await fail(url), [400, 'RPC_INVALID_REQUEST'], url);
  }
});

t.test('a chain without bridge parameters says the bridge is off', async (t) => {
  const c = new BridgeChain({ bridgeOff: true });
  const { get } = await setup(t, () => ({ height: c.height, reader: c.state }));
  t.match(await get<BridgeStatusJson>('/v1/bridge'), { enabled: false, params: { checkpointInterval: 0 }, globals: { bridgedSupply: '0' } });
  t.strictSame((await get<CheckpointsPageJson>('/v1/bridge/checkpoints')).checkpoints, []);
});

t.test('BNB Chain transaction hashes come from the lookup, asked only once a checkpoint is signed', async (t) => {
  const c = new BridgeChain({ validators: 3 });
  c.registerAll();
  c.attest([0, 1, 2], c.depositBody(1, c.user.address, 10n * TAG));
  c.send(c.user, { kind: 'withdraw', recipient: EVM_A, amount: TAG });
  c.send(c.user, { kind: 'withdraw', recipient: EVM_A, amount: TAG });
  c.advanceTo(5);
  const asked: string[] = [];
  const releaseHash = h(new Uint8Array(32).fill(0x11));
  const { get } = await setup(t, () => ({ height: c.height, reader: c.state }), {
    bnb: {
      releaseTx: async (nonce) => {
        asked.push(`release:${nonce}`);
        return nonce === 1 ? releaseHash : null;
      },
      checkpointTx: async (number) => {
        asked.push(`checkpoint:${number}`);
        throw new Error('BNB RPC timed out');
      },
    },
  });
  t.strictSame((await get<WithdrawalReplyJson>('/v1/bridge/withdrawals/1')).bnb, { txHash: null, error: null }, 'checkpoint not signed: not asked');
  t.strictSame((await get<CheckpointReplyJson>('/v1/bridge/checkpoints/1')).bnb, { txHash: null, error: null });
  t.strictSame(asked, []);
  const digest = c.checkpoint(1).digest;
  c.block([0, 1, 2].map((i) => c.tx(c.validatorKeys[i]!, c.signBody(1, digest, i))));
  t.strictSame((await get<WithdrawalReplyJson>('/v1/bridge/withdrawals/1')).bnb, { txHash: releaseHash, error: null });
  t.strictSame((await get<WithdrawalReplyJson>('/v1/bridge/withdrawals/2')).bnb, { txHash: null, error: null });
  t.strictSame((await get<CheckpointReplyJson>('/v1/bridge/checkpoints/1')).bnb, { txHash: null, error: 'BNB RPC timed out' }, 'a failed lookup does not fail the reply');
  t.strictSame(asked, ['release:1', 'release:2', 'checkpoint:1']);
});
