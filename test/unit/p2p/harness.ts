/** Helpers for P2P tests: nodes on 127.0.0.1 port 0, a manual clock, fake chains, bounded waits. */
import type { Test } from 'tap';
import { concatBytes, encode, equalBytes, nullLogger, sha256, u32ToBytes } from '../../../lib/index.ts';
import { P2PError, P2PNetwork, createP2PConfig, type BlockPair, type BlockSource, type GossipValidator, type P2PConfig } from '../../../node/index.ts';

export const CHAIN_ID = 'tagger-p2p-test';

/** A clock the test moves by hand. */
export class ManualClock {
  private now: bigint;
  constructor(startMs = 1_000_000n) {
    this.now = startMs;
  }
  nowMs(): bigint {
    return this.now;
  }
  advance(ms: number): void {
    this.now += BigInt(ms);
  }
}

export function identitySeed(n: number): Uint8Array {
  return sha256(concatBytes(new TextEncoder().encode('p2p-test-seed'), u32ToBytes(n)));
}

export type NodeSpec = {
  seed: number;
  validate?: GossipValidator;
  blocks?: BlockSource | null;
  config?: Partial<P2PConfig>;
  clock?: ManualClock;
};

/** Starts a network on 127.0.0.1 port 0; stopped in t.teardown. */
export async function startNode(t: Test, spec: NodeSpec): Promise<P2PNetwork> {
  const config = createP2PConfig({ listen: '/ip4/127.0.0.1/tcp/0', ...spec.config });
  const network = new P2PNetwork(
    { chainId: CHAIN_ID, identitySeed: identitySeed(spec.seed), config },
    { validate: spec.validate ?? (() => 'accept'), blocks: spec.blocks ?? null, clock: spec.clock ?? new ManualClock(), log: nullLogger },
  );
  t.teardown(() => network.stop());
  await network.start();
  return network;
}

/** Polls `cond` every 20 ms until it holds; fails after `limitMs` (a bound, not an assertion on time). */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The first listen address of a node (with /p2p/<peer id>). */
export function addrOf(network: P2PNetwork): string {
  const addr = network.listenAddrs()[0];
  if (addr === undefined) throw new Error('node has no listen address');
  return addr;
}

/** Block `height` of a fake chain: [height, payload] with a deterministic payload of `size` bytes. */
export function fakeBlock(height: number, size: number): Uint8Array {
  const payload = new Uint8Array(size);
  let x = height * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    payload[i] = x >>> 24;
  }
  return encode([height, payload]);
}

/** Its fake "commit": the block's hash, so a verifier can check the pair. */
export function fakeCommit(block: Uint8Array): Uint8Array {
  return sha256(block);
}

/** A fake chain of `height` blocks of about `size` bytes, served from memory. */
export function fakeChain(height: number, size = 100): BlockSource & { pairs: Map<number, { block: Uint8Array; commit: Uint8Array }> } {
  const pairs = new Map<number, { block: Uint8Array; commit: Uint8Array }>();
  for (let h = 1; h <= height; h++) {
    const block = fakeBlock(h, size);
    pairs.set(h, { block, commit: fakeCommit(block) });
  }
  return { pairs, height: () => height, blockAt: (h) => pairs.get(h) ?? null };
}

/** Checks a pair the way a node checks a commit certificate: a typed error when it does not match. */
export function verifyFakePair(pair: BlockPair, expectedHeight: number): void {
  if (pair.height !== expectedHeight || !equalBytes(fakeCommit(pair.block), pair.commit)) {
    throw new P2PError({ code: 'P2P_BAD_RESPONSE', peer: 'test', reason: `bad fake block at ${pair.height}` });
  }
}
