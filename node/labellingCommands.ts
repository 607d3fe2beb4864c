/**
 * The CLI's labelling commands (docs/cli.md §Labelling): `tagger task …`, `annotator …`, `labels …`,
 * `gold reveal` and `dispute`. Transactions are built with sdk/labelling.ts and sent like
 * `tx transfer` (sdk `sendTx`, the keyring and its password flags); queries go through TaggerClient.
 * Every command prints one JSON object; a transaction whose receipt failed is an error with the
 * receipt's code (e.g. LABEL_COMMIT_CLOSED) and a non-zero exit.
 *
 * Secrets the chain must not see before their time are written to files before the transaction
 * that depends on them is sent: the salts of a label commit (needed for the reveal) and the gold
 * answers with their salts (needed for the gold reveal). They live under `<home>/labelling/`
 * unless a path is given, and are never overwritten.
 */
import { mkdir, readFile, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ChainError, U32_MAX, addressFromString, assert, addressToString, bytesToHex, equalBytes, hexToBytes, parseTag } from '../lib/index.ts';
import { writeFileDurable } from '../consensus/index.ts';
import type { KeyInfo } from '../sdk/keyring.ts';
import {
  ClientError,
  GOLD_PER_TX_MAX,
  TASK_SPEC_INPUT_FIELDS,
  TaggerClient,
  batchItems,
  buildAnnotatorStake,
  buildAnnotatorUnstake,
  buildDispute,
  buildGoldReveal,
  buildLabelCommit,
  buildLabelReveal,
  buildTaskAddItems,
  buildTaskCancel,
  buildTaskCreate,
  buildTaskFund,
  goldSecrets,
  goldTree,
  labelCommitRoot,
  maxFeeFor,
  sendTx,
  signedSizeBound,
  taskSpecFromInput,
  type CommittedTxJson,
  type FeeSchedule,
  type GoldSecret,
  type LabelChoice,
  type LabelEntry,
  type LabellingBody,
  type NewItem,
  type TaskJson,
  type TaskSpecInput,
  type TxBody,
} from '../sdk/index.ts';

/** Flags of the labelling commands, added to the CLI's option table by main.ts. */
export const LABELLING_OPTIONS = {
  spec: { type: 'string' },
  task: { type: 'string' },
  round: { type: 'string' },
  item: { type: 'string' },
  bond: { type: 'string' },
  salts: { type: 'string' },
  'gold-out': { type: 'string' },
  classes: { type: 'string' },
  cursor: { type: 'string' },
  limit: { type: 'string' },
} as const;

export type LabellingFlags = {
  [K in keyof typeof LABELLING_OPTIONS]?: string;
} & { from?: string; amount?: string; file?: string; 'max-fee'?: string };

/** What the labelling commands take from the CLI around them. */
export type CliContext = {
  home: string;
  nodeUrl(): Promise<string>;
  /** The secret key of keyring entry `name` (reads the password as `tx transfer` does). */
  unlock(name: string): Promise<Uint8Array>;
  /** Public facts of keyring entry `name`, without its password. */
  keyInfo(name: string): Promise<KeyInfo>;
  print(value: unknown): void;
  usage(reason: string): Error;
};

export type LabellingCliErrorType =
  | { code: 'CLI_BAD_FILE'; path: string; reason: string }
  | { code: 'CLI_NOT_ASSIGNED'; task: number; round: number; annotator: string; items: number[] }
  | { code: 'CLI_WRONG_PHASE'; task: number; round: number; phase: string; reason: string }
  | { code: 'CLI_WRONG_STATUS'; task: number; status: string; reason: string }
  | { code: 'CLI_FILE_EXISTS'; path: string }
  | { code: 'CLI_TOO_LARGE'; reason: string };
export class LabellingCliError extends ChainError<LabellingCliErrorType> {}

/** A committed transaction whose receipt failed: the error's code is the receipt's. */
export class TxFailedError extends ChainError<{ code: string; hash: string; height: number }> {}

