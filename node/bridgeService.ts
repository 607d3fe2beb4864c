/**
 * A node's part in the BNB Chain bridge (docs/spec/bridge.md §Validator duties, docs/operators.md
 * §Bridge). Three duties, each optional:
 *
 *   - attest: the deposit watcher reads finalized `Deposited` events from BNB Chain; for each deposit
 *     from the chain's next deposit nonce on that this validator has not attested, the node submits a
 *     `depositAttest` transaction signed with its node key (the runtime counts it for the validator
 *     whose consensus key that is: `bridgeOperatorOf`); it also registers its bridge key when the
 *     chain has another or none for its validator;
 *   - sign: after each commit, every closed checkpoint whose signing set holds this node's bridge key
 *     and that it has not signed yet gets a `checkpointSign` transaction (secp256k1 over the digest);
 *   - relay (permissionless): submits signed checkpoints to the contract and releases withdrawals,
 *     reading Tagger chain from this node's committed state.
 *
 * The transactions pay the normal fee from the validator's account. Each duty keeps at most one
 * transaction per item in the mempool at a time (bounded maps), and a failed BNB Chain call only
 * delays the next poll: nothing is skipped, nothing is attested twice (the runtime refuses a second
 * attestation from one validator anyway).
 */
import type { Hex } from 'viem';
import { bytesToHex, equalBytes, secp256k1Address, secp256k1Sign, type Logger } from '../lib/index.ts';
import {
  loadBridgeGlobals,
  loadBridgeKey,
  loadBridgeKeyOwner,
  loadBridgeParams,
  checkpointNextSet,
  loadCheckpoint,
  loadCheckpointSig,
  loadCheckpointSigs,
  loadDeposit,
  loadWithdrawal,
  requiredFee,
  signTx,
  signatureToBytes,
  toBridgeCheckpoint,
  loadStakingValidator,
  bridgeKeyMessage,
  bridgeOperatorOf,
  type BridgeBody,
  type CheckpointRecord,
} from '../runtime/index.ts';
import { PARAMS_KEY, decodeParams, type StateReader } from '../state/index.ts';
import { DepositWatcher } from '../bridge/watcher.ts';
import { Relayer, type CheckpointSource, type SignedCheckpoint } from '../bridge/relayer.ts';
import { createBnbPublicClient, createBnbWalletClient, describeError } from '../bridge/bnbClient.ts';
import type { BridgeWithdrawal, SignerSignature } from '../bridge/index.ts';

/** Checkpoints looked at per commit for missing signatures (the newest ones). */
const SIGN_LOOKBACK = 16;
/** Deposits attested per poll at most. */
const ATTEST_PER_POLL = 64;
/** Items with a transaction waiting in the mempool, at most (older entries are forgotten first). */
const INFLIGHT_MAX = 1_024;
/** Key registrations sent per process at most: one that keeps failing is a configuration problem. */
const REGISTER_TRIES_MAX = 3;

export type BridgeServiceConfig = {
  bnbRpcUrl: string;
  /** null: the RPC's `finalized` block tag; n: latest − n. */
  confirmations: number | null;
  /** First BNB Chain block the watcher scans (the bridge's deployment block). */
  fromBlock: bigint;
  pollMs: number;
  rpcTimeoutMs: number;
  /** The relayer's funded BNB key (0x…), or null for no relaying. */
  relayerKey: Hex | null;
};

export type BridgeServiceDeps = {
  chainId: string;
  key: { secretKey: Uint8Array; publicKey: Uint8Array; address: Uint8Array };
  /** This validator's secp256k1 bridge key, or null on a node that only relays. */
  bridgeSecret: Uint8Array | null;
  state(): StateReader;
  nextNonce(address: Uint8Array): number;
  inMempool(hash: Uint8Array): boolean;
  /** Adds to the mempool and relays; throws what the mempool throws. */
  submit(bytes: Uint8Array): void;
  log: Logger;
};

/** Reads signed checkpoints and their withdrawals from committed state: the relayer's view of Tagger chain. */
export function stateCheckpointSource(state: () => StateReader): CheckpointSource {
  return {
    async signedCheckpoint(n: number): Promise<SignedCheckpoint | null> {
      const reader = state();
      const c = loadCheckpoint(reader, n);
      if (c === null || !c.signed) return null;
      return { checkpoint: toBridgeCheckpoint(c), signingSet: c.signingSet, nextSet: checkpointNextSet(reader, c), signatures: checkpointSignatures(reader, c) };
    },
    async checkpointWithdrawals(n: number): Promise<BridgeWithdrawal[]> {
      const reader = state();
      const c = loadCheckpoint(reader, n);
      if (c === null) return [];
      const out: BridgeWithdrawal[] = [];
      for (let nonce = c.firstWithdrawalNonce; nonce < c.firstWithdrawalNonce + c.withdrawalCount; nonce++) {
        const w = loadWithdrawal(reader, nonce);
        if (w !== null) out.push({ nonce: BigInt(nonce), sender: w.sender, recipient: w.recipient, amount: w.amount });
      }
      return out;
    },
  };
}

