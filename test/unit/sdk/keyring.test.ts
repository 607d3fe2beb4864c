import t from 'tap';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { addressFromPublicKey, addressToString, bytesToHex, isChainError, publicKeyFromSecret, randomSecretKey } from '../../../lib/index.ts';
import { Keyring, readPassword, type KeyFile, type KeyringError } from '../../../sdk/keyring.ts';

const N = 2 ** 10;
const PW = 'correct horse battery staple';

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e: unknown) {
    return isChainError(e) ? e.code : String(e);
  }
}

function keyring(t: { testdir: () => string }): Keyring {
  return new Keyring({ dir: join(t.testdir(), 'keyring'), scryptN: N });
}

async function readKeyFile(ring: Keyring, name: string): Promise<KeyFile> {
  return JSON.parse(await readFile(ring.pathOf(name), 'utf8')) as KeyFile;
}

async function writeKeyFile(ring: Keyring, name: string, file: unknown): Promise<void> {
  await writeFile(ring.pathOf(name), JSON.stringify(file, null, 2));
}

/** Flips the last hex digit of a hex string. */
function flip(hex: string): string {
  const last = hex.at(-1) === '0' ? '1' : '0';
  return hex.slice(0, -1) + last;
}

t.test('add then unlock gives back a key whose public key matches', async (t) => {
  const ring = keyring(t);
  const info = await ring.add('alice', PW);
  const secret = await ring.unlock('alice', PW);
  t.equal(secret.length, 32);
  const pk = publicKeyFromSecret(secret);
  t.equal(info.publicKey, bytesToHex(pk));
  t.equal(info.address, addressToString(addressFromPublicKey(pk)));
  t.match(info.address, /^tag1/);
  t.same(await ring.show('alice'), info);
  t.same(info, { name: 'alice', address: info.address, publicKey: info.publicKey }, 'KeyInfo holds nothing secret');
});

t.test('the file has the documented format', async (t) => {
  const ring = keyring(t);
  const info = await ring.add('alice', PW);
  const file = await readKeyFile(ring, 'alice');
  t.same(Object.keys(file), ['version', 'name', 'address', 'publicKey', 'crypto']);
  t.equal(file.version, 1);
  t.equal(file.name, 'alice');
  t.equal(file.address, info.address);
  t.equal(file.publicKey, info.publicKey);
  t.same(Object.keys(file.crypto), ['kdf', 'kdfParams', 'cipher', 'nonce', 'ciphertext', 'tag']);
  t.equal(file.crypto.kdf, 'scrypt');
  t.equal(file.crypto.cipher, 'aes-256-gcm');
  t.same(Object.keys(file.crypto.kdfParams), ['N', 'r', 'p', 'dkLen', 'salt']);
  t.match(file.crypto.kdfParams, { N, r: 8, p: 1, dkLen: 32 });
  t.match(file.crypto.kdfParams.salt, /^[0-9a-f]{64}$/);
  t.match(file.crypto.nonce, /^[0-9a-f]{24}$/);
  t.match(file.crypto.ciphertext, /^[0-9a-f]{64}$/);
  t.match(file.crypto.tag, /^[0-9a-f]{32}$/);
  const secret = await ring.unlock('alice', PW);
  t.not(file.crypto.ciphertext, bytesToHex(secret), 'the secret is not stored in the clear');
  t.notOk(JSON.stringify(file).includes(bytesToHex(secret)));
  t.equal(new Keyring({ dir: t.testdir() }).scryptN, 2 ** 17, 'the default N is 2^17');
});

t.test('each key gets its own salt and nonce', async (t) => {
  const ring = keyring(t);
  const secret = randomSecretKey();
  await ring.add('a', PW, secret);
  await ring.add('b', PW, secret);
  const [a, b] = [await readKeyFile(ring, 'a'), await readKeyFile(ring, 'b')];
  t.not(a.crypto.kdfParams.salt, b.crypto.kdfParams.salt);
  t.not(a.crypto.nonce, b.crypto.nonce);
  t.not(a.crypto.ciphertext, b.crypto.ciphertext);
});