/**
 * Signs, sends and waits for one transaction (every CLI command that writes uses it); a failed
 * receipt is a TxFailedError with the receipt's code.
 */
export async function sendCommitted(client: TaggerClient, secretKey: Uint8Array, body: TxBody, maxFee: bigint): Promise<CommittedTxJson> {
  const { committed } = await sendTx(client, secretKey, body, { maxFee, timeoutMs: 60_000 });
  assert(committed !== null, 'sendTx waits by default');
  if (committed.receipt.status !== 'ok') {
    throw new TxFailedError(
      { code: committed.receipt.code, hash: committed.hash, height: committed.height },
      `${body.kind} failed at height ${committed.height}: ${committed.receipt.code} (transaction ${committed.hash})`,
    );
  }
  return committed;
}

const FILE_BYTES_MAX = 64 * 1024 * 1024;
const SECRETS_VERSION = 1;

// ── small helpers ─────────────────────────────────────────────────────────────────────────────

function badFile(path: string, reason: string): LabellingCliError {
  return new LabellingCliError({ code: 'CLI_BAD_FILE', path, reason }, `${path}: ${reason}`);
}

function u32Flag(ctx: CliContext, name: string, value: string | undefined): number {
  if (value === undefined) throw ctx.usage(`--${name} is required`);
  if (!/^(0|[1-9][0-9]{0,9})$/.test(value) || Number(value) > U32_MAX) throw ctx.usage(`--${name} must be a whole number, got "${value}"`);
  return Number(value);
}

async function readText(path: string): Promise<string> {
  const info = await stat(path).catch(() => null);
  if (info === null || !info.isFile()) throw badFile(path, 'no such file');
  if (info.size > FILE_BYTES_MAX) throw badFile(path, `larger than ${FILE_BYTES_MAX} bytes`);
  return readFile(path, 'utf8');
}

