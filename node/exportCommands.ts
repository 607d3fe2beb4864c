/**
 * `tagger export` and `tagger verify` (docs/cli.md §Export and verify, docs/spec/export.md).
 *
 * Export streams a finished task's items from a node's RPC a page at a time, writes each as a row
 * (JSONL, CSV or Parquet) and into a `DatasetRootBuilder`, and writes `FILE.manifest.json`: the
 * content root, the record count, and what binds them to a committed block — the block's header
 * (every field its hash covers), its commit certificate, state proofs of the validator set and of
 * the task record against the header's state root. Nothing holds more than a page or a Parquet row
 * group of records.
 *
 * Verify reads the file back the same way, recomputes the content root, and checks the manifest
 * against the chain as served by the node the verifier names (--rpc), never trusting the seller:
 * the header hash, the validator set (state proof, hash in the header), the commit's signatures
 * (> 2/3 of the set's power, consensus' own `verifyCommit`), the state proofs, and the records
 * against the task's item records on chain. Each check is reported as matched, failed or not checked.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { ParquetWriter, fileWriter, schemaFromColumnData, type ColumnSource } from 'hyparquet-writer';
import {
  ChainError,
  DATASET_COLUMNS,
  DATASET_CSV_HEADER,
  DATASET_FORMATS,
  DatasetRootBuilder,
  EXPORT_MANIFEST_FORMAT,
  addressFromString,
  bytesToHex,
  encodeDatasetRecord,
  equalBytes,
  formatVerifyReport,
  hexToBytes,
  isChainError,
  parseCsvLine,
  parseJsonLine,
  parseManifest,
  recordToCsvLine,
  recordToJsonLine,
  recordToRow,
  rowToRecord,
  verifyPassed,
  type DatasetFormat,
  type DatasetRecord,
  type ExportManifest,
  type ManifestCommit,
  type ManifestHeader,
  type ManifestProof,
  type ManifestSource,
  type VerifyCheck,
} from '../lib/index.ts';
import {
  ITEM_STATUS_NAMES,
  LAST_VALIDATOR_SET_KEY,
  PASSPORT_SOURCE,
  PASSPORT_STATUS,
  TASK_STATUS,
  TASK_STATUS_NAMES,
  decodePassportHead,
  decodePassportVersion,
  loadItemWithAnswers,
  passportHeadKey,
  passportVersionKey,
  blockHash as hashHeader,
  decodeTask,
  taskKey,
  type Header,
  type Task,
} from '../runtime/index.ts';
import { verifyCommit, type Commit, type VotingValidator } from '../consensus/index.ts';
import { VALIDATOR_SET_KEY, decodeValidatorSet, validatorSetHash, verifyStateProof, type StateProof, type StateReader, type ValidatorSet } from '../state/index.ts';
import { TaggerClient, stateProofFromJson, type BlockJson, type CommitJson, type ItemJson, type StateProofReplyJson } from '../sdk/client.ts';
import type { CliContext } from './labellingCommands.ts';

/** Flags of export and verify, added to the CLI's option table by main.ts. */
export const EXPORT_OPTIONS = {
  passport: { type: 'string' },
  version: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  manifest: { type: 'string' },
  rpc: { type: 'string' },
} as const;

export type ExportFlags = { [K in keyof typeof EXPORT_OPTIONS]?: string } & { task?: string };

export type ExportCliErrorType =
  | { code: 'EXPORT_TASK_NOT_DONE'; task: number; status: string }
  | { code: 'EXPORT_UNSUPPORTED'; reason: string }
  | { code: 'EXPORT_CHAIN_MOVED'; reason: string }
  | { code: 'EXPORT_INCONSISTENT'; reason: string }
  | { code: 'EXPORT_BAD_FILE'; path: string; reason: string };
export class ExportCliError extends ChainError<ExportCliErrorType> {}

/** Items per RPC page (the server's most). */
const PAGE = 100;
/** Rows per Parquet row group: what the writer and the reader hold at once. */
const ROW_GROUP = 10_000;
/** Bytes of JSONL/CSV lines handed to the file stream at once. */
const CHUNK_BYTES = 256 * 1024;
/** Tries to read every proof at one height while blocks keep coming. */
const PIN_TRIES = 50;
const PIN_PAUSE_MS = 50;
/** Exit status of `verify` when a check failed (1 is any other error). */
export const VERIFY_FAILED_EXIT = 3;

// ── records from a node ─────────────────────────────────────────────────────────────────────────

/** An item as a dataset record (lib/dataset.ts): answers are the seats with a revealed answer. */
export function itemToRecord(item: ItemJson): DatasetRecord {
  const status = ITEM_STATUS_NAMES.indexOf(item.status);
  return {
    index: item.index,
    itemHash: hexToBytes(item.contentHash),
    status,
    label: item.label ?? -1,
    confidenceQ16: item.confidenceQ16,
    answers: item.seats.filter((s) => s.answer !== null).length,
  };
}

