/**
 * Writes the test vectors in test/vectors/*.json: `{ description, input, expected }[]`, where
 * `expected` is what the node's code computes from `input` (test/vectors/compute.ts).
 *
 *   node scripts/generateVectors.ts            write every file
 *   node scripts/generateVectors.ts --check    exit 1 if any file would change
 *
 * The vectors are the frozen reference for outside clients and for later versions of this node:
 * regenerating them after a code change that changes any `expected` value is a STATE-BREAKING
 * change (see the header of test/vectors/vectors.test.ts). Review the diff before committing it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addressFromPublicKey, addressToString, bytesToHex, publicKeyFromSecret, sign } from '../lib/index.ts';
import { DEFAULT_PARAMS } from '../state/index.ts';
import { signTx } from '../runtime/index.ts';
import { VOTE_TYPE, voteSigningBytes } from '../consensus/index.ts';
import {
  compute,
  transferFromJson,
  type HeaderJson,
  type ParamsJson,
  type ReceiptJson,
  type TransferJson,
  type Vector,
  type VectorInput,
} from '../test/vectors/compute.ts';

const OUT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'vectors');

const fill = (byte: number, length: number): string => bytesToHex(new Uint8Array(length).fill(byte));
const SK1 = fill(0x01, 32);
const SK2 = fill(0x02, 32);
const SK3 = fill(0x03, 32);
const SK4 = fill(0x04, 32);
const pub = (sk: string): Uint8Array => publicKeyFromSecret(Buffer.from(sk, 'hex'));
const addrHex = (sk: string): string => bytesToHex(addressFromPublicKey(pub(sk)));
const addrStr = (sk: string): string => addressToString(addressFromPublicKey(pub(sk)));
const CHAIN_ID = 'tagger-vectors-1';
const TWO_256_MINUS_1 = ((1n << 256n) - 1n).toString();

function v(description: string, input: VectorInput): Vector {
  return { description, input, expected: compute(input) };
}

/** A string of `n` bytes of ASCII, cycling a–z so that truncation errors show. */
function ascii(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(0x61 + (i % 26));
  return s;
}

function codecVectors(): Vector[] {
  const out: Vector[] = [];
  for (const n of [0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295]) out.push(v(`u32 ${n}`, { type: 'u32', value: n }));
  const amounts: Array<[string, string]> = [
    ['0', 'zero is the empty bin'],
    ['1', ''],
    ['255', ''],
    ['256', 'two bytes'],
    ['1000000000000000000', '1 TAG'],
    [(1n << 64n).toString(), '2^64'],
    [TWO_256_MINUS_1, '2^256 - 1, the largest amount'],
  ];
  for (const [value, note] of amounts) out.push(v(`amount ${value}${note ? ` (${note})` : ''}`, { type: 'amount', value }));
  for (const n of [0, 31, 32, 255, 256]) out.push(v(`str of ${n} bytes`, { type: 'str', value: ascii(n) }));
  out.push(v('str with 2-, 3- and 4-byte UTF-8 characters (length counts bytes: 10)', { type: 'str', value: 'é€😀a' }));
  out.push(v('str of 16 × "é" = 32 bytes: str8 although 16 characters', { type: 'str', value: 'é'.repeat(16) }));
  for (const n of [0, 1, 255, 256]) out.push(v(`bin of ${n} bytes`, { type: 'bin', value: bytesToHex(Uint8Array.from({ length: n }, (_, i) => i & 0xff)) }));
  out.push(v('bool false', { type: 'bool', value: false }));
  out.push(v('bool true', { type: 'bool', value: true }));
  return out;
}

function transfer(description: string, t: TransferJson): Vector {
  return v(description, { type: 'transfer', ...t });
}