async function readJson(path: string): Promise<unknown> {
  const text = await readText(path);
  try {
    return JSON.parse(text) as unknown;
  } catch (e: unknown) {
    throw badFile(path, `not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A list of `{ item, label }` from a JSON array (labels, gold answers). */
function choices(path: string, value: unknown): LabelChoice[] {
  if (!Array.isArray(value)) throw badFile(path, 'must be a JSON array of { "item": N, "label": N }');
  return value.map((v: unknown, i) => {
    if (!isObject(v) || !Number.isInteger(v['item']) || !Number.isInteger(v['label'])) {
      throw badFile(path, `entry ${i} must be { "item": N, "label": N } with whole numbers`);
    }
    return { item: v['item'] as number, label: v['label'] as number };
  });
}

/** Writes a new secrets file (mode 0600); refuses to replace one. */
async function writeSecrets(path: string, value: unknown): Promise<void> {
  if ((await stat(path).catch(() => null)) !== null) {
    throw new LabellingCliError({ code: 'CLI_FILE_EXISTS', path }, `${path} exists; it may hold secrets still needed. Move it away, or give another path`);
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileDurable(path, JSON.stringify(value, null, 2) + '\n', 0o600);
}

function labellingDir(ctx: CliContext): string {
  return join(ctx.home, 'labelling');
}

function hexOf(bytes: Uint8Array): string {
  return '0x' + bytesToHex(bytes);
}

function attribute(tx: CommittedTxJson, type: string, key: string): string | undefined {
  return tx.receipt.events.find((e) => e.type === type)?.attributes[key];
}

type Session = { client: TaggerClient; chainId: string; fees: FeeSchedule };

async function session(ctx: CliContext): Promise<Session> {
  const client = new TaggerClient({ url: await ctx.nodeUrl() });
  const [status, params] = await Promise.all([client.status(), client.labellingParams()]);
  const fees = { baseFee: BigInt(params.fees.baseFee), perByteFee: BigInt(params.fees.perByteFee), txBytesMax: params.fees.txBytesMax };
  return { client, chainId: status.chainId, fees };
}

/** Signs, sends and waits for one labelling transaction; a failed receipt is a TxFailedError. */
async function send(flags: LabellingFlags, s: Session, secretKey: Uint8Array, body: LabellingBody): Promise<CommittedTxJson> {
  const maxFee = flags['max-fee'] === undefined ? maxFeeFor(s.chainId, body, s.fees) : parseTag(flags['max-fee']);
  return sendCommitted(s.client, secretKey, body, maxFee);
}

function summary(tx: CommittedTxJson): { hash: string; height: number; fee: string } {
  return { hash: tx.hash, height: tx.height, fee: tx.receipt.fee };
}

function needFrom(ctx: CliContext, flags: LabellingFlags): string {
  if (flags.from === undefined) throw ctx.usage('--from NAME (a keyring key) is required');
  return flags.from;
}

/** The address a query is about: a positional ADDRESS, else the --from key's. */
async function addressArg(ctx: CliContext, flags: LabellingFlags, positional: string | undefined): Promise<string> {
  if (positional !== undefined) return addressToString(addressFromString(positional));
  if (flags.from !== undefined) return (await ctx.keyInfo(flags.from)).address;
  throw ctx.usage('give an ADDRESS or --from NAME');
}

// ── task ──────────────────────────────────────────────────────────────────────────────────────

/** The spec file: TaskSpecInput fields plus an optional "gold" (a file path or an inline list). */
async function readSpec(path: string): Promise<{ input: TaskSpecInput; gold: LabelChoice[] | null }> {
  const json = await readJson(path);
  if (!isObject(json)) throw badFile(path, 'must be a JSON object');
  const known = new Set<string>([...TASK_SPEC_INPUT_FIELDS, 'gold']);
  const unknown = Object.keys(json).filter((k) => !known.has(k));
  if (unknown.length > 0) throw badFile(path, `unknown field(s) ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
  const { gold, ...input } = json;
  if (gold === undefined) return { input: input as TaskSpecInput, gold: null };
  if (typeof gold === 'string') {
    const goldPath = resolve(dirname(path), gold);
    return { input: input as TaskSpecInput, gold: choices(goldPath, await readJson(goldPath)) };
  }
  return { input: input as TaskSpecInput, gold: choices(`${path} (gold)`, gold) };
}

type GoldFile = { version: number; goldRoot: string; goldCount: number; entries: Array<{ item: number; label: number; salt: string; index: number; proof: string[] }> };

async function taskCreate(ctx: CliContext, flags: LabellingFlags): Promise<void> {
  const from = needFrom(ctx, flags);
  if (flags.spec === undefined) throw ctx.usage('task create needs --spec FILE.json');
  const specPath = resolve(flags.spec);
  const { input, gold } = await readSpec(specPath);
  const secrets = gold === null ? null : goldSecrets(gold);
  const tree = secrets === null ? null : goldTree(secrets);
  const spec = taskSpecFromInput(input, tree?.root ?? null);
  for (const g of gold ?? []) {
    if (g.item >= spec.itemCount) throw badFile(specPath, `gold item ${g.item} is past itemCount ${spec.itemCount}`);
  }
  const s = await session(ctx);
  const secretKey = await ctx.unlock(from);
  let goldFile: string | null = null;
  if (secrets !== null && tree !== null) {
    // Saved before the task exists: losing these would make the gold impossible to reveal.
    goldFile = resolve(flags['gold-out'] ?? join(labellingDir(ctx), `gold-${bytesToHex(tree.root).slice(0, 16)}.json`));
    const file: GoldFile = {
      version: SECRETS_VERSION,
      goldRoot: hexOf(tree.root),
      goldCount: secrets.length,
      entries: secrets.map((e, index) => ({ item: e.item, label: e.label, salt: hexOf(e.salt), index, proof: (tree.proofs[index] ?? []).map(hexOf) })),
    };
    await writeSecrets(goldFile, file);
  }
  const tx = await send(flags, s, secretKey, buildTaskCreate(spec));
  ctx.print({
    task: Number(attribute(tx, 'task_created', 'task')),
    escrowRequired: attribute(tx, 'task_created', 'escrow'),
    goldRoot: tree === null ? null : hexOf(tree.root),
    goldSecretsFile: goldFile,
    ...summary(tx),
  });
}

const CONTENT_HASH_RE = /^(0x)?[0-9a-fA-F]{64}$/;

/** items.jsonl: one `{ "contentHash": "0x…32 bytes", "uri": "…" }` per line; blank lines are skipped. */
async function readItems(path: string): Promise<NewItem[]> {
  const lines = (await readText(path)).split('\n');
  const items: NewItem[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw badFile(path, `line ${i + 1} is not JSON`);
    }
    if (!isObject(v) || typeof v['uri'] !== 'string' || typeof v['contentHash'] !== 'string' || !CONTENT_HASH_RE.test(v['contentHash'])) {
      throw badFile(path, `line ${i + 1} must be { "contentHash": "0x" + 64 hex digits, "uri": "…" }`);
    }
    items.push({ contentHash: hexToBytes(v['contentHash']), uri: v['uri'] });
  });
  if (items.length === 0) throw badFile(path, 'no items');
  return items;
}

