import t from 'tap';
import { ONE_TAG, encode, isChainError } from '../../../lib/index.ts';
import { BRIDGE_KIND, decodeSignedTx, signTx, type BridgeBody } from '../../../runtime/index.ts';
import { TEST_CHAIN_ID } from '../../utils/factories.ts';
import { numberedKey } from '../../utils/chain.ts';

const k = numberedKey(1);

t.test('every bridge body round-trips through the canonical SignedTx encoding', async (t) => {
  const bodies: BridgeBody[] = [
    { kind: 'bridgeKeyRegister', address: new Uint8Array(20).fill(1), proof: new Uint8Array(65).fill(2) },
    { kind: 'depositAttest', nonce: 7, recipient: new Uint8Array(20).fill(3), amount: 5n * ONE_TAG, bnbTxHash: new Uint8Array(32).fill(4), logIndex: 9 },
    { kind: 'withdraw', recipient: new Uint8Array(20).fill(5), amount: ONE_TAG },
    { kind: 'checkpointSign', number: 3, signature: new Uint8Array(65).fill(6) },
  ];
  t.equal(new Set(bodies.map((b) => b.kind)).size, Object.keys(BRIDGE_KIND).length, 'one of each kind');
  for (const [nonce, body] of bodies.entries()) {
    const signed = signTx({ chainId: TEST_CHAIN_ID, sender: k.publicKey, nonce, maxFee: ONE_TAG, body }, k.secretKey);
    t.same(decodeSignedTx(signed.bytes).tx.body, body, body.kind);
  }
});

t.test('malformed bridge payloads are codec errors, never crashes', async (t) => {
  const bad: Array<[number, unknown[]]> = [
    [BRIDGE_KIND.bridgeKeyRegister, [new Uint8Array(19), new Uint8Array(65)]],
    [BRIDGE_KIND.depositAttest, [1, new Uint8Array(20), new Uint8Array(0), new Uint8Array(31), 0]],
    [BRIDGE_KIND.withdraw, [new Uint8Array(20)]],
    [BRIDGE_KIND.checkpointSign, [1, new Uint8Array(64)]],
    [44, []],
  ];
  for (const [kind, payload] of bad) {
    const bytes = encode([[TEST_CHAIN_ID, k.publicKey, 0, new Uint8Array(0), kind, payload as never], new Uint8Array(64)]);
    try {
      decodeSignedTx(bytes);
      t.fail(`kind ${kind} decoded`);
    } catch (e) {
      t.ok(isChainError(e), `kind ${kind}: ${(e as Error).message}`);
    }
  }
});
