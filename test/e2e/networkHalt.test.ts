/**
 * Liveness needs more than two thirds of the power: with two of four equal validators killed the
 * chain halts — no new height, never two blocks at one height — and it resumes, on the same chain,
 * when one of them returns.
 */
import t from 'tap';
import { TestNetwork, waitFor } from './fixtures/network.ts';

t.test('two of four validators down: the chain halts without forking, and resumes when one returns', async (t) => {
  const net = await TestNetwork.create(t, 4);
  await net.startAll();
  await net.waitHeight([0, 1, 2, 3], 3);

  await net.kill(2);
  await net.kill(3);
  const alive = [0, 1];
  // A height the four had nearly decided may still complete; then nothing moves.
  let halted = -1;
  await waitFor(async () => {
    const heights = await Promise.all(alive.map((i) => net.height(i)));
    const top = Math.max(...heights);
    const settled = top === halted && heights.every((h) => h === top);
    halted = top;
    return settled;
  }, 'the two survivors settle on one height');
  // Watch a while (many round timeouts): the height must not move and the survivors must agree.
  const samples: number[] = [];
  for (let i = 0; i < 16; i++) {
    await new Promise((r) => setTimeout(r, 500));
    samples.push(...(await Promise.all(alive.map((n) => net.height(n)))));
  }
  t.ok(samples.every((h) => h === halted), `no new height past ${halted} with half the power (${samples.length} samples)`);
  const atHalt = await net.distinctHashes(alive, halted);
  t.ok([...atHalt.values()].every((s) => s.size === 1), 'the survivors hold one block per height');

  // Node 2 returns (its WAL and store as the kill left them): three of four again.
  await net.start(2);
  const resumed = [0, 1, 2];
  await net.waitHeight(resumed, halted + 3);
  t.pass(`the chain resumed past ${halted}`);
  const after = await net.distinctHashes(resumed, halted + 3);
  for (const [h, set] of after) t.equal(set.size, 1, `one block at height ${h}`);
});
