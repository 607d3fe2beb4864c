/**
 * Per-block passport work (docs/spec/passport.md §Building): versions created from a task are
 * hashed and their contributors counted by a job that does at most `buildUnitsPerBlockMax` units
 * per block, oldest job first, its progress kept in state between blocks.
 *
 *   phase 0, one unit per item, in index order: the item's dataset record (lib/dataset.ts) goes
 *            into the persisted DatasetRootBuilder; on a final item, every seat whose revealed
 *            answer equals the final label adds one share to its annotator's tally;
 *   phase 1, one unit per tallied annotator, in first-seen order: the tally is removed from state
 *            and offered to the selection of the `contributorsMax` best (shares descending, then
 *            address ascending); whoever falls out is folded into the owner's part;
 *   then the version becomes active with the content root, the record count, the mean confidence
 *            and the contributor list.
 */
import { DatasetRootBuilder, addressToString, assert, compareBytes, encodeDatasetRecord, readU32, writeU32 } from '../../lib/index.ts';
import type { StateView } from '../../state/index.ts';
import type { ChainEvent } from '../block.ts';
import { ITEM_STATUS, loadItemWithAnswers } from '../labelling/index.ts';
import { buildQueuePeek, buildQueuePop } from './lists.ts';
import { loadPassportParams } from './params.ts';
import {
  PASSPORT_STATUS,
  buildJobKey,
  loadBuildJob,
  loadPassportHead,
  loadPassportVersion,
  saveBuildJob,
  saveContributors,
  savePassportHead,
  savePassportVersion,
  tallyKey,
  tallyListKey,
  type BuildJob,
  type Contributor,
} from './records.ts';

export type PassportBlockEnv = { height: number };

const ev = (type: string, attributes: Array<readonly [string, string]>): ChainEvent => ({ type, attributes });

export function passportEndBlock(view: StateView, env: PassportBlockEnv): ChainEvent[] {
  const params = loadPassportParams(view);
  const events: ChainEvent[] = [];
  let budget = params.buildUnitsPerBlockMax;
  while (budget > 0) {
    const head = buildQueuePeek(view);
    if (head === null) break;
    const job = loadBuildJob(view, head[0], head[1]);
    assert(job !== null, `passport build ${head[0]}/${head[1]} missing`);
    budget -= runJob(view, job, budget, params.contributorsMax);
    if (job.phase === 1 && job.cursor === job.tallied) {
      finish(view, job, env.height, events);
      buildQueuePop(view);
    } else saveBuildJob(view, job);
  }
  return events;
}

/** Advances `job` in place by at most `budget` units; returns the units used. */
function runJob(view: StateView, job: BuildJob, budget: number, contributorsMax: number): number {
  let used = 0;
  if (job.phase === 0) {
    const builder = job.builder.length === 0 ? new DatasetRootBuilder() : DatasetRootBuilder.decodeState(job.builder);
    while (used < budget && job.cursor < job.itemCount) {
      addItem(view, job, builder);
      job.cursor++;
      used++;
    }
    job.builder = builder.encodeState();
    if (job.cursor < job.itemCount) return used;
    job.phase = 1;
    job.cursor = 0;
  }
  while (used < budget && job.cursor < job.tallied) {
    const k = tallyListKey(job.id, job.version, job.cursor);
    const who = view.get(k);
    assert(who !== undefined, `passport tally ${job.id}/${job.version}/${job.cursor} missing`);
    const shares = loadTally(view, job, who);
    view.delete(k);
    view.delete(tallyKey(job.id, job.version, who));
    select(job, { address: who, shares }, contributorsMax);
    job.cursor++;
    used++;
  }
  return used;
}

function addItem(view: StateView, job: BuildJob, builder: DatasetRootBuilder): void {
  const item = loadItemWithAnswers(view, job.task, job.cursor);
  assert(item !== null, `passport build: item ${job.task}/${job.cursor} missing`);
  let answers = 0;
  for (const seat of item.seats) if (seat.answer >= 0) answers++;
  builder.push(
    encodeDatasetRecord({ index: job.cursor, itemHash: item.contentHash, status: item.status, label: item.label, confidenceQ16: item.confidenceQ16, answers }),
  );
  job.confidenceSum += BigInt(item.confidenceQ16);
  if (item.status !== ITEM_STATUS.final) return;
  for (const seat of item.seats) if (seat.answer >= 0 && seat.answer === item.label) addTally(view, job, seat.annotator);
}

/** A tally is 4 bytes, a big-endian u32 (written once per accepted label: kept out of msgpack). */
function loadTally(view: StateView, job: BuildJob, who: Uint8Array): number {
  const bytes = view.get(tallyKey(job.id, job.version, who));
  if (bytes === undefined) return 0;
  assert(bytes.length === 4, 'passport tally: not 4 bytes');
  return readU32(bytes, 0);
}

function addTally(view: StateView, job: BuildJob, who: Uint8Array): void {
  const shares = loadTally(view, job, who);
  if (shares === 0) {
    view.set(tallyListKey(job.id, job.version, job.tallied), who);
    job.tallied++;
  }
  const value = new Uint8Array(4);
  writeU32(value, 0, shares + 1);
  view.set(tallyKey(job.id, job.version, who), value);
}

/** Whether `a` ranks before `b`: more shares first, then the lower address. */
function ranksBefore(a: Contributor, b: Contributor): boolean {
  return a.shares > b.shares || (a.shares === b.shares && compareBytes(a.address, b.address) < 0);
}

/** Keeps `job.top` the best `max` contributors seen so far, sorted; the others' shares are folded. */
export function select(job: Pick<BuildJob, 'top' | 'folded'>, c: Contributor, max: number): void {
  const top = job.top;
  if (top.length >= max) {
    const last = top[top.length - 1] as Contributor;
    if (!ranksBefore(c, last)) {
      job.folded += c.shares;
      return;
    }
    top.pop();
    job.folded += last.shares;
  }
  let lo = 0;
  let hi = top.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ranksBefore(top[mid] as Contributor, c)) lo = mid + 1;
    else hi = mid;
  }
  top.splice(lo, 0, c);
}

function finish(view: StateView, job: BuildJob, height: number, events: ChainEvent[]): void {
  const version = loadPassportVersion(view, job.id, job.version);
  const head = loadPassportHead(view, job.id);
  assert(version !== null && head !== null, `passport ${job.id}/${job.version} missing at build end`);
  const builder = DatasetRootBuilder.decodeState(job.builder);
  assert(builder.count === job.itemCount, 'passport build: record count mismatch');
  let shares = 0;
  for (const c of job.top) shares += c.shares;
  const meanConfidenceQ16 = job.itemCount === 0 ? 0 : Number(job.confidenceSum / BigInt(job.itemCount));
  savePassportVersion(view, {
    ...version,
    status: PASSPORT_STATUS.active,
    contentRoot: builder.root(),
    recordCount: builder.count,
    activeHeight: height,
    provenance: { ...version.provenance, meanConfidenceQ16, contributorCount: job.top.length, contributorShares: shares, foldedShares: job.folded },
  });
  saveContributors(view, job.id, job.version, job.top);
  savePassportHead(view, { ...head, active: Math.max(head.active, job.version) });
  view.delete(buildJobKey(job.id, job.version));
  events.push(
    ev('passport_active', [
      ['passport', String(job.id)],
      ['version', String(job.version)],
      ['records', String(builder.count)],
      ['contributors', String(job.top.length)],
      ['owner', addressToString(head.owner)],
    ]),
  );
}
