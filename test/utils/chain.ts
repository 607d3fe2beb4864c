/**
 * A node-level chain for tests: ChainStore (LevelDB in a temp dir) + mempool + block executor, over a
 * genesis from `factories.ts`. Unit tests that need no disk use factories.ts's MemChain instead.
 */
import { addressFromPublicKey, compareBytes, nullLogger, publicKeyFromSecret, sha256, u32ToBytes } from '../../lib/index.ts';
import { VOTE_TYPE, signVote, type Commit, type Vote } from '../../consensus/index.ts';
import { ChainStore, StateView, loadAccount } from '../../state/index.ts';
import { genesisHash, genesisToState, type Genesis } from '../../genesis/index.ts';
import { BlockExecutor } from '../../node/blockExecutor.ts';
import { DEFAULT_MEMPOOL_OPTS, Mempool, type MempoolOpts } from '../../node/mempool.ts';
import { fixedKey, type Key } from './factories.ts';

/** A deterministic key from any u32, for tests that need more keys than `fixedKey`'s 255. */
export function numberedKey(n: number): Key {
  const secretKey = sha256(u32ToBytes(n));
  const publicKey = publicKeyFromSecret(secretKey);
  return { secretKey, publicKey, address: addressFromPublicKey(publicKey) };
}

export type TestChain = { store: ChainStore; mempool: Mempool; executor: BlockExecutor };

/** Opens (and on first use initialises from `genesis`) a chain in `dir`; the proposer defaults to makeGenesis's validator. */
export async function openTestChain(dir: string, genesis: Genesis, proposer: Key = fixedKey(0x10), mempoolOpts: MempoolOpts = DEFAULT_MEMPOOL_OPTS): Promise<TestChain> {
  const store = await ChainStore.open(dir);
  if (store.head === null) {
    const view = new StateView(store.state);
    genesisToState(genesis, view);
    await store.initGenesis(view.writes(), genesis.genesisTimeMs, genesisHash(genesis));
  }
  const mempool: Mempool = new Mempool(mempoolOpts, {
    chainId: genesis.chainId,
    params: () => executor.params(),
    account: (a) => loadAccount(store.state, a),
    state: () => store.state,
    height: () => store.head?.height ?? 0,
    log: nullLogger,
  });
  const executor: BlockExecutor = new BlockExecutor({ chainId: genesis.chainId, store, mempool, proposer: proposer.address, log: nullLogger });
  return { store, mempool, executor };
}

/** A commit certificate for `blockHash` signed by `signers` (sorted by address, as verifyCommit wants). */
export function signedCommit(chainId: string, height: number, blockHash: Uint8Array, signers: readonly Key[] = [fixedKey(0x10)]): Commit {
  const sorted = [...signers].sort((a, b) => compareBytes(a.address, b.address));
  const signatures = sorted.map((k) => {
    const vote: Vote = { type: VOTE_TYPE.precommit, height, round: 0, blockHash, validator: k.address };
    return { validator: k.address, signature: signVote(chainId, vote, k.secretKey) };
  });
  return { height, round: 0, blockHash, signatures };
}
