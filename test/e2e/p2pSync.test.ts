/**
 * Block sync between real libp2p nodes on 127.0.0.1: batches, caps, unknown heights, a peer with
 * bad blocks, and malformed stream data.
 */
import t from 'tap';
import { lpStream } from '@libp2p/utils';
import { encode, nullLogger } from '../../lib/index.ts';
import { syncToTip, toPeerId, type BlockPair, type BlockSource, type P2PNetwork } from '../../node/index.ts';
import { addrOf, fakeBlock, fakeChain, fakeCommit, startNode, verifyFakePair, waitFor } from '../unit/p2p/harness.ts';

/** A verify-and-apply callback over an in-memory height, as a node's executor would be. */
function applier(): { height: () => number; apply: (pairs: BlockPair[]) => void; batches: number[] } {
  let height = 0;
  const batches: number[] = [];
  return {
    height: () => height,
    batches,
    apply: (pairs) => {
      batches.push(pairs.length);
      for (const pair of pairs) {
        verifyFakePair(pair, height + 1);
        height++;
      }
    },
  };
}

async function connected(a: P2PNetwork, b: P2PNetwork): Promise<void> {
  await a.connect(addrOf(b));
  await waitFor(() => a.peers().includes(b.peerId) && b.peers().includes(a.peerId), 'connected');
}

t.test('a node fetches 1,000 blocks from another in batches', async (t) => {
  const chain = fakeChain(1000, 100);
  const a = await startNode(t, { seed: 101, blocks: chain, config: { sync: { countMax: 100, responseBytesMax: 1024 * 1024, frameBytesMax: 64 * 1024, requestTimeoutMs: 10_000, inboundStreamsMax: 4 } } });
  const b = await startNode(t, { seed: 102 });
  await connected(b, a);

  t.equal(await b.status(a.peerId), 1000, 'status reports the peer height');
  const got: BlockPair[] = [];
  for (let from = 1; from <= 1000; from += 100) {
    const pairs = await b.fetchBlocks(a.peerId, from, 100);
    t.equal(pairs.length, 100, `batch from ${from}`);
    got.push(...pairs);
  }
  t.equal(got.length, 1000);
  let mismatches = 0;
  got.forEach((p, i) => {
    const want = chain.pairs.get(i + 1);
    if (p.height !== i + 1 || want === undefined || Buffer.compare(p.block, want.block) !== 0 || Buffer.compare(p.commit, want.commit) !== 0) mismatches++;
  });
  t.equal(mismatches, 0, 'every block and commit arrives intact, in order');
  t.equal(b.metrics().sync.blocksFetched, 1000);
  t.equal(a.metrics().sync.served, 11, 'one status and ten block requests served');

  t.same(await b.fetchBlocks(a.peerId, 5000, 10), [], 'unknown heights: an empty answer');
  t.same((await b.fetchBlocks(a.peerId, 995, 100)).map((p) => p.height), [995, 996, 997, 998, 999, 1000], 'only what exists');
  await t.rejects(b.fetchBlocks(a.peerId, 1, b.config.sync.countMax + 1), { code: 'P2P_BAD_REQUEST' }, 'a count over the cap is refused locally');
  await t.rejects(b.fetchBlocks(a.peerId, 0, 1), { code: 'P2P_BAD_REQUEST' });
});

