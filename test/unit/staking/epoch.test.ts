/**
 * Validator-set changes at epoch boundaries (docs/spec/staking.md §Epochs): the top validators by
 * bonded stake, jailed and tombstoned excluded, only at heights that are multiples of epochBlocks;
 * and, through the node's BlockExecutor, the header hashes: `validatorSetHash` is the set that
 * validated the block, `nextValidatorSetHash` the set for the next one, and the next block's last
 * commit is checked against the set that signed it.
 */
import { join } from 'node:path';
import t from 'tap';
import { bytesToHex, nullLogger } from '../../../lib/index.ts';
import { blockHash as hashHeader, decodeBlock, loadHistorySet, loadLastValidatorSet, saveStakingParams, signTx, type StakingBody } from '../../../runtime/index.ts';
import { encodeCommit } from '../../../consensus/index.ts';
import { ChainStore, DEFAULT_PARAMS, StateView, loadAccount, loadValidatorSet, validatorSetHash } from '../../../state/index.ts';
import { genesisHash, genesisToState } from '../../../genesis/index.ts';
import { BlockExecutor } from '../../../node/blockExecutor.ts';
import { DEFAULT_MEMPOOL_OPTS, Mempool } from '../../../node/mempool.ts';
import { numberedKey, signedCommit } from '../../utils/chain.ts';
import { codeOf, fixedKey, makeGenesis, type Key } from '../../utils/factories.ts';
import { StakingChain, TAG, TEST_STAKING_PARAMS } from './harness.ts';

const hex = bytesToHex;
const G = numberedKey(9300);
const ops = Array.from({ length: 5 }, (_, i) => numberedKey(9310 + i));
const cons = Array.from({ length: 5 }, (_, i) => numberedKey(9320 + i));

function createBody(i: number, selfStake: bigint): StakingBody {
  return { kind: 'validatorCreate', consensusKey: (cons[i] as Key).publicKey, selfStake, commissionBps: 0, moniker: `v${i}` };
}

t.test('the set changes only at epoch boundaries, to the top activeValidatorsMax by stake', async (t) => {
  const chain = new StakingChain({ validators: [G], accounts: ops, power: 100n * TAG });
  for (const k of cons) chain.addConsensusKey(k);
  const stakes = [50n, 300n, 200n, 150n, 120n].map((x) => x * TAG);
  chain.block(ops.map((op, i) => chain.tx(op, createBody(i, stakes[i] as bigint)))); // height 1
  const genesisSet = chain.activeSet();
  for (let h = 2; h <= 4; h++) {
    chain.block();
    t.same(chain.activeSet(), genesisSet, `height ${h}: unchanged mid-epoch`);
  }
  chain.block(); // 5: boundary
  // Six candidates, four seats: 300, 200, 150, 120 — G (100) and v0 (50) are out.
  const expected = [1, 2, 3, 4].map((i) => hex((cons[i] as Key).address)).sort();
  t.same(chain.activeSet(), expected, 'top four by stake, sorted by address');
  t.same(loadValidatorSet(chain.state).map((v) => v.power).reduce((a, b) => a + b, 0n), 770n * TAG, 'power = bonded stake');
  t.equal(chain.events('validator_set_changed').length, 1);
  t.same(loadHistorySet(chain.state, 1)?.map((v) => hex(v.address)), expected, 'kept as the set of epoch 1 for evidence');
  t.same(loadHistorySet(chain.state, 0)?.map((v) => hex(v.address)), [hex(G.address)], 'epoch 0 was genesis');

  // Delegating to v0 lifts it above v4 at the next boundary; jailing v1 removes it.
  chain.send(ops[1] as Key, { kind: 'undelegate', validator: (ops[1] as Key).address, amount: 295n * TAG }); // self-stake 5 < 10: jailed
  chain.send(ops[0] as Key, { kind: 'delegate', validator: (ops[0] as Key).address, amount: 100n * TAG }); // v0: 150
  chain.advanceTo(9);
  t.same(chain.activeSet(), expected, 'still the old set at height 9');
  chain.block(); // 10
  const next = [0, 2, 3, 4].map((i) => hex((cons[i] as Key).address)).sort();
  t.same(chain.activeSet(), next, 'v1 (jailed) out, v0 in');
  chain.advanceTo(15);
  t.equal(chain.events('validator_set_changed').length, 2, 'no event when the set stays the same');
});