async function ownTask(ctx: CliContext, s: Session, flags: LabellingFlags, from: string): Promise<TaskJson> {
  const id = u32Flag(ctx, 'task', flags.task);
  const [task, key] = await Promise.all([s.client.task(id), ctx.keyInfo(from)]);
  if (task.requester !== key.address) {
    throw new LabellingCliError({ code: 'CLI_WRONG_STATUS', task: id, status: task.status, reason: 'not the requester' }, `task ${id} belongs to ${task.requester}, not to ${from} (${key.address})`);
  }
  return task;
}

async function taskAddItems(ctx: CliContext, flags: LabellingFlags): Promise<void> {
  const from = needFrom(ctx, flags);
  if (flags.file === undefined) throw ctx.usage('task add-items needs --file items.jsonl');
  const items = await readItems(resolve(flags.file));
  const s = await session(ctx);
  const task = await ownTask(ctx, s, flags, from);
  if (task.status !== 'created' && task.status !== 'funded') {
    throw new LabellingCliError({ code: 'CLI_WRONG_STATUS', task: task.id, status: task.status, reason: 'items are added before labelling starts' }, `task ${task.id} is ${task.status}: items can no longer be added`);
  }
  const room = task.spec.itemCount - task.progress.itemsAdded;
  if (items.length > room) {
    throw new LabellingCliError({ code: 'CLI_TOO_LARGE', reason: 'too many items' }, `${items.length} items, but task ${task.id} has room for ${room} more (itemCount ${task.spec.itemCount}, ${task.progress.itemsAdded} added)`);
  }
  const secretKey = await ctx.unlock(from);
  const txs = [];
  // One at a time, each committed before the next: the chain numbers items in the order they arrive.
  for (const batch of batchItems(items, s.fees.txBytesMax)) {
    const tx = await send(flags, s, secretKey, buildTaskAddItems(task.id, batch));
    txs.push({ items: batch.length, ...summary(tx) });
  }
  const after = await s.client.task(task.id);
  ctx.print({ task: task.id, added: items.length, itemsAdded: after.progress.itemsAdded, itemCount: after.spec.itemCount, txs });
}

async function taskSimple(ctx: CliContext, flags: LabellingFlags, what: 'fund' | 'cancel'): Promise<void> {
  const from = needFrom(ctx, flags);
  const s = await session(ctx);
  const task = await ownTask(ctx, s, flags, from);
  const secretKey = await ctx.unlock(from);
  const tx = await send(flags, s, secretKey, what === 'fund' ? buildTaskFund(task.id) : buildTaskCancel(task.id));
  const after = await s.client.task(task.id);
  ctx.print({ task: task.id, status: after.status, escrow: after.escrow, ...summary(tx) });
}

