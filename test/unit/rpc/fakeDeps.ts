/**
 * A fake RpcDeps for the RPC and SDK tests, made of real objects: keys from lib, transactions signed
 * with runtime's `signTx`, a real header and block hash, a state tree (state/smt.ts) for accounts
 * and proofs, and a submit path that decodes and checks transactions as the mempool does.
 */
import { ONE_TAG, addressFromPublicKey, publicKeyFromSecret, randomSecretKey, sign, bytesToHex, utf8ToBytes, addressToString } from '../../../lib/index.ts';
import {
  RECEIPT_STATUS,
  TxError,
  blockHash,
  decodeSignedTx,
  signTx,
  verifyTxSignature,
  type Block,
  type Header,
  type Receipt,
  type SignedTx,
} from '../../../runtime/index.ts';
import { EMPTY_ACCOUNT, SparseMerkleTree, accountKey, decodeAccount, encodeAccount } from '../../../state/index.ts';
import type { AccountView, BlockView, RpcDeps, TxView } from '../../../rpc/index.ts';

export const CHAIN_ID = 'test-chain';
export const GENESIS_TIME_MS = 1_700_000_000_000n;

export type Key = { secretKey: Uint8Array; publicKey: Uint8Array; address: Uint8Array };

export function newKey(): Key {
  const secretKey = randomSecretKey();
  const publicKey = publicKeyFromSecret(secretKey);
  return { secretKey, publicKey, address: addressFromPublicKey(publicKey) };
}

export function transfer(from: Key, nonce: number, to: Uint8Array, amount: bigint, chainId = CHAIN_ID): SignedTx {
  return signTx({ chainId, sender: from.publicKey, nonce, maxFee: ONE_TAG / 10n, body: { kind: 'transfer', to, amount } }, from.secretKey);
}

export type Fake = {
  deps: RpcDeps;
  alice: Key;
  bob: Key;
  validator: Key;
  /** A transaction committed at height 1, index 0. */
  committed: SignedTx;
  receipt: Receipt;
  block: BlockView;
  tree: SparseMerkleTree;
  /** Transactions accepted by `submitTx`, by hex hash; `account` counts them in `pendingNonce`. */
  pending: Map<string, SignedTx>;
};

/** A chain at height 1 holding one transfer from alice to bob, plus `overrides` of any deps method. */
export function createFake(overrides: Partial<RpcDeps> = {}): Fake {
  const alice = newKey();
  const bob = newKey();
  const validator = newKey();
  const committed = transfer(alice, 0, bob.address, 5n * ONE_TAG);
  const fee = 1234n;
  const tree = SparseMerkleTree.fromEntries([
    [accountKey(alice.address), encodeAccount({ balance: 1_000n * ONE_TAG - 5n * ONE_TAG - fee, nonce: 1 })],
    [accountKey(bob.address), encodeAccount({ balance: 5n * ONE_TAG, nonce: 0 })],
  ]);
  const receipt: Receipt = {
    txHash: committed.hash,
    status: RECEIPT_STATUS.ok,
    code: '',
    fee,
    events: [
      {
        type: 'transfer',
        attributes: [
          ['from', addressToString(alice.address)],
          ['to', addressToString(bob.address)],
          ['amount', (5n * ONE_TAG).toString()],
        ],
      },
    ],
  };
  const header: Header = {
    version: 1,
    chainId: CHAIN_ID,
    height: 1,
    timeMs: GENESIS_TIME_MS + 1000n,
    parentHash: new Uint8Array(32),
    lastCommitHash: new Uint8Array(32),
    txRoot: new Uint8Array(32).fill(1),
    receiptsRoot: new Uint8Array(32).fill(2),
    stateRoot: tree.root,
    proposer: validator.address,
    validatorSetHash: new Uint8Array(32).fill(3),
    nextValidatorSetHash: new Uint8Array(32).fill(3),
  };
  const blockBody: Block = { header, lastCommit: new Uint8Array(0), txs: [committed.bytes] };
  const hash = blockHash(header);
  const block: BlockView = {
    hash,
    block: blockBody,
    commit: { height: 1, round: 0, blockHash: hash, signatures: [{ validator: validator.address, signature: sign(validator.secretKey, hash) }] },
  };
  const txView: TxView = { tx: committed, height: 1, index: 0, blockHash: hash, receipt };
  const pending = new Map<string, SignedTx>();

  const deps: RpcDeps = {
    status: () => ({
      chainId: CHAIN_ID,
      nodeId: bytesToHex(utf8ToBytes('fake-node-id')),
      height: 1,
      blockHash: hash,
      stateRoot: tree.root,
      timeMs: header.timeMs,
      syncing: false,
      mempoolTxs: pending.size,
      mempoolBytes: [...pending.values()].reduce((n, t) => n + t.bytes.length, 0),
      validatorAddress: validator.address,
    }),
    submitTx(bytes) {
      const tx = decodeSignedTx(bytes);
      if (tx.tx.chainId !== CHAIN_ID) throw new TxError({ code: 'TX_WRONG_CHAIN', detail: tx.tx.chainId }, 'transaction is for another chain');
      if (!verifyTxSignature(tx)) throw new TxError({ code: 'TX_BAD_SIGNATURE', detail: '' }, 'bad signature');
      const id = bytesToHex(tx.hash);
      const duplicate = pending.has(id) || id === bytesToHex(committed.hash);
      pending.set(id, tx);
      return { hash: tx.hash, duplicate };
    },
    account(address): AccountView {
      const bytes = tree.get(accountKey(address));
      const account = bytes === undefined ? EMPTY_ACCOUNT : decodeAccount(bytes);
      // As the mempool counts: one past the run of waiting nonces that starts at the committed one.
      const waiting = new Set([...pending.values()].filter((tx) => bytesToHex(tx.senderAddress) === bytesToHex(address)).map((tx) => tx.tx.nonce));
      let pendingNonce = account.nonce;
      while (waiting.has(pendingNonce)) pendingNonce++;
      return { ...account, pendingNonce };
    },
    blockByHeight: async (height) => (height === 1 ? block : undefined),
    blockEvents: async (height) => (height === 1 ? [{ type: 'task_done', attributes: [['task', '1'], ['refund', '0'], ['lowConfidence', '0']] }] : undefined),
    blockByHash: async (h) => (bytesToHex(h) === bytesToHex(hash) ? block : undefined),
    tx: async (h) => (bytesToHex(h) === bytesToHex(committed.hash) ? txView : undefined),
    // The one committed transaction involves alice (sender) and bob (recipient), at height 1 index 0.
    accountTxs: async (address, before) =>
      [alice, bob].some((k) => bytesToHex(k.address) === bytesToHex(address)) && (before === null || before.height > 1) ? [{ height: 1, index: 0, hash: committed.hash }] : [],
    events: async () => ({ hits: [], next: null }),
    isPending: (h) => pending.has(bytesToHex(h)),
    proveState: (key) => ({ height: 1, stateRoot: tree.root, proof: tree.prove(key) }),
    state: () => ({ height: 1, reader: tree }),
    ...overrides,
  };
  return { deps, alice, bob, validator, committed, receipt, block, tree, pending };
}
