/**
 * Simulated annotator populations through the real runtime (LabellingChain: applyBlockTxs with the
 * per-block labelling work). One task of 300 items, K = 4, five seats per item, gold on 10 % of the
 * items (revealed by the requester after the commit window). A test-local `itemsPerBlockMax` of 50
 * closes the round in six per-block chunks, so later chunks see the gold counts and confusion counts
 * that earlier chunks stored: gold-based quality (and with it the bonus) kicks in within one task.
 *
 * Populations (all draws from one seeded PRNG, never Math.random):
 *   honest ×8 (accuracy 0.70 … 0.95), noisy ×2 (0.5), constant-answer bots ×2, random clickers ×2,
 *   non-revealers ×2 (commit, never reveal), a copier (tries to reveal the honest majority it saw,
 *   which the commit forbids, then reveals its committed guess), and a colluding ring of three with
 *   ~30 % of the stake that answers one fixed wrong label on a hidden 10 % of the items and the truth
 *   elsewhere.
 */
import t from 'tap';
import { ONE_TAG, bytesToHex } from '../../../lib/index.ts';
import { DEFAULT_LABELLING_PARAMS, loadAnnotator, saveLabellingParams, type LabelEntry } from '../../../runtime/index.ts';
import { StateView, loadAccount } from '../../../state/index.ts';
import { numberedKey } from '../../utils/chain.ts';
import { fixedKey, type Key } from '../../utils/factories.ts';
import { LabellingChain, commitBody, goldTree, openTask, revealBody, taskSpec } from '../../utils/labelling.ts';

const K = 4;
const ITEMS = 300;
const SEED = 20_260_101;
const GENESIS_BALANCE = 1_000_000n * ONE_TAG;
const STAKE = 1_000n * ONE_TAG;

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

type Kind = 'honest' | 'noisy' | 'bot' | 'clicker' | 'nonRevealer' | 'copier' | 'ring';
type Member = { key: Key; kind: Kind; accuracy: number; stake: bigint };

function majority(labels: readonly number[]): number {
  const votes = new Array<number>(K).fill(0);
  for (const l of labels) votes[l] = (votes[l] as number) + 1;
  let best = 0;
  for (let k = 1; k < K; k++) if ((votes[k] as number) > (votes[best] as number)) best = k;
  return best;
}