t.test('an epoch with no eligible validator keeps the set it has', async (t) => {
  const chain = new StakingChain({ validators: [G], accounts: [G] });
  chain.send(G, { kind: 'undelegate', validator: G.address, amount: 95n * TAG }); // jailed: self-stake below 10
  t.equal(chain.validator(G).jailed, true);
  chain.advanceTo(5);
  t.same(chain.activeSet(), [hex(G.address)], 'the chain does not lose its only validator');
});

async function openChain(dir: string, genesis = makeGenesis([ops[0] as Key], { balance: 10_000n * TAG, params: DEFAULT_PARAMS })) {
  const store = await ChainStore.open(dir);
  const view = new StateView(store.state);
  genesisToState(genesis, view);
  saveStakingParams(view, TEST_STAKING_PARAMS);
  await store.initGenesis(view.writes(), genesis.genesisTimeMs, genesisHash(genesis));
  const mempool: Mempool = new Mempool(DEFAULT_MEMPOOL_OPTS, {
    chainId: genesis.chainId,
    params: () => executor.params(),
    account: (address) => loadAccount(store.state, address),
    state: () => store.state,
    height: () => store.head?.height ?? 0,
    log: nullLogger,
  });
  const executor: BlockExecutor = new BlockExecutor({ chainId: genesis.chainId, store, mempool, proposer: fixedKey(0x10).address, log: nullLogger });
  return { store, mempool, executor, genesis };
}

t.test('headers: validatorSetHash is the set that validated the block, nextValidatorSetHash the next; commits are checked against the signing set', async (t) => {
  const v0 = fixedKey(0x10); // makeGenesis's validator, 1000 TAG
  const dir = t.testdir();
  const a = await openChain(join(dir, 'a'));
  t.teardown(() => a.store.close());
  const genesisSet = loadValidatorSet(a.store.state);
  const signers = (h: number): Key[] => (h <= 5 ? [v0] : [v0, cons[0] as Key]);
  const blocks: Uint8Array[] = [];
  for (let h = 1; h <= 7; h++) {
    if (h === 1) {
      const tx = signTx({ chainId: a.genesis.chainId, sender: (ops[0] as Key).publicKey, nonce: 0, maxFee: TAG, body: createBody(0, 5_000n * TAG) }, (ops[0] as Key).secretKey);
      a.mempool.add(tx.bytes);
    }
    const { blockHash } = await a.executor.buildProposal(h, 0, a.genesis.genesisTimeMs + BigInt(h) * 1000n);
    const block = a.executor.proposalBlock(blockHash);
    if (block === null) throw new Error(`block ${h} was not kept`);
    blocks.push(block);
    await a.executor.commitBlock(h, blockHash, signedCommit(a.genesis.chainId, h, blockHash, signers(h)));
  }
  const headers = blocks.map((b) => decodeBlock(b).header);
  const setHashes = headers.map((h) => [hex(h.validatorSetHash), hex(h.nextValidatorSetHash)]);
  const g = hex(validatorSetHash(genesisSet));
  const both = loadValidatorSet(a.store.state);
  t.equal(both.length, 2, 'two validators after the boundary');
  const n = hex(validatorSetHash(both));
  t.same(setHashes, [[g, g], [g, g], [g, g], [g, g], [g, n], [n, n], [n, n]], 'height 5 announces the change; height 6 is validated by the new set');
  t.same(loadLastValidatorSet(a.store.state).length, 2);

  // A second node replays the blocks: block 6 carries height 5's commit (checked against the old
  // set), block 7 height 6's (checked against the new one: v0 alone is no longer > 2/3).
  const b = await openChain(join(dir, 'b'));
  t.teardown(() => b.store.close());
  for (let h = 1; h <= 6; h++) {
    const block = decodeBlock(blocks[h - 1]!);
    const executed = b.executor.executeBlock(block);
    await b.executor.commitBlock(h, executed.hash, signedCommit(b.genesis.chainId, h, executed.hash, signers(h)));
  }
  const seventh = decodeBlock(blocks[6]!);
  t.equal(hex(b.executor.executeBlock(seventh).hash), hex(a.store.head?.blockHash ?? new Uint8Array()), 'block 7 validates on the replaying node');
  const sixth = hashHeader(decodeBlock(blocks[5]!).header);
  const weak = { ...seventh, lastCommit: encodeCommit(signedCommit(b.genesis.chainId, 6, sixth, [v0])) };
  t.equal(codeOf(() => b.executor.executeBlock(weak)), 'BLOCK_BAD_LAST_COMMIT', 'v0 alone cannot certify a block of the new set');
  t.same(b.executor.validatorsAt(7).map((v) => hex(v.address)).sort(), both.map((v) => hex(v.address)), 'validatorsAt follows the state');
});
