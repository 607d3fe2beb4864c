/**
 * The validator's signer, with a double-sign guard (after CometBFT's privval FilePV). It remembers
 * the last height/round/step it signed and the exact bytes, in a file that is written and fsynced
 * before any signature is returned. It then signs only at a strictly later height/round/step, or
 * the very same bytes again (returning the same signature). So no crash, restart or repeated
 * request can make this validator sign two different messages for one height/round/step.
 */
import { open, readFile, rename } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { Reader, bytesToHex, decodeCanonical, encode, equalBytes, hexToBytes, sha256, sign } from '../lib/index.ts';
import { SignerError } from './errors.ts';
import type { Proposal } from './core/machine.ts';
import { proposalSigningBytes } from './core/proposal.ts';
import { voteSigningBytes, VOTE_TYPE, type Vote } from './types.ts';

/** Step order within a round: proposal, then prevote, then precommit. */
export const SIGN_STEP = { proposal: 1, prevote: 2, precommit: 3 } as const;

export type LastSigned = { height: number; round: number; step: number; signBytesHash: Uint8Array; signature: Uint8Array };

function encodeLastSigned(s: LastSigned): Uint8Array {
  return encode([s.height, s.round, s.step, s.signBytesHash, s.signature]);
}

function decodeLastSigned(bytes: Uint8Array): LastSigned {
  return decodeCanonical(bytes, 'SignerState', 256, (value) => {
    const r = Reader.array(value, 'SignerState', 5);
    return { height: r.u32('height'), round: r.u32('round'), step: r.u32('step', 3), signBytesHash: r.bytes('signBytesHash', 32), signature: r.bytes('signature', 64) };
  }, encodeLastSigned);
}

/** -1, 0 or 1 as (h1, r1, s1) is before, equal to or after (h2, r2, s2). */
function compareHrs(h1: number, r1: number, s1: number, h2: number, r2: number, s2: number): number {
  if (h1 !== h2) return h1 < h2 ? -1 : 1;
  if (r1 !== r2) return r1 < r2 ? -1 : 1;
  if (s1 !== s2) return s1 < s2 ? -1 : 1;
  return 0;
}

/** Where the guard's state lives: a file (fsync and atomic rename) or, in simulations, memory. */
export type SignerStateStore = {
  /** For messages: the file's path. */
  readonly name: string;
  /** The saved text, or null if nothing was ever saved. */
  load(): Promise<string | null>;
  /** Saves durably: on return the text survives a crash. */
  save(text: string): Promise<void>;
};

export function fileSignerStateStore(path: string): SignerStateStore {
  return {
    name: path,
    load: async () => {
      try {
        return await readFile(path, 'utf8');
      } catch (e: unknown) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        return null;
      }
    },
    save: (text) => writeFileDurable(path, text),
  };
}

export type SignerKey = { secretKey: Uint8Array; publicKey: Uint8Array; address: Uint8Array };

export class Signer {
  readonly publicKey: Uint8Array;
  readonly address: Uint8Array;
  private readonly secretKey: Uint8Array;
  private readonly store: SignerStateStore;
  private last: LastSigned | null;
  /** Sign requests run one at a time, in order: the guard check and the durable write are one step. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(key: SignerKey, store: SignerStateStore, last: LastSigned | null) {
    this.secretKey = key.secretKey;
    this.publicKey = key.publicKey;
    this.address = key.address;
    this.store = store;
    this.last = last;
  }

  /** Loads the guard state from `statePath` (a missing file means nothing was ever signed). */
  static async open(opts: SignerKey & { statePath: string }): Promise<Signer> {
    return Signer.openWith(opts, fileSignerStateStore(opts.statePath));
  }

  /** Loads the guard state from `store`. */
  static async openWith(key: SignerKey, store: SignerStateStore): Promise<Signer> {
    const text = await store.load();
    let last: LastSigned | null = null;
    if (text !== null) {
      try {
        last = decodeLastSigned(hexToBytes(text.trim()));
      } catch (e: unknown) {
        // Refuse to start: guessing here could mean signing twice.
        const reason = e instanceof Error ? e.message : String(e);
        throw new SignerError({ code: 'SIGNER_STATE_CORRUPT', path: store.name, reason }, `signer state ${store.name} is unreadable: ${reason}`);
      }
    }
    return new Signer(key, store, last);
  }

  get lastSigned(): LastSigned | null {
    return this.last;
  }

  /** The first round this signer may use at `height`: past anything it signed there before. */
  firstFreeRound(height: number): number {
    if (this.last === null || this.last.height < height) return 0;
    if (this.last.height === height) return this.last.round + 1;
    return Number.MAX_SAFE_INTEGER; // Signed a later height already: never sign at this one.
  }

  async signVote(chainId: string, vote: Vote): Promise<Uint8Array> {
    const step = vote.type === VOTE_TYPE.prevote ? SIGN_STEP.prevote : SIGN_STEP.precommit;
    return this.signAt(vote.height, vote.round, step, voteSigningBytes(chainId, vote));
  }

  async signProposal(chainId: string, proposal: Proposal): Promise<Uint8Array> {
    return this.signAt(proposal.height, proposal.round, SIGN_STEP.proposal, proposalSigningBytes(chainId, proposal));
  }

  /** Signs `signBytes` at height/round/step if the guard allows it; persists the guard first. */
  signAt(height: number, round: number, step: number, signBytes: Uint8Array): Promise<Uint8Array> {
    const result = this.queue.then(() => this.signNow(height, round, step, signBytes));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async signNow(height: number, round: number, step: number, signBytes: Uint8Array): Promise<Uint8Array> {
    const bytesHash = sha256(signBytes);
    const last = this.last;
    if (last !== null) {
      const order = compareHrs(height, round, step, last.height, last.round, last.step);
      if (order === 0 && equalBytes(bytesHash, last.signBytesHash)) return last.signature;
      if (order <= 0) {
        throw new SignerError(
          { code: 'SIGNER_DOUBLE_SIGN_REFUSED', height, round, step, lastHeight: last.height, lastRound: last.round, lastStep: last.step },
          `refusing to sign at ${height}/${round}/${step}: already signed ${last.height}/${last.round}/${last.step}`,
        );
      }
    }
    const signature = sign(this.secretKey, signBytes);
    const next: LastSigned = { height, round, step, signBytesHash: bytesHash, signature };
    await this.store.save(bytesToHex(encodeLastSigned(next)) + '\n');
    this.last = next;
    return signature;
  }
}

/** Writes `path` so that after a crash it holds either the old or the new content, never a mix. */
export async function writeFileDurable(path: string, content: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp`);
  const file = await open(tmp, 'w', mode);
  try {
    await file.writeFile(content);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
