/** The consensus write-ahead log (consensus/wal.ts): framing, torn tails, corruption, rotation. */
import t from 'tap';
import { join } from 'node:path';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { bytesToHex, encode, isChainError, nullLogger } from '../../../lib/index.ts';
import {
  VOTE_TYPE,
  Wal,
  WAL_FRAME_HEADER_BYTES,
  decodeWalRecord,
  encodeWalFrame,
  encodeWalRecord,
  openWalFile,
  parseWal,
  type WalHeightRecord,
  type WalRecord,
} from '../../../consensus/index.ts';
import { MemoryWalFile } from '../../utils/memoryWal.ts';

const addr = (i: number): Uint8Array => new Uint8Array(20).fill(i + 1);
const hash = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const sig = (n: number): Uint8Array => new Uint8Array(64).fill(n);

const heightRecord = (height: number): WalHeightRecord => ({
  kind: 'height',
  height,
  validators: [{ address: addr(0), power: 10n }, { address: addr(1), power: 10n ** 30n }],
  priorities: [-(10n ** 30n) + 7n, 10n ** 30n - 7n],
});

const SAMPLE: WalRecord[] = [
  heightRecord(5),
  { kind: 'built', height: 5, round: 0, blockHash: hash(1), block: new Uint8Array(300).fill(9) },
  { kind: 'proposal', proposal: { height: 5, round: 0, blockHash: hash(1), validRound: -1, proposer: addr(0) }, signature: sig(1), blockValid: true, block: new Uint8Array(0) },
  { kind: 'vote', vote: { type: VOTE_TYPE.prevote, height: 5, round: 0, blockHash: hash(1), validator: addr(1) }, signature: sig(2) },
  { kind: 'vote', vote: { type: VOTE_TYPE.precommit, height: 5, round: 0, blockHash: new Uint8Array(0), validator: addr(1) }, signature: sig(3) },
  { kind: 'timeout', step: 'precommit', height: 5, round: 0 },
  { kind: 'proposal', proposal: { height: 5, round: 1, blockHash: hash(1), validRound: 0, proposer: addr(1) }, signature: sig(4), blockValid: false, block: new Uint8Array(40).fill(3) },
];

const frames = (records: WalRecord[]): Uint8Array[] => records.map(encodeWalFrame);
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
const same = (a: WalRecord[], b: WalRecord[]): boolean =>
  a.length === b.length && a.every((r, i) => bytesToHex(encodeWalRecord(r)) === bytesToHex(encodeWalRecord(b[i]!)));

async function code(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'ok';
  } catch (e: unknown) {
    return isChainError(e) ? e.code : String(e);
  }
}

t.test('every record kind round-trips through its canonical encoding', async (t) => {
  for (const r of SAMPLE) {
    const back = decodeWalRecord(encodeWalRecord(r));
    t.same(encodeWalRecord(back), encodeWalRecord(r), r.kind);
  }
  const h = decodeWalRecord(encodeWalRecord(SAMPLE[0]!));
  t.same(h.kind === 'height' ? h.priorities : null, heightRecord(5).priorities, 'negative priorities survive');
  t.equal(await code(() => decodeWalRecord(encode([9, 1]))), 'CODEC_WRONG_TYPE', 'unknown tag');
  t.equal(await code(() => decodeWalRecord(encode([5, 4, 1, 0]))), 'CODEC_OVERSIZE', 'timeout step out of range');
});

t.test('a frame is length, CRC over length and payload, payload', async (t) => {
  const frame = encodeWalFrame(SAMPLE[3]!);
  const view = new DataView(frame.buffer);
  const payload = encodeWalRecord(SAMPLE[3]!);
  t.equal(view.getUint32(0), payload.length);
  t.equal(view.getUint32(4), crc32(payload, crc32(frame.subarray(0, 4))));
  t.same(frame.subarray(WAL_FRAME_HEADER_BYTES), payload);
});

t.test('a torn tail at every byte offset leaves exactly the whole records before it', async (t) => {
  const fs = frames(SAMPLE);
  const all = concat(fs);
  const ends: number[] = [];
  let at = 0;
  for (const f of fs) ends.push((at += f.length));
  let checked = 0;
  for (let cut = 0; cut <= all.length; cut++) {
    const whole = ends.filter((e) => e <= cut).length;
    const { records, validBytes, tornReason } = parseWal(all.subarray(0, cut));
    const expectedValid = whole === 0 ? 0 : ends[whole - 1]!;
    if (records.length !== whole || validBytes !== expectedValid || (tornReason === null) !== (cut === expectedValid)) {
      t.fail(`cut at ${cut}: ${records.length} records, valid ${validBytes}, torn ${tornReason}`);
      continue;
    }
    if (!same(records, SAMPLE.slice(0, whole))) t.fail(`cut at ${cut}: records differ`);
    checked++;
  }
  t.equal(checked, all.length + 1, `all ${all.length + 1} cut points recover the prefix`);
});

