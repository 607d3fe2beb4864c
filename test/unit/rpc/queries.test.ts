/** The read endpoints: shapes of their happy paths, and their 400s and 404s. */
import t from 'tap';
import { ONE_TAG, addressToString, bytesToHex, hexToBytes } from '../../../lib/index.ts';
import { accountKey, verifyStateProof } from '../../../state/index.ts';
import type { AccountJson, BlockJson, CommittedTxJson, StateProofReplyJson, StatusJson } from '../../../rpc/index.ts';
import { stateProofFromJson } from '../../../sdk/client.ts';
import { CHAIN_ID, newKey, transfer } from './fakeDeps.ts';
import { errorOf, serve } from './helpers.ts';

const HEX_HASH = /^0x[0-9a-f]{64}$/;

t.test('GET /health', async (t) => {
  const { app } = await serve(t);
  const res = await app.inject({ url: '/health' });
  t.equal(res.statusCode, 200);
  t.same(res.json(), { ok: true });
});

t.test('GET /status', async (t) => {
  const { app, block, tree, validator } = await serve(t);
  const res = await app.inject({ url: '/status' });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^application\/json/);
  const s = res.json<StatusJson>();
  t.strictSame(s, {
    chainId: CHAIN_ID,
    nodeId: s.nodeId,
    latestHeight: 1,
    earliestHeight: 1,
    latestBlockHash: '0x' + bytesToHex(block.hash),
    latestStateRoot: '0x' + bytesToHex(tree.root),
    latestTimeMs: block.block.header.timeMs.toString(),
    syncing: false,
    mempool: { txs: 0, bytes: 0 },
    validatorAddress: addressToString(validator.address),
  });
  t.type(s.nodeId, 'string');
});

t.test('GET /status with no validator key gives validatorAddress null', async (t) => {
  const fake = await serve(t);
  const { app } = await serve(t, { status: () => ({ ...fake.deps.status(), validatorAddress: null }) });
  t.equal((await app.inject({ url: '/status' })).json().validatorAddress, null);
});

t.test('GET /v1/accounts/:address', async (t) => {
  const { app, alice, bob } = await serve(t);
  const res = await app.inject({ url: `/v1/accounts/${addressToString(alice.address)}` });
  t.equal(res.statusCode, 200);
  const a = res.json<AccountJson>();
  t.strictSame(a, { address: addressToString(alice.address), balance: (995n * ONE_TAG - 1234n).toString(), nonce: 1, pendingNonce: 1 }, 'nothing waiting: pendingNonce is nonce');

  const b = (await app.inject({ url: `/v1/accounts/${addressToString(bob.address)}` })).json<AccountJson>();
  t.equal(b.balance, (5n * ONE_TAG).toString(), 'amounts are decimal strings of units');

  const stranger = addressToString(newKey().address);
  const s = await app.inject({ url: `/v1/accounts/${stranger}` });
  t.equal(s.statusCode, 200, 'an unknown account is not a 404');
  t.strictSame(s.json(), { address: stranger, balance: '0', nonce: 0, pendingNonce: 0 });

  const upper = await app.inject({ url: `/v1/accounts/${addressToString(alice.address).toUpperCase()}` });
  t.equal(upper.statusCode, 200, 'bech32m in upper case is the same address');
  t.equal(upper.json().address, addressToString(alice.address), 'and is answered in lower case');
});

t.test('GET /v1/accounts/:address: pendingNonce counts the contiguous run waiting in the mempool', async (t) => {
  const { app, alice, bob, deps } = await serve(t);
  const url = `/v1/accounts/${addressToString(alice.address)}`;
  const nonces = async () => {
    const a = (await app.inject({ url })).json<AccountJson>();
    return [a.nonce, a.pendingNonce];
  };
  deps.submitTx(transfer(alice, 1, bob.address, 1n).bytes);
  deps.submitTx(transfer(alice, 2, bob.address, 1n).bytes);
  t.strictSame(await nonces(), [1, 3], 'nonces 1 and 2 wait: the next is 3, the committed nonce unchanged');
  deps.submitTx(transfer(alice, 4, bob.address, 1n).bytes);
  t.strictSame(await nonces(), [1, 3], 'a transaction behind a gap does not count');
  deps.submitTx(transfer(alice, 3, bob.address, 1n).bytes);
  t.strictSame(await nonces(), [1, 5], 'the gap closed: the run reaches 4');
  const b = (await app.inject({ url: `/v1/accounts/${addressToString(bob.address)}` })).json<AccountJson>();
  t.strictSame([b.nonce, b.pendingNonce], [0, 0], "another sender's waiting transactions do not count");
});

