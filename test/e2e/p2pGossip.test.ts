/**
 * Gossip between real libp2p nodes on 127.0.0.1: delivery on every topic, validation verdicts,
 * scoring, bans and the size limit.
 */
import t from 'tap';
import { TOPIC_KINDS, type P2PNetwork, type TopicKind, type Verdict } from '../../node/index.ts';
import { ManualClock, addrOf, startNode, waitFor } from '../unit/p2p/harness.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A validator that accepts everything except messages starting with "bad", and records calls. */
function recordingValidator(): { calls: Array<{ topic: TopicKind; text: string; from: string }>; validate: (topic: TopicKind, data: Uint8Array, from: string) => Verdict } {
  const calls: Array<{ topic: TopicKind; text: string; from: string }> = [];
  return {
    calls,
    validate: (topic, data, from) => {
      const text = dec.decode(data);
      calls.push({ topic, text, from });
      if (text.startsWith('bad')) return 'reject';
      if (text.startsWith('meh')) return 'ignore';
      return 'accept';
    },
  };
}

function received(network: P2PNetwork, kind: TopicKind): string[] {
  return network.inbox(kind).drain(10_000).map((m) => dec.decode(m.data));
}

async function meshed(a: P2PNetwork, b: P2PNetwork, kinds: readonly TopicKind[]): Promise<void> {
  await waitFor(() => kinds.every((k) => a.topicPeers(k).includes(b.peerId) && b.topicPeers(k).includes(a.peerId)), `${a.peerId} and ${b.peerId} see each other's topics`);
}

t.test('three nodes bootstrap to one another and every topic reaches the others', async (t) => {
  const a = await startNode(t, { seed: 1 });
  const b = await startNode(t, { seed: 2, config: { bootstrap: [addrOf(a)] } });
  const c = await startNode(t, { seed: 3, config: { bootstrap: [addrOf(a), addrOf(b)] } });
  await waitFor(() => a.peers().length === 2 && b.peers().length === 2 && c.peers().length === 2, 'full mesh of 3');
  await meshed(a, b, TOPIC_KINDS);
  await meshed(a, c, TOPIC_KINDS);
  await meshed(b, c, TOPIC_KINDS);

  const nodes = { a, b, c };
  const inboxes = new Map<P2PNetwork, Map<TopicKind, string[]>>();
  for (const n of Object.values(nodes)) inboxes.set(n, new Map(TOPIC_KINDS.map((k) => [k, []])));
  for (const [name, sender] of Object.entries(nodes)) {
    for (const kind of TOPIC_KINDS) {
      const recipients = await sender.publish(kind, enc.encode(`${kind} from ${name}`));
      t.equal(recipients, 2, `${kind} from ${name} sent to both peers`);
    }
  }
  const expected = (self: string, kind: TopicKind): string[] =>
    Object.keys(nodes).filter((n) => n !== self).map((n) => `${kind} from ${n}`).sort();
  await waitFor(() => {
    for (const [name, n] of Object.entries(nodes)) {
      for (const kind of TOPIC_KINDS) {
        const seen = inboxes.get(n)?.get(kind) ?? [];
        seen.push(...received(n, kind));
        if (seen.length < 2) return false;
      }
      void name;
    }
    return true;
  }, 'every node receives every topic from both others');
  for (const [name, n] of Object.entries(nodes)) {
    for (const kind of TOPIC_KINDS) {
      t.same([...(inboxes.get(n)?.get(kind) ?? [])].sort(), expected(name, kind), `${name} got ${kind} from both others`);
    }
  }
  const m = b.metrics();
  t.equal(m.gossip.vote.accepted, 2, 'b accepted two votes');
  t.equal(m.gossip.vote.published, 1);
  t.equal(m.peers.connected, 2);
});

t.test('a rejected message is not forwarded and costs its sender; accepted ones are relayed', async (t) => {
  // A line: a — b — c. What a publishes reaches c only if b forwards it.
  const vb = recordingValidator();
  const vc = recordingValidator();
  const b = await startNode(t, { seed: 12, validate: vb.validate });
  const a = await startNode(t, { seed: 11, config: { bootstrap: [addrOf(b)] } });
  const c = await startNode(t, { seed: 13, validate: vc.validate, config: { bootstrap: [addrOf(b)] } });
  await meshed(a, b, ['tx']);
  await meshed(b, c, ['tx']);
  t.notOk(a.peers().includes(c.peerId), 'a and c are not connected');
  // getMeshPeers is on gossipsub's class, not its published interface.
  const mesh = b.libp2p.services.pubsub as unknown as { getMeshPeers(topic: string): string[] };
  await waitFor(() => mesh.getMeshPeers(b.topics.tx).length === 2, 'b has a and c in its tx mesh');

  await a.publish('tx', enc.encode('bad transaction'));
  await a.publish('tx', enc.encode('meh transaction'));
  await a.publish('tx', enc.encode('good transaction'));
  await waitFor(() => vc.calls.some((c) => c.text === 'good transaction'), 'c receives the good transaction through b');

  t.same(vb.calls.map((c) => c.text), ['bad transaction', 'meh transaction', 'good transaction'], 'b validated all three');
  t.ok(vb.calls.every((c) => c.from === a.peerId && c.topic === 'tx'), 'b knows a delivered them, on the tx topic');
  t.same(vc.calls.map((c) => c.text), ['good transaction'], 'c saw neither the rejected nor the ignored one');
  t.same(received(c, 'tx'), ['good transaction']);
  t.same(received(b, 'tx'), ['good transaction'], 'only the accepted message reaches b’s inbox');
  t.equal(b.scores.score(a.peerId), -b.config.score.penalties.invalidMessage, 'one rejection cost a its penalty');
  t.equal(b.scores.score(c.peerId), 0, 'c is blameless');
  const m = b.metrics().gossip.tx;
  t.same({ received: m.received, accepted: m.accepted, ignored: m.ignored, rejected: m.rejected }, { received: 3, accepted: 1, ignored: 1, rejected: 1 });
});

