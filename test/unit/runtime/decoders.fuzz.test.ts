/**
 * Every decoder of a consensus object, fed random bytes and random mutations of valid encodings:
 * it either returns a value whose re-encoding is exactly the input, or throws a ChainError. Any
 * other exception (TypeError, RangeError, AssertionError…) would be a crash reachable from the
 * network, and is a failure here.
 */
import t from 'tap';
import fc from 'fast-check';
import { bytesToHex, concatBytes, encode, equalBytes, hexToBytes, isChainError, ONE_TAG } from '../../../lib/index.ts';
import {
  decodeBlock,
  decodeHeader,
  decodeReceipt,
  decodeReceipts,
  decodeSignedTx,
  encodeBlock,
  encodeHeader,
  encodeReceipt,
  encodeReceipts,
  encodeTx,
} from '../../../runtime/index.ts';
import {
  DEFAULT_PARAMS,
  decodeAccount,
  decodeParams,
  decodeValidatorSet,
  encodeAccount,
  encodeParams,
  encodeValidatorSet,
} from '../../../state/index.ts';
import { VOTE_TYPE, decodeCommit, decodeVote, encodeCommit, encodeVote, signVote, type Vote } from '../../../consensus/index.ts';
import { TEST_CHAIN_ID, fixedKey, sampleHeader, sampleReceipt, signedTransfer } from '../../utils/factories.ts';

type Decoder = { name: string; decode: (b: Uint8Array) => unknown; reencode: (v: never) => Uint8Array; seeds: Uint8Array[] };

const alice = fixedKey(1);
const bob = fixedKey(2);
const tx1 = signedTransfer(alice, 0, bob.address, ONE_TAG);
const tx2 = signedTransfer(bob, 300, alice.address, 0n, { maxFee: 0n });
const header = sampleHeader({ proposer: alice.address });
const vote: Vote = { type: VOTE_TYPE.precommit, height: 9, round: 1, blockHash: new Uint8Array(32).fill(7), validator: alice.address };
const receipt = sampleReceipt();
const failed = sampleReceipt({ status: 1, code: 'TX_ZERO_AMOUNT', events: [], fee: 0n });

const DECODERS: Decoder[] = [
  {
    name: 'SignedTx',
    decode: (b) => decodeSignedTx(b),
    // [tx, signature] is 0x92 followed by the two encodings.
    reencode: (v: ReturnType<typeof decodeSignedTx>) => concatBytes(Uint8Array.of(0x92), encodeTx(v.tx), encode(v.signature)),
    seeds: [tx1.bytes, tx2.bytes],
  },
  { name: 'Block', decode: decodeBlock, reencode: encodeBlock, seeds: [encodeBlock({ header, lastCommit: Uint8Array.of(1, 2, 3), txs: [tx1.bytes, tx2.bytes] }), encodeBlock({ header, lastCommit: new Uint8Array(0), txs: [] })] },
  { name: 'Header', decode: decodeHeader, reencode: encodeHeader, seeds: [encodeHeader(header), encodeHeader(sampleHeader({ height: 70000, timeMs: 0n }))] },
  { name: 'Receipt', decode: decodeReceipt, reencode: encodeReceipt, seeds: [encodeReceipt(receipt), encodeReceipt(failed)] },
  { name: 'Receipts', decode: decodeReceipts, reencode: encodeReceipts, seeds: [encodeReceipts([receipt, failed]), encodeReceipts([])] },
  { name: 'Vote', decode: decodeVote, reencode: encodeVote, seeds: [encodeVote(vote), encodeVote({ ...vote, type: VOTE_TYPE.prevote, blockHash: new Uint8Array(0) })] },
  {
    name: 'Commit',
    decode: decodeCommit,
    reencode: encodeCommit,
    seeds: [
      encodeCommit({
        height: 9,
        round: 1,
        blockHash: vote.blockHash,
        signatures: [
          { validator: alice.address, signature: signVote(TEST_CHAIN_ID, vote, alice.secretKey) },
          { validator: bob.address, signature: signVote(TEST_CHAIN_ID, { ...vote, validator: bob.address }, bob.secretKey) },
        ],
      }),
    ],
  },
  { name: 'Account', decode: decodeAccount, reencode: encodeAccount, seeds: [encodeAccount({ balance: 123456789n, nonce: 300 }), encodeAccount({ balance: 0n, nonce: 0 })] },
  {
    name: 'ValidatorSet',
    decode: decodeValidatorSet,
    reencode: encodeValidatorSet,
    seeds: [
      encodeValidatorSet([
        { address: alice.address, publicKey: alice.publicKey, power: 10n ** 21n, name: 'validator-0' },
        { address: bob.address, publicKey: bob.publicKey, power: 1n, name: 'v1' },
      ]),
    ],
  },
  { name: 'Params', decode: decodeParams, reencode: encodeParams, seeds: [encodeParams(DEFAULT_PARAMS)] },
];

const ALL_SEEDS = DECODERS.flatMap((d) => d.seeds);
/** FUZZ_SCALE=50 runs fifty times as many cases (a few minutes), for a deeper search by hand. */
const SCALE = Math.max(1, Number(process.env.FUZZ_SCALE ?? 1));

/** 'accepted' or 'rejected' (with a ChainError) when the decoder behaved; otherwise what went wrong. */
function outcome(d: Decoder, bytes: Uint8Array): string {
  let value: unknown;
  try {
    value = d.decode(bytes);
  } catch (e: unknown) {
    if (isChainError(e)) return 'rejected';
    return `${d.name} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} on ${bytesToHex(bytes).slice(0, 200)}`;
  }
  const again = d.reencode(value as never);
  return equalBytes(again, bytes) ? 'accepted' : `${d.name} accepted ${bytesToHex(bytes).slice(0, 200)} which re-encodes differently`;
}

