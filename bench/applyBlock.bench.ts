/**
 * applyBlock throughput for a block of 10,000 transfers (with and without signature checks), and
 * the state-root update for the block's changed keys, over a state of 100,000 funded accounts.
 */
import { ONE_TAG, addressFromPublicKey, publicKeyFromSecret, sha256, u32ToBytes } from '../lib/index.ts';
import { applyBlockTxs, signTx, type BlockEnv } from '../runtime/index.ts';
import { DEFAULT_PARAMS, MapStateReader, SparseMerkleTree, StateView, encodeAccount, accountKey, SUPPLY_KEY, encodeSupply } from '../state/index.ts';

const TXS = 10_000;
const ACCOUNTS = 100_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

export async function run(): Promise<Record<string, unknown>> {
  const base = new MapStateReader();
  const entries: Array<readonly [Uint8Array, Uint8Array]> = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    const address = sha256(u32ToBytes(i)).subarray(0, 20);
    const entry = [accountKey(address), encodeAccount({ balance: 1000n * ONE_TAG, nonce: 0 })] as const;
    entries.push(entry);
  }
  base.apply(entries);
  // 10,000 distinct senders, each paying a distinct fresh recipient: 20,000 changed accounts.
  const senders = Array.from({ length: TXS }, (_, i) => {
    const secretKey = sha256(u32ToBytes(ACCOUNTS + i));
    const publicKey = publicKeyFromSecret(secretKey);
    return { secretKey, publicKey, address: addressFromPublicKey(publicKey) };
  });
  base.apply(senders.map((s) => [accountKey(s.address), encodeAccount({ balance: 1000n * ONE_TAG, nonce: 0 })] as const));
  const txs = senders.map((s, i) =>
    signTx({ chainId: 'bench', sender: s.publicKey, nonce: 0, maxFee: ONE_TAG, body: { kind: 'transfer', to: sha256(u32ToBytes(9_000_000 + i)).subarray(0, 20), amount: 1n } }, s.secretKey).bytes,
  );
  base.apply([[SUPPLY_KEY, encodeSupply(10n ** 30n)]]);
  const tree = SparseMerkleTree.fromEntries([...base.entries()]);
  const params = { ...DEFAULT_PARAMS, blockTxCountMax: TXS };
  const env = (verifySignatures: boolean): BlockEnv => ({ chainId: 'bench', height: 1, timeMs: 1n, proposer: new Uint8Array(20), seed: new Uint8Array(32), verifySignatures });

  const measure = (verifySignatures: boolean): { ms: number; writes: ReturnType<StateView['writes']> } => {
    const view = new StateView(base);
    const t0 = performance.now();
    const { receipts } = applyBlockTxs(view, txs, env(verifySignatures), params);
    const ms = performance.now() - t0;
    if (receipts.length !== TXS || receipts.some((r) => r.status !== 0)) throw new Error('bench block failed');
    return { ms, writes: view.writes() };
  };
  measure(false); // warm-up
  const noSig: number[] = [];
  const withSig: number[] = [];
  const rootMs: number[] = [];
  let changedKeys = 0;
  for (let i = 0; i < Number(process.env["BENCH_REPS"] ?? 5); i++) {
    const { ms, writes } = measure(false);
    noSig.push(ms);
    changedKeys = writes.length;
    const t0 = performance.now();
    const next = tree.update(writes);
    if (next.root.length !== 32) throw new Error('no root');
    rootMs.push(performance.now() - t0);
  }
  // The first pass meets every sender's key for the first time: the node then imports the key and
  // checks it is not of small order (~0.1 ms, once per key, cached). Later passes are warm.
  const withSigColdMs = measure(true).ms;
  for (let i = 0; i < 3; i++) withSig.push(measure(true).ms);
  return {
    stateAccounts: ACCOUNTS + TXS,
    blockTxs: TXS,
    applyTxsPerSecNoSignatureChecks: Math.round(TXS / (median(noSig) / 1000)),
    applyTxsPerSecWithSignatureChecks: Math.round(TXS / (median(withSig) / 1000)),
    applyTxsPerSecWithSignatureChecksNewKeys: Math.round(TXS / (withSigColdMs / 1000)),
    changedKeys,
    stateRootUpdateMs: Math.round(median(rootMs) * 10) / 10,
  };
}
