/**
 * Staking with real processes, all through the CLI: a devnet node (blocks as soon as transactions
 * wait, empty blocks only once a minute, so the one-validator set never reaches an epoch boundary
 * and stays as it is); the dev key funds an operator key, which creates a validator with a fresh
 * consensus key; the dev key delegates to it and undelegates part. Every `show` is checked against
 * what the transactions did. Kept to few process starts (each costs seconds under load); every
 * staking command is covered in-process by test/unit/stakingCli.test.ts. Nothing asserts on time.
 */
import t from 'tap';
import { spawn, execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ONE_TAG, bytesToHex, publicKeyFromSecret, randomSecretKey } from '../../lib/index.ts';
import { stopBeforeDirRemoval } from '../utils/cleanup.ts';

const MAIN = fileURLToPath(new URL('../../node/main.ts', import.meta.url));
const run = promisify(execFile);
const PASSWORD = { TAGGER_PASSWORD: 'devnet' };
const tag = (n: bigint): string => (n * ONE_TAG).toString();

async function startNode(home: string): Promise<{ url: string; stop: () => Promise<number | null> }> {
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'config.json'), JSON.stringify({ consensus: { blockIntervalMs: 100, emptyBlockIntervalMs: 60_000 } }));
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

t.test('staking through the CLI: create a validator, delegate, undelegate, show', async (t) => {
  const cleanup = stopBeforeDirRemoval(t);
  const dir = t.testdir();
  const home = join(dir, 'home');
  const command = async <T>(args: string[]): Promise<T> => {
    const { stdout } = await run(process.execPath, [MAIN, ...args, '--home', home], { env: { ...process.env, ...PASSWORD } });
    return JSON.parse(stdout) as T;
  };
  const [node, op] = await Promise.all([startNode(home), command<{ address: string }>(['keys', 'add', 'op'])]);
  cleanup(() => node.stop());
  type Out = Record<string, unknown>;
  const cli = <T = Out>(...args: string[]): Promise<T> => command<T>([...args, '--node', node.url]);
  const fails = async (...args: string[]): Promise<string> => {
    try {
      await cli(...args);
      return 'succeeded';
    } catch (e: unknown) {
      const stderr = (e as { stderr?: string }).stderr ?? '';
      return (JSON.parse(stderr.trim().split('\n').pop() ?? '{}') as { error?: { code?: string } }).error?.code ?? stderr;
    }
  };
  const consensusKey = bytesToHex(publicKeyFromSecret(randomSecretKey()));

  const funded = await cli<{ receipt: { status: string } }>('tx', 'transfer', '--from', 'dev', '--to', op.address, '--amount', '500');
  t.equal(funded.receipt.status, 'ok', 'the operator holds TAG for its self-stake');

  const created = await cli('validator', 'create', '--from', 'op', '--self-stake', '150', '--moniker', 'op-node', '--commission-bps', '500', '--consensus-key', consensusKey);
  t.match(created, { operator: op.address, consensusAddress: /^tag1/, selfStake: tag(150n), hash: /^0x[0-9a-f]{64}$/, height: Number });

  const delegated = await cli<{ delegator: string }>('stake', 'delegate', '--from', 'dev', '--validator', op.address, '--amount', '10');
  t.match(delegated, { delegator: /^tag1/, validator: op.address, amount: tag(10n), rewardsPaid: '0' });
  const dev = { address: delegated.delegator };

  const undelegated = await cli<{ completionHeight: number; height: number }>('stake', 'undelegate', '--from', 'dev', '--validator', op.address, '--amount', '4');
  t.equal(undelegated.completionHeight, undelegated.height + 100_000, 'released after the default unbonding period');

  const shown = await cli('validator', 'show', '--from', 'op');
  t.match(shown, {
    operator: op.address,
    consensusAddress: created['consensusAddress'],
    consensusKey: `0x${consensusKey}`,
    moniker: 'op-node',
    commissionBps: 500,
    commissionChangedEpoch: null,
    status: 'unbonded',
    power: '0',
    tokens: tag(156n),
    selfStake: tag(150n),
    jailed: false,
    index: 1,
  });


  const stake = await cli('stake', 'show', '--from', 'dev');
  t.match(stake, {
    address: dev.address,
    bonded: tag(6n),
    delegations: [{ validator: op.address, tokens: tag(6n) }],
    unbondings: [{ validator: op.address, entries: [{ initial: tag(4n), balance: tag(4n), completionHeight: undelegated.completionHeight }] }],
  });

  t.equal(await fails('stake', 'delegate', '--from', 'dev', '--validator', dev.address, '--amount', '1'), 'VALIDATOR_NOT_FOUND', 'a failed receipt is an error with its code');
});
