/**
 * State snapshots (docs/operators.md §Snapshots, docs/spec/storage.md §Snapshots): the full state at
 * a height `h` as a set of files a new node restores from instead of replaying the chain.
 *
 *   <home>/snapshots/<h>/manifest.json   what follows, with the SHA-256 of every file
 *   <home>/snapshots/<h>/chunk-NNNNNN.bin state entries in the tree's order (by SHA-256 of the key),
 *                                        each chunk a canonical list of [key, value], at most
 *                                        `chunkBytes` (unless one entry alone is larger)
 *   <home>/snapshots/<h>/block.bin       block h (its header commits to the state root)
 *   <home>/snapshots/<h>/commit.bin      the commit certificate of block h (> 2/3 of the power signed it)
 *   <home>/snapshots/<h>/receipts.bin    block h's receipts (so the restored node serves block h whole)
 *   <home>/snapshots/<h>/validators.bin  the validator set that signed block h (the header's validatorSetHash)
 *
 * A snapshot is written from one immutable version of the state tree (the tree after block h),
 * chunk by chunk with a turn of the event loop between chunks, so it neither blocks consensus nor
 * sees later blocks; into a temporary directory renamed into place when complete.
 *
 * Restoring checks, in order: every file's hash; that the block is the manifest's height, hash and
 * state root; that the commit certifies it with > 2/3 of the validator set named by its header; that
 * this set is trusted (it is the genesis set, or the operator vouched for the block hash); that the
 * entries rebuild exactly the header's state root. Only then is anything written to the database.
 */
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ChainError, CodecError, Reader, bytesToHex, decodeCanonical, encode, equalBytes, hexToBytes, isChainError, merkleRoot, sha256, type Logger } from '../lib/index.ts';
import {
  ChainStore,
  SparseMerkleTree,
  decodeValidatorSet,
  encodeValidatorSet,
  validatorSetHash,
  type StateReader,
} from '../state/index.ts';
import { blockHash as hashHeader, decodeBlock, decodeReceipts, encodeReceipt, loadLastValidatorSet } from '../runtime/index.ts';
import { decodeCommit, verifyCommit, writeFileDurable } from '../consensus/index.ts';
import { genesisHash, genesisValidatorSet, parseGenesisJson } from '../genesis/index.ts';
import { homePaths } from './home.ts';

export type SnapshotErrorType =
  | { code: 'SNAPSHOT_NOT_FOUND'; dir: string }
  | { code: 'SNAPSHOT_BAD_MANIFEST'; reason: string }
  | { code: 'SNAPSHOT_FILE_MISMATCH'; file: string }
  | { code: 'SNAPSHOT_CHUNK_MISMATCH'; chunk: number; reason: string }
  | { code: 'SNAPSHOT_WRONG_CHAIN'; reason: string }
  | { code: 'SNAPSHOT_BAD_BLOCK'; reason: string }
  | { code: 'SNAPSHOT_BAD_COMMIT'; reason: string }
  | { code: 'SNAPSHOT_UNTRUSTED'; validatorSetHash: string; blockHash: string }
  | { code: 'SNAPSHOT_STATE_ROOT_MISMATCH'; expected: string; actual: string }
  | { code: 'SNAPSHOT_HOME_NOT_EMPTY'; height: number }
  | { code: 'SNAPSHOT_NOTHING_TO_SNAPSHOT' };
export class SnapshotError extends ChainError<SnapshotErrorType> {}

export const SNAPSHOT_FORMAT = 1;
export const SNAPSHOTS_DIR = 'snapshots';
/** Chunk size the node aims for. */
export const SNAPSHOT_CHUNK_BYTES_DEFAULT = 4 * 1024 * 1024;
/** Largest chunk or file a restore reads (a chunk is `chunkBytes` plus at most one entry). */
const SNAPSHOT_FILE_BYTES_MAX = 64 * 1024 * 1024;
const MANIFEST_BYTES_MAX = 16 * 1024 * 1024;
const CHUNKS_MAX = 1_000_000;
/** State entries per database batch while restoring. */
const RESTORE_BATCH_ENTRIES = 10_000;