/** A task's records, in index order, one RPC page at a time. */
export async function* taskRecords(client: TaggerClient, task: number, total: number): AsyncGenerator<DatasetRecord> {
  for (let cursor = 0; cursor < total; cursor += PAGE) {
    const page = await client.taskItems(task, { cursor, limit: PAGE });
    if (page.total !== total) throw inconsistent(`task ${task} has ${page.total} items now, ${total} when the export began`);
    for (const item of page.items) yield itemToRecord(item);
  }
}

function inconsistent(reason: string): ExportCliError {
  return new ExportCliError({ code: 'EXPORT_INCONSISTENT', reason }, reason);
}

// ── writers and readers ─────────────────────────────────────────────────────────────────────────

/** `write` returns a promise only when the caller must wait (a chunk is being flushed). */
export type RecordWriter = { write(r: DatasetRecord): Promise<void> | undefined; close(): Promise<void> };

async function drain(stream: WriteStream, chunk: Uint8Array): Promise<void> {
  if (stream.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    stream.once('error', onError);
    stream.once('drain', () => {
      stream.off('error', onError);
      resolve();
    });
  });
}

function lineWriter(path: string, header: string | null, line: (r: DatasetRecord) => string): RecordWriter {
  const stream = createWriteStream(path);
  // Lines are ASCII: each is written into a chunk buffer, handed to the stream when nearly full.
  let chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let used = 0;
  const put = (text: string): void => {
    // Called with room for the line, or on an empty chunk: a line longer than a chunk (rows are
    // ~200 bytes, so never in practice) gets a buffer of its own size.
    if (used + text.length + 1 > chunk.length) chunk = Buffer.allocUnsafe(text.length + 1);
    used += chunk.write(text, used, 'latin1');
    chunk[used++] = 0x0a;
  };
  const flush = (): Promise<void> => {
    const full = chunk.subarray(0, used);
    chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    used = 0;
    return drain(stream, full);
  };
  if (header !== null) put(header);
  return {
    write(r) {
      const text = line(r);
      if (used + text.length + 1 > chunk.length && used > 0) {
        return flush().then(() => put(text));
      }
      put(text);
      return undefined;
    },
    async close() {
      if (used > 0) await flush();
      await new Promise<void>((resolve, reject) => stream.end((e?: Error | null) => (e ? reject(e) : resolve())));
    },
  };
}

/** Parquet columns of a batch of records (docs/spec/export.md §Parquet). */
function parquetColumns(records: readonly DatasetRecord[]): ColumnSource[] {
  const rows = records.map(recordToRow);
  return [
    { name: 'index', data: rows.map((x) => BigInt(x.index)), type: 'INT64', nullable: false },
    { name: 'itemHash', data: rows.map((x) => x.itemHash), type: 'STRING', nullable: false },
    { name: 'status', data: rows.map((x) => x.status), type: 'STRING', nullable: false },
    { name: 'label', data: rows.map((x) => (x.label === null ? null : BigInt(x.label))), type: 'INT64', nullable: true },
    { name: 'confidenceQ16', data: rows.map((x) => BigInt(x.confidenceQ16)), type: 'INT64', nullable: false },
    { name: 'confidence', data: rows.map((x) => x.confidence), type: 'STRING', nullable: false },
    { name: 'answers', data: rows.map((x) => BigInt(x.answers)), type: 'INT64', nullable: false },
  ];
}

function parquetRecordWriter(path: string): RecordWriter {
  let writer: ParquetWriter | null = null;
  let batch: DatasetRecord[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0 && writer !== null) return;
    const columnData = parquetColumns(batch);
    writer ??= new ParquetWriter({ writer: fileWriter(path), schema: schemaFromColumnData({ columnData }), createdBy: 'tagger export' });
    if (batch.length > 0) await writer.write({ columnData, rowGroupSize: ROW_GROUP });
    batch = [];
  };
  return {
    write(r) {
      batch.push(r);
      return batch.length >= ROW_GROUP ? flush() : undefined;
    },
    async close() {
      await flush();
      await (writer as ParquetWriter).finish();
    },
  };
}

export function recordWriter(path: string, format: DatasetFormat): RecordWriter {
  switch (format) {
    case 'jsonl':
      return lineWriter(path, null, recordToJsonLine);
    case 'csv':
      return lineWriter(path, DATASET_CSV_HEADER, recordToCsvLine);
    case 'parquet':
      return parquetRecordWriter(path);
  }
}

