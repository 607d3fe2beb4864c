/**
 * Client side of the BNB Chain bridge (docs/spec/bridge.md, docs/rpc.md §Bridge): a client for the
 * bridge endpoints, the withdraw transaction builder (kind 42), the arguments of the contract's
 * `withdraw` and `submitCheckpoint` from the node's replies, a check of a served withdrawal proof
 * against its checkpoint's withdrawals root, and the supply audit's arithmetic (`auditSupply`).
 *
 * Amounts are units of 10^-18 TAG on both chains: 1 TAG is 10^18 units on Tagger chain and on the
 * BEP-20 TAG on BNB Chain (18 decimals), so no conversion happens anywhere.
 */
import {
  ADDRESS_BYTES,
  ChainError,
  ETH_ADDRESS_BYTES,
  addressFromString,
  bytesToHex,
  hexToBytes,
  keccak256,
  utf8ToBytes,
  verifyWithdrawalProof,
  withdrawalLeaf,
  type BridgeWithdrawal,
} from '../lib/index.ts';
import type { BridgeBody } from '../runtime/index.ts';
import type {
  BridgeSetJson,
  BridgeStatusJson,
  CheckpointJson,
  CheckpointReplyJson,
  CheckpointsPageJson,
  DepositReplyJson,
  DepositsPageJson,
  WithdrawalReplyJson,
  WithdrawalsPageJson,
} from '../rpc/index.ts';
import { ClientError, TaggerClient } from './client.ts';

export type {
  BnbTxJson,
  BridgeGlobalsJson,
  BridgeParamsJson,
  BridgeSetJson,
  BridgeStatusJson,
  CheckpointJson,
  CheckpointReplyJson,
  CheckpointSignatureJson,
  CheckpointsPageJson,
  DepositJson,
  DepositReplyJson,
  DepositStatus,
  DepositsPageJson,
  WithdrawalJson,
  WithdrawalProofJson,
  WithdrawalReplyJson,
  WithdrawalStatus,
  WithdrawalsPageJson,
} from '../rpc/index.ts';

/** A 0x-prefixed hex string, as EVM libraries (viem) type ABI arguments. */
export type EvmHex = `0x${string}`;

function evmHex(bytes: Uint8Array): EvmHex {
  return `0x${bytesToHex(bytes)}`;
}

/** A served 0x-hex string (the schemas guarantee the prefix) as an ABI argument. */
function asEvmHex(text: string, field: string): EvmHex {
  if (!text.startsWith('0x')) throw bad(field, 'must be 0x-hex');
  return text as EvmHex;
}

export type BridgeInputErrorType = { code: 'BRIDGE_BAD_INPUT'; field: string; reason: string };
/** Input a bridge helper cannot use: a malformed EVM address, a zero amount, a reply without a proof. */
export class BridgeInputError extends ChainError<BridgeInputErrorType> {}

function bad(field: string, reason: string): BridgeInputError {
  return new BridgeInputError({ code: 'BRIDGE_BAD_INPUT', field, reason }, `${field}: ${reason}`);
}

/**
 * A BNB Chain (EVM) address from `0x` + 40 hex digits, or 20 bytes. A mixed-case address must carry
 * a valid EIP-55 checksum (all lower or all upper case carries none).
 */
export function evmAddressFrom(value: string | Uint8Array, field = 'address'): Uint8Array {
  if (typeof value !== 'string') {
    if (value.length !== ETH_ADDRESS_BYTES) throw bad(field, `must be ${ETH_ADDRESS_BYTES} bytes`);
    return value;
  }
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) throw bad(field, 'must be 0x followed by 40 hex digits (a BNB Chain address)');
  const digits = value.slice(2);
  if (digits !== digits.toLowerCase() && digits !== digits.toUpperCase() && evmChecksum(digits.toLowerCase()) !== value) {
    throw bad(field, 'mixed-case address with a wrong EIP-55 checksum');
  }
  return hexToBytes(digits);
}

/** The EIP-55 spelling of a lower-case address (40 hex digits, no 0x). */
function evmChecksum(lower: string): string {
  const hash = bytesToHex(keccak256(utf8ToBytes(lower)));
  let out = '0x';
  for (let i = 0; i < lower.length; i++) out += parseInt(hash[i]!, 16) >= 8 ? lower[i]!.toUpperCase() : lower[i]!;
  return out;
}