export async function cmdTask(ctx: CliContext, args: string[], flags: LabellingFlags): Promise<void> {
  const [sub] = args;
  switch (sub ?? '') {
    case 'create':
      return taskCreate(ctx, flags);
    case 'add-items':
      return taskAddItems(ctx, flags);
    case 'fund':
      return taskSimple(ctx, flags, 'fund');
    case 'cancel':
      return taskSimple(ctx, flags, 'cancel');
    case 'show': {
      const client = new TaggerClient({ url: await ctx.nodeUrl() });
      return ctx.print(await client.task(u32Flag(ctx, 'task', flags.task)));
    }
    case 'items': {
      const client = new TaggerClient({ url: await ctx.nodeUrl() });
      const opts = {
        ...(flags.cursor === undefined ? {} : { cursor: u32Flag(ctx, 'cursor', flags.cursor) }),
        ...(flags.limit === undefined ? {} : { limit: u32Flag(ctx, 'limit', flags.limit) }),
      };
      return ctx.print(await client.taskItems(u32Flag(ctx, 'task', flags.task), opts));
    }
    case 'round': {
      const client = new TaggerClient({ url: await ctx.nodeUrl() });
      return ctx.print(await client.round(u32Flag(ctx, 'task', flags.task), u32Flag(ctx, 'round', flags.round)));
    }
    default:
      throw ctx.usage(`unknown task command "${sub ?? ''}"`);
  }
}

// ── annotator ─────────────────────────────────────────────────────────────────────────────────

export async function cmdAnnotator(ctx: CliContext, args: string[], flags: LabellingFlags): Promise<void> {
  const [sub, positional] = args;
  switch (sub ?? '') {
    case 'stake':
    case 'unstake': {
      const from = needFrom(ctx, flags);
      if (flags.amount === undefined) throw ctx.usage(`annotator ${sub} needs --amount TAG`);
      const amount = parseTag(flags.amount);
      const s = await session(ctx);
      const secretKey = await ctx.unlock(from);
      const tx = await send(flags, s, secretKey, sub === 'stake' ? buildAnnotatorStake(amount) : buildAnnotatorUnstake(amount));
      const releaseHeight = attribute(tx, 'annotator_unstaked', 'releaseHeight');
      ctx.print({
        annotator: (await ctx.keyInfo(from)).address,
        amount: amount.toString(),
        stake: attribute(tx, 'annotator_staked', 'stake') ?? null,
        releaseHeight: releaseHeight === undefined ? null : Number(releaseHeight),
        ...summary(tx),
      });
      return;
    }
    case 'show': {
      const address = await addressArg(ctx, flags, positional);
      const client = new TaggerClient({ url: await ctx.nodeUrl() });
      return ctx.print(await client.annotator(address, { classes: flags.classes === undefined ? 2 : u32Flag(ctx, 'classes', flags.classes) }));
    }
    case 'assignments': {
      const address = await addressArg(ctx, flags, positional);
      const client = new TaggerClient({ url: await ctx.nodeUrl() });
      return ctx.print(await client.allAnnotatorAssignments(address, u32Flag(ctx, 'task', flags.task)));
    }
    default:
      throw ctx.usage(`unknown annotator command "${sub ?? ''}"`);
  }
}

// ── labels ────────────────────────────────────────────────────────────────────────────────────

type SaltsFile = {
  version: number;
  task: number;
  round: number;
  annotator: string;
  commitRoot: string;
  entries: Array<{ item: number; label: number; salt: string }>;
};

function saltsPath(ctx: CliContext, flags: LabellingFlags, task: number, round: number, annotator: string): string {
  return resolve(flags.salts ?? join(labellingDir(ctx), `salts-task${task}-round${round}-${annotator}.json`));
}

function wrongPhase(task: number, round: number, phase: string, reason: string): LabellingCliError {
  return new LabellingCliError({ code: 'CLI_WRONG_PHASE', task, round, phase, reason }, `task ${task} round ${round} is in its ${phase} phase: ${reason}`);
}

