/**
 * Genesis and staking: genesis validators become staking validators on the first block (self-stake
 * = power, supply unchanged); the optional `staking` section sets the parameters and leaves the
 * hash of a genesis without it unchanged.
 */
import t from 'tap';
import { bytesToHex } from '../../../lib/index.ts';
import { DEFAULT_STAKING_PARAMS, loadDelegation, loadHistorySet, loadStakingParams, stakingStarted } from '../../../runtime/index.ts';
import { StateView, MapStateReader, loadSupply } from '../../../state/index.ts';
import { genesisHash, genesisToJson, genesisToState, parseGenesis } from '../../../genesis/index.ts';
import { numberedKey } from '../../utils/chain.ts';
import { errorOf, makeGenesis } from '../../utils/factories.ts';
import { StakingChain, TAG, census } from './harness.ts';

const v1 = numberedKey(9700);
const v2 = numberedKey(9701);

t.test('genesis validators become staking validators on block 1, with no TAG moving', async (t) => {
  const chain = new StakingChain({ validators: [v1, v2], power: 250n * TAG });
  t.notOk(stakingStarted(chain.state), 'no staking state at height 0');
  const supply = loadSupply(chain.state);
  chain.block();
  t.ok(stakingStarted(chain.state));
  for (const k of [v1, v2]) {
    const v = chain.validator(k);
    t.same([v.tokens, v.shares, v.commissionBps, bytesToHex(v.consensusAddress), v.jailed], [250n * TAG, 250n * TAG, 0, bytesToHex(k.address), false]);
    t.equal(loadDelegation(chain.state, k.address, k.address)?.shares, 250n * TAG, 'self-delegation = power');
  }
  t.equal(loadSupply(chain.state), supply + TAG, 'only the block reward was added');
  const c = census(chain.state);
  t.equal(c.accounts + c.bonded + c.unbonding, c.supply, 'held = supply');
  t.same(loadHistorySet(chain.state, 0)?.map((v) => v.power), [250n * TAG, 250n * TAG], 'the genesis set is epoch 0’s');
});

t.test('the optional staking section: parsed, checked, stored; absent keeps the hash and the defaults', async (t) => {
  const base = makeGenesis([v1]);
  const json = genesisToJson(base);
  t.notOk('staking' in json, 'no section unless set');
  const plain = parseGenesis(json);
  t.equal(plain.staking, undefined);
  t.equal(bytesToHex(genesisHash(plain)), bytesToHex(genesisHash(base)));
  const view = new StateView(new MapStateReader());
  genesisToState(plain, view);
  t.same(loadStakingParams(view), DEFAULT_STAKING_PARAMS, 'defaults');

  const withSection = parseGenesis({ ...json, staking: { epochBlocks: 10, blockReward: (2n * TAG).toString(), evidenceMaxAgeMs: '1000' } });
  t.same(withSection.staking, { ...DEFAULT_STAKING_PARAMS, epochBlocks: 10, blockReward: 2n * TAG, evidenceMaxAgeMs: 1000n });
  t.not(bytesToHex(genesisHash(withSection)), bytesToHex(genesisHash(base)), 'the section is part of the hash');
  t.same(parseGenesis(genesisToJson(withSection)), withSection, 'round-trips');
  const stored = new StateView(new MapStateReader());
  genesisToState(withSection, stored);
  t.equal(loadStakingParams(stored).blockReward, 2n * TAG, 'stored');

  t.same(errorOf(() => parseGenesis({ ...json, staking: { evidenceMaxAgeBlocks: 200_000 } })), {
    code: 'GENESIS_INVALID_FIELD',
    path: 'staking.evidenceMaxAgeBlocks',
    reason: 'must be below unbondingBlocks',
  });
  t.equal(errorOf(() => parseGenesis({ ...json, staking: { slashDoubleSignBps: 5_001 } }))?.['path'], 'staking.slashDoubleSignBps');
  t.equal(errorOf(() => parseGenesis({ ...json, staking: { blockReward: 1 } }))?.['path'], 'staking.blockReward', 'amounts are strings');
  t.equal(errorOf(() => parseGenesis({ ...json, staking: { epochs: 1 } }))?.code, 'GENESIS_UNKNOWN_FIELD');
});