t.test('the server holds its caps on count and bytes', async (t) => {
  const chain = fakeChain(300, 1000);
  const a = await startNode(t, { seed: 111, blocks: chain, config: { sync: { countMax: 50, responseBytesMax: 20 * 1024, frameBytesMax: 4 * 1024, requestTimeoutMs: 10_000, inboundStreamsMax: 4 } } });
  const b = await startNode(t, { seed: 112, config: { sync: { countMax: 200, responseBytesMax: 1024 * 1024, frameBytesMax: 64 * 1024, requestTimeoutMs: 10_000, inboundStreamsMax: 4 } } });
  await connected(b, a);
  const pairs = await b.fetchBlocks(a.peerId, 1, 200);
  const bytes = pairs.reduce((n, p) => n + encode([p.block, p.commit]).length, 0);
  t.ok(pairs.length > 0 && pairs.length < 50, `the byte cap cut the answer to ${pairs.length} blocks`);
  t.ok(bytes <= 20 * 1024, `${bytes} bytes within the 20 KiB cap`);
  t.same(pairs.map((p) => p.height), pairs.map((_, i) => i + 1), 'contiguous from the start');

  const small = fakeChain(300, 10);
  const c = await startNode(t, { seed: 113, blocks: small, config: { sync: { countMax: 50, responseBytesMax: 1024 * 1024, frameBytesMax: 4 * 1024, requestTimeoutMs: 10_000, inboundStreamsMax: 4 } } });
  await connected(b, c);
  t.equal((await b.fetchBlocks(c.peerId, 1, 200)).length, 50, 'the count cap: 50 of 200 asked');
});

t.test('the client holds its caps against a server that ignores them', async (t) => {
  const b = await startNode(t, { seed: 122, config: { sync: { countMax: 10, responseBytesMax: 8 * 1024, frameBytesMax: 2 * 1024, requestTimeoutMs: 2_000, inboundStreamsMax: 4 } } });

  // A hostile server: answers with a header claiming more than asked, or with oversized frames.
  const hostile = async (seed: number, answer: (req: Uint8Array) => Uint8Array[]): Promise<P2PNetwork> => {
    const n = await startNode(t, { seed });
    await n.libp2p.handle(n.syncProtocol, async (stream) => {
      const lp = lpStream(stream);
      const req = (await lp.read()).subarray();
      await lp.writeV(answer(req));
      await stream.close();
    }, { force: true });
    await connected(b, n);
    return n;
  };
  const pair = (h: number, size: number): Uint8Array => {
    const block = fakeBlock(h, size);
    return encode([block, fakeCommit(block)]);
  };
  const tooMany = await hostile(123, () => [encode([0, 100, 11]), ...Array.from({ length: 11 }, (_, i) => pair(i + 1, 10))]);
  await t.rejects(b.fetchBlocks(tooMany.peerId, 1, 10), { code: 'P2P_BAD_RESPONSE' }, 'more blocks than asked');
  t.ok(b.scores.score(tooMany.peerId) < 0, 'and the peer is scored down');

  const bigFrame = await hostile(124, () => [encode([0, 100, 1]), pair(1, 4096)]);
  await t.rejects(b.fetchBlocks(bigFrame.peerId, 1, 1), { code: 'P2P_BAD_RESPONSE' }, 'a frame over frameBytesMax');
  t.ok(b.scores.score(bigFrame.peerId) < 0, 'scored down');

  const tooMuch = await hostile(125, () => [encode([0, 100, 6]), ...Array.from({ length: 6 }, (_, i) => pair(i + 1, 1800))]);
  await t.rejects(b.fetchBlocks(tooMuch.peerId, 1, 6), { code: 'P2P_RESPONSE_TOO_LARGE' }, 'an answer over responseBytesMax');
  t.ok(b.scores.score(tooMuch.peerId) < 0, 'scored down');

  const garbage = await hostile(126, () => [new Uint8Array([0xc1, 0xc1, 0xc1])]);
  await t.rejects(b.fetchBlocks(garbage.peerId, 1, 1), { code: 'P2P_BAD_RESPONSE' }, 'a header that does not decode');

  // A server that never answers: the request times out instead of hanging.
  const silent = await startNode(t, { seed: 127 });
  await silent.libp2p.handle(silent.syncProtocol, () => undefined, { force: true });
  await connected(b, silent);
  await t.rejects(b.status(silent.peerId), { code: 'P2P_TIMEOUT' }, 'a silent peer times out');
  t.equal(b.scores.score(silent.peerId), -b.config.score.penalties.timeout, 'a timeout costs its penalty');
});

