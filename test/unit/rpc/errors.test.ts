/** The error contract: one reply shape, the code → status table, and no leaks on 500. */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { AssertionError, ChainError, addressToString } from '../../../lib/index.ts';
import { ERROR_STATUS_TABLE, httpStatusForCode, jsonSafe } from '../../../rpc/index.ts';
import { errorOf, serve } from './helpers.ts';

const SECRET = '/var/lib/tagger/secret-path';

t.test('unknown routes and methods are 404 RPC_NOT_FOUND', async (t) => {
  const { app } = await serve(t);
  for (const [method, url] of [
    ['GET', '/nope'],
    ['GET', '/v1'],
    ['GET', '/v2/txs'],
    ['DELETE', '/v1/txs'],
    ['PUT', '/status'],
    ['GET', '/v1/blocks/1/extra'],
  ] as const) {
    const res = await app.inject({ method, url: `${url}?q=1` });
    t.equal(res.statusCode, 404, `${method} ${url}`);
    t.strictSame(res.json(), { error: { code: 'RPC_NOT_FOUND', message: `no route ${method} ${url}`, details: { method, path: url } } });
  }
});

t.test('a malformed URL is a 400 in the same error shape', async (t) => {
  const { app } = await serve(t);
  const res = await app.inject({ url: '/v1/txs/%zz' });
  t.equal(res.statusCode, 400);
  t.equal(errorOf(res).code, 'RPC_INVALID_REQUEST');
});

t.test('unexpected errors are 500 RPC_INTERNAL and leak nothing', async (t) => {
  class StoreError extends ChainError<{ code: 'STORE_CORRUPT'; path: string }> {}
  const throwers: Array<[string, () => never]> = [
    ['Error', () => { throw new Error(`ENOENT: ${SECRET}`); }],
    ['TypeError', () => { throw new TypeError(`cannot read ${SECRET}`); }],
    ['AssertionError', () => { throw new AssertionError(`invariant broken at ${SECRET}`); }],
    ['a ChainError the table does not know', () => { throw new StoreError({ code: 'STORE_CORRUPT', path: SECRET }, `corrupt ${SECRET}`); }],
    ['a string', () => { throw SECRET as unknown as Error; }],
  ];
  for (const [what, thrower] of throwers) {
    const { app, alice } = await serve(t, { status: thrower, account: thrower, blockByHeight: async () => thrower() });
    for (const url of ['/status', `/v1/accounts/${addressToString(alice.address)}`, '/v1/blocks/1']) {
      const res = await app.inject({ url });
      t.equal(res.statusCode, 500, `${what}: ${url}`);
      const e = errorOf(res);
      t.equal(e.code, 'RPC_INTERNAL');
      t.equal(e.message, 'internal error');
      t.strictSame(Object.keys(e.details), ['requestId'], 'only the request id, to find the log line');
      t.notMatch(res.body, /secret|ENOENT|invariant|corrupt|stack/i, `${what}: nothing of the error in the reply`);
    }
  }
});

t.test('server faults are logged with the error; client errors are not logged as errors', async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const { app } = await serve(t, { status: () => { throw new Error(SECRET); } }, { logger });
  const failed = await app.inject({ url: '/status' });
  await app.inject({ url: '/nope' });
  await new Promise((resolve) => setImmediate(resolve));
  const errors = lines.filter((l) => l['level'] === 50);
  t.equal(errors.length, 1, 'one error line');
  t.equal(errors[0]?.['msg'], 'RPC request failed');
  t.match((errors[0]?.['err'] as { message: string }).message, SECRET, 'the log has what the reply hides');
  t.equal(errors[0]?.['reqId'], errorOf(failed).details['requestId'], 'and the request id the reply gives');
  t.ok(lines.some((l) => l['level'] === 20 && l['msg'] === 'RPC request rejected'), '4xx at debug level');
  t.ok(lines.some((l) => l['msg'] === 'RPC request' && l['statusCode'] === 404), 'each request at debug level');
});

t.test('error details are made JSON-safe', async (t) => {
  class OddError extends ChainError<{ code: 'TX_ODD'; big: bigint; bytes: Uint8Array; nested: { n: bigint }[]; fn: () => void }> {}
  const { app } = await serve(t, {
    submitTx: () => {
      throw new OddError({ code: 'TX_ODD', big: 2n ** 100n, bytes: Uint8Array.of(1, 2), nested: [{ n: 5n }], fn: () => undefined }, 'odd');
    },
  });
  const res = await app.inject({ method: 'POST', url: '/v1/txs', payload: { tx: '0x00' } });
  t.equal(res.statusCode, 400, 'TX_* is a 400');
  t.strictSame(errorOf(res), { code: 'TX_ODD', message: 'odd', details: { big: (2n ** 100n).toString(), bytes: '0x0102', nested: [{ n: '5' }], fn: null } });
  const deep = jsonSafe({ a: { b: { c: { d: { e: 1 } } } } }, 0);
  t.strictSame(deep, { a: { b: { c: { d: null } } } }, 'depth is bounded');
  const proto = jsonSafe(JSON.parse('{"__proto__": {"polluted": true}}'), 0) as Record<string, unknown>;
  t.equal(Object.getPrototypeOf(proto), Object.prototype, 'a "__proto__" key stays a key');
  t.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

t.test('the code → status table', async (t) => {
  const expected: Array<[string, number | undefined]> = [
    ['RPC_INVALID_REQUEST', 400],
    ['RPC_BODY_TOO_LARGE', 413],
    ['RPC_UNSUPPORTED_MEDIA_TYPE', 415],
    ['RPC_NOT_FOUND', 404],
    ['RPC_INTERNAL', 500],
    ['TX_NOT_FOUND', 404],
    ['BLOCK_NOT_FOUND', 404],
    ['TX_BAD_SIGNATURE', 400],
    ['TX_WRONG_CHAIN', 400],
    ['CODEC_MALFORMED', 400],
    ['CODEC_NON_CANONICAL', 400],
    ['ADDRESS_INVALID', 400],
    ['BYTES_INVALID_HEX', 400],
    ['AMOUNT_INVALID', 400],
    ['MEMPOOL_FULL', 503],
    ['MEMPOOL_SENDER_FULL', 503],
    ['MEMPOOL_NONCE_TOO_LOW', 400],
    ['MEMPOOL_NONCE_TOO_HIGH', 400],
    ['STORE_CORRUPT', undefined],
    ['BLOCK_WRONG_PARENT', undefined],
    ['RPC_SOMETHING_NEW', undefined],
  ];
  for (const [code, status] of expected) t.equal(httpStatusForCode(code), status, code);
});

t.test('docs/rpc.md lists every row of the error table', async (t) => {
  const doc = await readFile(new URL('../../../docs/rpc.md', import.meta.url), 'utf8');
  for (const [code, status] of ERROR_STATUS_TABLE) {
    const row = new RegExp(`^\\|\\s*\`${code.replace('*', '\\*')}\`\\s*\\|\\s*${status}\\s*\\|`, 'm');
    t.match(doc, row, `${code} → ${status}`);
  }
});
