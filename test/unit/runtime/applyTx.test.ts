/**
 * The state transition (runtime/applyTx.ts, runtime/applyBlock.ts) against docs/spec/runtime.md:
 * fees, rejections that change nothing, failures that charge the fee, supply conservation, block
 * validation vs block building, and determinism.
 */
import t from 'tap';
import fc from 'fast-check';
import { ONE_TAG, addressToString, bytesToHex, concatBytes } from '../../../lib/index.ts';
import {
  RECEIPT_STATUS,
  REWARD_POOL_ADDRESS,
  applyBlockTxs,
  applyTx,
  buildBlockTxs,
  decodeSignedTx,
  encodeReceipts,
  newFeeTally,
  requiredFee,
  settleFees,
  type BlockEnv,
  type SignedTx,
} from '../../../runtime/index.ts';
import { DEFAULT_PARAMS, PARAMS_KEY, decodeParams, loadAccount, loadSupply, type Params, type StateView } from '../../../state/index.ts';
import { genesisSupply, type Genesis } from '../../../genesis/index.ts';
import { MemChain, blockEnv, codeOf, errorOf, fixedKey, makeGenesis, signedTransfer, type Key } from '../../utils/factories.ts';

type T = Parameters<Parameters<typeof t.test>[0]>[0];

const alice = fixedKey(1);
const bob = fixedKey(2);
const carol = fixedKey(3); // funded with less than one fee
const poor = 1000n;
const validator = fixedKey(0x10);
const proposer = fixedKey(0x20).address; // holds nothing at genesis

function genesis(): Genesis {
  const g = makeGenesis([alice, bob], { validators: [validator] });
  return { ...g, accounts: [...g.accounts, { address: carol.address, balance: poor }] };
}

const params: Params = DEFAULT_PARAMS;
const env: BlockEnv = blockEnv(proposer);

/** Every committed key → value, as hex, to compare before and after. */
function snapshot(view: StateView, chain: MemChain): string {
  const out: string[] = [];
  for (const [k] of chain.reader.entries()) out.push(`${bytesToHex(k)}=${bytesToHex(view.get(k) ?? new Uint8Array())}`);
  return out.sort().join('\n');
}

function balance(view: StateView, key: Key | Uint8Array): bigint {
  return loadAccount(view, key instanceof Uint8Array ? key : key.address).balance;
}

function nonce(view: StateView, key: Key): number {
  return loadAccount(view, key.address).nonce;
}

/** A transfer whose maxFee is exactly `fee + delta` for its own size. */
function transferWithMaxFeeDelta(from: Key, n: number, to: Uint8Array, amount: bigint, delta: bigint): SignedTx {
  let maxFee = 10n ** 15n;
  for (let i = 0; i < 5; i++) {
    const s = signedTransfer(from, n, to, amount, { maxFee });
    const want = requiredFee(params, s.bytes.length) + delta;
    if (want === maxFee) return s;
    maxFee = want;
  }
  throw new Error('maxFee did not converge');
}

t.test('genesis state is what the genesis says', async (t) => {
  const chain = MemChain.fromGenesis(genesis());
  const view = chain.view();
  t.equal(balance(view, alice), 1000n * ONE_TAG);
  t.equal(balance(view, carol), poor);
  t.equal(loadSupply(view), 2000n * ONE_TAG + poor + 1000n * ONE_TAG, 'supply = balances + stake');
  t.same(decodeParams(view.get(PARAMS_KEY)!), params);
});

