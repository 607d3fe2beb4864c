/**
 * An in-process EVM (@ethereumjs/vm, hardfork Cancun) standing in for BNB Chain: deploys the bridge's
 * contracts and runs signed transactions in blocks whose number and timestamp the caller controls.
 * Used by the contract tests and the gas benchmark, and meant for the devnet's local chain later.
 * Pure apart from the VM's own in-memory state: no I/O, no clock (time is set by the caller).
 * ABI encoding is viem's; callers encode calls with `encodeFunctionData` against the artifacts' ABIs.
 */
import { createBlock } from '@ethereumjs/block';
import { createCustomCommon, Hardfork, Mainnet, type Common } from '@ethereumjs/common';
import { createLegacyTx } from '@ethereumjs/tx';
import { createAccount, createAddressFromPrivateKey, createAddressFromString } from '@ethereumjs/util';
import { createVM, runTx, type VM } from '@ethereumjs/vm';
import { bytesToHex, hexToBytes } from '../lib/index.ts';
import { decodeErrorResult, decodeFunctionResult, encodeDeployData, encodeFunctionData, type Abi, type Hex } from 'viem';
import { domainSeparator, validatorSetHash, type BridgeDomain, type BridgeValidatorSet } from './checkpoint.ts';
import { TAG_TOKEN, TAGGER_BRIDGE } from './contracts/artifacts.ts';
import { BridgeError } from './errors.ts';

export type EvmLog = { address: Hex; topics: Hex[]; data: Hex };

export type EvmTxResult = {
  /** Gas of the whole transaction: intrinsic and calldata cost included, refunds deducted. */
  gasUsed: bigint;
  reverted: boolean;
  returnData: Hex;
  logs: EvmLog[];
  /** The custom error a reverted call returned, decoded against the ABIs the EVM was given. */
  error: { name: string; args: readonly unknown[] } | null;
  createdAddress: Hex | null;
};

export type LocalEvmOpts = {
  /** The EVM chain id (`block.chainid`): 56 is BNB Chain, 97 its testnet. */
  chainId: bigint;
  /** Unix seconds of the first block. */
  timestamp: bigint;
  /** ABIs used to decode custom errors of reverted calls. */
  abis: readonly Abi[];
};

const GAS_LIMIT = 30_000_000n;
const GAS_PRICE = 1_000_000_000n;
const BASE_FEE = 7n;
const FUNDING = 10n ** 24n;

function toHex(bytes: Uint8Array): Hex {
  return `0x${bytesToHex(bytes)}`;
}

export class LocalEvm {
  readonly chainId: bigint;
  /** Timestamp and number of the next block. */
  timestamp: bigint;
  blockNumber = 1n;
  private readonly vm: VM;
  private readonly common: Common;
  private readonly abis: readonly Abi[];

  private constructor(vm: VM, common: Common, opts: LocalEvmOpts) {
    this.vm = vm;
    this.common = common;
    this.chainId = opts.chainId;
    this.timestamp = opts.timestamp;
    this.abis = opts.abis;
  }

  static async create(opts: LocalEvmOpts): Promise<LocalEvm> {
    const common = createCustomCommon({ chainId: Number(opts.chainId) }, Mainnet, { hardfork: Hardfork.Cancun });
    const vm = await createVM({ common });
    return new LocalEvm(vm, common, opts);
  }

  /** Moves the clock of the next block forward. */
  advance(seconds: bigint): void {
    this.timestamp += seconds;
  }

  /** The address of a secret key, and a balance for it to pay gas with. */
  async fund(secretKey: Uint8Array): Promise<Hex> {
    const address = createAddressFromPrivateKey(secretKey);
    const existing = await this.vm.stateManager.getAccount(address);
    if (existing === undefined || existing.balance < FUNDING / 2n) {
      await this.vm.stateManager.putAccount(address, createAccount({ nonce: existing?.nonce ?? 0n, balance: FUNDING }));
    }
    return address.toString();
  }

  /** Deploys a contract; throws if the deployment reverts. */
  async deploy(from: Uint8Array, artifact: { abi: Abi; bytecode: Hex }, args: readonly unknown[]): Promise<Hex> {
    const data = encodeDeployData({ abi: artifact.abi, bytecode: artifact.bytecode, args });
    const result = await this.send(from, null, data);
    if (result.reverted || result.createdAddress === null) {
      const error = result.error?.name ?? result.returnData;
      throw new BridgeError({ code: 'BRIDGE_EVM_REVERTED', what: 'deployment', error }, `deployment reverted: ${error}`);
    }
    return result.createdAddress;
  }

  /** Runs one signed transaction in a block of its own. A revert is a result, not an exception. */
  async send(from: Uint8Array, to: Hex | null, data: Hex, value = 0n): Promise<EvmTxResult> {
    const sender = createAddressFromPrivateKey(from);
    await this.fund(from);
    const nonce = (await this.vm.stateManager.getAccount(sender))?.nonce ?? 0n;
    const tx = createLegacyTx(
      { nonce, gasPrice: GAS_PRICE, gasLimit: GAS_LIMIT, to: to ?? undefined, value, data: hexToBytes(data.slice(2)) },
      { common: this.common },
    ).sign(from);
    const result = await runTx(this.vm, { tx, block: this.nextBlock(), skipBlockGasLimitValidation: true });
    const returnData = toHex(result.execResult.returnValue);
    const reverted = result.execResult.exceptionError !== undefined;
    return {
      gasUsed: result.totalGasSpent,
      reverted,
      returnData,
      logs: (result.execResult.logs ?? []).map(([address, topics, logData]) => ({
        address: toHex(address),
        topics: topics.map(toHex),
        data: toHex(logData),
      })),
      error: reverted ? this.decodeError(returnData) : null,
      createdAddress: result.createdAddress === undefined ? null : result.createdAddress.toString(),
    };
  }

