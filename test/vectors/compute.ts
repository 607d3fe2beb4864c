/**
 * Turns a test vector's `input` into its `expected` output with the node's own code. Shared by
 * scripts/generateVectors.ts (which writes the JSON files) and vectors.test.ts (which checks that
 * the code still reproduces them). JSON conventions: bytes are lower-case hex without 0x, amounts
 * and times are decimal strings (they can exceed 2^53), u32 values are JSON numbers.
 */
import {
  addressFromPublicKey,
  addressToString,
  amountToBytes,
  bytesToHex,
  encode,
  hexToBytes,
  merkleRoot,
  publicKeyFromSecret,
  sha256,
  sign,
  type Encodable,
} from '../../lib/index.ts';
import {
  applyBlockTxs,
  blockHash,
  encodeBlock,
  encodeHeader,
  encodeReceipt,
  encodeReceipts,
  encodeTx,
  requiredFee,
  signTx,
  txSigningBytes,
  type ChainEvent,
  type Header,
  type Receipt,
  type Tx,
} from '../../runtime/index.ts';
import {
  DEFAULT_PARAMS,
  MapStateReader,
  SparseMerkleTree,
  StateView,
  encodeAccount,
  encodeParams,
  encodeValidatorSet,
  loadAccount,
  loadSupply,
  validatorSetHash,
  type Params,
  type Validator,
} from '../../state/index.ts';
import { encodeCommit, encodeVote, voteSigningBytes, type Commit, type Vote, type VoteType } from '../../consensus/index.ts';
import { genesisToState, parseGenesis } from '../../genesis/index.ts';

export type Vector = { description: string; input: VectorInput; expected: Record<string, unknown> };

export type HeaderJson = {
  version: number;
  chainId: string;
  height: number;
  timeMs: string;
  parentHash: string;
  lastCommitHash: string;
  txRoot: string;
  receiptsRoot: string;
  stateRoot: string;
  proposer: string;
  validatorSetHash: string;
  nextValidatorSetHash: string;
};
export type EventJson = { type: string; attributes: Array<[string, string]> };
export type ReceiptJson = { txHash: string; status: number; code: string; fee: string; events: EventJson[] };
export type VoteJson = { type: number; height: number; round: number; blockHash: string; validator: string };
export type CommitJson = { height: number; round: number; blockHash: string; signatures: Array<{ validator: string; signature: string }> };
export type ParamsJson = {
  baseFee: string;
  perByteFee: string;
  feeBurnPercent: number;
  txBytesMax: number;
  blockTxCountMax: number;
  blockBytesMax: number;
};
export type ValidatorJson = { address: string; publicKey: string; power: string; name: string };
export type TransferJson = { secretKey: string; chainId: string; nonce: number; maxFee: string; to: string; amount: string };
export type ChainBlockJson = { proposer: string; timeMs: string; txs: Array<Omit<TransferJson, 'chainId'>> };

export type VectorInput =
  | { type: 'u32'; value: number }
  | { type: 'amount'; value: string }
  | { type: 'str'; value: string }
  | { type: 'bin'; value: string }
  | { type: 'bool'; value: boolean }
  | ({ type: 'transfer' } & TransferJson)
  | { type: 'header'; header: HeaderJson }
  | { type: 'block'; header: HeaderJson; lastCommit: string; txs: string[] }
  | { type: 'receipt'; receipt: ReceiptJson }
  | { type: 'receipts'; receipts: ReceiptJson[] }
  | { type: 'vote'; chainId: string; secretKey: string; vote: VoteJson }
  | { type: 'commit'; commit: CommitJson }
  | { type: 'address'; publicKey?: string; secretKey?: string }
  | { type: 'merkleRoot'; leaves: string[] }
  | { type: 'account'; balance: string; nonce: number }
  | { type: 'validatorSet'; validators: ValidatorJson[] }
  | { type: 'params'; params: ParamsJson }
  | { type: 'chain'; genesis: unknown; blocks: ChainBlockJson[] };

const hex = bytesToHex;
const unhex = hexToBytes;

