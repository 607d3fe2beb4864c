/**
 * GET /v1/stream over a real loopback socket: blocks and filtered events arrive in order, a client
 * resumes from its last cursor after a disconnect, an expired cursor is a clear 410, a client that
 * stops reading is dropped with a close frame while the log stays within its budget, and the
 * subscriber cap holds.
 */
import { request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { blockHash, type Receipt } from '../../../runtime/index.ts';
import { EventLog, type CommittedBlock, type StreamOpts } from '../../../rpc/index.ts';
import { createFake, type Fake } from './fakeDeps.ts';
import { serve } from './helpers.ts';

type Frame = { id: string | null; event: string; data: Record<string, unknown> };

function blockAt(fake: Fake, height: number, eventPadBytes = 0): CommittedBlock {
  const header = { ...fake.block.block.header, height, timeMs: fake.block.block.header.timeMs + BigInt(height) * 1000n };
  const endOfBlock: Receipt = {
    txHash: new Uint8Array(32),
    status: 0,
    code: '',
    fee: 0n,
    events: [{ type: 'round_closed', attributes: [['task', '1'], ['round', String(height)], ['pad', 'x'.repeat(eventPadBytes)]] }],
  };
  return { height, hash: blockHash(header), block: { ...fake.block.block, header }, txs: [fake.committed], receipts: [fake.receipt, endOfBlock] };
}

/** A subscription read frame by frame. */
class Sse {
  private buffer = '';
  private readonly frames: Frame[] = [];
  private waiter: (() => void) | null = null;
  ended = false;
  readonly res: IncomingMessage;
  constructor(res: IncomingMessage) {
    this.res = res;
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      this.buffer += chunk;
      let i: number;
      while ((i = this.buffer.indexOf('\n\n')) >= 0) {
        const raw = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 2);
        const lines = raw.split('\n').filter((l) => !l.startsWith(':'));
        if (lines.length === 0) continue;
        const field = (name: string): string | null => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? null;
        this.frames.push({ id: field('id'), event: field('event') ?? '', data: JSON.parse(field('data') ?? '{}') as Record<string, unknown> });
      }
      this.waiter?.();
    });
    res.on('end', () => {
      this.ended = true;
      this.waiter?.();
    });
  }
  async take(n: number): Promise<Frame[]> {
    while (this.frames.length < n && !this.ended) await new Promise<void>((resolve) => (this.waiter = resolve));
    return this.frames.splice(0, n);
  }
  close(): void {
    this.res.destroy();
  }
}

async function setup(t: { teardown: (fn: () => unknown) => void }, opts: Partial<StreamOpts> & { entriesMax?: number; bytesMax?: number } = {}) {
  const fake = createFake();
  const log = new EventLog({ entriesMax: opts.entriesMax ?? 1000, bytesMax: opts.bytesMax ?? 16 * 1024 * 1024 }, 1);
  const { app } = await serve(t, fake.deps, { stream: { log, ...opts } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  function subscribe(query = '', headers: Record<string, string> = {}): Promise<{ status: number; sse: Sse; body: () => Promise<string> }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: `/v1/stream${query}`, headers }, (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          const done = new Promise<string>((r) => res.on('end', () => r(text)));
          resolve({ status, sse: null as unknown as Sse, body: () => done });
        } else resolve({ status, sse: new Sse(res), body: async () => '' });
      });
      req.on('error', reject);
      req.end();
    });
  }
  /** Waits until the server has registered `n` subscribers (the subscription is set up after the headers). */
  async function subscribers(n: number): Promise<void> {
    while (log.stats.subscribers !== n) await new Promise((r) => setImmediate(r));
  }
  return { fake, log, app, port, subscribe, subscribers };
}

t.test('new blocks, their transactions and events arrive in order; types filters them', async (t) => {
  const { fake, log, subscribe, subscribers } = await setup(t);
  const all = await subscribe();
  const filtered = await subscribe('?types=block,round_closed');
  t.equal(all.status, 200);
  t.match(all.sse.res.headers['content-type'], /^text\/event-stream/);
  await subscribers(2);
  log.appendBlock(blockAt(fake, 2));
  log.appendBlock(blockAt(fake, 3));
  const frames = await all.sse.take(8);
  t.strictSame(frames.map((f) => f.id), ['2:0', '2:1', '2:2', '2:3', '3:0', '3:1', '3:2', '3:3']);
  t.strictSame(frames.slice(0, 4).map((f) => f.event), ['block', 'tx', 'event', 'event']);
  t.match(frames[0]?.data, { cursor: '2:0', height: 2, txCount: 1 });
  t.match(frames[1]?.data, { hash: '0x' + Buffer.from(fake.committed.hash).toString('hex'), kind: 'transfer', status: 'ok' });
  t.match(frames[2]?.data, { type: 'transfer', txHash: frames[1]?.data['hash'] });
  t.match(frames[3]?.data, { type: 'round_closed', txHash: null, attributes: { task: '1', round: '2' } });
  const only = await filtered.sse.take(4);
  t.strictSame(only.map((f) => `${f.id} ${f.event}`), ['2:0 block', '2:3 event', '3:0 block', '3:3 event']);
  all.sse.close();
  filtered.sse.close();
  await subscribers(0);
});

