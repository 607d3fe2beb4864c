/**
 * What the node sends and accepts on the gossip topics (docs/spec/network.md §Consensus envelope):
 * the consensus engine's GossipPort, which publishes its messages, and the node's gossip validator,
 * which decodes what arrives and lets the mempool and the engine give the verdict.
 *
 * Consensus messages travel in an envelope: an 8-byte random nonce, then the message's canonical
 * encoding. gossipsub names a message by the hash of its bytes and drops any it has seen, so the
 * engine's periodic resends (E10), byte-identical inside, would never get through without it; the
 * nonce makes each send a new gossip message, and the engine's own de-duplication (E3, by content)
 * keeps a resend from being relayed further by peers that had it already.
 *
 * Transactions travel in batches (`TxBatch = [tx: bin …]`): each gossip message costs every hop an
 * encryption, a frame and a validation call, which under load costs more than the transaction's
 * own signature check, so a node collects what its clients send for `TX_BATCH_DELAY_MS` and
 * publishes it as one message.
 */
import { randomBytes } from 'node:crypto';
import { ChainError, CodecError, Reader, bytesToHex, decodeCanonical, encode, equalBytes, isChainError, type Logger } from '../lib/index.ts';
import { TX_BYTES_CEILING, TxError, type TxRejectCode } from '../runtime/index.ts';
import {
  ConsensusMessageError,
  decodeEvidence,
  decodeProposalMessage,
  decodeVoteMessage,
  encodeEvidence,
  encodeProposalMessage,
  encodeVoteMessage,
  verifyEvidence,
  type DuplicateVoteEvidence,
  type GossipPort,
  type ReceiveResult,
  type ConsensusMessage,
  type VotingValidator,
} from '../consensus/index.ts';
import type { Mempool } from './mempool.ts';
import type { P2PNetwork, TopicKind, Verdict } from './p2p/index.ts';

export const ENVELOPE_NONCE_BYTES = 8;

export type GossipErrorType = { code: 'GOSSIP_BAD_ENVELOPE'; size: number };
export class GossipError extends ChainError<GossipErrorType> {}

/** Wraps a consensus message's encoding with a fresh random nonce. */
export function sealEnvelope(message: Uint8Array, nonce: Uint8Array = randomBytes(ENVELOPE_NONCE_BYTES)): Uint8Array {
  const out = new Uint8Array(ENVELOPE_NONCE_BYTES + message.length);
  out.set(nonce.subarray(0, ENVELOPE_NONCE_BYTES));
  out.set(message, ENVELOPE_NONCE_BYTES);
  return out;
}

/** The message inside an envelope (a view, not a copy). GOSSIP_BAD_ENVELOPE if there is none. */
export function openEnvelope(data: Uint8Array): Uint8Array {
  if (data.length <= ENVELOPE_NONCE_BYTES) {
    throw new GossipError({ code: 'GOSSIP_BAD_ENVELOPE', size: data.length }, `a gossip envelope of ${data.length} bytes holds no message`);
  }
  return data.subarray(ENVELOPE_NONCE_BYTES);
}

/** Most transactions in one gossip batch. */
export const TX_BATCH_MAX = 512;
/** A batch is sent once it holds this many bytes of transactions (a larger single one goes alone). */
export const TX_BATCH_BYTES_MAX = 256 * 1024;
/** How long a transaction may wait for others to share its gossip message. */
export const TX_BATCH_DELAY_MS = 20;
/** The largest batch: one transaction of the runtime's ceiling, or a full batch, plus framing. */
export const TX_BATCH_MESSAGE_BYTES_MAX = Math.max(TX_BATCH_BYTES_MAX, TX_BYTES_CEILING) + 4096;

export function encodeTxBatch(txs: readonly Uint8Array[]): Uint8Array {
  return encode([...txs]);
}

export function decodeTxBatch(bytes: Uint8Array): Uint8Array[] {
  return decodeCanonical(
    bytes,
    'TxBatch',
    TX_BATCH_MESSAGE_BYTES_MAX,
    (value) => Reader.list(value, 'TxBatch', TX_BATCH_MAX, (item, i) => Reader.array([item], 'TxBatch', 1).bytesMax(`txs[${i}]`, TX_BYTES_CEILING)),
    encodeTxBatch,
  );
}

