/**
 * The genesis document: a JSON file that fixes a chain's id, parameters, first validators and
 * balances. `parseGenesis` validates it with typed errors; `genesisToState` writes the first state.
 * Format: docs/genesis.md.
 */
import {
  ADDRESS_BYTES,
  addressFromPublicKey,
  addressFromString,
  addressToString,
  bytesToHex,
  compareBytes,
  hexToBytes,
  isChainError,
  isValidPublicKey,
  MAX_VALIDATORS,
  parseUnits,
  sha256,
  type BridgeValidatorSet,
} from '../lib/index.ts';
import {
  CHAIN_ID_KEY,
  VALIDATOR_SET_MAX,
  saveAccount,
  saveSupply,
  saveValidatorSet,
  encodeParams,
  DEFAULT_LABELLING_PARAMS,
  PARAMS_KEY,
  labellingParamsProblem,
  saveLabellingParams,
  DEFAULT_STAKING_PARAMS,
  DEFAULT_BRIDGE_PARAMS,
  bridgeParamsProblem,
  saveBridgeParams,
  saveBridgeKey,
  saveBridgeSet,
  saveStakingParams,
  stakingParamsProblem,
  type BridgeParams,
  type LabellingParams,
  type StakingParams,
  type Params,
  type StateView,
  type Validator,
} from '../state/index.ts';
import { GenesisError } from './errors.ts';

export type GenesisAccount = { address: Uint8Array; balance: bigint };
export type GenesisValidator = { name: string; publicKey: Uint8Array; power: bigint };

export type Genesis = {
  chainId: string;
  genesisTimeMs: bigint;
  params: Params;
  validators: GenesisValidator[];
  accounts: GenesisAccount[];
  /** Labelling parameters; absent → the defaults (DEFAULT_LABELLING_PARAMS), and nothing is stored. */
  labelling?: LabellingParams;
  /** Staking parameters; absent → the defaults (DEFAULT_STAKING_PARAMS), and nothing is stored. */
  staking?: StakingParams;
  /** The BNB Chain bridge; absent → the bridge is off. */
  bridge?: GenesisBridge;
};

/** A genesis validator's secp256k1 bridge key (its EVM address), registered from the first block. */
export type GenesisBridgeKey = { validator: string; address: Uint8Array };
export type GenesisBridge = { params: BridgeParams; keys: GenesisBridgeKey[] };

/** Total supply (balances plus stake) must stay below 2^128 units, about 3.4 × 10^20 TAG. */
export const GENESIS_SUPPLY_MAX = (1n << 128n) - 1n;
export const GENESIS_ACCOUNTS_MAX = 1_000_000;
const CHAIN_ID_RE = /^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

type Json = unknown;

function invalid(path: string, reason: string): GenesisError {
  return new GenesisError({ code: 'GENESIS_INVALID_FIELD', path, reason }, `genesis ${path}: ${reason}`);
}

function asObject(value: Json, path: string, fields: readonly string[]): Record<string, Json> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(path, 'must be an object');
  const obj = value as Record<string, Json>;
  for (const key of Object.keys(obj)) {
    if (!fields.includes(key)) {
      const where = path === '' ? key : `${path}.${key}`;
      throw new GenesisError({ code: 'GENESIS_UNKNOWN_FIELD', path: where }, `genesis ${where}: unknown field`);
    }
  }
  return obj;
}

function field(obj: Record<string, Json>, key: string, path: string): Json {
  const where = path === '' ? key : `${path}.${key}`;
  if (!(key in obj)) throw invalid(where, 'is required');
  return obj[key];
}

function asString(value: Json, path: string): string {
  if (typeof value !== 'string') throw invalid(path, 'must be a string');
  return value;
}

