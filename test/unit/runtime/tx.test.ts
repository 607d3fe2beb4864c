/**
 * Transactions (runtime/tx.ts): the wire form built by hand matches the encoder, signing bytes and
 * hash are what the spec says, and every malformed SignedTx is rejected with the right CodecError.
 */
import t from 'tap';
import {
  amountToBytes,
  bytesToHex,
  encode,
  hexToBytes,
  sha256,
  sign,
  signingBytes,
  verify,
} from '../../../lib/index.ts';
import { TX_BYTES_CEILING, decodeSignedTx, encodeTx, signTx, txSigningBytes, verifyTxSignature, type TransferBody } from '../../../runtime/index.ts';
import { errorOf, fixedKey, transferTx, type TransferTx } from '../../utils/factories.ts';
import * as mp from '../../utils/mp.ts';

type T = Parameters<Parameters<typeof t.test>[0]>[0];

const alice = fixedKey(1);
const bob = fixedKey(2);
const CHAIN = 'tagger-test-1';
const h = hexToBytes;
const hex = bytesToHex;

const baseTx = transferTx(alice, 7, bob.address, 1000n, { chainId: CHAIN, maxFee: 300n });
const signed = signTx(baseTx, alice.secretKey);
const SIG = hex(signed.signature);

type Parts = {
  chainId: string;
  sender: string;
  nonce: string;
  maxFee: string;
  kind: string;
  payload: string;
  signature: string;
  txExtra: string[];
  outerExtra: string[];
};

const PARTS: Parts = {
  chainId: mp.str(CHAIN),
  sender: mp.bin(hex(alice.publicKey)),
  nonce: mp.u32(7),
  maxFee: mp.amount(300n),
  kind: mp.u32(1),
  payload: mp.arr(mp.bin(hex(bob.address)), mp.amount(1000n)),
  signature: mp.bin(SIG),
  txExtra: [],
  outerExtra: [],
};

/** A SignedTx written by hand, with some parts replaced. */
function wire(over: Partial<Parts> = {}): string {
  const p = { ...PARTS, ...over };
  const tx = mp.arr(p.chainId, p.sender, p.nonce, p.maxFee, p.kind, p.payload, ...p.txExtra);
  return mp.arr(tx, p.signature, ...p.outerExtra);
}

function rejects(t: T, hexBytes: string, code: string, field?: string, msg?: string): void {
  const err = errorOf(() => decodeSignedTx(h(hexBytes)));
  t.equal(err?.code ?? 'accepted', code, msg ?? code);
  if (field !== undefined && err !== null) t.equal(err.field, field, `  names field ${field}`);
}

t.test('the hand-written wire form is the encoder output, and decodes back', async (t) => {
  t.equal(hex(signed.bytes), wire(), 'SignedTx = [Tx, signature]');
  t.equal(hex(encodeTx(baseTx)), mp.arr(PARTS.chainId, PARTS.sender, PARTS.nonce, PARTS.maxFee, PARTS.kind, PARTS.payload), 'Tx');
  const d = decodeSignedTx(h(wire()));
  t.same(d.tx, baseTx);
  t.equal(hex(d.signature), SIG);
  t.equal(hex(d.hash), hex(sha256(signed.bytes)), 'hash = SHA-256 of the SignedTx encoding');
  t.equal(hex(d.senderAddress), hex(sha256(alice.publicKey).subarray(0, 20)), 'sender address = SHA-256(pubkey)[0..20]');
  t.ok(verifyTxSignature(d));
});

t.test('signing bytes = encode(["tagger/tx/v1", chainId, encode(Tx)])', async (t) => {
  const expected = mp.arr(mp.str('tagger/tx/v1'), mp.str(CHAIN), mp.bin(hex(encodeTx(baseTx))));
  t.equal(hex(txSigningBytes(baseTx)), expected);
  t.equal(hex(signingBytes('tx', CHAIN, encodeTx(baseTx))), expected);
  t.ok(verify(alice.publicKey, h(expected), signed.signature), 'the signature is over exactly these bytes');
  t.notOk(verify(alice.publicKey, encodeTx(baseTx), signed.signature), 'not over the bare Tx encoding');
});

