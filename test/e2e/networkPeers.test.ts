/**
 * A peer that sends garbage: malformed, oversized and badly signed messages on every consensus
 * topic and a forged transaction. The validator it talks to rejects them, scores it down until it is
 * banned and disconnected, and the network keeps committing blocks.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { ONE_TAG, nullLogger, publicKeyFromSecret } from '../../lib/index.ts';
import { VOTE_TYPE, encodeVoteMessage, type Vote } from '../../consensus/index.ts';
import { signTx } from '../../runtime/index.ts';
import { P2PNetwork, createP2PConfig } from '../../node/p2p/index.ts';
import { encodeTxBatch, sealEnvelope } from '../../node/gossip.ts';
import { Keyring, addressFromString } from '../../sdk/index.ts';
import { TestNetwork, waitFor } from './fixtures/network.ts';

type Topic = Parameters<P2PNetwork['publish']>[0];

/** Penalties the victim's log shows for `peer`: one reason per line, ending with the ban if any. */
function penalties(log: string, peer: string): string[] {
  return log.split('\n').filter((l) => l.includes(`"peer":"${peer}"`) && /Penalized peer|Banned peer/.test(l)).map((l) => {
    const reason = /"reason":"(\w+)"/.exec(l)?.[1] ?? '?';
    return l.includes('Banned peer') ? `BANNED(${reason})` : reason;
  });
}

t.test('misbehaving peers are scored down and banned; the validators keep committing', async (t) => {
  const net = await TestNetwork.create(t, 4);
  // The victim logs every penalty (debug) so the test can see each message's verdict.
  const configPath = `${net.nodes[0]!.home}/config.json`;
  const config = JSON.parse(await readFile(configPath, 'utf8')) as { log: { level: string } };
  config.log.level = 'debug';
  await writeFile(configPath, JSON.stringify(config));
  await net.startAll();
  await net.waitHeight([0, 1, 2, 3], 2);
  const status = await net.status(0);
  const victim = net.nodes[0]!;

  const attacker = async (): Promise<P2PNetwork> => {
    const a = new P2PNetwork(
      {
        chainId: status.chainId,
        identitySeed: randomBytes(32),
        // It allows itself what the validators do not: votes of 4 KiB, evidence of 8 KiB.
        config: createP2PConfig({ listen: '/ip4/127.0.0.1/tcp/0', topicBytesMax: { tx: 128 * 1024, proposal: 1024 * 1024, vote: 4096, evidence: 8192 } }),
      },
      { validate: () => 'accept', blocks: null, clock: { nowMs: () => BigInt(Date.now()) }, log: nullLogger },
    );
    t.teardown(() => a.stop());
    await a.start();
    await a.connect(victim.p2pAddr);
    await waitFor(() => ['vote', 'proposal', 'tx', 'evidence'].every((k) => a.topicPeers(k as Topic).includes(victim.peerId)), 'the victim subscribed, in the attacker’s view');
    return a;
  };
  const send = async (a: P2PNetwork, sends: Array<[Topic, Uint8Array, string]>): Promise<void> => {
    for (const [topic, data, what] of sends) t.comment(`sent ${what} to ${await a.publish(topic, data).catch(() => 0)} peer(s)`);
  };

  const validator = addressFromString(victim.validator);
  const forgedVote = (h: number, round: number): Uint8Array => {
    const vote: Vote = { type: VOTE_TYPE.prevote, height: h, round, blockHash: new Uint8Array(32).fill(round + 1), validator };
    return sealEnvelope(encodeVoteMessage({ vote, signature: randomBytes(64) }));
  };
  const secret = await new Keyring({ dir: `${net.nodes[1]!.home}/keyring` }).unlock('dev', 'devnet');
  const tx = signTx({ chainId: status.chainId, sender: publicKeyFromSecret(secret), nonce: 0, maxFee: ONE_TAG, body: { kind: 'transfer', to: validator, amount: 1n } }, secret);
  const badTx = new Uint8Array(tx.bytes);
  badTx[badTx.length - 1] = badTx[badTx.length - 1]! ^ 0xff; // the signature's last byte

  // Attacker A: bad signatures (votes at this height and the next, which the engine checks when
  // it gets there), a forged transaction, then garbage.
  const a = await attacker();
  const height = (await net.height(0)) + 1;
  await send(a, [
    ['vote', forgedVote(height, 0), 'a vote with a forged signature (this height)'],
    ['vote', forgedVote(height, 1), 'another (this height, round 1)'],
    ['tx', encodeTxBatch([badTx]), 'a transaction with a bad signature'],
    ['vote', sealEnvelope(randomBytes(120)), 'a malformed vote'],
    ['proposal', sealEnvelope(randomBytes(300)), 'a malformed proposal'],
    ['evidence', randomBytes(4), 'an evidence message with no envelope'],
  ]);
  await waitFor(async () => penalties(await net.log(0), a.peerId).some((p) => p.startsWith('BANNED')), 'the victim bans attacker A');
  const byA = penalties(await net.log(0), a.peerId);
  t.comment(`attacker A: ${byA.join(', ')}`);
  t.ok(byA.filter((p) => p.includes('invalidMessage')).length >= 5, 'each bad signature, the forged transaction and the garbage cost points');

  // Attacker B: oversized messages, caught before anything decodes them.
  const b = await attacker();
  await send(b, [
    ['vote', randomBytes(2000), 'an oversized vote'],
    ['vote', randomBytes(3000), 'another oversized vote'],
    ['evidence', randomBytes(6000), 'an oversized evidence message'],
  ]);
  await waitFor(async () => penalties(await net.log(0), b.peerId).some((p) => p.startsWith('BANNED')), 'the victim bans attacker B');
  const byB = penalties(await net.log(0), b.peerId);
  t.comment(`attacker B: ${byB.join(', ')}`);
  t.ok(byB.length >= 2 && byB.every((p) => p.includes('oversizeMessage')), 'oversized messages cost points');

  for (const [name, x] of [['A', a], ['B', b]] as const) {
    await waitFor(() => !x.peers().includes(victim.peerId), `the victim hung up on ${name}`);
    const again = await x.connect(victim.p2pAddr).then(() => 'accepted, then closed', () => 'refused');
    await waitFor(() => !x.peers().includes(victim.peerId), `banned ${name} does not stay connected`);
    t.comment(`${name} reconnecting: ${again}`);
  }
  t.pass('both attackers were disconnected and stay out');

  const now = await net.height(0);
  await net.waitHeight([0, 1, 2, 3], now + 3);
  for (const i of [0, 1, 2, 3]) t.equal(net.running.get(i)?.child.exitCode, null, `node ${i} still runs`);
  const hashes = await net.distinctHashes([0, 1, 2, 3], now + 3);
  t.ok([...hashes.values()].every((set) => set.size === 1), 'and they agree on every block');
});
