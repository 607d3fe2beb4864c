/** Headers, blocks and receipts (runtime/block.ts) and header linkage (runtime/applyBlock.ts). */
import t from 'tap';
import { bytesToHex, hexToBytes, sha256 } from '../../../lib/index.ts';
import {
  BLOCK_VERSION,
  blockSeed,
  lastCommitHash,
  blockHash,
  decodeBlock,
  decodeHeader,
  decodeReceipt,
  decodeReceipts,
  encodeBlock,
  encodeHeader,
  encodeReceipt,
  encodeReceipts,
  validateHeaderLinkage,
  type Header,
} from '../../../runtime/index.ts';
import { TEST_CHAIN_ID, errorOf, sampleHeader, sampleReceipt, signedTransfer, fixedKey } from '../../utils/factories.ts';
import * as mp from '../../utils/mp.ts';

const header = sampleHeader();
const hex = bytesToHex;

t.test('header: 12 fields in order; the block hash is SHA-256 of its encoding', async (t) => {
  const wire = mp.arr(
    mp.u32(header.version),
    mp.str(header.chainId),
    mp.u32(header.height),
    mp.amount(header.timeMs),
    ...[header.parentHash, header.lastCommitHash, header.txRoot, header.receiptsRoot, header.stateRoot, header.proposer, header.validatorSetHash, header.nextValidatorSetHash].map((b) => mp.bin(hex(b))),
  );
  t.equal(hex(encodeHeader(header)), wire);
  t.equal(hex(blockHash(header)), hex(sha256(hexToBytes(wire))));
  t.same(decodeHeader(hexToBytes(wire)), header);
  for (const [field, value] of Object.entries({ height: 2, chainId: 'x', timeMs: header.timeMs + 1n, stateRoot: new Uint8Array(32) })) {
    t.not(hex(blockHash({ ...header, [field]: value })), hex(blockHash(header)), `the hash covers ${field}`);
  }
});

t.test('block: [header, lastCommit, [signed tx bytes…]]', async (t) => {
  const tx = signedTransfer(fixedKey(1), 0, fixedKey(2).address, 1n);
  const lastCommit = Uint8Array.of(1, 2, 3);
  const block = { header, lastCommit, txs: [tx.bytes] };
  t.equal(hex(encodeBlock(block)), mp.arr(hex(encodeHeader(header)), mp.bin('010203'), mp.arr(mp.bin(hex(tx.bytes)))));
  t.same(decodeBlock(encodeBlock(block)), block);
  const empty = new Uint8Array(0);
  t.equal(errorOf(() => decodeBlock(encodeBlock({ header: { ...header, proposer: new Uint8Array(32) }, lastCommit: empty, txs: [] })))?.code, 'CODEC_OVERSIZE', 'a 32-byte proposer');
  t.equal(errorOf(() => decodeBlock(encodeBlock({ header, lastCommit: new Uint8Array(64 * 1024 + 1), txs: [] })))?.code, 'CODEC_OVERSIZE', 'an oversize last commit');
});

t.test('lastCommitHash and blockSeed', async (t) => {
  t.equal(hex(lastCommitHash(new Uint8Array(0))), hex(new Uint8Array(32)), 'no commit hashes to zero');
  t.equal(hex(lastCommitHash(Uint8Array.of(7))), hex(sha256(Uint8Array.of(7))));
  const parent = new Uint8Array(32).fill(9);
  const seed = blockSeed(parent, Uint8Array.of(1, 2));
  t.equal(seed.length, 32);
  t.equal(hex(blockSeed(parent, Uint8Array.of(1, 2))), hex(seed), 'deterministic');
  t.not(hex(blockSeed(parent, Uint8Array.of(1, 3))), hex(seed), 'depends on the signatures');
  t.not(hex(blockSeed(new Uint8Array(32), Uint8Array.of(1, 2))), hex(seed), 'depends on the parent');
});

t.test('receipts round trip', async (t) => {
  const ok = sampleReceipt();
  const failed = sampleReceipt({ status: 1, code: 'TX_INSUFFICIENT_BALANCE', events: ok.events.slice(0, 1) });
  t.same(decodeReceipt(encodeReceipt(ok)), ok);
  t.same(decodeReceipts(encodeReceipts([ok, failed])), [ok, failed]);
  t.equal(hex(encodeReceipts([ok, failed])), mp.arr(hex(encodeReceipt(ok)), hex(encodeReceipt(failed))));
});

t.test('header linkage', async (t) => {
  const parent = { height: 0, hash: new Uint8Array(32), timeMs: header.timeMs - 1000n };
  t.equal(errorOf(() => validateHeaderLinkage(header, parent, TEST_CHAIN_ID)), null, 'valid');
  const cases: Array<[string, Partial<Header>, string]> = [
    ['version', { version: BLOCK_VERSION + 1 }, 'BLOCK_WRONG_VERSION'],
    ['chain', { chainId: 'other' }, 'BLOCK_WRONG_CHAIN'],
    ['height', { height: 2 }, 'BLOCK_WRONG_HEIGHT'],
    ['parent', { parentHash: new Uint8Array(32).fill(1) }, 'BLOCK_WRONG_PARENT'],
    ['same time', { timeMs: parent.timeMs }, 'BLOCK_TIME_NOT_INCREASING'],
    ['earlier time', { timeMs: parent.timeMs - 1n }, 'BLOCK_TIME_NOT_INCREASING'],
  ];
  for (const [name, over, code] of cases) t.equal(errorOf(() => validateHeaderLinkage({ ...header, ...over }, parent, TEST_CHAIN_ID))?.code, code, name);
});
