/**
 * Data Passports from a labelled task: creation in one transaction, the bounded build across
 * blocks (content root = the root lib/dataset.ts computes from the items), contributor shares,
 * the cap with its deterministic fold, versions, external registration and owner transfer.
 */
import t from 'tap';
import fc from 'fast-check';
import { ONE_TAG, bytesToHex, equalBytes, sha256 } from '../../../lib/index.ts';
import {
  PASSPORT_STATUS,
  PASSPORT_SOURCE,
  TASK_METHOD,
  buildQueueLength,
  loadContributors,
  loadPassportHead,
  loadPassportVersion,
  savePassportParams,
  select,
  DEFAULT_PASSPORT_PARAMS,
  type Contributor,
} from '../../../runtime/index.ts';
import { StateView } from '../../../state/index.ts';
import { acceptedLabels, annotators, attr, buyer, doneTask, ok, offerTerms, passportSpec, requester, stranger, taskRoot } from './fixtures.ts';

t.test('a passport created from a done task is built at end of block: root, count, shares, provenance', async (t) => {
  const { chain, task } = doneTask(8);
  const created = ok(chain.send(requester, { kind: 'passportCreate', task, spec: passportSpec() }));
  t.equal(attr(created, 'passport_created', 'status'), 'building', 'registered as building in the transaction');
  const id = Number(attr(created, 'passport_created', 'passport'));
  t.equal(id, 1, 'ids start at 1');
  // The build ran in the end-of-block of the same block (8 items ≪ 2,000 units).
  const v = loadPassportVersion(chain.state, id, 1);
  t.ok(v !== null);
  if (v === null) return;
  t.equal(v.status, PASSPORT_STATUS.active);
  t.equal(v.source, PASSPORT_SOURCE.task);
  t.equal(v.recordCount, 8);
  t.equal(bytesToHex(v.contentRoot), bytesToHex(taskRoot(chain, task)), 'content root = datasetRoot of the items');
  t.same(v.provenance.sourceTasks, [task]);
  t.equal(v.provenance.method, TASK_METHOD, 'the runtime records the consensus method');
  t.equal(v.provenance.paramsHash.length, 32);
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += chain.item(task, i).confidenceQ16;
  t.equal(v.provenance.meanConfidenceQ16, Math.floor(sum / 8), 'mean confidence over the records');
  t.equal(v.activeHeight, chain.height);

  const expected = acceptedLabels(chain, task);
  const list = loadContributors(chain.state, id, 1);
  t.equal(list.length, expected.size, 'one contributor per annotator with an accepted label');
  for (const c of list) t.equal(c.shares, expected.get(Buffer.from(c.address).toString('hex')), 'shares = accepted labels');
  t.equal(v.provenance.contributorShares, [...expected.values()].reduce((a, b) => a + b, 0));
  t.equal(v.provenance.foldedShares, 0);
  for (let i = 1; i < list.length; i++) {
    const a = list[i - 1] as Contributor;
    const b = list[i] as Contributor;
    t.ok(a.shares > b.shares || (a.shares === b.shares && Buffer.compare(a.address, b.address) < 0), 'sorted by shares, then address');
  }
  // Annotator 0 always answered 3: only items labelled 3 count for it.
  const a0 = list.find((c) => equalBytes(c.address, annotators[0]!.address));
  const a0Seats = Array.from({ length: 8 }, (_, i) => chain.item(task, i)).filter((it) => it.label === 3 && it.seats.some((s) => equalBytes(s.annotator, annotators[0]!.address))).length;
  t.equal(a0?.shares ?? 0, a0Seats, 'a deviating annotator earns shares only where it agreed');
  const head = loadPassportHead(chain.state, id);
  t.equal(head?.active, 1);
  t.ok(head !== null && equalBytes(head.owner, requester.address));
  t.equal(chain.events('passport_active').length, 1);
});

