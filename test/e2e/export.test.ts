/**
 * Dataset export and verification against a real devnet node (in this process, RPC on 127.0.0.1,
 * 20 ms blocks): two tasks are labelled to completion; each is exported in JSONL, CSV and Parquet
 * and verified; then one label is changed, a row dropped, two rows swapped and the manifest swapped
 * for the other task's, in every format, and each must fail on the check that names it. The CLI
 * runs once each way to pin its exit statuses. Waits poll the node with bounded retries.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { ONE_TAG, addressFromPublicKey, addressToString, parseManifest, publicKeyFromSecret, type DatasetFormat, type DatasetRecord, type ExportManifest } from '../../lib/index.ts';
import { LICENCE_KIND, USES_MASK, signTx, type PassportSpec, type TaskSpec, type TxBody } from '../../runtime/index.ts';
import { loadAccount } from '../../state/index.ts';
import { Keyring } from '../../sdk/keyring.ts';
import { TaggerClient } from '../../sdk/client.ts';
import { DEFAULT_CONFIG } from '../../node/config.ts';
import { homePaths, initHome } from '../../node/home.ts';
import { TaggerNode } from '../../node/node.ts';
import { VERIFY_FAILED_EXIT, exportPassport, exportTask, readRecords, recordWriter, verifyExport } from '../../node/exportCommands.ts';
import { fixedKey, type Key } from '../utils/factories.ts';
import { commitBody, itemsFor, revealBody, taskSpec } from '../utils/labelling.ts';
import { stopBeforeDirRemoval } from '../utils/cleanup.ts';

const MAIN = fileURLToPath(new URL('../../node/main.ts', import.meta.url));
const run = promisify(execFile);
const FORMATS: DatasetFormat[] = ['jsonl', 'csv', 'parquet'];
const ITEMS = 6;

async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, tries = 2_000, pauseMs = 25): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < tries; i++) {
    last = await read();
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  throw new Error(`gave up waiting for ${what}; last: ${JSON.stringify(last)}`);
}

async function allRecords(path: string, format: DatasetFormat): Promise<DatasetRecord[]> {
  const out: DatasetRecord[] = [];
  for await (const r of readRecords(path, format)) out.push(r);
  return out;
}

async function writeRecords(path: string, format: DatasetFormat, records: readonly DatasetRecord[]): Promise<void> {
  const w = recordWriter(path, format);
  for (const r of records) await w.write(r);
  await w.close();
}

t.test('export a labelled task in three formats; verify; tampering fails', async (t) => {
  const cleanup = stopBeforeDirRemoval(t);
  const dir = t.testdir();
  const home = join(dir, 'home');
  await initHome({ home, chainId: 'tagger-devnet-1', devPassword: 'devnet', genesisTimeMs: 1_700_000_000_000n, scryptN: 1024 });
  const config = structuredClone(DEFAULT_CONFIG);
  config.rpc.port = 0;
  config.consensus.blockIntervalMs = 20;
  config.consensus.emptyBlockIntervalMs = 0;
  const node = await TaggerNode.open({ home, config, log: pino({ level: 'silent' }) });
  const url = await node.start();
  cleanup(() => node.stop());
  const client = new TaggerClient({ url });
  const devSecret = await new Keyring({ dir: homePaths(home).keyring, scryptN: 1024 }).unlock('dev', 'devnet');
  const devPublic = publicKeyFromSecret(devSecret);
  const dev: Key = { secretKey: devSecret, publicKey: devPublic, address: addressFromPublicKey(devPublic) };
  const ann = fixedKey(0x42);
  const chainId = node.genesis.chainId;

  const nonces = new Map<string, number>();
  const send = async (from: Key, body: TxBody): Promise<void> => {
    const id = addressToString(from.address);
    const nonce = nonces.get(id) ?? loadAccount(node.store.state, from.address).nonce;
    nonces.set(id, nonce + 1);
    const signed = signTx({ chainId, sender: from.publicKey, nonce, maxFee: ONE_TAG, body }, from.secretKey);
    const { hash } = await client.submitTx(signed.bytes);
    const done = await client.waitForTx(hash, { timeoutMs: 30_000, pollMs: 20 });
    if (done.receipt.status !== 'ok') throw new Error(`${body.kind} failed: ${done.receipt.code}`);
  };

  const spec: TaskSpec = taskSpec({
    classes: 3,
    itemCount: ITEMS,
    answersMin: 1,
    answersMax: 1,
    annotatorStake: 10n * ONE_TAG,
    // Both tasks are funded before either is labelled: task 2's commit window must outlast task 1's
    // commit and reveal (blocks every 20 ms; 40 blocks closed it on a loaded machine).
    commitWindow: 200,
    revealWindow: 200,
    challengeWindow: 2,
    confidenceQ16: 32_768,
  });
  await send(dev, { kind: 'transfer', to: ann.address, amount: 1_000n * ONE_TAG });
  await send(ann, { kind: 'annotatorStake', amount: 100n * ONE_TAG });
  for (const offset of [0, 100]) {
    await send(dev, { kind: 'taskCreate', spec });
    const task = offset === 0 ? 1 : 2;
    await send(dev, { kind: 'taskAddItems', task, items: itemsFor(ITEMS, offset) });
    await send(dev, { kind: 'taskFund', task });
  }
  // The annotator labels item i of task k with (i + k) mod 3, so the two datasets differ in labels too.
  for (const task of [1, 2]) {
    const assignment = await until('seats', () => client.assignment(task, 0, ann.address).catch(() => null), (a) => a !== null && a.items.length === ITEMS);
    const labels = (assignment?.items ?? []).map((item) => ({ item, label: (item + task) % 3 }));
    const { body, entries } = commitBody(task, 0, ann, labels);
    await send(ann, body);
    await until('the reveal window', () => client.round(task, 0), (r) => r.phase === 'reveal');
    await send(ann, revealBody(task, 0, entries));
  }
  for (const task of [1, 2]) await until(`task ${task} done`, () => client.task(task), (x) => x.status === 'done');

  const out = (task: number, format: DatasetFormat): string => join(dir, `task${task}.${format}`);
  const manifests = new Map<string, ExportManifest>();
  for (const task of [1, 2]) {
    for (const format of FORMATS) {
      const result = await exportTask(client, task, format, out(task, format));
      t.equal(result.recordCount, ITEMS, `task ${task} ${format}: every item exported`);
      manifests.set(`${task}.${format}`, parseManifest(JSON.parse(readFileSync(result.manifest, 'utf8')) as unknown));
    }
  }
  const m1 = manifests.get('1.jsonl') as ExportManifest;
  t.equal(manifests.get('1.csv')?.contentRoot, m1.contentRoot, 'the content root does not depend on the format');
  t.equal(manifests.get('1.parquet')?.contentRoot, m1.contentRoot);
  t.not(manifests.get('2.jsonl')?.contentRoot, m1.contentRoot, 'the two tasks have different roots');

  const records = await allRecords(out(1, 'jsonl'), 'jsonl');
  t.same(records.map((r) => r.label), [1, 2, 0, 1, 2, 0], 'the consensus labels are the annotator\'s');
  t.ok(records.every((r) => r.status === 1 && r.answers === 1), 'every item is final with one answer');
  t.equal(readFileSync(out(1, 'csv'), 'utf8').split('\n')[0], 'index,itemHash,status,label,confidenceQ16,confidence,answers', 'the CSV header');

  const failed = (checks: ReadonlyArray<{ check: string; ok: boolean | null }>): string[] => checks.filter((c) => c.ok === false).map((c) => c.check);

  for (const format of FORMATS) {
    const manifest = manifests.get(`1.${format}`) as ExportManifest;
    const good = await verifyExport(out(1, format), manifest, client);
    t.ok(good.verified, `${format}: verified`);
    t.same(failed(good.checks), [], `${format}: nothing failed`);
    t.match(good.report, /NOT CHECKED {2}bnb checkpoint: not checked/, `${format}: the BNB checkpoint is reported as not checked`);
    t.match(good.report, /MATCH +chain records: task 1's 6 item records, each proven against a block signed by the same validator set/, `${format}: items proven`);

    const original = await allRecords(out(1, format), format);
    const label = original.map((r, i) => (i === 2 ? { ...r, label: (r.label + 1) % 3 } : r));
    const dropped = original.filter((_, i) => i !== 3);
    const swapped = original.map((r, i) => (i === 1 ? (original[4] as DatasetRecord) : i === 4 ? (original[1] as DatasetRecord) : r));
    const cases: Array<[string, DatasetRecord[], string[]]> = [
      ['one label changed', label, ['content root', 'chain records']],
      ['a row dropped', dropped, ['file', 'record count', 'content root', 'chain records']],
      ['two rows swapped', swapped, ['file', 'content root', 'chain records']],
    ];
    for (const [what, tampered, expected] of cases) {
      const path = join(dir, `tampered.${format}`);
      await writeRecords(path, format, tampered);
      const r = await verifyExport(path, manifest, client);
      t.notOk(r.verified, `${format}, ${what}: not verified`);
      t.same(failed(r.checks), expected, `${format}, ${what}: fails exactly ${expected.join(', ')}`);
    }
    const other = await verifyExport(out(1, format), manifests.get(`2.${format}`) as ExportManifest, client);
    t.notOk(other.verified, `${format}, the other task's manifest: not verified`);
    t.same(failed(other.checks), ['content root', 'chain records'], `${format}, the other task's manifest: content root and chain records fail`);
  }

  // A seller who changes a label and puts the new root in the manifest: the chain's records disagree.
  const forgedPath = join(dir, 'forged.jsonl');
  const forged = (await allRecords(out(1, 'jsonl'), 'jsonl')).map((r, i) => (i === 0 ? { ...r, label: 0 } : r));
  await writeRecords(forgedPath, 'jsonl', forged);
  const forgedRoot = (await verifyExport(forgedPath, m1, client)).checks.find((c) => c.check === 'content root')?.detail.match(/file (0x[0-9a-f]{64})/)?.[1];
  const r = await verifyExport(forgedPath, { ...m1, contentRoot: forgedRoot ?? '' }, client);
  t.same(failed(r.checks), ['chain records'], 'a manifest rewritten to the forged root still fails against the chain');
  const badHeader = await verifyExport(out(1, 'jsonl'), { ...m1, header: { ...m1.header, stateRoot: m1.header.txRoot } }, client);
  t.same(failed(badHeader.checks), ['header'], 'a manifest with another state root fails the header check');

  // Passports built from the two tasks: their versions hold the content roots, proven in the manifest.
  const passportSpec: PassportSpec = {
    schema: 'e2e/3-class',
    consent: { basis: 'explicit-consent', attester: null, documentHash: new Uint8Array(32).fill(7) },
    terms: { kind: LICENCE_KIND.research, uses: USES_MASK, transferable: true, contributorsShareBps: 3_000 },
    method: '',
    methodVersion: '',
    paramsHash: new Uint8Array(32),
    metadata: 'export e2e',
  };
  for (const task of [1, 2]) await send(dev, { kind: 'passportCreate', task, spec: passportSpec });
  for (const id of [1, 2]) await until(`passport ${id} active`, () => client.passport(id), (p) => p.activeVersion !== null);
  const passportManifests = new Map<string, ExportManifest>();
  for (const id of [1, 2]) {
    for (const format of FORMATS) {
      const result = await exportPassport(client, id, undefined, format, join(dir, `passport${id}.${format}`));
      passportManifests.set(`${id}.${format}`, parseManifest(JSON.parse(readFileSync(result.manifest, 'utf8')) as unknown));
    }
  }
  const p1 = passportManifests.get('1.jsonl') as ExportManifest;
  t.match(p1, { source: { kind: 'passport', passport: 1, version: 1 }, binding: 'passport-record', contentRoot: m1.contentRoot }, "passport 1's root is task 1's");
  for (const format of FORMATS) {
    const r = await verifyExport(join(dir, `passport1.${format}`), passportManifests.get(`1.${format}`) as ExportManifest, client);
    t.ok(r.verified, `passport ${format}: verified`);
    t.match(r.report, /MATCH +state proof: passport 1 version 1 holds content root/);
  }
  const passportFile = join(dir, 'passport1.jsonl');
  const original = await allRecords(passportFile, 'jsonl');
  const passportCases: Array<[string, DatasetRecord[], string[]]> = [
    ['one label changed', original.map((r, i) => (i === 5 ? { ...r, label: (r.label + 2) % 3 } : r)), ['content root', 'chain records']],
    ['a row dropped', original.slice(1), ['file', 'record count', 'content root', 'chain records']],
    ['two rows swapped', [original[1]!, original[0]!, ...original.slice(2)], ['file', 'content root', 'chain records']],
  ];
  for (const [what, tampered, expected] of passportCases) {
    const path = join(dir, 'tampered-passport.jsonl');
    await writeRecords(path, 'jsonl', tampered);
    t.same(failed((await verifyExport(path, p1, client)).checks), expected, `passport, ${what}: fails exactly ${expected.join(', ')}`);
  }
  const swappedPassport = await verifyExport(passportFile, passportManifests.get('2.jsonl') as ExportManifest, client);
  t.same(failed(swappedPassport.checks), ['content root', 'chain records'], "passport, the other passport's manifest: content root and chain records fail");
  const forgedPassport = await verifyExport(forgedPath, { ...p1, contentRoot: forgedRoot ?? '' }, client);
  t.same(failed(forgedPassport.checks), ['state proof', 'chain records'], 'passport, a forged root in the manifest: the proven version disagrees');

  // The CLI: exit 0 when verified, 3 with the report when not.
  const cliOut = join(dir, 'cli.jsonl');
  const exported = JSON.parse((await run(process.execPath, [MAIN, 'export', '--task', '1', '--format', 'jsonl', '--out', cliOut, '--rpc', url])).stdout) as { contentRoot: string };
  t.equal(exported.contentRoot, m1.contentRoot, 'the CLI export has the same root');
  const ok = await run(process.execPath, [MAIN, 'verify', cliOut, '--manifest', `${cliOut}.manifest.json`, '--rpc', url]);
  t.match(JSON.parse(ok.stdout), { verified: true });
  t.match(ok.stderr, /MATCH +content root/);
  writeFileSync(cliOut, readFileSync(cliOut, 'utf8').replace('"label":1', '"label":2'));
  const bad = await run(process.execPath, [MAIN, 'verify', cliOut, '--manifest', `${cliOut}.manifest.json`, '--rpc', url]).then(
    () => null,
    (e: { code: number; stderr: string }) => e,
  );
  t.equal(bad?.code, VERIFY_FAILED_EXIT, 'a tampered file exits 3');
  t.match(bad?.stderr ?? '', /FAIL +content root: file 0x[0-9a-f]{64}, manifest/);
  t.match(bad?.stderr ?? '', /NOT VERIFIED/);
});
