/**
 * State snapshots (node/snapshot.ts): create from a real LevelDB chain, restore into a fresh home,
 * the restored chain is the original (state root, accounts, block h) and goes on with the original's
 * next blocks; damaged or forged snapshots are refused with a clear code before anything is written.
 */
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { ONE_TAG, bytesToHex, encode, nullLogger, sha256 } from '../../lib/index.ts';
import { decodeBlock } from '../../runtime/index.ts';
import { ChainStore, loadAccount } from '../../state/index.ts';
import { genesisToJson } from '../../genesis/index.ts';
import { encodeCommit } from '../../consensus/index.ts';
import { homePaths } from '../../node/home.ts';
import { SnapshotTaker, listSnapshots, parseManifest, pruneSnapshots, restoreSnapshot, snapshotStoreHead, type SnapshotManifest } from '../../node/snapshot.ts';
import { openTestChain, signedCommit, type TestChain } from '../utils/chain.ts';
import { GENESIS_TIME_MS, fixedKey, makeGenesis, signedTransfer } from '../utils/factories.ts';

const validator = fixedKey(0x10);
const keys = Array.from({ length: 20 }, (_, i) => fixedKey(i + 1));
const genesis = makeGenesis(keys, { balance: 1000n * ONE_TAG });

async function produce(chain: TestChain, txs = 3): Promise<void> {
  const height = (chain.store.head?.height ?? 0) + 1;
  for (let i = 0; i < txs; i++) {
    const from = keys[(height * 3 + i) % keys.length]!;
    chain.mempool.add(signedTransfer(from, chain.mempool.nextNonce(from.address), keys[(height + i) % keys.length]!.address, BigInt(height) * 1000n).bytes);
  }
  const { blockHash } = await chain.executor.buildProposal(height, 0, GENESIS_TIME_MS + BigInt(height) * 1000n);
  await chain.executor.commitBlock(height, blockHash, signedCommit(genesis.chainId, height, blockHash, [validator]));
}

/** A home with the chain's genesis and nothing else (as `tagger snapshot restore` expects). */
async function freshHome(dir: string, g = genesis): Promise<string> {
  await writeFile(homePaths(dir).genesis, JSON.stringify(genesisToJson(g)));
  return dir;
}

async function source(t: Tap): Promise<{ chain: TestChain; snap: string; manifest: SnapshotManifest }> {
  const chain = await openTestChain(await tmp(t), genesis);
  t.teardown(() => chain.store.close());
  for (let i = 0; i < 12; i++) await produce(chain);
  // Small chunks, so that the state spans several.
  const { dir, manifest } = await snapshotStoreHead(chain.store, genesis.chainId, join(await tmp(t), 'snapshots'), 300);
  return { chain, snap: dir, manifest };
}
type Tap = Test;

/** A new empty directory, removed after the test (tap's testdir is one per test). */
async function tmp(t: Tap): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tagger-snapshot-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function editManifest(dir: string, edit: (m: SnapshotManifest) => void): Promise<void> {
  const m = parseManifest(await readFile(join(dir, 'manifest.json'), 'utf8'));
  edit(m);
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(m));
}

async function copyOf(t: Tap, snap: string): Promise<string> {
  const dir = join(await tmp(t), 'copy');
  await cp(snap, dir, { recursive: true });
  return dir;
}