function txVectors(): Vector[] {
  return [
    transfer('transfer of 1 TAG from key 0x01…01 to key 0x02…02, nonce 0, maxFee 0.01 TAG (the worked example of docs/spec/encoding.md)', {
      secretKey: SK1,
      chainId: CHAIN_ID,
      nonce: 0,
      maxFee: '10000000000000000',
      to: addrHex(SK2),
      amount: '1000000000000000000',
    }),
    transfer('transfer with maxFee 0 and amount 0 (both empty bins; decodes, but is rejected/failed at execution)', {
      secretKey: SK1,
      chainId: CHAIN_ID,
      nonce: 1,
      maxFee: '0',
      to: addrHex(SK3),
      amount: '0',
    }),
    transfer('transfer with the largest nonce and amount', {
      secretKey: SK2,
      chainId: CHAIN_ID,
      nonce: 4294967295,
      maxFee: TWO_256_MINUS_1,
      to: addrHex(SK1),
      amount: TWO_256_MINUS_1,
    }),
    transfer('the first transfer signed for another chain id: only chainId, signature and hash change', {
      secretKey: SK1,
      chainId: 'tagger-other-1',
      nonce: 0,
      maxFee: '10000000000000000',
      to: addrHex(SK2),
      amount: '1000000000000000000',
    }),
    transfer('nonce 128 and 65536 (uint8 / uint32 int forms) with a 64-byte chain id', {
      secretKey: SK3,
      chainId: ascii(64),
      nonce: 65536,
      maxFee: '128',
      to: addrHex(SK4),
      amount: '65536',
    }),
  ];
}

function exampleHeader(): HeaderJson {
  return {
    version: 1,
    chainId: CHAIN_ID,
    height: 1,
    timeMs: '1767225601000',
    parentHash: fill(0, 32),
    lastCommitHash: fill(0, 32),
    txRoot: fill(0x11, 32),
    receiptsRoot: fill(0x22, 32),
    stateRoot: fill(0x33, 32),
    proposer: addrHex(SK4),
    validatorSetHash: fill(0x55, 32),
    nextValidatorSetHash: fill(0x66, 32),
  };
}

function exampleReceipts(): ReceiptJson[] {
  return [
    {
      txHash: fill(0xab, 32),
      status: 0,
      code: '',
      fee: '1000151000000000',
      events: [
        { type: 'fee', attributes: [['payer', addrStr(SK1)], ['amount', '1000151000000000'], ['burned', '500075500000000']] },
        { type: 'transfer', attributes: [['from', addrStr(SK1)], ['to', addrStr(SK2)], ['amount', '1000000000000000000']] },
      ],
    },
    {
      txHash: fill(0xcd, 32),
      status: 1,
      code: 'TX_INSUFFICIENT_BALANCE',
      fee: '1000151000000000',
      events: [{ type: 'fee', attributes: [['payer', addrStr(SK2)], ['amount', '1000151000000000'], ['burned', '500075500000000']] }],
    },
  ];
}

function blockVectors(): Vector[] {
  const header = exampleHeader();
  const tx0 = transferFromJson({ secretKey: SK1, chainId: CHAIN_ID, nonce: 0, maxFee: '10000000000000000', to: addrHex(SK2), amount: '1000000000000000000' });
  const tx1 = transferFromJson({ secretKey: SK2, chainId: CHAIN_ID, nonce: 0, maxFee: '10000000000000000', to: addrHex(SK1), amount: '5' });
  const s0 = bytesToHex(signTx(tx0, Buffer.from(SK1, 'hex')).bytes);
  const s1 = bytesToHex(signTx(tx1, Buffer.from(SK2, 'hex')).bytes);
  const [r0, r1] = exampleReceipts() as [ReceiptJson, ReceiptJson];
  return [
    v('header at height 1 (parentHash zeros); the block hash is SHA-256 of this encoding', { type: 'header', header }),
    v('header with every u32 and the time at their widest', {
      type: 'header',
      header: { ...header, version: 4294967295, height: 4294967295, timeMs: '18446744073709551615', chainId: ascii(64) },
    }),
    v('empty block at height 1 (no last commit)', { type: 'block', header, lastCommit: '', txs: [] }),
    v('block with a last commit and two signed transfers', { type: 'block', header: { ...header, height: 2, parentHash: fill(0x77, 32), lastCommitHash: fill(0x66, 32) }, lastCommit: fill(0x55, 40), txs: [s0, s1] }),
    v('successful transfer receipt (status 0, code "")', { type: 'receipt', receipt: r0 }),
    v('failed transfer receipt (status 1, the failure code, only the fee event)', { type: 'receipt', receipt: r1 }),
    v('receipt with no events and fee 0', { type: 'receipt', receipt: { txHash: fill(0, 32), status: 0, code: '', fee: '0', events: [] } }),
    v('the receipts of one block, as stored', { type: 'receipts', receipts: [r0, r1] }),
    v('no receipts', { type: 'receipts', receipts: [] }),
  ];
}

