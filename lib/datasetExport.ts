/**
 * Exported dataset files and their manifest (docs/spec/export.md): how a `DatasetRecord`
 * (lib/dataset.ts) is written as a JSONL line, a CSV line or a Parquet row, and read back strictly,
 * the manifest's JSON shape and its parser, and the verifier's report. Pure: the files, the HTTP
 * and the chain checks are in node/exportCommands.ts.
 *
 * A row carries the record's fields plus two derived ones (`status` as a name, `confidence` as a
 * decimal); a reader recomputes the derived fields from the exact ones and rejects a row where they
 * disagree, so that no column of the file can be changed without changing the content root.
 */
import { bytesToHex, hexToBytes } from './bytes.ts';
import { U32_MAX } from './codec.ts';
import { DATASET_Q16_ONE, DATASET_STATUS_NAMES, checkDatasetRecord, type DatasetRecord } from './dataset.ts';
import { ChainError } from './errors.ts';

export const DATASET_FORMATS = ['jsonl', 'csv', 'parquet'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export const EXPORT_MANIFEST_FORMAT = 'tagger-dataset-manifest/1';

/** Row columns, in file order (CSV header, Parquet schema, JSONL keys). */
export const DATASET_COLUMNS = ['index', 'itemHash', 'status', 'label', 'confidenceQ16', 'confidence', 'answers'] as const;
export const DATASET_CSV_HEADER = DATASET_COLUMNS.join(',');

/** A record as a row: the JSONL object, the CSV columns and the Parquet row. */
export type DatasetRow = {
  index: number;
  /** 0x-prefixed lower-case hex of the item's contentHash. */
  itemHash: string;
  status: (typeof DATASET_STATUS_NAMES)[number];
  /** null when the item has no label. */
  label: number | null;
  confidenceQ16: number;
  /** confidenceQ16 / 65536 with 6 decimals, rounded half up (derived). */
  confidence: string;
  answers: number;
};

export type ExportErrorType =
  | { code: 'EXPORT_BAD_ROW'; row: number; reason: string }
  | { code: 'EXPORT_BAD_MANIFEST'; field: string; reason: string };
export class ExportError extends ChainError<ExportErrorType> {}

function badRow(row: number, reason: string): ExportError {
  return new ExportError({ code: 'EXPORT_BAD_ROW', row, reason }, `row ${row}: ${reason}`);
}

/** `q / 65536` as a decimal with six places, in integers (no float rounding differences). */
export function q16ToDecimal6(q: number): string {
  const scaled = Math.floor((q * 1_000_000 + DATASET_Q16_ONE / 2) / DATASET_Q16_ONE);
  return `${Math.floor(scaled / 1_000_000)}.${String(scaled % 1_000_000).padStart(6, '0')}`;
}

export function recordToRow(r: DatasetRecord): DatasetRow {
  checkDatasetRecord(r);
  return {
    index: r.index,
    itemHash: '0x' + bytesToHex(r.itemHash),
    status: DATASET_STATUS_NAMES[r.status] as DatasetRow['status'],
    label: r.label < 0 ? null : r.label,
    confidenceQ16: r.confidenceQ16,
    confidence: q16ToDecimal6(r.confidenceQ16),
    answers: r.answers,
  };
}

const HASH_HEX_RE = /^0x[0-9a-f]{64}$/;
const U32_RE = /^(0|[1-9][0-9]{0,9})$/;

function u32Field(value: unknown, field: string, row: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > U32_MAX) throw badRow(row, `${field} is not a u32`);
  return value;
}

/**
 * The record a row stands for. `row` is the row's position in the file (0-based, for messages);
 * whether the record's `index` is that position is the verifier's check (it reports it apart).
 */
