/**
 * The relayer (bridge/relayer.ts) between a real Tagger chain runtime (in-process, test/unit/bridge)
 * and the TaggerBridge contract on a real EVM node over JSON-RPC, through a proxy that injects faults:
 * signed checkpoints are submitted in order, withdrawals released (large ones queued, then executed),
 * nothing twice — not on a second poll, not with two relayers racing, not when the RPC hangs, fails or
 * loses the reply to a transaction the node did mine.
 */
import t from 'tap';
import { TAGGER_BRIDGE, validatorSetHash } from '../../bridge/index.ts';
import { BridgeError } from '../../bridge/errors.ts';
import { Relayer, type RelayerOpts, type RelayerStep } from '../../bridge/relayer.ts';
import { nullLogger } from '../../lib/index.ts';
import type { BridgeChain } from '../unit/bridge/harness.ts';
import { bytes, hex } from './fixtures/bridgeFixture.ts';
import type { Fault } from './fixtures/faultyRpc.ts';
import { ChainSource, RpcBridge, TAG, register, signAll, taggerChain } from './fixtures/rpcBridge.ts';

const POLLS_MAX = 40;

/** A Tagger chain with the bridge set registered and 5,000 TAG bridged in (locked on the contract, minted to the user). */
async function setup(b: RpcBridge, extraValidators = 0): Promise<BridgeChain> {
  const c = taggerChain(b, extraValidators);
  register(c, [0, 1, 2]);
  const amount = 5_000n * TAG;
  await b.deposit(0, c.user.address, amount);
  c.attest([0, 1, 2], c.depositBody(1, c.user.address, amount));
  return c;
}

function relayerFor(b: RpcBridge, c: BridgeChain, label = 'relayer/0', over: Partial<RelayerOpts> = {}): Relayer {
  // A fixed gas limit: the local node estimates gas by bisection, slowly (the first test keeps estimation on).
  const { publicClient, walletClient } = b.proxied(label, 1_000);
  const opts: RelayerOpts = { source: new ChainSource(c), publicClient, walletClient, bridge: b.bridge, confirmations: 1, receiptTimeoutMs: 10_000, gasLimit: 3_000_000n, logger: nullLogger };
  return new Relayer({ ...opts, ...over });
}

/** Burns each of `amounts` TAG on Tagger chain for BNB Chain user `user`, all in one block. */
function withdraw(b: RpcBridge, c: BridgeChain, user: number, ...amounts: bigint[]): void {
  const recipient = bytes(b.users[user]!.address);
  const receipts = c.block(amounts.map((amount) => c.tx(c.user, { kind: 'withdraw', recipient, amount })));
  for (const r of receipts) if (r.code !== '') throw new Error(`withdraw: ${r.code}`);
}

/** Closes checkpoints up to the next multiple of 5 blocks and has them signed. */
function checkpoint(c: BridgeChain): void {
  c.advanceTo(Math.ceil((c.height + 1) / 5) * 5);
  signAll(c);
}

const nonces = (step: RelayerStep, kind: 'releases' | 'queued'): number[] => step[kind].map((r) => r.nonce).sort((x, y) => x - y);

