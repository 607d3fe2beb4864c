/**
 * The node's home directory and `tagger init`. Layout (docs/operators.md §Home directory):
 *
 *   <home>/config.json          node settings
 *   <home>/genesis.json         the chain's genesis
 *   <home>/node-key.json        the validator's ed25519 key (mode 0600, unencrypted: the node starts unattended)
 *   <home>/network-key.json     the P2P identity seed and peer id (mode 0600; created when P2P first runs)
 *   <home>/data/chain/          LevelDB: state, blocks, receipts, indexes
 *   <home>/data/signer-state    the double-sign guard (last signed height/round/step)
 *   <home>/data/consensus-wal   the BFT engine's write-ahead log
 *   <home>/keyring/NAME.json    encrypted user keys (`tagger keys`)
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ChainError, ONE_TAG, addressFromPublicKey, addressFromString, addressToString, bytesToHex, hexToBytes, publicKeyFromSecret, randomSecretKey } from '../lib/index.ts';
import { DEFAULT_PARAMS } from '../state/index.ts';
import { genesisToJson, parseGenesisJson, type Genesis } from '../genesis/index.ts';
import { writeFileDurable } from '../consensus/index.ts';
import { Keyring } from '../sdk/keyring.ts';
import { DEFAULT_CONFIG, type NodeConfig } from './config.ts';

export type HomePaths = {
  home: string;
  config: string;
  genesis: string;
  nodeKey: string;
  networkKey: string;
  data: string;
  chainDb: string;
  signerState: string;
  consensusWal: string;
  keyring: string;
};

export function homePaths(home: string): HomePaths {
  return {
    home,
    config: join(home, 'config.json'),
    genesis: join(home, 'genesis.json'),
    nodeKey: join(home, 'node-key.json'),
    networkKey: join(home, 'network-key.json'),
    data: join(home, 'data'),
    chainDb: join(home, 'data', 'chain'),
    signerState: join(home, 'data', 'signer-state'),
    consensusWal: join(home, 'data', 'consensus-wal'),
    keyring: join(home, 'keyring'),
  };
}

export type HomeErrorType =
  | { code: 'HOME_EXISTS'; path: string }
  | { code: 'HOME_BAD_NODE_KEY'; path: string; reason: string };
export class HomeError extends ChainError<HomeErrorType> {}

export type NodeKey = { secretKey: Uint8Array; publicKey: Uint8Array; address: Uint8Array };

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export async function saveNodeKey(path: string, secretKey: Uint8Array): Promise<NodeKey> {
  const publicKey = publicKeyFromSecret(secretKey);
  const address = addressFromPublicKey(publicKey);
  const json = { address: addressToString(address), publicKey: bytesToHex(publicKey), secretKey: bytesToHex(secretKey) };
  await writeFileDurable(path, JSON.stringify(json, null, 2) + '\n', 0o600);
  return { secretKey, publicKey, address };
}

function badKey(path: string, reason: string): HomeError {
  return new HomeError({ code: 'HOME_BAD_NODE_KEY', path, reason }, `node key ${path}: ${reason}`);
}

export async function loadNodeKey(path: string): Promise<NodeKey> {
  try {
    const json = JSON.parse(await readFile(path, 'utf8')) as { secretKey?: unknown };
    const secretKey = typeof json.secretKey === 'string' && /^[0-9a-f]{64}$/.test(json.secretKey) ? hexToBytes(json.secretKey) : null;
    if (secretKey === null) throw badKey(path, 'secretKey must be 64 hex characters');
    const publicKey = publicKeyFromSecret(secretKey);
    return { secretKey, publicKey, address: addressFromPublicKey(publicKey) };
  } catch (e: unknown) {
    if (e instanceof HomeError) throw e;
    throw badKey(path, e instanceof Error ? e.message : String(e));
  }
}

export type InitOpts = {
  home: string;
  chainId: string;
  /** Password for the funded `dev` key written to the keyring. */
  devPassword: string;
  genesisTimeMs: bigint;
  scryptN?: number;
  /** Devnet bridge: keys under `<home>/bridge/`, a genesis `bridge` section and an embedded local EVM (node/bridgeDevnet.ts). */
  bridge?: boolean;
};

