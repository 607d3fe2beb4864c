/**
 * The labelling flow with real processes, all through the CLI: a devnet node (50 ms blocks, empty
 * blocks too, so that windows measured in blocks pass quickly); the dev key creates a two-item task
 * with one gold answer, adds the items and funds it; a second key stakes as the annotator, is drawn
 * for both seats, commits and reveals; the dev key reveals the gold; the task ends with both items
 * final. Waits poll the node with bounded retries; nothing asserts on time.
 */
import t from 'tap';
import { spawn, execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { TaggerClient, type TaskJson } from '../../sdk/client.ts';
import { stopBeforeDirRemoval } from '../utils/cleanup.ts';

const MAIN = fileURLToPath(new URL('../../node/main.ts', import.meta.url));
const run = promisify(execFile);
const PASSWORD = { TAGGER_PASSWORD: 'devnet' };
/**
 * Windows in blocks: at about 50 ms a block, about 15 s for the CLI calls to land inside each — on a
 * loaded 2-core machine a CLI process takes seconds to start, and 150 blocks proved too short.
 */
const WINDOW_BLOCKS = 300;

type Started = { url: string; stop: () => Promise<number | null> };

async function startNode(home: string): Promise<Started> {
  // Written before the first start, so the devnet home keeps it: blocks every 50 ms, empty ones too.
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'config.json'), JSON.stringify({ consensus: { blockIntervalMs: 50, emptyBlockIntervalMs: 0 } }));
  const child = spawn(process.execPath, [MAIN, 'start', '--no-bridge', '--home', home, '--rpc-port', '0', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const m = /RPC: (http:\/\/[^\s]+)/.exec(err);
      if (m !== null) resolve(m[1] as string);
    });
    void exited.then((code) => reject(new Error(`node exited (${code}) before serving RPC:\n${err}`)));
  });
  return {
    url,
    stop: async () => {
      child.kill('SIGKILL');
      return exited;
    },
  };
}

/** Polls `read` until `done` holds for its value, at most `tries` times. */
async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, tries = 200, pauseMs = 100): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < tries; i++) {
    last = await read();
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  throw new Error(`gave up waiting for ${what}; last: ${JSON.stringify(last)}`);
}

