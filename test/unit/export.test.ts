/** lib/datasetExport.ts: rows in JSONL and CSV, strict parsing, the manifest parser, the verify report. */
import t from 'tap';
import {
  DATASET_CSV_HEADER,
  EXPORT_MANIFEST_FORMAT,
  ExportError,
  formatVerifyReport,
  parseCsvLine,
  parseJsonLine,
  parseManifest,
  q16ToDecimal6,
  recordToCsvLine,
  recordToJsonLine,
  recordToRow,
  sha256,
  u32ToBytes,
  verifyPassed,
  type DatasetRecord,
  type VerifyCheck,
} from '../../lib/index.ts';

const records: DatasetRecord[] = [
  { index: 0, itemHash: sha256(u32ToBytes(0)), status: 0, label: -1, confidenceQ16: 0, answers: 0 },
  { index: 1, itemHash: sha256(u32ToBytes(1)), status: 1, label: 7, confidenceQ16: 65_536, answers: 5 },
  { index: 2, itemHash: sha256(u32ToBytes(2)), status: 2, label: 0, confidenceQ16: 12_345, answers: 2 },
  { index: 0xffff_ffff, itemHash: sha256(u32ToBytes(3)), status: 1, label: 0xffff_fffe, confidenceQ16: 1, answers: 0xffff_ffff },
];

t.test('q16ToDecimal6 in integers', async (t) => {
  t.equal(q16ToDecimal6(0), '0.000000');
  t.equal(q16ToDecimal6(65_536), '1.000000');
  t.equal(q16ToDecimal6(32_768), '0.500000');
  t.equal(q16ToDecimal6(1), '0.000015', '1/65536 = 0.0000152…, half up');
  t.equal(q16ToDecimal6(58_982), '0.899994');
});

t.test('JSONL and CSV lines round-trip every record', async (t) => {
  for (const r of records) {
    t.equal(recordToJsonLine(r), JSON.stringify(recordToRow(r)), `record ${r.index}: the direct JSON writer equals JSON.stringify`);
    t.same(parseJsonLine(recordToJsonLine(r), 9), r, `record ${r.index}: JSONL`);
    t.same(parseCsvLine(recordToCsvLine(r), 9), r, `record ${r.index}: CSV`);
  }
  t.equal(recordToCsvLine(records[0]!), `0,0x${Buffer.from(records[0]!.itemHash).toString('hex')},open,,0,0.000000,0`, 'none is an empty CSV field');
  t.equal(DATASET_CSV_HEADER, 'index,itemHash,status,label,confidenceQ16,confidence,answers');
});

t.test('rows that are not exactly a record are refused, naming the row', async (t) => {
  const good = JSON.parse(recordToJsonLine(records[1]!)) as Record<string, unknown>;
  const bad = (change: Record<string, unknown>, drop?: string): string => {
    const o: Record<string, unknown> = { ...good, ...change };
    if (drop !== undefined) delete o[drop];
    return JSON.stringify(o);
  };
  const cases: Array<[string, string, RegExp]> = [
    ['not JSON', '{"index":', /not a JSON object/],
    ['an extra column', bad({ extra: 1 }), /columns must be exactly/],
    ['a missing column', bad({}, 'answers'), /columns must be exactly/],
    ['an unknown status', bad({ status: 'done' }), /status is not one of/],
    ['a confidence that disagrees', bad({ confidence: '0.999999' }), /does not match confidenceQ16/],
    ['upper-case hex', bad({ itemHash: (good.itemHash as string).toUpperCase().replace('0X', '0x') }), /itemHash/],
    ['a fractional label', bad({ label: 1.5 }), /label is not a u32/],
    ['a label of 2^32 - 1', bad({ label: 0xffff_ffff }), /label is out of range/],
    ['confidence above one', bad({ confidenceQ16: 65_537, confidence: '1.000015' }), /above 65536/],
    ['a negative index', bad({ index: -1 }), /index is not a u32/],
  ];
  for (const [what, line, message] of cases) {
    t.throws(() => parseJsonLine(line, 4), { code: 'EXPORT_BAD_ROW', message: new RegExp(`^row 4: .*${message.source}`) }, what);
  }
  const csv = recordToCsvLine(records[1]!);
  t.throws(() => parseCsvLine(csv + ',', 2), { code: 'EXPORT_BAD_ROW' }, 'a CSV line with an extra field');
  t.throws(() => parseCsvLine(csv.replace(',final,', ',"final",'), 2), { code: 'EXPORT_BAD_ROW' }, 'a quoted CSV field');
  t.throws(() => parseCsvLine(csv.replace(/^1,/, '01,'), 2), { code: 'EXPORT_BAD_ROW' }, 'a CSV number with a leading zero');
  t.throws(() => parseCsvLine(csv.replace(/,5$/, ',5.0'), 2), ExportError, 'a CSV decimal');
});