export function rowToRecord(value: unknown, row: number): DatasetRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRow(row, 'not an object');
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== DATASET_COLUMNS.length || !DATASET_COLUMNS.every((c) => c in o)) {
    throw badRow(row, `columns must be exactly ${DATASET_COLUMNS.join(', ')}`);
  }
  const index = u32Field(o.index, 'index', row);
  if (typeof o.itemHash !== 'string' || !HASH_HEX_RE.test(o.itemHash)) throw badRow(row, 'itemHash is not 0x and 64 lower-case hex digits');
  const status = DATASET_STATUS_NAMES.indexOf(o.status as DatasetRow['status']);
  if (status < 0) throw badRow(row, `status is not one of ${DATASET_STATUS_NAMES.join(', ')}`);
  const label = o.label === null ? -1 : u32Field(o.label, 'label', row);
  if (label === U32_MAX) throw badRow(row, 'label is out of range');
  const confidenceQ16 = u32Field(o.confidenceQ16, 'confidenceQ16', row);
  if (confidenceQ16 > DATASET_Q16_ONE) throw badRow(row, 'confidenceQ16 is above 65536');
  if (o.confidence !== q16ToDecimal6(confidenceQ16)) throw badRow(row, `confidence ${String(o.confidence)} does not match confidenceQ16 ${confidenceQ16}`);
  const answers = u32Field(o.answers, 'answers', row);
  return { index, itemHash: hexToBytes(o.itemHash), status, label, confidenceQ16, answers };
}

/** `JSON.stringify(recordToRow(r))`, written out directly (every field is a number or a plain token). */
export function recordToJsonLine(r: DatasetRecord): string {
  checkDatasetRecord(r);
  return (
    `{"index":${r.index},"itemHash":"0x${bytesToHex(r.itemHash)}","status":"${DATASET_STATUS_NAMES[r.status] as string}",` +
    `"label":${r.label < 0 ? 'null' : r.label},"confidenceQ16":${r.confidenceQ16},"confidence":"${q16ToDecimal6(r.confidenceQ16)}","answers":${r.answers}}`
  );
}

export function parseJsonLine(line: string, row: number): DatasetRecord {
  let value: unknown;
  try {
    value = JSON.parse(line) as unknown;
  } catch {
    throw badRow(row, 'not a JSON object');
  }
  return rowToRecord(value, row);
}

export function recordToCsvLine(r: DatasetRecord): string {
  checkDatasetRecord(r);
  return `${r.index},0x${bytesToHex(r.itemHash)},${DATASET_STATUS_NAMES[r.status] as string},${r.label < 0 ? '' : r.label},${r.confidenceQ16},${q16ToDecimal6(r.confidenceQ16)},${r.answers}`;
}

/** A CSV data line (every field is a plain token: no quoting is ever needed or accepted). */
export function parseCsvLine(line: string, row: number): DatasetRecord {
  const f = line.split(',');
  if (f.length !== DATASET_COLUMNS.length) throw badRow(row, `expected ${DATASET_COLUMNS.length} comma-separated fields, got ${f.length}`);
  const int = (text: string, field: string): number => {
    if (!U32_RE.test(text)) throw badRow(row, `${field} is not a u32`);
    return Number(text);
  };
  const [index, itemHash, status, label, confidenceQ16, confidence, answers] = f as [string, string, string, string, string, string, string];
  return rowToRecord(
    {
      index: int(index, 'index'),
      itemHash,
      status,
      label: label === '' ? null : int(label, 'label'),
      confidenceQ16: int(confidenceQ16, 'confidenceQ16'),
      confidence,
      answers: int(answers, 'answers'),
    },
    row,
  );
}

// ── the manifest ────────────────────────────────────────────────────────────────────────────────

export type Hex = string;

/** A block header with every field `blockHash` covers (the RPC's header view plus lastCommitHash). */
export type ManifestHeader = {
  version: number;
  chainId: string;
  height: number;
  timeMs: string;
  parentHash: Hex;
  lastCommitHash: Hex;
  txRoot: Hex;
  receiptsRoot: Hex;
  stateRoot: Hex;
  /** The proposer's address as the RPC writes it. */
  proposer: string;
  validatorSetHash: Hex;
  nextValidatorSetHash: Hex;
};

export type ManifestCommit = {
  height: number;
  round: number;
  blockHash: Hex;
  signatures: Array<{ validator: string; signature: Hex }>;
};

/** A state proof as `/v1/state/proof` serves it, named by what it proves. */
export type ManifestProof = {
  /** 'task', 'passport', 'lastValidatorSet' or 'validatorSet'. */
  what: string;
  key: Hex;
  value: Hex | null;
  siblings: Hex[];
  leaf: { keyHash: Hex; valueHash: Hex } | null;
};

export type ManifestSource = { kind: 'task'; task: number } | { kind: 'passport'; passport: number; version: number };