function asU32(value: Json, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(path, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function asUnits(value: Json, path: string): bigint {
  const text = asString(value, path);
  try {
    return parseUnits(text);
  } catch {
    throw invalid(path, 'must be a decimal string of whole units (1 TAG = 10^18 units)');
  }
}

function parseParams(value: Json): Params {
  const path = 'params';
  const o = asObject(value, path, ['baseFee', 'perByteFee', 'feeBurnPercent', 'txBytesMax', 'blockTxCountMax', 'blockBytesMax']);
  const txBytesMax = asU32(field(o, 'txBytesMax', path), `${path}.txBytesMax`, 256, 1024 * 1024);
  const blockBytesMax = asU32(field(o, 'blockBytesMax', path), `${path}.blockBytesMax`, 1024, 64 * 1024 * 1024);
  if (blockBytesMax < txBytesMax) throw invalid(`${path}.blockBytesMax`, 'must be at least txBytesMax');
  return {
    baseFee: asUnits(field(o, 'baseFee', path), `${path}.baseFee`),
    perByteFee: asUnits(field(o, 'perByteFee', path), `${path}.perByteFee`),
    feeBurnPercent: asU32(field(o, 'feeBurnPercent', path), `${path}.feeBurnPercent`, 0, 100),
    txBytesMax,
    blockTxCountMax: asU32(field(o, 'blockTxCountMax', path), `${path}.blockTxCountMax`, 1, 100_000),
    blockBytesMax,
  };
}

const LABELLING_AMOUNTS = ['annotatorStakeMin', 'emissionPerLabel', 'emissionPerEpochMax', 'disputeBondMin'] as const;

/** The optional `labelling` section: any subset of the labelling parameters; the rest keep their defaults. */
function parseLabelling(value: Json): LabellingParams {
  const path = 'labelling';
  const names = Object.keys(DEFAULT_LABELLING_PARAMS) as Array<keyof LabellingParams>;
  const o = asObject(value, path, names);
  const out: Record<string, number | bigint> = { ...DEFAULT_LABELLING_PARAMS };
  for (const name of names) {
    if (!(name in o)) continue;
    const where = `${path}.${name}`;
    out[name] = (LABELLING_AMOUNTS as readonly string[]).includes(name) ? asUnits(o[name], where) : asU32(o[name], where, 0, 0xffff_ffff);
  }
  const params = out as LabellingParams;
  const problem = labellingParamsProblem(params);
  if (problem !== null) throw invalid(`${path}.${problem.field}`, problem.reason);
  return params;
}

function labellingToJson(p: LabellingParams): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(p)) out[name] = typeof value === 'bigint' ? value.toString() : (value);
  return out;
}

const STAKING_AMOUNTS = ['minSelfStake', 'blockReward', 'evidenceMaxAgeMs'] as const;

/** The optional `staking` section: any subset of the staking parameters; the rest keep their defaults. */
function parseStaking(value: Json): StakingParams {
  const path = 'staking';
  const names = Object.keys(DEFAULT_STAKING_PARAMS) as Array<keyof StakingParams>;
  const o = asObject(value, path, names);
  const out: Record<string, number | bigint> = { ...DEFAULT_STAKING_PARAMS };
  for (const name of names) {
    if (!(name in o)) continue;
    const where = `${path}.${name}`;
    out[name] = (STAKING_AMOUNTS as readonly string[]).includes(name) ? asUnits(o[name], where) : asU32(o[name], where, 0, 0xffff_ffff);
  }
  const params = out as StakingParams;
  const problem = stakingParamsProblem(params);
  if (problem !== null) throw invalid(`${path}.${problem.field}`, problem.reason);
  return params;
}

function stakingToJson(p: StakingParams): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(p)) out[name] = typeof value === 'bigint' ? value.toString() : value;
  return out;
}

const BRIDGE_AMOUNTS = ['withdrawalAmountMax'] as const;
const BRIDGE_KEYS = ['keys', 'bridgeContract'] as const;

function asEvmAddress(value: Json, path: string): Uint8Array {
  const text = asString(value, path);
  if (!/^0x[0-9a-fA-F]{40}$/.test(text)) throw invalid(path, 'must be a 0x-prefixed 20-byte hex address');
  return hexToBytes(text.slice(2).toLowerCase());
}

/**
 * The optional `bridge` section: the bridge parameters (any subset; `bnbChainId` and `bridgeContract`
 * required, `checkpointInterval` ≥ 1) and `keys`, the genesis validators' bridge keys. With keys, the
 * first bridge validator set (id 1) is fixed at genesis: the contract is deployed with exactly it.
 */
