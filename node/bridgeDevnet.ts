/**
 * The bridge on a devnet (docs/operators.md §Bridge): a local EVM node standing in for BNB Chain
 * (bridge/evmNode.ts, state kept in `<home>/data/evm-blocks.log`), TAG and TaggerBridge deployed on
 * it at fixed addresses, and the keys that go with them under `<home>/bridge/`.
 *
 * At `init`, the deployer key is created first, so the contracts' addresses (the deployer's nonces 0
 * and 1) are known before they exist and go into the genesis `bridge` section with the validators'
 * bridge keys. At `start`, the EVM node replays its block log; if the bridge is not deployed yet it
 * deploys both contracts, with the first bridge set genesis fixes, and checks what it deployed.
 * Everything here is devnet convenience; on BNB Chain testnet or mainnet an operator points
 * `bridge.bnbRpcUrl` at the network and deploys with their own tooling.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeDeployData, getContractAddress, type Hex } from 'viem';
import { bytesToHex, hexToBytes, ONE_TAG, secp256k1Address, secp256k1RandomSecretKey, type Logger } from '../lib/index.ts';
import { writeFileDurable } from '../consensus/index.ts';
import { genesisBridgeSet, type Genesis, type GenesisBridge } from '../genesis/index.ts';
import { DEFAULT_BRIDGE_PARAMS } from '../runtime/index.ts';
import type { EvmNode } from '../bridge/evmNode.ts';
import { createBnbPublicClient, createBnbWalletClient } from '../bridge/bnbClient.ts';
import { BridgeError, TAGGER_BRIDGE, TAG_TOKEN, appchainIdFromChainId, validatorSetHash } from '../bridge/index.ts';

/** eth_chainId of the devnet's local EVM (part of every checkpoint signature's domain). */
export const DEVNET_EVM_CHAIN_ID = 1337;
export const DEVNET_CHECKPOINT_INTERVAL = 5;
/** TAG minted to the dev EVM account when the token is deployed. */
export const DEVNET_EVM_TAG = 1_000_000n * ONE_TAG;
const PREFUND_BNB = 1_000n * ONE_TAG;
const FINALITY_DEPTH = 2;
/** The devnet contract's caps: 100k TAG per withdrawal, 1M per day, 10k+ TAG waits 10 minutes. */
const CAPS = { perTxCap: 100_000n * ONE_TAG, epochCap: 1_000_000n * ONE_TAG, epochSeconds: 86_400n, largeWithdrawal: 10_000n * ONE_TAG, delaySeconds: 600n };

export type EvmKeyFile = { address: Hex; secretKey: Hex };

/** Reads a secp256k1 key file ({address, secretKey}, hex), or creates one (mode 0600) when `create`. */
export async function loadEvmKey(path: string, create: boolean): Promise<Uint8Array | null> {
  const text = await readFile(path, 'utf8').catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  });
  if (text !== null) {
    const json = JSON.parse(text) as Partial<EvmKeyFile>;
    if (typeof json.secretKey !== 'string' || !/^0x[0-9a-f]{64}$/i.test(json.secretKey)) throw new BridgeError({ code: 'BRIDGE_BAD_LENGTH', field: `${path} secretKey`, expected: 32, actual: typeof json.secretKey === 'string' ? json.secretKey.length : 0 }, `${path}: secretKey must be 0x and 64 hex digits`);
    return hexToBytes(json.secretKey.slice(2).toLowerCase());
  }
  if (!create) return null;
  const secret = secp256k1RandomSecretKey();
  const file: EvmKeyFile = { address: `0x${bytesToHex(secp256k1Address(secret))}`, secretKey: `0x${bytesToHex(secret)}` };
  await writeFileDurable(path, JSON.stringify(file, null, 2) + '\n', 0o600);
  return secret;
}

const hex = (b: Uint8Array): Hex => `0x${bytesToHex(b)}`;

export type DevnetBridgeKeys = { deployer: Uint8Array; relayer: Uint8Array; guardians: [Uint8Array, Uint8Array]; devEvm: Uint8Array; validator: Uint8Array };