t.test('labelling through the CLI: create, add items, fund, stake, commit, reveal, final', async (t) => {
  const cleanup = stopBeforeDirRemoval(t);
  const dir = t.testdir();
  const home = join(dir, 'home');
  const command = async <T>(args: string[]): Promise<T> => {
    const { stdout } = await run(process.execPath, [MAIN, ...args, '--home', home], { env: { ...process.env, ...PASSWORD } });
    return JSON.parse(stdout) as T;
  };
  // The annotator's key is made while the node creates its devnet home next to it.
  const [node, ann] = await Promise.all([startNode(home), command<{ address: string }>(['keys', 'add', 'ann'])]);
  cleanup(() => node.stop());
  const client = new TaggerClient({ url: node.url });
  type Out = Record<string, unknown>;
  const cli = <T = Out>(...args: string[]): Promise<T> => command<T>([...args, '--node', node.url]);

  const spec = {
    schema: 'single',
    classes: 2,
    itemCount: 2,
    answersMin: 1,
    answersMax: 1,
    rewardPerAnswer: '1',
    bonusPerAnswer: '0.5',
    annotatorStake: '10',
    commitWindow: WINDOW_BLOCKS,
    revealWindow: WINDOW_BLOCKS,
    challengeWindow: 3,
    confidence: 0.5,
    feePerSeat: '0.01',
    seatsPerAnnotatorMax: 2,
    metadata: 'e2e',
    gold: 'gold.json',
  };
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
  writeFileSync(join(dir, 'gold.json'), JSON.stringify([{ item: 1, label: 0 }]));
  writeFileSync(join(dir, 'items.jsonl'), [`{"contentHash":"0x${'aa'.repeat(32)}","uri":"ipfs://a"}`, `{"contentHash":"0x${'bb'.repeat(32)}","uri":"ipfs://b"}`, ''].join('\n'));

  const funded = await cli<{ receipt: { status: string } }>('tx', 'transfer', '--from', 'dev', '--to', ann.address, '--amount', '100');
  // The annotator stakes while the requester sets up the task (each account sends its own in order):
  // it must be staked before the task starts and its seats are drawn.
  const [[created, added], staked] = await Promise.all([
    (async () => {
      const c = await cli<{ task: number; escrowRequired: string; goldSecretsFile: string }>('task', 'create', '--from', 'dev', '--spec', join(dir, 'spec.json'));
      return [c, await cli('task', 'add-items', '--from', 'dev', '--task', String(c.task), '--file', join(dir, 'items.jsonl'))] as const;
    })(),
    cli('annotator', 'stake', '--from', 'ann', '--amount', '20'),
  ]);
  t.equal(funded.receipt.status, 'ok', 'the annotator holds TAG for its stake');
  t.equal(staked.stake, (20n * 10n ** 18n).toString(), 'staked 20 TAG');
  const task = String(created.task);
  t.match(created, { task: 1, escrowRequired: (2n * 151n * 10n ** 16n).toString(), goldSecretsFile: /labelling\/gold-[0-9a-f]{16}\.json$/ });
  t.match(added, { added: 2, itemsAdded: 2, itemCount: 2 });
  const fundedTask = await cli('task', 'fund', '--from', 'dev', '--task', task);
  t.match(fundedTask, { status: /^(funded|labelling)$/, escrow: created.escrowRequired }, 'the escrow is held (the task may have started already)');

  await until('round 0 to be drawn', () => client.task(1), (x: TaskJson) => x.status === 'labelling');
  const assignments = await until(
    'the seats',
    () => cli<{ rounds: unknown[] }>('annotator', 'assignments', '--task', task, '--from', 'ann'),
    (a) => a.rounds.length > 0,
    20,
  );
  t.match(assignments.rounds[0], { round: 0, phase: 'commit', items: [0, 1], committed: false });

  writeFileSync(join(dir, 'labels.json'), JSON.stringify([{ item: 0, label: 1 }, { item: 1, label: 0 }]));
  const committed = await cli('labels', 'commit', '--from', 'ann', '--task', task, '--round', '0', '--file', join(dir, 'labels.json'));
  t.match(committed, { committed: 2, commitRoot: /^0x[0-9a-f]{64}$/, saltsFile: /labelling\/salts-task1-round0-tag1/ });

  await until('the reveal window', () => client.round(1, 0), (r) => r.phase === 'reveal');
  const [gold, revealed] = await Promise.all([
    cli('gold', 'reveal', '--from', 'dev', '--task', task, '--file', created.goldSecretsFile),
    cli('labels', 'reveal', '--from', 'ann', '--task', task, '--round', '0'),
  ]);
  t.match(gold, { revealed: 1, skipped: 0 });
  t.match(revealed, { revealed: 2 });

  await until('finalization', () => client.task(1), (x) => x.progress.itemsOpen === 0, 300);
  const [shown, items, annotator] = await Promise.all([
    cli('task', 'show', '--task', task),
    cli<{ items: unknown[] }>('task', 'items', '--task', task),
    cli('annotator', 'show', '--from', 'ann'),
  ]);
  t.match(shown, { status: /^(finalizing|done)$/, progress: { itemsFinal: 2, itemsLowConfidence: 0 } });
  t.match(items.items, [
    { index: 0, status: 'final', label: 1, gold: null },
    { index: 1, status: 'final', label: 0, gold: 0, confidence: '1.0000' },
  ]);
  t.match(annotator, { scored: 2, goldSeen: 1, goldCorrect: 1, earned: (2n * 10n ** 18n).toString(), slashed: '0' });
});

t.test('labelling commands fail clearly', async (t) => {
  const home = t.testdir();
  const cli = (...args: string[]): Promise<unknown> => run(process.execPath, [MAIN, ...args, '--home', home, '--node', 'http://127.0.0.1:1'], { env: { ...process.env, ...PASSWORD } });
  writeFileSync(join(home, 'spec.json'), JSON.stringify({ schema: 'single', clases: 2 }));
  await Promise.all([
    t.rejects(cli('task', 'show'), /CLI_USAGE.*--task/s, 'a missing flag'),
    t.rejects(cli('labels', 'commit', '--from', 'ann', '--task', 'x', '--round', '0'), /CLI_USAGE/, 'a malformed id'),
    t.rejects(cli('task', 'create', '--from', 'dev', '--spec', join(home, 'spec.json')), /CLI_BAD_FILE.*unknown field\(s\) clases/s, 'a misspelt field'),
    t.rejects(cli('task', 'show', '--task', '1'), /CLIENT_UNREACHABLE/, 'no node'),
  ]);
});