export type ExportManifest = {
  format: typeof EXPORT_MANIFEST_FORMAT;
  chainId: string;
  source: ManifestSource;
  file: { format: DatasetFormat; columns: string[] };
  contentRoot: Hex;
  recordCount: number;
  /** How the content root is bound to state: 'passport-record' or 'task-items' (docs/spec/export.md). */
  binding: 'passport-record' | 'task-items';
  height: number;
  blockHash: Hex;
  header: ManifestHeader;
  commit: ManifestCommit;
  /**
   * Where the validator set comes from: the state of the same block proves it (the proofs named
   * 'lastValidatorSet' and 'validatorSet'; the first if present, else the second, as the runtime
   * reads it), and its hash must equal header.validatorSetHash.
   */
  validatorSet: { source: 'state-proof'; hash: Hex };
  proofs: ManifestProof[];
  /** Not checked yet: the bridge to BNB Chain is being built (docs/spec/export.md §Checkpoints). */
  bnbCheckpoint: null;
};

const HEX_RE = /^0x([0-9a-f]{2})*$/;
const HASH_RE = HASH_HEX_RE;

function badManifest(field: string, reason: string): ExportError {
  return new ExportError({ code: 'EXPORT_BAD_MANIFEST', field, reason }, `manifest: ${field} ${reason}`);
}

type Obj = Record<string, unknown>;

function obj(value: unknown, field: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badManifest(field, 'is not an object');
  return value as Obj;
}
function u32(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > U32_MAX) throw badManifest(field, 'is not a u32');
  return value;
}
function str(value: unknown, field: string, max = 1024): string {
  if (typeof value !== 'string' || value.length > max) throw badManifest(field, 'is not a string');
  return value;
}
function hash(value: unknown, field: string): Hex {
  if (typeof value !== 'string' || !HASH_RE.test(value)) throw badManifest(field, 'is not a 32-byte 0x hex hash');
  return value;
}
function hexStr(value: unknown, field: string, maxChars = 1 << 20): Hex {
  if (typeof value !== 'string' || value.length > maxChars || !HEX_RE.test(value)) throw badManifest(field, 'is not 0x hex');
  return value;
}
function list<T>(value: unknown, field: string, max: number, item: (v: unknown, i: number) => T): T[] {
  if (!Array.isArray(value) || value.length > max) throw badManifest(field, `is not a list of at most ${max}`);
  return value.map(item);
}

function parseProof(value: unknown, i: number): ManifestProof {
  const p = obj(value, `proofs[${i}]`);
  const leaf = p.leaf === null ? null : obj(p.leaf, `proofs[${i}].leaf`);
  return {
    what: str(p.what, `proofs[${i}].what`, 64),
    key: hexStr(p.key, `proofs[${i}].key`, 2 + 2 * 256),
    value: p.value === null ? null : hexStr(p.value, `proofs[${i}].value`),
    siblings: list(p.siblings, `proofs[${i}].siblings`, 256, (s, j) => hash(s, `proofs[${i}].siblings[${j}]`)),
    leaf: leaf === null ? null : { keyHash: hash(leaf.keyHash, `proofs[${i}].leaf.keyHash`), valueHash: hash(leaf.valueHash, `proofs[${i}].leaf.valueHash`) },
  };
}

