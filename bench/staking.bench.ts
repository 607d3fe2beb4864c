/**
 * The staking module's per-block cost (liveness from the last commit, reward distribution, block
 * time record) by validator-set size: an empty block except one transfer (so that there are fees to
 * distribute), a block reward, one validator missing every tenth commit; and an epoch boundary.
 */
import { ONE_TAG, addressFromPublicKey, compareBytes, publicKeyFromSecret, sha256, u32ToBytes } from '../lib/index.ts';
import { DEFAULT_STAKING_PARAMS, applyBlockTxs, signTx } from '../runtime/index.ts';
import { DEFAULT_PARAMS, MapStateReader, SparseMerkleTree, StateView } from '../state/index.ts';
import { encodeCommit } from '../consensus/index.ts';
import { genesisToState, type Genesis } from '../genesis/index.ts';

const CHAIN_ID = 'tagger-bench-1';
const BLOCKS = 500;

function key(n: number): { secretKey: Uint8Array; publicKey: Uint8Array; address: Uint8Array } {
  const secretKey = sha256(u32ToBytes(n));
  const publicKey = publicKeyFromSecret(secretKey);
  return { secretKey, publicKey, address: addressFromPublicKey(publicKey) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function measure(validators: number): Promise<Record<string, number>> {
  const vals = Array.from({ length: validators }, (_, i) => key(50_000 + i)).sort((a, b) => compareBytes(a.address, b.address));
  const sender = key(1);
  const genesis: Genesis = {
    chainId: CHAIN_ID,
    genesisTimeMs: 1_767_225_600_000n,
    params: DEFAULT_PARAMS,
    validators: vals.map((v, i) => ({ name: `v${i}`, publicKey: v.publicKey, power: 1_000n * ONE_TAG })),
    accounts: [{ address: sender.address, balance: 1_000_000n * ONE_TAG }],
    staking: { ...DEFAULT_STAKING_PARAMS, activeValidatorsMax: 200, blockReward: ONE_TAG, epochBlocks: 100 },
  };
  const state = new MapStateReader();
  const g = new StateView(state);
  genesisToState(genesis, g);
  state.apply(g.writes());
  let tree = SparseMerkleTree.empty().update(g.writes());
  const apply: number[] = [];
  const root: number[] = [];
  const writes: number[] = [];
  let epochMs = 0;
  for (let h = 1; h <= BLOCKS; h++) {
    const signers = h === 1 ? [] : vals.filter((_, j) => !(h % 10 === 0 && j === h % validators));
    const lastCommit = h === 1 ? new Uint8Array(0) : encodeCommit({ height: h - 1, round: 0, blockHash: new Uint8Array(32), signatures: signers.map((v) => ({ validator: v.address, signature: new Uint8Array(64) })) });
    const tx = signTx({ chainId: CHAIN_ID, sender: sender.publicKey, nonce: h - 1, maxFee: ONE_TAG, body: { kind: 'transfer', to: key(2).address, amount: 1n } }, sender.secretKey);
    const view = new StateView(state);
    const t0 = performance.now();
    applyBlockTxs(view, [tx.bytes], { chainId: CHAIN_ID, height: h, timeMs: genesis.genesisTimeMs + BigInt(h) * 1000n, proposer: (vals[0] as { address: Uint8Array }).address, seed: new Uint8Array(32), verifySignatures: false, lastCommit }, genesis.params);
    const t1 = performance.now();
    const w = view.writes();
    tree = tree.update(w);
    const t2 = performance.now();
    state.apply(w);
    if (h % 100 === 0) epochMs = t1 - t0;
    else if (h > 10) {
      apply.push(t1 - t0);
      root.push(t2 - t1);
      writes.push(w.length);
    }
  }
  return { applyMsMedian: +median(apply).toFixed(3), stateRootMsMedian: +median(root).toFixed(3), writesPerBlock: median(writes), epochBoundaryMs: +epochMs.toFixed(3) };
}

export async function run(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { blocks: BLOCKS, note: 'one transfer per block; applyBlockTxs incl. labelling and staking end-block' };
  for (const n of [4, 100, 200]) out[`validators${n}`] = await measure(n);
  return out;
}