t.test('the build is bounded per block and resumes from state; the root is the same', async (t) => {
  const { chain, task } = doneTask(8);
  const root = taskRoot(chain, task);
  const view = new StateView(chain.state);
  savePassportParams(view, { ...DEFAULT_PASSPORT_PARAMS, buildUnitsPerBlockMax: 3 });
  chain.state.apply(view.writes());
  ok(chain.send(requester, { kind: 'passportCreate', task, spec: passportSpec() }));
  t.equal(buildQueueLength(chain.state), 1, 'one build queued');
  t.equal(loadPassportVersion(chain.state, 1, 1)?.status, PASSPORT_STATUS.building);
  // An offer may be listed while building; it cannot be bought until a version is active.
  ok(chain.send(requester, { kind: 'licenceOffer', passport: 1, terms: offerTerms() }));
  t.equal(chain.send(buyer, { kind: 'licenceBuy', offer: 1, maxPrice: 100n * ONE_TAG }).code, 'PASSPORT_BUILDING');
  t.equal(chain.send(requester, { kind: 'passportVersion', passport: 1, task, contentRoot: null, recordCount: 0, spec: passportSpec() }).code, 'PASSPORT_BUILDING', 'no new version while the latest builds');
  const seen: number[] = [];
  for (let i = 0; i < 10 && loadPassportVersion(chain.state, 1, 1)?.status === PASSPORT_STATUS.building; i++) {
    seen.push(buildQueueLength(chain.state));
    t.equal(loadPassportHead(chain.state, 1)?.active, 0, 'no active version while building');
    chain.block();
  }
  const v = loadPassportVersion(chain.state, 1, 1);
  t.equal(v?.status, PASSPORT_STATUS.active);
  t.ok(seen.length >= 1, `took ${seen.length + 1} blocks at 3 units per block`);
  t.equal(bytesToHex(v!.contentRoot), bytesToHex(root), 'same root as in one block');
  t.equal(buildQueueLength(chain.state), 0, 'queue empty');
  t.equal(loadContributors(chain.state, 1, 1).length, acceptedLabels(chain, task).size);
});

t.test('above contributorsMax the best N are listed and the rest fold into the owner, deterministically', async (t) => {
  const { chain, task } = doneTask(8);
  const view = new StateView(chain.state);
  savePassportParams(view, { ...DEFAULT_PASSPORT_PARAMS, contributorsMax: 2 });
  chain.state.apply(view.writes());
  ok(chain.send(requester, { kind: 'passportCreate', task, spec: passportSpec() }));
  const v = loadPassportVersion(chain.state, 1, 1)!;
  const list = loadContributors(chain.state, 1, 1);
  const all = [...acceptedLabels(chain, task).entries()]
    .map(([hex, shares]) => ({ hex, shares }))
    .sort((a, b) => b.shares - a.shares || (a.hex < b.hex ? -1 : 1));
  t.ok(all.length > 2, 'more annotators than the cap');
  t.equal(list.length, 2);
  t.same(list.map((c) => Buffer.from(c.address).toString('hex')), all.slice(0, 2).map((c) => c.hex), 'top 2 by shares then address');
  t.equal(v.provenance.foldedShares, all.slice(2).reduce((s, c) => s + c.shares, 0), 'the rest are folded');
  t.equal(v.provenance.contributorCount, 2);
});

t.test('select keeps the best max by shares then address, whatever the arrival order', async (t) => {
  const addr = (n: number): Uint8Array => sha256(Uint8Array.of(n)).subarray(0, 20);
  const entries: Contributor[] = Array.from({ length: 40 }, (_, i) => ({ address: addr(i), shares: (i * 7) % 5 }));
  const ref = [...entries].sort((a, b) => b.shares - a.shares || Buffer.compare(a.address, b.address));
  for (const order of [entries, [...entries].reverse()]) {
    const job = { top: [] as Contributor[], folded: 0 };
    for (const c of order) select(job, c, 10);
    t.same(job.top.map((c) => bytesToHex(c.address)), ref.slice(0, 10).map((c) => bytesToHex(c.address)));
    t.equal(job.folded, ref.slice(10).reduce((s, c) => s + c.shares, 0));
  }
});