/** Checks a parsed manifest JSON's shape (not its truth: the verifier does that). */
export function parseManifest(json: unknown): ExportManifest {
  const m = obj(json, '(root)');
  if (m.format !== EXPORT_MANIFEST_FORMAT) throw badManifest('format', `is not ${EXPORT_MANIFEST_FORMAT}`);
  const s = obj(m.source, 'source');
  let source: ManifestSource;
  if (s.kind === 'task') source = { kind: 'task', task: u32(s.task, 'source.task') };
  else if (s.kind === 'passport') source = { kind: 'passport', passport: u32(s.passport, 'source.passport'), version: u32(s.version, 'source.version') };
  else throw badManifest('source.kind', 'is not task or passport');
  const file = obj(m.file, 'file');
  if (!DATASET_FORMATS.includes(file.format as DatasetFormat)) throw badManifest('file.format', `is not one of ${DATASET_FORMATS.join(', ')}`);
  const h = obj(m.header, 'header');
  const c = obj(m.commit, 'commit');
  const vs = obj(m.validatorSet, 'validatorSet');
  if (vs.source !== 'state-proof') throw badManifest('validatorSet.source', 'is not state-proof');
  if (m.binding !== 'passport-record' && m.binding !== 'task-items') throw badManifest('binding', 'is not passport-record or task-items');
  if (m.bnbCheckpoint !== null) throw badManifest('bnbCheckpoint', 'must be null in this format version');
  if (typeof h.timeMs !== 'string' || !/^(0|[1-9][0-9]{0,30})$/.test(h.timeMs)) throw badManifest('header.timeMs', 'is not a decimal integer');
  return {
    format: EXPORT_MANIFEST_FORMAT,
    chainId: str(m.chainId, 'chainId', 64),
    source,
    file: { format: file.format as DatasetFormat, columns: list(file.columns, 'file.columns', 32, (x, i) => str(x, `file.columns[${i}]`, 64)) },
    contentRoot: hash(m.contentRoot, 'contentRoot'),
    recordCount: u32(m.recordCount, 'recordCount'),
    binding: m.binding,
    height: u32(m.height, 'height'),
    blockHash: hash(m.blockHash, 'blockHash'),
    header: {
      version: u32(h.version, 'header.version'),
      chainId: str(h.chainId, 'header.chainId', 64),
      height: u32(h.height, 'header.height'),
      timeMs: h.timeMs,
      parentHash: hash(h.parentHash, 'header.parentHash'),
      lastCommitHash: hash(h.lastCommitHash, 'header.lastCommitHash'),
      txRoot: hash(h.txRoot, 'header.txRoot'),
      receiptsRoot: hash(h.receiptsRoot, 'header.receiptsRoot'),
      stateRoot: hash(h.stateRoot, 'header.stateRoot'),
      proposer: str(h.proposer, 'header.proposer', 128),
      validatorSetHash: hash(h.validatorSetHash, 'header.validatorSetHash'),
      nextValidatorSetHash: hash(h.nextValidatorSetHash, 'header.nextValidatorSetHash'),
    },
    commit: {
      height: u32(c.height, 'commit.height'),
      round: u32(c.round, 'commit.round'),
      blockHash: hash(c.blockHash, 'commit.blockHash'),
      signatures: list(c.signatures, 'commit.signatures', 200, (x, i) => {
        const sig = obj(x, `commit.signatures[${i}]`);
        return { validator: str(sig.validator, `commit.signatures[${i}].validator`, 128), signature: hexStr(sig.signature, `commit.signatures[${i}].signature`, 130) };
      }),
    },
    validatorSet: { source: 'state-proof', hash: hash(vs.hash, 'validatorSet.hash') },
    proofs: list(m.proofs, 'proofs', 16, parseProof),
    bnbCheckpoint: null,
  };
}

// ── the verifier's report ───────────────────────────────────────────────────────────────────────

/** The checks `tagger verify` reports, in order. */
export const VERIFY_CHECKS = ['file', 'record count', 'content root', 'header', 'validator set', 'commit', 'state proof', 'chain records', 'bnb checkpoint'] as const;
export type VerifyCheckName = (typeof VERIFY_CHECKS)[number];

/** ok: true matched, false did not, null not checked (and why, in detail). */
export type VerifyCheck = { check: VerifyCheckName; ok: boolean | null; detail: string };

/** Passes only if every check that must run matched; 'bnb checkpoint' is the one allowed to be null. */
export function verifyPassed(checks: readonly VerifyCheck[]): boolean {
  return VERIFY_CHECKS.every((name) => {
    const c = checks.find((x) => x.check === name);
    if (name === 'bnb checkpoint') return c === undefined || c.ok !== false;
    return c !== undefined && c.ok === true;
  });
}

/** One line per check: `MATCH`, `FAIL` or `NOT CHECKED`, the check and why. */
export function formatVerifyReport(checks: readonly VerifyCheck[]): string {
  const lines = VERIFY_CHECKS.map((name) => {
    const c = checks.find((x) => x.check === name);
    if (c === undefined) return `NOT CHECKED  ${name}: an earlier check failed`;
    return `${c.ok === true ? 'MATCH      ' : c.ok === false ? 'FAIL       ' : 'NOT CHECKED'}  ${name}: ${c.detail}`;
  });
  lines.push(verifyPassed(checks) ? 'VERIFIED' : 'NOT VERIFIED');
  return lines.join('\n');
}
