/**
 * An in-memory chain for staking tests: genesis state in a MapStateReader, blocks applied with the
 * real runtime (`applyBlockTxs`), and — unlike the labelling harness — a real commit certificate of
 * each block (signed by the set that validated it, minus chosen absentees) carried as the next
 * block's `lastCommit`, so that liveness tracking runs as on a node. Plus a census of every TAG
 * held in state, by key prefix, for conservation checks.
 */
import { ONE_TAG, bytesToHex, compareBytes, sha256, u32ToBytes } from '../../../lib/index.ts';
import {
  DEFAULT_STAKING_PARAMS,
  REWARD_INDEX_SCALE,
  REWARD_POOL_ADDRESS,
  applyBlockTxs,
  decodeStakingValidator,
  loadDelegation,
  loadLastValidatorSet,
  loadStakingValidator,
  loadUnbondingPool,
  saveStakingParams,
  stakingStarted,
  signTx,
  type ChainEvent,
  type Receipt,
  type SignedTx,
  type SignedVote,
  type StakingParams,
  type StakingValidator,
  type TxBody,
} from '../../../runtime/index.ts';
import { PREFIX, MapStateReader, StateView, decodeAccount, loadAccount, loadSupply, loadValidatorSet, type Params } from '../../../state/index.ts';
import { VOTE_TYPE, encodeCommit, signVote, type Vote, type VoteType } from '../../../consensus/index.ts';
import { genesisToState, type Genesis } from '../../../genesis/index.ts';
import { TEST_CHAIN_ID, makeGenesis, type Key } from '../../utils/factories.ts';
import { numberedKey } from '../../utils/chain.ts';

export const TAG = ONE_TAG;

/** Small periods so that epochs, unbonding and jail all happen within tens of blocks. */
export const TEST_STAKING_PARAMS: StakingParams = {
  ...DEFAULT_STAKING_PARAMS,
  epochBlocks: 5,
  activeValidatorsMax: 4,
  validatorsMax: 16,
  minSelfStake: 10n * TAG,
  unbondingBlocks: 30,
  unbondingEntriesMax: 3,
  commissionMaxBps: 5_000,
  commissionChangeMaxBps: 500,
  blockReward: TAG,
  signedBlocksWindow: 10,
  minSignedBps: 5_000,
  downtimeJailBlocks: 8,
  slashDowntimeBps: 100,
  slashDoubleSignBps: 500,
  evidenceMaxAgeBlocks: 20,
  evidenceMaxAgeMs: 60_000n,
};

export type ChainOpts = {
  validators?: readonly Key[];
  power?: bigint;
  accounts?: readonly Key[];
  balance?: bigint;
  params?: Partial<StakingParams>;
  chainParams?: Params;
};

export class StakingChain {
  readonly state = new MapStateReader();
  readonly genesis: Genesis;
  readonly params: StakingParams;
  height = 0;
  timeMs: bigint;
  /** Milliseconds between blocks. */
  blockTimeMs = 1_000n;
  /** The encoded commit of the latest block, the next block's `lastCommit`. */
  lastCommit: Uint8Array = new Uint8Array(0);
  private readonly nonces = new Map<string, number>();
  /** Consensus keys by consensus address (hex), to sign commits and votes. */
  private readonly consensusKeys = new Map<string, Key>();
  /** End-of-block events by height. */
  readonly blockEvents = new Map<number, ChainEvent[]>();

  constructor(opts: ChainOpts = {}) {
    const validators = opts.validators ?? [numberedKey(9000)];
    const g = makeGenesis(opts.accounts ?? [], {
      validators,
      power: opts.power ?? 100n * TAG,
      balance: opts.balance ?? 10_000n * TAG,
      ...(opts.chainParams === undefined ? {} : { params: opts.chainParams }),
    });
    this.genesis = g;
    this.timeMs = g.genesisTimeMs;
    this.params = { ...TEST_STAKING_PARAMS, ...opts.params };
    for (const k of validators) this.addConsensusKey(k);
    const view = new StateView(this.state);
    genesisToState(g, view);
    saveStakingParams(view, this.params);
    this.state.apply(view.writes());
  }

  addConsensusKey(k: Key): void {
    this.consensusKeys.set(bytesToHex(k.address), k);
  }

  tx(from: Key, body: TxBody, maxFee = TAG): SignedTx {
    const id = bytesToHex(from.address);
    const nonce = this.nonces.get(id) ?? loadAccount(this.state, from.address).nonce;
    this.nonces.set(id, nonce + 1);
    return signTx({ chainId: TEST_CHAIN_ID, sender: from.publicKey, nonce, maxFee, body }, from.secretKey);
  }

  /**
   * Applies one block; its commit is then signed by the set that validated it, except `absent`.
   * Returns the transactions' receipts (end-of-block events go to `blockEvents`).
   */
  block(txs: readonly SignedTx[] = [], opts: { absent?: readonly Key[]; proposer?: Uint8Array } = {}): Receipt[] {
    this.height++;
    this.timeMs += this.blockTimeMs;
    const view = new StateView(this.state);
    const set = loadValidatorSet(this.state);
    const env = {
      chainId: TEST_CHAIN_ID,
      height: this.height,
      timeMs: this.timeMs,
      proposer: opts.proposer ?? set[0]?.address ?? new Uint8Array(20),
      seed: sha256(u32ToBytes(this.height)),
      verifySignatures: false,
      lastCommit: this.lastCommit,
    };
    const { receipts } = applyBlockTxs(view, txs.map((t) => t.bytes), env, this.genesis.params);
    this.state.apply(view.writes());
    this.blockEvents.set(this.height, receipts.slice(txs.length).flatMap((r) => r.events));
    this.lastCommit = this.commitFor(this.height, opts.absent ?? []);
    this.nonces.clear();
    return receipts.slice(0, txs.length);
  }

