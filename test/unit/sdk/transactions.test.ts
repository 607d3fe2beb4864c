/** sendTx over HTTP: each transaction takes the account's pending nonce, so several can be sent without waiting. */
import t from 'tap';
import type { AddressInfo } from 'node:net';
import { addressToString, bytesToHex } from '../../../lib/index.ts';
import { buildServer } from '../../../rpc/index.ts';
import { TaggerClient, buildTransfer, sendTx } from '../../../sdk/index.ts';
import { CHAIN_ID, createFake } from '../rpc/fakeDeps.ts';

t.test('sendTx without waiting: consecutive nonces from pendingNonce', async (t) => {
  const fake = createFake();
  const app = await buildServer(fake.deps, { logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const client = new TaggerClient({ url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` });

  const before = await client.account(fake.alice.address);
  t.strictSame([before.nonce, before.pendingNonce], [1, 1], 'committed nonce 1, nothing waiting');
  const sent = [];
  for (let i = 0; i < 3; i++) sent.push(await sendTx(client, fake.alice.secretKey, buildTransfer(fake.bob.address, 1n), { wait: false }));
  t.strictSame(sent.map((s) => s.signed.tx.nonce), [1, 2, 3], 'each send counts the ones already waiting');
  t.ok(sent.every((s) => s.committed === null && s.signed.tx.chainId === CHAIN_ID));
  t.strictSame([...fake.pending.keys()], sent.map((s) => bytesToHex(s.signed.hash)), 'all three were submitted');
  const after = await client.account(addressToString(fake.alice.address));
  t.strictSame([after.nonce, after.pendingNonce], [1, 4]);
});
