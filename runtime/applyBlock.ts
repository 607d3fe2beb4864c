/**
 * Applies a block's transactions (validating a block) or picks them from candidates (building
 * one). Both run every transaction through `applyTx`, so a built block always validates.
 * See docs/spec/runtime.md §Blocks.
 */
import { bytesToHex, equalBytes, isChainError } from '../lib/index.ts';
import { loadAccount, type Params, type StateView } from '../state/index.ts';
import { BLOCK_VERSION, type Header, type Receipt } from './block.ts';
import { BlockError, type TxError } from './errors.ts';
import { applyTx, endBlockReceipts, newFeeTally, type BlockEnv } from './applyTx.ts';
import { labellingEndBlock } from './labelling/index.ts';
import { passportEndBlock } from './passport/index.ts';
import { bridgeEndBlock } from './bridge/index.ts';
import { stakingBeginBlock, stakingEndBlock } from './staking/index.ts';
import { decodeSignedTx, type SignedTx } from './tx.ts';

/** Applies every transaction of a block in order; any transaction that cannot be included makes the whole block invalid. */
export function applyBlockTxs(view: StateView, txs: readonly Uint8Array[], env: BlockEnv, params: Params): { receipts: Receipt[]; decoded: SignedTx[] } {
  if (txs.length > params.blockTxCountMax) {
    throw new BlockError({ code: 'BLOCK_TOO_MANY_TXS', count: txs.length, max: params.blockTxCountMax });
  }
  let bytes = 0;
  for (const tx of txs) bytes += tx.length;
  if (bytes > params.blockBytesMax) throw new BlockError({ code: 'BLOCK_TOO_LARGE', bytes, max: params.blockBytesMax });

  const receipts: Receipt[] = [];
  const decoded: SignedTx[] = [];
  const fees = newFeeTally();
  stakingBeginBlock(view, env);
  txs.forEach((txBytes, index) => {
    let signed: SignedTx;
    try {
      signed = decodeSignedTx(txBytes, params.txBytesMax);
    } catch (e: unknown) {
      if (!isChainError(e)) throw e;
      throw new BlockError({ code: 'BLOCK_TX_UNDECODABLE', index, reason: e.message }, `tx ${index}: ${e.message}`);
    }
    const outcome = applyTx(view, signed, env, params, fees);
    if (!outcome.ok) {
      const { code, detail } = outcome.error.type;
      throw new BlockError({ code: 'BLOCK_TX_REJECTED', index, reason: code, detail }, `tx ${index}: ${outcome.error.message}`);
    }
    receipts.push(outcome.receipt);
    decoded.push(signed);
  });
  receipts.push(...endBlockReceipts(labellingEndBlock(view, env)));
  receipts.push(...endBlockReceipts(passportEndBlock(view, env)));
  receipts.push(...endBlockReceipts(bridgeEndBlock(view, env)));
  // Fees and block rewards go to the validators by power (runtime/staking/rewards.ts).
  receipts.push(...endBlockReceipts(stakingEndBlock(view, env, fees)));
  return { receipts, decoded };
}

export type BuiltTxs = {
  included: SignedTx[];
  receipts: Receipt[];
  rejected: Array<{ tx: SignedTx; error: TxError }>;
};

/**
 * Picks, in order, the candidates that can be included, within the block's count and byte limits.
 * Candidates that can never be included are returned as rejected, so the mempool can drop them.
 * Once one of a sender's transactions is left out (it does not fit, or its nonce is not next), the
 * sender's later ones are left out too, not rejected: they wait for the next block.
 */
export function buildBlockTxs(view: StateView, candidates: Iterable<SignedTx>, env: BlockEnv, params: Params): BuiltTxs {
  const out: BuiltTxs = { included: [], receipts: [], rejected: [] };
  const deferred = new Set<string>();
  let bytes = 0;
  const fees = newFeeTally();
  stakingBeginBlock(view, env);
  for (const tx of candidates) {
    if (out.included.length >= params.blockTxCountMax) break;
    const sender = bytesToHex(tx.senderAddress);
    if (deferred.has(sender)) continue;
    if (bytes + tx.bytes.length > params.blockBytesMax) {
      deferred.add(sender);
      continue;
    }
    const outcome = applyTx(view, tx, env, params, fees);
    if (!outcome.ok) {
      if (outcome.error.code === 'TX_BAD_NONCE' && tx.tx.nonce > loadAccount(view, tx.senderAddress).nonce) deferred.add(sender);
      else out.rejected.push({ tx, error: outcome.error });
      continue;
    }
    bytes += tx.bytes.length;
    out.included.push(tx);
    out.receipts.push(outcome.receipt);
  }
  out.receipts.push(...endBlockReceipts(labellingEndBlock(view, env)));
  out.receipts.push(...endBlockReceipts(passportEndBlock(view, env)));
  out.receipts.push(...endBlockReceipts(bridgeEndBlock(view, env)));
  out.receipts.push(...endBlockReceipts(stakingEndBlock(view, env, fees)));
  return out;
}

export type ParentInfo = { height: number; hash: Uint8Array; timeMs: bigint };

/** Checks the parts of a header that follow from its parent and the chain, before execution. */
export function validateHeaderLinkage(header: Header, parent: ParentInfo, chainId: string): void {
  if (header.version !== BLOCK_VERSION) throw new BlockError({ code: 'BLOCK_WRONG_VERSION', version: header.version });
  if (header.chainId !== chainId) throw new BlockError({ code: 'BLOCK_WRONG_CHAIN', chainId: header.chainId });
  if (header.height !== parent.height + 1) {
    throw new BlockError({ code: 'BLOCK_WRONG_HEIGHT', expected: parent.height + 1, actual: header.height });
  }
  if (!equalBytes(header.parentHash, parent.hash)) {
    throw new BlockError({ code: 'BLOCK_WRONG_PARENT' }, `parent hash ${bytesToHex(header.parentHash)} is not ${bytesToHex(parent.hash)}`);
  }
  if (header.timeMs <= parent.timeMs) {
    throw new BlockError({
      code: 'BLOCK_TIME_NOT_INCREASING',
      parentTimeMs: parent.timeMs.toString(),
      timeMs: header.timeMs.toString(),
    });
  }
}