t.test('annotator populations: who gains, who loses, and consensus stays above majority vote', async (t) => {
  const random = prng(SEED);
  const pick = (n: number): number => Math.floor(random() * n);
  const wrong = (truth: number): number => (truth + 1 + pick(K - 1)) % K;

  const members: Member[] = [];
  let n = 0;
  const add = (kind: Kind, count: number, accuracy: (i: number) => number, stake = STAKE): void => {
    for (let i = 0; i < count; i++) members.push({ key: numberedKey(7_000 + n++), kind, accuracy: accuracy(i), stake });
  };
  add('honest', 8, (i) => 0.7 + (0.25 * i) / 7);
  add('noisy', 2, () => 0.5);
  add('bot', 2, () => 0);
  add('clicker', 2, () => 0);
  add('nonRevealer', 2, () => 0);
  add('copier', 1, () => 0);
  // The ring holds 30 % of all stake: ring / (ring + others) = 0.3.
  const others = BigInt(members.length) * STAKE;
  add('ring', 3, () => 1, (others * 3n) / 7n / 3n);
  const ring = members.filter((m) => m.kind === 'ring');
  const totalStake = members.reduce((s, m) => s + m.stake, 0n);
  t.ok(Math.abs(Number((ring.reduce((s, m) => s + m.stake, 0n) * 1000n) / totalStake) - 300) <= 2, 'the ring holds ~30 % of the stake');

  const truth = Array.from({ length: ITEMS }, () => pick(K));
  const goldItems = new Set<number>();
  while (goldItems.size < ITEMS / 10) goldItems.add(pick(ITEMS));
  const targeted = new Set<number>();
  while (targeted.size < ITEMS / 10) targeted.add(pick(ITEMS));
  const ringLabel = (item: number): number => ((truth[item] as number) + 1) % K; // one fixed wrong label per item
  const botLabel = 0;

  const answer = (m: Member, item: number): number => {
    const truthLabel = truth[item] as number;
    switch (m.kind) {
      case 'honest':
      case 'noisy':
        return random() < m.accuracy ? truthLabel : wrong(truthLabel);
      case 'bot':
        return botLabel;
      case 'ring':
        return targeted.has(item) ? ringLabel(item) : truthLabel;
      default:
        return pick(K); // clickers, non-revealers' commits, the copier's guess
    }
  };

  const requester = fixedKey(1);
  const chain = LabellingChain.withAccounts([requester, ...members.map((m) => m.key)], GENESIS_BALANCE);
  const params = { ...DEFAULT_LABELLING_PARAMS, itemsPerBlockMax: 50 };
  const view = new StateView(chain.state);
  saveLabellingParams(view, params);
  chain.state.apply(view.writes());
  t.ok(chain.block(members.map((m) => chain.tx(m.key, { kind: 'annotatorStake', amount: m.stake }))).every((r) => r.status === 0), 'everyone staked');

  const gold = goldTree([...goldItems].sort((a, b) => a - b).map((item) => ({ item, label: truth[item] as number })));
  const spec = taskSpec({
    classes: K,
    itemCount: ITEMS,
    answersMin: 5,
    answersMax: 5,
    rewardPerAnswer: ONE_TAG,
    bonusPerAnswer: ONE_TAG,
    annotatorStake: 100n * ONE_TAG,
    feePerSeat: ONE_TAG / 100n,
    commitWindow: 2,
    revealWindow: 3,
    challengeWindow: 2,
    confidenceQ16: 45_875, // 0.7
    goldRoot: gold.root,
  });
  const id = openTask(chain, requester, spec);
  chain.block(); // start and draw
  const round = chain.round(id, 0);
  t.equal(round.stage, 1, 'seats drawn');

  // Commit: everyone with seats commits an answer for every seat.
  const committed = new Map<Member, LabelEntry[]>();
  const commits = [];
  for (const m of members) {
    const a = chain.assignment(id, 0, m.key);
    if (a === null) continue;
    const { body, entries } = commitBody(id, 0, m.key, a.items.map((item) => ({ item, label: answer(m, item) })));
    commits.push(chain.tx(m.key, body));
    committed.set(m, entries);
  }
  t.ok(chain.block(commits).every((r) => r.status === 0), 'commits accepted');
  chain.advanceTo(round.commitEnd);

  // First reveal block: gold opens; everyone but the non-revealers and the copier reveals.
  const first = [chain.tx(requester, { kind: 'goldReveal', task: id, goldCount: gold.count, entries: gold.reveal })];
  for (const [m, entries] of committed) if (m.kind !== 'nonRevealer' && m.kind !== 'copier') first.push(chain.tx(m.key, revealBody(id, 0, entries)));
  t.ok(chain.block(first).every((r) => r.status === 0), 'gold and reveals accepted');

  // The copier now sees the revealed answers and tries to reveal their majority: the commit binds it.
  const copier = members.find((m) => m.kind === 'copier') as Member;
  const copierEntries = committed.get(copier);
  if (copierEntries !== undefined) {
    const copied = copierEntries.map((e) => {
      const seen = chain.item(id, e.item).seats.filter((s) => s.answer >= 0).map((s) => s.answer);
      return { ...e, label: majority(seen) };
    });
    t.ok(copied.some((e, i) => e.label !== copierEntries[i]!.label), 'the copied labels differ from the committed guess');
    const [copy] = chain.block([chain.tx(copier.key, revealBody(id, 0, copied))]);
    t.equal(copy?.code, 'LABEL_REVEAL_MISMATCH', 'a reveal whose labels differ from the commit fails');
    const [own] = chain.block([chain.tx(copier.key, revealBody(id, 0, copierEntries))]);
    t.equal(own?.status, 0, 'the copier can only reveal the guess it committed');
  }
  chain.advanceTo(round.revealEnd + ITEMS / params.itemsPerBlockMax);
  t.equal(chain.task(id).itemsOpen, 0, 'every item closed');

  // Accuracy on non-gold items: chain consensus vs majority vote over the same revealed answers.
  let chainRight = 0;
  let mvRight = 0;
  let scoredItems = 0;
  let targetedFlipped = 0;
  let targetedFlippedMv = 0;
  let targetedNonGold = 0;
  let ringTargetSeats = 0;
  let ringTargetAgree = 0;
  const ringIds = new Set(ring.map((m) => bytesToHex(m.key.address)));
  for (let i = 0; i < ITEMS; i++) {
    const item = chain.item(id, i);
    for (const s of item.seats) {
      if (targeted.has(i) && ringIds.has(bytesToHex(s.annotator)) && s.answer >= 0) {
        ringTargetSeats++;
        if (s.answer === item.label) ringTargetAgree++;
      }
    }
    if (goldItems.has(i)) {
      t.equal(item.label, truth[i], `gold item ${i} takes its gold label`);
      continue;
    }
    scoredItems++;
    const labels = item.seats.filter((s) => s.answer >= 0).map((s) => s.answer);
    if (item.label === truth[i]) chainRight++;
    if (majority(labels) === truth[i]) mvRight++;
    if (targeted.has(i)) {
      targetedNonGold++;
      if (item.label === ringLabel(i)) targetedFlipped++;
      if (majority(labels) === ringLabel(i)) targetedFlippedMv++;
    }
  }
  const pct = (a: number, b: number): string => `${((100 * a) / b).toFixed(1)} %`;
  t.comment(`non-gold items ${scoredItems}: chain ${pct(chainRight, scoredItems)}, majority vote ${pct(mvRight, scoredItems)}`);
  t.comment(`ring: targeted non-gold items ${targetedNonGold}, flipped to the ring's label by the chain ${targetedFlipped}, by majority vote ${targetedFlippedMv}; ring seats on targeted items agreeing with consensus ${ringTargetAgree}/${ringTargetSeats}`);
  t.ok(chainRight >= mvRight, `chain accuracy ${chainRight} ≥ majority vote ${mvRight}`);

  // Per annotator: net gain, slashes, earnings against base rewards.
  const report: string[] = [];
  const stats = members.map((m) => {
    const a = loadAnnotator(chain.state, m.key.address);
    if (a === null) throw new Error('annotator missing');
    const staked = a.stake + a.unbonding.reduce((s, u) => s + u.amount, 0n);
    const gain = loadAccount(chain.state, m.key.address).balance + staked - GENESIS_BALANCE;
    let answers = 0;
    let seats = 0;
    for (let i = 0; i < ITEMS; i++) {
      for (const s of chain.item(id, i).seats) {
        if (bytesToHex(s.annotator) !== bytesToHex(m.key.address)) continue;
        seats++;
        if (s.answer >= 0) answers++;
      }
    }
    const base = spec.rewardPerAnswer * BigInt(answers);
    const bonus = a.earned - base;
    report.push(`${m.kind.padEnd(11)} acc ${m.accuracy.toFixed(2)} seats ${seats} gold ${a.goldCorrect}/${a.goldSeen} gain ${(Number(gain) / 1e18).toFixed(2)} slashed ${(Number(a.slashedTotal) / 1e18).toFixed(2)} bonus ${(Number(bonus) / 1e18).toFixed(2)}`);
    return { m, a, gain, answers, seats, base, bonus };
  });
  for (const line of report) t.comment(line);

  for (const s of stats) {
    const who = `${s.m.kind} (acc ${s.m.accuracy.toFixed(2)})`;
    t.ok(s.seats > 0, `${who} held seats`);
    switch (s.m.kind) {
      case 'honest':
        t.ok(s.gain > 0n, `${who} gains: ${s.gain}`);
        t.ok(s.bonus > 0n, `${who} earns a quality bonus`);
        break;
      case 'bot':
      case 'nonRevealer':
        t.ok(s.a.slashedTotal > 0n, `${who} loses stake`);
        // The issue: "chance-corrected … so a constant-answer bot earns no bonus". Fails today: see
        // quality() in runtime/labelling/annotators.ts (gold accuracy is corrected by 1/K only).
        t.ok(s.a.earned <= s.base, `${who} earns no bonus beyond base rewards (${s.a.earned} ≤ ${s.base})`);
        break;
      case 'clicker':
        t.ok(s.a.slashedTotal > 0n, `${who} loses stake`);
        // A random clicker can be lucky on its few gold answers (quality is clamped at zero, so luck
        // only ever pays): allow 5 % of the largest possible bonus, far below any honest annotator.
        t.ok(s.bonus * 20n <= spec.bonusPerAnswer * BigInt(s.answers), `${who} earns almost no bonus (${s.bonus})`);
        break;
      default:
        break;
    }
  }
  const honestBonusPerAnswer = Math.min(...stats.filter((s) => s.m.kind === 'honest').map((s) => Number(s.bonus) / s.answers));
  for (const s of stats.filter((x) => x.m.kind === 'ring')) {
    t.ok(s.a.slashedTotal > 0n, 'a ring member is slashed for its targeted answers');
  }
  // The ring's targeted items are reported, not asserted: with these populations the aggregation
  // trusts the ring (truthful on 90 % of items, so high gold accuracy and reputation) and follows
  // it on targeted items more often than majority vote does. A protocol finding, not a code bug.
  t.ok(honestBonusPerAnswer > 0, 'every honest annotator earns some bonus per answer');
});
