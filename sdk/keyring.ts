/**
 * The encrypted key store for user and validator ed25519 keys: one JSON file per key,
 * `<dir>/NAME.json` (docs/keys.md). The secret key is sealed with AES-256-GCM (Node's OpenSSL) under
 * a key derived from the password by scrypt (@noble/hashes); the file's header (name, address,
 * public key) is the GCM additional data, so a file whose header was edited or swapped does not
 * unlock. Nothing here hand-rolls cryptography: it only composes those two primitives.
 *
 * Also `readPassword`, which finds the password for a CLI command: a password file, then
 * `TAGGER_PASSWORD`, then a prompt on the terminal with echo off.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import {
  ChainError,
  SECRET_KEY_BYTES,
  addressFromPublicKey,
  addressToString,
  bytesToHex,
  equalBytes,
  hexToBytes,
  publicKeyFromSecret,
  randomSecretKey,
  utf8ToBytes,
} from '../lib/index.ts';

export const KEY_FILE_VERSION = 1;
/** scrypt cost for new keys: 2^17 (128 MiB of memory with r = 8, about a second per unlock). */
export const DEFAULT_SCRYPT_N = 2 ** 17;
/** The lowest N written or read: below this a file is refused as too weak (tests use exactly this). */
export const MIN_SCRYPT_N = 2 ** 10;
/** The highest N read: a file asking for more is refused instead of exhausting memory. */
export const MAX_SCRYPT_N = 2 ** 20;
export const SCRYPT_R = 8;
export const SCRYPT_P = 1;
const MAX_SCRYPT_R = 32;
const MAX_SCRYPT_P = 16;
/** scrypt's working memory, 128·r·N bytes, is capped at 1 GiB (noble's own default limit). */
const MAX_SCRYPT_MEMORY = 2 ** 30;
const DK_LEN = 32;
const SALT_BYTES = 32;
const MIN_SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const MAX_FILE_BYTES = 64 * 1024;
const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;
const FILE_SUFFIX = '.json';

export type KeyringErrorCode =
  | 'KEYRING_EXISTS'
  | 'KEYRING_NOT_FOUND'
  | 'KEYRING_BAD_PASSWORD'
  | 'KEYRING_BAD_NAME'
  | 'KEYRING_BAD_KEY'
  | 'KEYRING_CORRUPT'
  | 'KEYRING_WEAK_PARAMS'
  | 'KEYRING_NO_PASSWORD'
  | 'KEYRING_PASSWORD_MISMATCH';
export type KeyringErrorType = { code: KeyringErrorCode; name?: string; path?: string };
export class KeyringError extends ChainError<KeyringErrorType> {}

/** What may be shown about a key without its password. */
export type KeyInfo = { name: string; address: string; publicKey: string };
/** A file in the keyring that `list` could not read; the other keys are still listed. */
export type UnreadableKey = { name: string; error: string; code: KeyringErrorCode };
export type KeyListEntry = KeyInfo | UnreadableKey;

/** The on-disk format, version 1 (docs/keys.md). */
export type KeyFile = {
  version: 1;
  name: string;
  address: string;
  publicKey: string;
  crypto: {
    kdf: 'scrypt';
    kdfParams: { N: number; r: number; p: number; dkLen: 32; salt: string };
    cipher: 'aes-256-gcm';
    nonce: string;
    ciphertext: string;
    tag: string;
  };
};

export type KeyringOpts = {
  /** The keyring directory, normally `<home>/keyring`. Created (mode 0700) on the first write. */
  dir: string;
  /** scrypt N for keys written from now on (a power of two, 2^10..2^20); default 2^17. Reading uses each file's own N. */
  scryptN?: number;
};

export class Keyring {
  readonly dir: string;
  readonly scryptN: number;

  constructor(opts: KeyringOpts) {
    const n = opts.scryptN ?? DEFAULT_SCRYPT_N;
    if (!isPowerOfTwo(n) || n < MIN_SCRYPT_N || n > MAX_SCRYPT_N) {
      throw new KeyringError(
        { code: 'KEYRING_WEAK_PARAMS' },
        `scryptN must be a power of two from 2^10 to 2^20, got ${n}`,
      );
    }
    this.dir = opts.dir;
    this.scryptN = n;
  }

