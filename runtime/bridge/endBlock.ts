/**
 * Closes a bridge checkpoint every `checkpointInterval` blocks (docs/spec/bridge.md §Chain side):
 * the block range since the last one, the state root of the previous block, the withdrawals root
 * over the next (at most `withdrawalsPerCheckpointMax`) withdrawal leaves, and the next bridge
 * validator set; it stores the checkpoint with the digest validators sign (lib/bridgeFormats.ts,
 * byte for byte what TaggerBridge.sol verifies).
 */
import {
  MAX_VALIDATORS,
  ZERO_HASH,
  appchainIdFromChainId,
  assert,
  bytesToHex,
  checkpointDigest,
  compareBytes,
  equalBytes,
  validatorSetHash,
  withdrawalLeaf,
  withdrawalsRoot,
  type BridgeDomain,
  type BridgeCheckpoint,
  type BridgeValidatorSet,
} from '../../lib/index.ts';
import { loadValidatorSet, type StateReader, type StateView } from '../../state/index.ts';
import type { ChainEvent } from '../block.ts';
import { operatorOf } from '../staking/index.ts';
import { loadBridgeParams, type BridgeParams } from './params.ts';
import { loadBridgeGlobals, loadBridgeKey, loadBridgeSet, loadWithdrawal, saveBridgeGlobals, saveBridgeSet, saveCheckpoint, type CheckpointRecord } from './records.ts';

export type BridgeBlockEnv = {
  chainId: string;
  height: number;
  /** The state root after the previous block; absent (a zero hash is used) where the caller has none. */
  parentStateRoot?: Uint8Array;
};

export function bridgeDomain(params: BridgeParams, chainId: string): BridgeDomain {
  return { chainId: BigInt(params.bnbChainId), contract: params.bridgeContract, appchainId: appchainIdFromChainId(chainId) };
}

/**
 * The bridge set the validators of the next block make: each member with a registered bridge key,
 * its address and its power; the MAX_VALIDATORS most powerful (ties: lower address), ascending by
 * address as the contract requires. `id` is left 0: the caller numbers it.
 */
export function nextBridgeSet(state: StateReader): BridgeValidatorSet {
  const members: Array<{ signer: Uint8Array; power: bigint }> = [];
  for (const v of loadValidatorSet(state)) {
    const operator = operatorOf(state, v.address);
    const signer = operator === null ? null : loadBridgeKey(state, operator);
    if (signer !== null && v.power > 0n) members.push({ signer, power: v.power });
  }
  members.sort((a, b) => (a.power === b.power ? compareBytes(a.signer, b.signer) : a.power > b.power ? -1 : 1));
  const kept = members.slice(0, MAX_VALIDATORS).sort((a, b) => compareBytes(a.signer, b.signer));
  return { id: 0n, signers: kept.map((m) => m.signer), powers: kept.map((m) => m.power) };
}

function sameMembers(a: BridgeValidatorSet, b: BridgeValidatorSet): boolean {
  return a.signers.length === b.signers.length && a.signers.every((s, i) => equalBytes(s, b.signers[i]!) && a.powers[i] === b.powers[i]);
}

export function bridgeEndBlock(view: StateView, env: BridgeBlockEnv): ChainEvent[] {
  const params = loadBridgeParams(view);
  if (params.checkpointInterval === 0 || env.height % params.checkpointInterval !== 0) return [];
  const next = nextBridgeSet(view);
  let signing = loadBridgeSet(view);
  if (signing.id === 0n) {
    // No checkpoint yet: the first set with bridge keys becomes set 1, the contract's initial set.
    if (next.signers.length === 0) return [];
    signing = { ...next, id: 1n };
  }
  const rotate = next.signers.length > 0 && !sameMembers(next, signing);
  const nextSet = rotate ? { ...next, id: signing.id + 1n } : signing;

  const g = loadBridgeGlobals(view);
  const first = g.checkpointedNonce + 1;
  const last = Math.min(g.nextWithdrawalNonce - 1, g.checkpointedNonce + params.withdrawalsPerCheckpointMax);
  const leaves: Uint8Array[] = [];
  for (let nonce = first; nonce <= last; nonce++) {
    const w = loadWithdrawal(view, nonce);
    assert(w !== null, `bridge withdrawal ${nonce} missing`);
    leaves.push(withdrawalLeaf({ nonce: BigInt(nonce), sender: w.sender, recipient: w.recipient, amount: w.amount }));
  }
  const record: CheckpointRecord = {
    number: g.lastCheckpoint + 1,
    startBlock: g.lastEndBlock + 1,
    endBlock: env.height,
    // To be specified with the block-range proofs (docs/spec/bridge.md §Chain side, what remains).
    blockRangeRoot: ZERO_HASH,
    stateRoot: env.parentStateRoot ?? ZERO_HASH,
    withdrawalsRoot: withdrawalsRoot(leaves),
    withdrawalCount: leaves.length,
    firstWithdrawalNonce: first,
    nextValidatorSetId: Number(nextSet.id),
    nextValidatorSetHash: validatorSetHash(nextSet),
    signingSet: signing,
    digest: ZERO_HASH,
    signedPower: 0n,
    signed: false,
  };
  record.digest = checkpointDigest(bridgeDomain(params, env.chainId), toBridgeCheckpoint(record));
  saveCheckpoint(view, record);
  saveBridgeSet(view, nextSet);
  saveBridgeGlobals(view, { ...g, lastCheckpoint: record.number, lastEndBlock: env.height, checkpointedNonce: g.checkpointedNonce + leaves.length });
  return [
    {
      type: 'bridgeCheckpoint',
      attributes: [
        ['number', String(record.number)],
        ['startBlock', String(record.startBlock)],
        ['endBlock', String(record.endBlock)],
        ['withdrawalCount', String(record.withdrawalCount)],
        ['digest', `0x${bytesToHex(record.digest)}`],
      ],
    },
  ];
}

/** The checkpoint as the contract takes it (`Checkpoint` struct). */
export function toBridgeCheckpoint(c: CheckpointRecord): BridgeCheckpoint {
  return {
    number: BigInt(c.number),
    startBlock: BigInt(c.startBlock),
    endBlock: BigInt(c.endBlock),
    blockRangeRoot: c.blockRangeRoot,
    stateRoot: c.stateRoot,
    withdrawalsRoot: c.withdrawalsRoot,
    withdrawalCount: c.withdrawalCount,
    nextValidatorSetId: BigInt(c.nextValidatorSetId),
    nextValidatorSetHash: c.nextValidatorSetHash,
  };
}
