/**
 * lib/crypto.ts: the native (OpenSSL) ed25519 verifier must agree with the pure-JS reference
 * (`verifyNoble`) on every input — valid, mutated, malformed and adversarial (Wycheproof-style edge
 * cases built here from the curve arithmetic) — since consensus depends on exactly one answer.
 * Signing bytes separate chains and message types.
 */
import t from 'tap';
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import {
  bytesToHex,
  concatBytes,
  hexToBytes,
  isValidPublicKey,
  keccak256,
  publicKeyFromSecret,
  sha256,
  sha256Latin1,
  sign,
  signingBytes,
  utf8ToBytes,
  verify,
  verifyNoble,
} from '../../../lib/index.ts';
import * as mp from '../../utils/mp.ts';

type T = Parameters<Parameters<typeof t.test>[0]>[0];

const Point = ed25519.Point;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const P = 2n ** 255n - 19n;

const le = (b: Uint8Array): bigint => BigInt('0x' + (bytesToHex(Uint8Array.from(b).reverse()) || '0'));
const toLe = (n: bigint): Uint8Array => hexToBytes(n.toString(16).padStart(64, '0')).reverse();

const SK = new Uint8Array(32).fill(1);
const PK = publicKeyFromSecret(SK);
const MSG = utf8ToBytes('tagger');
const SIG = sign(SK, MSG);

/** Both verifiers' answers; `same` when they agree. */
function both(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): { native: boolean; noble: boolean } {
  return { native: verify(publicKey, message, signature), noble: verifyNoble(publicKey, message, signature) };
}

function agreeFalse(t: T, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, name: string): void {
  t.same(both(publicKey, message, signature), { native: false, noble: false }, name);
}

