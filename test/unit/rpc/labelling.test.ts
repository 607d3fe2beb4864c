/**
 * The labelling read endpoints over a real chain (ChainStore + mempool + block executor, through
 * node/rpcDeps.ts): a task walked from creation through seats, commits, gold, reveals,
 * finalization and a dispute, each endpoint checked at the step where its answer changes; then
 * every 404 and 400. Transactions are built with the SDK's builders.
 */
import t from 'tap';
import type { Test } from 'tap';
import { ONE_TAG, addressToString, bytesToHex, hexToBytes } from '../../../lib/index.ts';
import { signTx, type LabellingBody, type LabelEntry, type TaskSpec } from '../../../runtime/index.ts';
import {
  buildServer,
  type AnnotatorAssignmentsJson,
  type AnnotatorJson,
  type AssignmentJson,
  type ItemReplyJson,
  type ItemsPageJson,
  type LabellingParamsJson,
  type RoundJson,
  type TaskJson,
} from '../../../rpc/index.ts';
import {
  buildAnnotatorStake,
  buildDispute,
  buildGoldReveal,
  buildLabelCommit,
  buildLabelReveal,
  buildTaskAddItems,
  buildTaskCreate,
  buildTaskFund,
  goldSecrets,
  goldTree,
} from '../../../sdk/labelling.ts';
import { ClientError, TaggerClient } from '../../../sdk/client.ts';
import { createRpcDeps } from '../../../node/rpcDeps.ts';
import { openTestChain } from '../../utils/chain.ts';
import { GENESIS_TIME_MS, TEST_CHAIN_ID, fixedKey, makeGenesis, type Key } from '../../utils/factories.ts';
import { errorOf } from './helpers.ts';

const alice = fixedKey(1); // requester
const bob = fixedKey(2); // annotator
const carol = fixedKey(3); // annotator
const dave = fixedKey(4); // never stakes
const genesis = makeGenesis([alice, bob, carol], { balance: 10_000n * ONE_TAG });
const addr = (k: Key): string => addressToString(k.address);

const GOLD_ITEM = 2;
const GOLD_LABEL = 0;

async function setup(t: Test) {
  const chain = await openTestChain(t.testdir(), genesis);
  const deps = createRpcDeps({ chainId: genesis.chainId, nodeId: 'n', store: chain.store, mempool: chain.mempool, validatorAddress: null, syncing: () => false });
  const app = await buildServer(deps, { logger: false });
  t.teardown(async () => {
    await app.close();
    await chain.store.close();
  });
  let height = 0;
  const hashes: string[] = [];
  const produce = async (): Promise<void> => {
    height++;
    const { blockHash } = await chain.executor.buildProposal(height, 0, GENESIS_TIME_MS + BigInt(height) * 1000n);
    await chain.executor.commitBlock(height, blockHash, { height, round: 0, blockHash, signatures: [] });
  };
  const send = (from: Key, body: LabellingBody): void => {
    const nonce = deps.account(from.address).pendingNonce;
    const signed = signTx({ chainId: TEST_CHAIN_ID, sender: from.publicKey, nonce, maxFee: ONE_TAG, body }, from.secretKey);
    chain.mempool.add(signed.bytes);
    hashes.push(bytesToHex(signed.hash));
  };
  /** Produces a block and checks every transaction sent since the last one succeeded. */
  const block = async (): Promise<void> => {
    const sent = hashes.splice(0);
    await produce();
    for (const h of sent) {
      const view = await deps.tx(hexToBytes(h));
      t.ok(view !== undefined, `transaction ${h.slice(0, 8)} committed`);
      t.equal(view?.receipt.code, '', `transaction ${h.slice(0, 8)} succeeded`);
    }
  };
  const get = async <T>(url: string): Promise<T> => {
    const res = await app.inject({ url });
    t.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 200)}`);
    return res.json<T>();
  };
  const status = async (url: string): Promise<[number, string]> => {
    const res = await app.inject({ url });
    return [res.statusCode, res.statusCode === 200 ? '' : errorOf(res).code];
  };
  // The SDK client, with requests served by inject instead of a socket.
  const client = new TaggerClient({
    url: 'http://node.test',
    fetch: async (input, init) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      const res = await app.inject({ method: 'GET', url: url.pathname + url.search });
      t.equal(init?.method, 'GET');
      return new Response(res.body, { status: res.statusCode, headers: { 'content-type': 'application/json' } });
    },
  });
  return { app, client, produce, block, send, get, status, height: () => height };
}

function spec(goldRoot: Uint8Array): TaskSpec {
  return {
    schema: 0,
    classes: 2,
    itemCount: 3,
    answersMin: 1,
    answersMax: 1,
    rewardPerAnswer: ONE_TAG,
    bonusPerAnswer: ONE_TAG / 2n,
    annotatorStake: 10n * ONE_TAG,
    commitWindow: 3,
    revealWindow: 3,
    challengeWindow: 5,
    confidenceQ16: 32_768,
    goldRoot,
    feePerSeat: ONE_TAG / 100n,
    seatsPerAnnotatorMax: 3,
    metadata: 'rpc test',
  };
}

const items = [0, 1, 2].map((i) => ({ contentHash: new Uint8Array(32).fill(i + 1), uri: `ipfs://item/${i}` }));