function consensusVectors(): Vector[] {
  const validator = addrHex(SK1);
  const blockHash = fill(0xbb, 32);
  const votes: Array<[string, number, number, number, string]> = [
    ['prevote for a block', VOTE_TYPE.prevote, 1, 0, blockHash],
    ['precommit for a block', VOTE_TYPE.precommit, 1, 0, blockHash],
    ['prevote for nil (empty blockHash)', VOTE_TYPE.prevote, 7, 3, ''],
    ['precommit at height 65536, round 128', VOTE_TYPE.precommit, 65536, 128, blockHash],
  ];
  const out = votes.map(([d, type, height, round, hash]) =>
    v(d, { type: 'vote', chainId: CHAIN_ID, secretKey: SK1, vote: { type, height, round, blockHash: hash, validator } }),
  );
  // A commit signed by keys 1, 2 and 3, signatures sorted by validator address.
  const signers = [SK1, SK2, SK3]
    .map((sk) => {
      const address = addrHex(sk);
      const vote = { type: VOTE_TYPE.precommit, height: 1, round: 0, blockHash: Buffer.from(blockHash, 'hex'), validator: Buffer.from(address, 'hex') };
      return { validator: address, signature: bytesToHex(sign(Buffer.from(sk, 'hex'), voteSigningBytes(CHAIN_ID, vote))) };
    })
    .sort((a, b) => (a.validator < b.validator ? -1 : 1));
  out.push(v('commit for a block at height 1 with three precommit signatures, sorted by validator address', {
    type: 'commit',
    commit: { height: 1, round: 0, blockHash, signatures: signers },
  }));
  out.push(v('commit with no signatures (what a single-node chain stores is still a valid encoding)', {
    type: 'commit',
    commit: { height: 2, round: 1, blockHash, signatures: [] },
  }));
  return out;
}