type FileRef = { name: string; sha256: string };
type ChunkRef = FileRef & { entries: number; bytes: number };

export type SnapshotManifest = {
  format: number;
  chainId: string;
  genesisHash: string;
  height: number;
  blockHash: string;
  stateRoot: string;
  timeMs: string;
  validatorSetHash: string;
  /** State entries in all chunks. */
  entries: number;
  files: { block: FileRef; commit: FileRef; receipts: FileRef; validators: FileRef };
  chunks: ChunkRef[];
};

/** What a snapshot is taken from: one committed height, its tree version and stored block. */
export type SnapshotSource = {
  chainId: string;
  genesisHash: Uint8Array;
  height: number;
  blockHash: Uint8Array;
  timeMs: bigint;
  tree: SparseMerkleTree;
  blockBytes: Uint8Array;
  commitBytes: Uint8Array;
  receiptsBytes: Uint8Array;
};

const hexOf = (bytes: Uint8Array): string => bytesToHex(bytes);
const treeReader = (tree: SparseMerkleTree): StateReader => ({ get: (key) => tree.get(key) });

function encodeChunk(entries: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): Uint8Array {
  return encode(entries.map(([k, v]) => [k, v]));
}

function decodeChunk(bytes: Uint8Array): Array<readonly [Uint8Array, Uint8Array]> {
  return decodeCanonical(bytes, 'SnapshotChunk', SNAPSHOT_FILE_BYTES_MAX, (value) =>
    Reader.list(value, 'SnapshotChunk', SNAPSHOT_FILE_BYTES_MAX, (item) => {
      const r = Reader.array(item, 'SnapshotEntry', 2);
      return [r.bytesMax('key', SNAPSHOT_FILE_BYTES_MAX), r.bytesMax('value', SNAPSHOT_FILE_BYTES_MAX)] as const;
    }), encodeChunk);
}

/** The snapshots root of a home. */
export function snapshotsDir(home: string): string {
  return join(home, SNAPSHOTS_DIR);
}

/** Heights of the complete snapshots under `root`, highest first. */
export async function listSnapshots(root: string): Promise<number[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  return names.filter((n) => /^\d{1,10}$/.test(n)).map(Number).sort((a, b) => b - a);
}

/**
 * Writes a snapshot of `src` under `root/<height>/`: chunks and files into a temporary directory,
 * the manifest last, then one rename. A turn of the event loop between chunks keeps the node live.
 */