t.test('transfer: balances, nonce, fee split, events, supply', async (t) => {
  const chain = MemChain.fromGenesis(genesis());
  const view = chain.view();
  const supply0 = loadSupply(view);
  const amount = 3n * ONE_TAG + 7n;
  const tx = signedTransfer(alice, 0, bob.address, amount);
  const fee = requiredFee(params, tx.bytes.length);
  t.equal(fee, params.baseFee + params.perByteFee * BigInt(tx.bytes.length), 'fee = baseFee + perByteFee × signed bytes');
  const burned = (fee * BigInt(params.feeBurnPercent)) / 100n;

  const fees = newFeeTally();
  const outcome = applyTx(view, tx, env, params, fees);
  if (!outcome.ok) throw outcome.error;
  const r = outcome.receipt;
  t.equal(bytesToHex(r.txHash), bytesToHex(tx.hash));
  t.equal(r.status, RECEIPT_STATUS.ok);
  t.equal(r.code, '');
  t.equal(r.fee, fee);
  t.same(r.events, [
    { type: 'fee', attributes: [['payer', addressToString(alice.address)], ['amount', fee.toString()], ['burned', burned.toString()]] },
    { type: 'transfer', attributes: [['from', addressToString(alice.address)], ['to', addressToString(bob.address)], ['amount', amount.toString()]] },
  ]);
  t.equal(balance(view, alice), 1000n * ONE_TAG - amount - fee, 'sender pays amount + fee');
  t.equal(nonce(view, alice), 1, 'sender nonce bumped');
  t.equal(balance(view, bob), 1000n * ONE_TAG + amount, 'recipient credited');
  t.equal(nonce(view, bob), 0, 'recipient nonce unchanged');
  t.same(fees, { burned, toProposer: fee - burned }, 'fee tallied, not yet paid');
  t.equal(balance(view, proposer), 0n, 'proposer is paid at the end of the block');
  t.equal(loadSupply(view), supply0, 'supply unchanged until settlement');

  settleFees(view, fees, proposer);
  t.equal(balance(view, proposer), fee - burned, 'proposer gets the unburned part');
  t.equal(loadSupply(view), supply0 - burned, 'supply decreases by the burned part');
  chain.commit(view);
  const v2 = chain.view();
  t.equal(balance(v2, alice) + balance(v2, bob) + balance(v2, carol) + balance(v2, proposer) + 1000n * ONE_TAG, loadSupply(v2), 'stored supply = balances + stake');
});

t.test('a transfer to a new account creates it; to oneself only costs the fee', async (t) => {
  const chain = MemChain.fromGenesis(genesis());
  const view = chain.view();
  const fresh = fixedKey(0x30).address;
  const o1 = applyTx(view, signedTransfer(alice, 0, fresh, 5n), env, params, newFeeTally());
  t.ok(o1.ok && o1.receipt.status === RECEIPT_STATUS.ok);
  t.same(loadAccount(view, fresh), { balance: 5n, nonce: 0 });
  const before = balance(view, alice);
  const self = signedTransfer(alice, 1, alice.address, 10n * ONE_TAG);
  const o2 = applyTx(view, self, env, params, newFeeTally());
  t.ok(o2.ok && o2.receipt.status === RECEIPT_STATUS.ok);
  t.equal(balance(view, alice), before - requiredFee(params, self.bytes.length), 'self-transfer: only the fee');
});

function checkRejected(t: T, chain: MemChain, tx: SignedTx, code: string, opts: { env?: BlockEnv; params?: Params } = {}): void {
  const view = chain.view();
  const before = snapshot(view, chain);
  const fees = newFeeTally();
  const outcome = applyTx(view, tx, opts.env ?? env, opts.params ?? params, fees);
  t.equal(outcome.ok ? 'included' : outcome.error.code, code, code);
  t.equal(view.writeCount, 0, `${code}: no writes`);
  t.same(fees, newFeeTally(), `${code}: no fee tallied`);
  t.equal(snapshot(view, chain), before, `${code}: state unchanged`);
}

t.test('each rejection changes no state', async (t) => {
  const chain = MemChain.fromGenesis(genesis());
  checkRejected(t, chain, signedTransfer(alice, 0, bob.address, 1n, { chainId: 'another-chain' }), 'TX_WRONG_CHAIN');
  checkRejected(t, chain, signedTransfer(alice, 0, bob.address, 1n), 'TX_TOO_LARGE', { params: { ...params, txBytesMax: 100 } });
  const good = signedTransfer(alice, 0, bob.address, 1n);
  const badSig = Uint8Array.from(good.bytes);
  badSig[badSig.length - 1]! ^= 1; // the signature is the last field
  checkRejected(t, chain, decodeSignedTx(badSig), 'TX_BAD_SIGNATURE');
  const otherSigner = signedTransfer(bob, 0, bob.address, 1n);
  const swapped = decodeSignedTx(concatBytes(good.bytes.subarray(0, good.bytes.length - 64), otherSigner.signature));
  checkRejected(t, chain, swapped, 'TX_BAD_SIGNATURE');
  checkRejected(t, chain, signedTransfer(alice, 1, bob.address, 1n), 'TX_BAD_NONCE');
  checkRejected(t, chain, signedTransfer(alice, 4294967295, bob.address, 1n), 'TX_BAD_NONCE');
  checkRejected(t, chain, transferWithMaxFeeDelta(alice, 0, bob.address, 1n, -1n), 'TX_FEE_TOO_LOW');
  checkRejected(t, chain, signedTransfer(alice, 0, bob.address, 1n, { maxFee: 0n }), 'TX_FEE_TOO_LOW');
  checkRejected(t, chain, signedTransfer(carol, 0, bob.address, 1n), 'TX_CANNOT_PAY_FEE');
  checkRejected(t, chain, signedTransfer(fixedKey(0x31), 0, bob.address, 1n), 'TX_CANNOT_PAY_FEE');
});