t.test('GET /v1/accounts/:address rejects bad addresses', async (t) => {
  const { app, alice } = await serve(t);
  const good = addressToString(alice.address);
  const flipped = good.slice(0, -1) + (good.endsWith('q') ? 'p' : 'q');
  const checksum = await app.inject({ url: `/v1/accounts/${flipped}` });
  t.equal(checksum.statusCode, 400);
  t.equal(errorOf(checksum).code, 'ADDRESS_INVALID', 'a bad checksum is ADDRESS_INVALID');

  for (const bad of ['tag1notanaddress', 'cosmos1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq', good + 'q', '0x' + bytesToHex(alice.address), 'Tag1' + good.slice(4)]) {
    const res = await app.inject({ url: `/v1/accounts/${bad}` });
    t.equal(res.statusCode, 400, bad);
    t.equal(errorOf(res).code, 'RPC_INVALID_REQUEST', bad);
    t.equal(errorOf(res).details['part'], 'params');
  }
});

t.test('GET /v1/blocks/latest, /:height, /by-hash/:hash', async (t) => {
  const { app, block, committed, validator } = await serve(t);
  const hashHex = '0x' + bytesToHex(block.hash);
  const urls = ['/v1/blocks/latest', '/v1/blocks/1', `/v1/blocks/by-hash/${hashHex}`, `/v1/blocks/by-hash/${hashHex.slice(2).toUpperCase()}`];
  for (const url of urls) {
    const res = await app.inject({ url });
    t.equal(res.statusCode, 200, url);
    const b = res.json<BlockJson>();
    t.equal(b.hash, hashHex, url);
    t.equal(b.txCount, 1);
    t.strictSame(b.txs, ['0x' + bytesToHex(committed.hash)], 'transaction hashes');
    t.notOk('decodedTxs' in b, 'no decoded transactions without ?full=true');
    const h = block.block.header;
    t.strictSame(b.header, {
      version: h.version,
      chainId: h.chainId,
      height: 1,
      timeMs: h.timeMs.toString(),
      parentHash: '0x' + '00'.repeat(32),
      lastCommitHash: '0x' + '00'.repeat(32),
      txRoot: '0x' + '01'.repeat(32),
      receiptsRoot: '0x' + '02'.repeat(32),
      stateRoot: '0x' + bytesToHex(h.stateRoot),
      proposer: addressToString(validator.address),
      validatorSetHash: '0x' + '03'.repeat(32),
      nextValidatorSetHash: '0x' + '03'.repeat(32),
    });
    t.equal(b.commit?.height, 1);
    t.equal(b.commit?.round, 0);
    t.equal(b.commit?.blockHash, hashHex);
    t.strictSame(b.commit?.signatures.map((s) => s.validator), [addressToString(validator.address)]);
    t.match(b.commit?.signatures[0]?.signature, /^0x[0-9a-f]{128}$/);
  }
});

t.test('GET /v1/blocks/:height?full=true decodes the transactions', async (t) => {
  const { app, committed, alice, bob } = await serve(t);
  const b = (await app.inject({ url: '/v1/blocks/1?full=true' })).json<BlockJson>();
  t.equal(b.decodedTxs?.length, 1);
  t.strictSame(b.decodedTxs?.[0], {
    hash: '0x' + bytesToHex(committed.hash),
    chainId: CHAIN_ID,
    sender: '0x' + bytesToHex(alice.publicKey),
    senderAddress: addressToString(alice.address),
    nonce: 0,
    maxFee: (ONE_TAG / 10n).toString(),
    signature: '0x' + bytesToHex(committed.signature),
    sizeBytes: committed.bytes.length,
    kind: 'transfer',
    body: { to: addressToString(bob.address), amount: (5n * ONE_TAG).toString() },
  });
  const off = (await app.inject({ url: '/v1/blocks/1?full=false' })).json<BlockJson>();
  t.notOk('decodedTxs' in off);
});

t.test('a block without a stored commit has commit null', async (t) => {
  const fake = await serve(t);
  const { app } = await serve(t, { blockByHeight: async () => ({ ...fake.block, commit: null }) });
  const res = await app.inject({ url: '/v1/blocks/1' });
  t.equal(res.statusCode, 200);
  t.equal(res.json().commit, null);
});

