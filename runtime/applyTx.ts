/**
 * Applies one signed transaction to a state view. Pure and synchronous: same view + same
 * transaction + same environment → same writes and receipt.
 *
 * Order (docs/spec/runtime.md §Transactions):
 *   1. validity — chain id, size, signature, nonce, fee: a failure rejects the transaction, which
 *      changes nothing and cannot be included in a block;
 *   2. fee and nonce — the fee is charged and the nonce advanced, whatever happens next;
 *   3. execution — in a forked view: success merges its writes, failure drops them and the receipt
 *      carries the reason code.
 * Fees are tallied and paid out once per block by `settleFees` (the proposer's share, the burn).
 */
import { ChainError, addressToString } from '../lib/index.ts';
import { loadAccount, loadSupply, saveAccount, saveSupply, type Params, type StateView } from '../state/index.ts';
import { RECEIPT_STATUS, type ChainEvent, type Receipt } from './block.ts';
import { TxError, type TxFailureCode, type TxRejectCode } from './errors.ts';
import { verifyTxSignature, type SignedTx, type TransferBody } from './tx.ts';

export type BlockEnv = {
  chainId: string;
  height: number;
  timeMs: bigint;
  proposer: Uint8Array;
  /** 32 bytes the proposer cannot choose alone (`blockSeed`): seeds the runtime's sampling. */
  seed: Uint8Array;
  /** False when every transaction's signature was checked already (e.g. at the mempool door). */
  verifySignatures: boolean;
};

/**
 * Fees collected while applying one block's transactions; `settleFees` pays them out once at the end
 * of the block, so that each transaction does not rewrite the proposer's account and the supply.
 */
export type FeeTally = { toProposer: bigint; burned: bigint };

export function newFeeTally(): FeeTally {
  return { toProposer: 0n, burned: 0n };
}

/** Credits the proposer's share and burns the rest: the last write of every block. */
export function settleFees(view: StateView, tally: FeeTally, proposer: Uint8Array): void {
  if (tally.toProposer > 0n) {
    const account = loadAccount(view, proposer);
    saveAccount(view, proposer, { ...account, balance: account.balance + tally.toProposer });
  }
  if (tally.burned > 0n) saveSupply(view, loadSupply(view) - tally.burned);
}

export type TxOutcome = { ok: true; receipt: Receipt } | { ok: false; error: TxError };

/** The fee a transaction of `txBytes` bytes must pay. */
export function requiredFee(params: Params, txBytes: number): bigint {
  return params.baseFee + params.perByteFee * BigInt(txBytes);
}

function reject(code: TxRejectCode, detail: string): TxOutcome {
  return { ok: false, error: new TxError({ code, detail }, `${code}: ${detail}`) };
}

/** Thrown inside execution to fail the transaction; caught in applyTx and turned into a receipt. */
class TxFailure extends ChainError<{ code: TxFailureCode }> {}

export function applyTx(view: StateView, signed: SignedTx, env: BlockEnv, params: Params, fees: FeeTally): TxOutcome {
  const { tx } = signed;
  if (tx.chainId !== env.chainId) return reject('TX_WRONG_CHAIN', `expected chain id ${env.chainId}`);
  if (signed.bytes.length > params.txBytesMax) {
    return reject('TX_TOO_LARGE', `${signed.bytes.length} bytes exceeds ${params.txBytesMax}`);
  }
  if (env.verifySignatures && !verifyTxSignature(signed)) return reject('TX_BAD_SIGNATURE', 'signature does not verify');
  const sender = loadAccount(view, signed.senderAddress);
  if (tx.nonce !== sender.nonce) return reject('TX_BAD_NONCE', `expected nonce ${sender.nonce}, got ${tx.nonce}`);
  const fee = requiredFee(params, signed.bytes.length);
  if (tx.maxFee < fee) return reject('TX_FEE_TOO_LOW', `fee is ${fee}, maxFee is ${tx.maxFee}`);
  if (sender.balance < fee) return reject('TX_CANNOT_PAY_FEE', `fee is ${fee}, balance is ${sender.balance}`);

  saveAccount(view, signed.senderAddress, { balance: sender.balance - fee, nonce: sender.nonce + 1 });
  const feeEvent = chargeFee(fees, signed.senderAddress, fee, params);

  const child = view.fork();
  const events: ChainEvent[] = [feeEvent];
  try {
    events.push(...executeBody(child, signed));
  } catch (e: unknown) {
    if (!(e instanceof TxFailure)) throw e; // Anything else is a bug: let it halt the node.
    return { ok: true, receipt: { txHash: signed.hash, status: RECEIPT_STATUS.failed, code: e.code, fee, events } };
  }
  child.commit();
  return { ok: true, receipt: { txHash: signed.hash, status: RECEIPT_STATUS.ok, code: '', fee, events } };
}

/** Splits the fee: `feeBurnPercent` is burned, the rest goes to the block's proposer. */
function chargeFee(fees: FeeTally, payer: Uint8Array, fee: bigint, params: Params): ChainEvent {
  const burned = (fee * BigInt(params.feeBurnPercent)) / 100n;
  fees.burned += burned;
  fees.toProposer += fee - burned;
  return {
    type: 'fee',
    attributes: [
      ['payer', addressToString(payer)],
      ['amount', fee.toString()],
      ['burned', burned.toString()],
    ],
  };
}

function executeBody(view: StateView, signed: SignedTx): ChainEvent[] {
  const body = signed.tx.body;
  switch (body.kind) {
    case 'transfer':
      return executeTransfer(view, signed.senderAddress, body);
  }
}

function executeTransfer(view: StateView, from: Uint8Array, body: TransferBody): ChainEvent[] {
  if (body.amount === 0n) throw new TxFailure({ code: 'TX_ZERO_AMOUNT' });
  const sender = loadAccount(view, from);
  if (sender.balance < body.amount) throw new TxFailure({ code: 'TX_INSUFFICIENT_BALANCE' });
  saveAccount(view, from, { ...sender, balance: sender.balance - body.amount });
  const recipient = loadAccount(view, body.to);
  saveAccount(view, body.to, { ...recipient, balance: recipient.balance + body.amount });
  return [
    {
      type: 'transfer',
      attributes: [
        ['from', addressToString(from)],
        ['to', addressToString(body.to)],
        ['amount', body.amount.toString()],
      ],
    },
  ];
}
