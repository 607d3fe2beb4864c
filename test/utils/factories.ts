/**
 * Pure test factories: fixed keys, a small genesis, signed transfers, and an in-memory chain state
 * (a MapStateReader plus the SparseMerkleTree over it). Nothing here touches the disk or node/, so
 * unit tests of lib/, runtime/, state/, genesis/ and consensus/ can share it.
 */
import { addressFromPublicKey, isChainError, publicKeyFromSecret, sha256, ONE_TAG } from '../../lib/index.ts';
import { RECEIPT_STATUS, signTx, type BlockEnv, type Header, type Receipt, type SignedTx, type TransferBody, type Tx } from '../../runtime/index.ts';
import { DEFAULT_PARAMS, MapStateReader, SparseMerkleTree, StateView, type Params } from '../../state/index.ts';
import { genesisToState, type Genesis } from '../../genesis/index.ts';

export type Key = { secretKey: Uint8Array; publicKey: Uint8Array; address: Uint8Array };

/** The key whose secret is 32 bytes of `byte` (the test vectors use 0x01, 0x02, …). */
export function fixedKey(byte: number): Key {
  const secretKey = new Uint8Array(32).fill(byte);
  const publicKey = publicKeyFromSecret(secretKey);
  return { secretKey, publicKey, address: addressFromPublicKey(publicKey) };
}

export const TEST_CHAIN_ID = 'tagger-test-1';
export const GENESIS_TIME_MS = 1_767_225_600_000n; // 2026-01-01T00:00:00Z

/** A genesis with one validator (key 0x10 unless given) and each funded key holding `balance`. */
export function makeGenesis(
  funded: readonly Key[],
  opts: { balance?: bigint; params?: Params; validators?: readonly Key[]; power?: bigint; chainId?: string } = {},
): Genesis {
  const validators = opts.validators ?? [fixedKey(0x10)];
  return {
    chainId: opts.chainId ?? TEST_CHAIN_ID,
    genesisTimeMs: GENESIS_TIME_MS,
    params: opts.params ?? DEFAULT_PARAMS,
    validators: validators.map((k, i) => ({ name: `v${i}`, publicKey: k.publicKey, power: opts.power ?? 1000n * ONE_TAG })),
    accounts: funded.map((k) => ({ address: k.address, balance: opts.balance ?? 1000n * ONE_TAG })),
  };
}

export type TransferOpts = { chainId?: string; maxFee?: bigint };

export type TransferTx = Tx & { body: TransferBody };
export type SignedTransfer = SignedTx & { tx: TransferTx };

export function transferTx(from: Key, nonce: number, to: Uint8Array, amount: bigint, opts: TransferOpts = {}): TransferTx {
  return {
    chainId: opts.chainId ?? TEST_CHAIN_ID,
    sender: from.publicKey,
    nonce,
    maxFee: opts.maxFee ?? 10n ** 17n,
    body: { kind: 'transfer', to, amount },
  };
}

export function signedTransfer(from: Key, nonce: number, to: Uint8Array, amount: bigint, opts: TransferOpts = {}): SignedTransfer {
  return signTx(transferTx(from, nonce, to, amount, opts), from.secretKey) as SignedTransfer;
}

export function blockEnv(proposer: Uint8Array, height = 1, opts: { chainId?: string; verifySignatures?: boolean } = {}): BlockEnv {
  return {
    chainId: opts.chainId ?? TEST_CHAIN_ID,
    height,
    timeMs: GENESIS_TIME_MS + BigInt(height) * 1000n,
    proposer,
    seed: sha256(Uint8Array.of(height & 0xff, (height >>> 8) & 0xff, (height >>> 16) & 0xff)),
    verifySignatures: opts.verifySignatures ?? true,
  };
}

/**
 * Committed state held in memory: the values (for reads) and the authenticated tree (for roots),
 * kept in step the way the node's ChainStore keeps them.
 */
export class MemChain {
  readonly reader = new MapStateReader();
  tree = SparseMerkleTree.empty();

  /** A fresh overlay over the committed state. */
  view(): StateView {
    return new StateView(this.reader);
  }

  /** Commits a view's writes; returns the new state root. */
  commit(view: StateView): Uint8Array {
    const writes = view.writes();
    this.tree = this.tree.update(writes);
    this.reader.apply(writes);
    return this.tree.root;
  }

  get root(): Uint8Array {
    return this.tree.root;
  }

  static fromGenesis(genesis: Genesis): MemChain {
    const chain = new MemChain();
    const view = chain.view();
    genesisToState(genesis, view);
    chain.commit(view);
    return chain;
  }
}

/** The ChainError code `fn` throws, or 'ok' if it returns. Anything that is not a ChainError is rethrown. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e: unknown) {
    if (isChainError(e)) return e.code;
    throw e;
  }
}

/** The ChainError thrown by `fn` (its `type`, with code and metadata), or null if it returns. */
export function errorOf(fn: () => unknown): { code: string; [k: string]: unknown } | null {
  try {
    fn();
    return null;
  } catch (e: unknown) {
    if (isChainError(e)) return e.type;
    throw e;
  }
}

export function sampleHeader(overrides: Partial<Header> = {}): Header {
  return {
    version: 1,
    chainId: TEST_CHAIN_ID,
    height: 1,
    timeMs: GENESIS_TIME_MS + 1000n,
    parentHash: new Uint8Array(32),
    lastCommitHash: new Uint8Array(32).fill(0x55),
    txRoot: new Uint8Array(32).fill(0x11),
    receiptsRoot: new Uint8Array(32).fill(0x22),
    stateRoot: new Uint8Array(32).fill(0x33),
    proposer: new Uint8Array(20).fill(0x44),
    validatorSetHash: new Uint8Array(32).fill(0x55),
    nextValidatorSetHash: new Uint8Array(32).fill(0x55),
    ...overrides,
  };
}

export function sampleReceipt(overrides: Partial<Receipt> = {}): Receipt {
  return {
    txHash: new Uint8Array(32).fill(0xab),
    status: RECEIPT_STATUS.ok,
    code: '',
    fee: 1_000_150_000_000_000n,
    events: [
      { type: 'fee', attributes: [['payer', 'tag1payer'], ['amount', '1000150000000000'], ['burned', '500075000000000']] },
      { type: 'transfer', attributes: [['from', 'tag1a'], ['to', 'tag1b'], ['amount', '1']] },
    ],
    ...overrides,
  };
}
