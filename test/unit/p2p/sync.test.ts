/** SyncClient over a fake network: pipelining, peer choice, failure handling. No sockets. */
import t from 'tap';
import { nullLogger } from '../../../lib/index.ts';
import { SyncClient, type BlockPair, type PenaltyReason, type SyncNetwork } from '../../../node/index.ts';
import { fakeChain, verifyFakePair } from './harness.ts';

type Event = string;

/** A fake network over in-memory chains, recording every call in order. */
function fakeNetwork(chains: Record<string, { height: number; bad?: number; size?: number }>, events: Event[]): SyncNetwork & { penalties: Array<[string, PenaltyReason]> } {
  const served = Object.fromEntries(Object.entries(chains).map(([peer, c]) => [peer, fakeChain(c.height, c.size ?? 20)]));
  const penalties: Array<[string, PenaltyReason]> = [];
  return {
    penalties,
    peers: () => Object.keys(chains),
    status: async (peer) => chains[peer]?.height ?? 0,
    fetchBlocks: async (peer, from, count) => {
      events.push(`fetch ${peer} ${from}+${count}`);
      await new Promise((r) => setImmediate(r));
      const out: BlockPair[] = [];
      for (let h = from; h < from + count; h++) {
        const pair = served[peer]?.pairs.get(h);
        if (pair === undefined) break;
        out.push({ height: h, block: pair.block, commit: h === chains[peer]?.bad ? new Uint8Array(32) : pair.commit });
      }
      return out;
    },
    penalize: (peer, reason) => {
      penalties.push([peer, reason]);
      return { score: -100, banned: true, newlyBanned: true };
    },
  };
}

function node(events: Event[]): { height: () => number; apply: (pairs: BlockPair[]) => Promise<void> } {
  let height = 0;
  return {
    height: () => height,
    apply: async (pairs) => {
      events.push(`apply ${pairs[0]?.height}+${pairs.length}`);
      await new Promise((r) => setImmediate(r));
      for (const p of pairs) {
        verifyFakePair(p, height + 1);
        height++;
      }
    },
  };
}

t.test('the next batch is requested before the current one is applied', async (t) => {
  const events: Event[] = [];
  const network = fakeNetwork({ a: { height: 250 } }, events);
  const n = node(events);
  const result = await new SyncClient({ batchSize: 100 }, { network, localHeight: n.height, apply: n.apply, log: nullLogger }).syncToTip();
  t.same(result, { height: 250, applied: 250, bestSeen: 250, failedPeers: [] });
  t.same(events, ['fetch a 1+100', 'fetch a 101+100', 'apply 1+100', 'fetch a 201+50', 'apply 101+100', 'apply 201+50']);
});

t.test('syncs from the highest peer; a bad batch costs that peer and the sync moves on', async (t) => {
  const events: Event[] = [];
  const network = fakeNetwork({ low: { height: 100 }, liar: { height: 400, bad: 150 }, good: { height: 300 } }, events);
  const n = node(events);
  const result = await new SyncClient({ batchSize: 100 }, { network, localHeight: n.height, apply: n.apply, log: nullLogger }).syncToTip();
  t.equal(result.height, 300, 'synced to the best honest peer');
  t.same(result.failedPeers, ['liar']);
  t.same(network.penalties, [['liar', 'invalidBlock']]);
  t.ok(events.indexOf('fetch liar 1+100') < events.indexOf('fetch good 150+100'), 'the liar was tried first, then good from where the node stood');
  t.ok(events.includes('fetch good 150+100'), 'resumes at the first unapplied height');
});

t.test('an operating error in apply is not blamed on the peer', async (t) => {
  const events: Event[] = [];
  const network = fakeNetwork({ a: { height: 50 } }, events);
  const failing = async (): Promise<void> => {
    throw new Error('disk full');
  };
  await t.rejects(new SyncClient({ batchSize: 10 }, { network, localHeight: () => 0, apply: failing, log: nullLogger }).syncToTip(), /disk full/);
  t.same(network.penalties, []);
});

t.test('a peer that claims a height but serves nothing fails; bounds end the run', async (t) => {
  const events: Event[] = [];
  const network = fakeNetwork({ empty: { height: 0 } }, events);
  network.status = async () => 10;
  const n = node(events);
  const result = await new SyncClient({ batchSize: 5, failuresMax: 3 }, { network, localHeight: n.height, apply: n.apply, log: nullLogger }).syncToTip();
  t.same(result, { height: 0, applied: 0, bestSeen: 10, failedPeers: ['empty'] });
  t.same(network.penalties, [], 'an empty answer is not proof of malice');
});

t.test('nothing to do when no peer is ahead', async (t) => {
  const events: Event[] = [];
  const network = fakeNetwork({ a: { height: 0 } }, events);
  const result = await new SyncClient({}, { network, localHeight: () => 0, apply: () => undefined, log: nullLogger }).syncToTip();
  t.same(result, { height: 0, applied: 0, bestSeen: 0, failedPeers: [] });
  t.same(events, []);
});
