/**
 * Staking transaction bodies and their wire forms (the `payload` of a Tx whose `kind` is one of
 * STAKING_KIND). See docs/spec/staking.md §Transactions.
 *
 *   validatorCreate  10  [consensusKey: bin(32), selfStake: amount, commissionBps: u32, moniker: str]
 *   validatorEdit    11  [commissionBps: u32, moniker: str]
 *   delegate         12  [validator: bin(20), amount: amount]
 *   undelegate       13  [validator: bin(20), amount: amount]
 *   (14 is unassigned: moving stake between validators is an undelegate and a delegate)
 *   unjail           15  []
 *   claimRewards     16  [validator: bin(20)]
 *   evidence         17  [voteA: SignedVote, voteB: SignedVote]
 *   SignedVote = [type: u32 (1 prevote, 2 precommit), height: u32, round: u32,
 *                 blockHash: bin(0 or 32), validator: bin(20), signature: bin(64)]
 *
 * `validator` is the operator address (the account that created the validator); a vote's
 * `validator` is the consensus address (derived from the consensus key).
 */
import { ADDRESS_BYTES, CodecError, Reader, amountToBytes, type Encodable } from '../../lib/index.ts';
import { MONIKER_BYTES_MAX } from './records.ts';
import { VOTE_TYPES, type SignedVote } from './votes.ts';

/** Wire numbers. STATE-BREAKING, never reused. */
export const STAKING_KIND = {
  validatorCreate: 10,
  validatorEdit: 11,
  delegate: 12,
  undelegate: 13,
  unjail: 15,
  claimRewards: 16,
  evidence: 17,
} as const;

export type StakingBody =
  | { kind: 'validatorCreate'; consensusKey: Uint8Array; selfStake: bigint; commissionBps: number; moniker: string }
  | { kind: 'validatorEdit'; commissionBps: number; moniker: string }
  | { kind: 'delegate'; validator: Uint8Array; amount: bigint }
  | { kind: 'undelegate'; validator: Uint8Array; amount: bigint }
  | { kind: 'unjail' }
  | { kind: 'claimRewards'; validator: Uint8Array }
  | { kind: 'evidence'; voteA: SignedVote; voteB: SignedVote };

export type StakingKindName = StakingBody['kind'];

const STAKING_KIND_NAMES: ReadonlySet<string> = new Set(Object.keys(STAKING_KIND));

export function isStakingKind(kind: number): boolean {
  return kind >= STAKING_KIND.validatorCreate && kind <= STAKING_KIND.evidence && kind !== 14;
}

export function isStakingBody(body: { kind: string }): body is StakingBody {
  return STAKING_KIND_NAMES.has(body.kind);
}

function signedVoteToWire(v: SignedVote): Encodable[] {
  return [v.type, v.height, v.round, v.blockHash, v.validator, v.signature];
}

export function stakingBodyToWire(body: StakingBody): [number, Encodable[]] {
  switch (body.kind) {
    case 'validatorCreate':
      return [STAKING_KIND.validatorCreate, [body.consensusKey, amountToBytes(body.selfStake), body.commissionBps, body.moniker]];
    case 'validatorEdit':
      return [STAKING_KIND.validatorEdit, [body.commissionBps, body.moniker]];
    case 'delegate':
      return [STAKING_KIND.delegate, [body.validator, amountToBytes(body.amount)]];
    case 'undelegate':
      return [STAKING_KIND.undelegate, [body.validator, amountToBytes(body.amount)]];
    case 'unjail':
      return [STAKING_KIND.unjail, []];
    case 'claimRewards':
      return [STAKING_KIND.claimRewards, [body.validator]];
    case 'evidence':
      return [STAKING_KIND.evidence, [signedVoteToWire(body.voteA), signedVoteToWire(body.voteB)]];
  }
}

function parseSignedVote(value: unknown, what: string): SignedVote {
  const r = Reader.array(value, what, 6);
  const type = r.u32('type', 2);
  if (!VOTE_TYPES.includes(type)) throw new CodecError({ code: 'CODEC_WRONG_TYPE', what, field: 'type', expected: '1 or 2' });
  const height = r.u32('height');
  const round = r.u32('round');
  const blockHash = r.bytesMax('blockHash', 32);
  if (blockHash.length !== 0 && blockHash.length !== 32) {
    throw new CodecError({ code: 'CODEC_WRONG_LENGTH', what, field: 'blockHash', expected: 32, actual: blockHash.length });
  }
  return { type, height, round, blockHash, validator: r.bytes('validator', ADDRESS_BYTES), signature: r.bytes('signature', 64) };
}

export function parseStakingBody(kind: number, payload: unknown): StakingBody {
  switch (kind) {
    case STAKING_KIND.validatorCreate: {
      const r = Reader.array(payload, 'ValidatorCreate', 4);
      return {
        kind: 'validatorCreate',
        consensusKey: r.bytes('consensusKey', 32),
        selfStake: r.amount('selfStake'),
        commissionBps: r.u32('commissionBps', 10_000),
        moniker: r.str('moniker', MONIKER_BYTES_MAX),
      };
    }
    case STAKING_KIND.validatorEdit: {
      const r = Reader.array(payload, 'ValidatorEdit', 2);
      return { kind: 'validatorEdit', commissionBps: r.u32('commissionBps', 10_000), moniker: r.str('moniker', MONIKER_BYTES_MAX) };
    }
    case STAKING_KIND.delegate: {
      const r = Reader.array(payload, 'Delegate', 2);
      return { kind: 'delegate', validator: r.bytes('validator', ADDRESS_BYTES), amount: r.amount('amount') };
    }
    case STAKING_KIND.undelegate: {
      const r = Reader.array(payload, 'Undelegate', 2);
      return { kind: 'undelegate', validator: r.bytes('validator', ADDRESS_BYTES), amount: r.amount('amount') };
    }
    case STAKING_KIND.unjail:
      Reader.array(payload, 'Unjail', 0);
      return { kind: 'unjail' };
    case STAKING_KIND.claimRewards:
      return { kind: 'claimRewards', validator: Reader.array(payload, 'ClaimRewards', 1).bytes('validator', ADDRESS_BYTES) };
    case STAKING_KIND.evidence: {
      const r = Reader.array(payload, 'Evidence', 2);
      return { kind: 'evidence', voteA: parseSignedVote(r.raw(), 'Evidence.voteA'), voteB: parseSignedVote(r.raw(), 'Evidence.voteB') };
    }
    default:
      throw new CodecError(
        { code: 'CODEC_WRONG_TYPE', what: 'Tx', field: 'kind', expected: 'a known transaction kind' },
        `Tx.kind: unknown transaction kind ${kind}`,
      );
  }
}