t.test('syncToTip downloads pipelined batches and drops a peer whose blocks fail verification', async (t) => {
  const good = fakeChain(600, 100);
  // The bad peer reports a higher chain and serves a corrupted commit at height 150.
  const badChain = fakeChain(700, 100);
  const badSource: BlockSource = {
    height: () => 700,
    blockAt: (h) => {
      const pair = badChain.pairs.get(h);
      if (pair === undefined) return null;
      return h === 150 ? { block: pair.block, commit: new Uint8Array(32) } : pair;
    },
  };
  const syncOpts = { countMax: 100, responseBytesMax: 1024 * 1024, frameBytesMax: 64 * 1024, requestTimeoutMs: 10_000, inboundStreamsMax: 4 };
  const honest = await startNode(t, { seed: 131, blocks: good, config: { sync: syncOpts } });
  const liar = await startNode(t, { seed: 132, blocks: badSource, config: { sync: syncOpts } });
  const b = await startNode(t, { seed: 133, config: { sync: syncOpts } });
  await connected(b, honest);
  await connected(b, liar);

  const node = applier();
  const result = await syncToTip({ network: b, localHeight: node.height, apply: (pairs) => node.apply(pairs), log: nullLogger }, { batchSize: 100 });
  t.equal(result.height, 600, 'synced to the honest tip');
  t.equal(node.height(), 600);
  t.same(result.failedPeers, [liar.peerId], 'the liar failed');
  t.equal(result.bestSeen, 700, 'it had claimed 700');
  t.ok(b.scores.isBanned(liar.peerId), 'the liar is banned');
  await waitFor(() => !b.peers().includes(liar.peerId), 'and disconnected');
  t.ok(b.peers().includes(honest.peerId), 'the honest peer stays');
  t.ok(node.batches.every((n) => n <= 100), 'batches never exceed the batch size');
});

t.test('malformed stream data does not crash the node', async (t) => {
  const chain = fakeChain(10, 50);
  // A high ban threshold keeps b connected through all four bad requests.
  const a = await startNode(t, { seed: 141, blocks: chain, config: { score: { peersMax: 16, banThreshold: -10_000, banMs: 60_000, recoveryPerSecond: 0, penalties: { invalidMessage: 20, oversizeMessage: 50, invalidBlock: 100, badResponse: 50, timeout: 10, malformedStream: 50 } } } });
  const b = await startNode(t, { seed: 142 });
  await connected(b, a);
  const id = toPeerId(a.peerId);

  const send = async (protocol: string, bytes: Uint8Array): Promise<void> => {
    const stream = await b.libp2p.dialProtocol(id, protocol);
    stream.send(bytes);
    await stream.close().catch(() => undefined);
  };
  const malformedBefore = a.metrics().sync.malformed + a.metrics().sync.badRequests;
  // An oversize length prefix (2^35), a frame that is not a request, random bytes, a request with trailing bytes.
  await send(a.syncProtocol, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x7f]));
  await send(a.syncProtocol, new Uint8Array([3, 0xc1, 0xc1, 0xc1]));
  await send(a.syncProtocol, Uint8Array.from({ length: 300 }, (_, i) => (i * 7919) & 0xff));
  await send(a.syncProtocol, new Uint8Array([5, 0x93, 2, 1, 1, 0]));
  // Garbage on the gossip stream too.
  await send('/meshsub/1.1.0', new Uint8Array([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  await waitFor(() => a.metrics().sync.malformed + a.metrics().sync.badRequests >= malformedBefore + 4, 'a counts four malformed requests');

  t.ok(a.scores.score(b.peerId) < 0, 'the sender is scored down');
  t.equal(await b.status(a.peerId), 10, 'the node still answers');
  t.equal((await b.fetchBlocks(a.peerId, 1, 10)).length, 10);
});
