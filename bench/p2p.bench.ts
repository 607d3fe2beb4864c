/**
 * The P2P layer between two processes on 127.0.0.1: gossip messages/s for 200-byte messages, and
 * block sync blocks/s for 10,000 blocks of ~1 KB (fake blocks; each pair is checked by hashing, as
 * a stand-in for commit verification). The serving peer runs in a child process (this file, started
 * with P2P_BENCH_PEER=1); the measuring node runs here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { nullLogger } from '../lib/index.ts';
import { P2PNetwork, createP2PConfig, syncToTip, type BlockPair } from '../node/index.ts';
import { CHAIN_ID, ManualClock, fakeChain, identitySeed, verifyFakePair } from '../test/unit/p2p/harness.ts';

const GOSSIP_MESSAGES = Number(process.env["P2P_BENCH_N"] ?? 20_000);
const GOSSIP_BYTES = 200;
const SYNC_BLOCKS = 10_000;
const SYNC_BLOCK_BYTES = 1000;
const SYNC_BATCH = 256;
const SELF = fileURLToPath(import.meta.url);

function config(): ReturnType<typeof createP2PConfig> {
  return createP2PConfig({ listen: '/ip4/127.0.0.1/tcp/0', inboxMax: GOSSIP_MESSAGES * 2 });
}

/** The child: serves the fake chain and publishes on command. */
async function peerMain(): Promise<void> {
  const network = new P2PNetwork(
    { chainId: CHAIN_ID, identitySeed: identitySeed(9001), config: config() },
    { validate: () => 'accept', blocks: fakeChain(SYNC_BLOCKS, SYNC_BLOCK_BYTES), clock: new ManualClock(), log: nullLogger },
  );
  await network.start();
  process.stdout.write(`addr ${network.listenAddrs()[0]}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    const [command, arg] = line.split(' ');
    if (command === 'gossip') {
      const message = new Uint8Array(GOSSIP_BYTES);
      for (let i = 0; i < Number(arg); i++) {
        new DataView(message.buffer).setUint32(0, i);
        await network.publish('tx', message);
      }
      process.stdout.write('published\n');
    } else if (command === 'stop') {
      break;
    }
  }
  await network.stop();
  process.stdin.destroy();
}

type Child = { child: ChildProcess; lines: AsyncIterator<string> };

async function startPeer(): Promise<Child & { addr: string }> {
  const child = spawn(process.execPath, [SELF], { env: { ...process.env, P2P_BENCH_PEER: '1' }, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  const first = await lines.next();
  const addr = /^addr (\S+)$/.exec(String(first.value))?.[1];
  if (addr === undefined) throw new Error(`peer did not start: ${String(first.value)}`);
  return { child, lines, addr };
}

async function until(cond: () => boolean, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('benchmark stalled');
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function gossipRate(network: P2PNetwork, peer: Child, peerId: string): Promise<Record<string, number>> {
  await until(() => network.topicPeers('tx').includes(peerId), 30_000);
  const inbox = network.inbox('tx');
  const before = inbox.pushed;
  const start = performance.now();
  peer.child.stdin?.write(`gossip ${GOSSIP_MESSAGES}\n`);
  await until(() => inbox.pushed - before >= GOSSIP_MESSAGES, 120_000);
  const seconds = (performance.now() - start) / 1000;
  inbox.drain(GOSSIP_MESSAGES * 2);
  await peer.lines.next();
  return { messages: GOSSIP_MESSAGES, messageBytes: GOSSIP_BYTES, seconds: round(seconds), messagesPerSecond: Math.round(GOSSIP_MESSAGES / seconds) };
}

async function syncRate(network: P2PNetwork): Promise<Record<string, number>> {
  let height = 0;
  const apply = (pairs: BlockPair[]): void => {
    for (const pair of pairs) {
      verifyFakePair(pair, height + 1);
      height++;
    }
  };
  const start = performance.now();
  const result = await syncToTip({ network, localHeight: () => height, apply, log: nullLogger }, { batchSize: SYNC_BATCH });
  const seconds = (performance.now() - start) / 1000;
  if (result.height !== SYNC_BLOCKS) throw new Error(`synced to ${result.height}, not ${SYNC_BLOCKS}`);
  return { blocks: SYNC_BLOCKS, blockBytes: SYNC_BLOCK_BYTES, batch: SYNC_BATCH, seconds: round(seconds), blocksPerSecond: Math.round(SYNC_BLOCKS / seconds) };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export async function run(): Promise<Record<string, unknown>> {
  const peer = await startPeer();
  const network = new P2PNetwork(
    { chainId: CHAIN_ID, identitySeed: identitySeed(9002), config: config() },
    { validate: () => 'accept', blocks: null, clock: new ManualClock(), log: nullLogger },
  );
  try {
    await network.start();
    const peerId = await network.connect(peer.addr);
    const gossip = await gossipRate(network, peer, peerId);
    const sync = await syncRate(network);
    return { setup: 'two processes on 127.0.0.1, TCP + Noise + yamux', gossip, sync };
  } finally {
    peer.child.stdin?.write('stop\n');
    await network.stop();
    await new Promise((r) => peer.child.once('exit', r));
  }
}

if (process.env['P2P_BENCH_PEER'] === '1' && process.argv[1] === SELF) await peerMain();