export async function writeSnapshot(root: string, src: SnapshotSource, chunkBytes = SNAPSHOT_CHUNK_BYTES_DEFAULT): Promise<{ dir: string; manifest: SnapshotManifest }> {
  const final = join(root, String(src.height));
  const tmp = join(root, `.tmp-${src.height}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  const chunks: ChunkRef[] = [];
  let pending: Array<readonly [Uint8Array, Uint8Array]> = [];
  let pendingBytes = 0;
  let entries = 0;
  const flush = async (): Promise<void> => {
    const bytes = encodeChunk(pending);
    const name = `chunk-${String(chunks.length).padStart(6, '0')}.bin`;
    await writeFile(join(tmp, name), bytes);
    chunks.push({ name, sha256: hexOf(sha256(bytes)), entries: pending.length, bytes: bytes.length });
    pending = [];
    pendingBytes = 0;
    await nextTurn();
  };
  for (const [key, value] of src.tree.entries()) {
    pending.push([key, value]);
    pendingBytes += key.length + value.length + 8;
    entries++;
    if (pendingBytes >= chunkBytes) await flush();
  }
  if (pending.length > 0 || chunks.length === 0) await flush();
  const validators = loadLastValidatorSet(treeReader(src.tree));
  const put = async (name: string, bytes: Uint8Array): Promise<FileRef> => {
    await writeFile(join(tmp, name), bytes);
    return { name, sha256: hexOf(sha256(bytes)) };
  };
  const manifest: SnapshotManifest = {
    format: SNAPSHOT_FORMAT,
    chainId: src.chainId,
    genesisHash: hexOf(src.genesisHash),
    height: src.height,
    blockHash: hexOf(src.blockHash),
    stateRoot: hexOf(src.tree.root),
    timeMs: src.timeMs.toString(),
    validatorSetHash: hexOf(validatorSetHash(validators)),
    entries,
    files: {
      block: await put('block.bin', src.blockBytes),
      commit: await put('commit.bin', src.commitBytes),
      receipts: await put('receipts.bin', src.receiptsBytes),
      validators: await put('validators.bin', encodeValidatorSet(validators)),
    },
    chunks,
  };
  await writeFileDurable(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n', 0o644);
  await rm(final, { recursive: true, force: true });
  await rename(tmp, final);
  await syncDir(root);
  return { dir: final, manifest };
}

/** Deletes all but the `keep` highest snapshots, and temporary directories of unfinished ones. */
export async function pruneSnapshots(root: string, keep: number): Promise<number[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  for (const n of names) if (n.startsWith('.tmp-')) await rm(join(root, n), { recursive: true, force: true });
  const removed = (await listSnapshots(root)).slice(keep);
  for (const h of removed) await rm(join(root, String(h)), { recursive: true, force: true });
  return removed;
}

/** A snapshot of the store's head, taken offline (`tagger snapshot create`). */
export async function snapshotStoreHead(store: ChainStore, chainId: string, root: string, chunkBytes?: number): Promise<{ dir: string; manifest: SnapshotManifest }> {
  const head = store.head;
  if (head === null || head.height === 0 || store.genesisHash === null) throw new SnapshotError({ code: 'SNAPSHOT_NOTHING_TO_SNAPSHOT' }, 'the database has no block yet: nothing to snapshot');
  const src = await sourceAt(store, chainId, store.tree, head.height, head.blockHash, head.timeMs);
  return writeSnapshot(root, src, chunkBytes);
}

async function sourceAt(store: ChainStore, chainId: string, tree: SparseMerkleTree, height: number, blockHash: Uint8Array, timeMs: bigint): Promise<SnapshotSource> {
  const [blockBytes, commitBytes, receiptsBytes] = await Promise.all([store.blockBytes(height), store.commitBytes(height), store.receiptsBytes(height)]);
  if (blockBytes === undefined || commitBytes === undefined || receiptsBytes === undefined || store.genesisHash === null) {
    throw new SnapshotError({ code: 'SNAPSHOT_NOTHING_TO_SNAPSHOT' }, `block ${height} is not stored`);
  }
  return { chainId, genesisHash: store.genesisHash, height, blockHash, timeMs, tree, blockBytes, commitBytes, receiptsBytes };
}

export type SnapshotTakerOpts = { interval: number; keep: number; chunkBytes: number };

/**
 * Takes a snapshot every `interval` heights, in the background: at the commit it captures the
 * tree version (immutable) and the head, then writes. One snapshot at a time; a height that comes
 * due while one is being written is skipped (logged).
 */
export class SnapshotTaker {
  private readonly opts: SnapshotTakerOpts;
  private readonly deps: { root: string; chainId: string; store: ChainStore; log: Logger };
  private running: Promise<void> | null = null;
  private stopped = false;
  /** Heights written since start (a metric and a test hook). */
  readonly written: number[] = [];

  constructor(opts: SnapshotTakerOpts, deps: { root: string; chainId: string; store: ChainStore; log: Logger }) {
    this.opts = opts;
    this.deps = deps;
  }

  /** Called synchronously after each commit, while the store's head is that commit. */
  afterCommit(height: number): void {
    if (this.opts.interval === 0 || height % this.opts.interval !== 0 || this.stopped) return;
    if (this.running !== null) {
      this.deps.log.warn({ height }, 'Skipping a snapshot: the previous one is still being written');
      return;
    }
    this.running = this.takeHead().then(
      () => undefined,
      (e: unknown) => this.deps.log.error({ err: e, height }, 'Snapshot failed'),
    ).finally(() => {
      this.running = null;
    });
  }

  /** Takes a snapshot of the current head now (the admin operation); waits for one in progress first. */
  async takeNow(): Promise<{ height: number; dir: string }> {
    await this.idle();
    const run = this.takeHead();
    this.running = run.then(() => undefined, () => undefined).finally(() => {
      this.running = null;
    });
    return run;
  }

  async idle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }

  private async takeHead(): Promise<{ height: number; dir: string }> {
    const { store } = this.deps;
    const head = store.head;
    if (head === null || head.height === 0) throw new SnapshotError({ code: 'SNAPSHOT_NOTHING_TO_SNAPSHOT' }, 'no block yet: nothing to snapshot');
    // Captured in this turn: the tree version of exactly this head.
    const tree = store.tree;
    const src = await sourceAt(store, this.deps.chainId, tree, head.height, head.blockHash, head.timeMs);
    await mkdir(this.deps.root, { recursive: true, mode: 0o700 });
    const { dir, manifest } = await writeSnapshot(this.deps.root, src, this.opts.chunkBytes);
    const removed = await pruneSnapshots(this.deps.root, Math.max(1, this.opts.keep));
    this.written.push(head.height);
    this.deps.log.info({ height: head.height, chunks: manifest.chunks.length, entries: manifest.entries, dir, removed }, 'Wrote state snapshot');
    return { height: head.height, dir };
  }
}

// ── restore ─────────────────────────────────────────────────────────────────────────────────────

function badManifest(reason: string): SnapshotError {
  return new SnapshotError({ code: 'SNAPSHOT_BAD_MANIFEST', reason }, `snapshot manifest: ${reason}`);
}

const HEX32 = /^[0-9a-f]{64}$/;
const FILE_NAME = /^[a-z]+(-\d{6})?\.bin$/;

function fileRef(v: unknown, what: string): FileRef {
  const o = v as Partial<FileRef> | null;
  if (typeof o !== 'object' || o === null || typeof o.name !== 'string' || !FILE_NAME.test(o.name) || typeof o.sha256 !== 'string' || !HEX32.test(o.sha256)) {
    throw badManifest(`${what} must be { name, sha256 }`);
  }
  return { name: o.name, sha256: o.sha256 };
}

/** Parses and checks the shape of manifest.json (its claims are checked by `restoreSnapshot`). */
export function parseManifest(text: string): SnapshotManifest {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw badManifest('not JSON');
  }
  if (typeof v !== 'object' || v === null) throw badManifest('not an object');
  if (v['format'] !== SNAPSHOT_FORMAT) throw badManifest(`format must be ${SNAPSHOT_FORMAT}`);
  const str = (k: string, re: RegExp): string => {
    const x = v[k];
    if (typeof x !== 'string' || !re.test(x)) throw badManifest(`${k} is missing or malformed`);
    return x;
  };
  const int = (k: string): number => {
    const x = v[k];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 0xffff_ffff) throw badManifest(`${k} must be a u32`);
    return x;
  };
  const files = v['files'] as Record<string, unknown> | null;
  if (typeof files !== 'object' || files === null) throw badManifest('files is missing');
  const chunks = v['chunks'];
  if (!Array.isArray(chunks) || chunks.length === 0 || chunks.length > CHUNKS_MAX) throw badManifest(`chunks must be a list of 1 to ${CHUNKS_MAX}`);
  const manifest: SnapshotManifest = {
    format: SNAPSHOT_FORMAT,
    chainId: str('chainId', /^.{1,64}$/),
    genesisHash: str('genesisHash', HEX32),
    height: int('height'),
    blockHash: str('blockHash', HEX32),
    stateRoot: str('stateRoot', HEX32),
    timeMs: str('timeMs', /^\d{1,20}$/),
    validatorSetHash: str('validatorSetHash', HEX32),
    entries: int('entries'),
    files: {
      block: fileRef(files['block'], 'files.block'),
      commit: fileRef(files['commit'], 'files.commit'),
      receipts: fileRef(files['receipts'], 'files.receipts'),
      validators: fileRef(files['validators'], 'files.validators'),
    },
    chunks: chunks.map((c: unknown, i) => {
      const ref = fileRef(c, `chunks[${i}]`);
      const o = c as { entries?: unknown; bytes?: unknown };
      if (typeof o.entries !== 'number' || typeof o.bytes !== 'number' || !Number.isInteger(o.entries) || !Number.isInteger(o.bytes) || o.bytes > SNAPSHOT_FILE_BYTES_MAX) {
        throw badManifest(`chunks[${i}] needs entries and bytes (at most ${SNAPSHOT_FILE_BYTES_MAX})`);
      }
      return { ...ref, entries: o.entries, bytes: o.bytes };
    }),
  };
  if (manifest.height === 0) throw badManifest('height must be at least 1');
  return manifest;
}

/** Reads a file of the snapshot, at most `max` bytes, and checks its hash. */
async function readChecked(dir: string, ref: FileRef, max: number): Promise<Uint8Array | null> {
  const path = join(dir, ref.name);
  const size = (await stat(path).catch(() => null))?.size;
  if (size === undefined || size > max) return null;
  const bytes = new Uint8Array(await readFile(path));
  return hexOf(sha256(bytes)) === ref.sha256 ? bytes : null;
}

async function readFileRef(dir: string, ref: FileRef): Promise<Uint8Array> {
  const bytes = await readChecked(dir, ref, SNAPSHOT_FILE_BYTES_MAX);
  if (bytes === null) throw new SnapshotError({ code: 'SNAPSHOT_FILE_MISMATCH', file: ref.name }, `snapshot file ${ref.name} is missing, too large, or does not match its hash in the manifest`);
  return bytes;
}

export type RestoreOpts = {
  home: string;
  from: string;
  /** The hash of block `height` from a source the operator trusts (needed when the set is not the genesis set). */
  trustedHash?: Uint8Array;
  log: Logger;
};

export type RestoreResult = { height: number; blockHash: string; stateRoot: string; entries: number; trust: 'genesis-validators' | 'trusted-hash' };

/**
 * Verifies the snapshot in `from` and restores it into `home` (which has its genesis.json and an
 * empty database). Throws SnapshotError saying what failed; nothing is written unless all checks pass.
 */
export async function restoreSnapshot(opts: RestoreOpts): Promise<RestoreResult> {
  const paths = homePaths(opts.home);
  const genesis = parseGenesisJson(await readFile(paths.genesis, 'utf8'));
  const manifestPath = join(opts.from, 'manifest.json');
  const manifestSize = (await stat(manifestPath).catch(() => null))?.size;
  if (manifestSize === undefined) throw new SnapshotError({ code: 'SNAPSHOT_NOT_FOUND', dir: opts.from }, `no snapshot in ${opts.from} (manifest.json is missing)`);
  if (manifestSize > MANIFEST_BYTES_MAX) throw badManifest(`larger than ${MANIFEST_BYTES_MAX} bytes`);
  const m = parseManifest(await readFile(manifestPath, 'utf8'));
  if (m.chainId !== genesis.chainId || m.genesisHash !== hexOf(genesisHash(genesis))) {
    throw new SnapshotError({ code: 'SNAPSHOT_WRONG_CHAIN', reason: `${m.chainId} ${m.genesisHash}` }, `the snapshot is of chain "${m.chainId}" (genesis ${m.genesisHash}), not this home's "${genesis.chainId}" (genesis ${hexOf(genesisHash(genesis))})`);
  }
  const anchor = await verifyAnchor(opts.from, m, genesis.chainId);
  const trusted = checkTrust(anchor.setHash, anchor.blockHash, genesisValidatorSet(genesis), opts.trustedHash);
  const { tree, entries } = await loadChunks(opts.from, m);
  if (!equalBytes(tree.root, anchor.stateRoot)) {
    throw new SnapshotError(
      { code: 'SNAPSHOT_STATE_ROOT_MISMATCH', expected: hexOf(anchor.stateRoot), actual: hexOf(tree.root) },
      `the snapshot's state has root ${hexOf(tree.root)}, but block ${m.height} commits to ${hexOf(anchor.stateRoot)}`,
    );
  }
  if (!equalBytes(validatorSetHash(loadLastValidatorSet(treeReader(tree))), anchor.setHash)) {
    throw new SnapshotError({ code: 'SNAPSHOT_BAD_BLOCK', reason: 'validator set' }, "the state's last validator set is not the one that signed the block");
  }
  await writeRestored(paths.chainDb, { ...anchor, tree, entries, height: m.height, genesisHash: hexToBytes(m.genesisHash) });
  opts.log.info({ height: m.height, entries: tree.size, trust: trusted }, 'Restored state snapshot');
  return { height: m.height, blockHash: hexOf(anchor.blockHash), stateRoot: hexOf(tree.root), entries: tree.size, trust: trusted };
}