t.test('create is refused for a task not done, not the requester, unknown task, bad spec', async (t) => {
  const { chain, task } = doneTask(4);
  t.equal(chain.send(stranger, { kind: 'passportCreate', task, spec: passportSpec() }).code, 'PASSPORT_NOT_REQUESTER');
  t.equal(chain.send(requester, { kind: 'passportCreate', task: 999, spec: passportSpec() }).code, 'PASSPORT_TASK_NOT_FOUND');
  t.equal(chain.send(requester, { kind: 'passportCreate', task, spec: passportSpec({ metadata: 'x'.repeat(1025) }) }).code, 'PASSPORT_METADATA_TOO_LARGE');
  t.equal(chain.send(requester, { kind: 'passportCreate', task, spec: passportSpec({ schema: 'x'.repeat(257) }) }).code, 'PASSPORT_METADATA_TOO_LARGE');
  const terms = passportSpec().terms;
  t.equal(chain.send(requester, { kind: 'passportCreate', task, spec: passportSpec({ terms: { ...terms, contributorsShareBps: 500 } }) }).code, 'PASSPORT_SHARE_TOO_LOW');
  t.equal(chain.send(requester, { kind: 'passportCreate', task, spec: passportSpec({ terms: { ...terms, uses: 1 << 9 } }) }).code, 'PASSPORT_BAD_TERMS');
  t.equal(chain.send(requester, { kind: 'passportCreate', task, spec: passportSpec({ terms: { ...terms, contributorsShareBps: 10_001 } }) }).code, 'PASSPORT_BAD_TERMS');
  // A second task, not yet labelled.
  const created = ok(chain.send(requester, { kind: 'taskCreate', spec: chain.task(task).spec }));
  const open = Number(attr(created, 'task_created', 'task'));
  t.equal(chain.send(requester, { kind: 'passportCreate', task: open, spec: passportSpec() }).code, 'PASSPORT_TASK_NOT_DONE');
  t.equal(loadPassportHead(chain.state, 1), null, 'nothing was created');
});

t.test('external registration, versions linked to parents, old versions stay readable', async (t) => {
  const { chain, task } = doneTask(4);
  const root1 = new Uint8Array(32).fill(1);
  const reg = ok(chain.send(stranger, { kind: 'passportRegister', contentRoot: root1, recordCount: 10, spec: passportSpec({ method: 'manual', methodVersion: '1', paramsHash: new Uint8Array(32).fill(9) }) }));
  const id = Number(attr(reg, 'passport_created', 'passport'));
  const v1 = loadPassportVersion(chain.state, id, 1)!;
  t.equal(v1.status, PASSPORT_STATUS.active, 'external: active at once');
  t.equal(v1.source, PASSPORT_SOURCE.external);
  t.equal(v1.provenance.method, 'manual');
  t.equal(loadContributors(chain.state, id, 1).length, 0, 'no contributors: the owner takes all');
  t.equal(chain.send(stranger, { kind: 'passportRegister', contentRoot: root1, recordCount: 0, spec: passportSpec() }).code, 'PASSPORT_BAD_CONTENT');

  const root2 = new Uint8Array(32).fill(2);
  ok(chain.send(stranger, { kind: 'passportVersion', passport: id, task: 0, contentRoot: root2, recordCount: 11, spec: passportSpec() }));
  const v2 = loadPassportVersion(chain.state, id, 2)!;
  t.equal(v2.parent, 1, 'version 2 links its parent');
  t.same(v2.contentRoot, root2);
  t.same(loadPassportVersion(chain.state, id, 1)?.contentRoot, root1, 'version 1 is unchanged');
  t.equal(loadPassportHead(chain.state, id)?.latest, 2);
  t.equal(loadPassportHead(chain.state, id)?.active, 2);
  t.equal(chain.send(requester, { kind: 'passportVersion', passport: id, task: 0, contentRoot: root2, recordCount: 1, spec: passportSpec() }).code, 'PASSPORT_NOT_OWNER');
  t.equal(chain.send(stranger, { kind: 'passportVersion', passport: 77, task: 0, contentRoot: root2, recordCount: 1, spec: passportSpec() }).code, 'PASSPORT_NOT_FOUND');
  t.equal(chain.send(stranger, { kind: 'passportVersion', passport: id, task: 0, contentRoot: null, recordCount: 1, spec: passportSpec() }).code, 'PASSPORT_BAD_CONTENT');
  // Only the task's requester may version from it.
  t.equal(chain.send(stranger, { kind: 'passportVersion', passport: id, task, contentRoot: null, recordCount: 0, spec: passportSpec() }).code, 'PASSPORT_NOT_REQUESTER');

  // The requester's passport gets a task-derived version 2 from the same task.
  const own = ok(chain.send(requester, { kind: 'passportRegister', contentRoot: root1, recordCount: 1, spec: passportSpec() }));
  const pid = Number(attr(own, 'passport_created', 'passport'));
  ok(chain.send(requester, { kind: 'passportVersion', passport: pid, task, contentRoot: null, recordCount: 0, spec: passportSpec() }));
  const built = loadPassportVersion(chain.state, pid, 2)!;
  t.equal(built.status, PASSPORT_STATUS.active);
  t.same(built.contentRoot, taskRoot(chain, task));
  t.equal(built.parent, 1);
});