t.test('blocks: not found and invalid parameters', async (t) => {
  const { app } = await serve(t);
  const missing = await app.inject({ url: '/v1/blocks/2' });
  t.equal(missing.statusCode, 404);
  t.strictSame(errorOf(missing), { code: 'BLOCK_NOT_FOUND', message: 'no block at height 2', details: { height: 2, hash: null } });
  const byHash = await app.inject({ url: `/v1/blocks/by-hash/0x${'ab'.repeat(32)}` });
  t.equal(byHash.statusCode, 404);
  t.equal(errorOf(byHash).code, 'BLOCK_NOT_FOUND');

  for (const url of [
    '/v1/blocks/abc',
    '/v1/blocks/-1',
    '/v1/blocks/1.5',
    '/v1/blocks/0x10',
    '/v1/blocks/1e3',
    '/v1/blocks/01',
    '/v1/blocks/4294967296',
    '/v1/blocks/99999999999',
    '/v1/blocks/1?full=yes',
    '/v1/blocks/1?limit=5',
    '/v1/blocks/by-hash/0x1234',
    `/v1/blocks/by-hash/0x${'zz'.repeat(32)}`,
  ]) {
    const res = await app.inject({ url });
    t.equal(res.statusCode, 400, url);
    t.equal(errorOf(res).code, 'RPC_INVALID_REQUEST', url);
  }
  t.equal((await app.inject({ url: '/v1/blocks/4294967295' })).statusCode, 404, 'the largest u32 is a valid height');
});

t.test('latest block before the first block is a 404', async (t) => {
  const fake = await serve(t);
  const { app } = await serve(t, { status: () => ({ ...fake.deps.status(), height: 0 }) });
  const res = await app.inject({ url: '/v1/blocks/latest' });
  t.equal(res.statusCode, 404);
  t.equal(errorOf(res).code, 'BLOCK_NOT_FOUND');
});

t.test('GET /v1/txs/:hash: committed, pending, not found', async (t) => {
  const { app, committed, receipt, block, alice, bob, deps } = await serve(t);
  const hashHex = '0x' + bytesToHex(committed.hash);
  for (const form of [hashHex, hashHex.slice(2), hashHex.toUpperCase().replace('0X', '0x')]) {
    const res = await app.inject({ url: `/v1/txs/${form}` });
    t.equal(res.statusCode, 200, form);
    const v = res.json<CommittedTxJson>();
    t.equal(v.status, 'committed');
    t.equal(v.hash, hashHex);
    t.equal(v.height, 1);
    t.equal(v.index, 0);
    t.equal(v.blockHash, '0x' + bytesToHex(block.hash));
    t.equal(v.tx.hash, hashHex);
    t.equal(v.tx.kind, 'transfer');
    t.strictSame(v.tx.body, { to: addressToString(bob.address), amount: (5n * ONE_TAG).toString() });
    t.equal(v.tx.senderAddress, addressToString(alice.address));
    t.strictSame(v.receipt, {
      status: 'ok',
      code: '',
      fee: receipt.fee.toString(),
      events: [
        {
          type: 'transfer',
          attributes: { from: addressToString(alice.address), to: addressToString(bob.address), amount: (5n * ONE_TAG).toString() },
        },
      ],
    });
  }

  const next = transfer(alice, 1, bob.address, 1n);
  deps.submitTx(next.bytes);
  const pending = await app.inject({ url: `/v1/txs/0x${bytesToHex(next.hash)}` });
  t.equal(pending.statusCode, 200);
  t.strictSame(pending.json(), { status: 'pending', hash: '0x' + bytesToHex(next.hash) });

  const unknown = '0x' + 'cd'.repeat(32);
  const missing = await app.inject({ url: `/v1/txs/${unknown}` });
  t.equal(missing.statusCode, 404);
  t.strictSame(errorOf(missing), { code: 'TX_NOT_FOUND', message: `no transaction ${unknown}`, details: { hash: unknown } });

  for (const bad of ['0x1234', 'zz'.repeat(32), '0x' + 'ab'.repeat(33), '0x' + 'ab'.repeat(31) + 'a']) {
    const res = await app.inject({ url: `/v1/txs/${bad}` });
    t.equal(res.statusCode, 400, bad);
    t.equal(errorOf(res).code, 'RPC_INVALID_REQUEST', bad);
  }
});