function labelInRange(task: TaskJson, label: number): boolean {
  return task.spec.schema === 'single' ? label < task.spec.classes : label < 2 ** task.spec.classes;
}

/** The annotator's assignment in a round, or a clear error if it holds no seat there. */
async function assignmentOf(s: Session, task: number, round: number, annotator: string) {
  try {
    return await s.client.assignment(task, round, annotator);
  } catch (e: unknown) {
    if (e instanceof ClientError && e.code === 'ASSIGNMENT_NOT_FOUND') {
      throw new LabellingCliError({ code: 'CLI_NOT_ASSIGNED', task, round, annotator, items: [] }, `${annotator} holds no seats in task ${task} round ${round}`);
    }
    throw e;
  }
}

async function labelsCommit(ctx: CliContext, flags: LabellingFlags): Promise<void> {
  const from = needFrom(ctx, flags);
  const taskId = u32Flag(ctx, 'task', flags.task);
  const round = u32Flag(ctx, 'round', flags.round);
  if (flags.file === undefined) throw ctx.usage('labels commit needs --file labels.json');
  const path = resolve(flags.file);
  const labels = choices(path, await readJson(path));
  const s = await session(ctx);
  const annotator = (await ctx.keyInfo(from)).address;
  const [task, a] = await Promise.all([s.client.task(taskId), assignmentOf(s, taskId, round, annotator)]);
  if (a.phase !== 'commit') throw wrongPhase(taskId, round, a.phase, `commits are accepted up to block ${a.commitEnd ?? '?'}`);
  if (a.committed) throw wrongPhase(taskId, round, a.phase, `${annotator} has committed already (root ${a.commitRoot ?? ''})`);
  const assigned = new Set(a.items);
  const stray = labels.map((l) => l.item).filter((i) => !assigned.has(i));
  if (stray.length > 0) {
    throw new LabellingCliError(
      { code: 'CLI_NOT_ASSIGNED', task: taskId, round, annotator, items: stray.slice(0, 20) },
      `not assigned to ${annotator} in task ${taskId} round ${round}: items ${stray.slice(0, 20).join(', ')}; assigned: ${a.items.slice(0, 50).join(', ')}`,
    );
  }
  const outOfRange = labels.find((l) => !labelInRange(task, l.label));
  if (outOfRange !== undefined) throw badFile(path, `label ${outOfRange.label} of item ${outOfRange.item} is out of range for ${task.spec.schema} with ${task.spec.classes} classes`);
  const { body, entries } = buildLabelCommit(taskId, round, addressFromString(annotator), labels);
  // One reveal must open the whole commit: refuse a commit whose reveal could not be sent.
  const revealBytes = signedSizeBound(s.chainId, buildLabelReveal(taskId, round, entries));
  if (revealBytes > s.fees.txBytesMax) {
    throw new LabellingCliError({ code: 'CLI_TOO_LARGE', reason: 'reveal too large' }, `the reveal of ${entries.length} labels would take ${revealBytes} bytes, over the chain's ${s.fees.txBytesMax}; commit fewer labels`);
  }
  const file = saltsPath(ctx, flags, taskId, round, annotator);
  const commitRoot = body.kind === 'labelCommit' ? hexOf(body.root) : '';
  const salts: SaltsFile = { version: SECRETS_VERSION, task: taskId, round, annotator, commitRoot, entries: entries.map((e) => ({ item: e.item, label: e.label, salt: hexOf(e.salt) })) };
  const secretKey = await ctx.unlock(from);
  await writeSecrets(file, salts);
  let tx: CommittedTxJson;
  try {
    tx = await send(flags, s, secretKey, body);
  } catch (e: unknown) {
    // A commit the chain refused (at the door or in its receipt) leaves nothing to reveal: drop its
    // salts so that it can be retried. After a timeout the commit may still land: keep them.
    const refused = e instanceof TxFailedError || (e instanceof ClientError && /^(MEMPOOL|TX|CODEC)_/.test(e.code));
    if (refused) await unlink(file).catch(() => undefined);
    throw e;
  }
  ctx.print({ task: taskId, round, annotator, committed: entries.length, commitRoot, saltsFile: file, commitEnd: a.commitEnd, revealEnd: a.revealEnd, ...summary(tx) });
}