/** An EVM address in its EIP-55 spelling. */
export function evmAddressToString(address: Uint8Array): EvmHex {
  return evmChecksum(bytesToHex(evmAddressFrom(address))) as EvmHex;
}

/**
 * Burns `amount` units of TAG on Tagger chain for `recipient` on BNB Chain (transaction kind 42).
 * Released there once a checkpoint holding it is accepted, with the proof the node serves.
 */
export function buildBridgeWithdraw(recipient: string | Uint8Array, amount: bigint): BridgeBody {
  const to = evmAddressFrom(recipient, 'recipient');
  if (to.every((b) => b === 0)) throw bad('recipient', 'must not be the zero address');
  if (amount <= 0n) throw bad('amount', 'must be more than zero');
  return { kind: 'withdraw', recipient: to, amount };
}

/** The withdrawal leaf of a reply, as the contract's `Withdrawal` struct holds it. */
export function withdrawalOfReply(w: WithdrawalReplyJson): BridgeWithdrawal {
  return { nonce: BigInt(w.nonce), sender: addressFromString(w.sender), recipient: hexToBytes(w.recipient), amount: BigInt(w.amount) };
}

/**
 * True if the reply's proof shows its withdrawal (leaf recomputed from the reply's own fields) is leaf
 * `index` of a tree with the reply's withdrawals root: the check TaggerBridge.withdraw makes.
 */
export function verifyWithdrawalReply(w: WithdrawalReplyJson): boolean {
  const p = w.proof;
  if (p === null) return false;
  const leaf = withdrawalLeaf(withdrawalOfReply(w));
  if ('0x' + bytesToHex(leaf) !== p.leaf) return false;
  return verifyWithdrawalProof(hexToBytes(p.withdrawalsRoot), p.withdrawalCount, leaf, p.index, p.siblings.map(hexToBytes));
}

export type WithdrawCallArgs = readonly [
  number: bigint,
  withdrawal: { nonce: bigint; sender: EvmHex; recipient: EvmHex; amount: bigint },
  index: bigint,
  proof: EvmHex[],
];

/** The arguments of TaggerBridge.withdraw(number, w, index, proof) for a checkpointed withdrawal. */
export function withdrawCallArgs(w: WithdrawalReplyJson): WithdrawCallArgs {
  const p = w.proof;
  if (p === null) throw bad('proof', `withdrawal ${w.nonce} is not in a checkpoint yet (status ${w.status})`);
  const sender = evmHex(addressFromString(w.sender));
  const withdrawal = { nonce: BigInt(w.nonce), sender, recipient: asEvmHex(w.recipient, 'recipient'), amount: BigInt(w.amount) };
  return [BigInt(p.checkpoint), withdrawal, BigInt(p.index), p.siblings.map((h) => asEvmHex(h, 'siblings'))];
}

type SetArg = { id: bigint; signers: EvmHex[]; powers: bigint[] };

function setArg(s: BridgeSetJson): SetArg {
  return { id: BigInt(s.id), signers: s.signers.map((a) => asEvmHex(a, 'signers')), powers: s.powers.map((p) => BigInt(p)) };
}

export type SubmitCheckpointArgs = readonly [
  checkpoint: {
    number: bigint;
    startBlock: bigint;
    endBlock: bigint;
    blockRangeRoot: EvmHex;
    stateRoot: EvmHex;
    withdrawalsRoot: EvmHex;
    withdrawalCount: number;
    nextValidatorSetId: bigint;
    nextValidatorSetHash: EvmHex;
  },
  set: SetArg,
  sigs: Array<{ v: number; r: EvmHex; s: EvmHex }>,
  next: SetArg,
];

/**
 * The arguments of TaggerBridge.submitCheckpoint(cp, set, sigs, next) for a checkpoint the chain's
 * signing set has signed: the node serves its signatures ascending by signer, low-s, from members
 * only (the runtime accepts no other), as the contract requires. `next` is the empty set unless the
 * checkpoint rotates the set.
 */
