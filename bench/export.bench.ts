/**
 * Dataset export and verify throughput, and memory against dataset size (docs/benchmarks.md
 * §Dataset export and verify). For 100,000 and 1,000,000 records it writes a JSONL file with the
 * real export path (`writeDataset`: row encoding, the line writer, `encodeDatasetRecord` and
 * `DatasetRootBuilder`) and reads it back with the real verify path (`hashDatasetFile`: the
 * streaming reader, strict row parsing, re-encoding and the root). The records come from a local
 * generator instead of a node's RPC pages: the RPC paging and the chain checks (one block, one
 * commit, a few state proofs: constant in the dataset's size) are not measured here.
 *
 * Each size runs in a fresh child process, so that its peak RSS (`resourceUsage().maxRSS`) is its
 * own; the child also samples heapUsed every 10,000 records and reports the largest.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { equalBytes, sha256, u32ToBytes, writeU32, type DatasetRecord } from '../lib/index.ts';
import { hashDatasetFile, writeDataset } from '../node/exportCommands.ts';

const SIZES = [100_000, 1_000_000];
const SAMPLE_EVERY = 10_000;
const run_ = promisify(execFile);

type ChildResult = {
  records: number;
  fileMB: number;
  exportMs: number;
  verifyMs: number;
  exportRecordsPerSec: number;
  verifyRecordsPerSec: number;
  /** Per second of this process's CPU time (user + system), which other load on the machine does not change. */
  exportRecordsPerCpuSec: number;
  verifyRecordsPerCpuSec: number;
  peakHeapMB: number;
  peakRssMB: number;
};

const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

/**
 * Plausible records: mostly final, labels 0..9, varied confidence. The item hash is a fixed random
 * 32 bytes with the index written into it, so that the source costs next to nothing of its own.
 */
function* records(n: number, onSample: () => void): Generator<DatasetRecord> {
  const base = sha256(u32ToBytes(n));
  for (let i = 0; i < n; i++) {
    if (i % SAMPLE_EVERY === 0) onSample();
    const final = i % 17 !== 0;
    const itemHash = base.slice();
    writeU32(itemHash, 0, i);
    yield {
      index: i,
      itemHash,
      status: final ? 1 : 2,
      label: final ? i % 10 : -1,
      confidenceQ16: 40_000 + (i % 25_000),
      answers: 3 + (i % 3),
    };
  }
}

async function child(n: number): Promise<ChildResult> {
  const dir = await mkdtemp(join(tmpdir(), 'tagger-export-bench-'));
  try {
    const path = join(dir, 'dataset.jsonl');
    let peakHeap = 0;
    const sample = (): void => {
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    };
    const cpu = (): number => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    let c0 = cpu();
    let t0 = performance.now();
    const written = await writeDataset(records(n, sample), path, 'jsonl');
    const exportMs = performance.now() - t0;
    const exportCpuMs = cpu() - c0;
    sample();
    c0 = cpu();
    t0 = performance.now();
    const read = await hashDatasetFile(path, 'jsonl');
    const verifyMs = performance.now() - t0;
    const verifyCpuMs = cpu() - c0;
    sample();
    if (read.count !== n || read.misplaced !== null || !equalBytes(read.root, written.root)) throw new Error('bench: the file does not verify');
    return {
      records: n,
      fileMB: round((await stat(path)).size / 1e6),
      exportMs: round(exportMs, 0),
      verifyMs: round(verifyMs, 0),
      exportRecordsPerSec: Math.round((n * 1000) / exportMs),
      verifyRecordsPerSec: Math.round((n * 1000) / verifyMs),
      exportRecordsPerCpuSec: Math.round((n * 1000) / exportCpuMs),
      verifyRecordsPerCpuSec: Math.round((n * 1000) / verifyCpuMs),
      peakHeapMB: round(peakHeap / 1e6),
      peakRssMB: round((process.resourceUsage().maxRSS * 1024) / 1e6),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const self = fileURLToPath(import.meta.url);
  const results: ChildResult[] = [];
  for (const n of SIZES) {
    const { stdout } = await run_(process.execPath, [self, String(n)], { maxBuffer: 1 << 20 });
    results.push(JSON.parse(stdout) as ChildResult);
  }
  return {
    note: 'records from a local generator instead of RPC pages; file writing, row parsing, encoding and hashing are the export/verify code',
    format: 'jsonl',
    sizes: results,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = Number(process.argv[2]);
  if (Number.isInteger(n) && n > 0) process.stdout.write(JSON.stringify(await child(n)) + '\n');
  else process.stdout.write(JSON.stringify(await run(), null, 2) + '\n');
}
