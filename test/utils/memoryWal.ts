/**
 * A WAL file in memory, for unit tests and the simulation. It knows which bytes were synced, so a
 * simulated crash can keep the synced prefix and any part of the rest (a torn write).
 */
import type { WalFile } from '../../consensus/index.ts';

export class MemoryWalFile implements WalFile {
  readonly path: string;
  private chunks: Uint8Array[] = [];
  private length = 0;
  /** Bytes that survive any crash. */
  synced = 0;
  syncs = 0;
  /** While set, a sync never returns: the process dies waiting for the disk. */
  hangSyncs = false;

  constructor(path = '(memory)') {
    this.path = path;
  }

  get size(): number {
    return this.length;
  }

  bytes(): Uint8Array {
    if (this.chunks.length !== 1) {
      const all = new Uint8Array(this.length);
      let at = 0;
      for (const c of this.chunks) {
        all.set(c, at);
        at += c.length;
      }
      this.chunks = [all];
    }
    return this.chunks[0] ?? new Uint8Array(0);
  }

  setBytes(bytes: Uint8Array, synced = bytes.length): void {
    this.chunks = [bytes.slice()];
    this.length = bytes.length;
    this.synced = synced;
  }

  async read(): Promise<Uint8Array> {
    return this.bytes().slice();
  }

  async append(bytes: Uint8Array): Promise<void> {
    this.chunks.push(bytes.slice());
    this.length += bytes.length;
  }

  async sync(): Promise<void> {
    if (this.hangSyncs) await new Promise<never>(() => undefined);
    this.synced = this.length;
    this.syncs++;
  }

  async truncate(length: number): Promise<void> {
    this.setBytes(this.bytes().subarray(0, length));
  }

  async replace(bytes: Uint8Array): Promise<void> {
    if (this.hangSyncs) await new Promise<never>(() => undefined);
    this.setBytes(bytes);
    this.syncs++;
  }

  async close(): Promise<void> {}

  /** A crash: the synced bytes survive, and `unsyncedKept` (clamped) of those written after. */
  crash(unsyncedKept: number): void {
    const keep = Math.min(this.length, this.synced + Math.max(0, unsyncedKept));
    this.setBytes(this.bytes().subarray(0, keep), Math.min(this.synced, keep));
    this.hangSyncs = false;
  }
}