/** The stored signatures over checkpoint `c`, as the contract takes them. */
function checkpointSignatures(state: StateReader, c: CheckpointRecord): SignerSignature[] {
  return loadCheckpointSigs(state, c).map(({ signer, signature: b }) => ({ signer, signature: { r: b.subarray(0, 32), s: b.subarray(32, 64), v: b[64] as 27 | 28 } }));
}

export class BridgeService {
  private readonly deps: BridgeServiceDeps;
  private readonly config: BridgeServiceConfig;
  private readonly bridgeAddress: Uint8Array | null;
  private watcher: DepositWatcher | null = null;
  private relayer: Relayer | null = null;
  /** Duty key (`deposit:N`, `checkpoint:N`) → hash of the transaction waiting in the mempool. */
  private readonly inflight = new Map<string, Uint8Array>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private stopped = false;
  private registerTries = 0;
  private registerGaveUp = false;

  constructor(config: BridgeServiceConfig, deps: BridgeServiceDeps) {
    this.config = config;
    this.deps = deps;
    this.bridgeAddress = deps.bridgeSecret === null ? null : secp256k1Address(deps.bridgeSecret);
  }

  /** The bridge key's EVM address (0x…), or null. */
  get bridgeKeyAddress(): string | null {
    return this.bridgeAddress === null ? null : `0x${bytesToHex(this.bridgeAddress)}`;
  }

  /** Starts polling BNB Chain; a chain whose genesis has no bridge leaves the service idle. */
  start(): void {
    const params = loadBridgeParams(this.deps.state());
    if (params.checkpointInterval === 0) {
      this.deps.log.info('The chain has no bridge (genesis has no bridge section): bridge service idle');
      return;
    }
    const bridge: Hex = `0x${bytesToHex(params.bridgeContract)}`;
    const clientOpts = { url: this.config.bnbRpcUrl, chainId: params.bnbChainId, timeoutMs: this.config.rpcTimeoutMs };
    const client = createBnbPublicClient(clientOpts);
    const log = this.deps.log;
    this.watcher = new DepositWatcher({ client, bridge, fromBlock: this.config.fromBlock, confirmations: this.config.confirmations, logger: log.child({ part: 'watcher' }) });
    if (this.config.relayerKey !== null) {
      this.relayer = new Relayer({
        source: stateCheckpointSource(() => this.deps.state()),
        publicClient: client,
        walletClient: createBnbWalletClient(clientOpts, this.config.relayerKey),
        bridge,
        confirmations: this.config.confirmations,
        logger: log.child({ part: 'relayer' }),
      });
    }
    log.info({ bnbRpc: this.config.bnbRpcUrl, bridge, bridgeKey: this.bridgeKeyAddress, relayer: this.relayer !== null }, 'Bridge service started');
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.polling;
  }

  /** After each commit: register the bridge key if the chain lacks it, sign the checkpoints this node owes, attest deposits already seen. */
  onCommit(): void {
    if (this.watcher === null) return;
    this.forgetCommitted();
    this.registerKey();
    this.signCheckpoints();
    this.attestDeposits();
  }

  /** The operator this node's duties speak for (its own address for a genesis validator). */
  private operator(state: StateReader): Uint8Array {
    return bridgeOperatorOf(state, this.deps.key.address);
  }