async function readSalts(path: string): Promise<{ file: SaltsFile; entries: LabelEntry[] }> {
  const json = await readJson(path);
  const ok =
    isObject(json) &&
    Number.isInteger(json['task']) &&
    Number.isInteger(json['round']) &&
    typeof json['annotator'] === 'string' &&
    typeof json['commitRoot'] === 'string' &&
    Array.isArray(json['entries']);
  if (!ok) throw badFile(path, 'not a salts file written by `tagger labels commit`');
  const file = json as SaltsFile;
  const entries = file.entries.map((e, i) => {
    if (!isObject(e) || !Number.isInteger(e.item) || !Number.isInteger(e.label) || typeof e.salt !== 'string' || !/^0x[0-9a-f]{32,64}$/.test(e.salt)) {
      throw badFile(path, `entry ${i} is not { item, label, salt }`);
    }
    return { item: e.item, label: e.label, salt: hexToBytes(e.salt) };
  });
  return { file, entries };
}

async function labelsReveal(ctx: CliContext, flags: LabellingFlags): Promise<void> {
  const from = needFrom(ctx, flags);
  const taskId = u32Flag(ctx, 'task', flags.task);
  const round = u32Flag(ctx, 'round', flags.round);
  const s = await session(ctx);
  const annotator = (await ctx.keyInfo(from)).address;
  const path = saltsPath(ctx, flags, taskId, round, annotator);
  const { file, entries } = await readSalts(path);
  if (file.task !== taskId || file.round !== round || file.annotator !== annotator) {
    throw badFile(path, `holds the commit of ${file.annotator} for task ${file.task} round ${file.round}, not ${annotator} for task ${taskId} round ${round}`);
  }
  const root = labelCommitRoot(taskId, round, addressFromString(annotator), entries);
  if (hexOf(root) !== file.commitRoot) throw badFile(path, 'its entries do not give its commit root (edited?)');
  const a = await assignmentOf(s, taskId, round, annotator);
  if (a.commitRoot === null || !equalBytes(hexToBytes(a.commitRoot), root)) {
    throw badFile(path, `does not match the commit on chain (${a.commitRoot ?? 'none'}); was the commit sent?`);
  }
  if (a.revealed) throw wrongPhase(taskId, round, a.phase, 'already revealed');
  if (a.phase !== 'reveal') {
    const when = a.phase === 'commit' ? `reveals open after block ${a.commitEnd ?? '?'}` : `reveals were accepted up to block ${a.revealEnd ?? '?'}`;
    throw wrongPhase(taskId, round, a.phase, when);
  }
  const secretKey = await ctx.unlock(from);
  const tx = await send(flags, s, secretKey, buildLabelReveal(taskId, round, entries));
  ctx.print({ task: taskId, round, annotator, revealed: entries.length, ...summary(tx) });
}

export async function cmdLabels(ctx: CliContext, args: string[], flags: LabellingFlags): Promise<void> {
  switch (args[0] ?? '') {
    case 'commit':
      return labelsCommit(ctx, flags);
    case 'reveal':
      return labelsReveal(ctx, flags);
    default:
      throw ctx.usage(`unknown labels command "${args[0] ?? ''}"`);
  }
}

// ── gold and disputes ─────────────────────────────────────────────────────────────────────────

