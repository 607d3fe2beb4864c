/**
 * Executes bridge transactions (docs/spec/bridge.md §Chain side): bridge key registration, deposit
 * attestations and minting in nonce order, withdrawals (burn + leaf), checkpoint signatures.
 */
import {
  SECP256K1_HALF_ORDER,
  addressToString,
  bytesToHex,
  bytesToNumberBE,
  concatBytes,
  equalBytes,
  keccak256,
  secp256k1Recover,
  utf8ToBytes,
  type Secp256k1Signature,
} from '../../lib/index.ts';
import { loadAccount, loadSupply, saveAccount, saveSupply, type StateReader, type StateView } from '../../state/index.ts';
import type { ChainEvent } from '../block.ts';
import { TxFailure } from '../errors.ts';
import { loadLastValidatorSet, loadStakingValidator, operatorOf } from '../staking/index.ts';
import { loadBridgeParams, type BridgeParams } from './params.ts';
import {
  checkpointSigKey,
  depositKey,
  loadBridgeGlobals,
  loadBridgeKey,
  loadBridgeKeyOwner,
  loadCheckpoint,
  loadCheckpointSig,
  loadDeposit,
  saveBridgeGlobals,
  saveBridgeKey,
  saveCheckpoint,
  saveDeposit,
  saveWithdrawal,
  type BridgeGlobals,
  type PendingDeposit,
} from './records.ts';
import type { BridgeBody, DepositFields } from './txs.ts';

export type BridgeTxEnv = { chainId: string; height: number };

const ev = (type: string, attributes: Array<readonly [string, string]>): ChainEvent => ({ type, attributes });

const KEY_MESSAGE_TYPE = keccak256(utf8ToBytes('tagger-bridge/bridge-key/v1'));

/**
 * What a bridge key signs to prove possession: keccak256(keccak256("tagger-bridge/bridge-key/v1") ‖
 * keccak256(utf8(chain id)) ‖ operator address). It names the chain and the operator, so a proof is
 * valid for one registration only.
 */
export function bridgeKeyMessage(chainId: string, operator: Uint8Array): Uint8Array {
  return keccak256(concatBytes(KEY_MESSAGE_TYPE, keccak256(utf8ToBytes(chainId)), operator));
}

/** r ‖ s ‖ v, 65 bytes, as the transactions carry it. */
export function signatureToBytes(sig: Secp256k1Signature): Uint8Array {
  return concatBytes(sig.r, sig.s, Uint8Array.of(sig.v));
}

/** The signer of `digest`, or null unless `bytes` is a well-formed low-s signature (v 27/28). */
function recoverLowS(digest: Uint8Array, bytes: Uint8Array): Uint8Array | null {
  const v = bytes[64];
  if (v !== 27 && v !== 28) return null;
  const s = bytes.subarray(32, 64);
  if (bytesToNumberBE(s) > SECP256K1_HALF_ORDER) return null;
  return secp256k1Recover(digest, { r: bytes.subarray(0, 32), s, v });
}

/** The voting power of `operator` in the set that validated the latest block (0 if not in it). */
export function attesterPower(state: StateReader, operator: Uint8Array, set = loadLastValidatorSet(state)): bigint {
  const v = loadStakingValidator(state, operator);
  if (v === null) return 0n;
  return set.find((m) => equalBytes(m.address, v.consensusAddress))?.power ?? 0n;
}

/**
 * The validator operator a bridge duty (kinds 40, 41, 43) speaks for: the sender itself if it operates
 * a validator, else the operator of the validator whose consensus key the sender is. So a validator's
 * node signs its duties with the node (consensus) key even when the operator key is another, kept offline.
 */
export function bridgeOperatorOf(state: StateReader, sender: Uint8Array): Uint8Array {
  if (loadStakingValidator(state, sender) !== null) return sender;
  return operatorOf(state, sender) ?? sender;
}

