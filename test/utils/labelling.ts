/**
 * An in-memory chain for labelling tests: genesis state in a MapStateReader, blocks applied with
 * the real runtime (`applyBlockTxs`, which runs the per-block labelling work), writes committed
 * after each block. Plus helpers that build labelling transactions the way clients do.
 */
import { ONE_TAG, encode, merkleProof, merkleRoot, sha256, u32ToBytes } from '../../lib/index.ts';
import {
  applyBlockTxs,
  goldLeaf,
  labelLeaf,
  loadAssignment,
  loadItemWithAnswers,
  loadRound,
  loadTask,
  signTx,
  type ChainEvent,
  type LabelEntry,
  type LabellingBody,
  type Receipt,
  type SignedTx,
  type TaskSpec,
  type TxBody,
} from '../../runtime/index.ts';
import { MapStateReader, StateView, loadAccount, type Params } from '../../state/index.ts';
import { genesisToState, type Genesis } from '../../genesis/index.ts';
import { TEST_CHAIN_ID, fixedKey, makeGenesis, type Key } from './factories.ts';

export class LabellingChain {
  readonly state: MapStateReader;
  readonly genesis: Genesis;
  readonly proposer: Key;
  height = 0;
  private readonly nonces = new Map<string, number>();
  /** Every end-of-block event, by height. */
  readonly blockEvents = new Map<number, ChainEvent[]>();

  constructor(genesis: Genesis) {
    this.genesis = genesis;
    this.proposer = fixedKey(0x10);
    this.state = new MapStateReader();
    const view = new StateView(this.state);
    genesisToState(genesis, view);
    this.state.apply(view.writes());
  }

  static withAccounts(keys: readonly Key[], balance = 1_000_000n * ONE_TAG, params?: Params): LabellingChain {
    return new LabellingChain(makeGenesis(keys, params === undefined ? { balance } : { balance, params }));
  }

  get params(): Params {
    return this.genesis.params;
  }

  tx(from: Key, body: TxBody, maxFee = ONE_TAG): SignedTx {
    const id = Buffer.from(from.address).toString('hex');
    const nonce = this.nonces.get(id) ?? loadAccount(this.state, from.address).nonce;
    this.nonces.set(id, nonce + 1);
    return signTx({ chainId: TEST_CHAIN_ID, sender: from.publicKey, nonce, maxFee, body }, from.secretKey);
  }

  /** Forgets locally tracked nonces (after a transaction was rejected and not included). */
  resetNonces(): void {
    this.nonces.clear();
  }

  /** Applies one block of `txs`; returns the transactions' receipts (end-of-block events go to `blockEvents`). */
  block(txs: readonly SignedTx[] = []): Receipt[] {
    this.height++;
    const view = new StateView(this.state);
    const env = {
      chainId: TEST_CHAIN_ID,
      height: this.height,
      timeMs: this.genesis.genesisTimeMs + BigInt(this.height) * 1000n,
      proposer: this.proposer.address,
      seed: sha256(u32ToBytes(this.height)),
      verifySignatures: false,
    };
    const { receipts } = applyBlockTxs(view, txs.map((t) => t.bytes), env, this.params);
    this.state.apply(view.writes());
    const txReceipts = receipts.slice(0, txs.length);
    this.blockEvents.set(this.height, receipts.slice(txs.length).flatMap((r) => r.events));
    return txReceipts;
  }

  /** One transaction in its own block; its receipt. */
  send(from: Key, body: TxBody): Receipt {
    const receipt = this.block([this.tx(from, body)])[0];
    if (receipt === undefined) throw new Error('no receipt');
    return receipt;
  }

  blocks(n: number): void {
    for (let i = 0; i < n; i++) this.block();
  }

  /** Runs empty blocks until `height` has been applied. */
  advanceTo(height: number): void {
    while (this.height < height) this.block();
  }

  balance(key: Key | Uint8Array): bigint {
    return loadAccount(this.state, key instanceof Uint8Array ? key : key.address).balance;
  }

  task(id: number) {
    const t = loadTask(this.state, id);
    if (t === null) throw new Error(`task ${id} missing`);
    return t;
  }

  item(task: number, index: number) {
    const i = loadItemWithAnswers(this.state, task, index);
    if (i === null) throw new Error(`item ${task}/${index} missing`);
    return i;
  }

