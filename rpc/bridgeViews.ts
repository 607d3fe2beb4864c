/**
 * The JSON forms of the bridge's chain-side records (docs/rpc.md §Bridge), and the converters that
 * make them from the runtime's records (runtime/bridge/records.ts). Same encodings as rpc/views.ts:
 * bytes and BNB Chain (EVM) addresses as 0x-hex, amounts as decimal strings of units (18 decimals,
 * as TAG on BNB Chain), Tagger addresses as bech32m, nonces, numbers and heights as numbers.
 */
import { addressToString } from '../lib/index.ts';
import type { BridgeValidatorSet } from '../lib/index.ts';
import type { BridgeGlobals, BridgeParams, CheckpointRecord, PendingDeposit, WithdrawalRecord } from '../runtime/index.ts';
import { hex, type Hex } from './views.ts';

/**
 * Where the node finds the BNB Chain transactions of a release and of a checkpoint submission
 * (bridge/bnbLookup.ts implements it over a BNB Chain JSON-RPC). Optional in RpcDeps: without it
 * the replies carry `bnb: null`.
 */
export type BridgeBnbLookup = {
  /** The transaction that emitted WithdrawalReleased(nonce); null if none was found. */
  releaseTx(nonce: number): Promise<Hex | null>;
  /** The transaction that emitted CheckpointAccepted(number); null if none was found. */
  checkpointTx(number: number): Promise<Hex | null>;
};

/** What the lookup said: the hash (null: not on BNB Chain yet), or why it could not say. */
export type BnbTxJson = { txHash: Hex | null; error: string | null };

/** A bridge validator set as TaggerBridge takes it (`ValidatorSet` struct). */
export type BridgeSetJson = { id: number; signers: Hex[]; powers: string[] };

export type BridgeParamsJson = {
  /** A checkpoint closes at every height divisible by this; 0: the bridge is off. */
  checkpointInterval: number;
  withdrawalsPerCheckpointMax: number;
  withdrawalsPendingMax: number;
  depositsAheadMax: number;
  /** The largest withdrawal the chain burns (the contract's per-transaction cap); "0": no cap. */
  withdrawalAmountMax: string;
  bnbChainId: number;
  bridgeContract: Hex;
};

export type BridgeGlobalsJson = {
  nextDepositNonce: number;
  nextWithdrawalNonce: number;
  /** Withdrawals with a nonce up to this are in a checkpoint. */
  checkpointedNonce: number;
  /** Withdrawals burnt and not yet in a checkpoint. */
  withdrawalsPending: number;
  lastCheckpoint: number;
  lastEndBlock: number;
  /** TAG minted by deposits minus TAG burnt by withdrawals. */
  bridgedSupply: string;
};

export type BridgeStatusJson = {
  height: number;
  enabled: boolean;
  params: BridgeParamsJson;
  globals: BridgeGlobalsJson;
  /** The set that signs the next checkpoint (id 0 and empty before the first checkpoint). */
  signingSet: BridgeSetJson;
};

/** `pending`: attested, below quorum; `ready`: quorum, waits for an earlier nonce; `minted`. */
export type DepositStatus = 'pending' | 'ready' | 'minted';

/**
 * A deposit by its BNB Chain nonce. The chain deletes a deposit's record when it mints it, so a
 * minted deposit has only its nonce and status here (its fields are in its `bridgeDepositMinted`
 * event).
 */
export type DepositJson = {
  nonce: number;
  status: DepositStatus;
  recipient: string | null;
  amount: string | null;
  bnbTxHash: Hex | null;
  logIndex: number | null;
  /** Operators that attested it, in attestation order; null once minted. */
  attesters: string[] | null;
};

export type DepositReplyJson = { height: number } & DepositJson;

export type DepositsPageJson = { height: number; deposits: DepositJson[]; nextFrom: number | null };

/** `pending`: burnt, not in a checkpoint yet; `checkpointed`: in one not yet signed by quorum; `signed`. */
export type WithdrawalStatus = 'pending' | 'checkpointed' | 'signed';

export type WithdrawalJson = {
  nonce: number;
  sender: string;
  /** The BNB Chain address it is released to. */
  recipient: Hex;
  amount: string;
  /** The height of the block that burnt it. */
  burnHeight: number;
  status: WithdrawalStatus;
  /** The checkpoint that holds its leaf, and the leaf's index there; null while pending. */
  checkpoint: number | null;
  index: number | null;
};

/** What TaggerBridge.withdraw(number, w, index, proof) needs besides `w`, plus what it is checked against. */
export type WithdrawalProofJson = {
  checkpoint: number;
  index: number;
  leaf: Hex;
  siblings: Hex[];
  withdrawalsRoot: Hex;
  withdrawalCount: number;
};

export type WithdrawalReplyJson = { height: number } & WithdrawalJson & { proof: WithdrawalProofJson | null; bnb: BnbTxJson | null };