type Publisher = Pick<P2PNetwork, 'publish'>;

/** The engine's GossipPort over the P2P network. Publishing is fire-and-forget; failures are logged. */
export class ConsensusGossip implements GossipPort {
  private readonly network: Publisher;
  private readonly log: Logger;
  private batch: Uint8Array[] = [];
  private batchBytes = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(network: Publisher, log: Logger) {
    this.network = network;
    this.log = log;
  }

  broadcastProposal(message: Parameters<GossipPort['broadcastProposal']>[0]): void {
    this.send('proposal', encodeProposalMessage(message));
  }

  broadcastVote(message: Parameters<GossipPort['broadcastVote']>[0]): void {
    this.send('vote', encodeVoteMessage(message));
  }

  broadcastEvidence(evidence: DuplicateVoteEvidence): void {
    this.send('evidence', encodeEvidence(evidence));
  }

  /** A transaction accepted into the mempool from a client: sent with the next batch. */
  broadcastTx(bytes: Uint8Array): void {
    if (this.batchBytes + bytes.length > TX_BATCH_BYTES_MAX) this.flushTxs();
    this.batch.push(bytes);
    this.batchBytes += bytes.length;
    if (this.batch.length >= TX_BATCH_MAX || this.batchBytes >= TX_BATCH_BYTES_MAX) this.flushTxs();
    else this.timer ??= setTimeout(() => this.flushTxs(), TX_BATCH_DELAY_MS);
  }

  /** Publishes the waiting transactions now (also on stop). */
  flushTxs(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.batch.length === 0) return;
    const txs = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    this.publish('tx', encodeTxBatch(txs));
  }

  private send(kind: 'proposal' | 'vote' | 'evidence', message: Uint8Array): void {
    this.publish(kind, sealEnvelope(message));
  }

  private publish(kind: TopicKind, data: Uint8Array): void {
    this.network.publish(kind, data).catch((e: unknown) => {
      this.log.warn({ topic: kind, bytes: data.length, err: e instanceof Error ? e.message : String(e) }, 'Gossip publish failed');
    });
  }
}

/** Duplicate-vote evidence the node has seen, for inclusion in blocks (bounded, oldest dropped). */
export class EvidencePool {
  private readonly max: number;
  private readonly items = new Map<string, DuplicateVoteEvidence>();

  constructor(max = 1024) {
    this.max = max;
  }

  /** Adds evidence; false if the pool had it already (same validator, height, round and type). */
  addEvidence(evidence: DuplicateVoteEvidence): boolean {
    const v = evidence.first.vote;
    const key = `${bytesToHex(v.validator)}/${v.height}/${v.round}/${v.type}`;
    if (this.items.has(key)) return false;
    if (this.items.size >= this.max) this.items.delete(this.items.keys().next().value as string);
    this.items.set(key, evidence);
    return true;
  }

  pending(): DuplicateVoteEvidence[] {
    return [...this.items.values()];
  }

  /** The pooled evidence with its key, oldest first. */
  entries(): Array<[string, DuplicateVoteEvidence]> {
    return [...this.items.entries()];
  }

  hasKey(key: string): boolean {
    return this.items.has(key);
  }

  remove(key: string): void {
    this.items.delete(key);
  }

  get size(): number {
    return this.items.size;
  }
}

/** Mempool refusals that prove the transaction itself is bad, whoever relayed it. */
const TX_REJECT: ReadonlySet<TxRejectCode> = new Set(['TX_WRONG_CHAIN', 'TX_TOO_LARGE', 'TX_BAD_SIGNATURE']);

/** Transactions checked between two turns of the event loop (each check is a signature, ~0.1 ms). */
export const TX_CHECK_SLICE = 16;
/** Batches being checked at once; past this a batch is ignored (the node is overloaded, nobody's fault). */
export const TX_BATCHES_IN_CHECK_MAX = 64;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A batch is rejected if any transaction in it can never be valid (a relayer must have checked
 * them); accepted, and relayed, if at least one was new here; ignored otherwise. The checks yield
 * to the event loop every TX_CHECK_SLICE transactions, so consensus messages arriving meanwhile are
 * not held up behind a flood of signature checks (gossipsub does not wait for one message's
 * validation before the next).
 */