t.test('Wal.open truncates a torn tail and appends after it', async (t) => {
  const all = concat(frames(SAMPLE));
  const file = new MemoryWalFile();
  file.setBytes(all.subarray(0, all.length - 5));
  const wal = await Wal.open(file, { rotateBytes: 1 << 20 }, nullLogger);
  t.ok(same(wal.takeRecovered(), SAMPLE.slice(0, -1)), 'the whole records');
  t.same(wal.takeRecovered(), [], 'handed out once');
  t.equal(file.size, all.length - frames(SAMPLE).at(-1)!.length, 'the torn bytes are gone');
  await wal.append(SAMPLE[6]!);
  await wal.sync();
  const reopened = await Wal.open(file, { rotateBytes: 1 << 20 }, nullLogger);
  t.ok(same(reopened.takeRecovered(), SAMPLE), 'the new record follows the old ones, in order');
});

t.test('zeros after the last record (a file extended but never written) are a torn tail', async (t) => {
  const all = concat([...frames(SAMPLE), new Uint8Array(100)]);
  const { records, validBytes } = parseWal(all);
  t.equal(records.length, SAMPLE.length);
  t.equal(validBytes, all.length - 100);
});

t.test('a CRC mismatch: torn if nothing valid follows, WAL_CORRUPT if records follow', async (t) => {
  const fs = frames(SAMPLE);
  const middle = concat(fs);
  const offset = fs[0]!.length + fs[1]!.length + 12; // inside the payload of the third record
  middle[offset] = middle[offset]! ^ 0x01;
  t.equal(await code(() => parseWal(middle)), 'WAL_CORRUPT', 'a flipped bit in the middle');
  const file = new MemoryWalFile();
  file.setBytes(middle);
  t.equal(await code(Wal.open(file, { rotateBytes: 1 << 20 }, nullLogger)), 'WAL_CORRUPT', 'open refuses');
  t.equal(file.size, middle.length, 'and leaves the file alone');

  const last = concat(fs);
  last[last.length - 3] = last[last.length - 3]! ^ 0x80;
  const { records, tornReason } = parseWal(last);
  t.equal(records.length, SAMPLE.length - 1, 'a damaged last record is a torn tail');
  t.equal(tornReason, 'CRC mismatch');
});

t.test('a record whose CRC holds but which does not decode is WAL_BAD_RECORD', async (t) => {
  const payload = encode([4, new Uint8Array(3), sig(1)]);
  const frame = new Uint8Array(WAL_FRAME_HEADER_BYTES + payload.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, payload.length);
  frame.set(payload, WAL_FRAME_HEADER_BYTES);
  view.setUint32(4, crc32(payload, crc32(frame.subarray(0, 4))));
  t.equal(await code(() => parseWal(concat([encodeWalFrame(SAMPLE[0]!), frame]))), 'WAL_BAD_RECORD');
});

t.test('rotation: past rotateBytes the next height marker starts a new log holding only itself', async (t) => {
  const file = new MemoryWalFile();
  const wal = await Wal.open(file, { rotateBytes: 2000 }, nullLogger);
  let maxSize = 0;
  for (let h = 1; h <= 50; h++) {
    await wal.startHeight(heightRecord(h));
    t.equal(file.synced, file.size, 'a height marker is durable on return');
    for (const r of SAMPLE.slice(1)) await wal.append(r);
    maxSize = Math.max(maxSize, file.size);
  }
  await wal.sync();
  const records = (await Wal.open(file, { rotateBytes: 2000 }, nullLogger)).takeRecovered();
  const markers = records.filter((r) => r.kind === 'height').map((r) => (r.kind === 'height' ? r.height : 0));
  t.ok(markers.length < 50 && markers.length >= 1, `old heights are gone (${markers.length} markers left)`);
  t.equal(markers.at(-1), 50, 'the last height is there');
  t.equal(records[0]!.kind, 'height', 'a rotated log starts with a height marker');
  const perHeight = concat(frames(SAMPLE)).length;
  t.ok(maxSize <= 2000 + perHeight, `the log stays under rotateBytes plus one height (${maxSize} bytes)`);
});

t.test('on disk: records survive a reopen, a torn tail is cut from the file, rotation renames', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'consensus.wal');
  let wal = await Wal.open(await openWalFile(path), { rotateBytes: 1 << 20 }, nullLogger);
  t.same(wal.takeRecovered(), [], 'a new log is empty');
  for (const r of SAMPLE) await wal.append(r);
  await wal.sync();
  await wal.close();
  const full = await readFile(path);
  await writeFile(path, full.subarray(0, full.length - 7));
  const warnings: unknown[] = [];
  const log = { ...nullLogger, warn: (o: unknown) => warnings.push(o) };
  wal = await Wal.open(await openWalFile(path), { rotateBytes: 1 << 20 }, log);
  t.ok(same(wal.takeRecovered(), SAMPLE.slice(0, -1)), 'the whole records, in order');
  t.equal(warnings.length, 1, 'the truncation is logged');
  t.equal((await stat(path)).size, full.length - frames(SAMPLE).at(-1)!.length, 'the file was cut');
  await wal.close();

  wal = await Wal.open(await openWalFile(path), { rotateBytes: 10 }, nullLogger);
  await wal.startHeight(heightRecord(6));
  await wal.append(SAMPLE[3]!);
  await wal.sync();
  await wal.close();
  const after = (await Wal.open(await openWalFile(path), { rotateBytes: 10 }, nullLogger)).takeRecovered();
  t.same(after.map((r) => r.kind), ['height', 'vote'], 'the rotated file holds the marker and what followed');
});
