/**
 * The block sync protocol's messages, in the canonical encoding (lib/codec.ts). Each message is one
 * frame: an unsigned-varint length prefix, then the encoded message. See docs/spec/network.md §Sync.
 *
 *   SyncRequest = [kind: u32 (1 status, 2 blocks), fromHeight: u32, count: u32]
 *   SyncHeader  = [status: u32 (0 ok, 1 bad request), height: u32, count: u32]
 *   BlockPair   = [block: bin, commit: bin]
 *
 * A client opens a stream, writes one request and reads one header, then `count` BlockPair frames
 * for heights fromHeight, fromHeight+1, …; the server closes the stream. `height` in the header is
 * the server's latest height, so every answer is also a status answer.
 */
import { CodecError, Reader, decodeCanonical, encode } from '../../lib/index.ts';

export const SYNC_KIND = { status: 1, blocks: 2 } as const;
export type SyncKind = (typeof SYNC_KIND)[keyof typeof SYNC_KIND];
export const SYNC_STATUS = { ok: 0, badRequest: 1 } as const;
export type SyncStatus = (typeof SYNC_STATUS)[keyof typeof SYNC_STATUS];

/** A request or header frame is three small integers: at most 16 bytes; the limit leaves room. */
export const SYNC_SMALL_FRAME_BYTES_MAX = 32;

export type SyncRequest = { kind: SyncKind; fromHeight: number; count: number };
export type SyncHeader = { status: SyncStatus; height: number; count: number };
/** One block and the commit certificate for it, both still encoded. */
export type BlockPairBytes = { block: Uint8Array; commit: Uint8Array };
export type BlockPair = BlockPairBytes & { height: number };

function wrongType(what: string, field: string, expected: string): CodecError {
  return new CodecError({ code: 'CODEC_WRONG_TYPE', what, field, expected }, `${what}.${field}: expected ${expected}`);
}

export function encodeSyncRequest(r: SyncRequest): Uint8Array {
  return encode([r.kind, r.fromHeight, r.count]);
}

export function decodeSyncRequest(bytes: Uint8Array): SyncRequest {
  return decodeCanonical(bytes, 'SyncRequest', SYNC_SMALL_FRAME_BYTES_MAX, (value) => {
    const r = Reader.array(value, 'SyncRequest', 3);
    const kind = r.u32('kind');
    if (kind !== SYNC_KIND.status && kind !== SYNC_KIND.blocks) throw wrongType('SyncRequest', 'kind', '1 or 2');
    return { kind, fromHeight: r.u32('fromHeight'), count: r.u32('count') };
  }, encodeSyncRequest);
}

export function encodeSyncHeader(h: SyncHeader): Uint8Array {
  return encode([h.status, h.height, h.count]);
}

export function decodeSyncHeader(bytes: Uint8Array): SyncHeader {
  return decodeCanonical(bytes, 'SyncHeader', SYNC_SMALL_FRAME_BYTES_MAX, (value) => {
    const r = Reader.array(value, 'SyncHeader', 3);
    const status = r.u32('status');
    if (status !== SYNC_STATUS.ok && status !== SYNC_STATUS.badRequest) throw wrongType('SyncHeader', 'status', '0 or 1');
    return { status, height: r.u32('height'), count: r.u32('count') };
  }, encodeSyncHeader);
}

export function encodeBlockPair(p: BlockPairBytes): Uint8Array {
  return encode([p.block, p.commit]);
}

export function decodeBlockPair(bytes: Uint8Array, maxBytes: number): BlockPairBytes {
  return decodeCanonical(bytes, 'BlockPair', maxBytes, (value) => {
    const r = Reader.array(value, 'BlockPair', 2);
    return { block: r.bytesMax('block', maxBytes), commit: r.bytesMax('commit', maxBytes) };
  }, encodeBlockPair);
}