t.test('owner transfer: refused when not transferable, by a non-owner, to oneself; offers lapse', async (t) => {
  const { chain } = doneTask(4);
  const fixed = ok(chain.send(requester, { kind: 'passportRegister', contentRoot: new Uint8Array(32).fill(3), recordCount: 5, spec: passportSpec({ terms: { ...passportSpec().terms, transferable: false } }) }));
  const fid = Number(attr(fixed, 'passport_created', 'passport'));
  t.equal(chain.send(requester, { kind: 'passportTransfer', passport: fid, to: buyer.address }).code, 'PASSPORT_NOT_TRANSFERABLE');

  const reg = ok(chain.send(requester, { kind: 'passportRegister', contentRoot: new Uint8Array(32).fill(4), recordCount: 5, spec: passportSpec() }));
  const id = Number(attr(reg, 'passport_created', 'passport'));
  ok(chain.send(requester, { kind: 'licenceOffer', passport: id, terms: offerTerms({ price: ONE_TAG }) }));
  t.equal(chain.send(stranger, { kind: 'passportTransfer', passport: id, to: buyer.address }).code, 'PASSPORT_NOT_OWNER');
  t.equal(chain.send(requester, { kind: 'passportTransfer', passport: id, to: requester.address }).code, 'PASSPORT_SAME_OWNER');
  t.equal(chain.send(requester, { kind: 'passportTransfer', passport: 999, to: buyer.address }).code, 'PASSPORT_NOT_FOUND');
  ok(chain.send(requester, { kind: 'passportTransfer', passport: id, to: stranger.address }));
  t.ok(equalBytes(loadPassportHead(chain.state, id)!.owner, stranger.address), 'new owner');
  t.equal(chain.send(buyer, { kind: 'licenceBuy', offer: 1, maxPrice: ONE_TAG }).code, 'OFFER_STALE', "the old owner's offer lapsed");
  t.equal(chain.send(requester, { kind: 'licenceOffer', passport: id, terms: offerTerms() }).code, 'PASSPORT_NOT_OWNER');
  ok(chain.send(stranger, { kind: 'licenceOffer', passport: id, terms: offerTerms() }));
});

t.test('two builds queued in one block finish in order, with the same root and shares', async (t) => {
  const { chain, task } = doneTask(8);
  const view = new StateView(chain.state);
  savePassportParams(view, { ...DEFAULT_PASSPORT_PARAMS, buildUnitsPerBlockMax: 5 });
  chain.state.apply(view.writes());
  const receipts = chain.block([chain.tx(requester, { kind: 'passportCreate', task, spec: passportSpec() }), chain.tx(requester, { kind: 'passportCreate', task, spec: passportSpec() })]);
  t.same(receipts.map((r) => r.code), ['', '']);
  t.equal(buildQueueLength(chain.state), 2);
  const activeAt = new Map<number, number>();
  for (let i = 0; i < 20 && activeAt.size < 2; i++) {
    chain.block();
    for (const id of [1, 2]) if (!activeAt.has(id) && loadPassportVersion(chain.state, id, 1)?.status === PASSPORT_STATUS.active) activeAt.set(id, chain.height);
  }
  t.ok((activeAt.get(1) ?? 0) <= (activeAt.get(2) ?? 0), 'the older build finishes first');
  const a = loadPassportVersion(chain.state, 1, 1)!;
  const b = loadPassportVersion(chain.state, 2, 1)!;
  t.same(a.contentRoot, b.contentRoot);
  t.same(loadContributors(chain.state, 1, 1), loadContributors(chain.state, 2, 1));
  t.equal(buildQueueLength(chain.state), 0);
  t.same(a.contentRoot, taskRoot(chain, task));
});

t.test('property: select equals sorting everything and cutting at max', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 20 })), { maxLength: 200 }), fc.integer({ min: 1, max: 50 }), (entries, max) => {
      // Distinct addresses: the byte picks one, as an annotator is tallied once.
      const unique = [...new Map(entries.map(([a, s]) => [a, s])).entries()].map(([a, s]) => ({ address: sha256(Uint8Array.of(a)).subarray(0, 20), shares: s }));
      const job = { top: [] as Contributor[], folded: 0 };
      for (const c of unique) select(job, c, max);
      const ref = [...unique].sort((x, y) => y.shares - x.shares || Buffer.compare(x.address, y.address));
      const kept = ref.slice(0, max);
      return (
        job.top.length === kept.length &&
        job.top.every((c, i) => equalBytes(c.address, kept[i]!.address)) &&
        job.folded === ref.slice(max).reduce((s, c) => s + c.shares, 0)
      );
    }),
    { numRuns: 300, seed: 3 },
  );
  t.pass('300 random selections');
});