  /** A commit of `height` (a made-up block hash) by the set that validated it, minus `absent`. */
  private commitFor(height: number, absent: readonly Key[]): Uint8Array {
    const blockHash = sha256(Uint8Array.from([...u32ToBytes(height), 0xb1]));
    const out = new Set(absent.map((k) => bytesToHex(k.address)));
    const signers = loadLastValidatorSet(this.state)
      .filter((v) => !out.has(bytesToHex(v.address)))
      .map((v) => this.consensusKeys.get(bytesToHex(v.address)))
      .filter((k): k is Key => k !== undefined)
      .sort((a, b) => compareBytes(a.address, b.address));
    const signatures = signers.map((k) => {
      const vote: Vote = { type: VOTE_TYPE.precommit, height, round: 0, blockHash, validator: k.address };
      return { validator: k.address, signature: signVote(TEST_CHAIN_ID, vote, k.secretKey) };
    });
    return encodeCommit({ height, round: 0, blockHash, signatures });
  }

  send(from: Key, body: TxBody): Receipt {
    const r = this.block([this.tx(from, body)])[0];
    if (r === undefined) throw new Error('no receipt');
    return r;
  }

  blocks(n: number, opts: { absent?: readonly Key[] } = {}): void {
    for (let i = 0; i < n; i++) this.block([], opts);
  }

  advanceTo(height: number, opts: { absent?: readonly Key[] } = {}): void {
    while (this.height < height) this.block([], opts);
  }

  balance(who: Key | Uint8Array): bigint {
    return loadAccount(this.state, who instanceof Uint8Array ? who : who.address).balance;
  }

  validator(operator: Key | Uint8Array): StakingValidator {
    const v = loadStakingValidator(this.state, operator instanceof Uint8Array ? operator : operator.address);
    if (v === null) throw new Error('no such validator');
    return v;
  }

  /** The TAG a delegation's shares are worth now. */
  stakeOf(delegator: Key, operator: Key | Uint8Array): bigint {
    const v = this.validator(operator);
    const d = loadDelegation(this.state, delegator.address, v.operator);
    return d === null || v.shares === 0n ? 0n : (d.shares * v.tokens) / v.shares;
  }

  /** Events of one type, all blocks, attributes as objects. */
  events(type: string): Array<Record<string, string>> {
    const out: Array<Record<string, string>> = [];
    for (const list of this.blockEvents.values()) for (const e of list) if (e.type === type) out.push(Object.fromEntries(e.attributes));
    return out;
  }

  /** The active set's consensus addresses (hex), sorted. */
  activeSet(): string[] {
    return loadValidatorSet(this.state).map((v) => bytesToHex(v.address));
  }

  /** A vote signed with a consensus key, as evidence carries it. */
  vote(k: Key, height: number, blockHash: Uint8Array, opts: { round?: number; type?: VoteType; chainId?: string } = {}): SignedVote {
    const vote: Vote = { type: opts.type ?? VOTE_TYPE.precommit, height, round: opts.round ?? 0, blockHash, validator: k.address };
    return { ...vote, signature: signVote(opts.chainId ?? TEST_CHAIN_ID, vote, k.secretKey) };
  }
}

export type Census = {
  supply: bigint;
  accounts: bigint;
  bonded: bigint;
  unbonding: bigint;
  pool: bigint;
  /** What the pool owes: unpaid delegation rewards plus unclaimed commissions. */
  owed: bigint;
};

/** Every TAG held in state, enumerated by key prefix. */
export function census(state: MapStateReader): Census {
  let accounts = 0n;
  let bonded = 0n;
  let unbonding = 0n;
  let owed = 0n;
  const validators = new Map<string, StakingValidator>();
  for (const [key, value] of state.entries()) {
    if (key[0] === PREFIX.stakingValidator) {
      const v = decodeStakingValidator(value);
      validators.set(bytesToHex(v.operator), v);
    }
  }
  for (const [key, value] of state.entries()) {
    switch (key[0]) {
      case PREFIX.account:
        accounts += decodeAccount(value).balance;
        break;
      case PREFIX.stakingValidator: {
        const v = decodeStakingValidator(value);
        bonded += v.tokens;
        owed += v.commission;
        break;
      }
      case PREFIX.unbondingPool:
        unbonding += loadUnbondingPool(state, key.subarray(1, 21), new DataView(key.buffer, key.byteOffset, key.byteLength).getUint32(21)).tokens;
        break;
      case PREFIX.delegation: {
        const v = validators.get(bytesToHex(key.subarray(21, 41)));
        if (v === undefined) throw new Error('a delegation to no validator');
        const d = loadDelegation(state, key.subarray(1, 21), key.subarray(21, 41));
        if (d !== null) owed += (d.shares * (v.rewardIndex - d.rewardIndex)) / REWARD_INDEX_SCALE;
        break;
      }
      default:
        break;
    }
  }
  // Before the first block the genesis validators' power is stake that has no staking record yet.
  if (!stakingStarted(state)) for (const v of loadValidatorSet(state)) bonded += v.power;
  return { supply: loadSupply(state), accounts, bonded, unbonding, pool: loadAccount(state, REWARD_POOL_ADDRESS).balance, owed };
}