/** The records of a file, in file order; a malformed row throws EXPORT_BAD_ROW naming it. */
export async function* readRecords(path: string, format: DatasetFormat): AsyncGenerator<DatasetRecord> {
  if (format === 'parquet') {
    yield* readParquet(path);
    return;
  }
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let row = 0;
  let first = format === 'csv';
  for await (const line of lines) {
    if (first) {
      if (line !== DATASET_CSV_HEADER) throw badFile(path, `the CSV header is not "${DATASET_CSV_HEADER}"`);
      first = false;
      continue;
    }
    if (line === '') continue;
    yield format === 'csv' ? parseCsvLine(line, row) : parseJsonLine(line, row);
    row++;
  }
  if (first) throw badFile(path, 'the CSV file has no header');
}

/** hyparquet's own failures (not a Parquet file, a damaged page) as EXPORT_BAD_FILE. */
async function parquetCall<T>(path: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e: unknown) {
    if (isChainError(e)) throw e;
    throw badFile(path, `not a readable Parquet file: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function* readParquet(path: string): AsyncGenerator<DatasetRecord> {
  const file = await parquetCall(path, () => asyncBufferFromFile(path));
  const metadata = await parquetCall(path, () => parquetMetadataAsync(file));
  const columns = metadata.schema.slice(1).map((s) => s.name);
  if (columns.join(',') !== DATASET_COLUMNS.join(',')) throw badFile(path, `the Parquet columns are not ${DATASET_COLUMNS.join(', ')}`);
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const rows = (await parquetCall(path, () => parquetReadObjects({ file, metadata, rowStart, rowEnd }))) as Array<Record<string, unknown>>;
    for (let i = 0; i < rows.length; i++) {
      const o = rows[i] as Record<string, unknown>;
      const plain: Record<string, unknown> = {};
      for (const c of DATASET_COLUMNS) {
        const v = o[c];
        plain[c] = typeof v === 'bigint' ? (v >= 0n && v <= 0xffff_ffffn ? Number(v) : -1) : v;
      }
      yield rowToRecord(plain, rowStart + i);
    }
    rowStart = rowEnd;
  }
}

function badFile(path: string, reason: string): ExportCliError {
  return new ExportCliError({ code: 'EXPORT_BAD_FILE', path, reason }, `${path}: ${reason}`);
}

/**
 * Writes `records` (which must come in index order from 0) to `path` as `format` and returns their
 * count and content root. Holds at most one chunk of lines or one Parquet row group.
 */
export async function writeDataset(records: AsyncIterable<DatasetRecord> | Iterable<DatasetRecord>, path: string, format: DatasetFormat): Promise<{ count: number; root: Uint8Array }> {
  const writer = recordWriter(path, format);
  const builder = new DatasetRootBuilder();
  const add = (r: DatasetRecord): Promise<void> | undefined => {
    if (r.index !== builder.count) throw inconsistent(`record ${r.index} came where ${builder.count} was due`);
    builder.push(encodeDatasetRecord(r));
    return writer.write(r);
  };
  // A plain loop for a synchronous source: `for await` would cost a promise per record.
  if (Symbol.iterator in records) {
    for (const r of records) {
      const wait = add(r);
      if (wait !== undefined) await wait;
    }
  } else {
    for await (const r of records) {
      const wait = add(r);
      if (wait !== undefined) await wait;
    }
  }
  await writer.close();
  return { count: builder.count, root: builder.root() };
}

/** A file's record count and content root, and the first row not at its own index (or null). */
export type FileDigest = { count: number; root: Uint8Array; misplaced: string | null };

/** Reads a dataset file in a stream; a malformed row throws EXPORT_BAD_ROW (or EXPORT_BAD_FILE). */
export async function hashDatasetFile(path: string, format: DatasetFormat): Promise<FileDigest> {
  const builder = new DatasetRootBuilder();
  let misplaced: string | null = null;
  for await (const r of readRecords(path, format)) {
    if (misplaced === null && r.index !== builder.count) misplaced = `row ${builder.count} holds record ${r.index}: a row was dropped, added or moved`;
    builder.push(encodeDatasetRecord(r));
  }
  return { count: builder.count, root: builder.root(), misplaced };
}

// ── the chain side ──────────────────────────────────────────────────────────────────────────────

const hex = (b: Uint8Array): string => '0x' + bytesToHex(b);

function proofJson(what: string, reply: StateProofReplyJson): ManifestProof {
  return { what, ...reply.proof };
}

function commitFromJson(c: ManifestCommit | CommitJson): Commit {
  return {
    height: c.height,
    round: c.round,
    blockHash: hexToBytes(c.blockHash),
    signatures: c.signatures.map((s) => ({ validator: addressFromString(s.validator), signature: hexToBytes(s.signature) })),
  };
}

function headerFromManifest(h: ManifestHeader): Header {
  return {
    version: h.version,
    chainId: h.chainId,
    height: h.height,
    timeMs: BigInt(h.timeMs),
    parentHash: hexToBytes(h.parentHash),
    lastCommitHash: hexToBytes(h.lastCommitHash),
    txRoot: hexToBytes(h.txRoot),
    receiptsRoot: hexToBytes(h.receiptsRoot),
    stateRoot: hexToBytes(h.stateRoot),
    proposer: addressFromString(h.proposer),
    validatorSetHash: hexToBytes(h.validatorSetHash),
    nextValidatorSetHash: hexToBytes(h.nextValidatorSetHash),
  };
}

/** Every field of the block's header, checked: the fields must hash to the block's hash. */
function fullHeader(block: BlockJson): ManifestHeader {
  const h = block.header;
  const header: ManifestHeader = {
    version: h.version,
    chainId: h.chainId,
    height: h.height,
    timeMs: h.timeMs,
    parentHash: h.parentHash,
    lastCommitHash: h.lastCommitHash,
    txRoot: h.txRoot,
    receiptsRoot: h.receiptsRoot,
    stateRoot: h.stateRoot,
    proposer: h.proposer,
    validatorSetHash: h.validatorSetHash,
    nextValidatorSetHash: h.nextValidatorSetHash,
  };
  if (hex(hashHeader(headerFromManifest(header))) !== block.hash) throw inconsistent(`the header of block ${h.height} does not hash to its hash ${block.hash}`);
  return header;
}

/** Proofs of `keys` all read at one height, and that height's block with its commit. */
async function pinProofs(client: TaggerClient, keys: ReadonlyArray<{ what: string; key: Uint8Array }>): Promise<{ proofs: ManifestProof[]; block: BlockJson }> {
  for (let attempt = 0; attempt < PIN_TRIES; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, PIN_PAUSE_MS));
    const replies = await Promise.all(keys.map((k) => client.proveState(k.key)));
    const height = replies[0]?.height ?? 0;
    if (!replies.every((r) => r.height === height && r.stateRoot === replies[0]?.stateRoot)) continue;
    const block = await client.block(height);
    if (block.commit === null || block.header.stateRoot !== replies[0]?.stateRoot) continue;
    return { proofs: replies.map((r, i) => proofJson((keys[i] as { what: string }).what, r)), block };
  }
  throw new ExportCliError({ code: 'EXPORT_CHAIN_MOVED', reason: `no ${PIN_TRIES} tries read every proof at one height` }, 'the chain kept moving while the proofs were read');
}

function u32Flag(ctx: CliContext, value: string | undefined, name: string): number {
  if (value === undefined || !/^\d{1,10}$/.test(value) || Number(value) > 0xffff_ffff) throw ctx.usage(`--${name} needs a u32`);
  return Number(value);
}

function formatFlag(ctx: CliContext, value: string | undefined): DatasetFormat {
  if (!DATASET_FORMATS.includes(value as DatasetFormat)) throw ctx.usage(`--format must be one of ${DATASET_FORMATS.join(', ')}`);
  return value as DatasetFormat;
}

export type ExportResult = { out: string; manifest: string; format: DatasetFormat; recordCount: number; contentRoot: string; height: number };

/** What an export binds to: the source, its proof's name and key, and the records' task and count. */
type ExportSource = { source: ManifestSource; binding: ExportManifest['binding']; what: string; key: Uint8Array };

/** Exports a task's dataset; the file and manifest are written under temporary names and renamed at the end. */
export async function exportTask(client: TaggerClient, task: number, format: DatasetFormat, out: string): Promise<ExportResult> {
  return exportDataset(client, { source: { kind: 'task', task }, binding: 'task-items', what: 'task', key: taskKey(task) }, format, out, (value) => {
    const record: Task = decodeTask(value);
    if (record.status !== TASK_STATUS.done) {
      throw new ExportCliError({ code: 'EXPORT_TASK_NOT_DONE', task, status: TASK_STATUS_NAMES[record.status] }, `task ${task} is not done: its labels may still change`);
    }
    return { task, count: record.itemsAdded, root: null };
  });
}

/**
 * Exports a passport version's dataset (its newest active version when `version` is undefined).
 * Only a version built from a task has its records on chain; the file's root must equal the
 * version's content root.
 */
export async function exportPassport(client: TaggerClient, passport: number, version: number | undefined, format: DatasetFormat, out: string): Promise<ExportResult> {
  let v = version;
  if (v === undefined) {
    const head = await client.proveState(passportHeadKey(passport));
    if (head.proof.value === null) throw inconsistent(`no passport ${passport}`);
    v = decodePassportHead(hexToBytes(head.proof.value)).active;
    if (v === 0) throw inconsistent(`passport ${passport} has no active version yet`);
  }
  const at = v;
  const source: ExportSource = { source: { kind: 'passport', passport, version: at }, binding: 'passport-record', what: 'passport', key: passportVersionKey(passport, at) };
  return exportDataset(client, source, format, out, (value) => {
    const pv = decodePassportVersion(value);
    if (pv.status !== PASSPORT_STATUS.active) throw inconsistent(`passport ${passport} version ${at} is still building`);
    const task = pv.provenance.sourceTasks[0];
    if (pv.source !== PASSPORT_SOURCE.task || task === undefined) {
      throw new ExportCliError(
        { code: 'EXPORT_UNSUPPORTED', reason: 'external dataset' },
        `passport ${passport} version ${at} registers an external dataset: its records are not on chain, only its content root`,
      );
    }
    return { task, count: pv.recordCount, root: pv.contentRoot };
  });
}

async function exportDataset(
  client: TaggerClient,
  from: ExportSource,
  format: DatasetFormat,
  out: string,
  records: (value: Uint8Array) => { task: number; count: number; root: Uint8Array | null },
): Promise<ExportResult> {
  const { proofs, block } = await pinProofs(client, [
    { what: from.what, key: from.key },
    { what: 'lastValidatorSet', key: LAST_VALIDATOR_SET_KEY },
    { what: 'validatorSet', key: VALIDATOR_SET_KEY },
  ]);
  const sourceProof = proofs[0] as ManifestProof;
  if (sourceProof.value === null) throw inconsistent(`no ${from.what} record at key ${sourceProof.key}`);
  const { task, count, root } = records(hexToBytes(sourceProof.value));
  const header = fullHeader(block);
  const tmp = `${out}.partial`;
  const written = await writeDataset(taskRecords(client, task, count), tmp, format);
  if (root !== null && !equalBytes(root, written.root)) {
    await rm(tmp, { force: true });
    throw inconsistent(`task ${task}'s records give root ${hex(written.root)}, not the passport's ${hex(root)}`);
  }
  const vs = proofs.find((p) => p.what === 'lastValidatorSet')?.value ?? proofs.find((p) => p.what === 'validatorSet')?.value ?? null;
  if (vs === null) throw inconsistent('the state holds no validator set');
  const manifest: ExportManifest = {
    format: EXPORT_MANIFEST_FORMAT,
    chainId: header.chainId,
    source: from.source,
    file: { format, columns: [...DATASET_COLUMNS] },
    contentRoot: hex(written.root),
    recordCount: written.count,
    binding: from.binding,
    height: header.height,
    blockHash: block.hash,
    header,
    commit: block.commit as CommitJson,
    validatorSet: { source: 'state-proof', hash: hex(validatorSetHash(decodeValidatorSet(hexToBytes(vs)))) },
    proofs,
    bnbCheckpoint: null,
  };
  const manifestPath = `${out}.manifest.json`;
  await writeFile(`${manifestPath}.partial`, JSON.stringify(manifest, null, 2) + '\n');
  await rename(tmp, out);
  await rename(`${manifestPath}.partial`, manifestPath);
  return { out, manifest: manifestPath, format, recordCount: written.count, contentRoot: manifest.contentRoot, height: manifest.height };
}

export async function cmdExport(ctx: CliContext, flags: ExportFlags): Promise<void> {
  const format = formatFlag(ctx, flags.format);
  if (flags.out === undefined) throw ctx.usage('export needs --out FILE');
  if ((flags.task === undefined) === (flags.passport === undefined)) throw ctx.usage('export needs one of --task ID or --passport ID');
  const client = new TaggerClient({ url: flags.rpc ?? (await ctx.nodeUrl()) });
  if (flags.passport !== undefined) {
    const version = flags.version === undefined ? undefined : u32Flag(ctx, flags.version, 'version');
    ctx.print(await exportPassport(client, u32Flag(ctx, flags.passport, 'passport'), version, format, flags.out));
    return;
  }
  ctx.print(await exportTask(client, u32Flag(ctx, flags.task, 'task'), format, flags.out));
}

// ── item records proven against signed blocks ─────────────────────────────────────────────────

/** Tasks with at most this many items have every item record proven in `verify`. */
export const PROVEN_ITEMS_MAX = 10_000;
/** State keys one item may need (its body, its result, one answer per seat). */
const KEYS_PER_ITEM_MAX = 1_024;
/** Attested state roots remembered at once. */
const ROOTS_MAX = 4_096;

/** A key the proving reader does not hold yet. */
class MissingKey extends Error {
  readonly key: Uint8Array;
  constructor(key: Uint8Array) {
    super('missing key');
    this.key = key;
  }
}

/**
 * Reads state through proofs: every key comes from `/v1/state/proof`, whose state root must be that
 * of a block at or above the manifest's (the task was done there; a done task's items no longer
 * change), whose header hashes to the block hash the node serves, whose validator set is the
 * trusted one, and whose commit that set signed. The runtime's own loader reads an item through
 * `reader`, which asks for each key it does not hold yet.
 */
class ProvenState {
  private readonly roots = new Set<string>();
  private values = new Map<string, Uint8Array | null>();
  private readonly client: TaggerClient;
  private readonly from: Header;
  private readonly validators: VotingValidator[];

  constructor(client: TaggerClient, from: Header, validators: ValidatorSet) {
    this.client = client;
    this.from = from;
    this.validators = validators.map((v) => ({ address: v.address, publicKey: v.publicKey, power: v.power }));
  }

  async itemRecord(task: number, index: number): Promise<DatasetRecord> {
    this.values = new Map();
    const reader: StateReader = {
      get: (key) => {
        const id = bytesToHex(key);
        if (!this.values.has(id)) throw new MissingKey(key);
        return this.values.get(id) ?? undefined;
      },
    };
    for (let keys = 0; keys <= KEYS_PER_ITEM_MAX; keys++) {
      try {
        const item = loadItemWithAnswers(reader, task, index);
        if (item === null) throw inconsistent(`the proven state has no item ${index} of task ${task}`);
        return {
          index,
          itemHash: item.contentHash,
          status: item.status,
          label: item.label,
          confidenceQ16: item.confidenceQ16,
          answers: item.seats.filter((seat) => seat.answer >= 0).length,
        };
      } catch (e: unknown) {
        if (!(e instanceof MissingKey)) throw e;
        await this.prove(e.key);
      }
    }
    throw inconsistent(`item ${index} of task ${task} needs more than ${KEYS_PER_ITEM_MAX} state keys`);
  }

  private async prove(key: Uint8Array): Promise<void> {
    const reply = await this.client.proveState(key);
    await this.attest(reply.height, reply.stateRoot);
    const proof = stateProofFromJson(reply.proof);
    if (!equalBytes(proof.key, key) || !verifyStateProof(hexToBytes(reply.stateRoot), proof)) {
      throw inconsistent(`the node's proof of key ${hex(key)} does not verify against state root ${reply.stateRoot}`);
    }
    this.values.set(bytesToHex(key), proof.value);
  }

  private async attest(height: number, stateRoot: string): Promise<void> {
    if (this.roots.has(stateRoot)) return;
    if (height < this.from.height) throw inconsistent(`the node proved a key at height ${height}, below the manifest's ${this.from.height}`);
    const block = await this.client.block(height);
    if (block.header.stateRoot !== stateRoot) throw inconsistent(`block ${height} does not have state root ${stateRoot}`);
    if (block.commit === null) throw inconsistent(`the node has no commit for block ${height}`);
    const header = headerFromManifest(fullHeader(block));
    if (!equalBytes(header.validatorSetHash, this.from.validatorSetHash)) {
      throw inconsistent(`block ${height} was signed by another validator set than block ${this.from.height}; verify against a manifest from a later block`);
    }
    verifyCommit(header.chainId, commitFromJson(block.commit), height, hexToBytes(block.hash), this.validators);
    if (this.roots.size >= ROOTS_MAX) this.roots.clear();
    this.roots.add(stateRoot);
  }
}