t.test('rejection boundaries: maxFee = fee and balance = fee are enough', async (t) => {
  const chain = MemChain.fromGenesis(genesis());
  const exact = transferWithMaxFeeDelta(alice, 0, bob.address, 1n, 0n);
  const view = chain.view();
  const o = applyTx(view, exact, env, params, newFeeTally());
  t.ok(o.ok, 'maxFee exactly the fee is included');
  t.ok(o.ok && o.receipt.fee === exact.tx.maxFee, 'and pays exactly maxFee');

  const dave = fixedKey(0x32);
  const probe = signedTransfer(dave, 0, bob.address, 1n);
  const fee = requiredFee(params, probe.bytes.length);
  const g = genesis();
  const chain2 = MemChain.fromGenesis({ ...g, accounts: [...g.accounts, { address: dave.address, balance: fee }] });
  const v2 = chain2.view();
  const o2 = applyTx(v2, probe, env, params, newFeeTally());
  t.ok(o2.ok, 'balance exactly the fee is includable');
  t.ok(o2.ok && o2.receipt.code === 'TX_INSUFFICIENT_BALANCE', 'but the transfer itself then fails');
  t.same(loadAccount(v2, dave.address), { balance: 0n, nonce: 1 }, 'an emptied account keeps its nonce');
});

function checkFailed(t: T, code: string, amount: bigint): void {
  const chain = MemChain.fromGenesis(genesis());
  const view = chain.view();
  const tx = signedTransfer(alice, 0, bob.address, amount);
  const fee = requiredFee(params, tx.bytes.length);
  const fees = newFeeTally();
  const outcome = applyTx(view, tx, env, params, fees);
  if (!outcome.ok) throw outcome.error;
  t.equal(outcome.receipt.status, RECEIPT_STATUS.failed, `${code}: status failed`);
  t.equal(outcome.receipt.code, code, `${code}: reason code in the receipt`);
  t.equal(outcome.receipt.fee, fee, `${code}: fee charged`);
  t.same(outcome.receipt.events.map((e) => e.type), ['fee'], `${code}: only the fee event`);
  t.equal(balance(view, alice), 1000n * ONE_TAG - fee, `${code}: sender pays only the fee`);
  t.equal(nonce(view, alice), 1, `${code}: nonce bumped`);
  t.equal(balance(view, bob), 1000n * ONE_TAG, `${code}: recipient unchanged`);
  t.equal(fees.burned + fees.toProposer, fee, `${code}: fee tallied`);
  const keys = view.writes().map(([k]) => bytesToHex(k));
  t.same(keys, [bytesToHex(concatBytes(Uint8Array.of(1), alice.address))], `${code}: only the sender's account is written`);
}

t.test('failed execution charges the fee, bumps the nonce and changes nothing else', async (t) => {
  checkFailed(t, 'TX_INSUFFICIENT_BALANCE', 2000n * ONE_TAG);
  checkFailed(t, 'TX_ZERO_AMOUNT', 0n);
  // Balance after the fee is what counts.
  const chain = MemChain.fromGenesis(genesis());
  const probe = signedTransfer(alice, 0, bob.address, 999n * ONE_TAG);
  const fee = requiredFee(params, probe.bytes.length);
  const all = 1000n * ONE_TAG - fee;
  for (const [amount, code] of [
    [all + 1n, 'TX_INSUFFICIENT_BALANCE'],
    [all, ''],
  ] as const) {
    const tx = signedTransfer(alice, 0, bob.address, amount);
    t.equal(tx.bytes.length, probe.bytes.length, 'same size, same fee');
    const o = applyTx(chain.view(), tx, env, params, newFeeTally());
    t.equal(o.ok ? o.receipt.code : 'rejected', code, `amount = balance - fee ${amount === all ? '' : '+ 1'}`);
  }
});

