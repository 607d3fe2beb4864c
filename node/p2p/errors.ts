/**
 * Typed errors of the P2P layer. Config errors are thrown at construction; the others come from a
 * peer's behaviour (oversize data, a malformed or slow answer) or from the local network, and are
 * mapped to a peer penalty by the caller, never allowed to crash the node.
 */
import { ChainError } from '../../lib/index.ts';

export type P2PErrorType =
  | { code: 'P2P_BAD_MULTIADDR'; field: string; value: string; reason: string }
  | { code: 'P2P_BAD_BOOTSTRAP_PEER'; value: string; reason: string }
  | { code: 'P2P_BAD_CONFIG'; field: string; reason: string }
  | { code: 'P2P_BAD_IDENTITY_SEED'; length: number }
  | { code: 'P2P_BAD_IDENTITY_FILE'; path: string; reason: string }
  | { code: 'P2P_LISTEN_FAILED'; listen: string; reason: string }
  | { code: 'P2P_NOT_STARTED' }
  | { code: 'P2P_UNKNOWN_TOPIC'; topic: string }
  | { code: 'P2P_MESSAGE_TOO_LARGE'; topic: string; size: number; max: number }
  | { code: 'P2P_BAD_PEER_ID'; value: string }
  | { code: 'P2P_BAD_REQUEST'; reason: string }
  | { code: 'P2P_BAD_RESPONSE'; peer: string; reason: string }
  | { code: 'P2P_RESPONSE_TOO_LARGE'; peer: string; bytes: number; max: number }
  | { code: 'P2P_TIMEOUT'; peer: string; what: string; timeoutMs: number }
  | { code: 'P2P_REQUEST_FAILED'; peer: string; reason: string }
  | { code: 'P2P_PEER_BANNED'; peer: string };
export class P2PError extends ChainError<P2PErrorType> {}

/** A short text for logs and error reasons, from anything thrown. */
export function reasonOf(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}
