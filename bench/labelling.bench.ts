/**
 * Labelling throughput with the real runtime (applyBlockTxs, signatures checked as a validator
 * would, the per-block labelling work included):
 *  (a) labels per second accepted through batched commit + reveal transactions: 200 annotators, a
 *      task of 4,000 items × 5 seats (about 100 seats each), one commit block and one reveal block;
 *  (b) finalizing 10,000 items with 5 answers each in one block: the block at revealEnd, whose
 *      end-block work aggregates and settles every item; the state-root update
 *      (SparseMerkleTree.update on that block's writes) is timed separately.
 * Setup runs on the in-memory LabellingChain of the tests; only the measured blocks are timed.
 */
import { ONE_TAG, sha256, u32ToBytes } from '../lib/index.ts';
import { applyBlockTxs, type LabelEntry, type SignedTx } from '../runtime/index.ts';
import { SparseMerkleTree, StateView, type StateWrite } from '../state/index.ts';
import { numberedKey } from '../test/utils/chain.ts';
import { TEST_CHAIN_ID, fixedKey, type Key } from '../test/utils/factories.ts';
import { LabellingChain, commitBody, openTask, revealBody, stakeAll, taskSpec } from '../test/utils/labelling.ts';

const ANNOTATORS = 200;
const CLASSES = 4;

/** Applies one block with signature checks on; returns the apply time and the block's writes. */
function timedBlock(chain: LabellingChain, txs: readonly SignedTx[]): { ms: number; writes: StateWrite[] } {
  // The block's end-of-block events go to chain.blockEvents, as LabellingChain.block does.
  chain.height++;
  const view = new StateView(chain.state);
  const env = {
    chainId: TEST_CHAIN_ID,
    height: chain.height,
    timeMs: chain.genesis.genesisTimeMs + BigInt(chain.height) * 1000n,
    proposer: chain.proposer.address,
    seed: sha256(u32ToBytes(chain.height)),
    verifySignatures: true,
  };
  // Setup leaves a large heap behind: collect it first (npm run bench passes --expose-gc) so that
  // its garbage is not charged to the measured block.
  (globalThis as { gc?: () => void }).gc?.();
  const t0 = performance.now();
  const { receipts } = applyBlockTxs(view, txs.map((t) => t.bytes), env, chain.params);
  const ms = performance.now() - t0;
  const failed = receipts.slice(0, txs.length).find((r) => r.status !== 0);
  if (failed !== undefined) throw new Error(`bench block: a transaction failed with ${failed.code}`);
  chain.blockEvents.set(chain.height, receipts.slice(txs.length).flatMap((r) => r.events));
  const writes = view.writes();
  chain.state.apply(writes);
  return { ms, writes };
}

type Setup = { chain: LabellingChain; id: number; keys: Key[] };

function setup(items: number): Setup {
  const requester = fixedKey(1);
  const keys = Array.from({ length: ANNOTATORS }, (_, i) => numberedKey(50_000 + i));
  const chain = LabellingChain.withAccounts([requester, ...keys], 1_000_000n * ONE_TAG);
  stakeAll(chain, keys);
  const spec = taskSpec({
    classes: CLASSES,
    itemCount: items,
    answersMin: 5,
    answersMax: 5,
    rewardPerAnswer: ONE_TAG / 100n,
    bonusPerAnswer: ONE_TAG / 100n,
    feePerSeat: ONE_TAG / 100n,
    commitWindow: 1,
    revealWindow: 2, // the reveal block comes before revealEnd, whose block closes the round
    challengeWindow: 2,
    seatsPerAnnotatorMax: 2_000,
  });
  const id = openTask(chain, requester, spec);
  while (chain.task(id).rounds === 0 || chain.round(id, 0).stage !== 1) chain.block(); // start and draw seats
  return { chain, id, keys };
}

/** Each annotator's commit transaction and the reveal entries it will open (truth = item % K, 80 % accurate). */
function labelTxs(s: Setup): { commits: SignedTx[]; reveals: Array<{ who: Key; entries: LabelEntry[] }>; labels: number } {
  const commits: SignedTx[] = [];
  const reveals: Array<{ who: Key; entries: LabelEntry[] }> = [];
  let labels = 0;
  s.keys.forEach((who, w) => {
    const a = s.chain.assignment(s.id, 0, who);
    if (a === null) return;
    const answers = a.items.map((item) => ({ item, label: (item + w) % 5 === 0 ? (item + 1) % CLASSES : item % CLASSES }));
    const { body, entries } = commitBody(s.id, 0, who, answers);
    commits.push(s.chain.tx(who, body));
    reveals.push({ who, entries });
    labels += entries.length;
  });
  return { commits, reveals, labels };
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

function throughput(): Record<string, unknown> {
  const s = setup(4_000);
  const { commits, reveals, labels } = labelTxs(s);
  const commit = timedBlock(s.chain, commits);
  while (s.chain.height < s.chain.round(s.id, 0).commitEnd) s.chain.block();
  const revealTxs = reveals.map(({ who, entries }) => s.chain.tx(who, revealBody(s.id, 0, entries)));
  const reveal = timedBlock(s.chain, revealTxs);
  return {
    annotators: commits.length,
    labels,
    commitBlockMs: round1(commit.ms),
    revealBlockMs: round1(reveal.ms),
    commitLabelsPerSec: Math.round(labels / (commit.ms / 1000)),
    revealLabelsPerSec: Math.round(labels / (reveal.ms / 1000)),
    commitRevealLabelsPerSec: Math.round(labels / ((commit.ms + reveal.ms) / 1000)),
  };
}

function finalize(): Record<string, unknown> {
  const items = 10_000;
  const s = setup(items);
  const { commits, reveals, labels } = labelTxs(s);
  timedBlock(s.chain, commits);
  const round = s.chain.round(s.id, 0);
  while (s.chain.height < round.commitEnd) s.chain.block();
  timedBlock(s.chain, reveals.map(({ who, entries }) => s.chain.tx(who, revealBody(s.id, 0, entries))));
  while (s.chain.height < round.revealEnd - 1) s.chain.block();
  const tree = SparseMerkleTree.fromEntries([...s.chain.state.entries()]);
  const closing = timedBlock(s.chain, []); // height revealEnd: no transactions, only the end-block work
  const t0 = performance.now();
  const next = tree.update(closing.writes);
  const rootMs = performance.now() - t0;
  if (next.root.length !== 32) throw new Error('no root');
  const closed = s.chain.events('round_closed');
  const finalized = closed.reduce((n, e) => n + Number(e['finalized'] ?? '0'), 0);
  const low = closed.reduce((n, e) => n + Number(e['lowConfidence'] ?? '0'), 0);
  const extended = closed.reduce((n, e) => n + Number(e['extended'] ?? '0'), 0);
  if (finalized + low + extended !== items) throw new Error(`closed ${finalized + low + extended} of ${items} items`);
  return {
    items,
    answers: labels,
    finalized,
    lowConfidence: low,
    extended,
    endBlockMs: round1(closing.ms),
    changedKeys: closing.writes.length,
    stateRootUpdateMs: round1(rootMs),
  };
}

export async function run(): Promise<Record<string, unknown>> {
  return { commitReveal: throughput(), finalize10k: finalize() };
}
