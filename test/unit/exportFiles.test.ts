/**
 * node/exportCommands.ts file side: records written as JSONL, CSV and Parquet read back unchanged
 * across chunk and row-group boundaries, with the same count and content root; a malformed file is
 * refused with a typed error naming the row.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToHex, datasetRoot, sha256, u32ToBytes, type DatasetFormat, type DatasetRecord } from '../../lib/index.ts';
import { hashDatasetFile, readRecords, writeDataset } from '../../node/exportCommands.ts';

const FORMATS: DatasetFormat[] = ['jsonl', 'csv', 'parquet'];

/** Every status, none labels, confidence edges; 25,001 records cross two Parquet row groups and many line chunks. */
function records(n: number): DatasetRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    index: i,
    itemHash: sha256(u32ToBytes(i)),
    status: i % 3,
    label: i % 3 === 0 ? -1 : (i * 7) % 1_000,
    confidenceQ16: [0, 1, 65_536, 40_000][i % 4] as number,
    answers: i % 6,
  }));
}

t.test('write then read gives the same records, count and root in every format', async (t) => {
  const dir = t.testdir();
  const all = records(25_001);
  const root = bytesToHex(datasetRoot(all));
  for (const format of FORMATS) {
    const path = join(dir, `d.${format}`);
    const written = await writeDataset(all, path, format);
    t.equal(bytesToHex(written.root), root, `${format}: the writer's root is datasetRoot`);
    let same = 0;
    let i = 0;
    for await (const r of readRecords(path, format)) {
      const e = all[i++] as DatasetRecord;
      if (r.index === e.index && r.status === e.status && r.label === e.label && r.confidenceQ16 === e.confidenceQ16 && r.answers === e.answers && bytesToHex(r.itemHash) === bytesToHex(e.itemHash)) same++;
    }
    t.equal(same, all.length, `${format}: every record reads back unchanged`);
    const digest = await hashDatasetFile(path, format);
    t.match(digest, { count: all.length, misplaced: null }, `${format}: count, in order`);
    t.equal(bytesToHex(digest.root), root, `${format}: the reader's root`);
  }
});

t.test('an empty dataset', async (t) => {
  const dir = t.testdir();
  for (const format of FORMATS) {
    const path = join(dir, `empty.${format}`);
    const written = await writeDataset([], path, format);
    const digest = await hashDatasetFile(path, format);
    t.equal(digest.count, 0, `${format}: no records`);
    t.equal(bytesToHex(digest.root), bytesToHex(written.root), `${format}: the empty root`);
  }
});

t.test('records out of order are refused by the writer and reported by the reader', async (t) => {
  const dir = t.testdir();
  const all = records(5);
  await t.rejects(writeDataset([all[0]!, all[2]!], join(dir, 'gap.jsonl'), 'jsonl'), { code: 'EXPORT_INCONSISTENT' });
  const path = join(dir, 'moved.jsonl');
  writeFileSync(path, [0, 2, 1, 3, 4].map((i) => JSON.stringify({ index: i, itemHash: '0x' + bytesToHex(all[i]!.itemHash), status: ['open', 'final', 'low-confidence'][all[i]!.status], label: all[i]!.label < 0 ? null : all[i]!.label, confidenceQ16: all[i]!.confidenceQ16, confidence: ['0.000000', '0.000015', '1.000000', '0.610352'][i % 4], answers: all[i]!.answers })).join('\n') + '\n');
  const digest = await hashDatasetFile(path, 'jsonl');
  t.equal(digest.misplaced, 'row 1 holds record 2: a row was dropped, added or moved');
});

t.test('malformed files are refused with a typed error', async (t) => {
  const dir = t.testdir();
  const csv = join(dir, 'bad.csv');
  writeFileSync(csv, 'index,label\n0,1\n');
  await t.rejects(hashDatasetFile(csv, 'csv'), { code: 'EXPORT_BAD_FILE', message: /CSV header/ });
  const jsonl = join(dir, 'bad.jsonl');
  writeFileSync(jsonl, '{"index":0}\n');
  await t.rejects(hashDatasetFile(jsonl, 'jsonl'), { code: 'EXPORT_BAD_ROW', message: /^row 0: columns must be exactly/ });
  const notParquet = join(dir, 'bad.parquet');
  writeFileSync(notParquet, 'index,itemHash\n');
  await t.rejects(hashDatasetFile(notParquet, 'parquet'), { code: 'EXPORT_BAD_FILE', message: /not a readable Parquet file/ });
});