t.test('add with a given key and import from hex store that key', async (t) => {
  const ring = keyring(t);
  const secret = randomSecretKey();
  const copy = Uint8Array.from(secret);
  const added = await ring.add('given', PW, secret);
  t.same(secret, copy, "the caller's key is not wiped");
  t.same(await ring.unlock('given', PW), secret);
  const imported = await ring.import('imported', 'other', '0x' + bytesToHex(secret).toUpperCase());
  t.equal(imported.address, added.address);
  t.same(await ring.unlock('imported', 'other'), secret);
  t.equal(await code(ring.import('short', PW, 'abcd')), 'KEYRING_BAD_KEY');
  t.equal(await code(ring.import('nothex', PW, 'zz'.repeat(32))), 'KEYRING_BAD_KEY');
  t.equal(await code(ring.add('long', PW, new Uint8Array(33))), 'KEYRING_BAD_KEY');
  t.equal(await code(ring.add('empty', '')), 'KEYRING_BAD_PASSWORD', 'an empty password is refused');
});

t.test('an existing name is refused and left untouched', async (t) => {
  const ring = keyring(t);
  await ring.add('alice', PW);
  const before = await readFile(ring.pathOf('alice'), 'utf8');
  t.equal(await code(ring.add('alice', 'another')), 'KEYRING_EXISTS');
  t.equal(await code(ring.import('alice', 'another', bytesToHex(randomSecretKey()))), 'KEYRING_EXISTS');
  t.equal(await readFile(ring.pathOf('alice'), 'utf8'), before);
  t.same(await readdir(ring.dir), ['alice.json'], 'no temporary file is left behind');

  const results = await Promise.allSettled([ring.add('race', PW), ring.add('race', PW), ring.add('race', PW)]);
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'concurrent adds: exactly one wins');
  for (const r of results) if (r.status === 'rejected') t.equal((r.reason as KeyringError).code, 'KEYRING_EXISTS');
});

t.test('a wrong password fails with KEYRING_BAD_PASSWORD', async (t) => {
  const ring = keyring(t);
  await ring.add('alice', PW);
  t.equal(await code(ring.unlock('alice', PW + 'x')), 'KEYRING_BAD_PASSWORD');
  t.equal(await code(ring.unlock('alice', '')), 'KEYRING_BAD_PASSWORD');
  t.equal(await code(ring.unlock('nobody', PW)), 'KEYRING_NOT_FOUND');
});

t.test('passwords are NFKC-normalised: composed and decomposed accents are one password', async (t) => {
  const ring = keyring(t);
  await ring.add('accent', 'caf\u00e9');
  t.equal(await code(ring.unlock('accent', 'cafe\u0301')), 'ok');
});

t.test('a tampered file is refused, never unlocked to a wrong key', async (t) => {
  const ring = keyring(t);
  await ring.add('alice', PW);
  const bob = await ring.add('bob', PW);
  const original = await readKeyFile(ring, 'alice');
  const tamper = async (label: string, edit: (f: KeyFile) => void, expected: string): Promise<void> => {
    const f = structuredClone(original);
    edit(f);
    await writeKeyFile(ring, 'alice', f);
    t.equal(await code(ring.unlock('alice', PW)), expected, label);
  };
  await tamper('ciphertext', (f) => (f.crypto.ciphertext = flip(f.crypto.ciphertext)), 'KEYRING_BAD_PASSWORD');
  await tamper('tag', (f) => (f.crypto.tag = flip(f.crypto.tag)), 'KEYRING_BAD_PASSWORD');
  await tamper('nonce', (f) => (f.crypto.nonce = flip(f.crypto.nonce)), 'KEYRING_BAD_PASSWORD');
  await tamper('salt', (f) => (f.crypto.kdfParams.salt = flip(f.crypto.kdfParams.salt)), 'KEYRING_BAD_PASSWORD');
  await tamper('N', (f) => (f.crypto.kdfParams.N = 2 * N), 'KEYRING_BAD_PASSWORD');
  await tamper(
    "bob's address and public key swapped into alice's header",
    (f) => {
      f.address = bob.address;
      f.publicKey = bob.publicKey;
    },
    'KEYRING_BAD_PASSWORD',
  );
  await tamper('address alone swapped', (f) => (f.address = bob.address), 'KEYRING_CORRUPT');
  await tamper('public key alone swapped', (f) => (f.publicKey = bob.publicKey), 'KEYRING_CORRUPT');
  await tamper('truncated ciphertext', (f) => (f.crypto.ciphertext = f.crypto.ciphertext.slice(0, 62)), 'KEYRING_CORRUPT');
  await tamper('truncated tag', (f) => (f.crypto.tag = f.crypto.tag.slice(0, 16)), 'KEYRING_CORRUPT');
  await tamper('N below 2^10', (f) => (f.crypto.kdfParams.N = 2 ** 9), 'KEYRING_WEAK_PARAMS');
  await tamper('N not a power of two', (f) => (f.crypto.kdfParams.N = 1000), 'KEYRING_CORRUPT');
  await tamper('N too large to compute', (f) => (f.crypto.kdfParams.N = 2 ** 24), 'KEYRING_CORRUPT');
  await tamper('unknown version', (f) => ((f as { version: number }).version = 2), 'KEYRING_CORRUPT');
  await tamper('other cipher', (f) => ((f.crypto as { cipher: string }).cipher = 'aes-128-gcm'), 'KEYRING_CORRUPT');

  // Header still names alice, but the file is renamed to bob's name (bob removed first).
  await writeKeyFile(ring, 'alice', original);
  await ring.remove('bob');
  await rename(ring.pathOf('alice'), ring.pathOf('bob'));
  t.equal(await code(ring.unlock('bob', PW)), 'KEYRING_CORRUPT', 'a renamed file');
  t.equal(await code(ring.show('bob')), 'KEYRING_CORRUPT');

  await writeFile(ring.pathOf('junk'), 'not json');
  t.equal(await code(ring.unlock('junk', PW)), 'KEYRING_CORRUPT');
});