  /**
   * A validator whose operator has no bridge key, or another one, registers this node's key
   * (`bridgeKeyRegister`, sent with the node key on the operator's behalf). It takes effect on the
   * contract through the next checkpoint's set rotation.
   */
  private registerKey(): void {
    if (this.bridgeAddress === null || this.deps.bridgeSecret === null) return;
    const state = this.deps.state();
    if (!this.isValidator(state)) return;
    const operator = this.operator(state);
    const current = loadBridgeKey(state, operator);
    if (current !== null && equalBytes(current, this.bridgeAddress)) return;
    const owner = loadBridgeKeyOwner(state, this.bridgeAddress);
    if ((owner !== null && !equalBytes(owner, operator)) || this.registerTries >= REGISTER_TRIES_MAX) {
      if (!this.registerGaveUp) this.deps.log.error({ bridgeKey: this.bridgeKeyAddress, inUse: owner !== null }, 'Cannot register the bridge key (in use by another validator, or refused): set another bridge-key.json');
      this.registerGaveUp = true;
      return;
    }
    const waiting = this.inflight.get('register');
    if (waiting !== undefined && this.deps.inMempool(waiting)) return;
    this.registerTries++;
    const proof = signatureToBytes(secp256k1Sign(this.deps.bridgeSecret, bridgeKeyMessage(this.deps.chainId, operator)));
    this.send('register', { kind: 'bridgeKeyRegister', address: this.bridgeAddress, proof });
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.polling = this.poll().finally(() => {
        this.polling = null;
        this.schedule(this.config.pollMs);
      });
    }, ms);
  }

  /** One round against BNB Chain: new finalized deposits, then the relayer's step. Never throws. */
  private async poll(): Promise<void> {
    const log = this.deps.log;
    if (this.watcher !== null) {
      try {
        const seen = await this.watcher.poll();
        if (seen.length > 0) log.info({ deposits: seen.map((d) => d.nonce) }, 'Saw finalized deposits on BNB Chain');
        this.attestDeposits();
      } catch (e: unknown) {
        log.warn({ err: describeError(e) }, 'Deposit watcher poll failed; retrying next poll');
      }
    }
    if (this.relayer !== null && !this.stopped) {
      try {
        const step = await this.relayer.poll();
        if (step.checkpoints.length > 0 || step.releases.length > 0 || step.queued.length > 0) {
          log.info({ checkpoints: step.checkpoints, releases: step.releases, queued: step.queued.map((q) => q.nonce) }, 'Relayed to BNB Chain');
        }
      } catch (e: unknown) {
        log.warn({ err: describeError(e) }, 'Relayer poll failed; retrying next poll');
      }
    }
  }

  /** Drops in-flight entries whose transaction left the mempool (committed or evicted). */
  private forgetCommitted(): void {
    for (const [duty, hash] of this.inflight) if (!this.deps.inMempool(hash)) this.inflight.delete(duty);
  }

  private isValidator(state: StateReader): boolean {
    return loadStakingValidator(state, this.operator(state)) !== null;
  }

  private signCheckpoints(): void {
    if (this.bridgeAddress === null || this.deps.bridgeSecret === null) return;
    const state = this.deps.state();
    const me = loadBridgeKey(state, this.operator(state));
    if (me === null || !equalBytes(me, this.bridgeAddress)) return;
    const last = loadBridgeGlobals(state).lastCheckpoint;
    for (let n = Math.max(1, last - SIGN_LOOKBACK + 1); n <= last; n++) {
      const c = loadCheckpoint(state, n);
      if (c === null || c.signed || !c.signingSet.signers.some((s) => equalBytes(s, this.bridgeAddress!))) continue;
      if (loadCheckpointSig(state, n, this.bridgeAddress) !== null) continue;
      const signature = signatureToBytes(secp256k1Sign(this.deps.bridgeSecret, c.digest));
      this.send(`checkpoint:${n}`, { kind: 'checkpointSign', number: n, signature });
    }
  }

  private attestDeposits(): void {
    if (this.watcher === null) return;
    const state = this.deps.state();
    const next = loadBridgeGlobals(state).nextDepositNonce;
    this.watcher.prune(next);
    if (!this.isValidator(state)) return;
    const operator = this.operator(state);
    for (const d of this.watcher.pending(next, ATTEST_PER_POLL)) {
      const record = loadDeposit(state, d.nonce);
      if (record !== null && record.attesters.some((a) => equalBytes(a, operator))) continue;
      const body: BridgeBody = { kind: 'depositAttest', nonce: d.nonce, recipient: d.recipient, amount: d.amount, bnbTxHash: d.bnbTxHash, logIndex: d.logIndex };
      this.send(`deposit:${d.nonce}`, body);
    }
  }

  /** Signs and submits one duty's transaction unless one is already waiting; true if submitted. */
  private send(duty: string, body: BridgeBody): boolean {
    const waiting = this.inflight.get(duty);
    if (waiting !== undefined && this.deps.inMempool(waiting)) return false;
    const { key, chainId } = this.deps;
    const paramsBytes = this.deps.state().get(PARAMS_KEY);
    if (paramsBytes === undefined) return false;
    const params = decodeParams(paramsBytes);
    const nonce = this.deps.nextNonce(key.address);
    // The fee depends on the signed size: sign once to measure, then with the fee it needs.
    const probe = signTx({ chainId, sender: key.publicKey, nonce, maxFee: 0n, body }, key.secretKey);
    const signed = signTx({ chainId, sender: key.publicKey, nonce, maxFee: requiredFee(params, probe.bytes.length + 16), body }, key.secretKey);
    try {
      this.deps.submit(signed.bytes);
    } catch (e: unknown) {
      this.deps.log.warn({ duty, err: e instanceof Error ? e.message : String(e) }, 'Could not submit a bridge transaction yet');
      return false;
    }
    if (this.inflight.size >= INFLIGHT_MAX) {
      const oldest = this.inflight.keys().next().value;
      if (oldest !== undefined) this.inflight.delete(oldest);
    }
    this.inflight.set(duty, signed.hash);
    this.deps.log.info({ duty, tx: bytesToHex(signed.hash) }, 'Submitted a bridge transaction');
    return true;
  }
}