t.test('a valid signature does not survive any change to the transaction', async (t) => {
  const variants: Array<[string, TransferTx]> = [
    ['chainId', { ...baseTx, chainId: 'tagger-test-2' }],
    ['nonce', { ...baseTx, nonce: 8 }],
    ['maxFee', { ...baseTx, maxFee: 301n }],
    ['to', { ...baseTx, body: { ...baseTx.body, to: alice.address } }],
    ['amount', { ...baseTx, body: { ...baseTx.body, amount: 1001n } }],
    ['sender', { ...baseTx, sender: bob.publicKey }],
  ];
  for (const [field, tx] of variants) {
    const forged = decodeSignedTx(encode([[tx.chainId, tx.sender, tx.nonce, amountToBytes(tx.maxFee), 1, [tx.body.to, amountToBytes(tx.body.amount)]], signed.signature]));
    t.same(forged.tx, tx, `${field}: decodes`);
    t.notOk(verifyTxSignature(forged), `${field}: the old signature does not verify`);
  }
  const otherSig = sign(bob.secretKey, txSigningBytes(baseTx));
  t.notOk(verifyTxSignature(decodeSignedTx(h(wire({ signature: mp.bin(hex(otherSig)) })))), "someone else's signature");
});

t.test('trailing bytes → CODEC_TRAILING_BYTES', async (t) => {
  rejects(t, wire() + '00', 'CODEC_TRAILING_BYTES');
  rejects(t, wire() + wire(), 'CODEC_TRAILING_BYTES', undefined, 'two transactions');
});

t.test('size limits → CODEC_TOO_LARGE', async (t) => {
  const bytes = h(wire());
  t.equal(errorOf(() => decodeSignedTx(bytes, bytes.length))?.code ?? 'ok', 'ok', 'exactly maxBytes is fine');
  t.match(errorOf(() => decodeSignedTx(bytes, bytes.length - 1)), { code: 'CODEC_TOO_LARGE', max: bytes.length - 1 });
  t.match(errorOf(() => decodeSignedTx(new Uint8Array(TX_BYTES_CEILING + 1), 10 * TX_BYTES_CEILING)), { code: 'CODEC_TOO_LARGE', max: TX_BYTES_CEILING }, 'never above the ceiling');
});

t.test('wrong field counts → CODEC_WRONG_LENGTH', async (t) => {
  rejects(t, mp.arr(mp.arr(PARTS.chainId, PARTS.sender, PARTS.nonce, PARTS.maxFee, PARTS.kind), PARTS.signature), 'CODEC_WRONG_LENGTH', '(root)', 'Tx of 5 fields');
  rejects(t, wire({ txExtra: [mp.u32(0)] }), 'CODEC_WRONG_LENGTH', '(root)', 'Tx of 7 fields');
  rejects(t, wire({ outerExtra: [mp.u32(0)] }), 'CODEC_WRONG_LENGTH', '(root)', 'SignedTx of 3 fields');
  rejects(t, mp.arr(mp.arr(PARTS.chainId, PARTS.sender, PARTS.nonce, PARTS.maxFee, PARTS.kind, PARTS.payload)), 'CODEC_WRONG_LENGTH', '(root)', 'unsigned');
  rejects(t, wire({ payload: mp.arr(mp.bin(hex(bob.address))) }), 'CODEC_WRONG_LENGTH', '(root)', 'payload of 1 field');
  rejects(t, wire({ payload: mp.arr(mp.bin(hex(bob.address)), mp.amount(1n), mp.amount(1n)) }), 'CODEC_WRONG_LENGTH', '(root)', 'payload of 3 fields');
  t.match(errorOf(() => decodeSignedTx(h(wire({ payload: mp.arr() })))), { what: 'Transfer', expected: 2, actual: 0 });
});