t.test('verifySignatures: false skips only the signature check', async (t) => {
  const chain = MemChain.fromGenesis(genesis());
  const good = signedTransfer(alice, 0, bob.address, 1n);
  const bytes = Uint8Array.from(good.bytes);
  bytes[bytes.length - 1]! ^= 1;
  const bad = decodeSignedTx(bytes);
  t.equal(codeOf(() => { const o = applyTx(chain.view(), bad, env, params, newFeeTally()); if (!o.ok) throw o.error; }), 'TX_BAD_SIGNATURE');
  const o = applyTx(chain.view(), bad, { ...env, verifySignatures: false }, params, newFeeTally());
  t.ok(o.ok, 'included when the caller has checked signatures already');
});

// ---------------------------------------------------------------------------------------------
// Blocks

t.test('applyBlockTxs rejects a block with an invalid transaction, naming its index', async (t) => {
  const chain = MemChain.fromGenesis(genesis());
  const txs = [
    signedTransfer(alice, 0, bob.address, 1n),
    signedTransfer(alice, 0, bob.address, 2n), // nonce 0 again: already used, rejected
    signedTransfer(bob, 0, alice.address, 1n),
  ];
  const err = errorOf(() => applyBlockTxs(chain.view(), txs.map((x) => x.bytes), env, params));
  t.match(err, { code: 'BLOCK_TX_REJECTED', index: 1, reason: 'TX_BAD_NONCE' });
  const garbage = errorOf(() => applyBlockTxs(chain.view(), [txs[0]!.bytes, Uint8Array.of(1, 2, 3)], env, params));
  t.match(garbage, { code: 'BLOCK_TX_UNDECODABLE', index: 1 });
  const tooMany = errorOf(() => applyBlockTxs(chain.view(), [txs[0]!.bytes, txs[2]!.bytes], env, { ...params, blockTxCountMax: 1 }));
  t.match(tooMany, { code: 'BLOCK_TOO_MANY_TXS', count: 2, max: 1 });
  const tooBig = errorOf(() => applyBlockTxs(chain.view(), [txs[0]!.bytes, txs[2]!.bytes], env, { ...params, blockBytesMax: txs[0]!.bytes.length + 1 }));
  t.match(tooBig, { code: 'BLOCK_TOO_LARGE' });
  const tooLargeTx = errorOf(() => applyBlockTxs(chain.view(), [txs[0]!.bytes], env, { ...params, txBytesMax: 100 }));
  t.match(tooLargeTx, { code: 'BLOCK_TX_UNDECODABLE', index: 0 }, 'a tx above txBytesMax does not even decode');
  const replay = errorOf(() => applyBlockTxs(chain.view(), [txs[0]!.bytes, txs[0]!.bytes], env, params));
  t.match(replay, { code: 'BLOCK_TX_REJECTED', index: 1, reason: 'TX_BAD_NONCE' }, 'the same transaction twice');
  const { receipts } = applyBlockTxs(chain.view(), [txs[0]!.bytes, txs[2]!.bytes], env, params);
  t.equal(receipts.length, 2, 'without it the block is valid');
});

t.test('buildBlockTxs skips what cannot be included, and what it builds validates', async (t) => {
  const chain = MemChain.fromGenesis(genesis());
  const candidates = [
    signedTransfer(alice, 0, bob.address, 1n),
    signedTransfer(alice, 0, bob.address, 2n), // nonce 0 again: already used, rejected
    signedTransfer(carol, 0, bob.address, 1n), // cannot pay the fee
    signedTransfer(alice, 1, bob.address, 5000n * ONE_TAG), // included, fails: insufficient balance
    signedTransfer(bob, 0, alice.address, 2n),
  ];
  const buildView = chain.view();
  const built = buildBlockTxs(buildView, candidates, env, params);
  t.same(built.included.map((x) => bytesToHex(x.hash)), [0, 3, 4].map((i) => bytesToHex(candidates[i]!.hash)));
  t.same(built.rejected.map((r) => r.error.code), ['TX_BAD_NONCE', 'TX_CANNOT_PAY_FEE']);

  // A nonce ahead of the account's is not rejected: it (and the sender's later ones) wait.
  const ahead = buildBlockTxs(chain.view(), [signedTransfer(bob, 1, alice.address, 1n), signedTransfer(bob, 0, alice.address, 1n)], env, params);
  t.same([ahead.included.length, ahead.rejected.length], [0, 0], 'deferred, not rejected');
  t.same(built.receipts.map((r) => r.code), ['', 'TX_INSUFFICIENT_BALANCE', '']);

  const applyView = chain.view();
  const applied = applyBlockTxs(applyView, built.included.map((x) => x.bytes), env, params);
  t.equal(bytesToHex(encodeReceipts(applied.receipts)), bytesToHex(encodeReceipts(built.receipts)), 'same receipts');
  t.same(applyView.writes().map(([k, v]) => [bytesToHex(k), v && bytesToHex(v)]), buildView.writes().map(([k, v]) => [bytesToHex(k), v && bytesToHex(v)]), 'same writes');

  const limited = buildBlockTxs(chain.view(), candidates, env, { ...params, blockTxCountMax: 1 });
  t.equal(limited.included.length, 1, 'stops at blockTxCountMax');
  const bySize = buildBlockTxs(chain.view(), candidates, env, { ...params, blockBytesMax: candidates[0]!.bytes.length });
  t.equal(bySize.included.length, 1, 'stops adding at blockBytesMax');
});

