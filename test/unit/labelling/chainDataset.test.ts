/**
 * ms_music_genre (../shared/data/ms_music_genre: 700 clips, 44 workers, 2,945 answers, 10 genres,
 * gold for every item) replayed through the real runtime as one task, each worker an annotator
 * account with stake, its answers as commits and reveals.
 *
 * Seats are drawn by the chain, not chosen, so the replay is: every worker stakes the same amount;
 * the task asks for answersMin = answersMax = 44 (one seat per worker per item, so a worker who
 * answered an item is seated on it unless the draw runs out of attempts), which needs a test-local
 * `answersCeiling` of 44 (the default ceiling is 32) written into the state before the first block.
 * For every seat the chain assigns, the worker commits and reveals its real answer if it labelled
 * that item, and commits nothing for it otherwise (a non-reveal, slashed by the chain). Extension
 * rounds (low-confidence items get 2 more seats) are replayed the same way. Per-worker reputation
 * is therefore per account, exactly as on a live chain.
 *
 * Majority vote (ties → lowest class) is computed over the same answers the chain received.
 * Because a task's answersMin counts revealed answers and the ~40 empty seats per item never reveal,
 * items end low-confidence rather than final: their consensus label is still set and is what is
 * scored here, but reputation (updated on final items only) does not carry between rounds.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { ONE_TAG } from '../../../lib/index.ts';
import { DEFAULT_LABELLING_PARAMS, TASK_STATUS, saveLabellingParams, type LabelEntry } from '../../../runtime/index.ts';
import { StateView } from '../../../state/index.ts';
import { numberedKey } from '../../utils/chain.ts';
import { fixedKey, type Key } from '../../utils/factories.ts';
import { LabellingChain, commitBody, openTask, revealBody, stakeAll, taskSpec } from '../../utils/labelling.ts';

const DATA = new URL('../../fixtures/ms_music_genre/', import.meta.url);
const CLASSES = 10;

type Dataset = { ids: string[]; truth: number[]; workers: string[]; answers: Array<Map<number, number>> };

/** Items sorted by id, workers in sorted id order, labels 1..10 → 0..9; answers[item]: worker → label. */
function load(): Dataset {
  const rows = (name: string): string[][] =>
    readFileSync(new URL(name, DATA), 'utf8').trim().split('\n').slice(1).map((line) => line.trim().split(','));
  const truthById = new Map(rows('truth.csv').map(([id, label]) => [id as string, Number(label) - 1]));
  const answerRows = rows('answer.csv');
  const ids = [...truthById.keys()].sort();
  const workers = [...new Set(answerRows.map((r) => r[1] as string))].sort();
  const itemIndex = new Map(ids.map((id, i) => [id, i]));
  const workerIndex = new Map(workers.map((w, i) => [w, i]));
  const answers = ids.map(() => new Map<number, number>());
  for (const [id, worker, label] of answerRows) {
    answers[itemIndex.get(id as string) as number]!.set(workerIndex.get(worker as string) as number, Number(label) - 1);
  }
  return { ids, truth: ids.map((id) => truthById.get(id) as number), workers, answers };
}

function majority(labels: readonly number[]): number {
  const votes = new Array<number>(CLASSES).fill(0);
  for (const l of labels) votes[l] = (votes[l] as number) + 1;
  let best = 0;
  for (let k = 1; k < CLASSES; k++) if ((votes[k] as number) > (votes[best] as number)) best = k;
  return best;
}

const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;