async function txVerdict(mempool: Pick<Mempool, 'add'>, txs: readonly Uint8Array[]): Promise<Verdict> {
  let added = 0;
  let bad = 0;
  for (let i = 0; i < txs.length; i++) {
    if (i > 0 && i % TX_CHECK_SLICE === 0) await nextTurn();
    const bytes = txs[i]!;
    try {
      if (!mempool.add(bytes).duplicate) added++;
    } catch (e: unknown) {
      if ((e instanceof TxError && TX_REJECT.has(e.code)) || e instanceof CodecError) bad++;
      // Otherwise the pool is full, the nonce is taken or already used, the fee no longer covered:
      // these depend on this node's state, not on the relayer's honesty.
      else if (!isChainError(e)) throw e;
    }
  }
  if (bad > 0) return 'reject';
  return added > 0 ? 'accept' : 'ignore';
}

export type GossipValidatorDeps = {
  chainId: string;
  mempool: Pick<Mempool, 'add'>;
  engine: { receive(message: ConsensusMessage, peer: string | null): ReceiveResult };
  evidence: EvidencePool;
  /** The validator set of the height the engine decides, for checking evidence. */
  validators(): VotingValidator[];
  /** A peer is ahead of this node by more than the engine buffers: catch up by block sync. */
  onBehind(height: number, peer: string): void;
  log: Logger;
};

function verdictOf(result: ReceiveResult): Verdict {
  switch (result.status) {
    case 'accepted':
      return 'accept';
    case 'ignored':
      return 'ignore';
    case 'rejected':
      return 'reject';
  }
}

/**
 * The node's gossip validator (docs/spec/network.md §Validation): transactions go through the
 * mempool's checks, consensus messages through `BftEngine.receive`, evidence through
 * `verifyEvidence`. Bytes that do not decode, bad signatures and transactions that can never be
 * valid are `reject` (the network scores the sender down); what is merely stale, early, duplicate
 * or does not fit right now is `ignore`.
 */
export function createGossipValidator(deps: GossipValidatorDeps): (topic: TopicKind, data: Uint8Array, from: string) => Verdict | Promise<Verdict> {
  let batchesInCheck = 0;
  const txs = async (batch: Uint8Array[]): Promise<Verdict> => {
    batchesInCheck++;
    try {
      return await txVerdict(deps.mempool, batch);
    } finally {
      batchesInCheck--;
    }
  };
  const consensus = (message: ConsensusMessage, from: string): Verdict => {
    const result = deps.engine.receive(message, from);
    if (result.status === 'ignored' && result.reason === 'FUTURE_TOO_FAR') {
      deps.onBehind(message.kind === 'vote' ? message.vote.height : message.proposal.height, from);
    }
    if (result.status === 'rejected') deps.log.debug({ peer: from, code: result.error.code }, 'Rejected consensus message');
    return verdictOf(result);
  };
  return (topic, data, from) => {
    switch (topic) {
      case 'tx': {
        const batch = decodeTxBatch(data);
        return batchesInCheck >= TX_BATCHES_IN_CHECK_MAX ? 'ignore' : txs(batch);
      }
      case 'proposal':
        return consensus({ kind: 'proposal', ...decodeProposalMessage(openEnvelope(data)) }, from);
      case 'vote':
        return consensus({ kind: 'vote', ...decodeVoteMessage(openEnvelope(data)) }, from);
      case 'evidence': {
        const evidence = decodeEvidence(openEnvelope(data));
        // Two votes signed by a key of the current set convict it whatever their height; a key not
        // in the set cannot be checked here, which is no fault of the relayer.
        const validators = deps.validators();
        const signer = evidence.first.vote.validator;
        if (!validators.some((v) => equalBytes(v.address, signer))) return 'ignore';
        try {
          verifyEvidence(deps.chainId, evidence, validators);
        } catch (e: unknown) {
          if (e instanceof ConsensusMessageError) return 'reject';
          throw e;
        }
        return deps.evidence.addEvidence(evidence) ? 'accept' : 'ignore';
      }
    }
  };
}
