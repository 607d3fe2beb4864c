/** Proposal codec (consensus/core/proposal.ts). */
import t from 'tap';
import { decodeProposal, encodeProposal, proposalSigningBytes, type Proposal } from '../../../../consensus/core/index.ts';
import { addr, hash } from './harness.ts';

t.test('round trip, validRound none as 0xffffffff', async (t) => {
  const p: Proposal = { height: 5, round: 2, blockHash: hash(1), validRound: -1, proposer: addr(0) };
  t.same(decodeProposal(encodeProposal(p)), p);
  const q: Proposal = { ...p, validRound: 1 };
  t.same(decodeProposal(encodeProposal(q)), q);
  t.not(Buffer.from(encodeProposal(p)).toString('hex'), Buffer.from(encodeProposal(q)).toString('hex'));
  t.ok(proposalSigningBytes('tagger-1', p).length > encodeProposal(p).length);
});

t.test('rejects validRound ≥ round and bad lengths', async (t) => {
  const p: Proposal = { height: 5, round: 2, blockHash: hash(1), validRound: 2, proposer: addr(0) };
  t.throws(() => decodeProposal(encodeProposal(p)));
  t.throws(() => decodeProposal(encodeProposal({ ...p, validRound: -1, blockHash: new Uint8Array(31) })));
  t.throws(() => decodeProposal(encodeProposal({ ...p, validRound: -1, proposer: new Uint8Array(19) })));
});
