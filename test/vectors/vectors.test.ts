/**
 * Test vectors: the node's code must reproduce every `expected` value in test/vectors/*.json
 * exactly, and decode every encoding back to the vector's input.
 *
 * ┌───────────────────────────────────────────────────────────────────────────────────────────┐
 * │ A CHANGED VECTOR IS A STATE-BREAKING CHANGE. These bytes are what signatures, hashes,      │
 * │ addresses and state roots are made of: if this test fails, the change breaks every         │
 * │ existing chain, signed transaction and outside client. Fix the code, do not regenerate     │
 * │ the vectors — unless the change is a deliberate, versioned break of the protocol, decided  │
 * │ in an ADR, in which case regenerate (node scripts/generateVectors.ts) and review the diff. │
 * └───────────────────────────────────────────────────────────────────────────────────────────┘
 *
 * Every encoding here was also checked once against an independent implementation (a MessagePack
 * writer, bech32m, RFC 6962 tree and ed25519 from Python's `cryptography`, written from
 * docs/spec/encoding.md), so the vectors are the spec's, not only this code's.
 */
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Reader,
  addressFromString,
  bytesToHex,
  decodeCanonical,
  encode,
  hexToBytes,
  publicKeyFromSecret,
  verify,
  verifyNoble,
  type Encodable,
} from '../../lib/index.ts';
import {
  decodeBlock,
  decodeHeader,
  decodeReceipt,
  decodeReceipts,
  decodeSignedTx,
  verifyTxSignature,
} from '../../runtime/index.ts';
import { decodeAccount, decodeParams, decodeValidatorSet } from '../../state/index.ts';
import { decodeCommit, decodeVote } from '../../consensus/index.ts';
import {
  commitFromJson,
  compute,
  headerFromJson,
  paramsFromJson,
  primitiveValue,
  receiptFromJson,
  transferFromJson,
  validatorFromJson,
  voteFromJson,
  type Vector,
  type VectorInput,
} from './compute.ts';

const DIR = dirname(fileURLToPath(import.meta.url));
const FILES = ['address.json', 'block.json', 'codec.json', 'consensus.json', 'merkle.json', 'state.json', 'tx.json'];

/** Uint8Array → hex, bigint → decimal string, recursively: a form t.same compares exactly. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return bytesToHex(value);
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

const unhex = hexToBytes;

/** Decodes one primitive with the Reader the struct decoders use. */
function decodePrimitive(input: VectorInput, bytes: Uint8Array): unknown {
  const one = <T>(read: (r: Reader) => T, enc: (v: T) => Encodable): T =>
    decodeCanonical(bytes, 'Vector', 1 << 20, (v) => read(Reader.array([v], 'Vector', 1)), (v) => encode(enc(v)));
  switch (input.type) {
    case 'u32':
      return one((r) => r.u32('value'), (v) => v);
    case 'amount':
      return one((r) => r.amount('value'), (v) => primitiveValue({ type: 'amount', value: v.toString() })).toString();
    case 'str':
      return one((r) => r.str('value', 1 << 20), (v) => v);
    case 'bin':
      return bytesToHex(one((r) => r.bytesMax('value', 1 << 20), (v) => v));
    case 'bool':
      return one((r) => r.bool('value'), (v) => v);
    default:
      throw new TypeError(`not a primitive: ${input.type}`);
  }
}

type T = Parameters<Parameters<typeof t.test>[0]>[0];

function checkDecodes(t: T, v: Vector): void {
  const input = v.input;
  const e = v.expected;
  const s = (k: string): string => e[k] as string;
  switch (input.type) {
    case 'u32':
    case 'amount':
    case 'str':
    case 'bin':
    case 'bool':
      t.same(decodePrimitive(input, unhex(s('encoding'))), input.value, 'decodes back to the value');
      return;
    case 'transfer': {
      const signed = decodeSignedTx(unhex(s('signedTx')));
      t.same(plain(signed.tx), plain(transferFromJson(input)), 'decodes back to the transaction');
      t.equal(bytesToHex(signed.signature), s('signature'));
      t.equal(bytesToHex(signed.hash), s('txHash'));
      t.equal(bytesToHex(signed.senderAddress), s('senderAddressHex'));
      t.ok(verifyTxSignature(signed), 'the signature verifies (native)');
      t.ok(verifyNoble(unhex(s('publicKey')), unhex(s('signingBytes')), unhex(s('signature'))), 'the signature verifies (noble)');
      return;
    }
    case 'header':
      t.same(plain(decodeHeader(unhex(s('encoding')))), plain(headerFromJson(input.header)), 'decodes back');
      return;
    case 'block': {
      const block = decodeBlock(unhex(s('encoding')));
      t.same(plain(block), plain({ header: headerFromJson(input.header), lastCommit: unhex(input.lastCommit), txs: input.txs.map(unhex) }), 'decodes back');
      for (const tx of block.txs) t.ok(verifyTxSignature(decodeSignedTx(tx)), 'each tx in the block decodes and verifies');
      return;
    }
    case 'receipt':
      t.same(plain(decodeReceipt(unhex(s('encoding')))), plain(receiptFromJson(input.receipt)), 'decodes back');
      return;
    case 'receipts':
      t.same(plain(decodeReceipts(unhex(s('encoding')))), plain(input.receipts.map(receiptFromJson)), 'decodes back');
      return;
    case 'vote': {
      t.same(plain(decodeVote(unhex(s('encoding')))), plain(voteFromJson(input.vote)), 'decodes back');
      const publicKey = publicKeyFromSecret(unhex(input.secretKey));
      t.ok(verify(publicKey, unhex(s('signingBytes')), unhex(s('signature'))), 'the vote signature verifies');
      return;
    }
    case 'commit':
      t.same(plain(decodeCommit(unhex(s('encoding')))), plain(commitFromJson(input.commit)), 'decodes back');
      return;
    case 'address':
      t.equal(bytesToHex(addressFromString(s('string'))), s('address'), 'the string parses back to the address');
      return;
    case 'merkleRoot':
      return;
    case 'account':
      t.same(plain(decodeAccount(unhex(s('encoding')))), { balance: input.balance, nonce: input.nonce }, 'decodes back');
      return;
    case 'validatorSet':
      t.same(plain(decodeValidatorSet(unhex(s('encoding')))), plain(input.validators.map(validatorFromJson)), 'decodes back');
      return;
    case 'params':
      t.same(plain(decodeParams(unhex(s('encoding')))), plain(paramsFromJson(input.params)), 'decodes back');
      return;
    case 'chain': {
      const blocks = e.blocks as Array<{ signedTxs: string[]; receiptEncodings: string[]; receipts: unknown[] }>;
      for (const b of blocks) {
        for (const tx of b.signedTxs) t.ok(verifyTxSignature(decodeSignedTx(unhex(tx))), 'the block tx decodes and verifies');
        t.same(b.receiptEncodings.map((r) => plain(decodeReceipt(unhex(r)))), b.receipts, 'receipt encodings decode to the receipts');
      }
      return;
    }
  }
}

t.test('every vector file is checked', async (t) => {
  const onDisk = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
  t.same(onDisk, FILES);
});

for (const file of FILES) {
  t.test(file, async (t) => {
    const vectors = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Vector[];
    t.ok(vectors.length > 0, 'has vectors');
    for (const v of vectors) {
      t.test(v.description, async (t) => {
        t.same(compute(v.input), v.expected, 'the code reproduces the vector exactly');
        checkDecodes(t, v);
      });
    }
  });
}
