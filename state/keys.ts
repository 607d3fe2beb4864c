/**
 * State key layout. Every key starts with a one-byte prefix naming its kind; see
 * docs/spec/state.md. Prefixes are STATE-BREAKING and never reused.
 */
import { ADDRESS_BYTES, assert, concatBytes, utf8ToBytes } from '../lib/index.ts';

export const PREFIX = {
  global: 0x00,
  account: 0x01,
  validator: 0x02,
  /** Staking (runtime/staking; docs/spec/staking.md §State). 0x0e–0x0f stay reserved for it. */
  stakingGlobal: 0x03,
  stakingValidator: 0x04,
  stakingValidatorIndex: 0x05,
  stakingConsensus: 0x06,
  delegation: 0x07,
  unbonding: 0x08,
  unbondingPool: 0x09,
  stakingQueue: 0x0a,
  signingInfo: 0x0b,
  missedBlocks: 0x0c,
  stakingHistory: 0x0d,
  /** Labelling (runtime/labelling): globals, tasks, items, rounds, seats, annotators, queues. */
  labellingGlobal: 0x10,
  task: 0x11,
  item: 0x12,
  round: 0x13,
  roundItem: 0x14,
  assignment: 0x15,
  annotator: 0x16,
  reputation: 0x17,
  annotatorWeight: 0x18,
  labellingQueue: 0x19,
  labellingSchedule: 0x1a,
  answer: 0x1b,
  itemResult: 0x1c,
  /**
   * Data Passports and licences (runtime/passport; docs/spec/passport.md §State). STATE-BREAKING;
   * 0x2b–0x2f stay reserved for it.
   */
  passportGlobal: 0x20,
  passport: 0x21,
  passportVersion: 0x22,
  passportContributors: 0x23,
  passportBuild: 0x24,
  passportTally: 0x25,
  passportTallyList: 0x26,
  licenceOffer: 0x27,
  licence: 0x28,
  licenceHeld: 0x29,
  passportIndex: 0x2a,
  /**
   * The BNB Chain bridge (runtime/bridge; docs/spec/bridge.md §Chain side). STATE-BREAKING;
   * 0x38–0x3f stay reserved for it.
   */
  bridgeGlobal: 0x30,
  bridgeKey: 0x31,
  bridgeKeyOwner: 0x32,
  bridgeDeposit: 0x33,
  bridgeWithdrawal: 0x34,
  bridgeCheckpoint: 0x35,
  bridgeCheckpointSig: 0x36,
} as const;

export const PARAMS_KEY = concatBytes(Uint8Array.of(PREFIX.global), utf8ToBytes('params'));
export const SUPPLY_KEY = concatBytes(Uint8Array.of(PREFIX.global), utf8ToBytes('supply'));
export const VALIDATOR_SET_KEY = concatBytes(Uint8Array.of(PREFIX.global), utf8ToBytes('validators'));
export const CHAIN_ID_KEY = concatBytes(Uint8Array.of(PREFIX.global), utf8ToBytes('chainId'));

export function accountKey(address: Uint8Array): Uint8Array {
  assert(address.length === ADDRESS_BYTES, 'accountKey: bad address length');
  return concatBytes(Uint8Array.of(PREFIX.account), address);
}

export function validatorKey(address: Uint8Array): Uint8Array {
  assert(address.length === ADDRESS_BYTES, 'validatorKey: bad address length');
  return concatBytes(Uint8Array.of(PREFIX.validator), address);
}
