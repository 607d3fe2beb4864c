import t from 'tap';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isChainError } from '../../../lib/index.ts';
import { P2PNetwork, createP2PConfig, loadNetworkIdentity, loadOrCreateNetworkIdentity, peerIdFromSeed, saveNetworkIdentity } from '../../../node/index.ts';
import { nullLogger } from '../../../lib/index.ts';
import { CHAIN_ID, ManualClock, identitySeed, startNode } from './harness.ts';

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e: unknown) {
    return isChainError(e) ? e.code : `not a ChainError: ${String(e)}`;
  }
  return 'no error';
}

t.test('the peer id follows from the seed, and the node uses it', async (t) => {
  const seed = identitySeed(7);
  const id = await peerIdFromSeed(seed);
  t.equal(await peerIdFromSeed(seed), id, 'deterministic');
  t.not(await peerIdFromSeed(identitySeed(8)), id, 'another seed, another id');
  t.match(id, /^12D3KooW/);
  const network = await startNode(t, { seed: 7 });
  t.equal(network.peerId, id);
  t.equal(await code(peerIdFromSeed(new Uint8Array(31))), 'P2P_BAD_IDENTITY_SEED');
});

t.test('the identity is created once, persisted with mode 0600 and loaded back', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'network-key.json');
  const created = await loadOrCreateNetworkIdentity(path);
  t.equal(created.seed.length, 32);
  t.equal((await stat(path)).mode & 0o777, 0o600);
  const again = await loadOrCreateNetworkIdentity(path);
  t.same(again, created, 'the second start reads the same identity');
  const json = JSON.parse(await readFile(path, 'utf8'));
  t.equal(json.peerId, created.peerId, 'the file names the peer id for operators');

  await saveNetworkIdentity(path, identitySeed(1));
  t.equal((await loadNetworkIdentity(path)).peerId, await peerIdFromSeed(identitySeed(1)));
  await writeFile(path, JSON.stringify({ seed: 'zz' }));
  t.equal(await code(loadNetworkIdentity(path)), 'P2P_BAD_IDENTITY_FILE');
  await writeFile(path, JSON.stringify({ seed: Buffer.from(identitySeed(2)).toString('hex'), peerId: created.peerId }));
  t.equal(await code(loadNetworkIdentity(path)), 'P2P_BAD_IDENTITY_FILE', 'a peer id that does not match the seed');
  await writeFile(path, 'not json');
  t.equal(await code(loadOrCreateNetworkIdentity(path)), 'P2P_BAD_IDENTITY_FILE', 'a broken file is not silently replaced');
});

t.test('a port already in use is a typed error, and the network can be stopped', async (t) => {
  const first = await startNode(t, { seed: 51 });
  const port = /\/tcp\/(\d+)\//.exec(first.listenAddrs()[0] ?? '')?.[1];
  const second = new P2PNetwork(
    { chainId: CHAIN_ID, identitySeed: identitySeed(52), config: createP2PConfig({ listen: `/ip4/127.0.0.1/tcp/${port}` }) },
    { validate: () => 'accept', blocks: null, clock: new ManualClock(), log: nullLogger },
  );
  t.equal(await code(second.start()), 'P2P_LISTEN_FAILED');
  await second.stop();
  t.equal(await code(second.publish('tx', new Uint8Array(1))), 'P2P_NOT_STARTED');
});