t.test('a peer that keeps sending invalid data is disconnected and refused during its ban', async (t) => {
  const clock = new ManualClock();
  const vb = recordingValidator();
  const banMs = 60_000;
  const b = await startNode(t, { seed: 22, validate: vb.validate, clock, config: { score: { peersMax: 16, banThreshold: -100, banMs, recoveryPerSecond: 0, penalties: { invalidMessage: 30, oversizeMessage: 50, invalidBlock: 100, badResponse: 50, timeout: 10, malformedStream: 50 } } } });
  const a = await startNode(t, { seed: 21 });
  await a.connect(addrOf(b));
  await meshed(a, b, ['vote']);

  for (let i = 0; i < 4; i++) await a.publish('vote', enc.encode(`bad vote ${i}`));
  await waitFor(() => b.scores.isBanned(a.peerId), 'b bans a');
  await waitFor(() => !b.peers().includes(a.peerId) && !a.peers().includes(b.peerId), 'b disconnects a');
  t.ok(b.scores.score(a.peerId) <= -100, `score ${b.scores.score(a.peerId)} at or below the threshold`);
  t.equal(b.metrics().peers.banned, 1);

  // During the ban b refuses a's connections (a's dial may complete its half of the handshake
  // before b drops it, so the test watches b's refusals rather than a's promise).
  const refusedBefore = b.metrics().peers.refused;
  await a.connect(addrOf(b)).catch(() => undefined);
  await waitFor(() => b.metrics().peers.refused > refusedBefore, 'b refuses a');
  await waitFor(() => !a.peers().includes(b.peerId), 'a is left without a connection to b');
  t.notOk(b.peers().includes(a.peerId), 'b holds no connection to a');
  clock.advance(banMs / 2);
  t.ok(b.scores.isBanned(a.peerId), 'still banned halfway through');
  const refusedHalfway = b.metrics().peers.refused;
  await a.connect(addrOf(b)).catch(() => undefined);
  await waitFor(() => b.metrics().peers.refused > refusedHalfway, 'b still refuses a halfway through the ban');
  await waitFor(() => !a.peers().includes(b.peerId), 'a is again left without a connection');

  // b does not dial a banned peer either.
  await t.rejects(b.connect(addrOf(a)), 'b does not dial a banned peer');

  clock.advance(banMs / 2);
  t.notOk(b.scores.isBanned(a.peerId), 'the ban has ended');
  t.equal(b.scores.score(a.peerId), 0, 'a starts again from 0');
  await a.connect(addrOf(b));
  await waitFor(() => b.peers().includes(a.peerId), 'b accepts a again after the ban');
});

t.test('messages over their topic limit are dropped before the validator sees them', async (t) => {
  const vb = recordingValidator();
  const b = await startNode(t, { seed: 32, validate: vb.validate, config: { topicBytesMax: { tx: 128 * 1024, proposal: 1024 * 1024, vote: 256, evidence: 4096 } } });
  const a = await startNode(t, { seed: 31, config: { topicBytesMax: { tx: 128 * 1024, proposal: 1024 * 1024, vote: 256, evidence: 4096 } } });
  await a.connect(addrOf(b));
  await meshed(a, b, ['vote']);

  const big = new Uint8Array(257).fill(0x61);
  await t.rejects(a.publish('vote', big), { code: 'P2P_MESSAGE_TOO_LARGE' }, 'the network refuses to publish it');
  // Bypass the sender's own check, as a hostile peer would.
  await a.libp2p.services.pubsub.publish(a.topics.vote, big);
  await a.publish('vote', enc.encode('small vote'));
  await waitFor(() => vb.calls.some((c) => c.text === 'small vote'), 'the small vote arrives');
  t.same(vb.calls.map((c) => c.text), ['small vote'], 'the validator never saw the oversized vote');
  t.same(received(b, 'vote'), ['small vote']);
  const m = b.metrics().gossip.vote;
  t.equal(m.oversize, 1, 'counted as oversize');
  t.equal(m.received, 2);
  t.equal(b.scores.score(a.peerId), -b.config.score.penalties.oversizeMessage, 'the sender pays the oversize penalty');
});

t.test('a full inbox drops the oldest message and counts it', async (t) => {
  const b = await startNode(t, { seed: 42, config: { inboxMax: 3 } });
  const a = await startNode(t, { seed: 41 });
  await a.connect(addrOf(b));
  await meshed(a, b, ['tx']);
  for (let i = 0; i < 5; i++) await a.publish('tx', enc.encode(`tx ${i}`));
  await waitFor(() => b.inbox('tx').pushed === 5, 'b accepted all five');
  t.equal(b.metrics().gossip.tx.inboxDropped, 2);
  t.same(received(b, 'tx'), ['tx 2', 'tx 3', 'tx 4'], 'the three newest remain, oldest first');
});