// Points of small order (1, 2, 4, 8) in their canonical encodings (Wycheproof / "Taming the many
// EdDSAs" table), and non-canonical encodings (y ≥ p) that decode to small-order points.
const SMALL_ORDER: Array<[string, string]> = [
  ['identity (order 1)', '0100000000000000000000000000000000000000000000000000000000000000'],
  ['(0, -1) order 2', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
  ['order 4, y = 0', '0000000000000000000000000000000000000000000000000000000000000000'],
  ['order 4, y = 0, sign bit', '0000000000000000000000000000000000000000000000000000000000000080'],
  ['order 8', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'],
  ['order 8, sign bit', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa'],
  ['order 8 (other)', '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'],
  ['order 8 (other), sign bit', '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85'],
];
const NON_CANONICAL_KEYS: Array<[string, Uint8Array]> = [
  ['y = p (≡ 0)', toLe(P)],
  ['y = p + 1 (≡ 1, the identity)', toLe(P + 1n)],
  ['y = 2^255 - 1', toLe(2n ** 255n - 1n)],
];
/** R = identity, S = 0: satisfies [S]B = R + [k]A for any message whenever [k]A = 0. */
const TRIVIAL_SIG = concatBytes(hexToBytes(SMALL_ORDER[0]![1]), new Uint8Array(32));

t.test('sha256 and keccak256 known answers', async (t) => {
  t.equal(bytesToHex(sha256(utf8ToBytes('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  t.equal(bytesToHex(sha256(new Uint8Array(0))), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  t.equal(Buffer.from(sha256Latin1(utf8ToBytes('abc')), 'latin1').toString('hex'), bytesToHex(sha256(utf8ToBytes('abc'))), 'latin1 form');
  t.equal(bytesToHex(keccak256(new Uint8Array(0))), 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
  t.equal(sha256(utf8ToBytes('abc')).constructor, Uint8Array, 'a plain Uint8Array, not a Buffer');
});

t.test('RFC 8032 test 1: key, signature, and both verifiers', async (t) => {
  const sk = hexToBytes('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
  const pk = publicKeyFromSecret(sk);
  t.equal(bytesToHex(pk), 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
  const sig = sign(sk, new Uint8Array(0));
  t.equal(
    bytesToHex(sig),
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  );
  t.same(both(pk, new Uint8Array(0), sig), { native: true, noble: true });
});

t.test('property: valid signatures verify with both; any mutation fails with both', async () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ maxLength: 200 }),
      fc.nat(),
      fc.integer({ min: 0, max: 7 }),
      fc.constantFrom('signature', 'message', 'key', 'append', 'truncate'),
      (sk, msg, pos, bit, what) => {
        const pk = publicKeyFromSecret(sk);
        const sig = sign(sk, msg);
        const ok = both(pk, msg, sig);
        if (!ok.native || !ok.noble) return false;
        let r: { native: boolean; noble: boolean };
        if (what === 'signature') {
          const bad = Uint8Array.from(sig);
          bad[pos % 64]! ^= 1 << bit;
          r = both(pk, msg, bad);
        } else if (what === 'message') {
          if (msg.length === 0) return true;
          const bad = Uint8Array.from(msg);
          bad[pos % msg.length]! ^= 1 << bit;
          r = both(pk, bad, sig);
        } else if (what === 'key') {
          const bad = Uint8Array.from(pk);
          bad[pos % 32]! ^= 1 << bit;
          r = both(bad, msg, sig);
        } else if (what === 'append') {
          r = both(pk, concatBytes(msg, Uint8Array.of(bit)), sig);
        } else {
          if (msg.length === 0) return true;
          r = both(pk, msg.subarray(0, msg.length - 1), sig);
        }
        return !r.native && !r.noble;
      },
    ),
    { numRuns: 300 },
  );
});

t.test('wrong lengths are rejected by both, without throwing', async (t) => {
  agreeFalse(t, PK.subarray(0, 31), MSG, SIG, '31-byte key');
  agreeFalse(t, concatBytes(PK, Uint8Array.of(0)), MSG, SIG, '33-byte key');
  agreeFalse(t, new Uint8Array(0), MSG, SIG, 'empty key');
  agreeFalse(t, PK, MSG, SIG.subarray(0, 63), '63-byte signature');
  agreeFalse(t, PK, MSG, concatBytes(SIG, Uint8Array.of(0)), '65-byte signature');
  agreeFalse(t, PK, MSG, new Uint8Array(0), 'empty signature');
});

t.test('non-canonical S (S + L, S = L, high bits) is rejected by both', async (t) => {
  const S = le(SIG.subarray(32));
  t.ok(S < L, 'the signer produced a reduced S');
  const withS = (s: bigint): Uint8Array => concatBytes(SIG.subarray(0, 32), toLe(s));
  agreeFalse(t, PK, MSG, withS(S + L), 'S + L (same residue, malleated)');
  agreeFalse(t, PK, MSG, withS(S + 2n * L), 'S + 2L');
  agreeFalse(t, PK, MSG, withS(L), 'S = L');
  agreeFalse(t, PK, MSG, withS(2n ** 256n - 1n), 'S = 2^256 - 1');
  const highBit = Uint8Array.from(SIG);
  highBit[63]! |= 0x80;
  agreeFalse(t, PK, MSG, highBit, 'top bit of S set');
});

t.test('non-canonical R is rejected by both', async (t) => {
  // R' = R with y + p: the same point, a different (invalid) encoding, when y + p < 2^255.
  const rY = le(SIG.subarray(0, 32)) & ((1n << 255n) - 1n);
  const rSign = le(SIG.subarray(0, 32)) >> 255n;
  if (rY + P < 2n ** 255n) {
    agreeFalse(t, PK, MSG, concatBytes(toLe((rSign << 255n) | (rY + P)), SIG.subarray(32)), 'y_R + p');
  }
  agreeFalse(t, PK, MSG, concatBytes(toLe(P), SIG.subarray(32)), 'R with y = p');
  agreeFalse(t, PK, MSG, concatBytes(hexToBytes('02' + '00'.repeat(31)), SIG.subarray(32)), 'R not on the curve');
});

t.test('keys that are not points are rejected by both and by isValidPublicKey', async (t) => {
  const notOnCurve = hexToBytes('02' + '00'.repeat(31));
  t.notOk(isValidPublicKey(notOnCurve), 'y = 2 has no x');
  agreeFalse(t, notOnCurve, MSG, SIG, 'y = 2');
  agreeFalse(t, notOnCurve, MSG, TRIVIAL_SIG, 'y = 2, trivial signature');
  t.notOk(isValidPublicKey(PK.subarray(0, 31)), '31 bytes');
  t.notOk(isValidPublicKey(concatBytes(PK, Uint8Array.of(0))), '33 bytes');
  t.ok(isValidPublicKey(PK), 'a real key');
  for (const [name, key] of NON_CANONICAL_KEYS) t.notOk(isValidPublicKey(key), `non-canonical encoding: ${name}`);
});

// ---------------------------------------------------------------------------------------------
// The verification rule (docs/spec/encoding.md §Signatures): RFC 8032 cofactorless verification as
// OpenSSL does it, [S]B = R + [k]A, with keys that are canonically encoded and not of small order.
// Keys with a small-order component (mixed order) are accepted: only their owner can make one, and
// every node applies the same cofactorless equation to them. noble, the reference in these tests,
// rejects R with a torsion component to match; it checks the cofactored equation otherwise.

t.test('small-order and non-canonical keys: the trivial signature (R = identity, S = 0) is rejected by both', async (t) => {
  const cases: Array<[string, Uint8Array]> = [...SMALL_ORDER.map(([n, h]): [string, Uint8Array] => [n, hexToBytes(h)]), ...NON_CANONICAL_KEYS];
  for (const [name, key] of cases) {
    for (const msg of [MSG, utf8ToBytes('any other message')]) {
      const r = both(key, msg, TRIVIAL_SIG);
      t.equal(r.noble, false, `noble: ${name}`);
      t.equal(r.native, false, `native: ${name}`);
    }
  }
});

t.test('small-order keys with R a small-order point and S = 0: rejected by both', async (t) => {
  for (const [keyName, keyHex] of SMALL_ORDER) {
    for (const [rName, rHex] of SMALL_ORDER) {
      const r = both(hexToBytes(keyHex), MSG, concatBytes(hexToBytes(rHex), new Uint8Array(32)));
      t.equal(r.noble, false, `noble: key ${keyName}, R ${rName}`);
      t.equal(r.native, false, `native: key ${keyName}, R ${rName}`);
    }
  }
});

t.test('isValidPublicKey rejects small-order points (genesis uses it for validator keys)', async (t) => {
  for (const [name, hex] of SMALL_ORDER) t.notOk(isValidPublicKey(hexToBytes(hex)), name);
});

/** A signature by the key 0x01…01 with a torsion component T8 added to R, or to the key. */
function torsionCases(): Array<{ kind: 'R' | 'key'; name: string; key: Uint8Array; msg: Uint8Array; sig: Uint8Array }> {
  const { scalar: a, point: A0 } = ed25519.utils.getExtendedPublicKey(SK);
  const T8 = Point.fromBytes(hexToBytes(SMALL_ORDER[4]![1]));
  const out: Array<{ kind: 'R' | 'key'; name: string; key: Uint8Array; msg: Uint8Array; sig: Uint8Array }> = [];
  for (let i = 0; i < 8; i++) {
    const msg = Uint8Array.of(i);
    const r = 1_000_003n + BigInt(i);
    // R + T8 with a prime-order key: only the signer can make these.
    const R1 = Point.BASE.multiply(r).add(T8).toBytes();
    const k1 = le(sha512(concatBytes(R1, A0.toBytes(), msg))) % L;
    out.push({ kind: 'R', name: `R with a torsion component, message ${i}`, key: A0.toBytes(), msg, sig: concatBytes(R1, toLe((r + k1 * a) % L)) });
    // Mixed-order key A0 + T8, signed with A0's scalar.
    const A = A0.add(T8).toBytes();
    const R2 = Point.BASE.multiply(r).toBytes();
    const k2 = le(sha512(concatBytes(R2, A, msg))) % L;
    out.push({ kind: 'key', name: `mixed-order key, message ${i} (k mod 8 = ${k2 % 8n})`, key: A, msg, sig: concatBytes(R2, toLe((r + k2 * a) % L)) });
  }
  return out;
}

/** The cofactorless equation [S]B = R + [k]A, computed with noble's points. */
function cofactorless(key: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  const A = Point.fromBytes(key);
  const R = Point.fromBytes(sig.subarray(0, 32));
  const S = le(sig.subarray(32));
  const k = le(sha512(concatBytes(sig.subarray(0, 32), key, msg))) % L;
  return Point.BASE.multiply(S).equals(R.add(A.multiply(k)));
}

t.test('torsion components: R with one is rejected by both; mixed-order keys follow the cofactorless rule', async (t) => {
  for (const c of torsionCases()) {
    const r = both(c.key, c.msg, c.sig);
    if (c.kind === 'R') {
      t.equal(r.native, false, `native: ${c.name}`);
      t.equal(r.noble, false, `noble: ${c.name}`);
    } else {
      t.equal(r.native, cofactorless(c.key, c.msg, c.sig), `native is cofactorless: ${c.name}`);
    }
  }
});

t.test('signing bytes: ["tagger/<type>/v1", chainId, payload] as MessagePack', async (t) => {
  const payload = Uint8Array.of(1, 2, 3);
  t.equal(bytesToHex(signingBytes('tx', 'c-1', payload)), mp.arr(mp.str('tagger/tx/v1'), mp.str('c-1'), mp.bin('010203')));
  t.equal(bytesToHex(signingBytes('vote', 'c-1', payload)), mp.arr(mp.str('tagger/vote/v1'), mp.str('c-1'), mp.bin('010203')));
  t.equal(bytesToHex(signingBytes('proposal', 'c-1', payload)), mp.arr(mp.str('tagger/proposal/v1'), mp.str('c-1'), mp.bin('010203')));
});

t.test('a signature binds its chain id and its message type', async (t) => {
  const payload = utf8ToBytes('payload');
  const txSig = sign(SK, signingBytes('tx', 'chain-a', payload));
  t.ok(verify(PK, signingBytes('tx', 'chain-a', payload), txSig), 'valid where it was made');
  t.notOk(verify(PK, signingBytes('tx', 'chain-b', payload), txSig), 'not on another chain');
  t.notOk(verify(PK, signingBytes('vote', 'chain-a', payload), txSig), 'a tx signature is not a vote signature');
  t.notOk(verify(PK, signingBytes('proposal', 'chain-a', payload), txSig), 'nor a proposal signature');
  t.notOk(verify(PK, payload, txSig), 'nor a signature of the bare payload');
  fc.assert(
    fc.property(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), fc.uint8Array({ maxLength: 40 }), (a, b, p) => {
      const x = bytesToHex(signingBytes('tx', a, p));
      return (a === b) === (x === bytesToHex(signingBytes('tx', b, p))) && x !== bytesToHex(signingBytes('vote', a, p));
    }),
    { numRuns: 500 },
  );
});

t.test('the key cache does not change answers', async (t) => {
  // Same key, many messages, valid and invalid interleaved: a cached key must not remember a verdict.
  for (let i = 0; i < 20; i++) {
    const msg = Uint8Array.of(i);
    const sig = sign(SK, msg);
    t.equal(verify(PK, msg, sig), true);
    t.equal(verify(PK, Uint8Array.of(i + 100), sig), false);
  }
  const bad = hexToBytes('02' + '00'.repeat(31));
  t.equal(verify(bad, MSG, SIG), false, 'an unimportable key, first time');
  t.equal(verify(bad, MSG, SIG), false, 'and from the cache');
});