t.test('a task from creation to a settled dispute, as the endpoints see it', async (t) => {
  const { block, send, get, status, height, client } = await setup(t);
  const gold = goldSecrets([{ item: GOLD_ITEM, label: GOLD_LABEL }]);
  const taskSpec = spec(goldTree(gold).root);

  send(alice, buildTaskCreate(taskSpec));
  await block();
  let task = await get<TaskJson>('/v1/tasks/1');
  t.match(task, {
    height: 1,
    id: 1,
    requester: addr(alice),
    status: 'created',
    escrow: '0',
    escrowRequired: (3n * (ONE_TAG + ONE_TAG / 2n + ONE_TAG / 100n)).toString(),
    progress: { itemsAdded: 0, itemsOpen: 0, itemsFinal: 0, itemsLowConfidence: 0, rounds: 0, disputesOpen: 0, lastFinalHeight: null },
  });
  t.strictSame(task.spec, {
    schema: 'single',
    classes: 2,
    itemCount: 3,
    answersMin: 1,
    answersMax: 1,
    rewardPerAnswer: ONE_TAG.toString(),
    bonusPerAnswer: (ONE_TAG / 2n).toString(),
    annotatorStake: (10n * ONE_TAG).toString(),
    commitWindow: 3,
    revealWindow: 3,
    challengeWindow: 5,
    confidenceQ16: 32_768,
    confidence: '0.5000',
    goldRoot: '0x' + bytesToHex(taskSpec.goldRoot),
    feePerSeat: (ONE_TAG / 100n).toString(),
    seatsPerAnnotatorMax: 3,
    metadata: 'rpc test',
  });

  send(alice, buildTaskAddItems(1, items.slice(0, 2)));
  send(alice, buildTaskAddItems(1, items.slice(2)));
  send(bob, buildAnnotatorStake(20n * ONE_TAG));
  send(carol, buildAnnotatorStake(30n * ONE_TAG));
  await block();

  const page1 = await get<ItemsPageJson>('/v1/tasks/1/items?limit=2');
  t.equal(page1.total, 3);
  t.strictSame(page1.items.map((i) => i.index), [0, 1]);
  t.equal(page1.nextCursor, 2, 'a full page points at the next');
  const page2 = await get<ItemsPageJson>('/v1/tasks/1/items?cursor=2&limit=2');
  t.strictSame(page2.items.map((i) => i.uri), ['ipfs://item/2']);
  t.equal(page2.nextCursor, null, 'the last page ends the walk');
  t.strictSame((await get<ItemsPageJson>('/v1/tasks/1/items?cursor=7')).items, [], 'a cursor past the end is an empty page');
  t.equal((await get<ItemsPageJson>('/v1/tasks/1/items')).items.length, 3, 'default cursor 0 and limit 100');
  t.strictSame(await get<ItemReplyJson>('/v1/tasks/1/items/1'), {
    height: 2,
    task: 1,
    index: 1,
    contentHash: '0x' + '02'.repeat(32),
    uri: 'ipfs://item/1',
    status: 'open',
    seats: [],
    gold: null,
    label: null,
    confidenceQ16: 0,
    confidence: '0.0000',
    finalHeight: null,
    dispute: { state: 'none', round: null },
  });

  const bobBefore = await get<AnnotatorJson>(`/v1/annotators/${addr(bob)}?classes=2`);
  t.strictSame(bobBefore, {
    height: 2,
    address: addr(bob),
    stake: (20n * ONE_TAG).toString(),
    unbonding: [],
    probation: true,
    scored: 0,
    goldSeen: 0,
    goldCorrect: 0,
    earned: '0',
    slashed: '0',
    reputation: { classes: 2, epoch: 0, countUnit: 256, counts: [[0, 0], [0, 0]], qualityQ16: 0, quality: '0.0000' },
  });

  send(alice, buildTaskFund(1));
  await block(); // height 3: funded; starts and draws at the end of block 4
  t.equal((await get<TaskJson>('/v1/tasks/1')).status, 'funded');
  t.same(await status('/v1/tasks/1/rounds/0'), [404, 'ROUND_NOT_FOUND'], 'no round before the task starts');
  await block(); // height 4

  task = await get<TaskJson>('/v1/tasks/1');
  t.equal(task.status, 'labelling');
  t.match(task.progress, { itemsOpen: 3, rounds: 1 });
  const round = await get<RoundJson>('/v1/tasks/1/rounds/0');
  t.strictSame(round, {
    height: 4,
    task: 1,
    round: 0,
    stage: 'commit',
    phase: 'commit',
    itemCount: 3,
    seatsPerItem: 1,
    commitEnd: 7,
    revealEnd: 10,
    extendRound: null,
    dispute: null,
  });

  // Who holds which seat is the seed's choice: read it from the assignments.
  const held = new Map<Key, number[]>();
  for (const k of [bob, carol]) {
    const res = await status(`/v1/tasks/1/rounds/0/assignments/${addr(k)}`);
    if (res[0] === 404) {
      t.equal(res[1], 'ASSIGNMENT_NOT_FOUND');
      continue;
    }
    const a = await get<AssignmentJson>(`/v1/tasks/1/rounds/0/assignments/${addr(k)}`);
    t.match(a, { height: 4, task: 1, annotator: addr(k), round: 0, phase: 'commit', commitEnd: 7, revealEnd: 10, committed: false, commitRoot: null, commitCount: 0, revealed: false, feeSpent: '0' });
    t.equal(a.feeBudget, (BigInt(a.items.length) * (ONE_TAG / 100n)).toString(), 'fee budget = seats × feePerSeat');
    held.set(k, a.items);
    const mine = await get<AnnotatorAssignmentsJson>(`/v1/annotators/${addr(k)}/assignments?task=1`);
    t.strictSame(mine.rounds.map((r) => [r.round, r.items]), [[0, a.items]], 'the annotator view lists the same round');
    t.equal(mine.nextCursor, null);
  }
  t.strictSame([...held.values()].flat().sort(), [0, 1, 2], 'every item has one seat');
  for (const i of [0, 1, 2]) {
    const item = await get<ItemReplyJson>(`/v1/tasks/1/items/${i}`);
    const holder = [...held.entries()].find(([, list]) => list.includes(i))?.[0] as Key;
    t.strictSame(item.seats, [{ annotator: addr(holder), round: 0, answer: null }], `item ${i} seat`);
  }
  t.same(await status(`/v1/tasks/1/rounds/0/assignments/${addr(dave)}`), [404, 'ASSIGNMENT_NOT_FOUND']);
  t.strictSame((await get<AnnotatorAssignmentsJson>(`/v1/annotators/${addr(dave)}/assignments?task=1`)).rounds, [], 'no seats: an empty list');

  const labelOf = (item: number): number => (item === GOLD_ITEM ? GOLD_LABEL : 1);
  const commits = new Map<Key, { root: string; entries: LabelEntry[] }>();
  for (const [k, list] of held) {
    const { body, entries } = buildLabelCommit(1, 0, k.address, list.map((item) => ({ item, label: labelOf(item) })));
    send(k, body);
    commits.set(k, { root: body.kind === 'labelCommit' ? '0x' + bytesToHex(body.root) : '', entries });
  }
  await block(); // height 5
  for (const [k, c] of commits) {
    const a = await get<AssignmentJson>(`/v1/tasks/1/rounds/0/assignments/${addr(k)}`);
    t.match(a, { committed: true, commitRoot: c.root, commitCount: c.entries.length, revealed: false });
    t.ok(BigInt(a.feeSpent) > 0n, 'the commit fee came from the escrow');
  }
  while (height() < 7) await block();
  t.equal((await get<RoundJson>('/v1/tasks/1/rounds/0')).phase, 'reveal', 'the next block is past commitEnd');

  send(alice, buildGoldReveal(1, gold));
  for (const [k, c] of commits) send(k, buildLabelReveal(1, 0, c.entries));
  await block(); // height 8
  const goldItem = await get<ItemReplyJson>(`/v1/tasks/1/items/${GOLD_ITEM}`);
  t.equal(goldItem.gold, GOLD_LABEL, 'the revealed gold answer');
  t.equal(goldItem.seats[0]?.answer, GOLD_LABEL, 'the revealed answer');
  for (const k of commits.keys()) t.equal((await get<AssignmentJson>(`/v1/tasks/1/rounds/0/assignments/${addr(k)}`)).revealed, true);

  while (height() < 10) await block();
  t.match(await get<RoundJson>('/v1/tasks/1/rounds/0'), { stage: 'closed', phase: 'closed' });
  for (const i of [0, 1, 2]) {
    const item = await get<ItemReplyJson>(`/v1/tasks/1/items/${i}`);
    t.match(item, { status: 'final', label: labelOf(i), finalHeight: 10 }, `item ${i} final`);
    t.ok(item.confidenceQ16 >= 32_768 && item.confidenceQ16 <= 65_536, `item ${i} confidence ${item.confidence}`);
    t.equal(item.confidence, (Math.round((item.confidenceQ16 * 10_000) / 65_536) / 10_000).toFixed(4), 'the decimal matches the Q16');
  }
  task = await get<TaskJson>('/v1/tasks/1');
  t.match(task, { status: 'finalizing', progress: { itemsOpen: 0, itemsFinal: 3, itemsLowConfidence: 0, lastFinalHeight: 10 } });
  t.ok(BigInt(task.paid) >= 3n * ONE_TAG, 'base rewards paid');

  let earned = 0n;
  for (const [k, list] of held) {
    const a = await get<AnnotatorJson>(`/v1/annotators/${addr(k)}?classes=2`);
    t.equal(a.scored, list.length, 'one scored answer per seat');
    t.equal(a.goldSeen, list.includes(GOLD_ITEM) ? 1 : 0);
    t.equal(a.goldCorrect, a.goldSeen, 'the gold answer was right');
    const counts = a.reputation.counts.flat().reduce((x, y) => x + y, 0);
    t.ok(counts > 0 && counts <= list.length * 256, 'the confusion counts hold the scored answers');
    earned += BigInt(a.earned);
  }
  t.equal(earned.toString(), task.paid, 'what the annotators earned is what the task paid');

  // A dispute on a non-gold item: the panel is drawn from the annotator not yet on it.
  const disputed = 0;
  send(alice, buildDispute(1, disputed, 10n * ONE_TAG));
  await block(); // height 11: the dispute round is created
  const item0 = await get<ItemReplyJson>(`/v1/tasks/1/items/${disputed}`);
  t.strictSame(item0.dispute, { state: 'open', round: 1 });
  t.match(await get<TaskJson>('/v1/tasks/1'), { progress: { rounds: 2, disputesOpen: 1 } });
  await block(); // height 12: the panel is drawn
  const disputeRound = await get<RoundJson>('/v1/tasks/1/rounds/1');
  t.match(disputeRound, { round: 1, stage: 'commit', itemCount: 1, dispute: { item: disputed, challenger: addr(alice), bond: (10n * ONE_TAG).toString() } });
  const panel = [bob, carol].filter((k) => !(held.get(k) ?? []).includes(disputed));
  const panelist = panel[0] as Key;
  const seats = await get<AnnotatorAssignmentsJson>(`/v1/annotators/${addr(panelist)}/assignments?task=1`);
  t.strictSame(seats.rounds.map((r) => r.round).at(-1), 1, 'the panelist sees its dispute seat');
  const slashedBefore = BigInt((await get<AnnotatorJson>(`/v1/annotators/${addr(panelist)}?classes=2`)).slashed);

  // The panelist stays silent: at the end of the reveal window it is slashed and the bond returns.
  while (height() < (disputeRound.revealEnd as number)) await block();
  t.strictSame((await get<ItemReplyJson>(`/v1/tasks/1/items/${disputed}`)).dispute, { state: 'settled', round: null });
  const after = await get<AnnotatorJson>(`/v1/annotators/${addr(panelist)}?classes=2`);
  t.ok(BigInt(after.slashed) > slashedBefore, 'a silent panelist is slashed');
  t.match(await get<TaskJson>('/v1/tasks/1'), { progress: { disputesOpen: 0 } });

  // The SDK's client methods name the same endpoints.
  t.strictSame(await client.labellingParams(), await get('/v1/labelling/params'));
  t.strictSame(await client.task(1), await get('/v1/tasks/1'));
  t.strictSame(await client.taskItems(1, { cursor: 1, limit: 1 }), await get('/v1/tasks/1/items?cursor=1&limit=1'));
  t.strictSame(await client.taskItems(1), await get('/v1/tasks/1/items'));
  t.strictSame(await client.taskItem(1, 2), await get('/v1/tasks/1/items/2'));
  t.strictSame(await client.round(1, 1), await get('/v1/tasks/1/rounds/1'));
  t.strictSame(await client.assignment(1, 1, panelist.address), await get(`/v1/tasks/1/rounds/1/assignments/${addr(panelist)}`));
  t.strictSame(await client.annotator(addr(panelist), { classes: 2 }), await get(`/v1/annotators/${addr(panelist)}?classes=2`));
  const all = await client.allAnnotatorAssignments(panelist.address, 1);
  t.strictSame(all, await get(`/v1/annotators/${addr(panelist)}/assignments?task=1`));
  t.strictSame(await client.annotatorAssignments(panelist.address, 1, { cursor: 1 }), await get(`/v1/annotators/${addr(panelist)}/assignments?task=1&cursor=1`));
  const missing = await client.task(99).catch((e: unknown) => e);
  t.ok(missing instanceof ClientError && missing.code === 'TASK_NOT_FOUND' && missing.type.httpStatus === 404, 'a 404 is a ClientError with its code');
  const badId = await client.task(-1).catch((e: unknown) => e);
  t.ok(badId instanceof ClientError && badId.code === 'CLIENT_BAD_ARGUMENT', 'a bad id is refused before any request');
});

