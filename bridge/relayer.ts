/**
 * The relayer (issue 6, research/bridge.md §4f): carries Tagger chain's signed checkpoints to the
 * TaggerBridge contract on BNB Chain and proves their withdrawals there. Permissionless: anyone with a
 * funded BNB key may run one, or several; it holds no authority, it forwards signatures the contract
 * verifies. The shell of the bridge: it does I/O (JSON-RPC on both chains).
 *
 * Every step starts from the contract's own state (paused, lastCheckpoint, claimed, queued), never from
 * memory, so two relayers, or one restarted, never submit a checkpoint or a withdrawal twice; the one
 * that loses a race gets a revert (NotContiguous, AlreadyClaimed), which is logged and harmless. Before
 * sending a checkpoint it checks that the contract computes the digest the validators signed, that the
 * signing set is the contract's current one and that the signatures carry > 2/3 of its power, so a
 * transaction that would revert is never paid for. Work per poll is bounded (`maxPerPoll` transactions,
 * `scanMax` checkpoints examined). An RPC failure throws a typed BridgeError; the next poll resumes from
 * the contract's state.
 */
import { BaseError, ContractFunctionRevertedError, decodeEventLog, type Account, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem';
import { equalBytes, hexToBytes, type Logger } from '../lib/index.ts';
import { describeError, rpcCall } from './bnbClient.ts';
import { EMPTY_SET, checkpointArg, hex, setArg, sigsArg, withdrawalArg } from './abiArgs.ts';
import {
  checkpointDigest,
  collectSignatures,
  hasQuorum,
  validatorSetHash,
  withdrawalLeaf,
  withdrawalProof,
  withdrawalsRoot,
  type BridgeCheckpoint,
  type BridgeDomain,
  type BridgeValidatorSet,
  type BridgeWithdrawal,
  type SignerSignature,
} from './checkpoint.ts';
import { TAGGER_BRIDGE } from './contracts/artifacts.ts';
import { BridgeError } from './errors.ts';

export type SignedCheckpoint = {
  checkpoint: BridgeCheckpoint;
  signingSet: BridgeValidatorSet;
  /** The set named by checkpoint.nextValidatorSetId when it differs from signingSet.id, else null. */
  nextSet: BridgeValidatorSet | null;
  signatures: SignerSignature[];
};

/** How the relayer reads Tagger chain; the node implements it over its HTTP RPC. */
export interface CheckpointSource {
  /** Checkpoint n once > 2/3 of its signing set signed it on Tagger chain; null if absent or not signed yet. */
  signedCheckpoint(n: number): Promise<SignedCheckpoint | null>;
  /** The withdrawal leaves of checkpoint n, in nonce order (empty if none). */
  checkpointWithdrawals(n: number): Promise<BridgeWithdrawal[]>;
}

export type RelayerOpts = {
  source: CheckpointSource;
  publicClient: PublicClient;
  /** Signs with a local account: the relayer's own funded BNB key. */
  walletClient: WalletClient<Transport, Chain, Account>;
  bridge: Hex;
  /** Confirmations awaited on each transaction before moving on; null (finalized-tag chains) waits for inclusion. */
  confirmations: number | null;
  /** Transactions sent per poll at most; default 16. */
  maxPerPoll?: number;
  /** Accepted checkpoints examined for unreleased withdrawals per poll at most; default 64. */
  scanMax?: number;
  /** Withdrawals examined (claimed? queued?) per poll at most; default 1,024. */
  examineMax?: number;
  /** Queued (delayed) withdrawals tracked at most; default 4,096. */
  queuedMax?: number;
  /** The first checkpoint whose withdrawals this relayer releases; default 1. */
  startCheckpoint?: number;
  /** How long to wait for a receipt; default 60,000 ms. */
  receiptTimeoutMs?: number;
  /** A fixed gas limit for every transaction instead of an eth_estimateGas per transaction; default null (estimate). */
  gasLimit?: bigint | null;
  logger: Logger;
};

export type RelayerStep = {
  /** The contract is paused: nothing was sent. */
  paused: boolean;
  checkpoints: { number: number; txHash: Hex }[];
  /** Withdrawals paid out (directly, or a queued one executed after its delay). */
  releases: { nonce: number; txHash: Hex }[];
  /** Large withdrawals the contract queued for its delay. */
  queued: { nonce: number; txHash: Hex; releaseAt: bigint }[];
};

const ABI = TAGGER_BRIDGE.abi;
/** Reverts that mean another relayer (or this one, before a restart) got there first. */
const RACE_REVERTS = new Set(['NotContiguous', 'AlreadyClaimed', 'NotQueued', 'IsPaused']);
/** Reverts a withdrawal will keep hitting whatever the relayer does: logged, then left to guardians. */
const PERMANENT_WITHDRAW_REVERTS = new Set(['OverPerTxCap', 'ZeroRecipient', 'ZeroAmount', 'BadProof']);


/** The custom error a contract call reverted with, or null if it failed otherwise. */
export function revertName(e: unknown): string | null {
  if (!(e instanceof BaseError)) return null;
  const reverted = e.walk((x) => x instanceof ContractFunctionRevertedError);
  if (!(reverted instanceof ContractFunctionRevertedError)) return null;
  return reverted.data?.errorName ?? reverted.reason ?? 'reverted';
}

type Call =
  | { functionName: 'submitCheckpoint'; args: readonly [ReturnType<typeof checkpointArg>, ReturnType<typeof setArg>, ReturnType<typeof sigsArg>, ReturnType<typeof setArg>] }
  | { functionName: 'withdraw'; args: readonly [bigint, ReturnType<typeof withdrawalArg>, bigint, Hex[]] }
  | { functionName: 'executeQueued'; args: readonly [bigint] };

/** What one poll may still do: transactions to send, withdrawals to examine. */
type Budget = { left: number; examine: number };

type Sent = { ok: true; txHash: Hex; logs: { topics: readonly Hex[]; data: Hex; address: Hex }[] } | { ok: false; revert: string };

function mismatch(number: number, what: string, expected: string, actual: string): BridgeError {
  return new BridgeError({ code: 'BRIDGE_RELAY_MISMATCH', number, what, expected, actual }, `checkpoint ${number}: ${what} is ${actual}, expected ${expected}`);
}

export class Relayer {
  private readonly source: CheckpointSource;
  private readonly client: PublicClient;
  private readonly wallet: WalletClient<Transport, Chain, Account>;
  private readonly bridge: Hex;
  private readonly confirmations: number;
  private readonly maxPerPoll: number;
  private readonly scanMax: number;
  private readonly examineMax: number;
  private readonly queuedMax: number;
  private readonly receiptTimeoutMs: number;
  private readonly gasLimit: bigint | null;
  private readonly log: Logger;
  private domain: BridgeDomain | null = null;
  /** The contract's pause flag at the last poll (null before the first), so a pause is logged once. */
  private paused: boolean | null = null;
  /** Every withdrawal of checkpoints up to this one is claimed on the contract (released or queued). */
  private releasedThrough: number;
  /** In checkpoint releasedThrough + 1, every withdrawal before this index is handled: where the next poll resumes. */
  private releasedIndex = 0;
  /** Queued withdrawals this relayer will execute once their delay has passed: nonce → releaseAt. */
  private readonly queuedNonces = new Map<number, bigint>();

  constructor(opts: RelayerOpts) {
    this.source = opts.source;
    this.client = opts.publicClient;
    this.wallet = opts.walletClient;
    this.bridge = opts.bridge;
    this.confirmations = Math.max(1, opts.confirmations ?? 1);
    this.maxPerPoll = opts.maxPerPoll ?? 16;
    this.scanMax = opts.scanMax ?? 64;
    this.examineMax = opts.examineMax ?? 1_024;
    this.queuedMax = opts.queuedMax ?? 4_096;
    this.receiptTimeoutMs = opts.receiptTimeoutMs ?? 60_000;
    this.gasLimit = opts.gasLimit ?? null;
    this.releasedThrough = (opts.startCheckpoint ?? 1) - 1;
    this.log = opts.logger.child({ module: 'relayer' });
  }

  /**
   * One step: submits the checkpoints the contract lacks (lastCheckpoint + 1, …), then releases every
   * withdrawal of accepted checkpoints not yet claimed, then executes queued withdrawals whose delay has
   * passed; waits for each receipt. Throws a BridgeError on an RPC failure or when Tagger chain and the
   * contract disagree; nothing is lost, the next poll starts again from the contract's state.
   */
  async poll(): Promise<RelayerStep> {
    const step: RelayerStep = { paused: false, checkpoints: [], releases: [], queued: [] };
    const paused = await this.read('paused', []);
    if (paused !== this.paused) {
      if (paused) this.log.warn({}, 'Bridge contract is paused: relaying nothing until guardians unpause it');
      else if (this.paused !== null) this.log.info({}, 'Bridge contract unpaused: relaying again');
      this.paused = paused;
    }
    if (paused) return { ...step, paused: true };
    const budget: Budget = { left: this.maxPerPoll, examine: this.examineMax };
    await this.submitCheckpoints(step, budget);
    await this.releaseWithdrawals(step, budget);
    await this.executeQueued(step, budget);
    return step;
  }

  /** Queued withdrawals this relayer is waiting to execute. */
  get queuedCount(): number {
    return this.queuedNonces.size;
  }

  // -- checkpoints --------------------------------------------------------------------------------

  private async submitCheckpoints(step: RelayerStep, budget: Budget): Promise<void> {
    while (budget.left > 0) {
      const n = Number(await this.read('lastCheckpoint', [])) + 1;
      const signed = await rpcCall('tagger:signedCheckpoint', () => this.source.signedCheckpoint(n));
      if (signed === null) return;
      const args = await this.checkpointArgs(n, signed);
      budget.left--;
      const sent = await this.send({ functionName: 'submitCheckpoint', args });
      if (!sent.ok) {
        if (RACE_REVERTS.has(sent.revert)) this.log.info({ number: n, revert: sent.revert }, 'Checkpoint not submitted: another relayer was first');
        else this.log.warn({ number: n, revert: sent.revert }, 'Checkpoint refused by the contract: retrying next poll');
        return;
      }
      this.log.info({ number: n, txHash: sent.txHash }, 'Checkpoint submitted');
      step.checkpoints.push({ number: n, txHash: sent.txHash });
    }
  }

  /** The submitCheckpoint arguments, after checking everything the contract will check that can be checked here. */
  private async checkpointArgs(n: number, signed: SignedCheckpoint): Promise<Extract<Call, { functionName: 'submitCheckpoint' }>['args']> {
    const { checkpoint: cp, signingSet, nextSet } = signed;
    if (cp.number !== BigInt(n)) throw mismatch(n, 'number', String(n), String(cp.number));
    const digest = checkpointDigest(await this.bridgeDomain(), cp);
    const onChain = await this.read('checkpointDigest', [checkpointArg(cp)]);
    if (onChain.toLowerCase() !== hex(digest)) throw mismatch(n, 'digest', onChain, hex(digest));
    const [setId, setHash] = await Promise.all([this.read('validatorSetId', []), this.read('validatorSetHash', [])]);
    if (signingSet.id !== setId || hex(validatorSetHash(signingSet)) !== setHash.toLowerCase()) {
      throw mismatch(n, 'signing set', `${setId}/${setHash}`, `${signingSet.id}/${hex(validatorSetHash(signingSet))}`);
    }
    const rotates = !equalBytes(cp.nextValidatorSetHash, validatorSetHash(signingSet));
    if (rotates && (nextSet === null || !equalBytes(validatorSetHash(nextSet), cp.nextValidatorSetHash))) {
      throw mismatch(n, 'next set', hex(cp.nextValidatorSetHash), nextSet === null ? 'none' : hex(validatorSetHash(nextSet)));
    }
    const sigs = collectSignatures(digest, signingSet, signed.signatures);
    if (!hasQuorum(signingSet, sigs.map((s) => s.signer))) throw mismatch(n, 'signatures', '> 2/3 of the power', `${sigs.length} valid signers`);
    return [checkpointArg(cp), setArg(signingSet), sigsArg(sigs), setArg(rotates && nextSet !== null ? nextSet : EMPTY_SET)];
  }

  private async bridgeDomain(): Promise<BridgeDomain> {
    if (this.domain === null) {
      const [chainId, appchainId] = await Promise.all([rpcCall('eth_chainId', () => this.client.getChainId()), this.read('appchainId', [])]);
      this.domain = { chainId: BigInt(chainId), contract: hexToBytes(this.bridge), appchainId: hexToBytes(appchainId) };
    }
    return this.domain;
  }

  // -- withdrawals --------------------------------------------------------------------------------

  private async releaseWithdrawals(step: RelayerStep, budget: Budget): Promise<void> {
    const last = Number(await this.read('lastCheckpoint', []));
    const end = Math.min(last, this.releasedThrough + this.scanMax);
    for (let n = this.releasedThrough + 1; n <= end && budget.left > 0 && budget.examine > 0; n++) {
      const stoppedAt = await this.releaseCheckpoint(n, n === this.releasedThrough + 1 ? this.releasedIndex : 0, step, budget);
      if (stoppedAt !== null) {
        this.releasedIndex = stoppedAt;
        return;
      }
      this.releasedThrough = n;
      this.releasedIndex = 0;
    }
  }

  /**
   * Releases what remains of checkpoint n from leaf `from` on. Returns null once every withdrawal of it
   * is claimed on the contract, else the index to resume at (all before it are handled).
   */
  private async releaseCheckpoint(n: number, from: number, step: RelayerStep, budget: Budget): Promise<number | null> {
    const [, root, count] = await this.read('checkpoints', [BigInt(n)]);
    if (count === 0) return null;
    const all = await rpcCall('tagger:checkpointWithdrawals', () => this.source.checkpointWithdrawals(n));
    const leaves = all.map(withdrawalLeaf);
    const ours = all.length === 0 ? hex(new Uint8Array(32)) : hex(withdrawalsRoot(leaves));
    if (all.length !== count || ours !== root.toLowerCase()) throw mismatch(n, 'withdrawals root', `${root} (${count})`, `${ours} (${all.length})`);

    for (let i = from; i < all.length; i++) {
      const w = all[i]!;
      const nonce = Number(w.nonce);
      if (budget.examine === 0) return i;
      budget.examine--;
      if (await this.read('claimed', [w.nonce])) {
        const [, releaseAt, amount] = await this.read('queued', [w.nonce]);
        if (amount > 0n && !this.trackQueued(nonce, releaseAt)) return i;
        continue;
      }
      if (budget.left === 0) return i;
      budget.left--;
      const sent = await this.send({ functionName: 'withdraw', args: [BigInt(n), withdrawalArg(w), BigInt(i), withdrawalProof(leaves, i).map(hex)] });
      if (!sent.ok) {
        if (RACE_REVERTS.has(sent.revert)) {
          this.log.info({ nonce, revert: sent.revert }, 'Withdrawal not released: another relayer was first');
          if (sent.revert === 'AlreadyClaimed') continue;
          return i;
        }
        if (PERMANENT_WITHDRAW_REVERTS.has(sent.revert)) {
          this.log.error({ nonce, checkpoint: n, revert: sent.revert }, 'Withdrawal can never be released by the contract: skipped');
          continue;
        }
        this.log.warn({ nonce, checkpoint: n, revert: sent.revert }, 'Withdrawal refused for now: retrying next poll');
        return i;
      }
      this.recordRelease(nonce, sent, step);
    }
    return null;
  }

  private recordRelease(nonce: number, sent: Extract<Sent, { ok: true }>, step: RelayerStep): void {
    for (const e of this.bridgeEvents(sent)) {
      if (e.eventName === 'WithdrawalReleased') {
        step.releases.push({ nonce, txHash: sent.txHash });
        this.log.info({ nonce, txHash: sent.txHash }, 'Withdrawal released');
      } else if (e.eventName === 'WithdrawalQueued') {
        const releaseAt = (e.args as { releaseAt: bigint }).releaseAt;
        step.queued.push({ nonce, txHash: sent.txHash, releaseAt });
        this.trackQueued(nonce, releaseAt);
        this.log.info({ nonce, txHash: sent.txHash, releaseAt: releaseAt.toString() }, 'Withdrawal queued by the contract for its delay');
      }
    }
  }

  /** Remembers a queued withdrawal to execute later; false if the bounded map is full. */
  private trackQueued(nonce: number, releaseAt: bigint): boolean {
    if (this.queuedNonces.has(nonce)) return true;
    if (this.queuedNonces.size >= this.queuedMax) {
      this.log.warn({ nonce, tracked: this.queuedNonces.size }, 'Too many queued withdrawals tracked: waiting');
      return false;
    }
    this.queuedNonces.set(nonce, releaseAt);
    return true;
  }

  private async executeQueued(step: RelayerStep, budget: Budget): Promise<void> {
    if (this.queuedNonces.size === 0) return;
    const now = (await rpcCall('eth_getBlockByNumber(latest)', () => this.client.getBlock({ blockTag: 'latest' }))).timestamp;
    const due = [...this.queuedNonces].filter(([, at]) => at <= now).sort((a, b) => a[0] - b[0]);
    for (const [nonce] of due) {
      if (budget.left === 0) return;
      const [, , amount] = await this.read('queued', [BigInt(nonce)]);
      if (amount === 0n) {
        this.queuedNonces.delete(nonce); // executed by someone else, or cancelled by the guardians
        continue;
      }
      budget.left--;
      const sent = await this.send({ functionName: 'executeQueued', args: [BigInt(nonce)] });
      if (!sent.ok) {
        this.log.info({ nonce, revert: sent.revert }, 'Queued withdrawal not executed');
        if (sent.revert === 'NotQueued') this.queuedNonces.delete(nonce);
        continue;
      }
      this.queuedNonces.delete(nonce);
      step.releases.push({ nonce, txHash: sent.txHash });
      this.log.info({ nonce, txHash: sent.txHash }, 'Queued withdrawal executed');
    }
  }

  // -- plumbing -----------------------------------------------------------------------------------

  private bridgeEvents(sent: Extract<Sent, { ok: true }>): { eventName: string; args: unknown }[] {
    const out: { eventName: string; args: unknown }[] = [];
    for (const l of sent.logs) {
      if (l.address.toLowerCase() !== this.bridge.toLowerCase()) continue;
      try {
        out.push(decodeBridgeLog(l));
      } catch {
        // not one of the bridge's events
      }
    }
    return out;
  }

  /** A view of the contract at the latest block. */
  private async read<F extends ReadName>(functionName: F, args: ReadArgs<F>): Promise<ReadResult<F>> {
    const call = { address: this.bridge, abi: ABI, functionName, args } as Parameters<PublicClient['readContract']>[0];
    return rpcCall(`eth_call(${functionName})`, () => this.client.readContract(call) as Promise<ReadResult<F>>);
  }

  /**
   * Simulates the call (a revert costs nothing and is returned), then sends it and waits for its
   * receipt. A revert at either point is `{ ok: false }`; an RPC failure throws.
   */
  private async send(call: Call): Promise<Sent> {
    const account = this.wallet.account;
    const gas = this.gasLimit === null ? {} : { gas: this.gasLimit };
    const params = { address: this.bridge, abi: ABI, account, chain: this.wallet.chain, ...gas, ...call } as Parameters<typeof this.wallet.writeContract>[0];
    let txHash: Hex;
    try {
      await this.client.simulateContract(params as Parameters<PublicClient['simulateContract']>[0]);
      txHash = await this.wallet.writeContract(params);
    } catch (e: unknown) {
      const revert = revertName(e);
      if (revert !== null) return { ok: false, revert };
      throw new BridgeError({ code: 'BRIDGE_RPC_FAILED', method: call.functionName, error: describeError(e) }, `${call.functionName}: ${describeError(e)}`);
    }
    const receipt = await rpcCall('eth_getTransactionReceipt', () =>
      this.client.waitForTransactionReceipt({ hash: txHash, confirmations: this.confirmations, timeout: this.receiptTimeoutMs }),
    );
    if (receipt.status !== 'success') return { ok: false, revert: `transaction ${txHash} reverted` };
    return { ok: true, txHash, logs: receipt.logs };
  }
}

function decodeBridgeLog(l: { topics: readonly Hex[]; data: Hex }): { eventName: string; args: unknown } {
  return decodeEventLog({ abi: ABI, topics: l.topics as [Hex, ...Hex[]], data: l.data });
}

type ReadName = 'paused' | 'lastCheckpoint' | 'checkpointDigest' | 'validatorSetId' | 'validatorSetHash' | 'appchainId' | 'checkpoints' | 'claimed' | 'queued';
type ReadArgs<F extends ReadName> = F extends 'checkpointDigest'
  ? readonly [ReturnType<typeof checkpointArg>]
  : F extends 'checkpoints' | 'claimed' | 'queued'
    ? readonly [bigint]
    : readonly [];
type ReadResult<F extends ReadName> = F extends 'paused' | 'claimed'
  ? boolean
  : F extends 'lastCheckpoint' | 'validatorSetId'
    ? bigint
    : F extends 'checkpointDigest' | 'validatorSetHash' | 'appchainId'
      ? Hex
      : F extends 'checkpoints'
        ? readonly [Hex, Hex, number, bigint, bigint]
        : readonly [Hex, bigint, bigint];
