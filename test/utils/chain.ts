/** Test helpers: keys, a genesis, and an in-process chain (store + mempool + executor) in a temp dir. */
import { addressFromPublicKey, nullLogger, publicKeyFromSecret, ONE_TAG, sha256, u32ToBytes } from '../../lib/index.ts';
import { signTx, type SignedTx } from '../../runtime/index.ts';
import { ChainStore, DEFAULT_PARAMS, StateView, loadAccount } from '../../state/index.ts';
import { genesisToState, type Genesis } from '../../genesis/index.ts';
import { BlockExecutor } from '../../node/blockExecutor.ts';
import { DEFAULT_MEMPOOL_OPTS, Mempool, type MempoolOpts } from '../../node/mempool.ts';

export type TestKey = { secretKey: Uint8Array; publicKey: Uint8Array; address: Uint8Array };

/** A deterministic key from a small number. */
export function testKey(n: number): TestKey {
  const secretKey = sha256(u32ToBytes(n));
  const publicKey = publicKeyFromSecret(secretKey);
  return { secretKey, publicKey, address: addressFromPublicKey(publicKey) };
}

export const CHAIN_ID = 'test-chain';

export function testGenesis(funded: TestKey[], validator: TestKey = testKey(1000)): Genesis {
  return {
    chainId: CHAIN_ID,
    genesisTimeMs: 1_700_000_000_000n,
    params: DEFAULT_PARAMS,
    validators: [{ name: 'v0', publicKey: validator.publicKey, power: 1000n * ONE_TAG }],
    accounts: funded.map((k) => ({ address: k.address, balance: 1_000_000n * ONE_TAG })),
  };
}

export type TestChain = { store: ChainStore; mempool: Mempool; executor: BlockExecutor };

export async function openTestChain(dir: string, genesis: Genesis, proposer: TestKey = testKey(1000), mempoolOpts: MempoolOpts = DEFAULT_MEMPOOL_OPTS): Promise<TestChain> {
  const store = await ChainStore.open(dir);
  if (store.head === null) {
    const view = new StateView(store.state);
    genesisToState(genesis, view);
    await store.initGenesis(view.writes(), genesis.genesisTimeMs);
  }
  const mempool: Mempool = new Mempool(mempoolOpts, {
    chainId: genesis.chainId,
    params: () => executor.params(),
    account: (a) => loadAccount(store.state, a),
    log: nullLogger,
  });
  const executor: BlockExecutor = new BlockExecutor({ chainId: genesis.chainId, store, mempool, proposer: proposer.address, log: nullLogger });
  return { store, mempool, executor };
}

export function transfer(from: TestKey, nonce: number, to: Uint8Array, amount: bigint, chainId = CHAIN_ID, maxFee = 10n ** 17n): SignedTx {
  return signTx({ chainId, sender: from.publicKey, nonce, maxFee, body: { kind: 'transfer', to, amount } }, from.secretKey);
}