type Anchor = {
  blockBytes: Uint8Array;
  commitBytes: Uint8Array;
  receiptsBytes: Uint8Array;
  receiptBytes: Uint8Array[];
  txs: Uint8Array[];
  blockHash: Uint8Array;
  stateRoot: Uint8Array;
  timeMs: bigint;
  setHash: Uint8Array;
};

function badBlock(reason: string): SnapshotError {
  return new SnapshotError({ code: 'SNAPSHOT_BAD_BLOCK', reason }, `snapshot block: ${reason}`);
}

/** Block h, its receipts, and the commit certificate over it by the set its header names. */
async function verifyAnchor(dir: string, m: SnapshotManifest, chainId: string): Promise<Anchor> {
  const [blockBytes, commitBytes, receiptsBytes, validatorsBytes] = await Promise.all([
    readFileRef(dir, m.files.block),
    readFileRef(dir, m.files.commit),
    readFileRef(dir, m.files.receipts),
    readFileRef(dir, m.files.validators),
  ]);
  try {
    const block = decodeBlock(blockBytes);
    const h = block.header;
    const blockHash = hashHeader(h);
    if (h.chainId !== chainId || h.height !== m.height) throw badBlock(`block is ${h.chainId} height ${h.height}, the manifest says ${chainId} height ${m.height}`);
    if (hexOf(blockHash) !== m.blockHash) throw badBlock(`block hash ${hexOf(blockHash)} is not the manifest's ${m.blockHash}`);
    if (hexOf(h.stateRoot) !== m.stateRoot) throw badBlock(`the header's state root ${hexOf(h.stateRoot)} is not the manifest's ${m.stateRoot}`);
    if (!equalBytes(merkleRoot(block.txs), h.txRoot)) throw badBlock('transactions do not match the header');
    const receipts = decodeReceipts(receiptsBytes);
    const receiptBytes = receipts.map(encodeReceipt);
    if (!equalBytes(merkleRoot(receiptBytes), h.receiptsRoot) || receipts.length < block.txs.length) throw badBlock('receipts do not match the header');
    const validators = decodeValidatorSet(validatorsBytes);
    const setHash = validatorSetHash(validators);
    if (!equalBytes(setHash, h.validatorSetHash) || hexOf(setHash) !== m.validatorSetHash) throw badBlock('the validator set is not the one the header names');
    try {
      verifyCommit(chainId, decodeCommit(commitBytes), m.height, blockHash, validators);
    } catch (e: unknown) {
      if (!isChainError(e)) throw e;
      throw new SnapshotError({ code: 'SNAPSHOT_BAD_COMMIT', reason: e.code }, `the commit certificate does not certify block ${m.height}: ${e.message}`);
    }
    return { blockBytes, commitBytes, receiptsBytes, receiptBytes, txs: block.txs, blockHash, stateRoot: h.stateRoot, timeMs: h.timeMs, setHash };
  } catch (e: unknown) {
    if (e instanceof CodecError) throw badBlock(`a file does not decode: ${e.message}`);
    throw e;
  }
}

