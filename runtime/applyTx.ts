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
 */
import { addressToString } from '../lib/index.ts';
import { loadAccount, loadSupply, saveAccount, saveSupply, type Params, type StateView } from '../state/index.ts';
import { RECEIPT_STATUS, type ChainEvent, type Receipt } from './block.ts';
import { TxError, type TxFailureCode, type TxRejectCode } from './errors.ts';
import { verifyTxSignature, type SignedTx, type TransferBody } from './tx.ts';

export type BlockEnv = {
  chainId: string;
  height: number;
  timeMs: bigint;
  proposer: Uint8Array;
  /** False when every transaction's signature was checked already (e.g. at the mempool door). */
  verifySignatures: boolean;
};

export type TxOutcome = { ok: true; receipt: Receipt } | { ok: false; error: TxError };

/** The fee a transaction of `txBytes` bytes must pay. */
export function requiredFee(params: Params, txBytes: number): bigint {
  return params.baseFee + params.perByteFee * BigInt(txBytes);
}

function reject(code: TxRejectCode, detail: string): TxOutcome {
  return { ok: false, error: new TxError({ code, detail }, `${code}: ${detail}`) };
}

class TxFailure {
  readonly code: TxFailureCode;
  constructor(code: TxFailureCode) {
    this.code = code;
  }
}

export function applyTx(view: StateView, signed: SignedTx, env: BlockEnv, params: Params): TxOutcome {
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
  const feeEvent = chargeFee(view, signed.senderAddress, fee, env, params);

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

/** Burns `feeBurnPercent` of the fee and credits the rest to the proposer. */
function chargeFee(view: StateView, payer: Uint8Array, fee: bigint, env: BlockEnv, params: Params): ChainEvent {
  const burned = (fee * BigInt(params.feeBurnPercent)) / 100n;
  const toProposer = fee - burned;
  if (toProposer > 0n) {
    const proposer = loadAccount(view, env.proposer);
    saveAccount(view, env.proposer, { ...proposer, balance: proposer.balance + toProposer });
  }
  if (burned > 0n) saveSupply(view, loadSupply(view) - burned);
  return {
    type: 'fee',
    attributes: [
      ['payer', addressToString(payer)],
      ['amount', fee.toString()],
      ['burned', burned.toString()],
      ['proposer', addressToString(env.proposer)],
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
  if (body.amount === 0n) throw new TxFailure('TX_ZERO_AMOUNT');
  const sender = loadAccount(view, from);
  if (sender.balance < body.amount) throw new TxFailure('TX_INSUFFICIENT_BALANCE');
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
