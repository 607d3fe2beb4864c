/**
 * The node side of consensus in the simulation: blocks are tiny canonical arrays
 * `[height, round, maker, tag, valid]` hashed with SHA-256; "executing" one checks its height and
 * its valid flag. Committed blocks live on a `SimDisk` that survives crashes; executed, uncommitted
 * blocks are memory and do not.
 */
import { Reader, assert, bytesToHex, decodeCanonical, encode, sha256 } from '../../lib/index.ts';
import { verifyCommit, type BftBlockPort, type Commit, type VotingValidator } from '../../consensus/index.ts';

export type SimBlock = { height: number; round: number; maker: number; tag: number; valid: boolean };

export function encodeSimBlock(b: SimBlock): Uint8Array {
  return encode([b.height, b.round, b.maker, b.tag, b.valid]);
}

export function decodeSimBlock(bytes: Uint8Array): SimBlock {
  return decodeCanonical(bytes, 'SimBlock', 64, (value) => {
    const r = Reader.array(value, 'SimBlock', 5);
    return { height: r.u32('height'), round: r.u32('round'), maker: r.u32('maker'), tag: r.u32('tag'), valid: r.bool('valid') };
  }, encodeSimBlock);
}

export type CommittedBlock = { hash: Uint8Array; bytes: Uint8Array; commit: Commit };

/** What survives a crash: the committed chain. */
export class SimDisk {
  readonly chain: CommittedBlock[] = [];
  get height(): number {
    return this.chain.length;
  }
}

export type SimBlocksHooks = {
  /** Every block built by a node (for the validity invariant). */
  onBuilt?: (hash: Uint8Array, block: SimBlock) => void;
  onCommit?: (height: number, hash: Uint8Array, block: SimBlock) => void;
};

export class SimBlocks implements BftBlockPort {
  private readonly pending = new Map<string, Uint8Array>();
  private tag = 0;
  readonly disk: SimDisk;
  private readonly chainId: string;
  private readonly validators: VotingValidator[];
  private readonly maker: number;
  private readonly hooks: SimBlocksHooks;
  executions = 0;

  constructor(opts: { chainId: string; validators: VotingValidator[]; maker: number; disk: SimDisk; hooks?: SimBlocksHooks }) {
    this.chainId = opts.chainId;
    this.validators = opts.validators;
    this.maker = opts.maker;
    this.disk = opts.disk;
    this.hooks = opts.hooks ?? {};
  }

  lastCommitted(): { height: number; timeMs: bigint } {
    return { height: this.disk.height, timeMs: BigInt(this.disk.height) };
  }

  hasPendingTxs(): boolean {
    return true;
  }

  validatorsAt(height: number): VotingValidator[] {
    assert(height === this.disk.height + 1, 'validatorsAt: only the next height');
    return this.validators;
  }

  async buildProposal(height: number, round: number): Promise<{ blockHash: Uint8Array }> {
    assert(height === this.disk.height + 1, 'buildProposal: not the next height');
    const block: SimBlock = { height, round, maker: this.maker, tag: this.tag++, valid: true };
    const bytes = encodeSimBlock(block);
    const hash = sha256(bytes);
    this.pending.set(bytesToHex(hash), bytes);
    this.hooks.onBuilt?.(hash, block);
    return { blockHash: hash };
  }

  blockHashOf(bytes: Uint8Array): Uint8Array {
    decodeSimBlock(bytes);
    return sha256(bytes);
  }

  proposalBlock(blockHash: Uint8Array): Uint8Array | null {
    return this.pending.get(bytesToHex(blockHash)) ?? null;
  }

  async executeProposal(height: number, bytes: Uint8Array): Promise<{ blockHash: Uint8Array; valid: boolean }> {
    this.executions++;
    const block = decodeSimBlock(bytes);
    const hash = sha256(bytes);
    const valid = block.valid && block.height === height && height === this.disk.height + 1;
    if (valid) this.pending.set(bytesToHex(hash), bytes);
    return { blockHash: hash, valid };
  }

  async commitBlock(height: number, blockHash: Uint8Array, commit: Commit): Promise<void> {
    const bytes = this.pending.get(bytesToHex(blockHash));
    assert(bytes !== undefined, `commitBlock: unknown block ${bytesToHex(blockHash)}`);
    this.store(height, blockHash, bytes, commit);
  }

  /** Block sync: a block and certificate from a peer, checked like the node checks them. */
  commitSynced(block: CommittedBlock): void {
    const height = this.disk.height + 1;
    assert(decodeSimBlock(block.bytes).height === height, 'sync: not the next height');
    this.store(height, block.hash, block.bytes, block.commit);
  }

  private store(height: number, hash: Uint8Array, bytes: Uint8Array, commit: Commit): void {
    assert(height === this.disk.height + 1, `commit of height ${height} on ${this.disk.height}`);
    verifyCommit(this.chainId, commit, height, hash, this.validators);
    this.disk.chain.push({ hash, bytes, commit });
    this.pending.clear();
    this.hooks.onCommit?.(height, hash, decodeSimBlock(bytes));
  }
}
