/**
 * The staking CLI commands (node/stakingCommands.ts) in-process, against the real RPC server on
 * 127.0.0.1 over a chain driven by the runtime (test/unit/staking/harness.ts): a submitted
 * transaction is applied in a block at once and served back with its receipt. Every command the
 * CLI has is run — create (consensus key from the home's node key), delegate, claim, undelegate,
 * edit, unjail (refused while jailed, accepted after), show, list, set, stake show — and what it
 * prints is compared with the chain's state; then usage errors, which send nothing.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ChainError, addressToString, bytesToHex, hexToBytes } from '../../lib/index.ts';
import { decodeSignedTx, loadDelegation, loadUnbonding, type Receipt } from '../../runtime/index.ts';
import { loadAccount } from '../../state/index.ts';
import { buildServer, type TxView } from '../../rpc/index.ts';
import { cmdStake, cmdValidator, type StakingFlags } from '../../node/stakingCommands.ts';
import type { CliContext } from '../../node/labellingCommands.ts';
import { homePaths, saveNodeKey } from '../../node/home.ts';
import { numberedKey } from '../utils/chain.ts';
import { TEST_CHAIN_ID, type Key } from '../utils/factories.ts';
import { createFake } from './rpc/fakeDeps.ts';
import { StakingChain, TAG } from './staking/harness.ts';

const V0 = numberedKey(9300);
const alice = numberedKey(9310);
const aliceNode = numberedKey(9311);
const bob = numberedKey(9312);
const keys: Record<string, Key> = { alice, bob };

const MAIN = fileURLToPath(new URL('../../node/main.ts', import.meta.url));
const run = promisify(execFile);

class UsageError extends ChainError<{ code: 'CLI_USAGE'; reason: string }> {}

t.test('validator and stake commands against a node', async (t) => {
  const chain = new StakingChain({ validators: [V0], accounts: [alice, bob] });
  chain.addConsensusKey(aliceNode);
  const txs = new Map<string, TxView>();
  const { deps } = createFake({
    status: () => ({ chainId: TEST_CHAIN_ID, nodeId: 'n', height: chain.height, blockHash: new Uint8Array(32), stateRoot: new Uint8Array(32), timeMs: chain.timeMs, syncing: false, mempoolTxs: 0, mempoolBytes: 0, validatorAddress: null }),
    account: (address) => {
      const account = loadAccount(chain.state, address);
      return { ...account, pendingNonce: account.nonce };
    },
    // The "mempool" commits at once: one block per transaction.
    submitTx: (bytes) => {
      const signed = decodeSignedTx(bytes);
      const receipt = chain.block([signed])[0] as Receipt;
      txs.set(bytesToHex(signed.hash), { tx: signed, height: chain.height, index: 0, blockHash: new Uint8Array(32), receipt });
      return { hash: signed.hash, duplicate: false };
    },
    tx: async (hash) => txs.get(bytesToHex(hash)),
    isPending: () => false,
    state: () => ({ height: chain.height, reader: chain.state }),
  });
  const app = await buildServer(deps, { logger: false });
  t.teardown(() => app.close());
  const url = await app.listen({ host: '127.0.0.1', port: 0 });

  const home = t.testdir();
  await saveNodeKey(homePaths(home).nodeKey, aliceNode.secretKey);
  const printed: unknown[] = [];
  const ctx: CliContext = {
    home,
    nodeUrl: async () => url,
    unlock: async (name) => (keys[name] as Key).secretKey,
    keyInfo: async (name) => ({ name, address: addressToString((keys[name] as Key).address), publicKey: bytesToHex((keys[name] as Key).publicKey) }),
    print: (v) => void printed.push(v),
    usage: (reason) => new UsageError({ code: 'CLI_USAGE', reason }, reason),
  };
  type Out = Record<string, unknown>;
  const validator = async (args: string[], flags: StakingFlags): Promise<Out> => {
    await cmdValidator(ctx, args, flags);
    return printed.pop() as Out;
  };
  const stake = async (args: string[], flags: StakingFlags): Promise<Out> => {
    await cmdStake(ctx, args, flags);
    return printed.pop() as Out;
  };
  const codeOf = async (p: Promise<unknown>): Promise<string> =>
    p.then(
      () => 'succeeded',
      (e: unknown) => (e instanceof ChainError ? e.code : String(e)),
    );
  const op = addressToString(alice.address);

  chain.block(); // staking starts with block 1
  const created = await validator(['create'], { from: 'alice', 'self-stake': '50', moniker: 'alice', 'commission-bps': '1000' });
  t.match(created, { operator: op, consensusAddress: addressToString(aliceNode.address), selfStake: (50n * TAG).toString(), height: 2 }, 'the consensus key is the home node key');
  t.equal(chain.validator(alice).tokens, 50n * TAG);

  const delegated = await stake(['delegate'], { from: 'bob', validator: op, amount: '20' });
  t.match(delegated, { delegator: addressToString(bob.address), validator: op, amount: (20n * TAG).toString(), rewardsPaid: '0', height: 3 });
  chain.advanceTo(8); // in the set from block 6: rewards accrue

  const before = chain.balance(bob);
  const claimed = await stake(['claim'], { from: 'bob', validator: op });
  const claimedRewards = BigInt(claimed['rewards'] as string);
  t.ok(claimedRewards > 0n, `bob was paid ${claimedRewards}`);
  t.equal(chain.balance(bob), before + claimedRewards - BigInt(claimed['fee'] as string), 'the rewards reached his balance, less the fee');

  const undelegated = await stake(['undelegate'], { from: 'bob', validator: op, amount: '5' });
  t.equal(undelegated['completionHeight'], (undelegated['height'] as number) + chain.params.unbondingBlocks);
  t.equal(loadUnbonding(chain.state, bob.address, alice.address).length, 1);

  const edited = await validator(['edit'], { from: 'alice', moniker: 'renamed' });
  t.match(edited, { operator: op, commissionBps: 1000, moniker: 'renamed' }, 'commission kept');
  t.equal(chain.validator(alice).moniker, 'renamed');

  // Jail alice by downtime, then unjail: refused until jailedUntil, accepted after.
  for (let i = 0; i < 7; i++) chain.block([], { absent: [aliceNode] });
  const jailed = chain.validator(alice);
  t.equal(jailed.jailed, true);
  const shown = await validator(['show'], { from: 'alice' });
  t.match(shown, { operator: op, status: 'jailed', jailedUntil: jailed.jailedUntil, moniker: 'renamed', tokens: jailed.tokens.toString() });
  t.equal(await codeOf(validator(['unjail'], { from: 'alice' })), 'VALIDATOR_STILL_JAILED', 'a failed receipt is an error with its code');
  chain.advanceTo(jailed.jailedUntil);
  t.match(await validator(['unjail'], { from: 'alice' }), { operator: op, unjailed: true });
  t.equal(chain.validator(alice).jailed, false);

  const byConsensus = await validator(['show', addressToString(aliceNode.address)], {});
  t.equal(byConsensus['operator'], op, 'show takes a consensus address');
  const list = await validator(['list'], {});
  t.match(list, { total: 2, nextCursor: null, validators: [{ operator: addressToString(V0.address) }, { operator: op }] });
  const page = await validator(['list'], { cursor: '1', limit: '1' });
  t.match(page, { validators: [{ operator: op }], nextCursor: null });
  const set = await validator(['set'], {});
  t.ok(Array.isArray(set['validators']) && typeof set['validatorSetHash'] === 'string');

  const mine = await stake(['show'], { from: 'bob' });
  const v = chain.validator(alice);
  const d = loadDelegation(chain.state, bob.address, alice.address);
  const tokens = ((d?.shares ?? 0n) * v.tokens) / v.shares;
  t.match(mine, {
    address: addressToString(bob.address),
    bonded: tokens.toString(),
    delegations: [{ validator: op, tokens: tokens.toString() }],
    unbondings: [{ validator: op, entries: [{ initial: (5n * TAG).toString() }] }],
  });
  t.equal(await stake(['show', addressToString(bob.address)], {}).then((x) => x['bonded']), mine['bonded'], 'by address too');

  // Usage errors send nothing.
  const height = chain.height;
  const usage: Array<[string, () => Promise<Out>]> = [
    ['delegate without --from', () => stake(['delegate'], { validator: op, amount: '1' })],
    ['delegate without --validator', () => stake(['delegate'], { from: 'bob', amount: '1' })],
    ['undelegate without --amount', () => stake(['undelegate'], { from: 'bob', validator: op })],
    ['create without --moniker', () => validator(['create'], { from: 'alice', 'self-stake': '1' })],
    ['commission above 10000', () => validator(['create'], { from: 'alice', 'self-stake': '1', moniker: 'x', 'commission-bps': '10001' })],
    ['a consensus key that is not hex', () => validator(['create'], { from: 'alice', 'self-stake': '1', moniker: 'x', 'consensus-key': 'zz' })],
    ['edit with nothing to change', () => validator(['edit'], { from: 'alice' })],
    ['show without an address', () => validator(['show'], {})],
    ['unknown subcommand', () => stake(['redelegate'], { from: 'bob' })],
  ];
  for (const [what, run] of usage) t.equal(await codeOf(run()), 'CLI_USAGE', what);
  t.equal(await codeOf(stake(['delegate'], { from: 'bob', validator: 'tag1nope', amount: '1' })), 'ADDRESS_INVALID');
  t.equal(await codeOf(validator(['create'], { from: 'alice', 'self-stake': '0', moniker: 'x', 'consensus-key': bytesToHex(hexToBytes('00'.repeat(32))) })), 'STAKING_BAD_INPUT');
  t.equal(chain.height, height, 'no block was made');

  // The commands are wired into `tagger` (node/main.ts): one real process reads this server.
  const { stdout } = await run(process.execPath, [MAIN, 'validator', 'show', op, '--node', url, '--home', home]);
  t.match(JSON.parse(stdout), { operator: op, moniker: 'renamed', status: 'unbonded' }, 'tagger validator show through main.ts');
  const usageRun = await run(process.execPath, [MAIN, 'stake', 'delegate', '--from', 'bob', '--amount', '1', '--node', url, '--home', home]).then(
    () => '',
    (e: unknown) => (e as { stderr: string }).stderr,
  );
  t.match(usageRun, /"code":"CLI_USAGE".*--validator ADDRESS/, 'and its usage errors');
});