async function readGold(path: string): Promise<{ root: string; secrets: GoldSecret[] }> {
  const json = await readJson(path);
  if (!isObject(json) || typeof json['goldRoot'] !== 'string' || !Array.isArray(json['entries'])) {
    throw badFile(path, 'not a gold secrets file written by `tagger task create`');
  }
  const file = json as GoldFile;
  const secrets = file.entries.map((e, i) => {
    if (!isObject(e) || !Number.isInteger(e.item) || !Number.isInteger(e.label) || typeof e.salt !== 'string' || !/^0x[0-9a-f]{32,64}$/.test(e.salt)) {
      throw badFile(path, `entry ${i} is not { item, label, salt }`);
    }
    return { item: e.item, label: e.label, salt: hexToBytes(e.salt) };
  });
  return { root: file.goldRoot, secrets };
}

/** Positions of the gold answers whose items are still open and not revealed, scanning the task's items by page. */
async function goldToReveal(s: Session, task: TaskJson, secrets: readonly GoldSecret[]): Promise<number[]> {
  const wanted = new Map<number, number>(secrets.map((g, i) => [g.item, i]));
  const open: number[] = [];
  for (let cursor: number | null = 0; cursor !== null; ) {
    const page = await s.client.taskItems(task.id, { cursor, limit: 100 });
    for (const item of page.items) {
      const position = wanted.get(item.index);
      if (position !== undefined && item.status === 'open' && item.gold === null) open.push(position);
    }
    cursor = page.nextCursor;
  }
  return open.sort((x, y) => x - y);
}

async function goldReveal(ctx: CliContext, flags: LabellingFlags): Promise<void> {
  const from = needFrom(ctx, flags);
  if (flags.file === undefined) throw ctx.usage('gold reveal needs --file gold-secrets.json');
  const path = resolve(flags.file);
  const { root, secrets } = await readGold(path);
  if (hexOf(goldTree(secrets).root) !== root) throw badFile(path, 'its entries do not give its gold root (edited?)');
  const s = await session(ctx);
  const task = await ownTask(ctx, s, flags, from);
  if (task.spec.goldRoot !== root) throw badFile(path, `its gold root ${root} is not task ${task.id}'s (${task.spec.goldRoot})`);
  if (task.status !== 'labelling') {
    throw new LabellingCliError({ code: 'CLI_WRONG_STATUS', task: task.id, status: task.status, reason: 'gold is revealed while labelling' }, `task ${task.id} is ${task.status}: gold can only be revealed while it is labelling`);
  }
  const first = await s.client.round(task.id, 0);
  if (first.phase === 'drawing' || first.phase === 'commit') throw wrongPhase(task.id, 0, first.phase, `gold opens after round 0's commit window (block ${first.commitEnd ?? '?'})`);
  const positions = await goldToReveal(s, task, secrets);
  const secretKey = await ctx.unlock(from);
  const txs = [];
  for (let i = 0; i < positions.length; i += GOLD_PER_TX_MAX) {
    const tx = await send(flags, s, secretKey, buildGoldReveal(task.id, secrets, positions.slice(i, i + GOLD_PER_TX_MAX)));
    txs.push(summary(tx));
  }
  ctx.print({ task: task.id, revealed: positions.length, skipped: secrets.length - positions.length, txs });
}

export async function cmdGold(ctx: CliContext, args: string[], flags: LabellingFlags): Promise<void> {
  if (args[0] !== 'reveal') throw ctx.usage(`unknown gold command "${args[0] ?? ''}"`);
  return goldReveal(ctx, flags);
}

export async function cmdDispute(ctx: CliContext, flags: LabellingFlags): Promise<void> {
  const from = needFrom(ctx, flags);
  const taskId = u32Flag(ctx, 'task', flags.task);
  const item = u32Flag(ctx, 'item', flags.item);
  if (flags.bond === undefined) throw ctx.usage('dispute needs --bond TAG');
  const bond = parseTag(flags.bond);
  const s = await session(ctx);
  const secretKey = await ctx.unlock(from);
  const tx = await send(flags, s, secretKey, buildDispute(taskId, item, bond));
  ctx.print({
    task: taskId,
    item,
    round: Number(attribute(tx, 'dispute_opened', 'round')),
    panel: Number(attribute(tx, 'dispute_opened', 'panel')),
    bond: bond.toString(),
    ...summary(tx),
  });
}
