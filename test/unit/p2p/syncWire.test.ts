import t from 'tap';
import { isChainError } from '../../../lib/index.ts';
import { backoffDelayMs } from '../../../node/p2p/dialer.ts';
import {
  SYNC_KIND,
  SYNC_STATUS,
  decodeBlockPair,
  decodeSyncHeader,
  decodeSyncRequest,
  encodeBlockPair,
  encodeSyncHeader,
  encodeSyncRequest,
} from '../../../node/p2p/syncWire.ts';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e: unknown) {
    return isChainError(e) ? e.code : `not a ChainError: ${String(e)}`;
  }
  return 'no error';
}

t.test('sync messages round-trip and have pinned bytes', async (t) => {
  const request = { kind: SYNC_KIND.blocks, fromHeight: 1000, count: 128 } as const;
  const bytes = encodeSyncRequest(request);
  t.equal(Buffer.from(bytes).toString('hex'), '9302cd03e8cc80', '[2, 1000, 128]');
  t.same(decodeSyncRequest(bytes), request);
  const header = { status: SYNC_STATUS.ok, height: 5, count: 3 } as const;
  t.same(decodeSyncHeader(encodeSyncHeader(header)), header);
  const pair = { block: new Uint8Array([1, 2, 3]), commit: new Uint8Array([4]) };
  t.same(decodeBlockPair(encodeBlockPair(pair), 1024), pair);
});

t.test('malformed sync messages are typed codec errors', async (t) => {
  t.equal(code(() => decodeSyncRequest(new Uint8Array([0x93, 3, 1, 1]))), 'CODEC_WRONG_TYPE', 'unknown kind');
  t.equal(code(() => decodeSyncRequest(new Uint8Array([0x93, 0, 1, 1]))), 'CODEC_WRONG_TYPE', 'kind 0');
  t.equal(code(() => decodeSyncRequest(new Uint8Array([0x92, 2, 1]))), 'CODEC_WRONG_LENGTH');
  t.equal(code(() => decodeSyncRequest(new Uint8Array([0x93, 2, 1, 1, 0]))), 'CODEC_TRAILING_BYTES');
  t.equal(code(() => decodeSyncRequest(new Uint8Array(40))), 'CODEC_TOO_LARGE');
  t.equal(code(() => decodeSyncHeader(new Uint8Array([0x93, 2, 1, 1]))), 'CODEC_WRONG_TYPE', 'unknown status');
  t.equal(code(() => decodeBlockPair(encodeBlockPair({ block: new Uint8Array(100), commit: new Uint8Array(1) }), 50)), 'CODEC_TOO_LARGE');
});

t.test('dial backoff doubles from the base up to the cap', async (t) => {
  const opts = { backoffBaseMs: 500, backoffMaxMs: 30_000 };
  t.same([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelayMs(n, opts)), [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  t.equal(backoffDelayMs(1000, opts), 30_000, 'no overflow for large counts');
});

t.test('the store adapter serves stored pairs and nothing past the head', async (t) => {
  const { storeBlockSource } = await import('../../../node/index.ts');
  const blocks = new Map([[1, new Uint8Array([1])], [2, new Uint8Array([2])]]);
  const commits = new Map([[1, new Uint8Array([11])], [2, new Uint8Array([12])]]);
  const source = storeBlockSource({
    head: { height: 2 } as never,
    blockBytes: async (h: number) => blocks.get(h),
    commitBytes: async (h: number) => commits.get(h),
  });
  t.equal(source.height(), 2);
  t.same(await source.blockAt(2), { block: new Uint8Array([2]), commit: new Uint8Array([12]) });
  t.equal(await source.blockAt(3), null);
});