t.test('determinism: the same blocks applied twice to fresh state give the same roots and receipts', async (t) => {
  const g = genesis();
  const builder = MemChain.fromGenesis(g);
  const blocks: Array<{ txs: Uint8Array[]; env: BlockEnv; root: string; receipts: string }> = [];
  let n = 0;
  for (let height = 1; height <= 4; height++) {
    const candidates = [
      signedTransfer(alice, n++, bob.address, BigInt(height) * ONE_TAG),
      signedTransfer(alice, n++, fixedKey(0x40 + height).address, 1n),
      signedTransfer(bob, height - 1, alice.address, height % 2 === 0 ? 0n : 5n),
    ];
    const e = blockEnv(height % 2 === 0 ? proposer : validator.address, height);
    const view = builder.view();
    const built = buildBlockTxs(view, candidates, e, params);
    t.equal(built.rejected.length, 0);
    const root = bytesToHex(builder.commit(view));
    blocks.push({ txs: built.included.map((x) => x.bytes), env: e, root, receipts: bytesToHex(encodeReceipts(built.receipts)) });
  }
  for (let replay = 0; replay < 2; replay++) {
    const chain = MemChain.fromGenesis(g);
    for (const [i, b] of blocks.entries()) {
      const view = chain.view();
      const { receipts } = applyBlockTxs(view, b.txs, b.env, params);
      t.equal(bytesToHex(chain.commit(view)), b.root, `replay ${replay}, block ${i + 1}: state root`);
      t.equal(bytesToHex(encodeReceipts(receipts)), b.receipts, `replay ${replay}, block ${i + 1}: receipts`);
    }
  }
  t.equal(new Set(blocks.map((b) => b.root)).size, blocks.length, 'every block changed the state');
});

// ---------------------------------------------------------------------------------------------
// Property: conservation of TAG, against a model written from the spec.

type Op = { from: number; to: number; amount: bigint; nonceSkew: number; lowFee: boolean };