export function submitCheckpointArgs(c: CheckpointJson): SubmitCheckpointArgs {
  if (!c.signed) throw bad('checkpoint', `checkpoint ${c.number} is not signed by more than 2/3 of its set yet`);
  const sigs = c.signatures.map(({ signature }) => {
    const b = hexToBytes(signature);
    return { v: b[64]!, r: evmHex(b.subarray(0, 32)), s: evmHex(b.subarray(32, 64)) };
  });
  return [
    {
      number: BigInt(c.number),
      startBlock: BigInt(c.startBlock),
      endBlock: BigInt(c.endBlock),
      blockRangeRoot: asEvmHex(c.blockRangeRoot, 'blockRangeRoot'),
      stateRoot: asEvmHex(c.stateRoot, 'stateRoot'),
      withdrawalsRoot: asEvmHex(c.withdrawalsRoot, 'withdrawalsRoot'),
      withdrawalCount: c.withdrawalCount,
      nextValidatorSetId: BigInt(c.nextValidatorSetId),
      nextValidatorSetHash: asEvmHex(c.nextValidatorSetHash, 'nextValidatorSetHash'),
    },
    setArg(c.signingSet),
    sigs,
    c.nextSet === null ? { id: 0n, signers: [], powers: [] } : setArg(c.nextSet),
  ];
}

// ── the supply audit ─────────────────────────────────────────────────────────────────────────────

/** What the audit compares, all in units (10^-18 TAG). */
export type SupplyAuditInputs = {
  /** Tagger chain: TAG minted by deposits minus TAG burnt by withdrawals (`globals.bridgedSupply`). */
  bridgedSupply: bigint;
  /** Tagger chain: TAG burnt by every withdrawal so far (the sum of the withdrawals' amounts). */
  totalBurnt: bigint;
  /** BNB Chain: `token.balanceOf(bridge)`. */
  lockedBalance: bigint;
  /** BNB Chain: `bridge.totalLocked()`, TAG received by deposits ever. */
  totalLocked: bigint;
  /** BNB Chain: `bridge.totalReleased()`, TAG released by withdrawals ever. */
  totalReleased: bigint;
};

export type SupplyCheck = { name: string; ok: boolean; left: string; op: '≥' | '≤'; right: string; description: string };

function check(name: string, description: string, left: bigint, op: '≥' | '≤', right: bigint): SupplyCheck {
  return { name, ok: op === '≥' ? left >= right : left <= right, left: left.toString(), op, right: right.toString(), description };
}

/**
 * The bridge's supply invariants (issue 6): what BNB Chain holds covers what Tagger chain has in
 * circulation plus what it burnt and BNB Chain has not released yet, and BNB Chain never released
 * more than Tagger chain burnt. Read Tagger chain first, then BNB Chain: a deposit or a release
 * between the two reads can only add to the BNB side of the first check.
 */
export function auditSupply(x: SupplyAuditInputs): SupplyCheck[] {
  const unreleased = x.totalBurnt - x.totalReleased;
  return [
    check('locked-covers-bridged', 'TAG locked on BNB Chain ≥ TAG bridged on Tagger chain + burnt there and not yet released', x.lockedBalance, '≥', x.bridgedSupply + (unreleased > 0n ? unreleased : 0n)),
    check('released-within-burnt', 'TAG released on BNB Chain ≤ TAG burnt on Tagger chain', x.totalReleased, '≤', x.totalBurnt),
    check('minted-within-locked', 'TAG minted on Tagger chain (bridged + burnt) ≤ TAG ever locked on BNB Chain', x.bridgedSupply + x.totalBurnt, '≤', x.totalLocked),
    check('balance-covers-accounting', 'the bridge\'s token balance ≥ totalLocked − totalReleased (its own books)', x.lockedBalance, '≥', x.totalLocked - x.totalReleased),
  ];
}

// ── the client ───────────────────────────────────────────────────────────────────────────────────

export type BridgePageOpts = { from?: number; limit?: number };

export type WaitForDepositOpts = { timeoutMs?: number; pollMs?: number };

function u32Arg(n: number, name: string): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) {
    throw new ClientError({ code: 'CLIENT_BAD_ARGUMENT', httpStatus: null, url: '', details: { [name]: String(n) } }, `${name} is not a u32: ${n}`);
  }
  return String(n);
}