function addressVectors(): Vector[] {
  return [
    v('secret key 0x01…01', { type: 'address', secretKey: SK1 }),
    v('secret key 0x02…02', { type: 'address', secretKey: SK2 }),
    v('secret key 0x03…03', { type: 'address', secretKey: SK3 }),
    v('RFC 8032 test 1 public key', { type: 'address', publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a' }),
    v('32 zero bytes as a public key (derivation does not check the key)', { type: 'address', publicKey: fill(0, 32) }),
    v('32 bytes 0xff as a public key', { type: 'address', publicKey: fill(0xff, 32) }),
  ];
}

function merkleVectors(): Vector[] {
  const out: Vector[] = [];
  for (const n of [0, 1, 2, 3, 4, 5, 7, 8]) {
    const leaves = Array.from({ length: n }, (_, i) => bytesToHex(Uint8Array.of(i)));
    out.push(v(`${n} leaves: [${leaves.map((l) => `0x${l}`).join(', ')}]`, { type: 'merkleRoot', leaves }));
  }
  out.push(v('one empty leaf: SHA-256(0x00)', { type: 'merkleRoot', leaves: [''] }));
  out.push(v('two leaves of different lengths', { type: 'merkleRoot', leaves: ['', 'deadbeef'] }));
  return out;
}

const paramsJson = (): ParamsJson => ({
  baseFee: DEFAULT_PARAMS.baseFee.toString(),
  perByteFee: DEFAULT_PARAMS.perByteFee.toString(),
  feeBurnPercent: DEFAULT_PARAMS.feeBurnPercent,
  txBytesMax: DEFAULT_PARAMS.txBytesMax,
  blockTxCountMax: DEFAULT_PARAMS.blockTxCountMax,
  blockBytesMax: DEFAULT_PARAMS.blockBytesMax,
});

function stateVectors(): Vector[] {
  const validators = [SK3, SK4]
    .map((sk, i) => ({ address: addrHex(sk), publicKey: bytesToHex(pub(sk)), power: (BigInt(i + 1) * 10n ** 21n).toString(), name: `validator-${i}` }))
    .sort((a, b) => (a.address < b.address ? -1 : 1));
  const genesis = {
    chainId: CHAIN_ID,
    genesisTime: '2026-01-01T00:00:00.000Z',
    params: paramsJson(),
    validators: [
      { name: 'validator-0', publicKey: bytesToHex(pub(SK3)), power: '1000000000000000000000' },
      { name: 'validator-1', publicKey: bytesToHex(pub(SK4)), power: '2000000000000000000000' },
    ],
    accounts: [
      { address: addrStr(SK1), balance: '1000000000000000000000' },
      { address: addrStr(SK2), balance: '5000000000000000' },
    ],
  };
  const MAX_FEE = '10000000000000000';
  const proposer = addrHex(SK3);
  const stranger = bytesToHex(addressFromPublicKey(pub(fill(0x05, 32))));
  return [
    v('account: zero balance, nonce 1', { type: 'account', balance: '0', nonce: 1 }),
    v('account: 1000 TAG, nonce 0', { type: 'account', balance: '1000000000000000000000', nonce: 0 }),
    v('account: the largest balance and nonce', { type: 'account', balance: TWO_256_MINUS_1, nonce: 4294967295 }),
    v('validator set of two, sorted by address', { type: 'validatorSet', validators }),
    v('empty validator set', { type: 'validatorSet', validators: [] }),
    v('default params', { type: 'params', params: paramsJson() }),
    v('params with zero fees and no burn', {
      type: 'params',
      params: { baseFee: '0', perByteFee: '0', feeBurnPercent: 0, txBytesMax: 256, blockTxCountMax: 1, blockBytesMax: 1024 },
    }),
    v('state roots: genesis (two accounts, two validators), then three blocks of transfers', {
      type: 'chain',
      genesis,
      blocks: [
        {
          proposer,
          timeMs: '1767225601000',
          txs: [
            { secretKey: SK1, nonce: 0, maxFee: MAX_FEE, to: addrHex(SK2), amount: '1000000000000000000' },
            { secretKey: SK1, nonce: 1, maxFee: MAX_FEE, to: stranger, amount: '1' },
          ],
        },
        {
          proposer: addrHex(SK4),
          timeMs: '1767225602000',
          txs: [
            { secretKey: SK2, nonce: 0, maxFee: MAX_FEE, to: addrHex(SK1), amount: '2000000000000000000' },
            { secretKey: SK1, nonce: 2, maxFee: MAX_FEE, to: addrHex(SK1), amount: '7' },
            { secretKey: SK2, nonce: 1, maxFee: MAX_FEE, to: stranger, amount: '0' },
          ],
        },
        { proposer, timeMs: '1767225603000', txs: [] },
      ],
    }),
  ];
}

export function allVectors(): Record<string, Vector[]> {
  return {
    'codec.json': codecVectors(),
    'tx.json': txVectors(),
    'block.json': blockVectors(),
    'consensus.json': consensusVectors(),
    'address.json': addressVectors(),
    'merkle.json': merkleVectors(),
    'state.json': stateVectors(),
  };
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  let changed = 0;
  for (const [name, vectors] of Object.entries(allVectors())) {
    const path = join(OUT_DIR, name);
    const text = JSON.stringify(vectors, null, 2) + '\n';
    let old: string | null = null;
    try {
      old = await readFile(path, 'utf8');
    } catch {
      old = null;
    }
    if (old === text) continue;
    changed += 1;
    if (check) {
      console.error(`${name}: would change`);
    } else {
      await writeFile(path, text);
      console.log(`${name}: written (${vectors.length} vectors)`);
    }
  }
  if (check && changed > 0) process.exit(1);
  if (changed === 0) console.log('all vectors up to date');
}

await main();
