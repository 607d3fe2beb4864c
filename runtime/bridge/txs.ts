/**
 * Bridge transaction bodies and their wire forms (the `payload` of a Tx whose `kind` is one of
 * BRIDGE_KIND). See docs/spec/bridge.md §Chain side.
 *
 *   bridgeKeyRegister 40  [address: bin(20), proof: bin(65) r‖s‖v over bridgeKeyMessage]
 *   depositAttest     41  [nonce: u32, recipient: bin(20), amount: amount, bnbTxHash: bin(32), logIndex: u32]
 *   withdraw          42  [recipient: bin(20) BNB Chain address, amount: amount]
 *   checkpointSign    43  [number: u32, signature: bin(65) r‖s‖v over the checkpoint digest]
 *   (44–49 are reserved)
 */
import { ADDRESS_BYTES, CodecError, ETH_ADDRESS_BYTES, HASH_BYTES, Reader, SECP256K1_SIGNATURE_BYTES, amountToBytes, type Encodable } from '../../lib/index.ts';

/** Wire numbers. STATE-BREAKING, never reused. */
export const BRIDGE_KIND = {
  bridgeKeyRegister: 40,
  depositAttest: 41,
  withdraw: 42,
  checkpointSign: 43,
} as const;

/** A BNB Chain deposit as validators read it from a `Deposited` log. */
export type DepositFields = { nonce: number; recipient: Uint8Array; amount: bigint; bnbTxHash: Uint8Array; logIndex: number };

export type BridgeBody =
  | { kind: 'bridgeKeyRegister'; address: Uint8Array; proof: Uint8Array }
  | ({ kind: 'depositAttest' } & DepositFields)
  | { kind: 'withdraw'; recipient: Uint8Array; amount: bigint }
  | { kind: 'checkpointSign'; number: number; signature: Uint8Array };

const BRIDGE_KIND_NAMES: ReadonlySet<string> = new Set(Object.keys(BRIDGE_KIND));

export function isBridgeKind(kind: number): boolean {
  return kind >= BRIDGE_KIND.bridgeKeyRegister && kind <= BRIDGE_KIND.checkpointSign;
}

export function isBridgeBody(body: { kind: string }): body is BridgeBody {
  return BRIDGE_KIND_NAMES.has(body.kind);
}

export function bridgeBodyToWire(body: BridgeBody): [number, Encodable[]] {
  switch (body.kind) {
    case 'bridgeKeyRegister':
      return [BRIDGE_KIND.bridgeKeyRegister, [body.address, body.proof]];
    case 'depositAttest':
      return [BRIDGE_KIND.depositAttest, [body.nonce, body.recipient, amountToBytes(body.amount), body.bnbTxHash, body.logIndex]];
    case 'withdraw':
      return [BRIDGE_KIND.withdraw, [body.recipient, amountToBytes(body.amount)]];
    case 'checkpointSign':
      return [BRIDGE_KIND.checkpointSign, [body.number, body.signature]];
  }
}

export function parseBridgeBody(kind: number, payload: unknown): BridgeBody {
  switch (kind) {
    case BRIDGE_KIND.bridgeKeyRegister: {
      const r = Reader.array(payload, 'BridgeKeyRegister', 2);
      return { kind: 'bridgeKeyRegister', address: r.bytes('address', ETH_ADDRESS_BYTES), proof: r.bytes('proof', SECP256K1_SIGNATURE_BYTES) };
    }
    case BRIDGE_KIND.depositAttest: {
      const r = Reader.array(payload, 'DepositAttest', 5);
      return {
        kind: 'depositAttest',
        nonce: r.u32('nonce'),
        recipient: r.bytes('recipient', ADDRESS_BYTES),
        amount: r.amount('amount'),
        bnbTxHash: r.bytes('bnbTxHash', HASH_BYTES),
        logIndex: r.u32('logIndex'),
      };
    }
    case BRIDGE_KIND.withdraw: {
      const r = Reader.array(payload, 'Withdraw', 2);
      return { kind: 'withdraw', recipient: r.bytes('recipient', ETH_ADDRESS_BYTES), amount: r.amount('amount') };
    }
    case BRIDGE_KIND.checkpointSign: {
      const r = Reader.array(payload, 'CheckpointSign', 2);
      return { kind: 'checkpointSign', number: r.u32('number'), signature: r.bytes('signature', SECP256K1_SIGNATURE_BYTES) };
    }
    default:
      throw new CodecError(
        { code: 'CODEC_WRONG_TYPE', what: 'Tx', field: 'kind', expected: 'a known transaction kind' },
        `Tx.kind: unknown transaction kind ${kind}`,
      );
  }
}