// ── verify ──────────────────────────────────────────────────────────────────────────────────────

/**
 * The BNB Chain checkpoint check: NOT DONE. The bridge (issue 4) will checkpoint block hashes on
 * BNB Chain; once it does, this hook is to look up the latest checkpoint at or above the manifest's
 * height and check the block hash against it. Until then it reports "not checked", which does not
 * fail verification, and says so.
 */
function checkBnbCheckpoint(): VerifyCheck {
  return { check: 'bnb checkpoint', ok: null, detail: 'not checked: the BNB Chain bridge and its checkpoints do not exist yet (hook: checkBnbCheckpoint in node/exportCommands.ts)' };
}

function toStateProof(p: ManifestProof): StateProof {
  return stateProofFromJson(p);
}

export type VerifyResult = { verified: boolean; checks: VerifyCheck[]; report: string };

/** Runs every check it can, in order, and reports each; never throws for a mismatch. */
export async function verifyExport(path: string, manifest: ExportManifest, client: TaggerClient): Promise<VerifyResult> {
  const checks: VerifyCheck[] = [];
  const done = (): VerifyResult => {
    const report = formatVerifyReport(checks);
    return { verified: verifyPassed(checks), checks, report };
  };

  // The file: every row well-formed, in index order; its count and content root.
  let file: FileDigest;
  try {
    file = await hashDatasetFile(path, manifest.file.format);
  } catch (e: unknown) {
    if (!isChainError(e)) throw e;
    checks.push({ check: 'file', ok: false, detail: e.message });
    return done();
  }
  const { misplaced, count } = file;
  checks.push({ check: 'file', ok: misplaced === null, detail: misplaced ?? `${count} well-formed ${manifest.file.format} rows in index order` });
  const root = hex(file.root);
  checks.push({ check: 'record count', ok: count === manifest.recordCount, detail: `file ${count}, manifest ${manifest.recordCount}` });
  checks.push({ check: 'content root', ok: root === manifest.contentRoot, detail: `file ${root}, manifest ${manifest.contentRoot}` });

  // The header: its hash from its fields, and the block the verifier's node has at that height.
  const header = headerFromManifest(manifest.header);
  const computed = hex(hashHeader(header));
  let served: BlockJson;
  try {
    served = await client.block(manifest.height);
  } catch (e: unknown) {
    if (!isChainError(e)) throw e;
    checks.push({ check: 'header', ok: false, detail: `cannot read block ${manifest.height} from the node: ${e.message}` });
    return done();
  }
  const headerOk = computed === manifest.blockHash && served.hash === manifest.blockHash && header.height === manifest.height && header.chainId === manifest.chainId;
  checks.push({
    check: 'header',
    ok: headerOk,
    detail: headerOk
      ? `block ${manifest.height} ${computed}: the manifest's header hashes to it and the node serves it`
      : `manifest header hashes to ${computed}, manifest says ${manifest.blockHash}, the node serves ${served.hash} at height ${manifest.height}`,
  });
  if (!headerOk) return done();

  // The validator set: proven by the block's own state, hashed into the header.
  const proofs = new Map(manifest.proofs.map((p) => [p.what, p]));
  const last = proofs.get('lastValidatorSet');
  const next = proofs.get('validatorSet');
  let validators: ReturnType<typeof decodeValidatorSet> | null = null;
  if (last === undefined || next === undefined) {
    checks.push({ check: 'validator set', ok: false, detail: 'the manifest lacks the validator-set proofs' });
  } else {
    const lastOk = equalBytes(hexToBytes(last.key), LAST_VALIDATOR_SET_KEY) && verifyStateProof(header.stateRoot, toStateProof(last));
    const nextOk = equalBytes(hexToBytes(next.key), VALIDATOR_SET_KEY) && verifyStateProof(header.stateRoot, toStateProof(next));
    const bytes = last.value ?? next.value;
    if (!lastOk || !nextOk || bytes === null) {
      checks.push({ check: 'validator set', ok: false, detail: 'the validator-set proofs do not verify against the header state root' });
    } else {
      validators = decodeValidatorSet(hexToBytes(bytes));
      const setHash = hex(validatorSetHash(validators));
      const ok = setHash === hex(header.validatorSetHash);
      checks.push({ check: 'validator set', ok, detail: `${validators.length} validators, hash ${setHash}${ok ? ' = ' : ' ≠ '}header ${hex(header.validatorSetHash)}` });
      if (!ok) validators = null;
    }
  }

  // The commit: the node's certificate for the block, > 2/3 of the set's power.
  if (validators === null) {
    checks.push({ check: 'commit', ok: null, detail: 'not checked: no trusted validator set' });
  } else if (served.commit === null) {
    checks.push({ check: 'commit', ok: false, detail: `the node has no commit for block ${manifest.height}` });
  } else {
    try {
      verifyCommit(header.chainId, commitFromJson(served.commit), header.height, hexToBytes(manifest.blockHash), validators.map((v) => ({ address: v.address, publicKey: v.publicKey, power: v.power })));
      checks.push({ check: 'commit', ok: true, detail: `${served.commit.signatures.length} signatures over block ${manifest.blockHash} carry > 2/3 of the power` });
    } catch (e: unknown) {
      if (!isChainError(e)) throw e;
      checks.push({ check: 'commit', ok: false, detail: `${e.code}: ${e.message}` });
    }
  }

  // The state proof of the source record, and what it says about the dataset.
  if (manifest.source.kind === 'passport') {
    checkPassport(checks, manifest, manifest.source, proofs, header, root);
    checks.push(checkBnbCheckpoint());
    return done();
  }
  if (manifest.binding !== 'task-items') {
    checks.push({ check: 'state proof', ok: false, detail: `a task manifest must have binding task-items, not ${manifest.binding}` });
    return done();
  }
  const source = manifest.source.task;
  const taskProof = proofs.get('task');
  let task: Task | null = null;
  if (taskProof === undefined || !equalBytes(hexToBytes(taskProof.key), taskKey(source)) || taskProof.value === null) {
    checks.push({ check: 'state proof', ok: false, detail: `the manifest has no inclusion proof of task ${source}'s record` });
  } else if (!verifyStateProof(header.stateRoot, toStateProof(taskProof))) {
    checks.push({ check: 'state proof', ok: false, detail: `the proof of task ${source} does not verify against state root ${hex(header.stateRoot)}` });
  } else {
    task = decodeTask(hexToBytes(taskProof.value));
    const problems: string[] = [];
    if (task.id !== source) problems.push(`the record is task ${task.id}`);
    if (task.status !== TASK_STATUS.done) problems.push(`task ${source} is not done`);
    if (task.itemsAdded !== manifest.recordCount) problems.push(`task ${source} has ${task.itemsAdded} items, the manifest ${manifest.recordCount}`);
    checks.push({
      check: 'state proof',
      ok: problems.length === 0,
      detail: problems.length === 0 ? `task ${source} is done with ${task.itemsAdded} items at state root ${hex(header.stateRoot)}` : problems.join('; '),
    });
  }

  // The records against the task's item records: proven item by item up to PROVEN_ITEMS_MAX,
  // else as the verifier's node serves them.
  if (task === null || validators === null) {
    checks.push({ check: 'chain records', ok: null, detail: 'not checked: no proven task record or validator set' });
  } else {
    const chain = new DatasetRootBuilder();
    const proven = task.itemsAdded <= PROVEN_ITEMS_MAX;
    try {
      if (proven) {
        const state = new ProvenState(client, header, validators);
        for (let i = 0; i < task.itemsAdded; i++) chain.push(encodeDatasetRecord(await state.itemRecord(source, i)));
      } else {
        for await (const r of taskRecords(client, source, task.itemsAdded)) chain.push(encodeDatasetRecord(r));
      }
      const chainRoot = hex(chain.root());
      const how = proven
        ? 'each proven against a block signed by the same validator set'
        : `as the node serves them (more than ${PROVEN_ITEMS_MAX} items: not proven one by one)`;
      checks.push({
        check: 'chain records',
        ok: chainRoot === root && chain.count === count,
        detail: `task ${source}'s ${chain.count} item records, ${how}, give root ${chainRoot}; the file's is ${root}`,
      });
    } catch (e: unknown) {
      if (!isChainError(e)) throw e;
      checks.push({ check: 'chain records', ok: false, detail: `reading task ${source}'s items: ${e.message}` });
    }
  }
  checks.push(checkBnbCheckpoint());
  return done();
}

