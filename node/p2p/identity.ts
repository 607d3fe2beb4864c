/**
 * The node's network identity on disk: a 32-byte seed from which the libp2p ed25519 key (and so the
 * peer id) is derived. It lives in the node's home beside the validator key, as
 * `{ "peerId": "12D3KooW…", "seed": "<64 hex>" }`, written with mode 0600 and fsync. The peer id is
 * there for operators (to build other nodes' bootstrap addresses); loading checks it against the seed.
 */
import { access, readFile } from 'node:fs/promises';
import { bytesToHex, hexToBytes, randomSecretKey } from '../../lib/index.ts';
import { writeFileDurable } from '../../consensus/index.ts';
import { P2PError, reasonOf } from './errors.ts';
import { peerIdFromSeed } from './network.ts';

export type NetworkIdentity = { seed: Uint8Array; peerId: string };

function badIdentity(path: string, reason: string): P2PError {
  return new P2PError({ code: 'P2P_BAD_IDENTITY_FILE', path, reason }, `network identity ${path}: ${reason}`);
}

export async function saveNetworkIdentity(path: string, seed: Uint8Array): Promise<NetworkIdentity> {
  const peerId = await peerIdFromSeed(seed);
  await writeFileDurable(path, JSON.stringify({ peerId, seed: bytesToHex(seed) }, null, 2) + '\n', 0o600);
  return { seed, peerId };
}

export async function loadNetworkIdentity(path: string): Promise<NetworkIdentity> {
  let json: { seed?: unknown; peerId?: unknown };
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as { seed?: unknown; peerId?: unknown };
  } catch (e: unknown) {
    throw badIdentity(path, reasonOf(e));
  }
  if (typeof json.seed !== 'string' || !/^[0-9a-f]{64}$/.test(json.seed)) throw badIdentity(path, 'seed must be 64 hex characters');
  const seed = hexToBytes(json.seed);
  const peerId = await peerIdFromSeed(seed);
  if (json.peerId !== undefined && json.peerId !== peerId) throw badIdentity(path, `peerId ${JSON.stringify(json.peerId)} does not match the seed (${peerId})`);
  return { seed, peerId };
}

/** Loads the identity, or creates one with a fresh random seed on first start. */
export async function loadOrCreateNetworkIdentity(path: string): Promise<NetworkIdentity> {
  try {
    await access(path);
  } catch {
    return saveNetworkIdentity(path, randomSecretKey());
  }
  return loadNetworkIdentity(path);
}
