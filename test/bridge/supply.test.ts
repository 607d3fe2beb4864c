/**
 * The supply invariant on a real EVM (research/bridge.md §7.14): random sequences of deposits, burns on
 * a modelled Tagger chain, checkpoints, withdrawals (honest and replayed), queued executions, time and
 * guardian pauses always leave locked TAG = deposited - released, released <= burned, and nothing
 * released that no accepted checkpoint contains.
 */
import t from 'tap';
import fc from 'fast-check';
import type { BridgeWithdrawal } from '../../bridge/index.ts';
import { keccak256, utf8ToBytes } from '../../lib/index.ts';
import { BridgeFixture, TAG, hex, makeWithdrawal } from './fixtures/bridgeFixture.ts';

type Action =
  | { kind: 'deposit'; user: number; amount: bigint }
  | { kind: 'burn'; user: number; amount: bigint }
  | { kind: 'checkpoint' }
  | { kind: 'withdraw'; pick: number }
  | { kind: 'execute'; pick: number }
  | { kind: 'advance'; seconds: bigint }
  | { kind: 'pause' }
  | { kind: 'unpause' };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deposit' as const), user: fc.nat(2), amount: fc.bigInt({ min: 1n, max: 900n }).map((a) => a * TAG) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('burn' as const), user: fc.nat(2), amount: fc.bigInt({ min: 1n, max: 700n }).map((a) => a * TAG) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'checkpoint' as const }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('withdraw' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('execute' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), seconds: fc.constantFrom(60n, 43_200n, 86_400n) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'pause' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'unpause' as const }) },
);

t.test('locked = deposited - released and released <= burned, whatever happens', async (t) => {
  let runs = 0;
  let releasedEver = 0n;
  let refusedReplays = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(action, { minLength: 20, maxLength: 40 }), async (actions) => {
      runs++;
      const f = await BridgeFixture.deploy();
      let deposited = 0n;
      let bridged = 0n; // TAG in circulation on the modelled Tagger chain
      let burned = 0n;
      let released = 0n;
      let nonce = 0n;
      let pending: BridgeWithdrawal[] = [];
      const proven: { number: bigint; all: BridgeWithdrawal[]; index: number }[] = [];
      const queued = new Set<bigint>();
      const checkpointed = new Set<bigint>();

      for (const a of actions) {
        switch (a.kind) {
          case 'deposit': {
            const r = await f.bridgeCall(f.users[a.user]!, 'deposit', [hex(keccak256(utf8ToBytes(`u${a.user}`)).subarray(0, 20)), a.amount]);
            if (!r.reverted) {
              deposited += a.amount;
              bridged += a.amount; // the chain mints what the Deposited event says
            }
            break;
          }
          case 'burn': {
            if (a.amount > bridged) break; // the chain refuses to burn more than exists
            bridged -= a.amount;
            burned += a.amount;
            pending.push(makeWithdrawal(++nonce, f.address(f.users[a.user]!), a.amount));
            break;
          }
          case 'checkpoint': {
            const r = await f.submit(f.nextCheckpoint(pending));
            if (!r.reverted) {
              const number = f.last!.number;
              pending.forEach((w, index) => {
                proven.push({ number, all: pending, index });
                checkpointed.add(w.nonce);
              });
              pending = [];
            }
            break;
          }
          case 'withdraw': {
            const p = proven[a.pick % Math.max(1, proven.length)];
            if (p === undefined) break;
            const r = await f.withdrawFrom(p.number, p.all, p.index); // may be a replay: then refused
            if (r.error?.name === 'AlreadyClaimed') refusedReplays++;
            for (const e of f.events(r)) {
              if (e.eventName === 'WithdrawalReleased') released += e.args['amount'] as bigint;
              if (e.eventName === 'WithdrawalQueued') queued.add(e.args['nonce'] as bigint);
            }
            break;
          }
          case 'execute': {
            const list = [...queued];
            const n = list[a.pick % Math.max(1, list.length)];
            if (n === undefined) break;
            const r = await f.bridgeCall(f.relayer, 'executeQueued', [n]);
            for (const e of f.events(r)) {
              if (e.eventName === 'WithdrawalReleased') {
                released += e.args['amount'] as bigint;
                queued.delete(n);
                if (!checkpointed.has(e.args['nonce'] as bigint)) return false;
              }
            }
            break;
          }
          case 'advance':
            f.evm.advance(a.seconds);
            break;
          case 'pause':
            await f.bridgeCall(f.guardianKeys[0]!, 'pause', []);
            break;
          case 'unpause':
            await f.bridgeCall(f.guardianKeys[1]!, 'approveUnpause', []);
            await f.bridgeCall(f.guardianKeys[2]!, 'approveUnpause', []);
            break;
        }
        const locked = await f.tokenBalance(f.bridge);
        if (locked !== deposited - released) return false;
        if (released > burned) return false;
        if (locked < bridged) return false; // TAG locked on BNB Chain backs all TAG on Tagger chain
      }
      releasedEver += released;
      return true;
    }),
    { numRuns: 6, seed: 14, endOnFailure: true },
  );
  t.equal(runs, 6, 'six random histories checked after every step');
  t.ok(releasedEver > 0n, 'the histories released TAG');
  t.ok(refusedReplays > 0, 'and tried replays, which were refused');
});