  /** Stores `secretKey` (32 bytes) under `name`, or a freshly generated key if none is given. */
  async add(name: string, password: string, secretKey?: Uint8Array): Promise<KeyInfo> {
    checkName(name);
    checkNewPassword(name, password);
    const secret = secretKey ?? randomSecretKey();
    if (secret.length !== SECRET_KEY_BYTES) {
      throw new KeyringError({ code: 'KEYRING_BAD_KEY', name }, `a secret key is ${SECRET_KEY_BYTES} bytes, got ${secret.length}`);
    }
    let file: KeyFile;
    try {
      file = await seal(name, password, secret, this.scryptN);
    } finally {
      if (secretKey === undefined) secret.fill(0);
    }
    await this.writeNew(name, JSON.stringify(file, null, 2) + '\n');
    return infoOf(file);
  }

  /** Stores an existing secret key given as 64 hex characters (an optional `0x` prefix is allowed). */
  async import(name: string, password: string, secretKeyHex: string): Promise<KeyInfo> {
    checkName(name);
    let secret: Uint8Array;
    try {
      secret = hexToBytes(secretKeyHex.trim());
    } catch {
      throw new KeyringError({ code: 'KEYRING_BAD_KEY', name }, 'the secret key must be hex');
    }
    if (secret.length !== SECRET_KEY_BYTES) {
      throw new KeyringError({ code: 'KEYRING_BAD_KEY', name }, `a secret key is ${SECRET_KEY_BYTES} bytes (64 hex characters), got ${secret.length}`);
    }
    try {
      return await this.add(name, password, secret);
    } finally {
      secret.fill(0);
    }
  }