const behaved = (o: string): boolean => o === 'accepted' || o === 'rejected';

/** Runs every decoder on `bytes`; throws (for fast-check to report) on misbehaviour. */
function allBehave(bytes: Uint8Array): number {
  let accepted = 0;
  for (const d of DECODERS) {
    const o = outcome(d, bytes);
    if (!behaved(o)) throw new Error(o);
    if (o === 'accepted') accepted += 1;
  }
  return accepted;
}

t.test('every seed decodes and re-encodes to itself', async (t) => {
  for (const d of DECODERS) for (const s of d.seeds) t.equal(outcome(d, s), 'accepted', d.name);
});

t.test('property: random bytes', async (t) => {
  // Bytes biased towards MessagePack type bytes, so that many inputs get past the first byte.
  const typeByte = fc.constantFrom(0x90, 0x91, 0x92, 0x95, 0x96, 0x9b, 0xdc, 0xc4, 0xc5, 0xa0, 0xa3, 0xd9, 0xcc, 0xcd, 0xce, 0xcf, 0xca, 0xcb, 0xc0, 0xc2, 0xc3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xc7, 0x80, 0x81, 0xff, 0x00, 0x01, 0x20);
  const biased = fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), typeByte), { maxLength: 120 }).map((a) => Uint8Array.from(a));
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => allBehave(b) >= 0), { numRuns: 1500 * SCALE });
  fc.assert(fc.property(biased, (b) => allBehave(b) >= 0), { numRuns: 1500 * SCALE });
  t.pass('no decoder misbehaved');
});

type Mutation =
  | { op: 'flip'; pos: number; bit: number }
  | { op: 'set'; pos: number; byte: number }
  | { op: 'insert'; pos: number; bytes: Uint8Array }
  | { op: 'delete'; pos: number; len: number }
  | { op: 'truncate'; pos: number }
  | { op: 'duplicate'; pos: number; len: number };

const interesting = fc.oneof(
  fc.integer({ min: 0, max: 255 }),
  fc.constantFrom(0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd3, 0xd4, 0xd9, 0xda, 0xdc, 0xdd, 0xde, 0xe0, 0xff),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), pos: fc.nat(), byte: interesting }),
  fc.record({ op: fc.constant('insert' as const), pos: fc.nat(), bytes: fc.array(interesting, { minLength: 1, maxLength: 4 }).map((a) => Uint8Array.from(a)) }),
  fc.record({ op: fc.constant('delete' as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('truncate' as const), pos: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
);

function mutate(input: Uint8Array, m: Mutation): Uint8Array {
  const n = input.length;
  const pos = n === 0 ? 0 : m.pos % (n + (m.op === 'insert' ? 1 : 0));
  switch (m.op) {
    case 'flip': {
      if (n === 0) return input;
      const out = Uint8Array.from(input);
      out[pos % n]! ^= 1 << m.bit;
      return out;
    }
    case 'set': {
      if (n === 0) return input;
      const out = Uint8Array.from(input);
      out[pos % n] = m.byte;
      return out;
    }
    case 'insert':
      return concatBytes(input.subarray(0, pos), m.bytes, input.subarray(pos));
    case 'delete':
      return concatBytes(input.subarray(0, pos), input.subarray(pos + m.len));
    case 'truncate':
      return input.subarray(0, pos);
    case 'duplicate':
      return concatBytes(input.subarray(0, pos + m.len), input.subarray(pos));
  }
}

t.test('property: mutations of valid encodings, fed to every decoder', async (t) => {
  // A mutant may still be a valid encoding (of its own type, or of another one): then it must
  // re-encode to itself.
  let accepted = 0;
  fc.assert(
    fc.property(fc.constantFrom(...ALL_SEEDS), fc.array(mutation, { minLength: 1, maxLength: 4 }), (seed, ms) => {
      accepted += allBehave(ms.reduce(mutate, seed));
      return true;
    }),
    { numRuns: 4000 * SCALE },
  );
  t.ok(accepted > 0, `some mutants are still valid encodings (${accepted}), so the decode-and-re-encode path was exercised`);
});

t.test('resource bombs are refused quickly with a CodecError', async (t) => {
  const bombs: Array<[string, Uint8Array]> = [
    ['array32 of 2^32 - 1 items', hexToBytes('ddffffffff')],
    ['array16 of 65535 items, no items', hexToBytes('dcffff')],
    ['str32 of 4 GiB', hexToBytes('dbffffffff61')],
    ['bin32 of 4 GiB', hexToBytes('c6ffffffff00')],
    ['map32 of 2^32 - 1 entries', hexToBytes('dfffffffff')],
    ['ext32 of 4 GiB', hexToBytes('c9ffffffff0100')],
    ['100,000 nested arrays', new Uint8Array(100_000).fill(0x91)],
    ['1,000,000 nested arrays', new Uint8Array(1_000_000).fill(0x91)],
  ];
  for (const [name, bytes] of bombs) {
    for (const d of DECODERS) t.equal(outcome(d, bytes), 'rejected', `${d.name}: ${name}`);
  }
  for (const d of DECODERS) for (const s of d.seeds) t.equal(outcome(d, s), 'accepted', `${d.name} still decodes afterwards`);
});
