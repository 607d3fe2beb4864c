/**
 * Property: the bridge changes the supply only by minting deposits and burning withdrawals, and
 * bridgedSupply is always minted − burnt, never negative. Bridge transactions run through
 * executeBridge on a fork (as applyTx does), with no fees, so the supply sees the bridge alone.
 */
import fc from 'fast-check';
import t from 'tap';
import { sha256, u32ToBytes } from '../../../lib/index.ts';
import { TxFailure, executeBridge, loadBridgeGlobals, type BridgeBody, type ChainEvent } from '../../../runtime/index.ts';
import { StateView, loadAccount, loadSupply } from '../../../state/index.ts';
import { TEST_CHAIN_ID, type Key } from '../../utils/factories.ts';
import { BridgeChain, TAG } from './harness.ts';

type Op = { kind: 'attest'; validator: number; nonce: number; conflict: boolean } | { kind: 'withdraw'; from: number; amount: bigint };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('attest' as const),
    validator: fc.nat(3),
    nonce: fc.integer({ min: 1, max: 4 }),
    conflict: fc.nat(9).map((n) => n === 0),
  }),
  fc.record({ kind: fc.constant('withdraw' as const), from: fc.nat(1), amount: fc.bigInt({ min: 0n, max: 4n * TAG }) }),
);

t.test('supply changes only by mint − burn; bridgedSupply = minted − burnt ≥ 0', async (t) => {
  const chain = new BridgeChain({ validators: 4 });
  const holders: Key[] = [chain.user, chain.validatorKeys[0]!];
  let runs = 0;
  let mints = 0;
  let burns = 0;
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 20, maxLength: 60 }), (ops) => {
      runs++;
      const view = new StateView(chain.state);
      const supply0 = loadSupply(view);
      let minted = 0n;
      let burnt = 0n;
      for (const op of ops) {
        const child = view.fork();
        let sender: Uint8Array;
        let body: BridgeBody;
        if (op.kind === 'attest') {
          sender = chain.validatorKeys[op.validator]!.address;
          // Honest attestations: the deposit's fields follow from its nonce; one in ten differs in amount (a conflict).
          const amount = BigInt(op.nonce) * TAG + (op.conflict ? 1n : 0n);
          body = { kind: 'depositAttest', nonce: op.nonce, recipient: holders[op.nonce % 2]!.address, amount, bnbTxHash: sha256(u32ToBytes(op.nonce)), logIndex: 0 };
        } else {
          sender = holders[op.from]!.address;
          body = { kind: 'withdraw', recipient: new Uint8Array(20).fill(0x33), amount: op.amount };
        }
        let events: ChainEvent[];
        try {
          events = executeBridge(child, sender, body, { chainId: TEST_CHAIN_ID, height: 10 });
        } catch (e) {
          if (!(e instanceof TxFailure)) throw e;
          continue;
        }
        child.commit();
        for (const e of events) {
          const a = Object.fromEntries(e.attributes);
          if (e.type === 'bridgeDepositMinted') {
            minted += BigInt(a['amount']!);
            mints++;
          }
          if (e.type === 'bridgeWithdrawal') {
            burnt += BigInt(a['amount']!);
            burns++;
          }
        }
        const g = loadBridgeGlobals(view);
        if (loadSupply(view) !== supply0 + minted - burnt) return false;
        if (g.bridgedSupply !== minted - burnt || g.bridgedSupply < 0n) return false;
        for (const h of holders) if (loadAccount(view, h.address).balance < 0n) return false;
      }
      return true;
    }),
    { numRuns: 150, seed: 20261202 },
  );
  t.equal(runs, 150);
  t.ok(mints > 20 && burns > 20, `the runs minted (${mints}) and burnt (${burns})`);
});