export function executeBridge(view: StateView, sender: Uint8Array, body: BridgeBody, env: BridgeTxEnv): ChainEvent[] {
  const params = loadBridgeParams(view);
  switch (body.kind) {
    case 'bridgeKeyRegister':
      return registerKey(view, bridgeOperatorOf(view, sender), body.address, body.proof, env.chainId);
    case 'depositAttest':
      requireEnabled(params);
      return attestDeposit(view, bridgeOperatorOf(view, sender), body, params);
    case 'withdraw':
      requireEnabled(params);
      return withdraw(view, sender, body.recipient, body.amount, params, env.height);
    case 'checkpointSign':
      return signCheckpoint(view, bridgeOperatorOf(view, sender), body.number, body.signature);
  }
}

function requireEnabled(params: BridgeParams): void {
  if (params.checkpointInterval === 0) throw new TxFailure('BRIDGE_DISABLED');
}

function registerKey(view: StateView, operator: Uint8Array, address: Uint8Array, proof: Uint8Array, chainId: string): ChainEvent[] {
  if (loadStakingValidator(view, operator) === null) throw new TxFailure('BRIDGE_NOT_OPERATOR');
  const recovered = recoverLowS(bridgeKeyMessage(chainId, operator), proof);
  if (recovered === null || !equalBytes(recovered, address)) throw new TxFailure('BRIDGE_BAD_KEY_PROOF');
  const owner = loadBridgeKeyOwner(view, address);
  if (owner !== null && !equalBytes(owner, operator)) throw new TxFailure('BRIDGE_KEY_IN_USE');
  saveBridgeKey(view, operator, address);
  return [ev('bridgeKeyRegistered', [['operator', addressToString(operator)], ['address', `0x${bytesToHex(address)}`]])];
}

function sameDeposit(d: PendingDeposit, f: DepositFields): boolean {
  return equalBytes(d.recipient, f.recipient) && d.amount === f.amount && equalBytes(d.bnbTxHash, f.bnbTxHash) && d.logIndex === f.logIndex;
}

function attestDeposit(view: StateView, operator: Uint8Array, f: DepositFields, params: BridgeParams): ChainEvent[] {
  const g = loadBridgeGlobals(view);
  if (f.nonce < g.nextDepositNonce) throw new TxFailure('BRIDGE_DEPOSIT_DONE');
  if (f.nonce >= g.nextDepositNonce + params.depositsAheadMax) throw new TxFailure('BRIDGE_DEPOSIT_TOO_FAR');
  if (f.amount === 0n) throw new TxFailure('BRIDGE_ZERO_AMOUNT');
  const set = loadLastValidatorSet(view);
  if (attesterPower(view, operator, set) === 0n) throw new TxFailure('BRIDGE_NOT_VALIDATOR');
  const d: PendingDeposit = loadDeposit(view, f.nonce) ?? { ...f, attesters: [], ready: false };
  if (!sameDeposit(d, f)) throw new TxFailure('BRIDGE_DEPOSIT_CONFLICT');
  if (d.attesters.some((a) => equalBytes(a, operator))) throw new TxFailure('BRIDGE_ALREADY_ATTESTED');
  d.attesters.push(operator);
  if (!d.ready) {
    let total = 0n;
    for (const m of set) total += m.power;
    let attesting = 0n;
    for (const a of d.attesters) attesting += attesterPower(view, a, set);
    d.ready = attesting * 3n > total * 2n;
  }
  saveDeposit(view, d);
  const events = [ev('bridgeDepositAttested', [['nonce', String(f.nonce)], ['attester', addressToString(operator)], ['ready', String(d.ready)]])];
  if (d.ready && f.nonce === g.nextDepositNonce) mintReady(view, g, params, events);
  return events;
}

