/**
 * Building, signing and sending transactions: the SDK's write path, used by the CLI. A sender needs
 * the chain id and its next nonce; `sendTx` reads both from the node, signs and submits. The nonce
 * is the account's `pendingNonce`, which counts its transactions already waiting in the node's
 * mempool, so several can be sent one after another without waiting for each to be committed.
 */
import { addressFromPublicKey, addressToString, parseTag, publicKeyFromSecret } from '../lib/index.ts';
import { signTx, type SignedTx, type Tx, type TxBody } from '../runtime/index.ts';
import type { CommittedTxJson, TaggerClient } from './client.ts';

/** Default fee ceiling: 0.01 TAG, well above the devnet's fee for any transfer. */
export const MAX_FEE_DEFAULT = parseTag('0.01');

export type BuildTxOpts = { chainId: string; nonce: number; maxFee?: bigint };

/** A transaction from `secretKey`'s account, ready to sign. */
export function buildTx(secretKey: Uint8Array, body: TxBody, opts: BuildTxOpts): Tx {
  return { chainId: opts.chainId, sender: publicKeyFromSecret(secretKey), nonce: opts.nonce, maxFee: opts.maxFee ?? MAX_FEE_DEFAULT, body };
}

export function buildTransfer(to: Uint8Array, amount: bigint): TxBody {
  return { kind: 'transfer', to, amount };
}

export type SendTxOpts = { maxFee?: bigint; wait?: boolean; timeoutMs?: number };

/**
 * Signs `body` with the chain id and the account's pending nonce read from the node, submits it,
 * and (by default) waits until it is committed. Resolves to the committed transaction, or to the
 * submission when `wait` is false.
 *
 * Sequential calls with `wait: false` get consecutive nonces, because each reads the nonce after
 * the previous one is in the mempool. Concurrent calls for one account can read the same nonce:
 * the second is refused with MEMPOOL_NONCE_TAKEN. The node's mempool only counts transactions it
 * holds; when sending through several nodes, track nonces locally and use `buildTx`.
 */
export async function sendTx(
  client: TaggerClient,
  secretKey: Uint8Array,
  body: TxBody,
  opts: SendTxOpts = {},
): Promise<{ signed: SignedTx; committed: CommittedTxJson | null }> {
  const address = addressToString(addressFromPublicKey(publicKeyFromSecret(secretKey)));
  const [status, account] = await Promise.all([client.status(), client.account(address)]);
  const tx = buildTx(secretKey, body, { chainId: status.chainId, nonce: account.pendingNonce, ...(opts.maxFee === undefined ? {} : { maxFee: opts.maxFee }) });
  const signed = signTx(tx, secretKey);
  const submitted = await client.submitTx(signed.bytes);
  if (opts.wait === false) return { signed, committed: null };
  return { signed, committed: await client.waitForTx(submitted.hash, { timeoutMs: opts.timeoutMs ?? 60_000, pollMs: 250 }) };
}