  round(task: number, round: number) {
    const r = loadRound(this.state, task, round);
    if (r === null) throw new Error(`round ${task}/${round} missing`);
    return r;
  }

  assignment(task: number, round: number, who: Key) {
    return loadAssignment(this.state, task, round, who.address);
  }

  events(type: string): Array<Record<string, string>> {
    const out: Array<Record<string, string>> = [];
    for (const list of this.blockEvents.values()) for (const e of list) if (e.type === type) out.push(Object.fromEntries(e.attributes));
    return out;
  }
}

export function taskSpec(overrides: Partial<TaskSpec> = {}): TaskSpec {
  return {
    schema: 0,
    classes: 4,
    itemCount: 4,
    answersMin: 3,
    answersMax: 5,
    rewardPerAnswer: ONE_TAG,
    bonusPerAnswer: ONE_TAG / 2n,
    annotatorStake: 100n * ONE_TAG,
    commitWindow: 3,
    revealWindow: 3,
    challengeWindow: 5,
    confidenceQ16: 58_982,
    goldRoot: new Uint8Array(32),
    feePerSeat: ONE_TAG / 10n,
    seatsPerAnnotatorMax: 1_000,
    metadata: 'test task',
    ...overrides,
  };
}

export function itemsFor(n: number, offset = 0): Array<{ contentHash: Uint8Array; uri: string }> {
  return Array.from({ length: n }, (_, i) => ({ contentHash: sha256(u32ToBytes(offset + i)), uri: `ipfs://item/${offset + i}` }));
}

/** Deterministic 16-byte salt. */
export function saltFor(...parts: number[]): Uint8Array {
  return sha256(encode(parts)).subarray(0, 16);
}

export function commitBody(task: number, round: number, who: Key, labels: ReadonlyArray<{ item: number; label: number }>): { body: LabellingBody; entries: LabelEntry[] } {
  const entries = labels.map((l) => ({ item: l.item, label: l.label, salt: saltFor(task, round, l.item, who.address[0] as number) }));
  const root = merkleRoot(entries.map((e) => labelLeaf(task, round, who.address, e)));
  return { body: { kind: 'labelCommit', task, round, root, count: entries.length }, entries };
}

export function revealBody(task: number, round: number, entries: LabelEntry[]): LabellingBody {
  return { kind: 'labelReveal', task, round, entries };
}

/** A gold tree over `gold` (item → label): its root and the reveal entries with proofs. */
export function goldTree(gold: ReadonlyArray<{ item: number; label: number }>) {
  const entries = gold.map((g) => ({ ...g, salt: saltFor(999, g.item, g.label) }));
  const leaves = entries.map((e) => goldLeaf(e.item, e.label, e.salt));
  return {
    root: merkleRoot(leaves),
    count: leaves.length,
    reveal: entries.map((e, index) => ({ item: e.item, label: e.label, salt: e.salt, index, proof: merkleProof(leaves, index) })),
  };
}

/** Stakes `amount` for each key, in one block. */
export function stakeAll(chain: LabellingChain, keys: readonly Key[], amount = 1_000n * ONE_TAG): void {
  const receipts = chain.block(keys.map((k) => chain.tx(k, { kind: 'annotatorStake', amount })));
  for (const r of receipts) if (r.status !== 0) throw new Error(`stake failed: ${r.code}`);
}

/** Creates, fills and funds a task in three blocks; returns its id. */
export function openTask(chain: LabellingChain, requester: Key, spec: TaskSpec): number {
  const created = chain.send(requester, { kind: 'taskCreate', spec });
  if (created.status !== 0) throw new Error(`create failed: ${created.code}`);
  const id = Number(created.events.find((e) => e.type === 'task_created')?.attributes.find(([k]) => k === 'task')?.[1]);
  for (let offset = 0; offset < spec.itemCount; offset += 2_000) {
    const r = chain.send(requester, { kind: 'taskAddItems', task: id, items: itemsFor(Math.min(2_000, spec.itemCount - offset), offset) });
    if (r.status !== 0) throw new Error(`add items failed: ${r.code}`);
  }
  const funded = chain.send(requester, { kind: 'taskFund', task: id });
  if (funded.status !== 0) throw new Error(`fund failed: ${funded.code}`);
  return id;
}