export type InitResult = { paths: HomePaths; validator: NodeKey; devAddress: string; genesis: Genesis };

/** Devnet funding: the `dev` key holds 1,000,000 TAG; the validator stakes 100,000 TAG. */
export const DEV_BALANCE = 1_000_000n * ONE_TAG;
export const VALIDATOR_POWER = 100_000n * ONE_TAG;
/** With the bridge on, the validator's spendable balance for the fees of its bridge transactions. */
export const VALIDATOR_FEE_BALANCE = 1_000n * ONE_TAG;

/**
 * Creates a one-validator devnet home: validator key, a funded `dev` key in the keyring, config and
 * genesis. Refuses a home that has a genesis. `genesis.json` is written last and marks the home
 * complete, so an init that was interrupted (Ctrl-C during key encryption, say) is finished by the
 * next one, which reuses the keys it finds.
 */
export async function initHome(opts: InitOpts): Promise<InitResult> {
  const paths = homePaths(opts.home);
  if (await exists(paths.genesis)) throw new HomeError({ code: 'HOME_EXISTS', path: paths.genesis }, `${paths.genesis} already exists`);
  await mkdir(paths.data, { recursive: true, mode: 0o700 });
  const validator = (await exists(paths.nodeKey)) ? await loadNodeKey(paths.nodeKey) : await saveNodeKey(paths.nodeKey, randomSecretKey());
  const keyring = new Keyring(opts.scryptN === undefined ? { dir: paths.keyring } : { dir: paths.keyring, scryptN: opts.scryptN });
  const hasDev = (await keyring.list()).some((k) => k.name === 'dev' && !('error' in k));
  const dev = hasDev ? await keyring.show('dev') : await keyring.add('dev', opts.devPassword);
  const genesis: Genesis = {
    chainId: opts.chainId,
    genesisTimeMs: opts.genesisTimeMs,
    params: DEFAULT_PARAMS,
    validators: [{ name: 'validator-0', publicKey: validator.publicKey, power: VALIDATOR_POWER }],
    accounts: [
      { address: addressFromString(dev.address), balance: DEV_BALANCE },
    ],
  };
  let config: NodeConfig = DEFAULT_CONFIG;
  if (opts.bridge === true) {
    // Loaded only here: the bridge pulls in viem, which commands that never touch it need not load.
    const { devnetBridgeKeys, devnetGenesisBridge } = await import('./bridgeDevnet.ts');
    const keys = await devnetBridgeKeys(opts.home, DEFAULT_CONFIG.bridge.bridgeKeyFile, DEFAULT_CONFIG.bridge.relayerKeyFile);
    genesis.bridge = devnetGenesisBridge(keys.deployer, [{ validator: 'validator-0', secret: keys.validator }]);
    // The validator pays the fees of its bridge duties (attestations, checkpoint signatures).
    genesis.accounts.push({ address: validator.address, balance: VALIDATOR_FEE_BALANCE });
    config = { ...DEFAULT_CONFIG, bridge: { ...DEFAULT_CONFIG.bridge, embeddedEvm: true, relayer: true } };
  }
  // Round-trip through JSON so the file on disk is exactly what the node will validate.
  const genesisText = JSON.stringify(genesisToJson(genesis), null, 2) + '\n';
  parseGenesisJson(genesisText);
  if (!(await exists(paths.config))) {
    await writeFileDurable(paths.config, JSON.stringify(config satisfies NodeConfig, null, 2) + '\n', 0o644);
  }
  await writeFileDurable(paths.genesis, genesisText, 0o644);
  return { paths, validator, devAddress: dev.address, genesis };
}