export function devnetBridgePaths(home: string) {
  const dir = join(home, 'bridge');
  return {
    dir,
    deployer: join(dir, 'deployer-key.json'),
    guardian0: join(dir, 'guardian-0-key.json'),
    guardian1: join(dir, 'guardian-1-key.json'),
    devEvm: join(dir, 'dev-evm-key.json'),
    info: join(dir, 'devnet.json'),
    evmLog: join(home, 'data', 'evm-blocks.log'),
  };
}

/** Creates (or reuses) the devnet's bridge keys; the validator's and relayer's live at the config's paths. */
export async function devnetBridgeKeys(home: string, bridgeKeyFile: string, relayerKeyFile: string): Promise<DevnetBridgeKeys> {
  const p = devnetBridgePaths(home);
  await mkdir(p.dir, { recursive: true, mode: 0o700 });
  const need = async (path: string): Promise<Uint8Array> => (await loadEvmKey(path, true))!;
  return {
    deployer: await need(p.deployer),
    relayer: await need(join(home, relayerKeyFile)),
    guardians: [await need(p.guardian0), await need(p.guardian1)],
    devEvm: await need(p.devEvm),
    validator: await need(join(home, bridgeKeyFile)),
  };
}

/** Where the deployer's first two contracts land: TAG (nonce 0) and the bridge (nonce 1). */
export function devnetContracts(deployer: Uint8Array): { token: Hex; bridge: Hex } {
  const from = hex(secp256k1Address(deployer));
  return { token: getContractAddress({ from, nonce: 0n }), bridge: getContractAddress({ from, nonce: 1n }) };
}

/** The genesis `bridge` section of a devnet: one checkpoint every 5 blocks, the given validators' keys. */
export function devnetGenesisBridge(deployer: Uint8Array, keys: ReadonlyArray<{ validator: string; secret: Uint8Array }>): GenesisBridge {
  return {
    params: {
      ...DEFAULT_BRIDGE_PARAMS,
      checkpointInterval: DEVNET_CHECKPOINT_INTERVAL,
      bnbChainId: DEVNET_EVM_CHAIN_ID,
      bridgeContract: hexToBytes(devnetContracts(deployer).bridge.slice(2).toLowerCase()),
      withdrawalAmountMax: CAPS.perTxCap,
    },
    keys: keys.map((k) => ({ validator: k.validator, address: secp256k1Address(k.secret) })),
  };
}

/**
 * Deploys TAG (1,000,000 to the dev EVM account) and TaggerBridge (the genesis bridge set, the devnet
 * caps, two guardians, quorum 2) from the deployer's nonces 0 and 1, unless the bridge is already
 * there; checks they landed where genesis says. Returns the addresses.
 */
export async function deployDevnetContracts(
  url: string,
  genesis: Genesis,
  keys: Pick<DevnetBridgeKeys, 'deployer' | 'guardians' | 'devEvm'>,
  log: Logger,
): Promise<{ token: Hex; bridge: Hex }> {
  const chainId = DEVNET_EVM_CHAIN_ID;
  const expected = devnetContracts(keys.deployer);
  const client = createBnbPublicClient({ url, chainId });
  const code = await client.getCode({ address: expected.bridge });
  if (code !== undefined && code !== '0x') return expected;
  const wallet = createBnbWalletClient({ url, chainId }, hex(keys.deployer));
  const devEvmAddress = hex(secp256k1Address(keys.devEvm));
  const deploy = async (data: Hex): Promise<Hex> => {
    const hash = await wallet.sendTransaction({ data, gas: 8_000_000n });
    const receipt = await client.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success' || receipt.contractAddress == null) {
      throw new BridgeError({ code: 'BRIDGE_EVM_REVERTED', what: 'devnet deployment', error: hash }, `devnet contract deployment failed in ${hash}`);
    }
    return receipt.contractAddress;
  };
  const token = await deploy(encodeDeployData({ abi: TAG_TOKEN.abi, bytecode: TAG_TOKEN.bytecode, args: [devEvmAddress, DEVNET_EVM_TAG] }));
  const set = genesisBridgeSet(genesis);
  const config = { token, appchainId: hex(appchainIdFromChainId(genesis.chainId)), lastEndBlock: 0n, ...CAPS, guardianQuorum: 2n };
  const bridge = await deploy(
    encodeDeployData({
      abi: TAGGER_BRIDGE.abi,
      bytecode: TAGGER_BRIDGE.bytecode,
      args: [config, { id: set.id, signers: set.signers.map(hex), powers: set.powers }, keys.guardians.map((g) => hex(secp256k1Address(g)))],
    }),
  );
  if (token.toLowerCase() !== expected.token.toLowerCase() || bridge.toLowerCase() !== expected.bridge.toLowerCase()) {
    throw new BridgeError(
      { code: 'BRIDGE_DEPLOYMENT_MISMATCH', field: 'address', expected: `${expected.token}/${expected.bridge}`, actual: `${token}/${bridge}` },
      `devnet contracts landed at ${token}/${bridge}, genesis expects ${expected.token}/${expected.bridge}: the deployer key was used before`,
    );
  }
  const onChain = await client.readContract({ address: bridge, abi: TAGGER_BRIDGE.abi, functionName: 'validatorSetHash' });
  const want = hex(validatorSetHash(set));
  if (onChain.toLowerCase() !== want) {
    throw new BridgeError({ code: 'BRIDGE_DEPLOYMENT_MISMATCH', field: 'validatorSetHash', expected: want, actual: onChain }, `deployed validator set hash ${onChain}, genesis gives ${want}`);
  }
  log.info({ token, bridge }, 'Deployed TAG and TaggerBridge on the local EVM');
  return expected;
}

