/**
 * The bridge's structs as viem takes them for TaggerBridge's ABI (`ValidatorSet`, `Checkpoint`,
 * `Signature[]`, `Withdrawal`): byte fields as 0x-hex, numbers as bigint. Pure.
 */
import type { Hex } from 'viem';
import { bytesToHex } from '../lib/index.ts';
import type { BridgeCheckpoint, BridgeValidatorSet, BridgeWithdrawal, SignerSignature } from './checkpoint.ts';

export const hex = (b: Uint8Array): Hex => `0x${bytesToHex(b)}`;

/** The empty `next` set of a checkpoint that does not rotate. */
export const EMPTY_SET: BridgeValidatorSet = { id: 0n, signers: [], powers: [] };

export function setArg(set: BridgeValidatorSet): { id: bigint; signers: Hex[]; powers: bigint[] } {
  return { id: set.id, signers: set.signers.map(hex), powers: set.powers };
}

export function checkpointArg(cp: BridgeCheckpoint) {
  return {
    number: cp.number,
    startBlock: cp.startBlock,
    endBlock: cp.endBlock,
    blockRangeRoot: hex(cp.blockRangeRoot),
    stateRoot: hex(cp.stateRoot),
    withdrawalsRoot: hex(cp.withdrawalsRoot),
    withdrawalCount: cp.withdrawalCount,
    nextValidatorSetId: cp.nextValidatorSetId,
    nextValidatorSetHash: hex(cp.nextValidatorSetHash),
  };
}

export function sigsArg(sigs: readonly SignerSignature[]): { v: number; r: Hex; s: Hex }[] {
  return sigs.map(({ signature }) => ({ v: signature.v, r: hex(signature.r), s: hex(signature.s) }));
}

export function withdrawalArg(w: BridgeWithdrawal): { nonce: bigint; sender: Hex; recipient: Hex; amount: bigint } {
  return { nonce: w.nonce, sender: hex(w.sender), recipient: hex(w.recipient), amount: w.amount };
}