/** Checks 7 and 8 for a passport: the version record is proven, and its content root is the file's. */
function checkPassport(
  checks: VerifyCheck[],
  manifest: ExportManifest,
  source: { passport: number; version: number },
  proofs: ReadonlyMap<string, ManifestProof>,
  header: Header,
  fileRoot: string,
): void {
  const { passport, version } = source;
  const proof = proofs.get('passport');
  if (manifest.binding !== 'passport-record') {
    checks.push({ check: 'state proof', ok: false, detail: `a passport manifest must have binding passport-record, not ${manifest.binding}` });
    return;
  }
  if (proof === undefined || !equalBytes(hexToBytes(proof.key), passportVersionKey(passport, version)) || proof.value === null) {
    checks.push({ check: 'state proof', ok: false, detail: `the manifest has no inclusion proof of passport ${passport} version ${version}` });
    return;
  }
  if (!verifyStateProof(header.stateRoot, toStateProof(proof))) {
    checks.push({ check: 'state proof', ok: false, detail: `the proof of passport ${passport} version ${version} does not verify against state root ${hex(header.stateRoot)}` });
    return;
  }
  const pv = decodePassportVersion(hexToBytes(proof.value));
  const problems: string[] = [];
  if (pv.id !== passport || pv.version !== version) problems.push(`the record is passport ${pv.id} version ${pv.version}`);
  if (pv.status !== PASSPORT_STATUS.active) problems.push('the version is still building');
  if (pv.recordCount !== manifest.recordCount) problems.push(`the version has ${pv.recordCount} records, the manifest ${manifest.recordCount}`);
  if (hex(pv.contentRoot) !== manifest.contentRoot) problems.push(`the version's content root is ${hex(pv.contentRoot)}, the manifest's ${manifest.contentRoot}`);
  checks.push({
    check: 'state proof',
    ok: problems.length === 0,
    detail: problems.length === 0 ? `passport ${passport} version ${version} holds content root ${hex(pv.contentRoot)} and ${pv.recordCount} records at state root ${hex(header.stateRoot)}` : problems.join('; '),
  });
  const ok = hex(pv.contentRoot) === fileRoot;
  checks.push({ check: 'chain records', ok, detail: `passport ${passport} version ${version}'s proven content root ${hex(pv.contentRoot)}${ok ? ' = ' : ' ≠ '}the file's ${fileRoot}` });
}

export async function cmdVerify(ctx: CliContext, args: string[], flags: ExportFlags): Promise<void> {
  const [file, extra] = args;
  if (file === undefined || extra !== undefined) throw ctx.usage('verify needs one FILE');
  if (flags.manifest === undefined) throw ctx.usage('verify needs --manifest FILE');
  let manifest: ExportManifest;
  try {
    manifest = parseManifest(JSON.parse(await readFile(flags.manifest, 'utf8')) as unknown);
  } catch (e: unknown) {
    if (e instanceof SyntaxError) throw badFile(flags.manifest, 'not JSON');
    throw e;
  }
  const client = new TaggerClient({ url: flags.rpc ?? (await ctx.nodeUrl()) });
  const result = await verifyExport(file, manifest, client);
  process.stderr.write(result.report + '\n');
  ctx.print({ verified: result.verified, file, manifest: flags.manifest, checks: result.checks });
  if (!result.verified) process.exitCode = VERIFY_FAILED_EXIT;
}