t.test('property: random transfers conserve TAG and match a model of the rules', async (t) => {
  const keys = [alice, bob, fixedKey(4), fixedKey(5)];
  const outsider = fixedKey(0x50).address;
  const stake = 1000n * ONE_TAG;
  const balances0 = [10n * ONE_TAG, 3n * 10n ** 15n, 10n ** 15n + 200n * 10n ** 12n, 0n];
  const g: Genesis = {
    ...makeGenesis([], { validators: [validator], power: stake }),
    accounts: keys.flatMap((k, i) => (balances0[i]! > 0n ? [{ address: k.address, balance: balances0[i]! }] : [])),
  };
  const initialBalances = genesisSupply(g) - stake;
  // The validators' share of the fees goes to the staking reward pool (runtime/staking/rewards.ts).
  const addresses = [...keys.map((k) => k.address), outsider, proposer, validator.address, REWARD_POOL_ADDRESS];
  const amountArb = fc.oneof(
    fc.constant(0n),
    fc.bigInt({ min: 1n, max: 1000n }),
    fc.bigInt({ min: 10n ** 15n, max: 5n * ONE_TAG }),
    fc.constant(100n * ONE_TAG),
  );
  const opArb = fc.record({
    from: fc.integer({ min: 0, max: keys.length - 1 }),
    to: fc.integer({ min: 0, max: addresses.length - 1 }),
    amount: amountArb,
    nonceSkew: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(-1, 1) }),
    lowFee: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  });
  const blocksArb = fc.array(fc.array(opArb, { minLength: 0, maxLength: 5 }), { minLength: 1, maxLength: 4 });
  const seen = { ok: 0, failed: 0, rejected: 0 };

  fc.assert(
    fc.property(blocksArb, fc.boolean(), (blocks, proposerIsSender) => {
      const chain = MemChain.fromGenesis(g);
      const model = new Map<string, { balance: bigint; nonce: number }>();
      const get = (a: Uint8Array): { balance: bigint; nonce: number } => model.get(bytesToHex(a)) ?? { balance: 0n, nonce: 0 };
      for (const a of g.accounts) model.set(bytesToHex(a.address), { balance: a.balance, nonce: 0 });
      let burnedTotal = 0n;
      const blockProposer = proposerIsSender ? alice.address : proposer;
      for (const [h, ops] of blocks.entries()) {
        const e = blockEnv(blockProposer, h + 1);
        const planned = new Map<number, number>(); // next nonce per sender as the block is built
        const txs = ops.map((op: Op) => {
          const from = keys[op.from]!;
          const next = planned.get(op.from) ?? get(from.address).nonce;
          const n = Math.max(0, next + op.nonceSkew);
          if (op.nonceSkew === 0) planned.set(op.from, next + 1);
          return signedTransfer(from, n, addresses[op.to]!, op.amount, op.lowFee ? { maxFee: 10n ** 14n } : {});
        });
        // Model the block.
        let toProposer = 0n;
        const expectIncluded: boolean[] = [];
        const deferred = new Set<string>(); // senders whose nonce ran ahead: the rest of theirs waits
        for (const tx of txs) {
          const s = get(tx.senderAddress);
          const fee = requiredFee(params, tx.bytes.length);
          const sender = bytesToHex(tx.senderAddress);
          if (deferred.has(sender) || tx.tx.nonce > s.nonce) {
            deferred.add(sender);
            expectIncluded.push(false);
            continue;
          }
          if (tx.tx.nonce !== s.nonce || tx.tx.maxFee < fee || s.balance < fee) {
            expectIncluded.push(false);
            continue;
          }
          expectIncluded.push(true);
          const burned = (fee * BigInt(params.feeBurnPercent)) / 100n;
          burnedTotal += burned;
          toProposer += fee - burned;
          const after = { balance: s.balance - fee, nonce: s.nonce + 1 };
          model.set(bytesToHex(tx.senderAddress), after);
          const amount = tx.tx.body.amount;
          if (amount > 0n && amount <= after.balance) {
            model.set(bytesToHex(tx.senderAddress), { ...after, balance: after.balance - amount });
            const r = get(tx.tx.body.to);
            model.set(bytesToHex(tx.tx.body.to), { ...r, balance: r.balance + amount });
          }
        }
        const pool = get(REWARD_POOL_ADDRESS);
        if (toProposer > 0n) model.set(bytesToHex(REWARD_POOL_ADDRESS), { ...pool, balance: pool.balance + toProposer });
        // Run it.
        const view = chain.view();
        const built = buildBlockTxs(view, txs, e, params);
        chain.commit(view);
        seen.rejected += built.rejected.length;
        for (const r of built.receipts) seen[r.status === RECEIPT_STATUS.ok ? 'ok' : 'failed'] += 1;
        // By identity, not hash: a block may hold the same transaction twice (the second is a replay).
        const included = new Set(built.included);
        if (txs.some((x, i) => included.has(x) !== expectIncluded[i])) return false;
        // Invariants.
        const state = chain.view();
        let sum = 0n;
        for (const a of addresses) {
          const acc = loadAccount(state, a);
          const m = get(a);
          if (acc.balance !== m.balance || acc.nonce !== m.nonce) return false;
          sum += acc.balance;
        }
        if (sum + burnedTotal !== initialBalances) return false;
        if (loadSupply(state) !== sum + stake) return false;
      }
      return true;
    }),
    { numRuns: Number(process.env.PROPERTY_RUNS ?? 60) },
  );
  t.ok(seen.ok > 0 && seen.failed > 0 && seen.rejected > 0, `the runs exercised every path: ${JSON.stringify(seen)}`);
});

t.test('anything thrown by applyTx other than a TxFailure is not swallowed', async (t) => {
  // A view whose writes fail (a bug, not bad input) must surface, not become a failed receipt.
  const chain = MemChain.fromGenesis(genesis());
  const view = chain.view();
  const tx = signedTransfer(alice, 0, bob.address, 1n);
  const broken = Object.assign(Object.create(Object.getPrototypeOf(view) as object) as StateView, view);
  broken.fork = () => {
    const child = view.fork();
    child.set = () => {
      throw new RangeError('disk on fire');
    };
    return child;
  };
  t.throws(() => applyTx(broken, tx, env, params, newFeeTally()), RangeError);
});