export type EmbeddedEvm = { node: EvmNode; url: string; token: Hex; bridge: Hex; devEvmAddress: Hex };

/**
 * Starts the local EVM node (replaying its log), deploys the contracts if they are not there yet,
 * checks the deployed bridge against genesis, and writes `<home>/bridge/devnet.json` with the URL
 * and addresses for wallets and the CLI.
 */
export async function startEmbeddedEvm(
  home: string,
  genesis: Genesis,
  opts: { host: string; port: number; blockTimeMs: number; bridgeKeyFile: string; relayerKeyFile: string; log: Logger },
): Promise<EmbeddedEvm> {
  const p = devnetBridgePaths(home);
  const keys = await devnetBridgeKeys(home, opts.bridgeKeyFile, opts.relayerKeyFile);
  const chainId = DEVNET_EVM_CHAIN_ID;
  const prefund = [keys.deployer, keys.relayer, ...keys.guardians, keys.devEvm].map((k) => ({ address: hex(secp256k1Address(k)), balance: PREFUND_BNB }));
  const evmOpts = { chainId: BigInt(chainId), host: opts.host, port: opts.port, finalityDepth: FINALITY_DEPTH, blockTimeMs: opts.blockTimeMs, prefund, logFile: p.evmLog, logger: opts.log };
  const { EvmNode } = await import('../bridge/evmNode.ts');
  let node: EvmNode;
  try {
    node = await EvmNode.start(evmOpts);
  } catch (e: unknown) {
    // Another devnet (or anything else) has the port: take a free one; devnet.json and the log say which.
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || opts.port === 0) throw e;
    opts.log.warn({ port: opts.port }, 'The local EVM port is taken: using a free port instead');
    node = await EvmNode.start({ ...evmOpts, port: 0 });
  }
  try {
    const expected = await deployDevnetContracts(node.url, genesis, keys, opts.log);
    const client = createBnbPublicClient({ url: node.url, chainId });
    const onChainSet = await client.readContract({ address: expected.bridge, abi: TAGGER_BRIDGE.abi, functionName: 'validatorSetId' });
    const devEvmAddress = hex(secp256k1Address(keys.devEvm));
    const info = {
      evmRpc: node.url,
      evmChainId: chainId,
      token: expected.token,
      bridge: expected.bridge,
      bridgeValidatorSetId: String(onChainSet),
      devEvmAddress,
      devEvmKeyFile: p.devEvm,
    };
    await writeFileDurable(p.info, JSON.stringify(info, null, 2) + '\n', 0o644);
    return { node, url: node.url, token: expected.token, bridge: expected.bridge, devEvmAddress };
  } catch (e: unknown) {
    await node.stop();
    throw e;
  }
}