function parseBridge(value: Json, validators: readonly GenesisValidator[]): GenesisBridge {
  const path = 'bridge';
  const names = Object.keys(DEFAULT_BRIDGE_PARAMS) as Array<keyof BridgeParams>;
  const o = asObject(value, path, [...names, 'keys']);
  const out: Record<string, number | bigint | Uint8Array> = { ...DEFAULT_BRIDGE_PARAMS };
  for (const name of names) {
    if (!(name in o) || (BRIDGE_KEYS as readonly string[]).includes(name)) continue;
    const where = `${path}.${name}`;
    out[name] = (BRIDGE_AMOUNTS as readonly string[]).includes(name) ? asUnits(o[name], where) : asU32(o[name], where, 0, 0xffff_ffff);
  }
  out['bridgeContract'] = asEvmAddress(field(o, 'bridgeContract', path), `${path}.bridgeContract`);
  if (!('bnbChainId' in o)) throw invalid(`${path}.bnbChainId`, 'is required');
  const params = out as BridgeParams;
  if (params.checkpointInterval === 0) throw invalid(`${path}.checkpointInterval`, 'must be at least 1 (omit the section to turn the bridge off)');
  const problem = bridgeParamsProblem(params);
  if (problem !== null) throw invalid(path, problem);
  const keysValue = 'keys' in o ? o['keys'] : [];
  if (!Array.isArray(keysValue)) throw invalid(`${path}.keys`, 'must be an array');
  if (keysValue.length > MAX_VALIDATORS) throw invalid(`${path}.keys`, `at most ${MAX_VALIDATORS} keys`);
  const names_ = new Set(validators.map((v) => v.name));
  const seenValidators = new Set<string>();
  const seenAddresses = new Set<string>();
  const keys = keysValue.map((item: Json, i) => {
    const where = `${path}.keys[${i}]`;
    const k = asObject(item, where, ['validator', 'address']);
    const validator = asString(field(k, 'validator', where), `${where}.validator`);
    if (!names_.has(validator)) throw invalid(`${where}.validator`, `no genesis validator is named ${validator}`);
    if (seenValidators.has(validator)) throw invalid(`${where}.validator`, `${validator} has two bridge keys`);
    seenValidators.add(validator);
    const address = asEvmAddress(field(k, 'address', where), `${where}.address`);
    if (address.every((b) => b === 0)) throw invalid(`${where}.address`, 'must not be the zero address');
    const id = bytesToHex(address);
    if (seenAddresses.has(id)) throw invalid(`${where}.address`, `0x${id} is used twice`);
    seenAddresses.add(id);
    return { validator, address };
  });
  return { params, keys };
}

function bridgeToJson(b: GenesisBridge): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(b.params)) {
    out[name] = value instanceof Uint8Array ? `0x${bytesToHex(value)}` : typeof value === 'bigint' ? value.toString() : value;
  }
  out['keys'] = b.keys.map((k) => ({ validator: k.validator, address: `0x${bytesToHex(k.address)}` }));
  return out;
}

/**
 * The bridge validator set genesis fixes (id 1), which the contract must be deployed with: the
 * genesis validators with a bridge key, the MAX_VALIDATORS most powerful (ties: lower address),
 * ascending by address — the same rule the runtime uses for later sets. Empty without keys.
 */
export function genesisBridgeSet(g: Genesis): BridgeValidatorSet {
  const byName = new Map(g.validators.map((v) => [v.name, v]));
  const members = (g.bridge?.keys ?? []).map((k) => ({ signer: k.address, power: byName.get(k.validator)!.power }));
  members.sort((a, b) => (a.power === b.power ? compareBytes(a.signer, b.signer) : a.power > b.power ? -1 : 1));
  const kept = members.slice(0, MAX_VALIDATORS).sort((a, b) => compareBytes(a.signer, b.signer));
  return { id: kept.length === 0 ? 0n : 1n, signers: kept.map((m) => m.signer), powers: kept.map((m) => m.power) };
}

