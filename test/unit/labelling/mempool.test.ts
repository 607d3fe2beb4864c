import t from 'tap';
import { ONE_TAG, nullLogger } from '../../../lib/index.ts';
import { loadAccount } from '../../../state/index.ts';
import { DEFAULT_MEMPOOL_OPTS, Mempool } from '../../../node/mempool.ts';
import { numberedKey } from '../../utils/chain.ts';
import { fixedKey } from '../../utils/factories.ts';
import { LabellingChain, commitBody, openTask, stakeAll, taskSpec } from '../../utils/labelling.ts';

t.test('the mempool admits a seat holder\'s label transactions without a balance, and nothing else', async (t) => {
  const requester = fixedKey(1);
  const funded = Array.from({ length: 4 }, (_, i) => numberedKey(700 + i));
  const chain = LabellingChain.withAccounts([requester, ...funded]);
  const poor = numberedKey(800);
  chain.send(funded[0]!, { kind: 'transfer', to: poor.address, amount: 1_000n * ONE_TAG + ONE_TAG / 500n });
  chain.send(poor, { kind: 'annotatorStake', amount: 1_000n * ONE_TAG });
  t.ok(chain.balance(poor) < ONE_TAG / 1000n, "less than one transfer fee left");
  stakeAll(chain, funded);
  const id = openTask(chain, requester, taskSpec({ itemCount: 2, answersMin: 5, answersMax: 5 }));
  chain.block();
  const seats = chain.assignment(id, 0, poor);
  t.ok(seats !== null, 'the poor annotator holds seats');

  const pool = new Mempool(DEFAULT_MEMPOOL_OPTS, {
    chainId: chain.genesis.chainId,
    params: () => chain.params,
    account: (a) => loadAccount(chain.state, a),
    height: () => chain.height,
    state: () => chain.state,
    log: nullLogger,
  });
  const commit = chain.tx(poor, commitBody(id, 0, poor, seats!.items.map((item) => ({ item, label: 0 }))).body);
  t.equal(pool.add(commit.bytes).duplicate, false, 'a sponsored commit is admitted');
  const transfer = chain.tx(poor, { kind: 'transfer', to: requester.address, amount: 1n });
  let code = 'admitted';
  try {
    pool.add(transfer.bytes);
  } catch (e: unknown) {
    code = (e as { code: string }).code;
  }
  t.equal(code, 'TX_CANNOT_PAY_FEE', 'an unsponsored transaction still needs the balance');
  const stranger = numberedKey(801);
  const foreign = chain.tx(stranger, commitBody(id, 0, stranger, [{ item: 0, label: 0 }]).body);
  code = 'admitted';
  try {
    pool.add(foreign.bytes);
  } catch (e: unknown) {
    code = (e as { code: string }).code;
  }
  t.equal(code, 'TX_CANNOT_PAY_FEE', 'a label transaction without seats is not sponsored');
});