t.test('ms_music_genre through the chain: consensus beats majority vote on the same answers', async (t) => {
  const data = load();
  t.equal(data.ids.length, 700);
  t.equal(data.workers.length, 44);
  const requester = fixedKey(1);
  const workers: Key[] = data.workers.map((_, w) => numberedKey(5_000 + w));
  const chain = LabellingChain.withAccounts([requester, ...workers]);
  const view = new StateView(chain.state);
  saveLabellingParams(view, { ...DEFAULT_LABELLING_PARAMS, answersCeiling: workers.length });
  chain.state.apply(view.writes());

  // Stake covers the non-reveal slashes of ~40 empty seats per item (2 % of the task stake each).
  stakeAll(chain, workers, 500n * ONE_TAG);
  const spec = taskSpec({
    classes: CLASSES,
    itemCount: data.ids.length,
    answersMin: workers.length,
    answersMax: workers.length,
    annotatorStake: 10n * ONE_TAG,
    rewardPerAnswer: ONE_TAG / 100n,
    bonusPerAnswer: ONE_TAG / 100n,
    feePerSeat: ONE_TAG / 1000n,
    commitWindow: 2,
    revealWindow: 2,
    challengeWindow: 2,
    confidenceQ16: 45_875, // 0.7
  });
  const id = openTask(chain, requester, spec);

  let answered = 0;
  let unseated = 0;
  // Replays rounds until every item is closed: each drawn round is committed and revealed.
  for (let round = 0; chain.task(id).itemsOpen > 0 || chain.task(id).status === TASK_STATUS.funded; ) {
    const r = (() => {
      try {
        return chain.round(id, round);
      } catch {
        return null;
      }
    })();
    if (r === null || r.stage === 0) {
      chain.block();
      t.ok(chain.height < 200, 'the task makes progress');
      if (chain.height >= 200) return;
      continue;
    }
    const reveals: Array<{ who: Key; entries: LabelEntry[] }> = [];
    const commits = [];
    for (const [w, who] of workers.entries()) {
      const a = chain.assignment(id, round, who);
      if (a === null) continue;
      const labels = a.items.flatMap((item) => {
        const label = data.answers[item]!.get(w);
        return label === undefined ? [] : [{ item, label }];
      });
      if (labels.length === 0) continue;
      answered += labels.length;
      const { body, entries } = commitBody(id, round, who, labels);
      commits.push(chain.tx(who, body));
      reveals.push({ who, entries });
    }
    if (round === 0) {
      for (let i = 0; i < data.ids.length; i++) {
        const seated = new Set(chain.item(id, i).seats.map((s) => Buffer.from(s.annotator).toString('hex')));
        for (const w of data.answers[i]!.keys()) if (!seated.has(Buffer.from(workers[w]!.address).toString('hex'))) unseated++;
      }
    }
    t.ok(chain.block(commits).every((x) => x.status === 0), `round ${round}: commits accepted`);
    chain.advanceTo(r.commitEnd);
    t.ok(chain.block(reveals.map(({ who, entries }) => chain.tx(who, revealBody(id, round, entries)))).every((x) => x.status === 0), `round ${round}: reveals accepted`);
    chain.advanceTo(r.revealEnd);
    round++;
  }

  let chainRight = 0;
  let mvRight = 0;
  let mvAllRight = 0;
  let revealed = 0;
  for (let i = 0; i < data.ids.length; i++) {
    const item = chain.item(id, i);
    const labels = item.seats.filter((s) => s.answer >= 0).map((s) => s.answer);
    revealed += labels.length;
    if (item.label === data.truth[i]) chainRight++;
    if (majority(labels) === data.truth[i]) mvRight++;
    if (majority([...data.answers[i]!.values()]) === data.truth[i]) mvAllRight++;
  }
  const n = data.ids.length;
  t.comment(`answers in the dataset 2945; revealed on chain ${revealed} (committed ${answered}); answers whose worker was not seated in round 0: ${unseated}`);
  t.comment(`majority vote on the chain's answers: ${pct(mvRight / n)}; on all dataset answers: ${pct(mvAllRight / n)}`);
  t.comment(`chain consensus: ${pct(chainRight / n)}; low-confidence items ${chain.task(id).itemsLowConfidence}; rounds ${chain.task(id).rounds}`);
  t.equal(revealed, answered, 'every committed answer was revealed and stored');
  t.ok(revealed > 0.9 * 2945, 'the replay carries over 90 % of the dataset answers');
  t.ok(chainRight > mvRight, `chain ${chainRight}/${n} beats majority vote ${mvRight}/${n} on the same answers`);
});