function parseValidators(value: Json): GenesisValidator[] {
  if (!Array.isArray(value)) throw invalid('validators', 'must be an array');
  if (value.length === 0) throw new GenesisError({ code: 'GENESIS_NO_VALIDATORS' }, 'genesis validators: at least one is required');
  if (value.length > VALIDATOR_SET_MAX) {
    throw new GenesisError({ code: 'GENESIS_TOO_MANY_VALIDATORS', count: value.length, max: VALIDATOR_SET_MAX });
  }
  const seen = new Set<string>();
  return value.map((item: Json, i) => {
    const path = `validators[${i}]`;
    const o = asObject(item, path, ['name', 'publicKey', 'power']);
    const name = asString(field(o, 'name', path), `${path}.name`);
    if (!NAME_RE.test(name)) throw invalid(`${path}.name`, 'must be 1-64 letters, digits, ".", "_" or "-"');
    const keyHex = asString(field(o, 'publicKey', path), `${path}.publicKey`);
    let publicKey: Uint8Array;
    try {
      publicKey = hexToBytes(keyHex);
    } catch {
      throw new GenesisError({ code: 'GENESIS_BAD_KEY', path: `${path}.publicKey` }, `genesis ${path}.publicKey: not hex`);
    }
    if (!isValidPublicKey(publicKey)) {
      throw new GenesisError({ code: 'GENESIS_BAD_KEY', path: `${path}.publicKey` }, `genesis ${path}.publicKey: not an ed25519 public key`);
    }
    const id = bytesToHex(publicKey);
    if (seen.has(id)) throw new GenesisError({ code: 'GENESIS_DUPLICATE_VALIDATOR', path, publicKey: id }, `genesis ${path}: duplicate validator ${id}`);
    seen.add(id);
    const power = asUnits(field(o, 'power', path), `${path}.power`);
    if (power === 0n) throw new GenesisError({ code: 'GENESIS_ZERO_STAKE', path: `${path}.power` }, `genesis ${path}.power: stake must be above zero`);
    return { name, publicKey, power };
  });
}

function parseAccounts(value: Json): GenesisAccount[] {
  if (!Array.isArray(value)) throw invalid('accounts', 'must be an array');
  if (value.length > GENESIS_ACCOUNTS_MAX) throw invalid('accounts', `at most ${GENESIS_ACCOUNTS_MAX} accounts`);
  const seen = new Set<string>();
  return value.map((item: Json, i) => {
    const path = `accounts[${i}]`;
    const o = asObject(item, path, ['address', 'balance']);
    const text = asString(field(o, 'address', path), `${path}.address`);
    let address: Uint8Array;
    try {
      address = addressFromString(text);
    } catch (e: unknown) {
      throw invalid(`${path}.address`, isChainError(e) ? e.message : 'invalid address');
    }
    const id = bytesToHex(address);
    if (seen.has(id)) {
      throw new GenesisError({ code: 'GENESIS_DUPLICATE_ACCOUNT', path, address: text }, `genesis ${path}: duplicate account ${text}`);
    }
    seen.add(id);
    return { address, balance: asUnits(field(o, 'balance', path), `${path}.balance`) };
  });
}

/** Validates a parsed genesis JSON value. Throws GenesisError naming the first problem found. */
export function parseGenesis(value: Json): Genesis {
  const o = asObject(value, '', ['chainId', 'genesisTime', 'params', 'validators', 'accounts', 'labelling', 'staking', 'bridge']);
  const chainId = asString(field(o, 'chainId', ''), 'chainId');
  if (!CHAIN_ID_RE.test(chainId)) throw invalid('chainId', 'must be 3-50 lower-case letters, digits and "-"');
  const timeText = asString(field(o, 'genesisTime', ''), 'genesisTime');
  const timeMs = Date.parse(timeText);
  // Date.parse rolls impossible dates forward (Feb 30 → Mar 2): require the round trip to agree.
  const roundTrips = !Number.isNaN(timeMs) && timeMs >= 0 && new Date(timeMs).toISOString().slice(0, 19) === timeText.slice(0, 19);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/.test(timeText) || !roundTrips) {
    throw invalid('genesisTime', 'must be an RFC 3339 UTC time such as 2026-01-01T00:00:00Z');
  }
  const genesis: Genesis = {
    chainId,
    genesisTimeMs: BigInt(timeMs),
    params: parseParams(field(o, 'params', '')),
    validators: parseValidators(field(o, 'validators', '')),
    accounts: parseAccounts(field(o, 'accounts', '')),
  };
  if ('labelling' in o) genesis.labelling = parseLabelling(o['labelling']);
  if ('staking' in o) genesis.staking = parseStaking(o['staking']);
  if ('bridge' in o) genesis.bridge = parseBridge(o['bridge'], genesis.validators);
  const supply = genesisSupply(genesis);
  if (supply > GENESIS_SUPPLY_MAX) {
    throw new GenesisError({ code: 'GENESIS_SUPPLY_OVERFLOW', max: GENESIS_SUPPLY_MAX.toString() }, `genesis: total supply exceeds ${GENESIS_SUPPLY_MAX} units`);
  }
  return genesis;
}

