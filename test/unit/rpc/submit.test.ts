/** POST /v1/txs: the three body forms, and every way a submission is refused. */
import t from 'tap';
import { ONE_TAG, bytesToHex, concatBytes, encode } from '../../../lib/index.ts';
import { TxError } from '../../../runtime/index.ts';
import { MempoolError } from '../../../node/mempool.ts';
import type { SubmitTxJson } from '../../../rpc/index.ts';
import { CHAIN_ID, transfer } from './fakeDeps.ts';
import { errorOf, serve } from './helpers.ts';

const OCTET = { 'content-type': 'application/octet-stream' };

t.test('submit as raw bytes, JSON hex and JSON base64', async (t) => {
  const { app, alice, bob, pending } = await serve(t);
  const txs = [1, 2, 3].map((nonce) => transfer(alice, nonce, bob.address, BigInt(nonce) * ONE_TAG));
  const [raw, hexed, based] = txs as [(typeof txs)[0], (typeof txs)[0], (typeof txs)[0]];
  const replies = [
    await app.inject({ method: 'POST', url: '/v1/txs', headers: OCTET, payload: Buffer.from(raw.bytes) }),
    await app.inject({ method: 'POST', url: '/v1/txs', payload: { tx: '0x' + bytesToHex(hexed.bytes) } }),
    await app.inject({ method: 'POST', url: '/v1/txs', payload: { txBase64: Buffer.from(based.bytes).toString('base64') } }),
  ];
  for (const [i, res] of replies.entries()) {
    t.equal(res.statusCode, 202, `form ${i}`);
    t.strictSame(res.json(), { hash: '0x' + bytesToHex((txs[i] as (typeof txs)[0]).hash), duplicate: false }, `form ${i}`);
  }
  t.equal(pending.size, 3, 'all three reached submitTx');

  const again = await app.inject({ method: 'POST', url: '/v1/txs', payload: { tx: '0x' + bytesToHex(raw.bytes).toUpperCase() } });
  t.equal(again.statusCode, 202, 'upper-case hex is accepted');
  t.equal(again.json<SubmitTxJson>().duplicate, true, 'a resubmission is a duplicate');

  const charset = await app.inject({
    method: 'POST',
    url: '/v1/txs',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    payload: JSON.stringify({ tx: '0x' + bytesToHex(raw.bytes) }),
  });
  t.equal(charset.statusCode, 202, 'a charset parameter is fine');
});

t.test('submitTx receives exactly the bytes sent, as a plain copy', async (t) => {
  let seen: Uint8Array | undefined;
  const fake = await serve(t);
  const { app } = await serve(t, {
    submitTx: (bytes) => {
      seen = bytes;
      return fake.deps.submitTx(bytes);
    },
  });
  const tx = transfer(fake.alice, 1, fake.bob.address, 1n);
  await app.inject({ method: 'POST', url: '/v1/txs', headers: OCTET, payload: Buffer.from(tx.bytes) });
  t.ok(seen !== undefined);
  t.equal(seen?.constructor, Uint8Array, 'not a Buffer');
  t.equal(seen?.byteOffset, 0, 'not a view into a pooled buffer');
  t.equal(bytesToHex(seen ?? new Uint8Array()), bytesToHex(tx.bytes));
});