  /** Every key, sorted by name. A file that cannot be read is listed with an `error` instead of failing the list. */
  async list(): Promise<KeyListEntry[]> {
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch (e: unknown) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw e;
    }
    const names = entries
      .filter((f) => f.endsWith(FILE_SUFFIX))
      .map((f) => f.slice(0, -FILE_SUFFIX.length))
      .filter(isValidName)
      .sort(compareNames);
    const out: KeyListEntry[] = [];
    for (const name of names) {
      try {
        out.push(infoOf(await this.load(name)));
      } catch (e: unknown) {
        if (!(e instanceof KeyringError)) throw e;
        if (e.code === 'KEYRING_NOT_FOUND') continue; // removed while listing
        out.push({ name, error: e.message, code: e.code });
      }
    }
    return out;
  }

  /** The key's name, address and public key. Needs no password, so it is not authenticated: `unlock` is. */
  async show(name: string): Promise<KeyInfo> {
    checkName(name);
    return infoOf(await this.load(name));
  }

  /** The secret key. A wrong password and a file edited in any way both fail with KEYRING_BAD_PASSWORD. */
  async unlock(name: string, password: string): Promise<Uint8Array> {
    checkName(name);
    const file = await this.load(name);
    return unseal(file, password, this.pathOf(name));
  }

  /** Deletes the key file. There is no undo. */
  async remove(name: string): Promise<void> {
    checkName(name);
    try {
      await unlink(this.pathOf(name));
    } catch (e: unknown) {
      if (errnoCode(e) === 'ENOENT') throw notFound(name, this.pathOf(name));
      throw e;
    }
    await syncDir(this.dir);
  }

  pathOf(name: string): string {
    return join(this.dir, name + FILE_SUFFIX);
  }

  private async load(name: string): Promise<KeyFile> {
    const path = this.pathOf(name);
    let text: string;
    try {
      const handle = await open(path, 'r');
      try {
        const { size } = await handle.stat();
        if (size > MAX_FILE_BYTES) throw corrupt(name, path, `the file is ${size} bytes, larger than any key file`);
        text = await handle.readFile('utf8');
      } finally {
        await handle.close();
      }
    } catch (e: unknown) {
      if (e instanceof KeyringError) throw e;
      if (errnoCode(e) === 'ENOENT') throw notFound(name, path);
      if (errnoCode(e) === 'EISDIR') throw corrupt(name, path, 'not a file');
      throw e;
    }
    return parseKeyFile(text, name, path);
  }

  /**
   * Writes a new key file atomically and never over an existing one: the content goes to a temporary
   * file (mode 0600) that is fsynced, then hard-linked to its final name, which fails if the name
   * exists; then the directory is fsynced. A crash leaves either no key or the whole key.
   */
  private async writeNew(name: string, content: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
    const path = this.pathOf(name);
    const tmp = join(this.dir, `.${name}.${randomBytes(8).toString('hex')}.tmp`);
    const handle = await open(tmp, 'wx', 0o600);
    try {
      try {
        await handle.chmod(0o600); // whatever the umask did
        await handle.writeFile(content);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await linkNoClobber(tmp, path, name);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    await syncDir(this.dir);
  }
}

/** The password file's first line, else `TAGGER_PASSWORD`, else a prompt on the terminal (echo off). */
export type ReadPasswordOpts = {
  passwordFile?: string;
  /** Defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Shown before the interactive prompt; default `Password: `. */
  prompt?: string;
  /** Interactive only: ask twice and refuse a mismatch (for a new key). */
  confirm?: boolean;
  /** The terminal; defaults to `process.stdin` / `process.stderr` (tests pass fakes). */
  input?: NodeJS.ReadStream;
  output?: NodeJS.WritableStream;
};

const NO_PASSWORD_HELP = 'pass --password-file FILE (its first line is the password), set TAGGER_PASSWORD, or run in a terminal to be prompted';

export async function readPassword(opts: ReadPasswordOpts = {}): Promise<string> {
  if (opts.passwordFile !== undefined) {
    let text: string;
    try {
      text = await readFile(opts.passwordFile, 'utf8');
    } catch (e: unknown) {
      throw new KeyringError(
        { code: 'KEYRING_NO_PASSWORD', path: opts.passwordFile },
        `cannot read the password file ${opts.passwordFile}: ${errnoCode(e) ?? String(e)}`,
      );
    }
    const first = text.split(/\r?\n/, 1)[0] ?? '';
    if (first === '') {
      throw new KeyringError({ code: 'KEYRING_NO_PASSWORD', path: opts.passwordFile }, `the first line of ${opts.passwordFile} is empty`);
    }
    return first;
  }
  const fromEnv = (opts.env ?? process.env)['TAGGER_PASSWORD'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stderr;
  if (!input.isTTY) {
    throw new KeyringError({ code: 'KEYRING_NO_PASSWORD' }, `no password given and no terminal to ask on: ${NO_PASSWORD_HELP}`);
  }
  const password = await promptHidden(input, output, opts.prompt ?? 'Password: ');
  if (password === '') throw new KeyringError({ code: 'KEYRING_NO_PASSWORD' }, 'the password must not be empty');
  if (opts.confirm === true) {
    const again = await promptHidden(input, output, 'Repeat the password: ');
    if (again !== password) throw new KeyringError({ code: 'KEYRING_PASSWORD_MISMATCH' }, 'the passwords do not match');
  }
  return password;
}

// ---------------------------------------------------------------------------------------------
// Sealing and opening

async function seal(name: string, password: string, secret: Uint8Array, n: number): Promise<KeyFile> {
  const publicKey = publicKeyFromSecret(secret);
  const header = { name, address: addressToString(addressFromPublicKey(publicKey)), publicKey: bytesToHex(publicKey) };
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const kdfParams = { N: n, r: SCRYPT_R, p: SCRYPT_P, dkLen: DK_LEN, salt: salt.toString('hex') } as const;
  const key = await deriveKey(password, salt, kdfParams);
  try {
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(KEY_FILE_VERSION, header));
    const ciphertext = Buffer.concat([cipher.update(secret), cipher.final()]);
    return {
      version: KEY_FILE_VERSION,
      ...header,
      crypto: {
        kdf: 'scrypt',
        kdfParams,
        cipher: 'aes-256-gcm',
        nonce: nonce.toString('hex'),
        ciphertext: ciphertext.toString('hex'),
        tag: cipher.getAuthTag().toString('hex'),
      },
    };
  } finally {
    key.fill(0);
  }
}

async function unseal(file: KeyFile, password: string, path: string): Promise<Uint8Array> {
  const { kdfParams, nonce, ciphertext, tag } = file.crypto;
  const key = await deriveKey(password, hexToBytes(kdfParams.salt), kdfParams);
  let secret: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, hexToBytes(nonce), { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(file.version, file));
    decipher.setAuthTag(hexToBytes(tag));
    secret = Buffer.concat([decipher.update(hexToBytes(ciphertext)), decipher.final()]);
  } catch {
    throw new KeyringError(
      { code: 'KEYRING_BAD_PASSWORD', name: file.name, path },
      `wrong password for key "${file.name}" (or the key file was modified)`,
    );
  } finally {
    key.fill(0);
  }
  const out = new Uint8Array(secret);
  secret.fill(0);
  // The header is authenticated, so this cannot fail unless the file was written wrong: check anyway.
  if (out.length !== SECRET_KEY_BYTES || !equalBytes(publicKeyFromSecret(out), hexToBytes(file.publicKey))) {
    out.fill(0);
    throw corrupt(file.name, path, 'the decrypted key does not match the public key in the file');
  }
  return out;
}