export type WithdrawalsPageJson = { height: number; withdrawals: WithdrawalJson[]; nextFrom: number | null };

export type CheckpointSignatureJson = { signer: Hex; signature: Hex };

export type CheckpointJson = {
  number: number;
  startBlock: number;
  endBlock: number;
  blockRangeRoot: Hex;
  stateRoot: Hex;
  withdrawalsRoot: Hex;
  withdrawalCount: number;
  firstWithdrawalNonce: number;
  nextValidatorSetId: number;
  nextValidatorSetHash: Hex;
  /** The digest its signers sign (TaggerBridge.checkpointDigest). */
  digest: Hex;
  signingSet: BridgeSetJson;
  signedPower: string;
  /** More than 2/3 of the signing set's power has signed. */
  signed: boolean;
  /** The signatures stored for it, ascending by signer (r ‖ s ‖ v, 65 bytes). */
  signatures: CheckpointSignatureJson[];
  /** The set it rotates to (submitCheckpoint's `next`) when that differs from its signing set; else null. */
  nextSet: BridgeSetJson | null;
};

export type CheckpointReplyJson = { height: number } & CheckpointJson & { bnb: BnbTxJson | null };

export type CheckpointsPageJson = { height: number; checkpoints: CheckpointJson[]; nextFrom: number | null };

export function bridgeSetToJson(set: BridgeValidatorSet): BridgeSetJson {
  return { id: Number(set.id), signers: set.signers.map(hex), powers: set.powers.map((p) => p.toString()) };
}

export function bridgeParamsToJson(p: BridgeParams): BridgeParamsJson {
  return {
    checkpointInterval: p.checkpointInterval,
    withdrawalsPerCheckpointMax: p.withdrawalsPerCheckpointMax,
    withdrawalsPendingMax: p.withdrawalsPendingMax,
    depositsAheadMax: p.depositsAheadMax,
    withdrawalAmountMax: p.withdrawalAmountMax.toString(),
    bnbChainId: p.bnbChainId,
    bridgeContract: hex(p.bridgeContract),
  };
}

export function bridgeGlobalsToJson(g: BridgeGlobals): BridgeGlobalsJson {
  return {
    nextDepositNonce: g.nextDepositNonce,
    nextWithdrawalNonce: g.nextWithdrawalNonce,
    checkpointedNonce: g.checkpointedNonce,
    withdrawalsPending: g.nextWithdrawalNonce - 1 - g.checkpointedNonce,
    lastCheckpoint: g.lastCheckpoint,
    lastEndBlock: g.lastEndBlock,
    bridgedSupply: g.bridgedSupply.toString(),
  };
}

export function depositToJson(d: PendingDeposit): DepositJson {
  return {
    nonce: d.nonce,
    status: d.ready ? 'ready' : 'pending',
    recipient: addressToString(d.recipient),
    amount: d.amount.toString(),
    bnbTxHash: hex(d.bnbTxHash),
    logIndex: d.logIndex,
    attesters: d.attesters.map(addressToString),
  };
}

export function mintedDepositJson(nonce: number): DepositJson {
  return { nonce, status: 'minted', recipient: null, amount: null, bnbTxHash: null, logIndex: null, attesters: null };
}

/** Where a withdrawal's leaf is: its checkpoint (null while pending) and whether that is signed. */
export type WithdrawalPlace = { checkpoint: number; index: number; signed: boolean } | null;

export function withdrawalToJson(w: WithdrawalRecord, place: WithdrawalPlace): WithdrawalJson {
  return {
    nonce: w.nonce,
    sender: addressToString(w.sender),
    recipient: hex(w.recipient),
    amount: w.amount.toString(),
    burnHeight: w.height,
    status: place === null ? 'pending' : place.signed ? 'signed' : 'checkpointed',
    checkpoint: place?.checkpoint ?? null,
    index: place?.index ?? null,
  };
}

export function checkpointToJson(c: CheckpointRecord, signatures: CheckpointSignatureJson[], nextSet: BridgeValidatorSet | null): CheckpointJson {
  return {
    number: c.number,
    startBlock: c.startBlock,
    endBlock: c.endBlock,
    blockRangeRoot: hex(c.blockRangeRoot),
    stateRoot: hex(c.stateRoot),
    withdrawalsRoot: hex(c.withdrawalsRoot),
    withdrawalCount: c.withdrawalCount,
    firstWithdrawalNonce: c.firstWithdrawalNonce,
    nextValidatorSetId: c.nextValidatorSetId,
    nextValidatorSetHash: hex(c.nextValidatorSetHash),
    digest: hex(c.digest),
    signingSet: bridgeSetToJson(c.signingSet),
    signedPower: c.signedPower.toString(),
    signed: c.signed,
    signatures,
    nextSet: nextSet === null ? null : bridgeSetToJson(nextSet),
  };
}