t.test('a map instead of an array → CODEC_WRONG_TYPE', async (t) => {
  rejects(t, mp.map([mp.str('tx'), mp.arr()], [mp.str('signature'), PARTS.signature]), 'CODEC_WRONG_TYPE', '(root)', 'SignedTx as a map');
  rejects(t, mp.arr(mp.map([mp.str('chainId'), PARTS.chainId]), PARTS.signature), 'CODEC_WRONG_TYPE', '(root)', 'Tx as a map');
  rejects(t, wire({ payload: mp.map([mp.str('to'), mp.bin(hex(bob.address))], [mp.str('amount'), mp.amount(1n)]) }), 'CODEC_WRONG_TYPE', '(root)', 'payload as a map');
});

t.test('unknown transaction kind → CODEC_WRONG_TYPE on field kind', async (t) => {
  for (const kind of [0, 2, 127, 65535, 4294967295]) {
    rejects(t, wire({ kind: mp.u32(kind) }), 'CODEC_WRONG_TYPE', 'kind', `kind ${kind}`);
  }
  rejects(t, wire({ kind: mp.str('transfer') }), 'CODEC_WRONG_TYPE', 'kind', 'kind as a string');
});

t.test('wrong types → CODEC_WRONG_TYPE naming the field', async (t) => {
  rejects(t, wire({ chainId: mp.bin('61') }), 'CODEC_WRONG_TYPE', 'chainId', 'chainId as bin');
  rejects(t, wire({ sender: mp.str('x') }), 'CODEC_WRONG_TYPE', 'sender', 'sender as str');
  rejects(t, wire({ nonce: mp.amount(7n) }), 'CODEC_WRONG_TYPE', 'nonce', 'nonce as bin');
  rejects(t, wire({ nonce: 'ff' }), 'CODEC_WRONG_TYPE', 'nonce', 'nonce -1');
  rejects(t, wire({ nonce: mp.wide.float64(7.5) }), 'CODEC_WRONG_TYPE', 'nonce', 'nonce 7.5');
  rejects(t, wire({ maxFee: mp.u32(300) }), 'CODEC_WRONG_TYPE', 'maxFee', 'maxFee as an int');
  rejects(t, wire({ payload: mp.arr(mp.str('tag1…'), mp.amount(1n)) }), 'CODEC_WRONG_TYPE', 'to', 'to as a string');
  rejects(t, wire({ payload: mp.arr(mp.bin(hex(bob.address)), mp.u32(5)) }), 'CODEC_WRONG_TYPE', 'amount', 'amount as an int');
  rejects(t, wire({ signature: mp.NIL }), 'CODEC_WRONG_TYPE', 'signature', 'signature nil');
  rejects(t, wire({ payload: mp.NIL }), 'CODEC_WRONG_TYPE', '(root)', 'payload nil');
});

t.test('non-canonical ints and floats', async (t) => {
  rejects(t, wire({ nonce: mp.wide.uint8(7) }), 'CODEC_NON_CANONICAL', undefined, 'nonce 7 as uint8');
  rejects(t, wire({ nonce: mp.wide.uint16(7) }), 'CODEC_NON_CANONICAL', undefined, 'nonce 7 as uint16');
  rejects(t, wire({ nonce: mp.wide.uint32(7) }), 'CODEC_NON_CANONICAL', undefined, 'nonce 7 as uint32');
  rejects(t, wire({ nonce: mp.wide.uint64(7) }), 'CODEC_WRONG_TYPE', 'nonce', 'nonce 7 as uint64');
  rejects(t, wire({ nonce: mp.wide.float64(7) }), 'CODEC_NON_CANONICAL', undefined, 'nonce 7 as float64');
  rejects(t, wire({ nonce: mp.wide.float32(7) }), 'CODEC_NON_CANONICAL', undefined, 'nonce 7 as float32');
  rejects(t, wire({ kind: mp.wide.uint8(1) }), 'CODEC_NON_CANONICAL', undefined, 'kind 1 as uint8');
  rejects(t, wire({ kind: mp.wide.float64(1) }), 'CODEC_NON_CANONICAL', undefined, 'kind 1 as float64');
});

