/** `tagger genesis init|add-account|add-validator|validate` as a user runs them. */
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { addressToString, bytesToHex } from '../../lib/index.ts';
import { fixedKey } from '../utils/factories.ts';

const MAIN = fileURLToPath(new URL('../../node/main.ts', import.meta.url));
const run = promisify(execFile);

async function cli(args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [MAIN, ...args]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

async function cliError(args: string[]): Promise<string> {
  try {
    await run(process.execPath, [MAIN, ...args]);
  } catch (e: unknown) {
    const stderr = (e as { stderr: string }).stderr;
    return (JSON.parse(stderr.trim().split('\n').pop() as string) as { error: { code: string } }).error.code;
  }
  return 'succeeded';
}

t.test('build a genesis step by step and validate it', async (t) => {
  const file = `${t.testdir()}/genesis.json`;
  const validator = fixedKey(1);
  const alice = addressToString(fixedKey(2).address);
  await cli(['genesis', 'init', '--chain-id', 'my-chain', '--file', file, '--genesis-time', '2026-01-01T00:00:00.000Z']);
  t.equal(await cliError(['genesis', 'validate', '--file', file]), 'GENESIS_NO_VALIDATORS', 'a genesis needs a validator');
  await cli(['genesis', 'add-validator', 'val-0', bytesToHex(validator.publicKey), '1000', '--file', file]);
  await cli(['genesis', 'add-account', alice, '250.5', '--file', file]);
  t.equal(await cliError(['genesis', 'add-account', alice, '1', '--file', file]), 'GENESIS_DUPLICATE_ACCOUNT');
  t.equal(await cliError(['genesis', 'add-validator', 'val-1', '00'.repeat(32), '1', '--file', file]), 'GENESIS_BAD_KEY');
  t.equal(await cliError(['genesis', 'add-validator', 'val-1', bytesToHex(fixedKey(3).publicKey), '0', '--file', file]), 'GENESIS_ZERO_STAKE');
  const result = await cli(['genesis', 'validate', '--file', file]);
  t.same(result, { valid: true, chainId: 'my-chain', validators: 1, accounts: 1, supply: (1250_500n * 10n ** 15n).toString() });
});
