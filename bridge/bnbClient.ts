/**
 * viem clients for a BNB Chain JSON-RPC endpoint, as the deposit watcher and the relayer use them:
 * every request has a timeout and a bounded number of retries, so a hung or failing endpoint turns
 * into a typed BridgeError (BRIDGE_RPC_FAILED) that the caller retries on its next poll, never into
 * a call that waits forever. No timers here: viem's HTTP transport times requests out itself.
 */
import {
  BaseError,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Chain,
  type HttpTransport,
  type PublicClient,
  type WalletClient,
  type Hex,
} from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { BridgeError } from './errors.ts';

export type BnbClientOpts = {
  url: string;
  /** The EVM chain id: 56 is BNB Chain, 97 its testnet; the local node's otherwise. */
  chainId: number;
  /** Per request; default 10,000 (viem's default). */
  timeoutMs?: number;
  /** Retries of a failed request inside one call; default 2. */
  retryCount?: number;
  /** How often receipts are polled while waiting for a transaction; default 500. */
  pollingIntervalMs?: number;
};

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RETRY_COUNT = 2;
const DEFAULT_POLLING_MS = 500;

export type BnbWalletClient = WalletClient<HttpTransport, Chain, PrivateKeyAccount>;

/** The viem chain for an endpoint: only the id matters (it is checked against the endpoint's before sending). */
export function bnbChain(opts: BnbClientOpts): Chain {
  return defineChain({
    id: opts.chainId,
    name: `bnb-${opts.chainId}`,
    nativeCurrency: { name: 'BNB', symbol: 'BNB', decimals: 18 },
    rpcUrls: { default: { http: [opts.url] } },
  });
}

function transport(opts: BnbClientOpts): HttpTransport {
  return http(opts.url, { timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, retryCount: opts.retryCount ?? DEFAULT_RETRY_COUNT, retryDelay: 50 });
}

export function createBnbPublicClient(opts: BnbClientOpts): PublicClient {
  return createPublicClient({ chain: bnbChain(opts), transport: transport(opts), pollingInterval: opts.pollingIntervalMs ?? DEFAULT_POLLING_MS, cacheTime: 0 });
}

/** A wallet client that signs locally with `secretKey` (a relayer's funded BNB key; never a validator's bridge key). */
export function createBnbWalletClient(opts: BnbClientOpts, secretKey: Hex): BnbWalletClient {
  return createWalletClient({
    account: privateKeyToAccount(secretKey),
    chain: bnbChain(opts),
    transport: transport(opts),
    pollingInterval: opts.pollingIntervalMs ?? DEFAULT_POLLING_MS,
    cacheTime: 0,
  });
}

/** A short, loggable description of whatever a viem call threw. */
export function describeError(e: unknown): string {
  if (e instanceof BaseError) return e.shortMessage;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Runs one RPC-backed step; any failure that is not already a BridgeError becomes BRIDGE_RPC_FAILED. */
export async function rpcCall<T>(method: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e: unknown) {
    if (e instanceof BridgeError) throw e;
    const error = describeError(e);
    throw new BridgeError({ code: 'BRIDGE_RPC_FAILED', method, error }, `BNB Chain RPC ${method} failed: ${error}`);
  }
}
