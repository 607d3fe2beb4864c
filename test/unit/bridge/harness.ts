/**
 * A StakingChain (test/unit/staking/harness.ts) with the bridge on: validators with secp256k1 bridge
 * keys, one funded account, helpers to build bridge transactions and read bridge state.
 */
import { ETH_ADDRESS_BYTES, secp256k1Address, secp256k1Sign, sha256, u32ToBytes } from '../../../lib/index.ts';
import {
  DEFAULT_BRIDGE_PARAMS,
  bridgeKeyMessage,
  loadBridgeGlobals,
  loadCheckpoint,
  saveBridgeParams,
  signatureToBytes,
  type BridgeBody,
  type BridgeGlobals,
  type BridgeParams,
  type CheckpointRecord,
  type Receipt,
} from '../../../runtime/index.ts';
import { StateView, loadSupply } from '../../../state/index.ts';
import { TEST_CHAIN_ID, type Key } from '../../utils/factories.ts';
import { numberedKey } from '../../utils/chain.ts';
import { StakingChain, TAG } from '../staking/harness.ts';

export { TAG };

export const TEST_BRIDGE_PARAMS: BridgeParams = {
  ...DEFAULT_BRIDGE_PARAMS,
  checkpointInterval: 5,
  withdrawalsPerCheckpointMax: 8,
  withdrawalsPendingMax: 64,
  depositsAheadMax: 16,
  bnbChainId: 97,
  bridgeContract: new Uint8Array(ETH_ADDRESS_BYTES).fill(0xbb),
};

export class BridgeChain extends StakingChain {
  readonly validatorKeys: Key[];
  /** The validators' secp256k1 bridge secret keys, same order. */
  readonly bridgeKeys: Uint8Array[];
  readonly user: Key;

  constructor(opts: { validators?: number; params?: Partial<BridgeParams>; bridgeOff?: boolean; bridgeKeys?: Uint8Array[] } = {}) {
    const validators = Array.from({ length: opts.validators ?? 3 }, (_, i) => numberedKey(9100 + i));
    const user = numberedKey(1);
    super({ validators, accounts: [user, ...validators] });
    this.validatorKeys = validators;
    this.bridgeKeys = opts.bridgeKeys ?? validators.map((_, i) => sha256(u32ToBytes(7000 + i)));
    this.user = user;
    if (opts.bridgeOff !== true) {
      const view = new StateView(this.state);
      saveBridgeParams(view, { ...TEST_BRIDGE_PARAMS, ...opts.params });
      this.state.apply(view.writes());
    }
    this.block(); // staking starts: genesis validators become operators
  }

  keyRegisterBody(operator: Key, secret: Uint8Array, chainId = TEST_CHAIN_ID): BridgeBody {
    const proof = signatureToBytes(secp256k1Sign(secret, bridgeKeyMessage(chainId, operator.address)));
    return { kind: 'bridgeKeyRegister', address: secp256k1Address(secret), proof };
  }

  /** Registers every validator's bridge key in one block. */
  registerAll(): void {
    this.block(this.validatorKeys.map((v, i) => this.tx(v, this.keyRegisterBody(v, this.bridgeKeys[i]!))));
  }

  depositBody(nonce: number, recipient: Uint8Array, amount: bigint, logIndex = 0): BridgeBody {
    return { kind: 'depositAttest', nonce, recipient, amount, bnbTxHash: sha256(u32ToBytes(nonce)), logIndex };
  }

  /** Each of `who` (validator indices) attests the deposit, one transaction each, in one block. */
  attest(who: readonly number[], body: BridgeBody): Receipt[] {
    return this.block(who.map((i) => this.tx(this.validatorKeys[i]!, body)));
  }

  /** A checkpointSign transaction by validator `i` with its bridge key (or `secret`). */
  signBody(number: number, digest: Uint8Array, i: number, secret = this.bridgeKeys[i]!): BridgeBody {
    return { kind: 'checkpointSign', number, signature: signatureToBytes(secp256k1Sign(secret, digest)) };
  }

  globals(): BridgeGlobals {
    return loadBridgeGlobals(this.state);
  }

  supply(): bigint {
    return loadSupply(this.state);
  }

  checkpoint(number: number): CheckpointRecord {
    const c = loadCheckpoint(this.state, number);
    if (c === null) throw new Error(`no checkpoint ${number}`);
    return c;
  }
}
