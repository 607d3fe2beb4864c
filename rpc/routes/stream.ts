/**
 * GET /v1/stream: server-sent events of new blocks, transactions and events, from the shared
 * EventLog. A subscriber is a position in that log, not a queue: it writes while its socket takes
 * data and waits for `drain` otherwise, so it holds at most one socket buffer of memory. One that
 * falls more than `lagBytesMax` behind the log's end, or whose position leaves the log, is closed
 * with an `event: close` frame saying why. docs/rpc.md §Event stream.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import { RpcError } from '../errors.ts';
import { cursorToString, matchesTypes, parseCursor, type EventLog } from '../eventLog.ts';
import { ERROR_REPLIES } from '../schemas.ts';

export type StreamOpts = {
  log: EventLog;
  /** Concurrent subscribers; more get 503 STREAM_TOO_MANY_SUBSCRIBERS. */
  subscribersMax: number;
  /** Bytes of the log a subscriber may fall behind before it is dropped. */
  lagBytesMax: number;
  /** A `: ping` comment this often keeps idle connections through proxies. */
  pingMs: number;
  /** How long a dropped subscriber's socket may take to flush its close frame before it is destroyed. */
  closeGraceMs: number;
};

export const STREAM_DEFAULTS = { subscribersMax: 256, lagBytesMax: 16 * 1024 * 1024, pingMs: 15_000, closeGraceMs: 5_000 } as const;

/** Most names in a `types` filter. */
export const STREAM_TYPES_MAX = 32;

export type StreamCloseCode = 'STREAM_SLOW_CONSUMER' | 'STREAM_SERVER_CLOSING';

type StreamQuery = { from?: string; types?: string };

class Subscriber {
  private readonly opts: StreamOpts;
  private readonly raw: ServerResponse;
  private readonly types: ReadonlySet<string> | null;
  private seq: number;
  private waiting = false;
  private closed = false;
  private readonly unsubscribe: () => void;
  private readonly onGone: (s: Subscriber) => void;

  constructor(opts: StreamOpts, raw: ServerResponse, seq: number, types: ReadonlySet<string> | null, onGone: (s: Subscriber) => void) {
    this.opts = opts;
    this.raw = raw;
    this.seq = seq;
    this.types = types;
    this.onGone = onGone;
    this.unsubscribe = opts.log.onAppend(() => this.pump());
    raw.on('close', () => this.gone());
    raw.on('drain', () => {
      this.waiting = false;
      this.pump();
    });
  }

  /**
   * Writes what the socket takes. A subscriber whose socket is full when the log grows is dropped
   * once it is more than `lagBytesMax` behind; one whose position left the log, always.
   */
  pump(): void {
    const log = this.opts.log;
    if (this.closed) return;
    const evicted = this.seq < log.firstSeq;
    if (evicted || (this.waiting && log.bytesBehind(this.seq) > this.opts.lagBytesMax)) {
      this.close('STREAM_SLOW_CONSUMER', `this subscriber fell ${evicted ? 'out of the stream\'s log' : `more than ${this.opts.lagBytesMax} bytes behind the stream`}; reconnect with from=<last cursor received>, or re-sync through the REST endpoints if that cursor has expired`);
      log.stats.slowDropped++;
      return;
    }
    while (!this.waiting) {
      const entry = log.at(this.seq);
      if (entry === undefined) return;
      this.seq++;
      if (matchesTypes(entry, this.types)) this.waiting = !this.raw.write(entry.frame);
    }
  }

  ping(): void {
    if (!this.closed && !this.waiting) this.waiting = !this.raw.write(': ping\n\n');
  }

  /** Ends the stream with a final frame; the socket is destroyed if it cannot flush in time. */
  close(code: StreamCloseCode, message: string): void {
    if (this.closed) return;
    const latest = this.seq > 0 ? this.opts.log.at(this.seq - 1) : undefined;
    const lastSent = latest === undefined ? null : cursorToString(latest);
    this.raw.end(`event: close\ndata: ${JSON.stringify({ code, message, lastCursor: lastSent })}\n\n`);
    this.gone();
    const timer = setTimeout(() => this.raw.destroy(), this.opts.closeGraceMs);
    timer.unref();
    this.raw.once('close', () => clearTimeout(timer));
  }

  private gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.onGone(this);
  }
}

export const streamRoutes: FastifyPluginAsync<{ stream: StreamOpts }> = async (app, { stream }) => {
  const { log } = stream;
  const subscribers = new Set<Subscriber>();
  const pinger = setInterval(() => {
    for (const s of subscribers) s.ping();
  }, stream.pingMs);
  pinger.unref();

  app.addHook('preClose', async () => {
    clearInterval(pinger);
    for (const s of [...subscribers]) s.close('STREAM_SERVER_CLOSING', 'the node is shutting down; reconnect with from=<last cursor received>');
  });

  app.get<{ Querystring: StreamQuery }>(
    '/v1/stream',
    {
      schema: {
        tags: ['stream'],
        summary: 'Server-sent events: new blocks, transactions and events, resumable from a cursor',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'string', pattern: '^[0-9]{1,10}:[0-9]{1,10}$', description: 'resume after this cursor (height:index), the `id` of the last event received; also taken from the Last-Event-ID header' },
            types: {
              type: 'string',
              pattern: '^[a-z_]{1,64}(,[a-z_]{1,64})*$',
              maxLength: 2000,
              description: 'comma-separated: `block`, `tx`, `event` (every event) or event types such as `round_closed`; default everything',
            },
          },
        },
        response: { 200: { description: 'a text/event-stream of `block`, `tx` and `event` frames, then `close` (docs/rpc.md §Event stream)', type: 'string' }, ...ERROR_REPLIES },
      },
    },
    async (req, reply) => {
      const types = req.query.types === undefined ? null : new Set(req.query.types.split(','));
      if (types !== null && types.size > STREAM_TYPES_MAX) {
        const issues = [{ path: '/types', message: `at most ${STREAM_TYPES_MAX} names` }];
        throw new RpcError({ code: 'RPC_INVALID_REQUEST', part: 'querystring', issues }, `invalid querystring: types names at most ${STREAM_TYPES_MAX} types`);
      }
      const lastEventId = req.headers['last-event-id'];
      const fromText = req.query.from ?? (typeof lastEventId === 'string' ? lastEventId : undefined);
      const from = fromText === undefined ? undefined : parseCursor(fromText);
      if (fromText !== undefined && from === undefined) {
        const issues = [{ path: '/from', message: 'must be height:index' }];
        throw new RpcError({ code: 'RPC_INVALID_REQUEST', part: 'querystring', issues }, 'invalid querystring: from must be height:index');
      }
      const seq = from === undefined ? log.endSeq : log.seqAfter(from);
      if (subscribers.size >= stream.subscribersMax) {
        log.stats.rejected++;
        throw new RpcError({ code: 'STREAM_TOO_MANY_SUBSCRIBERS', limit: stream.subscribersMax }, `the stream has its maximum of ${stream.subscribersMax} subscribers; retry later`);
      }
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
        // The stream is the connection's last response: closed with it, never left idle in keep-alive.
        connection: 'close',
      });
      raw.write(': tagger event stream\n\n');
      const sub = new Subscriber(stream, raw, seq, types, (s) => {
        subscribers.delete(s);
        log.stats.subscribers = subscribers.size;
      });
      subscribers.add(sub);
      log.stats.subscribers = subscribers.size;
      sub.pump();
    },
  );
};