function deriveKey(password: string, salt: Uint8Array, p: { N: number; r: number; p: number }): Promise<Uint8Array> {
  // NFKC so that one password typed on different systems (composed or decomposed accents) is one key.
  return scryptAsync(utf8ToBytes(password.normalize('NFKC')), salt, {
    N: p.N,
    r: p.r,
    p: p.p,
    dkLen: DK_LEN,
    maxmem: MAX_SCRYPT_MEMORY + 1024 * 1024,
  });
}

/** GCM additional data: the file's header as a JSON array (JSON string escaping makes it unambiguous). */
function additionalData(version: number, h: { name: string; address: string; publicKey: string }): Uint8Array {
  return utf8ToBytes(JSON.stringify(['tagger/keyring', version, h.name, h.address, h.publicKey]));
}

// ---------------------------------------------------------------------------------------------
// Parsing

function parseKeyFile(text: string, name: string, path: string): KeyFile {
  const bad = (reason: string): KeyringError => corrupt(name, path, reason);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  if (!isRecord(json)) throw bad('not a JSON object');
  if (json['version'] !== KEY_FILE_VERSION) throw bad(`unsupported version ${JSON.stringify(json['version'])} (this build reads version ${KEY_FILE_VERSION})`);
  const fileName = json['name'];
  const address = json['address'];
  const publicKey = json['publicKey'];
  const c = json['crypto'];
  if (typeof fileName !== 'string' || typeof address !== 'string' || typeof publicKey !== 'string') throw bad('name, address and publicKey must be strings');
  if (fileName !== name) throw bad(`the file holds key "${fileName}", not "${name}"`);
  const pk = hex(publicKey, 32, 'publicKey', bad);
  if (addressToString(addressFromPublicKey(pk)) !== address) throw bad('the address does not belong to the public key');
  if (!isRecord(c) || !isRecord(c['kdfParams'])) throw bad('missing crypto or crypto.kdfParams');
  if (c['kdf'] !== 'scrypt') throw bad(`unsupported kdf ${JSON.stringify(c['kdf'])}`);
  if (c['cipher'] !== 'aes-256-gcm') throw bad(`unsupported cipher ${JSON.stringify(c['cipher'])}`);
  const kp = c['kdfParams'];
  const { N, r, p, dkLen, salt } = kp;
  if (!isSafeInt(N) || !isSafeInt(r) || !isSafeInt(p) || dkLen !== DK_LEN || typeof salt !== 'string') {
    throw bad('kdfParams must hold integers N, r, p, dkLen = 32 and a hex salt');
  }
  if (!isPowerOfTwo(N)) throw bad('scrypt N must be a power of two');
  if (N < MIN_SCRYPT_N || r < 1 || p < 1) {
    throw new KeyringError(
      { code: 'KEYRING_WEAK_PARAMS', name, path },
      `key "${name}" uses scrypt N=${N}, r=${r}, p=${p}: refusing parameters below N=2^10, r=1, p=1`,
    );
  }
  if (N > MAX_SCRYPT_N || r > MAX_SCRYPT_R || p > MAX_SCRYPT_P || 128 * r * N > MAX_SCRYPT_MEMORY) {
    throw bad(`scrypt N=${N}, r=${r}, p=${p} is beyond what this build will compute (N ≤ 2^20, r ≤ 32, p ≤ 16, 128·r·N ≤ 1 GiB)`);
  }
  const saltBytes = hex(salt, undefined, 'salt', bad);
  if (saltBytes.length < MIN_SALT_BYTES) throw bad(`the salt must be at least ${MIN_SALT_BYTES} bytes`);
  hex(c['nonce'], NONCE_BYTES, 'nonce', bad);
  hex(c['ciphertext'], SECRET_KEY_BYTES, 'ciphertext', bad);
  hex(c['tag'], TAG_BYTES, 'tag', bad);
  return {
    version: KEY_FILE_VERSION,
    name: fileName,
    address,
    publicKey,
    crypto: {
      kdf: 'scrypt',
      kdfParams: { N, r, p, dkLen: DK_LEN, salt },
      cipher: 'aes-256-gcm',
      nonce: c['nonce'] as string,
      ciphertext: c['ciphertext'] as string,
      tag: c['tag'] as string,
    },
  };
}