function manifestJson(): Record<string, unknown> {
  const h = '0x' + '11'.repeat(32);
  return {
    format: EXPORT_MANIFEST_FORMAT,
    chainId: 'tagger-devnet-1',
    source: { kind: 'task', task: 1 },
    file: { format: 'jsonl', columns: ['index'] },
    contentRoot: h,
    recordCount: 2,
    binding: 'task-items',
    height: 9,
    blockHash: h,
    header: {
      version: 1,
      chainId: 'tagger-devnet-1',
      height: 9,
      timeMs: '1700000000000',
      parentHash: h,
      lastCommitHash: h,
      txRoot: h,
      receiptsRoot: h,
      stateRoot: h,
      proposer: 'tag1…',
      validatorSetHash: h,
      nextValidatorSetHash: h,
    },
    commit: { height: 9, round: 0, blockHash: h, signatures: [{ validator: 'tag1…', signature: '0x' + '22'.repeat(64) }] },
    validatorSet: { source: 'state-proof', hash: h },
    proofs: [{ what: 'task', key: '0x1100000001', value: '0x90', siblings: [h], leaf: null }],
    bnbCheckpoint: null,
  };
}

t.test('the manifest parser checks the shape and names the field', async (t) => {
  const m = parseManifest(manifestJson());
  t.match(m, { source: { kind: 'task', task: 1 }, recordCount: 2, header: { timeMs: '1700000000000' }, proofs: [{ what: 'task' }] });
  const broken: Array<[string, (j: Record<string, unknown>) => void, RegExp]> = [
    ['another format', (j) => (j.format = 'v0'), /format/],
    ['a short content root', (j) => (j.contentRoot = '0x11'), /contentRoot/],
    ['an unknown source', (j) => (j.source = { kind: 'file' }), /source.kind/],
    ['an unknown file format', (j) => (j.file = { format: 'xlsx', columns: [] }), /file.format/],
    ['a negative record count', (j) => (j.recordCount = -1), /recordCount/],
    ['a float time', (j) => ((j.header as Record<string, unknown>).timeMs = '1.5'), /header.timeMs/],
    ['a bnb checkpoint', (j) => (j.bnbCheckpoint = {}), /bnbCheckpoint/],
    ['a bad sibling', (j) => ((j.proofs as Array<Record<string, unknown>>)[0]!.siblings = ['0xzz']), /proofs\[0\].siblings\[0\]/],
    ['too many proofs', (j) => (j.proofs = Array.from({ length: 17 }, () => (manifestJson().proofs as unknown[])[0])), /proofs/],
  ];
  for (const [what, change, field] of broken) {
    const j = manifestJson();
    change(j);
    t.throws(() => parseManifest(j), { code: 'EXPORT_BAD_MANIFEST', message: field }, what);
  }
});

t.test('the report passes only when every required check matched', async (t) => {
  const names = ['file', 'record count', 'content root', 'header', 'validator set', 'commit', 'state proof', 'chain records'] as const;
  const all: VerifyCheck[] = names.map((check) => ({ check, ok: true, detail: 'fine' }));
  const bnb: VerifyCheck = { check: 'bnb checkpoint', ok: null, detail: 'not checked: no bridge' };
  t.ok(verifyPassed([...all, bnb]), 'all matched, the checkpoint not checked');
  t.notOk(verifyPassed(all.slice(1)), 'a check missing');
  t.notOk(verifyPassed([...all.slice(0, -1), { check: 'chain records', ok: null, detail: 'skipped' }, bnb]), 'a required check not run');
  t.notOk(verifyPassed([...all, { ...bnb, ok: false }]), 'a failed checkpoint');
  const report = formatVerifyReport([{ check: 'file', ok: true, detail: '3 rows' }, { check: 'record count', ok: false, detail: 'file 3, manifest 4' }]);
  t.match(report, /^MATCH +file: 3 rows\nFAIL +record count: file 3, manifest 4\nNOT CHECKED +content root: an earlier check failed/);
  t.match(report, /NOT VERIFIED$/);
});