t.test('create → restore into a fresh home: same state root, accounts and block; the chain goes on', async (t) => {
  const { chain, snap, manifest } = await source(t);
  t.equal(manifest.height, 12);
  t.ok(manifest.chunks.length >= 3, `the state spans several chunks (${manifest.chunks.length})`);
  t.equal(manifest.stateRoot, bytesToHex(chain.store.head!.stateRoot));
  t.strictSame((await readdir(snap)).sort(), ['block.bin', 'commit.bin', 'manifest.json', 'receipts.bin', 'validators.bin', ...manifest.chunks.map((c) => c.name)].sort());

  const home = await freshHome(await tmp(t));
  const result = await restoreSnapshot({ home, from: snap, log: nullLogger });
  t.equal(result.height, 12);
  t.equal(result.trust, 'genesis-validators', 'trusted because the genesis set signed it');
  t.equal(result.stateRoot, manifest.stateRoot);

  const restored = await openTestChain(homePaths(home).chainDb, genesis);
  t.teardown(() => restored.store.close());
  t.equal(restored.store.head!.height, 12);
  t.equal(bytesToHex(restored.store.head!.stateRoot), bytesToHex(chain.store.head!.stateRoot), 'the state root is the original');
  t.equal(bytesToHex(restored.store.head!.blockHash), bytesToHex(chain.store.head!.blockHash));
  t.equal(restored.store.earliestHeight, 12, 'the restored node keeps heights from the snapshot on');
  for (const k of keys) t.strictSame(loadAccount(restored.store.state, k.address), loadAccount(chain.store.state, k.address), 'an account is the original');
  t.strictSame(await restored.store.blockBytes(12), await chain.store.blockBytes(12), 'block 12 is stored');
  t.strictSame(await restored.store.commitBytes(12), await chain.store.commitBytes(12), 'with its commit (the next block carries it)');
  const block12 = decodeBlock((await chain.store.blockBytes(12))!);
  for (const tx of block12.txs) t.equal((await restored.store.txRecord(sha256(tx)))?.height, 12, "block 12's transactions are indexed");
  t.equal(await restored.store.blockBytes(11), undefined, 'nothing below the snapshot');

  // The original goes on; the restored chain executes its blocks (as block sync would) and agrees.
  for (let h = 13; h <= 15; h++) {
    await produce(chain);
    const block = decodeBlock((await chain.store.blockBytes(h))!);
    const executed = restored.executor.executeBlock(block);
    await restored.executor.commitBlock(h, executed.hash, signedCommit(genesis.chainId, h, executed.hash, [validator]));
    t.equal(bytesToHex(restored.store.head!.stateRoot), bytesToHex(chain.store.head!.stateRoot), `state roots agree at ${h}`);
  }

  await restored.store.close();
  await t.rejects(restoreSnapshot({ home, from: snap, log: nullLogger }), { code: 'SNAPSHOT_HOME_NOT_EMPTY' }, 'a home that holds a chain is refused');
});

t.test('a damaged chunk is refused and nothing is written', async (t) => {
  const { snap, manifest } = await source(t);
  const copy = await copyOf(t, snap);
  const chunk = join(copy, manifest.chunks[1]!.name);
  const bytes = new Uint8Array(await readFile(chunk));
  bytes[bytes.length - 1]! ^= 0x01;
  await writeFile(chunk, bytes);
  const home = await freshHome(await tmp(t));
  await t.rejects(restoreSnapshot({ home, from: copy, log: nullLogger }), { code: 'SNAPSHOT_CHUNK_MISMATCH', message: /chunk 1 .*does not match its hash/ });
  const store = await ChainStore.open(homePaths(home).chainDb);
  t.equal(store.head, null, 'the home is still empty');
  await store.close();
});

t.test('a forged chunk with a matching manifest hash fails the state root check', async (t) => {
  const { snap, manifest } = await source(t);
  const copy = await copyOf(t, snap);
  // Give key 1 a fortune: re-encode chunk 0 with one value changed and fix its hash in the manifest.
  const name = manifest.chunks[0]!.name;
  const { decodeCanonical, Reader } = await import('../../lib/index.ts');
  const entries = decodeCanonical(new Uint8Array(await readFile(join(copy, name))), 'chunk', 1 << 20, (v) => Reader.list(v, 'chunk', 1 << 20, (item) => {
    const r = Reader.array(item, 'entry', 2);
    return [r.bytesMax('key', 1 << 20), r.bytesMax('value', 1 << 20)] as [Uint8Array, Uint8Array];
  }), (e) => encode(e));
  const first = entries[0]!;
  first[1] = Uint8Array.of(...first[1], 0);
  const forged = encode(entries);
  await writeFile(join(copy, name), forged);
  await editManifest(copy, (m) => {
    m.chunks[0] = { ...m.chunks[0]!, sha256: bytesToHex(sha256(forged)), bytes: forged.length };
  });
  await t.rejects(restoreSnapshot({ home: await freshHome(await tmp(t)), from: copy, log: nullLogger }), { code: 'SNAPSHOT_STATE_ROOT_MISMATCH' });
});