  /** Runs a call without a transaction (a view): returns the raw return data, or the decoded error. */
  async read(to: Hex, data: Hex): Promise<{ returnData: Hex; error: EvmTxResult['error']; reverted: boolean }> {
    const result = await this.vm.evm.runCall({
      to: createAddressFromString(to),
      data: hexToBytes(data.slice(2)),
      gasLimit: GAS_LIMIT,
      block: this.nextBlock(),
    });
    const returnData = toHex(result.execResult.returnValue);
    const reverted = result.execResult.exceptionError !== undefined;
    return { returnData, reverted, error: reverted ? this.decodeError(returnData) : null };
  }

  async balanceOf(address: Hex): Promise<bigint> {
    const account = await this.vm.stateManager.getAccount(createAddressFromString(address));
    return account?.balance ?? 0n;
  }

  private nextBlock(): ReturnType<typeof createBlock> {
    const block = createBlock(
      { header: { number: this.blockNumber, timestamp: this.timestamp, gasLimit: GAS_LIMIT, baseFeePerGas: BASE_FEE } },
      { common: this.common, skipConsensusFormatValidation: true },
    );
    this.blockNumber += 1n;
    return block;
  }

  private decodeError(data: Hex): EvmTxResult['error'] {
    if (data.length < 10) return null;
    for (const abi of this.abis) {
      try {
        const decoded = decodeErrorResult({ abi, data });
        return { name: decoded.errorName, args: decoded.args ?? [] };
      } catch {
        // not an error of this ABI: try the next one
      }
    }
    return null;
  }
}

/** What `deployBridge` needs; the caps and quorum as in docs/spec/bridge.md. */
export type BridgeDeployParams = {
  /** An existing TAG token; null deploys a TagToken with `tokenSupply` minted to `tokenHolder`. */
  token: Hex | null;
  tokenHolder: Hex;
  tokenSupply: bigint;
  appchainId: Uint8Array;
  lastEndBlock: bigint;
  perTxCap: bigint;
  epochCap: bigint;
  epochSeconds: bigint;
  largeWithdrawal: bigint;
  delaySeconds: bigint;
  guardianQuorum: bigint;
  validatorSet: BridgeValidatorSet;
  guardians: readonly Hex[];
};

export type BridgeDeployment = { token: Hex; bridge: Hex; domain: BridgeDomain };

/**
 * Deploys TAG (unless given) and the bridge, then reads the deployed state back and checks it against
 * what TypeScript computes — validator-set hash and id, domain separator, token — so a deployment that
 * left anything unset or different fails here, not at the first withdrawal (research/bridge.md §3,
 * Ronin 2024 and Nomad).
 */
export async function deployBridge(evm: LocalEvm, deployer: Uint8Array, p: BridgeDeployParams): Promise<BridgeDeployment> {
  const token = p.token ?? (await evm.deploy(deployer, TAG_TOKEN, [p.tokenHolder, p.tokenSupply]));
  const config = {
    token,
    appchainId: toHex(p.appchainId),
    lastEndBlock: p.lastEndBlock,
    perTxCap: p.perTxCap,
    epochCap: p.epochCap,
    epochSeconds: p.epochSeconds,
    largeWithdrawal: p.largeWithdrawal,
    delaySeconds: p.delaySeconds,
    guardianQuorum: p.guardianQuorum,
  };
  const set = { id: p.validatorSet.id, signers: p.validatorSet.signers.map(toHex), powers: p.validatorSet.powers };
  const bridge = await evm.deploy(deployer, TAGGER_BRIDGE, [config, set, p.guardians]);
  const domain = { chainId: evm.chainId, contract: hexToBytes(bridge.slice(2)), appchainId: p.appchainId };
  const expected: Record<string, string> = {
    validatorSetHash: toHex(validatorSetHash(p.validatorSet)),
    validatorSetId: p.validatorSet.id.toString(),
    domainSeparator: toHex(domainSeparator(domain)),
    token: token.toLowerCase(),
    lastCheckpoint: '0',
    paused: 'false',
  };
  for (const [field, want] of Object.entries(expected)) {
    const got = await readBridgeValue(evm, bridge, field);
    if (got !== want) {
      throw new BridgeError({ code: 'BRIDGE_DEPLOYMENT_MISMATCH', field, expected: want, actual: got }, `deployed ${field} is ${got}, expected ${want}`);
    }
  }
  return { token, bridge, domain };
}

async function readBridgeValue(evm: LocalEvm, bridge: Hex, functionName: string): Promise<string> {
  const abi: Abi = TAGGER_BRIDGE.abi;
  const result = await evm.read(bridge, encodeFunctionData({ abi, functionName }));
  if (result.reverted) {
    throw new BridgeError({ code: 'BRIDGE_EVM_REVERTED', what: functionName, error: result.error?.name ?? result.returnData }, `${functionName}() reverted`);
  }
  const value = decodeFunctionResult({ abi, functionName, data: result.returnData });
  return typeof value === 'string' ? value.toLowerCase() : String(value);
}