/** Parses genesis file text (JSON). */
export function parseGenesisJson(text: string): Genesis {
  let value: Json;
  try {
    value = JSON.parse(text);
  } catch (e: unknown) {
    const reason = e instanceof Error ? e.message : 'unparseable';
    throw new GenesisError({ code: 'GENESIS_NOT_JSON', reason }, `genesis: not valid JSON: ${reason}`);
  }
  return parseGenesis(value);
}

export function genesisSupply(g: Genesis): bigint {
  let total = 0n;
  for (const a of g.accounts) total += a.balance;
  for (const v of g.validators) total += v.power;
  return total;
}

/** The JSON form, the inverse of parseGenesis. */
export function genesisToJson(g: Genesis): Record<string, unknown> {
  return {
    chainId: g.chainId,
    genesisTime: new Date(Number(g.genesisTimeMs)).toISOString(),
    params: {
      baseFee: g.params.baseFee.toString(),
      perByteFee: g.params.perByteFee.toString(),
      feeBurnPercent: g.params.feeBurnPercent,
      txBytesMax: g.params.txBytesMax,
      blockTxCountMax: g.params.blockTxCountMax,
      blockBytesMax: g.params.blockBytesMax,
    },
    validators: g.validators.map((v) => ({ name: v.name, publicKey: bytesToHex(v.publicKey), power: v.power.toString() })),
    accounts: g.accounts.map((a) => ({ address: addressToString(a.address), balance: a.balance.toString() })),
    // Only when set, so that genesis files without it keep their hash.
    ...(g.labelling === undefined ? {} : { labelling: labellingToJson(g.labelling) }),
    ...(g.staking === undefined ? {} : { staking: stakingToJson(g.staking) }),
    ...(g.bridge === undefined ? {} : { bridge: bridgeToJson(g.bridge) }),
  };
}

/**
 * SHA-256 of the genesis in its canonical JSON form (`genesisToJson`, fixed key order, no spaces).
 * Formatting and field order in the file do not change it; any value does.
 */
export function genesisHash(g: Genesis): Uint8Array {
  return sha256(new TextEncoder().encode(JSON.stringify(genesisToJson(g))));
}

/** The validator set genesis starts with, sorted by address. */
export function genesisValidatorSet(g: Genesis): Validator[] {
  return g.validators
    .map((v) => ({ address: addressFromPublicKey(v.publicKey), publicKey: v.publicKey, power: v.power, name: v.name }))
    .sort((a, b) => compareBytes(a.address, b.address));
}

/** Writes the state at height 0. */
export function genesisToState(g: Genesis, view: StateView): void {
  view.set(CHAIN_ID_KEY, new TextEncoder().encode(g.chainId));
  view.set(PARAMS_KEY, encodeParams(g.params));
  saveValidatorSet(view, genesisValidatorSet(g));
  for (const a of g.accounts) {
    if (a.address.length !== ADDRESS_BYTES) throw invalid('accounts', 'bad address');
    saveAccount(view, a.address, { balance: a.balance, nonce: 0 });
  }
  saveSupply(view, genesisSupply(g));
  if (g.labelling !== undefined) saveLabellingParams(view, g.labelling);
  if (g.staking !== undefined) saveStakingParams(view, g.staking);
  if (g.bridge !== undefined) {
    saveBridgeParams(view, g.bridge.params);
    const byName = new Map(g.validators.map((v) => [v.name, v]));
    // The operator of a genesis validator is its consensus address (runtime/staking, first block).
    for (const k of g.bridge.keys) saveBridgeKey(view, addressFromPublicKey(byName.get(k.validator)!.publicKey), k.address);
    const set = genesisBridgeSet(g);
    if (set.signers.length > 0) saveBridgeSet(view, set);
  }
}
