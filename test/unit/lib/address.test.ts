/** Addresses (lib/address.ts): SHA-256(pubkey)[0..20] as bech32m with hrp "tag". */
import t from 'tap';
import fc from 'fast-check';
import { bech32, bech32m } from '@scure/base';
import {
  ADDRESS_BYTES,
  addressFromPublicKey,
  addressFromString,
  addressToString,
  bytesToHex,
  hexToBytes,
  sha256,
} from '../../../lib/index.ts';
import { codeOf, errorOf, fixedKey } from '../../utils/factories.ts';

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const KEY1 = fixedKey(1);

t.test('derivation: the first 20 bytes of SHA-256 of the public key', async (t) => {
  const address = addressFromPublicKey(KEY1.publicKey);
  t.equal(address.length, ADDRESS_BYTES);
  t.equal(bytesToHex(address), bytesToHex(sha256(KEY1.publicKey)).slice(0, 40));
  t.equal(addressToString(address), 'tag1x36slx9at870e9rd53d2405n80s4ff94t09pvk', 'vector: secret key 0x01…01');
});

t.test('format: "tag1" + 32 data characters + 6 checksum characters, lower case', async (t) => {
  const s = addressToString(KEY1.address);
  t.match(s, /^tag1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{38}$/);
  t.equal(s.length, 42);
});

t.test('property: round trip', async () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), (a) => bytesToHex(addressFromString(addressToString(a))) === bytesToHex(a)),
    { numRuns: 1000 },
  );
});

t.test('property: any single-character change is rejected', async () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 20, maxLength: 20 }),
      fc.nat(),
      fc.constantFrom(...(CHARSET + 'TAGbio1-_ QPZ').split('')),
      (a, pos, c) => {
        const s = addressToString(a);
        const i = pos % s.length;
        if (s[i] === c) return true;
        const changed = s.slice(0, i) + c + s.slice(i + 1);
        return errorOf(() => addressFromString(changed))?.code === 'ADDRESS_INVALID';
      },
    ),
    { numRuns: 3000 },
  );
});

t.test('property: swapping two adjacent different characters is rejected', async () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.integer({ min: 4, max: 40 }), (a, i) => {
      const s = addressToString(a);
      if (s[i] === s[i + 1]) return true;
      const swapped = s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2);
      return codeOf(() => addressFromString(swapped)) === 'ADDRESS_INVALID';
    }),
    { numRuns: 1000 },
  );
});

t.test('wrong prefix, wrong length, wrong checksum variant', async (t) => {
  const words = bech32m.toWords(KEY1.address);
  const prefixErr = errorOf(() => addressFromString(bech32m.encode('tog', words)));
  t.match(prefixErr, { code: 'ADDRESS_INVALID', reason: /prefix/ }, 'hrp "tog"');
  t.equal(codeOf(() => addressFromString(bech32m.encode('ta', words))), 'ADDRESS_INVALID', 'hrp "ta"');
  t.equal(codeOf(() => addressFromString(bech32m.encode('tagg', words))), 'ADDRESS_INVALID', 'hrp "tagg"');
  for (const n of [0, 19, 21, 32]) {
    const err = errorOf(() => addressFromString(bech32m.encode('tag', bech32m.toWords(new Uint8Array(n).fill(7)))));
    t.match(err, { code: 'ADDRESS_INVALID', reason: /20 bytes/ }, `${n} bytes`);
  }
  t.equal(codeOf(() => addressFromString(bech32.encode('tag', words))), 'ADDRESS_INVALID', 'bech32 (BIP-173) checksum, not bech32m');
});

t.test('case: mixed case is rejected; all upper case is the same address (BIP-350)', async (t) => {
  const s = addressToString(KEY1.address);
  t.equal(codeOf(() => addressFromString('TAG1' + s.slice(4))), 'ADDRESS_INVALID', 'upper-case hrp only');
  for (let i = 4; i < s.length; i++) {
    if (!/[a-z]/.test(s[i]!)) continue;
    const mixed = s.slice(0, i) + s[i]!.toUpperCase() + s.slice(i + 1);
    t.equal(codeOf(() => addressFromString(mixed)), 'ADDRESS_INVALID', `upper-case character at ${i}`);
  }
  t.equal(bytesToHex(addressFromString(s.toUpperCase())), bytesToHex(KEY1.address), 'all upper case');
});

t.test('garbage', async (t) => {
  for (const s of ['', 'tag1', 'tag', '1', 'x36slx9at870e9rd53d2405n80s4ff94t09pvk', 'tag1' + 'q'.repeat(100), ' tag1x36slx9at870e9rd53d2405n80s4ff94t09pvk', '0x34750f98bd59fcfc946da45aaabe933be154a4b5']) {
    t.equal(codeOf(() => addressFromString(s)), 'ADDRESS_INVALID', JSON.stringify(s.slice(0, 30)));
  }
  const long = 'tag1' + 'q'.repeat(500);
  const err = errorOf(() => addressFromString(long));
  t.equal((err?.input as string).length, 100, 'the echoed input is capped');
});

t.test('an address is not checked against the curve: any 32 bytes derive one', async (t) => {
  t.equal(addressToString(addressFromPublicKey(new Uint8Array(32))), 'tag1ve584t0cv27hwmy0cx9ca8uwyqyfw9y9tdtaj9');
  t.equal(bytesToHex(addressFromPublicKey(hexToBytes('ff'.repeat(32)))), 'af9613760f72635fbdb44a5a0a63c39f12af30f9');
});