t.test('files are mode 0600 in a 0700 directory', async (t) => {
  const ring = keyring(t);
  await ring.add('alice', PW);
  await ring.import('bob', PW, bytesToHex(randomSecretKey()));
  t.equal((await stat(ring.pathOf('alice'))).mode & 0o777, 0o600);
  t.equal((await stat(ring.pathOf('bob'))).mode & 0o777, 0o600);
  t.equal((await stat(ring.dir)).mode & 0o777, 0o700);
});

t.test('list is sorted by name and reports unreadable files instead of failing', async (t) => {
  const ring = keyring(t);
  t.same(await ring.list(), [], 'no directory yet: empty');
  const c = await ring.add('carol', PW);
  const a = await ring.add('Alice', PW);
  const b = await ring.add('bob', PW);
  const z = await ring.add('_zed', PW);
  await writeFile(ring.pathOf('broken'), '{');
  await writeFile(join(ring.dir, 'notes.txt'), 'ignored');
  await writeFile(join(ring.dir, '.hidden.json'), 'ignored');
  const list = await ring.list();
  t.same(list.map((k) => k.name), ['Alice', '_zed', 'bob', 'broken', 'carol'], 'code-point order');
  t.same(list[0], a);
  t.same(list[1], z);
  t.same(list[2], b);
  t.match(list[3], { name: 'broken', code: 'KEYRING_CORRUPT', error: /not JSON/ });
  t.same(list[4], c);
});

t.test('bad names are refused everywhere', async (t) => {
  const ring = keyring(t);
  const bad = ['', '.', '..', '../x', 'a/b', 'a\\b', '/etc/passwd', '.hidden', 'a b', 'ñ', 'a\0b', 'x'.repeat(65), 'a:b'];
  for (const name of bad) {
    t.equal(await code(ring.add(name, PW)), 'KEYRING_BAD_NAME', `add ${JSON.stringify(name)}`);
    t.equal(await code(ring.show(name)), 'KEYRING_BAD_NAME', `show ${JSON.stringify(name)}`);
    t.equal(await code(ring.unlock(name, PW)), 'KEYRING_BAD_NAME', `unlock ${JSON.stringify(name)}`);
    t.equal(await code(ring.remove(name)), 'KEYRING_BAD_NAME', `remove ${JSON.stringify(name)}`);
  }
  for (const name of ['a', 'x'.repeat(64), 'val-0.key_A', 'a..b']) {
    t.equal(await code(ring.add(name, PW)), 'ok', `accepts ${name}`);
  }
});

