/**
 * The seeded simulation of BftEngine clusters (test/sim/cluster.ts): hundreds of random scenarios,
 * each with its invariants checked after every event. A failure prints the seed; `SIMSEED=n`
 * replays one, `SIMSEEDS=n` runs seeds 1..n.
 */
import t from 'tap';
import { SimCluster, scenario } from './cluster.ts';
import { seedsFromEnv } from './prng.ts';

t.test('BFT engines under loss, partitions, crashes and Byzantine validators', async (t) => {
  const totals = { events: 0, crashes: 0, replays: 0, evidence: 0, byzantine: 0, rejected: 0, simMs: 0 };
  let failures = 0;
  const seeds = seedsFromEnv(200);
  for (const seed of seeds) {
    const cfg = scenario(seed);
    const r = await new SimCluster(cfg).run();
    totals.events += r.events;
    totals.crashes += r.crashes;
    totals.replays += r.replays;
    totals.evidence += r.evidence;
    totals.rejected += r.rejectedByzantine;
    totals.simMs += r.simMs;
    if (cfg.behaviours.some((b) => b !== 'honest')) totals.byzantine++;
    if (!r.ok) {
      failures++;
      t.fail(`seed ${seed}: ${r.failure} (replay: SIMSEED=${seed} npx tap test/sim/engine.test.ts)`, { cfg, heights: r.heights });
    }
  }
  t.equal(failures, 0, `${seeds.length} seeds: ${JSON.stringify(totals)}`);
  if (seeds.length >= 50) {
    t.ok(totals.replays > 0, 'some nodes restarted from their WAL');
    t.ok(totals.evidence > 0, 'equivocation was detected');
    t.ok(totals.byzantine > 0, 'some scenarios had Byzantine validators');
  }
});