export function headerFromJson(h: HeaderJson): Header {
  return {
    version: h.version,
    chainId: h.chainId,
    height: h.height,
    timeMs: BigInt(h.timeMs),
    parentHash: unhex(h.parentHash),
    lastCommitHash: unhex(h.lastCommitHash),
    txRoot: unhex(h.txRoot),
    receiptsRoot: unhex(h.receiptsRoot),
    stateRoot: unhex(h.stateRoot),
    proposer: unhex(h.proposer),
    validatorSetHash: unhex(h.validatorSetHash),
    nextValidatorSetHash: unhex(h.nextValidatorSetHash),
  };
}

export function eventFromJson(e: EventJson): ChainEvent {
  return { type: e.type, attributes: e.attributes.map(([k, v]) => [k, v] as const) };
}

export function receiptFromJson(r: ReceiptJson): Receipt {
  return { txHash: unhex(r.txHash), status: r.status, code: r.code, fee: BigInt(r.fee), events: r.events.map(eventFromJson) };
}

export function receiptToJson(r: Receipt): ReceiptJson {
  return {
    txHash: hex(r.txHash),
    status: r.status,
    code: r.code,
    fee: r.fee.toString(),
    events: r.events.map((e) => ({ type: e.type, attributes: e.attributes.map(([k, v]) => [k, v] as [string, string]) })),
  };
}

export function voteFromJson(v: VoteJson): Vote {
  return { type: v.type as VoteType, height: v.height, round: v.round, blockHash: unhex(v.blockHash), validator: unhex(v.validator) };
}

export function commitFromJson(c: CommitJson): Commit {
  return {
    height: c.height,
    round: c.round,
    blockHash: unhex(c.blockHash),
    signatures: c.signatures.map((s) => ({ validator: unhex(s.validator), signature: unhex(s.signature) })),
  };
}

export function paramsFromJson(p: ParamsJson): Params {
  return { ...p, baseFee: BigInt(p.baseFee), perByteFee: BigInt(p.perByteFee) };
}

export function validatorFromJson(v: ValidatorJson): Validator {
  return { address: unhex(v.address), publicKey: unhex(v.publicKey), power: BigInt(v.power), name: v.name };
}

export function transferFromJson(t: TransferJson): Tx {
  return {
    chainId: t.chainId,
    sender: publicKeyFromSecret(unhex(t.secretKey)),
    nonce: t.nonce,
    maxFee: BigInt(t.maxFee),
    body: { kind: 'transfer', to: unhex(t.to), amount: BigInt(t.amount) },
  };
}

/** The encoding of one codec primitive vector's value. */
export function primitiveValue(input: VectorInput): Encodable {
  switch (input.type) {
    case 'u32':
      return input.value;
    case 'amount':
      return amountToBytes(BigInt(input.value));
    case 'str':
      return input.value;
    case 'bin':
      return unhex(input.value);
    case 'bool':
      return input.value;
    default:
      throw new TypeError(`not a primitive: ${input.type}`);
  }
}