t.test('params, 404s and 400s', async (t) => {
  const { app, send, block, get, status } = await setup(t);
  const params = await get<LabellingParamsJson>('/v1/labelling/params');
  t.match(params, {
    height: 0,
    annotatorStakeMin: (10n * ONE_TAG).toString(),
    annotatorUnbondingBlocks: 2000,
    disputeBondMin: (10n * ONE_TAG).toString(),
    fees: { baseFee: genesis.params.baseFee.toString(), perByteFee: genesis.params.perByteFee.toString(), txBytesMax: genesis.params.txBytesMax },
    limits: { itemsPerTxMax: 2000, labelsPerTxMax: 10_000, goldPerTxMax: 1000, itemUriBytesMax: 256, classesMaxSingle: 64, classesMaxMulti: 16 },
  });

  t.same(await status('/v1/tasks/1'), [404, 'TASK_NOT_FOUND'], 'no task yet');
  t.same(await status('/v1/tasks/1/items'), [404, 'TASK_NOT_FOUND']);
  t.same(await status('/v1/tasks/1/items/0'), [404, 'TASK_NOT_FOUND']);
  t.same(await status('/v1/tasks/1/rounds/0'), [404, 'TASK_NOT_FOUND']);
  t.same(await status(`/v1/tasks/1/rounds/0/assignments/${addr(bob)}`), [404, 'TASK_NOT_FOUND']);
  t.same(await status(`/v1/annotators/${addr(bob)}/assignments?task=1`), [404, 'TASK_NOT_FOUND']);
  t.same(await status(`/v1/annotators/${addr(dave)}?classes=2`), [404, 'ANNOTATOR_NOT_FOUND']);
  const notFound = (await app.inject({ url: '/v1/tasks/9' })).json<{ error: { details: unknown } }>();
  t.strictSame(notFound.error.details, { task: 9 }, 'the 404 names the task');

  send(alice, buildTaskCreate(spec(new Uint8Array(32))));
  send(alice, buildTaskAddItems(1, items.slice(0, 1)));
  await block();
  t.same(await status('/v1/tasks/1/items/1'), [404, 'ITEM_NOT_FOUND'], 'past the items added');
  t.same(await status('/v1/tasks/1/rounds/0'), [404, 'ROUND_NOT_FOUND']);
  t.same(await status(`/v1/tasks/1/rounds/0/assignments/${addr(bob)}`), [404, 'ROUND_NOT_FOUND']);

  const bad = [
    '/v1/tasks/abc',
    '/v1/tasks/-1',
    '/v1/tasks/01',
    '/v1/tasks/4294967296',
    '/v1/tasks/1/items?limit=0',
    '/v1/tasks/1/items?limit=101',
    '/v1/tasks/1/items?limit=x',
    '/v1/tasks/1/items?cursor=-1',
    '/v1/tasks/1/items?cursor=4294967296',
    '/v1/tasks/1/items?other=1',
    '/v1/tasks/1/items/4294967296',
    '/v1/tasks/1/rounds/x',
    '/v1/tasks/1/rounds/0/assignments/tag1notanaddress',
    `/v1/annotators/${addr(bob)}`,
    `/v1/annotators/${addr(bob)}?classes=1`,
    `/v1/annotators/${addr(bob)}?classes=65`,
    `/v1/annotators/${addr(bob)}/assignments`,
    `/v1/annotators/${addr(bob)}/assignments?task=1&cursor=x`,
    '/v1/annotators/nope/assignments?task=1',
  ];
  for (const url of bad) t.same(await status(url), [400, 'RPC_INVALID_REQUEST'], url);
  const flipped = addr(bob).slice(0, -1) + (addr(bob).endsWith('q') ? 'p' : 'q');
  t.same(await status(`/v1/annotators/${flipped}?classes=2`), [400, 'ADDRESS_INVALID'], 'a bad checksum');
});