t.test('a failed receipt is served with its reason code', async (t) => {
  const fake = await serve(t);
  const view = await fake.deps.tx(fake.committed.hash);
  if (view === undefined) throw new Error('fake has no committed tx');
  const { app } = await serve(t, {
    tx: async () => ({ ...view, receipt: { ...view.receipt, status: 1, code: 'TX_INSUFFICIENT_BALANCE', events: [] } }),
  });
  const v = (await app.inject({ url: `/v1/txs/0x${'00'.repeat(32)}` })).json<CommittedTxJson>();
  t.strictSame(v.receipt, { status: 'failed', code: 'TX_INSUFFICIENT_BALANCE', fee: '1234', events: [] });
});

t.test('GET /v1/state/proof: inclusion and exclusion proofs that verify', async (t) => {
  const { app, alice, tree } = await serve(t);
  const key = accountKey(alice.address);
  const res = await app.inject({ url: `/v1/state/proof?key=0x${bytesToHex(key)}` });
  t.equal(res.statusCode, 200);
  const r = res.json<StateProofReplyJson>();
  t.equal(r.height, 1);
  t.equal(r.stateRoot, '0x' + bytesToHex(tree.root));
  t.equal(r.proof.key, '0x' + bytesToHex(key));
  t.equal(r.proof.value, '0x' + bytesToHex(tree.get(key) as Uint8Array));
  t.ok(r.proof.leaf !== null);
  for (const s of r.proof.siblings) t.match(s, HEX_HASH);
  t.ok(verifyStateProof(hexToBytes(r.stateRoot), stateProofFromJson(r.proof)), 'the served inclusion proof verifies');

  const absentKey = accountKey(newKey().address);
  const absent = (await app.inject({ url: `/v1/state/proof?key=0x${bytesToHex(absentKey)}` })).json<StateProofReplyJson>();
  t.equal(absent.proof.value, null);
  t.ok(verifyStateProof(hexToBytes(absent.stateRoot), stateProofFromJson(absent.proof)), 'the served exclusion proof verifies');

  const tampered = { ...stateProofFromJson(r.proof), value: new Uint8Array([1, 2, 3]) };
  t.notOk(verifyStateProof(hexToBytes(r.stateRoot), tampered), 'and a changed value does not');
});

t.test('GET /v1/state/proof/account/:address', async (t) => {
  const { app, bob } = await serve(t);
  const res = await app.inject({ url: `/v1/state/proof/account/${addressToString(bob.address)}` });
  t.equal(res.statusCode, 200);
  const r = res.json<StateProofReplyJson>();
  t.equal(r.proof.key, '0x' + bytesToHex(accountKey(bob.address)), 'the key is the account key');
  t.not(r.proof.value, null);
  t.ok(verifyStateProof(hexToBytes(r.stateRoot), stateProofFromJson(r.proof)));

  const bad = await app.inject({ url: '/v1/state/proof/account/tag1xyz' });
  t.equal(bad.statusCode, 400);
});

t.test('GET /v1/state/proof rejects bad keys', async (t) => {
  const { app } = await serve(t);
  for (const q of ['', '?key=', '?key=0x', '?key=01', '?key=0x0', '?key=0xzz', `?key=0x${'00'.repeat(257)}`, '?key=0x01&key=0x02', '?key=0x01&x=1']) {
    const res = await app.inject({ url: `/v1/state/proof${q}` });
    t.equal(res.statusCode, 400, q);
    t.equal(errorOf(res).code, 'RPC_INVALID_REQUEST', q);
  }
  t.equal((await app.inject({ url: `/v1/state/proof?key=0x${'00'.repeat(256)}` })).statusCode, 200, 'a 256-byte key is allowed');
});

t.test('GET /v1/blocks/:height/events: the end-of-block events, 404 for a missing block', async (t) => {
  const { app } = await serve(t);
  const res = await app.inject({ url: '/v1/blocks/1/events' });
  t.equal(res.statusCode, 200);
  t.strictSame(res.json(), { height: 1, events: [{ type: 'task_done', attributes: { task: '1', refund: '0', lowConfidence: '0' } }] });
  const missing = await app.inject({ url: '/v1/blocks/2/events' });
  t.equal(missing.statusCode, 404);
  t.equal(errorOf(missing)?.code, 'BLOCK_NOT_FOUND');
  t.equal((await app.inject({ url: '/v1/blocks/x/events' })).statusCode, 400);
});