/**
 * The trust model (docs/operators.md §Trust): > 2/3 of a set signed block h; that set must be one
 * the operator trusts — the genesis set, or whichever set signed a block hash given by the operator.
 */
function checkTrust(setHash: Uint8Array, blockHash: Uint8Array, genesisSet: Parameters<typeof validatorSetHash>[0], trustedHash: Uint8Array | undefined): RestoreResult['trust'] {
  if (trustedHash !== undefined) {
    if (equalBytes(trustedHash, blockHash)) return 'trusted-hash';
  } else if (equalBytes(setHash, validatorSetHash(genesisSet))) {
    return 'genesis-validators';
  }
  throw new SnapshotError(
    { code: 'SNAPSHOT_UNTRUSTED', validatorSetHash: hexOf(setHash), blockHash: hexOf(blockHash) },
    trustedHash === undefined
      ? `block ${hexOf(blockHash)} is signed by a validator set other than genesis's: pass --trusted-hash with this block's hash from a source you trust`
      : `the snapshot's block ${hexOf(blockHash)} is not the trusted hash ${hexOf(trustedHash)}`,
  );
}

/** Every chunk, hash-checked and decoded, then one tree built from all of them. */
async function loadChunks(dir: string, m: SnapshotManifest): Promise<{ tree: SparseMerkleTree; entries: Array<readonly [Uint8Array, Uint8Array]> }> {
  const all: Array<readonly [Uint8Array, Uint8Array]> = [];
  for (const [i, ref] of m.chunks.entries()) {
    const bytes = await readChecked(dir, ref, SNAPSHOT_FILE_BYTES_MAX);
    if (bytes === null) throw new SnapshotError({ code: 'SNAPSHOT_CHUNK_MISMATCH', chunk: i, reason: 'hash' }, `snapshot chunk ${i} (${ref.name}) is missing or does not match its hash in the manifest`);
    let entries: Array<readonly [Uint8Array, Uint8Array]>;
    try {
      entries = decodeChunk(bytes);
    } catch (e: unknown) {
      if (!(e instanceof CodecError)) throw e;
      throw new SnapshotError({ code: 'SNAPSHOT_CHUNK_MISMATCH', chunk: i, reason: e.code }, `snapshot chunk ${i} does not decode: ${e.message}`);
    }
    if (entries.length !== ref.entries) throw new SnapshotError({ code: 'SNAPSHOT_CHUNK_MISMATCH', chunk: i, reason: 'entries' }, `snapshot chunk ${i} holds ${entries.length} entries, the manifest says ${ref.entries}`);
    for (const e of entries) all.push(e);
    await nextTurn();
  }
  const tree = SparseMerkleTree.fromEntries(all);
  if (tree.size !== m.entries || all.length !== m.entries) throw badManifest(`${m.entries} entries claimed, ${all.length} read, ${tree.size} distinct`);
  return { tree, entries: all };
}