function hex(value: unknown, length: number | undefined, field: string, bad: (reason: string) => KeyringError): Uint8Array {
  if (typeof value !== 'string' || !/^[0-9a-f]*$/.test(value) || value.length % 2 !== 0) throw bad(`${field} must be lower-case hex`);
  const bytes = hexToBytes(value);
  if (length !== undefined && bytes.length !== length) throw bad(`${field} must be ${length} bytes`);
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function infoOf(file: KeyFile): KeyInfo {
  return { name: file.name, address: file.address, publicKey: file.publicKey };
}

function isValidName(name: string): boolean {
  // A leading dot would allow `.` and `..` and hide the file; temporary files start with one.
  return NAME_RE.test(name) && !name.startsWith('.');
}

function checkName(name: string): void {
  if (typeof name !== 'string' || !isValidName(name)) {
    throw new KeyringError(
      { code: 'KEYRING_BAD_NAME', name: String(name).slice(0, 80) },
      'a key name is 1-64 characters of A-Z a-z 0-9 . _ - and does not start with "."',
    );
  }
}

function checkNewPassword(name: string, password: string): void {
  if (typeof password !== 'string' || password === '') {
    throw new KeyringError({ code: 'KEYRING_BAD_PASSWORD', name }, 'the password for a new key must not be empty');
  }
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 1 && (n & (n - 1)) === 0;
}

function isSafeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function errnoCode(e: unknown): string | undefined {
  return isRecord(e) && typeof e['code'] === 'string' ? e['code'] : undefined;
}

function notFound(name: string, path: string): KeyringError {
  return new KeyringError({ code: 'KEYRING_NOT_FOUND', name, path }, `no key named "${name}" (${path})`);
}

function corrupt(name: string, path: string, reason: string): KeyringError {
  return new KeyringError({ code: 'KEYRING_CORRUPT', name, path }, `key file ${path} is unreadable: ${reason}`);
}

/** `link` fails if `path` exists, unlike `rename`. Filesystems without hard links fall back to check-then-rename. */
async function linkNoClobber(tmp: string, path: string, name: string): Promise<void> {
  try {
    await link(tmp, path);
    return;
  } catch (e: unknown) {
    const code = errnoCode(e);
    if (code === 'EEXIST') throw new KeyringError({ code: 'KEYRING_EXISTS', name, path }, `a key named "${name}" already exists (${path})`);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw e;
  }
  const existing = await open(path, 'r').catch((e: unknown) => {
    if (errnoCode(e) === 'ENOENT') return null;
    throw e;
  });
  if (existing !== null) {
    await existing.close();
    throw new KeyringError({ code: 'KEYRING_EXISTS', name, path }, `a key named "${name}" already exists (${path})`);
  }
  await rename(tmp, path);
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Reads one line from a terminal in raw mode, echoing nothing. Ctrl-C and Ctrl-D (on an empty line) cancel. */
function promptHidden(input: NodeJS.ReadStream, output: NodeJS.WritableStream, prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const wasRaw = input.isRaw;
    let chars: string[] = [];
    const finish = (err: KeyringError | null): void => {
      input.removeListener('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      if (err === null) resolve(chars.join(''));
      else reject(err);
      chars = [];
    };
    const cancel = (): KeyringError => new KeyringError({ code: 'KEYRING_NO_PASSWORD' }, 'the password prompt was cancelled');
    const onData = (data: Buffer | string): void => {
      for (const ch of typeof data === 'string' ? data : data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish(null);
        if (ch === '\u0003') return finish(cancel());
        if (ch === '\u0004') {
          if (chars.length === 0) return finish(cancel());
          continue;
        }
        if (ch === '\u007f' || ch === '\b') {
          chars.pop();
          continue;
        }
        if (ch === '\u001b') break; // an escape sequence (arrow keys...): drop the rest of it
        if (ch < ' ') continue; // other control characters
        chars.push(ch);
      }
    };
    output.write(prompt);
    input.setRawMode(true);
    input.setEncoding('utf8');
    input.on('data', onData);
    input.resume();
  });
}
