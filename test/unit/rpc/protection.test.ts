/** Rate limits, CORS, readiness, and the admin server's routes kept off the public server. */
import t from 'tap';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { buildAdminServer } from '../../../rpc/index.ts';
import { createFake } from './fakeDeps.ts';
import { errorOf, serve } from './helpers.ts';

t.test('a client over its rate limit gets 429 RPC_RATE_LIMITED; other clients and health probes are served', async (t) => {
  const { app } = await serve(t, {}, { rateLimit: { max: 3, windowMs: 60_000 } });
  const a = { remoteAddress: '10.0.0.1' };
  for (let i = 0; i < 3; i++) {
    const ok = await app.inject({ url: '/status', ...a });
    t.equal(ok.statusCode, 200, `request ${i + 1} is within the limit`);
    t.equal(ok.headers['x-ratelimit-remaining'], String(2 - i));
  }
  const limited = await app.inject({ url: '/v1/blocks/1', ...a });
  t.equal(limited.statusCode, 429);
  const err = errorOf(limited);
  t.equal(err.code, 'RPC_RATE_LIMITED');
  t.match(err.details, { limit: 3, windowMs: 60_000 });
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After tells when to come back');
  // A flood from the same client keeps being refused without harming anyone else.
  for (let i = 0; i < 50; i++) t.equal((await app.inject({ url: '/status', ...a })).statusCode, 429);
  t.equal((await app.inject({ url: '/status', remoteAddress: '10.0.0.2' })).statusCode, 200, 'another client is served');
  t.equal((await app.inject({ url: '/health', ...a })).statusCode, 200, '/health is not rate limited');
  t.not((await app.inject({ url: '/ready', ...a })).statusCode, 429, '/ready is not rate limited (the fake head is old: 503)');
});

t.test('without a rate limit configured no client is limited', async (t) => {
  const { app } = await serve(t);
  for (let i = 0; i < 20; i++) t.equal((await app.inject({ url: '/status' })).statusCode, 200);
  t.equal((await app.inject({ url: '/status' })).headers['x-ratelimit-limit'], undefined);
});

t.test('CORS headers only for configured origins', async (t) => {
  const origin = 'https://explorer.example';
  const off = await serve(t);
  const plain = await off.app.inject({ url: '/status', headers: { origin } });
  t.equal(plain.statusCode, 200);
  t.equal(plain.headers['access-control-allow-origin'], undefined, 'CORS is off by default');
  t.equal((await off.app.inject({ method: 'OPTIONS', url: '/status', headers: { origin, 'access-control-request-method': 'GET' } })).statusCode, 404);

  const on = await serve(t, {}, { corsOrigins: [origin] });
  const allowed = await on.app.inject({ url: '/status', headers: { origin } });
  t.equal(allowed.headers['access-control-allow-origin'], origin);
  t.match(String(allowed.headers['access-control-expose-headers']), /retry-after/);
  const other = await on.app.inject({ url: '/status', headers: { origin: 'https://evil.example' } });
  t.equal(other.headers['access-control-allow-origin'], undefined, 'an unlisted origin gets no CORS headers');
  const preflight = await on.app.inject({ method: 'OPTIONS', url: '/v1/txs', headers: { origin, 'access-control-request-method': 'POST' } });
  t.equal(preflight.statusCode, 204);
  t.match(String(preflight.headers['access-control-allow-methods']), /POST/);

  const any = await serve(t, {}, { corsOrigins: ['*'] });
  t.equal((await any.app.inject({ url: '/status', headers: { origin } })).headers['access-control-allow-origin'], '*');
});

t.test('/ready: 200 when synced and the head is recent, 503 RPC_NOT_READY otherwise', async (t) => {
  const fake = createFake();
  const headMs = Number((await fake.deps.blockByHeight(1))?.block.header.timeMs);
  let syncing = false;
  let now = headMs + 5_000;
  const { app } = await serve(t, { status: () => ({ ...fake.deps.status(), syncing }) }, { readyMaxAgeMs: 10_000, nowMs: () => now });
  const ready = await app.inject({ url: '/ready' });
  t.equal(ready.statusCode, 200);
  t.strictSame(ready.json(), { ready: true, height: 1, headAgeMs: 5_000 });
  now = headMs + 10_001;
  const stale = await app.inject({ url: '/ready' });
  t.equal(stale.statusCode, 503);
  t.equal(errorOf(stale).code, 'RPC_NOT_READY');
  t.match(errorOf(stale).details, { headAgeMs: 10_001, maxAgeMs: 10_000, syncing: false });
  t.equal(stale.headers['retry-after'], '1');
  now = headMs;
  syncing = true;
  const catchingUp = await app.inject({ url: '/ready' });
  t.equal(catchingUp.statusCode, 503);
  t.match(errorOf(catchingUp).details, { syncing: true });
  t.equal((await app.inject({ url: '/health' })).statusCode, 200, 'still live while not ready');
});

t.test('admin routes are on the admin server only', async (t) => {
  const { app, deps } = await serve(t);
  for (const url of ['/metrics', '/admin', '/admin/metrics']) {
    const res = await app.inject({ url });
    t.equal(res.statusCode, 404, `public ${url} is 404`);
    t.equal(errorOf(res).code, 'RPC_NOT_FOUND');
  }
  const admin = await buildAdminServer({ status: () => deps.status(), metrics: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'tagger_height 1\n' }) }, { logger: false, nowMs: () => 0 });
  t.teardown(() => admin.close());
  const metrics = await admin.inject({ url: '/metrics' });
  t.equal(metrics.statusCode, 200);
  t.match(metrics.headers['content-type'], /^text\/plain/);
  t.equal(metrics.body, 'tagger_height 1\n');
  t.equal((await admin.inject({ url: '/health' })).statusCode, 200);
  t.equal((await admin.inject({ url: '/ready' })).statusCode, 200);
  t.equal((await admin.inject({ url: '/v1/txs/00' })).statusCode, 404, 'the admin server serves no public API');
});

t.test('open connections are bounded: past rpc.connectionsMax a new one is closed on accept, the held ones still served', async (t) => {
  const { app } = await serve(t, {}, { connectionsMax: 2 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const open = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.on('error', reject);
    });
  const held = [await open(), await open()];
  // The server counts a connection once it has accepted it: a request on each makes sure it has.
  const ask = (s: Socket): Promise<string> =>
    new Promise((resolve) => {
      let text = '';
      s.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('\r\n\r\n')) resolve(text);
      });
      s.on('close', () => resolve(text));
      s.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    });
  for (const s of held) t.match(await ask(s), /^HTTP\/1\.1 200/, 'a held connection is served');
  const third = await open();
  const closed = await new Promise<boolean>((resolve) => {
    third.on('close', () => resolve(true));
    third.on('data', () => resolve(false));
    third.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
  });
  t.ok(closed, 'the third connection is closed without an answer');
  held[0]!.destroy();
  await new Promise((r) => held[0]!.on('close', r));
  await waitClosedCount(app, 1);
  const fourth = await open();
  t.match(await ask(fourth), /^HTTP\/1\.1 200/, 'once one is closed, a new one is served');
  for (const s of [held[1]!, fourth, third]) s.destroy();
});

/** Waits until the server counts at most `n` connections (getConnections is the server's own count). */
async function waitClosedCount(app: { server: { getConnections(cb: (e: Error | null, n: number) => void): void } }, n: number): Promise<void> {
  for (;;) {
    const count = await new Promise<number>((resolve) => app.server.getConnections((_e, c) => resolve(c)));
    if (count <= n) return;
    await new Promise((r) => setImmediate(r));
  }
}
