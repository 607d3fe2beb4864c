/**
 * Proposal encoding (canonical codec) and signing bytes.
 *
 *   Proposal = [height: u32, round: u32, blockHash: bin(32), validRound: u32 (0xffffffff = none),
 *               proposer: bin(20)]
 *
 * Signed with ed25519 over `signingBytes('proposal', chainId, encode(Proposal))`.
 */
import { CodecError, Reader, decodeCanonical, encode, signingBytes } from '../../lib/index.ts';
import type { Proposal } from './machine.ts';

export const VALID_ROUND_NONE = 0xffffffff;

export function encodeProposal(p: Proposal): Uint8Array {
  return encode([p.height, p.round, p.blockHash, p.validRound === -1 ? VALID_ROUND_NONE : p.validRound, p.proposer]);
}

export function decodeProposal(bytes: Uint8Array): Proposal {
  return decodeCanonical(bytes, 'Proposal', 256, (value) => {
    const r = Reader.array(value, 'Proposal', 5);
    const height = r.u32('height');
    const round = r.u32('round');
    const blockHash = r.bytes('blockHash', 32);
    const vr = r.u32('validRound');
    if (vr !== VALID_ROUND_NONE && vr >= round) {
      throw new CodecError({ code: 'CODEC_WRONG_TYPE', what: 'Proposal', field: 'validRound', expected: 'below round or 0xffffffff' });
    }
    return { height, round, blockHash, validRound: vr === VALID_ROUND_NONE ? -1 : vr, proposer: r.bytes('proposer', 20) };
  }, encodeProposal);
}

export function proposalSigningBytes(chainId: string, p: Proposal): Uint8Array {
  return signingBytes('proposal', chainId, encodeProposal(p));
}