t.test('sizes of byte and text fields', async (t) => {
  rejects(t, wire({ sender: mp.bin(mp.hexFill(1, 31)) }), 'CODEC_WRONG_LENGTH', 'sender', '31-byte sender');
  rejects(t, wire({ sender: mp.bin(mp.hexFill(1, 33)) }), 'CODEC_OVERSIZE', 'sender', '33-byte sender');
  rejects(t, wire({ signature: mp.bin(SIG.slice(2)) }), 'CODEC_WRONG_LENGTH', 'signature', '63-byte signature');
  rejects(t, wire({ signature: mp.bin(SIG + '00') }), 'CODEC_OVERSIZE', 'signature', '65-byte signature');
  rejects(t, wire({ payload: mp.arr(mp.bin(hex(bob.address).slice(2)), mp.amount(1n)) }), 'CODEC_WRONG_LENGTH', 'to', '19-byte recipient');
  rejects(t, wire({ payload: mp.arr(mp.bin(hex(sha256(bob.publicKey))), mp.amount(1n)) }), 'CODEC_OVERSIZE', 'to', '32-byte recipient');
  t.equal(decodeSignedTx(h(wire({ chainId: mp.str('c'.repeat(64)) }))).tx.chainId.length, 64, '64-byte chain id');
  rejects(t, wire({ chainId: mp.str('c'.repeat(65)) }), 'CODEC_OVERSIZE', 'chainId', '65-byte chain id');
  rejects(t, wire({ chainId: mp.str8('c') }), 'CODEC_NON_CANONICAL', undefined, 'chain id with a str8 header');
  rejects(t, wire({ signature: mp.bin16(SIG) }), 'CODEC_NON_CANONICAL', undefined, 'signature with a bin16 header');
});

t.test('amounts', async (t) => {
  rejects(t, wire({ maxFee: mp.bin('00' + '012c') }), 'CODEC_NON_CANONICAL', undefined, 'maxFee with a leading zero');
  rejects(t, wire({ maxFee: mp.bin('00') }), 'CODEC_NON_CANONICAL', undefined, 'maxFee zero as 0x00');
  rejects(t, wire({ maxFee: mp.bin('01' + '00'.repeat(32)) }), 'CODEC_OVERSIZE', 'maxFee', 'maxFee of 33 bytes');
  rejects(t, wire({ payload: mp.arr(mp.bin(hex(bob.address)), mp.bin('0003e8')) }), 'CODEC_NON_CANONICAL', undefined, 'amount with a leading zero');
  rejects(t, wire({ payload: mp.arr(mp.bin(hex(bob.address)), mp.bin('ff'.repeat(33))) }), 'CODEC_OVERSIZE', 'amount', 'amount of 33 bytes');
  t.equal((decodeSignedTx(h(wire({ payload: mp.arr(mp.bin(hex(bob.address)), mp.bin('')) }))).tx.body as TransferBody).amount, 0n, 'amount 0 decodes (it fails at execution)');
});

t.test('invalid UTF-8 in the chain id → CODEC_NON_CANONICAL', async (t) => {
  for (const bad of ['ff', 'c328', 'eda080', 'c0ae', 'f4908080']) {
    rejects(t, wire({ chainId: mp.strBytes('74616767' + bad) }), 'CODEC_NON_CANONICAL', undefined, `chain id with ${bad}`);
  }
});

t.test('decoded bytes are the input; hash and sender follow', async (t) => {
  const input = h(wire());
  const d = decodeSignedTx(input);
  t.equal(hex(d.bytes), hex(input));
  t.equal(hex(d.hash), hex(sha256(input)));
});
