/**
 * Both ends of the block sync protocol over one libp2p stream (see syncWire.ts for the messages).
 * Every read has a length cap checked on the prefix before the bytes are buffered, every stream a
 * buffer cap and a deadline; a malformed or oversize frame aborts the stream, never the node.
 */
import type { Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { isChainError, type Logger } from '../../lib/index.ts';
import type { SyncOpts } from './config.ts';
import { P2PError, reasonOf } from './errors.ts';
import {
  SYNC_KIND,
  SYNC_SMALL_FRAME_BYTES_MAX,
  SYNC_STATUS,
  decodeBlockPair,
  decodeSyncHeader,
  decodeSyncRequest,
  encodeBlockPair,
  encodeSyncHeader,
  encodeSyncRequest,
  type BlockPair,
  type BlockPairBytes,
  type SyncHeader,
  type SyncRequest,
} from './syncWire.ts';

/** What the node serves blocks from: its store. */
export type BlockSource = {
  /** The latest height this node can serve (0 before the first block). */
  height(): number;
  /** The encoded block and commit at `height`, or null when this node does not hold it. */
  blockAt(height: number): BlockPairBytes | null | Promise<BlockPairBytes | null>;
};

/** Errors libp2p's length-prefixed reader throws for a bad prefix or an overfull buffer. */
const MALFORMED_FRAME_ERRORS = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError', 'StreamBufferError']);

export function isMalformedFrameError(e: unknown): boolean {
  return (e instanceof Error && MALFORMED_FRAME_ERRORS.has(e.name)) || (isChainError(e) && e.code.startsWith('CODEC_'));
}

export type ServeResult = 'served' | 'badRequest' | 'malformed' | 'failed';

/**
 * Answers one request on an inbound stream. Returns what happened so the caller can count it and
 * score the peer; never throws.
 */
export async function serveSyncStream(stream: Stream, source: BlockSource | null, opts: SyncOpts, log: Logger): Promise<ServeResult> {
  const signal = AbortSignal.timeout(opts.requestTimeoutMs);
  const lp = lpStream(stream, { maxDataLength: SYNC_SMALL_FRAME_BYTES_MAX, maxBufferSize: SYNC_SMALL_FRAME_BYTES_MAX * 2 });
  const height = source?.height() ?? 0;
  try {
    let request: SyncRequest;
    try {
      request = decodeSyncRequest((await lp.read({ signal })).subarray());
    } catch (e: unknown) {
      if (!isChainError(e)) throw e;
      await lp.write(encodeSyncHeader({ status: SYNC_STATUS.badRequest, height, count: 0 }), { signal });
      await stream.close({ signal });
      return 'badRequest';
    }
    const pairs = request.kind === SYNC_KIND.blocks && source !== null ? await collectPairs(source, request, opts, log) : [];
    await lp.writeV([encodeSyncHeader({ status: SYNC_STATUS.ok, height, count: pairs.length }), ...pairs], { signal });
    await stream.close({ signal });
    return 'served';
  } catch (e: unknown) {
    stream.abort(e instanceof Error ? e : new Error(String(e)));
    if (isMalformedFrameError(e)) return 'malformed';
    log.debug({ err: reasonOf(e) }, 'Sync request failed');
    return 'failed';
  }
}

/** Encoded pairs from `fromHeight` on: contiguous, at most countMax, within the byte caps. */
async function collectPairs(source: BlockSource, request: SyncRequest, opts: SyncOpts, log: Logger): Promise<Uint8Array[]> {
  const count = Math.min(request.count, opts.countMax);
  const out: Uint8Array[] = [];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const height = request.fromHeight + i;
    if (height < 1 || height > 0xffff_ffff) break;
    const pair = await source.blockAt(height);
    if (pair === null) break;
    const frame = encodeBlockPair(pair);
    if (frame.length > opts.frameBytesMax) {
      log.warn({ height, bytes: frame.length, max: opts.frameBytesMax }, 'Block too large to serve over sync');
      break;
    }
    if (bytes + frame.length > opts.responseBytesMax) break;
    bytes += frame.length;
    out.push(frame);
  }
  return out;
}

export type SyncAnswer = { height: number; pairs: BlockPair[] };

/**
 * Sends `request` on an outbound stream and reads the answer: a header, then exactly `count`
 * pairs, no more than asked for and no more than the byte caps. Throws P2PError (P2P_BAD_RESPONSE,
 * P2P_RESPONSE_TOO_LARGE, P2P_TIMEOUT, P2P_REQUEST_FAILED).
 */
export async function requestSyncStream(stream: Stream, request: SyncRequest, opts: SyncOpts, peer: string, signal: AbortSignal): Promise<SyncAnswer> {
  // The whole answer may arrive before it is read: the buffer cap is the answer's byte cap.
  const lp = lpStream(stream, { maxDataLength: opts.frameBytesMax, maxBufferSize: opts.responseBytesMax + 64 });
  try {
    await lp.write(encodeSyncRequest(request), { signal });
    const header = decodeHeaderFrame((await lp.read({ signal })).subarray(), peer);
    const wanted = request.kind === SYNC_KIND.blocks ? request.count : 0;
    if (header.count > wanted) throw badResponse(peer, `${header.count} blocks for a request of ${wanted}`);
    const pairs: BlockPair[] = [];
    let bytes = 0;
    for (let i = 0; i < header.count; i++) {
      const frame = (await lp.read({ signal })).subarray();
      bytes += frame.length;
      if (bytes > opts.responseBytesMax) {
        throw new P2PError({ code: 'P2P_RESPONSE_TOO_LARGE', peer, bytes, max: opts.responseBytesMax }, `sync answer from ${peer} exceeds ${opts.responseBytesMax} bytes`);
      }
      const pair = decodeBlockPair(frame, opts.frameBytesMax);
      pairs.push({ height: request.fromHeight + i, block: pair.block, commit: pair.commit });
    }
    await stream.close({ signal });
    return { height: header.height, pairs };
  } catch (e: unknown) {
    stream.abort(e instanceof Error ? e : new Error(String(e)));
    throw requestError(e, peer, opts, signal);
  }
}

function decodeHeaderFrame(bytes: Uint8Array, peer: string): SyncHeader {
  const header = decodeSyncHeader(bytes);
  if (header.status !== SYNC_STATUS.ok) throw badResponse(peer, 'the peer rejected the request');
  return header;
}

function badResponse(peer: string, reason: string): P2PError {
  return new P2PError({ code: 'P2P_BAD_RESPONSE', peer, reason }, `bad sync answer from ${peer}: ${reason}`);
}

/** Maps whatever a request threw to a typed error. */
export function requestError(e: unknown, peer: string, opts: SyncOpts, signal: AbortSignal): P2PError {
  if (e instanceof P2PError) return e;
  if (signal.aborted) {
    return new P2PError({ code: 'P2P_TIMEOUT', peer, what: 'sync request', timeoutMs: opts.requestTimeoutMs }, `sync request to ${peer} timed out after ${opts.requestTimeoutMs} ms`);
  }
  if (e instanceof Error && e.name === 'StreamBufferError') {
    return new P2PError({ code: 'P2P_RESPONSE_TOO_LARGE', peer, bytes: opts.responseBytesMax + 1, max: opts.responseBytesMax }, `sync answer from ${peer} overflowed ${opts.responseBytesMax} bytes`);
  }
  if (isMalformedFrameError(e)) return badResponse(peer, reasonOf(e));
  return new P2PError({ code: 'P2P_REQUEST_FAILED', peer, reason: reasonOf(e) }, `sync request to ${peer} failed: ${reasonOf(e)}`);
}