async function writeRestored(dbDir: string, r: Anchor & { tree: SparseMerkleTree; entries: ReadonlyArray<readonly [Uint8Array, Uint8Array]>; height: number; genesisHash: Uint8Array }): Promise<void> {
  const store = await ChainStore.open(dbDir);
  try {
    if (store.head !== null) throw new SnapshotError({ code: 'SNAPSHOT_HOME_NOT_EMPTY', height: store.head.height }, `the home's database already holds a chain (height ${store.head.height}): restore into a new home, or move data/chain aside`);
    for (let i = 0; i < r.entries.length; i += RESTORE_BATCH_ENTRIES) await store.restoreState(r.entries.slice(i, i + RESTORE_BATCH_ENTRIES));
    await store.finishRestore(
      {
        height: r.height,
        blockHash: r.blockHash,
        timeMs: r.timeMs,
        blockBytes: r.blockBytes,
        commitBytes: r.commitBytes,
        receiptsBytes: r.receiptsBytes,
        txs: r.txs.map((bytes, i) => ({ hash: sha256(bytes), bytes, receiptBytes: r.receiptBytes[i] as Uint8Array })),
        writes: [],
        tree: r.tree,
      },
      r.genesisHash,
    );
  } finally {
    await store.close();
  }
}

/** Checks a home's database is empty before a restore (so the error comes before the work). */
export async function assertEmptyHome(home: string): Promise<void> {
  const dir = homePaths(home).chainDb;
  const exists = await stat(dir).then(() => true, () => false);
  if (!exists) return;
  const store = await ChainStore.open(dir);
  try {
    if (store.head !== null) throw new SnapshotError({ code: 'SNAPSHOT_HOME_NOT_EMPTY', height: store.head.height }, `the home's database already holds a chain (height ${store.head.height}): restore into a new home, or move data/chain aside`);
  } finally {
    await store.close();
  }
}

/** Fsyncs a directory, so that a rename in it is durable. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
