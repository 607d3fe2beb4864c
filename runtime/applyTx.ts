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
import { addressToString } from '../lib/index.ts';
import { StateView, loadAccount, loadSupply, saveAccount, saveSupply, type Params, type StateReader } from '../state/index.ts';
import { EVENTS_PER_RECEIPT_MAX, RECEIPT_STATUS, ZERO_HASH, type ChainEvent, type Receipt } from './block.ts';
import { chargeSponsor, executeLabelling, feeSponsor, loadLabellingParams } from './labelling/index.ts';
import { executeStaking, isStakingBody, loadStakingParams } from './staking/index.ts';
import { executePassport, isPassportBody, loadPassportParams } from './passport/index.ts';
import { executeBridge, isBridgeBody } from './bridge/index.ts';
import { TxError, TxFailure, type TxRejectCode } from './errors.ts';
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
  /**
   * The block's `lastCommit` (the parent's encoded commit certificate), from which the staking module
   * counts who signed the parent. Absent in harnesses that build no commits: nothing is counted.
   */
  lastCommit?: Uint8Array;
  /** The state root after the parent block, which bridge checkpoints carry (runtime/bridge); absent: a zero hash. */
  parentStateRoot?: Uint8Array;
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


export function applyTx(view: StateView, signed: SignedTx, env: BlockEnv, params: Params, fees: FeeTally): TxOutcome {
  const { tx } = signed;
  if (tx.chainId !== env.chainId) return reject('TX_WRONG_CHAIN', `expected chain id ${env.chainId}`);
  if (signed.bytes.length > params.txBytesMax) {
    return reject('TX_TOO_LARGE', `${signed.bytes.length} bytes exceeds ${params.txBytesMax}`);
  }
  if (env.verifySignatures && !verifyTxSignature(signed)) return reject('TX_BAD_SIGNATURE', 'signature does not verify');
  const sender = loadAccount(view, signed.senderAddress);
  if (tx.nonce !== sender.nonce) return reject('TX_BAD_NONCE', `expected nonce ${sender.nonce}, got ${tx.nonce}`);
  if (tx.body.kind === 'evidence') return applyEvidenceTx(view, signed, env);
  const fee = requiredFee(params, signed.bytes.length);
  if (tx.maxFee < fee) return reject('TX_FEE_TOO_LOW', `fee is ${fee}, maxFee is ${tx.maxFee}`);
  // An assigned annotator's label transactions are paid from the task's escrow, within the seat budget.
  const sponsor = tx.body.kind === 'transfer' || isStakingBody(tx.body) || isPassportBody(tx.body) || isBridgeBody(tx.body) ? null : feeSponsor(view, signed.senderAddress, tx.body, fee);
  if (sponsor === null && sender.balance < fee) return reject('TX_CANNOT_PAY_FEE', `fee is ${fee}, balance is ${sender.balance}`);

  if (sponsor === null) saveAccount(view, signed.senderAddress, { balance: sender.balance - fee, nonce: sender.nonce + 1 });
  else {
    chargeSponsor(view, signed.senderAddress, sponsor, fee);
    saveAccount(view, signed.senderAddress, { ...sender, nonce: sender.nonce + 1 });
  }
  const feeEvent = chargeFee(fees, signed.senderAddress, fee, params);
  if (sponsor !== null) feeEvent.attributes.push(['sponsorTask', String(sponsor.task.id)]);

  const child = view.fork();
  const events: ChainEvent[] = [feeEvent];
  try {
    events.push(...executeBody(child, signed, env));
  } catch (e: unknown) {
    if (!(e instanceof TxFailure)) throw e; // Anything else is a bug: let it halt the node.
    return { ok: true, receipt: { txHash: signed.hash, status: RECEIPT_STATUS.failed, code: e.code, fee, events } };
  }
  child.commit();
  return { ok: true, receipt: { txHash: signed.hash, status: RECEIPT_STATUS.ok, code: '', fee, events } };
}

/**
 * Double-sign evidence pays no fee, so that any node can report what it saw without holding TAG,
 * and is all or nothing: evidence that does not verify (bad signature, expired, already punished…)
 * is rejected — never included, the nonce unchanged — so free transactions cannot fill blocks
 * with failures. Valid evidence advances the reporter's nonce and slashes (docs/spec/staking.md).
 */
function applyEvidenceTx(view: StateView, signed: SignedTx, env: BlockEnv): TxOutcome {
  const child = view.fork();
  let events: ChainEvent[];
  try {
    events = executeBody(child, signed, env);
  } catch (e: unknown) {
    if (!(e instanceof TxFailure)) throw e;
    return reject('TX_EVIDENCE_REJECTED', e.code);
  }
  child.commit();
  const sender = loadAccount(view, signed.senderAddress);
  saveAccount(view, signed.senderAddress, { ...sender, nonce: sender.nonce + 1 });
  return { ok: true, receipt: { txHash: signed.hash, status: RECEIPT_STATUS.ok, code: '', fee: 0n, events } };
}

/**
 * Whether an evidence transaction would be included on top of `state` in a block at `env.height`
 * (the mempool's door check): null if so, else the failure code. Reads only.
 */
export function checkEvidenceTx(state: StateReader, signed: SignedTx, env: BlockEnv): string | null {
  const outcome = applyEvidenceTx(new StateView(state), signed, env);
  return outcome.ok ? null : outcome.error.type.detail;
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

function executeBody(view: StateView, signed: SignedTx, env: BlockEnv): ChainEvent[] {
  const body = signed.tx.body;
  if (body.kind === 'transfer') return executeTransfer(view, signed.senderAddress, body);
  if (isStakingBody(body)) {
    return executeStaking(view, signed.senderAddress, body, { chainId: env.chainId, height: env.height, timeMs: env.timeMs, params: loadStakingParams(view) });
  }
  if (isBridgeBody(body)) return executeBridge(view, signed.senderAddress, body, { chainId: env.chainId, height: env.height });
  if (isPassportBody(body)) return executePassport(view, signed.senderAddress, body, { height: env.height, params: loadPassportParams(view) });
  return executeLabelling(view, signed.senderAddress, body, { height: env.height, params: loadLabellingParams(view) });
}

/** End-of-block events go into receipts with a zero transaction hash, after the transactions' receipts. */
export function endBlockReceipts(events: readonly ChainEvent[]): Receipt[] {
  const out: Receipt[] = [];
  for (let i = 0; i < events.length; i += EVENTS_PER_RECEIPT_MAX) {
    out.push({ txHash: ZERO_HASH, status: RECEIPT_STATUS.ok, code: '', fee: 0n, events: events.slice(i, i + EVENTS_PER_RECEIPT_MAX) });
  }
  return out;
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
