/** TaggerClient against a real server listening on 127.0.0.1, and its own failure codes. */
import t from 'tap';
import type { AddressInfo } from 'node:net';
import { addressToString, bytesToHex, hexToBytes } from '../../../lib/index.ts';
import { verifyStateProof } from '../../../state/index.ts';
import { buildServer } from '../../../rpc/index.ts';
import { ClientError, TaggerClient, stateProofFromJson } from '../../../sdk/index.ts';
import { createFake, transfer, CHAIN_ID } from '../rpc/fakeDeps.ts';

async function listen(t: { teardown: (fn: () => unknown) => void }) {
  const fake = createFake();
  const app = await buildServer(fake.deps, { logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const { port } = app.server.address() as AddressInfo;
  return { ...fake, app, url: `http://127.0.0.1:${port}` };
}

async function codeOf(p: Promise<unknown>): Promise<{ code: string; httpStatus: number | null } | string> {
  try {
    await p;
    return 'resolved';
  } catch (e: unknown) {
    return e instanceof ClientError ? { code: e.code, httpStatus: e.type.httpStatus } : `not a ClientError: ${String(e)}`;
  }
}

t.test('queries, submit and errors over HTTP', async (t) => {
  const { url, alice, bob, committed, block } = await listen(t);
  const client = new TaggerClient({ url: url + '/' });

  t.strictSame(await client.health(), { ok: true });
  const status = await client.status();
  t.equal(status.chainId, CHAIN_ID);
  t.equal(status.latestHeight, 1);

  const account = await client.account(addressToString(alice.address));
  t.equal(account.nonce, 1);
  t.equal((await client.account(alice.address)).balance, account.balance, 'an address as bytes works too');

  const latest = await client.block('latest');
  t.equal(latest.hash, '0x' + bytesToHex(block.hash));
  t.equal((await client.block(1, { full: true })).decodedTxs?.[0]?.hash, '0x' + bytesToHex(committed.hash));
  t.equal((await client.blockByHash(block.hash)).header.height, 1);

  const tx = transfer(alice, 1, bob.address, 7n);
  const submitted = await client.submitTx(tx.bytes);
  t.strictSame(submitted, { hash: '0x' + bytesToHex(tx.hash), duplicate: false });
  t.strictSame(await client.tx(submitted.hash), { status: 'pending', hash: submitted.hash });

  const done = await client.waitForTx(committed.hash, { timeoutMs: 1000, pollMs: 10 });
  t.equal(done.status, 'committed');
  t.equal(done.receipt.status, 'ok');

  const notFound = await codeOf(client.tx('0x' + 'ee'.repeat(32)));
  t.strictSame(notFound, { code: 'TX_NOT_FOUND', httpStatus: 404 }, 'the server error code comes through');
  const garbage = await codeOf(client.submitTx(Uint8Array.of(1, 2, 3)));
  t.match(garbage, { code: /^CODEC_/, httpStatus: 400 });
  t.strictSame(await codeOf(client.block(99)), { code: 'BLOCK_NOT_FOUND', httpStatus: 404 });
  t.strictSame(await codeOf(client.account('tag1bad')), { code: 'RPC_INVALID_REQUEST', httpStatus: 400 });
  t.strictSame(await codeOf(client.tx('../status')), { code: 'RPC_INVALID_REQUEST', httpStatus: 400 }, 'path input is escaped');

  const proof = await client.proveAccount(addressToString(bob.address));
  t.ok(verifyStateProof(hexToBytes(proof.stateRoot), stateProofFromJson(proof.proof)), 'a served proof verifies offline');
  const raw = await client.proveState(proof.proof.key);
  t.strictSame(raw, proof, 'proving the raw account key gives the same proof');

  const doc = await client.openApi();
  t.match(doc, { openapi: /^3\./ });
});

t.test('waitForTx polls until committed, and times out with CLIENT_TIMEOUT', async (t) => {
  const { url, alice, bob } = await listen(t);
  const client = new TaggerClient({ url });
  const tx = transfer(alice, 1, bob.address, 1n);
  await client.submitTx(tx.bytes);
  const waited = await codeOf(client.waitForTx(tx.hash, { timeoutMs: 60, pollMs: 10 }));
  t.strictSame(waited, { code: 'CLIENT_TIMEOUT', httpStatus: null }, 'still pending at the deadline');
  const missing = await codeOf(client.waitForTx('0x' + 'aa'.repeat(32), { timeoutMs: 30, pollMs: 10 }));
  t.strictSame(missing, { code: 'CLIENT_TIMEOUT', httpStatus: null }, 'never seen');

  // A committed transaction appears on the third poll.
  let polls = 0;
  const committedJson = { status: 'committed', hash: '0x' + bytesToHex(tx.hash), height: 2, index: 0, blockHash: '0x' + '00'.repeat(32), tx: {}, receipt: { status: 'ok' } };
  const fakeFetch = (async () => {
    polls += 1;
    const body = polls < 3 ? { status: 'pending', hash: committedJson.hash } : committedJson;
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  const polled = await new TaggerClient({ url, fetch: fakeFetch }).waitForTx(tx.hash, { timeoutMs: 5000, pollMs: 1 });
  t.equal(polled.height, 2);
  t.equal(polls, 3);
});

t.test('transport failures have the client codes', async (t) => {
  const { app, url } = await listen(t);
  await app.close();
  t.match(await codeOf(new TaggerClient({ url }).status()), { code: 'CLIENT_UNREACHABLE', httpStatus: null }, 'connection refused');

  const hanging = ((_input: unknown, init?: RequestInit) =>
    new Promise<Response>((_resolve, reject) => {
      init?.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error));
    })) as typeof fetch;
  t.strictSame(await codeOf(new TaggerClient({ url, fetch: hanging, timeoutMs: 20 }).status()), { code: 'CLIENT_TIMEOUT', httpStatus: null });

  const proxy = (async () => new Response('<html>Bad Gateway</html>', { status: 502 })) as typeof fetch;
  const e = await codeOf(new TaggerClient({ url, fetch: proxy }).status());
  t.strictSame(e, { code: 'CLIENT_HTTP', httpStatus: 502 }, 'a reply that is not the API');
  const notJson = (async () => new Response('ok', { status: 200 })) as typeof fetch;
  t.strictSame(await codeOf(new TaggerClient({ url, fetch: notJson }).health()), { code: 'CLIENT_HTTP', httpStatus: 200 });
});

t.test('ClientError is a ChainError with the server details', async (t) => {
  const { url } = await listen(t);
  try {
    await new TaggerClient({ url }).tx('0x' + 'ee'.repeat(32));
    t.fail('should throw');
  } catch (e: unknown) {
    t.ok(e instanceof ClientError);
    const err = e as ClientError;
    t.equal(err.code, 'TX_NOT_FOUND');
    t.equal(err.message, `no transaction 0x${'ee'.repeat(32)}`);
    t.strictSame(err.type.details, { hash: '0x' + 'ee'.repeat(32) });
    t.match(err.type.url, /\/v1\/txs\/0x(ee){32}$/);
    t.equal(err.toJSON().code, 'TX_NOT_FOUND');
  }
});
