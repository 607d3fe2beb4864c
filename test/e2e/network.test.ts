/**
 * Four validator processes on 127.0.0.1: they commit blocks and agree on every hash; a transfer
 * sent to one is committed and visible on all; after kill -9 of one the others go on; the killed
 * one, restarted, catches up by block sync; a full node that joins late syncs from genesis.
 */
import t from 'tap';
import { ONE_TAG, addressFromString, addressToString } from '../../lib/index.ts';
import { Keyring, TaggerClient, buildTransfer, buildTx, signTx } from '../../sdk/index.ts';
import { homePaths } from '../../node/index.ts';
import { DEV_PASSWORD, TestNetwork, getJson, waitFor } from './fixtures/network.ts';

const ALL = [0, 1, 2, 3];

t.test('four validators: agreement, a transfer, a crash, catch-up by sync, a late full node', async (t) => {
  const net = await TestNetwork.create(t, 4);
  await net.startAll();
  await net.waitHeight(ALL, 3);
  const hashes = await net.distinctHashes(ALL, 3);
  for (const [h, set] of hashes) t.equal(set.size, 1, `one block at height ${h} on all four`);

  // A transfer submitted to node 1, signed by node 0's funded key.
  const keyring = new Keyring({ dir: homePaths(net.nodes[0]!.home).keyring });
  const secret = await keyring.unlock('dev', DEV_PASSWORD);
  const to = addressFromString(net.nodes[2]!.devAddress);
  const before = BigInt((await getJson<{ balance: string }>(`${net.url(3)}/v1/accounts/${addressToString(to)}`)).balance);
  const status = await net.status(1);
  const signed = signTx(buildTx(secret, buildTransfer(to, 5n * ONE_TAG), { chainId: status.chainId, nonce: 0 }), secret);
  const client = new TaggerClient({ url: net.url(1) });
  await client.submitTx(signed.bytes);
  const committed = await client.waitForTx(signed.hash, { timeoutMs: 60_000, pollMs: 250 });
  t.equal(committed.receipt.status, 'ok', 'the transfer is committed');
  for (const i of ALL) {
    await net.waitHeight([i], committed.height);
    const seen = await new TaggerClient({ url: net.url(i) }).tx(signed.hash);
    t.equal(seen.status, 'committed', `node ${i} has the transaction`);
    const account = await getJson<{ balance: string }>(`${net.url(i)}/v1/accounts/${addressToString(to)}`);
    t.equal(BigInt(account.balance), before + 5n * ONE_TAG, `node ${i} shows the new balance`);
  }

  // kill -9 node 3: the other three (3/4 of the power) keep committing.
  await net.kill(3);
  const atKill = Math.max(...(await Promise.all([0, 1, 2].map((i) => net.height(i)))));
  await net.waitHeight([0, 1, 2], atKill + 6);
  t.pass(`three validators went on from ${atKill} to ${atKill + 6} without node 3`);

  // Restarted, node 3 is behind by more than the engine buffers (2 heights): block sync.
  const stopped = await net.height(0);
  await net.start(3);
  const target = (await net.height(0)) + 2;
  await net.waitHeight([3], target);
  t.ok(target > stopped, `node 3 reached ${target}`);
  await waitFor(async () => /Caught up by block sync/.test(await net.log(3)), 'node 3 logs its block sync');
  const after = await net.distinctHashes([0, 3], target);
  t.ok([...after.values()].every((s) => s.size === 1), 'node 3 agrees with node 0 on every height');
  t.ok(await isSigning(net, 3), 'node 3 votes again: it signs commit certificates');

  // A full node with a fresh home and the same genesis syncs from genesis and follows.
  const late = await net.addFullNode('late');
  await net.start(late);
  const tip = await net.height(0);
  await net.waitHeight([late], tip + 1);
  const lateHashes = await net.distinctHashes([0, late], tip);
  t.ok([...lateHashes.values()].every((s) => s.size === 1), `the late node agrees on all ${tip} heights`);
  const lateStatus = await net.status(late);
  t.equal(lateStatus.chainId, status.chainId);
  const lateTx = await new TaggerClient({ url: net.url(late) }).tx(signed.hash);
  t.equal(lateTx.status, 'committed', 'the late node has the old transfer');
  const followed = lateStatus.latestHeight + 2;
  await net.waitHeight([late], followed);
  t.pass(`the late node follows new blocks (height ${followed})`);
  t.match(await net.log(late), /"isValidator":false/, 'it runs as a full node');

  for (const i of [0, 1, 2, 3, late]) t.equal(await net.stop(i), 0, `${net.nodes[i]!.name} stops cleanly on SIGTERM`);
});

/** True once a block after the restart carries node `i`'s signature in its commit certificate. */
async function isSigning(net: TestNetwork, i: number): Promise<boolean> {
  const address = net.nodes[i]!.validator;
  let found = false;
  await waitFor(async () => {
    const block = await getJson<{ commit: { signatures: Array<{ validator: string }> } | null }>(`${net.url(0)}/v1/blocks/latest`);
    found = block.commit?.signatures.some((s) => s.validator === address) ?? false;
    return found;
  }, `a commit signed by node ${i}`);
  return found;
}