t.test('a client resumes after a disconnect from its last cursor, by query or Last-Event-ID', async (t) => {
  const { fake, log, subscribe, subscribers } = await setup(t);
  const first = await subscribe();
  await subscribers(1);
  log.appendBlock(blockAt(fake, 2));
  const got = await first.sse.take(2);
  const last = got[1]?.id ?? '';
  t.equal(last, '2:1');
  first.sse.close();
  await subscribers(0);
  log.appendBlock(blockAt(fake, 3)); // while disconnected
  const resumed = await subscribe(`?from=${last}`);
  t.equal(resumed.status, 200);
  t.strictSame((await resumed.sse.take(6)).map((f) => f.id), ['2:2', '2:3', '3:0', '3:1', '3:2', '3:3'], 'nothing lost, nothing repeated');
  const byHeader = await subscribe('', { 'last-event-id': '3:1' });
  t.strictSame((await byHeader.sse.take(2)).map((f) => f.id), ['3:2', '3:3']);
  resumed.sse.close();
  byHeader.sse.close();
  await subscribers(0);
});

t.test('an expired cursor is 410 STREAM_CURSOR_EXPIRED telling the client to re-sync; a future one is 400', async (t) => {
  const { fake, log, subscribe } = await setup(t, { entriesMax: 8 });
  for (let h = 2; h <= 6; h++) log.appendBlock(blockAt(fake, h));
  const expired = await subscribe('?from=2:3');
  t.equal(expired.status, 410);
  const body = JSON.parse(await expired.body()) as { error: { code: string; message: string; details: Record<string, unknown> } };
  t.equal(body.error.code, 'STREAM_CURSOR_EXPIRED');
  t.match(body.error.message, /REST endpoints/);
  t.equal(body.error.details['oldest'], '5:0', 'the log kept the newest whole blocks within 8 entries');
  const edge = await subscribe('?from=4:3');
  t.equal(edge.status, 200, 'the last cursor of the newest evicted block still resumes');
  t.strictSame((await edge.sse.take(1)).map((f) => f.id), ['5:0']);
  edge.sse.close();
  const beforeStart = await subscribe('?from=1:0');
  t.equal(beforeStart.status, 410, 'events from before the node started are not in the log');
  const ahead = await subscribe('?from=9:0');
  t.equal(ahead.status, 400);
  t.match(await ahead.body(), /STREAM_CURSOR_AHEAD/);
  t.equal((await subscribe('?from=abc')).status, 400);
});

t.test('a consumer that stops reading is dropped with a close reason; memory stays bounded', async (t) => {
  const lagBytesMax = 256 * 1024;
  const bytesMax = 8 * 1024 * 1024;
  const { fake, log, port, subscribers } = await setup(t, { lagBytesMax, bytesMax, closeGraceMs: 120_000 });
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.pause(); // never reads
  socket.write(`GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  await subscribers(1);
  // Blocks of about 64 KiB each until the server gives up on the consumer (bounded: 4,000 blocks).
  let h = 2;
  while (log.stats.slowDropped === 0 && h < 4_000) {
    log.appendBlock(blockAt(fake, h++, 64 * 1024));
    await new Promise((r) => setImmediate(r));
    t.ok(log.stats.bytes <= bytesMax + 70 * 1024 || h < 4, 'the shared log stays within its byte budget');
  }
  t.equal(log.stats.slowDropped, 1, 'the slow consumer was dropped');
  t.equal(log.stats.subscribers, 0);
  // Reading now, the consumer finds the close frame after what was already buffered for it.
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (c: string) => (text = (text + c).slice(-4096)));
  socket.resume();
  await new Promise<void>((r) => socket.once('end', () => r()));
  t.match(text, /event: close\ndata: \{"code":"STREAM_SLOW_CONSUMER"/);
  socket.destroy();
});

t.test('the subscriber cap: one more is 503 STREAM_TOO_MANY_SUBSCRIBERS until one leaves', async (t) => {
  const { log, subscribe, subscribers } = await setup(t, { subscribersMax: 2 });
  const a = await subscribe();
  const b = await subscribe();
  await subscribers(2);
  const c = await subscribe();
  t.equal(c.status, 503);
  t.match(await c.body(), /STREAM_TOO_MANY_SUBSCRIBERS/);
  t.equal(log.stats.rejected, 1);
  a.sse.close();
  await subscribers(1);
  const d = await subscribe();
  t.equal(d.status, 200, 'a place freed is taken');
  b.sse.close();
  d.sse.close();
  await subscribers(0);
});
