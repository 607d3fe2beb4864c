import t from 'tap';
import { DEFAULT_PEER_SCORE_OPTS, PeerScoreTable, type PeerScoreOpts } from '../../../node/index.ts';
import { ManualClock } from './harness.ts';

const opts = (patch: Partial<PeerScoreOpts> = {}): PeerScoreOpts => ({ ...DEFAULT_PEER_SCORE_OPTS, recoveryPerSecond: 0, ...patch });

t.test('penalties add up to a ban at the threshold; the ban ends on time and the peer starts again', async (t) => {
  const clock = new ManualClock();
  const table = new PeerScoreTable(opts({ banThreshold: -100, banMs: 1000 }), { clock });
  t.equal(table.score('p'), 0, 'an unknown peer scores 0');
  const first = table.penalize('p', 'invalidMessage');
  t.same(first, { score: -20, banned: false, newlyBanned: false });
  for (let i = 0; i < 3; i++) table.penalize('p', 'invalidMessage');
  t.notOk(table.isBanned('p'), '-80 is above the threshold');
  t.same(table.penalize('p', 'invalidMessage'), { score: -100, banned: true, newlyBanned: true }, 'reaching it bans');
  t.same(table.penalize('p', 'invalidMessage'), { score: -120, banned: true, newlyBanned: false }, 'only the first call reports a new ban');
  t.equal(table.bannedUntilMs('p'), clock.nowMs() + 1000n);
  t.equal(table.bans, 1);
  clock.advance(999);
  t.ok(table.isBanned('p'), 'still banned 1 ms before the end');
  clock.advance(1);
  t.notOk(table.isBanned('p'), 'the ban ends at banMs');
  t.equal(table.score('p'), 0, 'and the peer starts again from 0');
  t.equal(table.size, 0);
});

t.test('scores recover towards 0 over time but never above', async (t) => {
  const clock = new ManualClock();
  const table = new PeerScoreTable(opts({ recoveryPerSecond: 2 }), { clock });
  table.penalize('p', 'badResponse');
  t.equal(table.score('p'), -50);
  clock.advance(10_000);
  t.equal(table.score('p'), -30, '20 points back after 10 s');
  clock.advance(60_000);
  t.equal(table.score('p'), 0, 'capped at 0');
  t.same(table.penalize('p', 'timeout').score, -10, 'a new penalty starts from the recovered score');
});

t.test('a banned peer does not recover during its ban', async (t) => {
  const clock = new ManualClock();
  const table = new PeerScoreTable(opts({ recoveryPerSecond: 100, banMs: 10_000 }), { clock });
  table.penalize('p', 'invalidBlock');
  clock.advance(5_000);
  t.ok(table.isBanned('p'));
  t.equal(table.score('p'), -100);
});

t.test('the table tracks at most peersMax peers and never forgets a ban to make room while others can go', async (t) => {
  const clock = new ManualClock();
  const table = new PeerScoreTable(opts({ peersMax: 3, banMs: 10_000 }), { clock });
  table.penalize('banned', 'invalidBlock');
  table.penalize('mild', 'timeout');
  table.penalize('worse', 'badResponse');
  table.penalize('new', 'invalidMessage');
  t.equal(table.size, 3, 'bounded');
  t.equal(table.evicted, 1);
  t.equal(table.score('mild'), 0, 'the best-scored unbanned peer was forgotten');
  t.ok(table.isBanned('banned'), 'the ban is kept');
  t.equal(table.score('worse'), -50);

  // Every tracked peer banned: the ban that ends first goes.
  const full = new PeerScoreTable(opts({ peersMax: 2, banMs: 10_000 }), { clock });
  full.penalize('first', 'invalidBlock');
  clock.advance(1);
  full.penalize('second', 'invalidBlock');
  full.penalize('third', 'invalidBlock');
  t.notOk(full.isBanned('first'), 'the earliest-ending ban was forgotten');
  t.ok(full.isBanned('second') && full.isBanned('third'));
  t.same(full.banned().map((b) => b.peer).sort(), ['second', 'third']);
});