export function compute(input: VectorInput): Record<string, unknown> {
  switch (input.type) {
    case 'u32':
    case 'amount':
    case 'str':
    case 'bin':
    case 'bool':
      return { encoding: hex(encode(primitiveValue(input))) };
    case 'transfer': {
      const tx = transferFromJson(input);
      const signed = signTx(tx, unhex(input.secretKey));
      return {
        publicKey: hex(tx.sender),
        senderAddress: addressToString(signed.senderAddress),
        senderAddressHex: hex(signed.senderAddress),
        tx: hex(encodeTx(tx)),
        signingBytes: hex(txSigningBytes(tx)),
        signature: hex(signed.signature),
        signedTx: hex(signed.bytes),
        signedTxLength: signed.bytes.length,
        txHash: hex(signed.hash),
        feeWithDefaultParams: requiredFee(DEFAULT_PARAMS, signed.bytes.length).toString(),
      };
    }
    case 'header': {
      const header = headerFromJson(input.header);
      return { encoding: hex(encodeHeader(header)), blockHash: hex(blockHash(header)) };
    }
    case 'block': {
      const header = headerFromJson(input.header);
      const txs = input.txs.map(unhex);
      return { encoding: hex(encodeBlock({ header, lastCommit: unhex(input.lastCommit), txs })), blockHash: hex(blockHash(header)), txRoot: hex(merkleRoot(txs)) };
    }
    case 'receipt': {
      const encoding = encodeReceipt(receiptFromJson(input.receipt));
      return { encoding: hex(encoding), merkleLeafHash: hex(sha256(Uint8Array.of(0, ...encoding))) };
    }
    case 'receipts': {
      const receipts = input.receipts.map(receiptFromJson);
      return { encoding: hex(encodeReceipts(receipts)), receiptsRoot: hex(merkleRoot(receipts.map(encodeReceipt))) };
    }
    case 'vote': {
      const vote = voteFromJson(input.vote);
      return {
        encoding: hex(encodeVote(vote)),
        signingBytes: hex(voteSigningBytes(input.chainId, vote)),
        signature: hex(sign(unhex(input.secretKey), voteSigningBytes(input.chainId, vote))),
      };
    }
    case 'commit':
      return { encoding: hex(encodeCommit(commitFromJson(input.commit))) };
    case 'address': {
      const publicKey = input.publicKey !== undefined ? unhex(input.publicKey) : publicKeyFromSecret(unhex(input.secretKey ?? ''));
      const address = addressFromPublicKey(publicKey);
      return { publicKey: hex(publicKey), sha256: hex(sha256(publicKey)), address: hex(address), string: addressToString(address) };
    }
    case 'merkleRoot':
      return { root: hex(merkleRoot(input.leaves.map(unhex))) };
    case 'account':
      return { encoding: hex(encodeAccount({ balance: BigInt(input.balance), nonce: input.nonce })) };
    case 'validatorSet': {
      const set = input.validators.map(validatorFromJson);
      return { encoding: hex(encodeValidatorSet(set)), hash: hex(validatorSetHash(set)) };
    }
    case 'params':
      return { encoding: hex(encodeParams(paramsFromJson(input.params))) };
    case 'chain':
      return computeChain(input.genesis, input.blocks);
  }
}

/**
 * Genesis, then each block's transactions through `applyBlockTxs` (the validation path), with the
 * state tree updated from the sorted writes after each step, as the node does.
 */
function computeChain(genesisJson: unknown, blocks: readonly ChainBlockJson[]): Record<string, unknown> {
  const genesis = parseGenesis(genesisJson);
  const reader = new MapStateReader();
  let tree = SparseMerkleTree.empty();
  const commit = (view: StateView): void => {
    const writes = view.writes();
    tree = tree.update(writes);
    reader.apply(writes);
  };
  const genesisView = new StateView(reader);
  genesisToState(genesis, genesisView);
  commit(genesisView);
  const genesisStateRoot = hex(tree.root);

  const watched = new Map<string, Uint8Array>();
  for (const a of genesis.accounts) watched.set(addressToString(a.address), a.address);
  const out = blocks.map((b, i) => {
    const txs = b.txs.map((t) => signTx(transferFromJson({ ...t, chainId: genesis.chainId }), unhex(t.secretKey)));
    for (const t of txs) if (t.tx.body.kind === 'transfer') watched.set(addressToString(t.tx.body.to), t.tx.body.to);
    const proposer = unhex(b.proposer);
    watched.set(addressToString(proposer), proposer);
    const view = new StateView(reader);
    const env = { chainId: genesis.chainId, height: i + 1, timeMs: BigInt(b.timeMs), proposer, seed: new Uint8Array(32), verifySignatures: true };
    const { receipts } = applyBlockTxs(view, txs.map((t) => t.bytes), env, genesis.params);
    commit(view);
    const accounts: Record<string, { balance: string; nonce: number }> = {};
    for (const [name, address] of [...watched].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const acc = loadAccount(reader, address);
      accounts[name] = { balance: acc.balance.toString(), nonce: acc.nonce };
    }
    return {
      signedTxs: txs.map((t) => hex(t.bytes)),
      txHashes: txs.map((t) => hex(t.hash)),
      txRoot: hex(merkleRoot(txs.map((t) => t.bytes))),
      receipts: receipts.map(receiptToJson),
      receiptEncodings: receipts.map((r) => hex(encodeReceipt(r))),
      receiptsRoot: hex(merkleRoot(receipts.map(encodeReceipt))),
      stateRoot: hex(tree.root),
      supply: loadSupply(reader).toString(),
      accounts,
    };
  });
  return { genesisStateRoot, blocks: out };
}