t.test('remove deletes the key', async (t) => {
  const ring = keyring(t);
  await ring.add('alice', PW);
  await ring.remove('alice');
  t.equal(await code(ring.show('alice')), 'KEYRING_NOT_FOUND');
  t.equal(await code(ring.remove('alice')), 'KEYRING_NOT_FOUND');
  t.same(await ring.list(), []);
});

t.test('weak scrypt parameters are refused when writing', async (t) => {
  t.throws(() => new Keyring({ dir: t.testdir(), scryptN: 2 ** 9 }), { code: 'KEYRING_WEAK_PARAMS' });
  t.throws(() => new Keyring({ dir: t.testdir(), scryptN: 1000 }), { code: 'KEYRING_WEAK_PARAMS' });
  t.throws(() => new Keyring({ dir: t.testdir(), scryptN: 2 ** 21 }), { code: 'KEYRING_WEAK_PARAMS' });
});

t.test('readPassword: file, then env, else a clear error', async (t) => {
  const dir = t.testdir({ pw: 'from-file\nsecond line\n', crlf: 'windows\r\n', empty: '\nx\n' });
  const env = { TAGGER_PASSWORD: 'from-env' };
  const notTty = new PassThrough() as unknown as NodeJS.ReadStream;
  t.equal(await readPassword({ passwordFile: join(dir, 'pw'), env }), 'from-file', 'the first line; the file wins over env');
  t.equal(await readPassword({ passwordFile: join(dir, 'crlf'), env: {} }), 'windows');
  t.equal(await readPassword({ env }), 'from-env');
  t.equal(await code(readPassword({ passwordFile: join(dir, 'empty'), env })), 'KEYRING_NO_PASSWORD');
  t.equal(await code(readPassword({ passwordFile: join(dir, 'missing'), env })), 'KEYRING_NO_PASSWORD');
  await t.rejects(readPassword({ env: {}, input: notTty }), { code: 'KEYRING_NO_PASSWORD', message: /--password-file.*TAGGER_PASSWORD/ });
  await t.rejects(readPassword({ env: { TAGGER_PASSWORD: '' }, input: notTty }), { code: 'KEYRING_NO_PASSWORD' }, 'empty env is unset');
});

/** A fake terminal: a stream with isTTY and setRawMode that records what was done to it. */
function fakeTty(): { input: NodeJS.ReadStream; output: PassThrough; rawModes: boolean[]; shown: () => string } {
  const stream = new PassThrough();
  const rawModes: boolean[] = [];
  const tty = Object.assign(stream, {
    isTTY: true,
    isRaw: false,
    setRawMode(mode: boolean) {
      rawModes.push(mode);
      tty.isRaw = mode;
      return tty;
    },
  });
  const output = new PassThrough();
  let text = '';
  output.on('data', (d: Buffer) => (text += d.toString()));
  return { input: tty as unknown as NodeJS.ReadStream, output, rawModes, shown: () => text };
}

t.test('readPassword prompts on a terminal with echo off', async (t) => {
  const tty = fakeTty();
  const p = readPassword({ env: {}, input: tty.input, output: tty.output, prompt: 'Password for alice: ' });
  tty.input.push('secX');
  tty.input.push('\u007fret\r');
  t.equal(await p, 'secret', 'backspace edits');
  t.same(tty.rawModes, [true, false], 'raw mode on, then restored');
  t.equal(tty.shown(), 'Password for alice: \n', 'nothing echoed');

  const confirm = fakeTty();
  const q = readPassword({ env: {}, input: confirm.input, output: confirm.output, confirm: true });
  confirm.input.push('one\r');
  setImmediate(() => confirm.input.push('two\r'));
  t.equal(await code(q), 'KEYRING_PASSWORD_MISMATCH');

  const ok = fakeTty();
  const r = readPassword({ env: {}, input: ok.input, output: ok.output, confirm: true });
  ok.input.push('same\r');
  setImmediate(() => ok.input.push('same\n'));
  t.equal(await r, 'same');

  const cancel = fakeTty();
  const s = readPassword({ env: {}, input: cancel.input, output: cancel.output });
  cancel.input.push('abc\u0003');
  t.equal(await code(s), 'KEYRING_NO_PASSWORD', 'Ctrl-C cancels');
  t.same(cancel.rawModes, [true, false]);
});
