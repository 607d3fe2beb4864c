/**
 * What the query indexes cost and give (docs/spec/storage.md §Indexes): blocks of 2,000 transfers
 * built, executed and committed to a real LevelDB store with `storage.index` on and off (commit time
 * per block, the difference per transfer), then the reads they serve: an account's newest 100
 * transactions and a page of 100 events of one type, on the indexed store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ONE_TAG, addressToString, nullLogger } from '../lib/index.ts';
import { signTx } from '../runtime/index.ts';
import { ChainStore, StateView, loadAccount } from '../state/index.ts';
import { genesisHash, genesisToState } from '../genesis/index.ts';
import { BlockExecutor } from '../node/blockExecutor.ts';
import { DEFAULT_MEMPOOL_OPTS, Mempool } from '../node/mempool.ts';
import { numberedKey } from '../test/utils/chain.ts';
import { makeGenesis, type Key } from '../test/utils/factories.ts';

const BLOCKS = 8;
const PER_BLOCK = 2_000;
const SENDERS = 2_000;

type Run = { commitMsPerBlock: number[]; store: ChainStore; dir: string; keys: Key[] };

async function runChain(index: boolean): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'tagger-bench-index-'));
  const keys = Array.from({ length: SENDERS }, (_, i) => numberedKey(50_000 + i));
  const genesis = makeGenesis(keys, { balance: 1_000n * ONE_TAG });
  const store = await ChainStore.open(dir);
  const view = new StateView(store.state);
  genesisToState(genesis, view);
  await store.initGenesis(view.writes(), genesis.genesisTimeMs, genesisHash(genesis));
  const mempool: Mempool = new Mempool({ ...DEFAULT_MEMPOOL_OPTS, txCountMax: 50_000 }, {
    chainId: genesis.chainId,
    params: () => executor.params(),
    account: (a) => loadAccount(store.state, a),
    state: () => store.state,
    height: () => store.head?.height ?? 0,
    log: nullLogger,
  });
  const executor: BlockExecutor = new BlockExecutor({ chainId: genesis.chainId, store, mempool, proposer: keys[0]!.address, log: nullLogger, index });
  const commitMsPerBlock: number[] = [];
  for (let h = 1; h <= BLOCKS; h++) {
    for (let i = 0; i < PER_BLOCK; i++) {
      const from = keys[i % SENDERS]!;
      const to = keys[(i * 7 + h) % SENDERS]!;
      const tx = signTx({ chainId: genesis.chainId, sender: from.publicKey, nonce: h - 1, maxFee: ONE_TAG, body: { kind: 'transfer', to: to.address, amount: 1n } }, from.secretKey);
      mempool.add(tx.bytes);
    }
    const { blockHash } = await executor.buildProposal(h, 0, genesis.genesisTimeMs + BigInt(h) * 1000n);
    const t0 = performance.now();
    await executor.commitBlock(h, blockHash, { height: h, round: 0, blockHash, signatures: [] });
    commitMsPerBlock.push(performance.now() - t0);
  }
  return { commitMsPerBlock, store, dir, keys };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<Record<string, unknown>> {
  const off = await runChain(false);
  await off.store.close();
  await rm(off.dir, { recursive: true, force: true });
  const on = await runChain(true);
  const reads = { accountTxs: [] as number[], eventsByType: [] as number[], eventsByAccount: [] as number[] };
  for (let i = 0; i < 50; i++) {
    const key = on.keys[(i * 37) % SENDERS]!;
    let t0 = performance.now();
    await on.store.accountTxs(key.address, null, 100);
    reads.accountTxs.push(performance.now() - t0);
    t0 = performance.now();
    await on.store.events({ term: 'type:transfer', fromHeight: 1 + (i % BLOCKS), toHeight: BLOCKS, after: null, limit: 100 });
    reads.eventsByType.push(performance.now() - t0);
    t0 = performance.now();
    await on.store.events({ term: `account:${addressToString(key.address)}`, fromHeight: 1, toHeight: BLOCKS, after: null, limit: 100 });
    reads.eventsByAccount.push(performance.now() - t0);
  }
  await on.store.close();
  await rm(on.dir, { recursive: true, force: true });
  const offMs = median(off.commitMsPerBlock);
  const onMs = median(on.commitMsPerBlock);
  return {
    transfersPerBlock: PER_BLOCK,
    commitMsPerBlockIndexOff: Math.round(offMs * 10) / 10,
    commitMsPerBlockIndexOn: Math.round(onMs * 10) / 10,
    indexCostMicrosPerTransfer: Math.round(((onMs - offMs) / PER_BLOCK) * 1000 * 10) / 10,
    readMsMedian: {
      accountNewest100: Math.round(median(reads.accountTxs) * 100) / 100,
      eventsByType100: Math.round(median(reads.eventsByType) * 100) / 100,
      eventsByAccount100: Math.round(median(reads.eventsByAccount) * 100) / 100,
    },
  };
}