t.test('malformed JSON bodies are 400 RPC_INVALID_REQUEST', async (t) => {
  const { app, alice, bob } = await serve(t);
  const hex = '0x' + bytesToHex(transfer(alice, 1, bob.address, 1n).bytes);
  const bodies: Array<[string, unknown]> = [
    ['unknown field', { tx: hex, memo: 'hi' }],
    ['only an unknown field', { memo: 'hi' }],
    ['both forms', { tx: hex, txBase64: 'AAAA' }],
    ['empty object', {}],
    ['hex without 0x', { tx: hex.slice(2) }],
    ['odd-length hex', { tx: hex + 'a' }],
    ['not hex', { tx: '0xzz' }],
    ['empty hex', { tx: '0x' }],
    ['hex as a number', { tx: 12 }],
    ['bad base64', { txBase64: 'not base64!' }],
    ['base64 without padding', { txBase64: 'AAA' }],
    ['an array', [hex]],
    ['a string', hex],
    ['null', null],
  ];
  for (const [what, body] of bodies) {
    const res = await app.inject({ method: 'POST', url: '/v1/txs', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    t.equal(res.statusCode, 400, what);
    t.equal(errorOf(res).code, 'RPC_INVALID_REQUEST', what);
  }
  const syntax = await app.inject({ method: 'POST', url: '/v1/txs', headers: { 'content-type': 'application/json' }, payload: '{"tx": ' });
  t.equal(syntax.statusCode, 400, 'JSON syntax error');
  t.equal(errorOf(syntax).code, 'RPC_INVALID_REQUEST');
  const empty = await app.inject({ method: 'POST', url: '/v1/txs', headers: { 'content-type': 'application/json' }, payload: '' });
  t.equal(empty.statusCode, 400, 'empty JSON body');
  const poisoned = await app.inject({ method: 'POST', url: '/v1/txs', headers: { 'content-type': 'application/json' }, payload: '{"__proto__": {"x": 1}}' });
  t.equal(poisoned.statusCode, 400, 'prototype poisoning');
  const none = await app.inject({ method: 'POST', url: '/v1/txs' });
  t.equal(none.statusCode, 400, 'no body at all');
  t.equal(errorOf(none).code, 'RPC_INVALID_REQUEST');
});

t.test('undecodable and non-canonical transaction bytes are 400 with a CODEC_* code', async (t) => {
  const { app, alice, bob } = await serve(t);
  const good = transfer(alice, 0, bob.address, 1n);
  // The nonce (0) re-encoded as a uint8 (0xcc 0x00) instead of a fixint: same value, not canonical.
  const nonceAt = 2 + encode(CHAIN_ID).length + encode(alice.publicKey).length;
  t.equal(good.bytes[nonceAt], 0x00, 'the nonce byte is where expected');
  const wide = concatBytes(good.bytes.subarray(0, nonceAt), Uint8Array.of(0xcc, 0x00), good.bytes.subarray(nonceAt + 1));
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['garbage', Uint8Array.of(0xc1, 0xff, 0x00), /^CODEC_/],
    ['empty', new Uint8Array(0), /^CODEC_/],
    ['truncated', good.bytes.subarray(0, good.bytes.length - 5), /^CODEC_/],
    ['trailing byte', concatBytes(good.bytes, Uint8Array.of(0)), /^CODEC_TRAILING_BYTES$/],
    ['wrong shape', encode([1, 2, 3]), /^CODEC_WRONG_LENGTH$/],
    ['non-canonical integer', wide, /^CODEC_NON_CANONICAL$/],
  ];
  for (const [what, bytes, code] of cases) {
    for (const [form, req] of [
      ['raw', { headers: OCTET, payload: Buffer.from(bytes) }],
      ['base64', { payload: { txBase64: Buffer.from(bytes).toString('base64') } }],
    ] as const) {
      if (bytes.length === 0 && form === 'base64') continue; // '' is refused by the schema first
      const res = await app.inject({ method: 'POST', url: '/v1/txs', ...req });
      t.equal(res.statusCode, 400, `${what} (${form})`);
      t.match(errorOf(res).code, code, `${what} (${form})`);
      t.equal(errorOf(res).details['what'], 'SignedTx', 'details say what failed to decode');
    }
  }
});

t.test('transaction and mempool errors from submitTx map to 400 and 503', async (t) => {
  const cases: Array<[string, Error, number]> = [
    ['TX_WRONG_CHAIN', new TxError({ code: 'TX_WRONG_CHAIN', detail: 'other' }, 'transaction is for another chain'), 400],
    ['TX_FEE_TOO_LOW', new TxError({ code: 'TX_FEE_TOO_LOW', detail: 'needs 10' }, 'fee too low'), 400],
    ['MEMPOOL_NONCE_TOO_LOW', new MempoolError({ code: 'MEMPOOL_NONCE_TOO_LOW', expected: 3, actual: 1 }, 'nonce 1 already used'), 400],
    ['MEMPOOL_NONCE_TAKEN', new MempoolError({ code: 'MEMPOOL_NONCE_TAKEN', nonce: 1 }, 'taken'), 400],
    ['MEMPOOL_FULL', new MempoolError({ code: 'MEMPOOL_FULL', txs: 50_000, bytes: 1 }, 'mempool is full; try again later'), 503],
    ['MEMPOOL_SENDER_FULL', new MempoolError({ code: 'MEMPOOL_SENDER_FULL', sender: 'ab', max: 256 }, 'sender full'), 503],
  ];
  for (const [code, error, status] of cases) {
    const { app, alice, bob } = await serve(t, {
      submitTx: () => {
        throw error;
      },
    });
    const res = await app.inject({ method: 'POST', url: '/v1/txs', headers: OCTET, payload: Buffer.from(transfer(alice, 0, bob.address, 1n).bytes) });
    t.equal(res.statusCode, status, code);
    const e = errorOf(res);
    t.equal(e.code, code);
    t.equal(e.message, error.message, 'the typed error message is passed on');
    t.notOk('code' in e.details, 'details hold the metadata, not the code');
    t.equal(res.headers['retry-after'], status === 503 ? '1' : undefined, 'a 503 says when to retry');
  }
});

t.test('real signature and chain checks in the fake surface as TX_* 400s', async (t) => {
  const { app, alice, bob } = await serve(t);
  const other = transfer(alice, 0, bob.address, 1n, 'other-chain');
  const r1 = await app.inject({ method: 'POST', url: '/v1/txs', headers: OCTET, payload: Buffer.from(other.bytes) });
  t.equal(r1.statusCode, 400);
  t.equal(errorOf(r1).code, 'TX_WRONG_CHAIN');
  const forged = new Uint8Array(transfer(alice, 0, bob.address, 1n).bytes);
  forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1;
  const r2 = await app.inject({ method: 'POST', url: '/v1/txs', headers: OCTET, payload: Buffer.from(forged) });
  t.equal(r2.statusCode, 400);
  t.equal(errorOf(r2).code, 'TX_BAD_SIGNATURE');
});

t.test('bodies over the limit are 413 RPC_BODY_TOO_LARGE', async (t) => {
  const { app } = await serve(t, {}, { bodyLimitBytes: 1024 });
  const raw = await app.inject({ method: 'POST', url: '/v1/txs', headers: OCTET, payload: Buffer.alloc(1025) });
  t.equal(raw.statusCode, 413);
  t.strictSame(errorOf(raw), { code: 'RPC_BODY_TOO_LARGE', message: 'request body is larger than 1024 bytes', details: { limitBytes: 1024 } });
  const json = await app.inject({ method: 'POST', url: '/v1/txs', payload: { tx: '0x' + 'ab'.repeat(600) } });
  t.equal(json.statusCode, 413);
  t.equal(errorOf(json).code, 'RPC_BODY_TOO_LARGE');
  const atLimit = await app.inject({ method: 'POST', url: '/v1/txs', headers: OCTET, payload: Buffer.alloc(1024) });
  t.equal(atLimit.statusCode, 400, 'a body at the limit is read (and refused as a transaction)');
  t.match(errorOf(atLimit).code, /^CODEC_/);
});

t.test('the default body limit is 1 MiB', async (t) => {
  const { app } = await serve(t);
  const over = await app.inject({ method: 'POST', url: '/v1/txs', headers: OCTET, payload: Buffer.alloc(1024 * 1024 + 1) });
  t.equal(over.statusCode, 413);
  t.equal(errorOf(over).details['limitBytes'], 1024 * 1024);
});

t.test('other content types are 415 RPC_UNSUPPORTED_MEDIA_TYPE', async (t) => {
  const { app } = await serve(t);
  for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded']) {
    const res = await app.inject({ method: 'POST', url: '/v1/txs', headers: { 'content-type': type }, payload: 'tx=00' });
    t.equal(res.statusCode, 415, type);
    t.equal(errorOf(res).code, 'RPC_UNSUPPORTED_MEDIA_TYPE', type);
    t.strictSame(errorOf(res).details['supported'], ['application/json', 'application/octet-stream']);
  }
  const untyped = await app.inject({ method: 'POST', url: '/v1/txs', payload: Buffer.from([1, 2, 3]) });
  t.equal(untyped.statusCode, 415, 'a body without a content type');
});