/** Mints the ready deposits from the next nonce on, in order, stopping at the first that is not ready. */
function mintReady(view: StateView, g: BridgeGlobals, params: BridgeParams, events: ChainEvent[]): void {
  let supply = loadSupply(view);
  for (let i = 0; i < params.depositsAheadMax; i++) {
    const d = loadDeposit(view, g.nextDepositNonce);
    if (d === null || !d.ready) break;
    const account = loadAccount(view, d.recipient);
    saveAccount(view, d.recipient, { ...account, balance: account.balance + d.amount });
    supply += d.amount;
    g.bridgedSupply += d.amount;
    view.delete(depositKey(d.nonce));
    g.nextDepositNonce++;
    events.push(ev('bridgeDepositMinted', [['nonce', String(d.nonce)], ['recipient', addressToString(d.recipient)], ['amount', d.amount.toString()], ['bnbTxHash', `0x${bytesToHex(d.bnbTxHash)}`]]));
  }
  saveSupply(view, supply);
  saveBridgeGlobals(view, g);
}

function withdraw(view: StateView, sender: Uint8Array, recipient: Uint8Array, amount: bigint, params: BridgeParams, height: number): ChainEvent[] {
  if (amount === 0n) throw new TxFailure('BRIDGE_ZERO_AMOUNT');
  if (recipient.every((b) => b === 0)) throw new TxFailure('BRIDGE_ZERO_RECIPIENT');
  if (params.withdrawalAmountMax > 0n && amount > params.withdrawalAmountMax) throw new TxFailure('BRIDGE_OVER_WITHDRAWAL_MAX');
  const g = loadBridgeGlobals(view);
  if (amount > g.bridgedSupply) throw new TxFailure('BRIDGE_OVER_BRIDGED_SUPPLY');
  if (g.nextWithdrawalNonce - 1 - g.checkpointedNonce >= params.withdrawalsPendingMax) throw new TxFailure('BRIDGE_WITHDRAWALS_FULL');
  const account = loadAccount(view, sender);
  if (account.balance < amount) throw new TxFailure('TX_INSUFFICIENT_BALANCE');
  saveAccount(view, sender, { ...account, balance: account.balance - amount });
  saveSupply(view, loadSupply(view) - amount);
  const nonce = g.nextWithdrawalNonce;
  saveWithdrawal(view, { nonce, sender, recipient, amount, height });
  saveBridgeGlobals(view, { ...g, nextWithdrawalNonce: nonce + 1, bridgedSupply: g.bridgedSupply - amount });
  return [ev('bridgeWithdrawal', [['nonce', String(nonce)], ['sender', addressToString(sender)], ['recipient', `0x${bytesToHex(recipient)}`], ['amount', amount.toString()]])];
}

function signCheckpoint(view: StateView, operator: Uint8Array, number: number, signature: Uint8Array): ChainEvent[] {
  const cp = loadCheckpoint(view, number);
  if (cp === null) throw new TxFailure('BRIDGE_CHECKPOINT_NOT_FOUND');
  const address = loadBridgeKey(view, operator);
  if (address === null) throw new TxFailure('BRIDGE_NO_KEY');
  const index = cp.signingSet.signers.findIndex((s) => equalBytes(s, address));
  if (index < 0) throw new TxFailure('BRIDGE_NOT_SIGNER');
  if (loadCheckpointSig(view, number, address) !== null) throw new TxFailure('BRIDGE_ALREADY_SIGNED');
  const recovered = recoverLowS(cp.digest, signature);
  if (recovered === null || !equalBytes(recovered, address)) throw new TxFailure('BRIDGE_BAD_SIGNATURE');
  view.set(checkpointSigKey(number, address), signature);
  cp.signedPower += cp.signingSet.powers[index]!;
  const events = [ev('bridgeCheckpointSigned', [['number', String(number)], ['signer', `0x${bytesToHex(address)}`]])];
  if (!cp.signed) {
    let total = 0n;
    for (const p of cp.signingSet.powers) total += p;
    if (cp.signedPower * 3n > total * 2n) {
      cp.signed = true;
      events.push(ev('bridgeCheckpointQuorum', [['number', String(number)], ['digest', `0x${bytesToHex(cp.digest)}`]]));
    }
  }
  saveCheckpoint(view, cp);
  return events;
}
