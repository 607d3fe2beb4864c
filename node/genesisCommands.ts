/**
 * `tagger genesis init|add-account|add-validator|validate`: edit a genesis file step by step, then
 * validate the whole. Edits keep the file's JSON form; `validate` runs the node's own checks.
 */
import { readFile } from 'node:fs/promises';
import { addressFromString, addressToString, hexToBytes, isValidPublicKey, parseTag } from '../lib/index.ts';
import { DEFAULT_PARAMS } from '../state/index.ts';
import { GenesisError, genesisSupply, genesisToJson, parseGenesisJson, type Genesis } from '../genesis/index.ts';
import { writeFileDurable } from '../consensus/index.ts';

type GenesisJson = {
  chainId: string;
  genesisTime: string;
  params: Record<string, unknown>;
  validators: Array<Record<string, unknown>>;
  accounts: Array<Record<string, unknown>>;
};

async function readJson(file: string): Promise<GenesisJson> {
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text) as GenesisJson;
  } catch (e: unknown) {
    throw new GenesisError({ code: 'GENESIS_NOT_JSON', reason: e instanceof Error ? e.message : 'unparseable' });
  }
}

async function writeJson(file: string, json: GenesisJson): Promise<void> {
  await writeFileDurable(file, JSON.stringify(json, null, 2) + '\n', 0o644);
}

export async function genesisInit(file: string, chainId: string, genesisTime: string): Promise<GenesisJson> {
  const draft: Genesis = { chainId, genesisTimeMs: 0n, params: DEFAULT_PARAMS, validators: [], accounts: [] };
  const json = { ...(genesisToJson(draft) as GenesisJson), genesisTime };
  await writeJson(file, json);
  return json;
}

export async function genesisAddAccount(file: string, address: string, amountTag: string): Promise<GenesisJson> {
  const json = await readJson(file);
  const bytes = addressFromString(address);
  const canonical = addressToString(bytes);
  if (json.accounts.some((a) => a['address'] === canonical)) {
    throw new GenesisError({ code: 'GENESIS_DUPLICATE_ACCOUNT', path: 'accounts', address: canonical }, `account ${canonical} is already in the genesis`);
  }
  json.accounts.push({ address: canonical, balance: parseTag(amountTag).toString() });
  await writeJson(file, json);
  return json;
}

export async function genesisAddValidator(file: string, name: string, publicKeyHex: string, powerTag: string): Promise<GenesisJson> {
  const json = await readJson(file);
  const key = hexToBytes(publicKeyHex);
  if (!isValidPublicKey(key)) throw new GenesisError({ code: 'GENESIS_BAD_KEY', path: 'validators' }, 'not an ed25519 public key');
  const power = parseTag(powerTag);
  if (power === 0n) throw new GenesisError({ code: 'GENESIS_ZERO_STAKE', path: 'validators' }, 'stake must be above zero');
  json.validators.push({ name, publicKey: Buffer.from(key).toString('hex'), power: power.toString() });
  await writeJson(file, json);
  return json;
}

export async function genesisValidate(file: string): Promise<{ chainId: string; validators: number; accounts: number; supply: string }> {
  const genesis = parseGenesisJson(await readFile(file, 'utf8'));
  return { chainId: genesis.chainId, validators: genesis.validators.length, accounts: genesis.accounts.length, supply: genesisSupply(genesis).toString() };
}
