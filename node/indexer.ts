/**
 * What a committed block adds to the query indexes (docs/spec/storage.md §Indexes): the accounts
 * each transaction involves, and every event with the terms an explorer finds it by. The store
 * writes these in the block's own batch, so a committed transaction is never "not found".
 *
 *   type:<event type>          every event but `fee` (the account index finds a fee's payer)
 *   account:<tag1… address>    each attribute whose value is an address
 *   task:<id>, passport:<id>   the `task` and `passport` attributes
 *
 * A transaction involves its sender, the accounts its body names, and every address in its
 * receipt's events (a transfer's recipient, a delegation's validator, a licence's seller, …).
 */
import { ADDRESS_BYTES, ADDRESS_HRP, addressFromString, equalBytes } from '../lib/index.ts';
import type { Receipt, SignedTx } from '../runtime/index.ts';
import { INDEX_TERM_BYTES_MAX, type BlockIndex, type IndexedEvent } from '../state/index.ts';

/** Attributes whose value names a task or a passport (their ids are the index terms). */
const ID_TERMS: ReadonlyMap<string, string> = new Map([
  ['task', 'task'],
  ['passport', 'passport'],
]);
/** Bounds per event and per transaction: events are the runtime's, but the index stays bounded anyway. */
const TERMS_PER_EVENT_MAX = 16;
const ACCOUNTS_PER_TX_MAX = 16;
/** `tag1` + 32 data characters + a 6-character checksum. */
const ADDRESS_TEXT_LENGTH = ADDRESS_HRP.length + 1 + 32 + 6;

/**
 * The sender and the accounts a transaction names in its body: every top-level 20-byte field (a
 * transfer's `to`, a delegation's `validator`, …), so that a failed transaction, which has no
 * events, is still found under the accounts it was meant for.
 */
function bodyAccounts(tx: SignedTx): Uint8Array[] {
  const out = [tx.senderAddress];
  for (const value of Object.values(tx.tx.body)) {
    if (value instanceof Uint8Array && value.length === ADDRESS_BYTES && !out.some((a) => equalBytes(a, value))) out.push(value);
  }
  return out;
}

/**
 * Decoded addresses, across blocks (the same accounts come back block after block); bounded: cleared
 * when full. A cache only: what it returns is what decoding returns.
 */
const ADDRESS_CACHE_MAX = 65_536;
const addresses = new Map<string, Uint8Array | null>();

function addressOf(text: string): Uint8Array | null {
  if (text.length !== ADDRESS_TEXT_LENGTH || !text.startsWith(`${ADDRESS_HRP}1`)) return null;
  let bytes = addresses.get(text);
  if (bytes === undefined) {
    try {
      bytes = addressFromString(text);
    } catch {
      bytes = null;
    }
    if (addresses.size >= ADDRESS_CACHE_MAX) addresses.clear();
    addresses.set(text, bytes);
  }
  return bytes;
}

/**
 * Events stored in the log but given no terms: every transaction has a `fee` event, and the
 * account index already finds its payer; indexing it would double the index's writes.
 */
const UNINDEXED_TYPES: ReadonlySet<string> = new Set(['fee']);

export function blockIndex(txs: readonly SignedTx[], receipts: readonly Receipt[]): BlockIndex {

  const events: IndexedEvent[] = [];
  const accounts: Array<readonly [Uint8Array, number]> = [];
  receipts.forEach((receipt, i) => {
    const tx = i < txs.length ? i : -1;
    const involved: Uint8Array[] = tx >= 0 ? bodyAccounts(txs[tx] as SignedTx) : [];
    for (const e of receipt.events) {
      if (UNINDEXED_TYPES.has(e.type)) {
        events.push({ tx, type: e.type, attributes: e.attributes, terms: [] });
        continue;
      }
      const terms = new Set<string>([`type:${e.type}`]);
      for (const [name, value] of e.attributes) {
        if (terms.size >= TERMS_PER_EVENT_MAX) break;
        const kind = ID_TERMS.get(name);
        if (kind !== undefined) terms.add(`${kind}:${value}`);
        const address = addressOf(value);
        if (address === null) continue;
        terms.add(`account:${value}`);
        if (tx >= 0 && involved.length < ACCOUNTS_PER_TX_MAX && !involved.some((a) => equalBytes(a, address))) involved.push(address);
      }
      events.push({ tx, type: e.type, attributes: e.attributes, terms: [...terms].filter((t) => Buffer.byteLength(t) <= INDEX_TERM_BYTES_MAX) });
    }
    for (const address of involved) accounts.push([address, tx]);
  });
  return { accounts, events };
}