/** How many times each value occurs. */
function counts(values: readonly unknown[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(String(v), (m.get(String(v)) ?? 0) + 1);
  return m;
}

t.test('a signed checkpoint is submitted and its withdrawals released; a second poll does nothing; paused means nothing', async (t) => {
  const b = await RpcBridge.start({ finalityDepth: 1, delaySeconds: 3_600n, largeWithdrawal: 500n * TAG });
  t.teardown(() => b.stop());
  const c = await setup(b);
  const recipient = (user: number) => bytes(b.users[user]!.address);
  // One block: nonces 1 and 3 to user 1, nonce 2 (large: queued by the contract for its delay) to user 2.
  c.block([
    c.tx(c.user, { kind: 'withdraw', recipient: recipient(1), amount: 10n * TAG }),
    c.tx(c.user, { kind: 'withdraw', recipient: recipient(2), amount: 600n * TAG }),
    c.tx(c.user, { kind: 'withdraw', recipient: recipient(1), amount: 20n * TAG }),
  ]);
  // Gas estimated per transaction here (the default), with a timeout long enough for the local node's bisection.
  const r = relayerFor(b, c, 'relayer/0', { gasLimit: null, ...b.proxied('relayer/0', 5_000) });

  t.same(await r.poll(), { paused: false, checkpoints: [], releases: [], queued: [] }, 'nothing signed yet: nothing to do');
  checkpoint(c);
  const before1 = await b.balance(b.users[1]!.address);
  const first = await r.poll();
  t.same(first.checkpoints.map((x) => x.number), [1]);
  t.same(nonces(first, 'releases'), [1, 3]);
  t.same(nonces(first, 'queued'), [2]);
  t.equal(await b.view<bigint>('lastCheckpoint'), 1n);
  t.equal((await b.balance(b.users[1]!.address)) - before1, 30n * TAG, 'both small withdrawals paid');
  for (const n of [1n, 2n, 3n]) t.equal(await b.view<boolean>('claimed', [n]), true, `nonce ${n} claimed`);

  const second = await r.poll();
  t.same(second, { paused: false, checkpoints: [], releases: [], queued: [] }, 'second poll: a no-op');
  t.equal(r.queuedCount, 1, 'the queued withdrawal is remembered');

  // A new relayer (a restart) finds everything done, and the queued withdrawal from the contract's state.
  const restarted = relayerFor(b, c, 'relayer/1');
  t.same(await restarted.poll(), { paused: false, checkpoints: [], releases: [], queued: [] }, 'a restarted relayer does nothing twice');
  t.equal(restarted.queuedCount, 1, 'it found the queued withdrawal on the contract');

  // The delay passes (a block an hour later): the restarted relayer executes it, once; the first sees it done.
  const head = await b.direct.getBlock({ blockTag: 'latest' });
  await b.rpc('evm_mine', [`0x${(head.timestamp + 3_601n).toString(16)}`]);
  const before2 = await b.balance(b.users[2]!.address);
  const third = await restarted.poll();
  t.same(nonces(third, 'releases'), [2]);
  t.equal((await b.balance(b.users[2]!.address)) - before2, 600n * TAG);
  t.same(await r.poll(), { paused: false, checkpoints: [], releases: [], queued: [] }, 'executed by the other relayer: nothing to do');
  t.equal(r.queuedCount, 0, 'and it forgets it');

  // Paused by a guardian: the next checkpoint is not submitted.
  withdraw(b, c, 1, 5n * TAG);
  checkpoint(c);
  await b.write(b.guardians[0]!, b.bridge, TAGGER_BRIDGE.abi, 'pause', []);
  t.same(await r.poll(), { paused: true, checkpoints: [], releases: [], queued: [] }, 'paused: nothing sent');
  t.equal(await b.view<bigint>('lastCheckpoint'), 1n);

  const released = (await b.events('WithdrawalReleased')).map((e) => e['nonce']);
  t.same([...counts(released).values()], [1, 1, 1], 'each withdrawal released exactly once');
});

t.test('two relayers racing: every checkpoint accepted once, every withdrawal released once', async (t) => {
  const b = await RpcBridge.start({ finalityDepth: 1 });
  t.teardown(() => b.stop());
  const c = await setup(b);
  withdraw(b, c, 1, ...[1n, 2n, 3n, 4n].map((x) => x * TAG));
  checkpoint(c);
  withdraw(b, c, 2, 7n * TAG);
  checkpoint(c);
  const before = await b.balance(b.users[1]!.address);
  const [r0, r1] = [relayerFor(b, c, 'relayer/0', { maxPerPoll: 3 }), relayerFor(b, c, 'relayer/1', { maxPerPoll: 3 })];
  const steps: RelayerStep[] = [];
  for (let i = 0; i < POLLS_MAX && (await b.view<boolean>('claimed', [5n])) === false; i++) {
    steps.push(...(await Promise.all([r0.poll(), r1.poll()])));
  }
  t.equal(await b.view<bigint>('lastCheckpoint'), 2n);
  const accepted = (await b.events('CheckpointAccepted')).map((e) => e['number']);
  t.same(accepted, [1n, 2n], 'each checkpoint accepted once');
  const released = (await b.events('WithdrawalReleased')).map((e) => e['nonce']);
  t.same([...released].sort(), [1n, 2n, 3n, 4n, 5n], 'each withdrawal released once');
  t.equal((await b.balance(b.users[1]!.address)) - before, 10n * TAG);
  const reported = steps.flatMap((s) => s.releases.map((x) => x.nonce));
  t.same([...counts(reported).values()].filter((n) => n > 1), [], 'no release claimed by both relayers');
  t.same(steps.flatMap((s) => s.checkpoints.map((x) => x.number)).sort(), [1, 2], 'each submission reported by one relayer');
  t.ok(steps.every((s) => s.checkpoints.length + s.releases.length + s.queued.length <= 3), 'at most maxPerPoll transactions per poll');
  t.ok(steps.length > 2, 'the work took several polls');
});

t.test('bounded polls: a relayer works through a checkpoint over several polls, resuming where it stopped', async (t) => {
  const b = await RpcBridge.start({ finalityDepth: 1 });
  t.teardown(() => b.stop());
  const c = await setup(b);
  withdraw(b, c, 1, ...[1n, 2n, 3n, 4n, 5n].map((x) => x * TAG));
  checkpoint(c);
  const r = relayerFor(b, c, 'relayer/0', { maxPerPoll: 2, examineMax: 3 });
  const steps: RelayerStep[] = [];
  for (let i = 0; i < 10; i++) steps.push(await r.poll());
  const sizes = steps.map((s) => s.checkpoints.length + s.releases.length);
  t.ok(sizes.every((n) => n <= 2), `at most 2 transactions a poll: ${sizes.join(',')}`);
  t.same(steps.flatMap((s) => s.releases.map((x) => x.nonce)), [1, 2, 3, 4, 5], 'in order, each once');
  t.same(sizes.slice(-2), [0, 0], 'then nothing');
});

t.test('a validator-set rotation is submitted with the next set, and the new set signs after it', async (t) => {
  const b = await RpcBridge.start({ finalityDepth: 1 });
  t.teardown(() => b.stop());
  const c = await setup(b, 1);
  checkpoint(c); // checkpoint 1: set 1 (three members)
  register(c, [3]);
  checkpoint(c); // checkpoint 2: signed by set 1, names set 2 (four members)
  withdraw(b, c, 1, 3n * TAG);
  checkpoint(c); // checkpoint 3: signed by set 2
  t.equal(c.checkpoint(2).nextValidatorSetId, 2);
  t.equal(c.checkpoint(3).signingSet.signers.length, 4);
  const r = relayerFor(b, c);
  const step = await r.poll();
  t.same(step.checkpoints.map((x) => x.number), [1, 2, 3]);
  t.same(nonces(step, 'releases'), [1], 'the withdrawal under the new set is released');
  t.equal(await b.view<bigint>('validatorSetId'), 2n);
  t.equal((await b.view<string>('validatorSetHash')).toLowerCase(), hex(validatorSetHash(c.checkpoint(3).signingSet)), 'the contract holds the new set');
});

t.test('the relayer refuses a checkpoint Tagger chain and the contract disagree on', async (t) => {
  const b = await RpcBridge.start({ finalityDepth: 1 });
  t.teardown(() => b.stop());
  const c = await setup(b);
  checkpoint(c);
  const source = new ChainSource(c);
  // A source that lies about the checkpoint: the signatures no longer match what the contract would hash.
  const lying = {
    signedCheckpoint: async (n: number) => {
      const s = await source.signedCheckpoint(n);
      return s === null ? null : { ...s, checkpoint: { ...s.checkpoint, endBlock: s.checkpoint.endBlock + 1n } };
    },
    checkpointWithdrawals: (n: number) => source.checkpointWithdrawals(n),
  };
  const r = relayerFor(b, c, 'relayer/0', { source: lying });
  const error = await r.poll().then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(error instanceof BridgeError && error.code === 'BRIDGE_RELAY_MISMATCH', 'typed error');
  t.match((error as BridgeError).type, { what: 'signatures' }, 'the signatures do not carry a quorum for what would be sent');
  // A source naming another signing set than the contract's (different powers).
  const otherSet = {
    signedCheckpoint: async (n: number) => {
      const s = await source.signedCheckpoint(n);
      return s === null ? null : { ...s, signingSet: { ...s.signingSet, powers: s.signingSet.powers.map((p) => p + 1n) } };
    },
    checkpointWithdrawals: (n: number) => source.checkpointWithdrawals(n),
  };
  const error2 = await relayerFor(b, c, 'relayer/0', { source: otherSet }).poll().then(
    () => null,
    (e: unknown) => e,
  );
  t.match((error2 as BridgeError).type, { code: 'BRIDGE_RELAY_MISMATCH', what: 'signing set' });
  t.equal(await b.view<bigint>('lastCheckpoint'), 0n, 'nothing was sent');
  t.same((await relayerFor(b, c).poll()).checkpoints.map((x) => x.number), [1], 'the honest source gets it through');
});

const FAULTS: { fault: Fault; methods: string[] | null; count: number }[] = [
  { fault: 'hang', methods: null, count: 2 },
  { fault: 'http500', methods: null, count: 5 },
  { fault: 'rpcError', methods: null, count: 5 },
  { fault: 'lostReply', methods: ['eth_sendRawTransaction'], count: 2 },
  { fault: 'rpcError', methods: ['eth_getTransactionReceipt'], count: 4 },
];

t.test('an RPC that hangs, fails or loses replies: typed errors, progress once it clears, nothing twice', async (t) => {
  const b = await RpcBridge.start({ finalityDepth: 1 });
  t.teardown(() => b.stop());
  const c = await setup(b);
  const r = relayerFor(b, c);
  let expected = 0n;
  let withdrawals = 0;
  for (const { fault, methods, count } of FAULTS) {
    const target = `${fault}${methods === null ? '' : ` on ${methods.join(',')}`}`;
    withdraw(b, c, 1, TAG, 2n * TAG);
    expected += 3n * TAG;
    withdrawals += 2;
    checkpoint(c);
    const last = BigInt(c.globals().lastCheckpoint);
    b.proxy.inject(fault, count, methods);
    const errors: unknown[] = [];
    for (let i = 0; i < POLLS_MAX && !((await b.view<bigint>('lastCheckpoint')) === last && (await b.view<boolean>('claimed', [BigInt(withdrawals)]))); i++) {
      try {
        await r.poll();
      } catch (e) {
        errors.push(e);
      }
    }
    t.equal(b.proxy.pending, 0, `${target}: every fault was served`);
    t.ok(errors.every((e) => e instanceof BridgeError && e.code === 'BRIDGE_RPC_FAILED'), `${target}: only typed errors`);
    t.equal(await b.view<bigint>('lastCheckpoint'), last, `${target}: checkpoints caught up`);
    t.equal(await b.view<boolean>('claimed', [BigInt(withdrawals)]), true, `${target}: withdrawals caught up`);
  }
  t.same(await r.poll(), { paused: false, checkpoints: [], releases: [], queued: [] }, 'nothing left');
  const accepted = (await b.events('CheckpointAccepted')).map((e) => e['number']);
  t.same(accepted, Array.from({ length: accepted.length }, (_, i) => BigInt(i + 1)), 'each checkpoint accepted once, in order');
  t.equal(BigInt(accepted.length), BigInt(c.globals().lastCheckpoint));
  const released = (await b.events('WithdrawalReleased')).map((e) => e['nonce']);
  t.same(released, Array.from({ length: withdrawals }, (_, i) => BigInt(i + 1)), 'each withdrawal released once');
  t.equal(await b.view<bigint>('totalReleased'), expected, 'the contract paid exactly what was burnt');
});
