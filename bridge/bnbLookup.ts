/**
 * Finds the BNB Chain transactions of the bridge's releases and checkpoint submissions, for the
 * node's RPC (`RpcDeps.bnb`, rpc/bridgeViews.ts `BridgeBnbLookup`): `eth_getLogs` for
 * WithdrawalReleased(nonce) or CheckpointAccepted(number) — both indexed — on the bridge contract,
 * from the newest block back to `fromBlock` (the contract's deployment), in chunks a public RPC
 * accepts. Every search is bounded (`chunksMax` requests); a hash found is kept in a bounded cache.
 *
 * Does no I/O of its own: the JSON-RPC client (viem's PublicClient, with its own transport, timeout
 * and retries) is given by the node. A release later undone by a BNB Chain reorg stays cached until
 * evicted: the lookup is informational, nothing on Tagger chain depends on it.
 */
import { getAbiItem, type Hex, type PublicClient } from 'viem';
import { TAGGER_BRIDGE } from './contracts/artifacts.ts';

export type BnbLookupOpts = {
  /** The TaggerBridge contract. */
  bridge: Hex;
  /** First block to search (the contract's deployment block). */
  fromBlock: bigint;
  /** Blocks per eth_getLogs request. Default 5,000 (public BNB Chain endpoints accept up to about 10,000). */
  chunkBlocks?: bigint;
  /** eth_getLogs requests per search, at most. Default 200. */
  chunksMax?: number;
  /** Hashes remembered, at most. Default 4,096. */
  cacheMax?: number;
};

export const BNB_LOOKUP_DEFAULTS = { chunkBlocks: 5_000n, chunksMax: 200, cacheMax: 4_096 } as const;

/** What the lookup needs of a viem PublicClient. */
export type BnbLogsClient = Pick<PublicClient, 'getBlockNumber' | 'getLogs'>;

const RELEASED = getAbiItem({ abi: TAGGER_BRIDGE.abi, name: 'WithdrawalReleased' });
const ACCEPTED = getAbiItem({ abi: TAGGER_BRIDGE.abi, name: 'CheckpointAccepted' });

export class BnbLookup {
  private readonly client: BnbLogsClient;
  private readonly bridge: Hex;
  private readonly fromBlock: bigint;
  private readonly chunkBlocks: bigint;
  private readonly chunksMax: number;
  private readonly cacheMax: number;
  /** Found hashes by `release:N` / `checkpoint:N`, oldest first (Map keeps insertion order). */
  private readonly cache = new Map<string, Hex>();

  constructor(client: BnbLogsClient, opts: BnbLookupOpts) {
    this.client = client;
    this.bridge = opts.bridge;
    this.fromBlock = opts.fromBlock;
    this.chunkBlocks = opts.chunkBlocks ?? BNB_LOOKUP_DEFAULTS.chunkBlocks;
    this.chunksMax = opts.chunksMax ?? BNB_LOOKUP_DEFAULTS.chunksMax;
    this.cacheMax = opts.cacheMax ?? BNB_LOOKUP_DEFAULTS.cacheMax;
  }

  /** The transaction that released withdrawal `nonce` (WithdrawalReleased), or null. */
  async releaseTx(nonce: number): Promise<Hex | null> {
    return this.find(`release:${nonce}`, async (fromBlock, toBlock) => {
      const logs = await this.client.getLogs({ address: this.bridge, event: RELEASED, args: { nonce: BigInt(nonce) }, fromBlock, toBlock });
      return logs.at(-1)?.transactionHash ?? null;
    });
  }

  /** The transaction that submitted checkpoint `number` (CheckpointAccepted), or null. */
  async checkpointTx(number: number): Promise<Hex | null> {
    return this.find(`checkpoint:${number}`, async (fromBlock, toBlock) => {
      const logs = await this.client.getLogs({ address: this.bridge, event: ACCEPTED, args: { number: BigInt(number) }, fromBlock, toBlock });
      return logs.at(-1)?.transactionHash ?? null;
    });
  }

  /** Searches chunk by chunk from the newest block back, at most `chunksMax` chunks. */
  private async find(key: string, search: (fromBlock: bigint, toBlock: bigint) => Promise<Hex | null>): Promise<Hex | null> {
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    let to = await this.client.getBlockNumber();
    for (let i = 0; i < this.chunksMax && to >= this.fromBlock; i++) {
      const from = to - this.chunkBlocks + 1n > this.fromBlock ? to - this.chunkBlocks + 1n : this.fromBlock;
      const hash = await search(from, to);
      if (hash !== null) {
        this.remember(key, hash);
        return hash;
      }
      to = from - 1n;
    }
    return null;
  }

  private remember(key: string, hash: Hex): void {
    if (this.cache.size >= this.cacheMax) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
    this.cache.set(key, hash);
  }
}