function pageQuery(opts: BridgePageOpts): string {
  const q = new URLSearchParams();
  if (opts.from !== undefined) q.set('from', u32Arg(opts.from, 'from'));
  if (opts.limit !== undefined) q.set('limit', u32Arg(opts.limit, 'limit'));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/** TaggerClient plus the bridge endpoints (docs/rpc.md §Bridge). */
export class BridgeClient extends TaggerClient {
  /** Parameters, counters (bridged supply, nonces, last checkpoint) and the set that signs the next checkpoint. */
  async bridge(): Promise<BridgeStatusJson> {
    return this.request('GET', '/v1/bridge');
  }

  /** A deposit by its BNB Chain nonce; BRIDGE_DEPOSIT_NOT_FOUND if no validator attested it yet. */
  async deposit(nonce: number): Promise<DepositReplyJson> {
    return this.request('GET', `/v1/bridge/deposits/${u32Arg(nonce, 'nonce')}`);
  }

  async deposits(opts: BridgePageOpts = {}): Promise<DepositsPageJson> {
    return this.request('GET', `/v1/bridge/deposits${pageQuery(opts)}`);
  }

  /** A withdrawal with its proof once checkpointed; BRIDGE_WITHDRAWAL_NOT_FOUND if none. */
  async withdrawal(nonce: number): Promise<WithdrawalReplyJson> {
    return this.request('GET', `/v1/bridge/withdrawals/${u32Arg(nonce, 'nonce')}`);
  }

  async withdrawals(opts: BridgePageOpts = {}): Promise<WithdrawalsPageJson> {
    return this.request('GET', `/v1/bridge/withdrawals${pageQuery(opts)}`);
  }

  /** A checkpoint with its signatures and next set; BRIDGE_CHECKPOINT_NOT_FOUND if not closed yet. */
  async checkpoint(number: number): Promise<CheckpointReplyJson> {
    return this.request('GET', `/v1/bridge/checkpoints/${u32Arg(number, 'number')}`);
  }

  async checkpoints(opts: BridgePageOpts = {}): Promise<CheckpointsPageJson> {
    return this.request('GET', `/v1/bridge/checkpoints${pageQuery(opts)}`);
  }

  /**
   * Sum of the amounts of withdrawals 1 … `below − 1` (all of them by default), following the
   * pages (at most `pagesMax` requests, default 10,000). Withdrawal records never change, so with
   * `below` = a status reply's `nextWithdrawalNonce` this is what was burnt at that reply's height.
   */
  async totalBurnt(opts: { below?: number; pagesMax?: number } = {}): Promise<{ totalBurnt: bigint; withdrawals: number }> {
    const pagesMax = opts.pagesMax ?? 10_000;
    const below = opts.below ?? Number.MAX_SAFE_INTEGER;
    let total = 0n;
    let count = 0;
    let from: number | null = 1;
    for (let i = 0; from !== null && from < below; i++) {
      if (i >= pagesMax) {
        throw new ClientError({ code: 'CLIENT_TOO_MANY_PAGES', httpStatus: null, url: '/v1/bridge/withdrawals', details: { pagesMax } }, `more than ${pagesMax} pages of withdrawals`);
      }
      const page: WithdrawalsPageJson = await this.withdrawals({ from });
      for (const w of page.withdrawals) {
        if (w.nonce >= below) break;
        total += BigInt(w.amount);
        count++;
      }
      from = page.nextFrom;
    }
    return { totalBurnt: total, withdrawals: count };
  }

  /** Polls until deposit `nonce` is minted (a deposit not attested yet is polled for too). */
  async waitForDeposit(nonce: number, opts: WaitForDepositOpts = {}): Promise<DepositReplyJson> {
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const pollMs = Math.max(1, opts.pollMs ?? 1_000);
    const deadline = Date.now() + timeoutMs;
    let last = 'not attested';
    for (;;) {
      try {
        const d = await this.deposit(nonce);
        if (d.status === 'minted') return d;
        last = d.status;
      } catch (e: unknown) {
        if (!(e instanceof ClientError && e.code === 'BRIDGE_DEPOSIT_NOT_FOUND')) throw e;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ClientError(
          { code: 'CLIENT_TIMEOUT', httpStatus: null, url: `/v1/bridge/deposits/${nonce}`, details: { timeoutMs, lastStatus: last } },
          `deposit ${nonce} not minted after ${timeoutMs} ms (last seen: ${last})`,
        );
      }
      await new Promise<void>((resolve) => setTimeout(resolve, Math.min(pollMs, left)));
    }
  }
}

/** Tagger addresses are 20 bytes, as the contract's `bytes20 recipient` of a deposit. */
export function depositRecipientArg(address: string | Uint8Array): EvmHex {
  const bytes = typeof address === 'string' ? addressFromString(address) : address;
  if (bytes.length !== ADDRESS_BYTES) throw bad('recipient', `must be ${ADDRESS_BYTES} bytes`);
  return evmHex(bytes);
}
