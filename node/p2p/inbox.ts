/**
 * A bounded FIFO of accepted gossip messages waiting for the node. When full, pushing drops the
 * oldest message and counts it: under overload the freshest consensus messages are the useful
 * ones, and the sender is not at fault. One consumer at a time may wait for the next message.
 */
import { assert } from '../../lib/index.ts';
import type { TopicKind } from './config.ts';

/** What the node receives: the raw bytes (validated by its own callback) and who relayed them. */
export type InboundMessage = {
  topic: TopicKind;
  data: Uint8Array;
  /** Peer id of the peer that delivered the message (not necessarily its author). */
  from: string;
};

export class Inbox<T = InboundMessage> {
  readonly capacity: number;
  private readonly ring: Array<T | undefined>;
  private head = 0;
  private count = 0;
  private waiter: ((item: T | null) => void) | null = null;
  /** Messages dropped because the inbox was full. */
  dropped = 0;
  /** Messages ever pushed. */
  pushed = 0;

  constructor(capacity: number) {
    assert(Number.isSafeInteger(capacity) && capacity > 0, 'inbox capacity must be a positive integer');
    this.capacity = capacity;
    this.ring = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    this.pushed++;
    if (this.waiter !== null) {
      const wake = this.waiter;
      this.waiter = null;
      wake(item);
      return;
    }
    if (this.count === this.capacity) {
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count--;
      this.dropped++;
    }
    this.ring[(this.head + this.count) % this.capacity] = item;
    this.count++;
    assert(this.count <= this.capacity, 'inbox over capacity');
  }

  /** The oldest message, or undefined when empty. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.ring[this.head];
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return item;
  }

  /** Up to `max` messages, oldest first. */
  drain(max: number): T[] {
    const out: T[] = [];
    while (out.length < max && this.count > 0) out.push(this.shift() as T);
    return out;
  }

  /** The next message, waiting for one if empty; null when `signal` aborts. One waiter at a time. */
  next(signal: AbortSignal): Promise<T | null> {
    const item = this.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (signal.aborted) return Promise.resolve(null);
    assert(this.waiter === null, 'inbox: only one consumer may wait at a time');
    return new Promise<T | null>((resolve) => {
      const onAbort = (): void => {
        this.waiter = null;
        resolve(null);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiter = (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      };
    });
  }
}