t.test('a manifest that lies about the block, or a commit not signed by the set, is refused', async (t) => {
  const { snap, manifest } = await source(t);
  const cases: Array<[string, (dir: string) => Promise<void>, string]> = [
    ['state root', (dir) => editManifest(dir, (m) => void (m.stateRoot = bytesToHex(sha256(Uint8Array.of(1))))), 'SNAPSHOT_BAD_BLOCK'],
    ['height', (dir) => editManifest(dir, (m) => void (m.height = manifest.height + 1)), 'SNAPSHOT_BAD_BLOCK'],
    ['block file hash', (dir) => editManifest(dir, (m) => void (m.files.block.sha256 = bytesToHex(sha256(Uint8Array.of(2))))), 'SNAPSHOT_FILE_MISMATCH'],
    ['format', (dir) => editManifest(dir, (m) => void (m.format = 2)), 'SNAPSHOT_BAD_MANIFEST'],
    ['entries', (dir) => editManifest(dir, (m) => void (m.entries = m.entries + 1)), 'SNAPSHOT_BAD_MANIFEST'],
    [
      'commit signed by a stranger',
      async (dir) => {
        const forged = encodeCommit(signedCommit(genesis.chainId, manifest.height, Buffer.from(manifest.blockHash, 'hex'), [fixedKey(0x77)]));
        await writeFile(join(dir, 'commit.bin'), forged);
        await editManifest(dir, (m) => void (m.files.commit.sha256 = bytesToHex(sha256(forged))));
      },
      'SNAPSHOT_BAD_COMMIT',
    ],
    ['manifest is not JSON', (dir) => writeFile(join(dir, 'manifest.json'), '{'), 'SNAPSHOT_BAD_MANIFEST'],
  ];
  for (const [what, damage, code] of cases) {
    const copy = join(await tmp(t), 'copy');
    await cp(snap, copy, { recursive: true });
    await damage(copy);
    const home = await tmp(t);
    await t.rejects(restoreSnapshot({ home: await freshHome(home), from: copy, log: nullLogger }), { code }, `${what}: ${code}`);
  }
  await t.rejects(restoreSnapshot({ home: await freshHome(await tmp(t)), from: join(snap, 'nowhere'), log: nullLogger }), { code: 'SNAPSHOT_NOT_FOUND' });
});

t.test('trust: another chain is refused; a trusted hash must be the block', async (t) => {
  const { snap, manifest } = await source(t);
  const other = makeGenesis(keys, { balance: 1000n * ONE_TAG, chainId: 'other-chain' });
  await t.rejects(restoreSnapshot({ home: await freshHome(await tmp(t), other), from: snap, log: nullLogger }), { code: 'SNAPSHOT_WRONG_CHAIN' });
  await t.rejects(
    restoreSnapshot({ home: await freshHome(await tmp(t)), from: snap, trustedHash: sha256(Uint8Array.of(3)), log: nullLogger }),
    { code: 'SNAPSHOT_UNTRUSTED', message: /is not the trusted hash/ },
  );
  const ok = await restoreSnapshot({ home: await freshHome(await tmp(t)), from: snap, trustedHash: Buffer.from(manifest.blockHash, 'hex'), log: nullLogger });
  t.equal(ok.trust, 'trusted-hash');
});

t.test('SnapshotTaker: every `interval` heights in the background, keeping the last `keep`', async (t) => {
  const chain = await openTestChain(await tmp(t), genesis);
  t.teardown(() => chain.store.close());
  const root = join(await tmp(t), 'snapshots');
  const taker = new SnapshotTaker({ interval: 3, keep: 2, chunkBytes: 1024 }, { root, chainId: genesis.chainId, store: chain.store, log: nullLogger });
  for (let h = 1; h <= 10; h++) {
    await produce(chain, 1);
    taker.afterCommit(h);
    // Block 10 commits while snapshot 9 is being written.
    if (h !== 9) await taker.idle();
  }
  t.strictSame(taker.written, [3, 6, 9]);
  t.strictSame(await listSnapshots(root), [9, 6], 'the last two are kept');
  const m = parseManifest(await readFile(join(root, '9', 'manifest.json'), 'utf8'));
  t.equal(m.height, 9);
  const block9 = decodeBlock((await chain.store.blockBytes(9))!);
  t.equal(m.stateRoot, bytesToHex(block9.header.stateRoot), "snapshot 9 holds block 9's state, not a later one");
  const now = await taker.takeNow();
  t.equal(now.height, 10);
  t.strictSame(await pruneSnapshots(root, 1), [9]);
  t.strictSame(await listSnapshots(root), [10]);
});
