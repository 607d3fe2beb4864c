/**
 * The bridge CLI commands (node/bridgeCommands.ts) in-process, against the real RPC server on
 * 127.0.0.1 over a chain driven by the runtime (test/unit/bridge/harness.ts; a submitted
 * transaction is applied in a block at once) and a real local EVM node over JSON-RPC standing in
 * for BNB Chain, with TagToken and TaggerBridge deployed (test/bridge/fixtures/rpcBridge.ts):
 * deposit (and --wait until minted), withdraw, prove (before and after its checkpoint, --submit
 * before and after the checkpoint is on BNB Chain, and twice), status and audit — MATCH, then FAIL
 * after TAG is minted on Tagger chain without a lock, with the exit code from the real binary. Then
 * usage errors, which send nothing.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ChainError, addressToString, bytesToHex } from '../../lib/index.ts';
import { decodeSignedTx, loadBridgeGlobals, type Receipt } from '../../runtime/index.ts';
import { loadAccount } from '../../state/index.ts';
import { BnbLookup, TAGGER_BRIDGE } from '../../bridge/index.ts';
import { buildServer, type TxView } from '../../rpc/index.ts';
import { BridgeClient, Keyring, MIN_SCRYPT_N, submitCheckpointArgs } from '../../sdk/index.ts';
import { cmdBridge, type BridgeFlags } from '../../node/bridgeCommands.ts';
import type { CliContext } from '../../node/labellingCommands.ts';
import { TEST_CHAIN_ID } from '../utils/factories.ts';
import { createFake } from './rpc/fakeDeps.ts';
import { BridgeChain, TAG } from './bridge/harness.ts';
import { CHAIN_ID, RpcBridge, account, keyHex } from '../bridge/fixtures/rpcBridge.ts';
import { bytes } from '../bridge/fixtures/bridgeFixture.ts';

const MAIN = fileURLToPath(new URL('../../node/main.ts', import.meta.url));
const run = promisify(execFile);

class UsageError extends ChainError<{ code: 'CLI_USAGE'; reason: string }> {}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return '';
  } catch (e: unknown) {
    return e instanceof ChainError ? String(e.code) : `not a ChainError: ${String(e)}`;
  }
}

t.test('bridge commands against a node and a local EVM node', async (t) => {
  const b = await RpcBridge.start({ finalityDepth: 1 });
  t.teardown(() => b.stop());
  const c = new BridgeChain({ validators: 3, bridgeKeys: b.group.validators.map((v) => v.key), params: { bnbChainId: CHAIN_ID, bridgeContract: bytes(b.bridge) } });
  c.registerAll();
  const txs = new Map<string, TxView>();
  // The node's BNB Chain lookup, over the real node: small chunks, so a search spans several.
  const lookup = new BnbLookup(b.direct, { bridge: b.bridge, fromBlock: 0n, chunkBlocks: 8n, chunksMax: 100 });
  const { deps } = createFake({
    bnb: lookup,
    status: () => ({ chainId: TEST_CHAIN_ID, nodeId: 'n', height: c.height, blockHash: new Uint8Array(32), stateRoot: new Uint8Array(32), timeMs: c.timeMs, syncing: false, mempoolTxs: 0, mempoolBytes: 0, validatorAddress: null }),
    account: (address) => ({ ...loadAccount(c.state, address), pendingNonce: loadAccount(c.state, address).nonce }),
    submitTx: (raw) => {
      const signed = decodeSignedTx(raw);
      const receipt = c.block([signed])[0] as Receipt;
      txs.set(bytesToHex(signed.hash), { tx: signed, height: c.height, index: 0, blockHash: new Uint8Array(32), receipt });
      return { hash: signed.hash, duplicate: false };
    },
    tx: async (hash) => txs.get(bytesToHex(hash)),
    isPending: () => false,
    state: () => ({ height: c.height, reader: c.state }),
  });
  const app = await buildServer(deps, { logger: false });
  t.teardown(() => app.close());
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const bnbRpc = b.node.url;

  const printed: unknown[] = [];
  const ctx: CliContext = {
    home: '/nonexistent',
    nodeUrl: async () => url,
    unlock: async (name) => {
      if (name !== 'user') throw new Error(`no key ${name}`);
      return c.user.secretKey;
    },
    keyInfo: async () => ({ name: 'user', address: addressToString(c.user.address), publicKey: '0x' + bytesToHex(c.user.publicKey) }),
    print: (v) => void printed.push(v),
    usage: (reason) => new UsageError({ code: 'CLI_USAGE', reason }, reason),
  };
  const bridge = async (args: string[], flags: BridgeFlags): Promise<Record<string, unknown>> => {
    printed.length = 0;
    await cmdBridge(ctx, args, flags);
    return printed.at(-1) as Record<string, unknown>;
  };
  const user = addressToString(c.user.address);
  const user1 = account('user/1').address;

  // deposit: approve (already given to the bridge by the fixture) + deposit; the contract named by the chain.
  const dep = await bridge(['deposit'], { to: user, amount: '5', 'bnb-rpc': bnbRpc, 'evm-key': keyHex('user/0') });
  t.match(dep, { nonce: 1, recipient: user, amount: (5n * TAG).toString(), bnbTxHash: /^0x[0-9a-f]{64}$/, status: 'locked' });
  t.equal(await b.view<bigint>('totalLocked'), 5n * TAG);
  c.attest([0, 1, 2], c.depositBody(1, c.user.address, 5n * TAG));

  // deposit --wait: minted once the validators attest (done here when the deposit shows on BNB Chain).
  const waiting = bridge(['deposit'], { to: user, amount: '1.5', 'bnb-rpc': bnbRpc, 'evm-key': keyHex('user/2'), bridge: b.bridge, wait: true });
  for (let i = 0; i < 500 && (await b.view<bigint>('depositNonce')) < 2n; i++) await new Promise((r) => setTimeout(r, 20));
  c.attest([0, 1, 2], c.depositBody(2, c.user.address, 1_500_000_000_000_000_000n));
  t.match(await waiting, { nonce: 2, status: 'minted', amount: '1500000000000000000' });
  t.equal(loadBridgeGlobals(c.state).bridgedSupply, 6_500_000_000_000_000_000n);

  // withdraw, then prove: not before its checkpoint; --submit not before the checkpoint is on BNB Chain.
  c.advanceTo(5); // checkpoint 1 closes empty
  c.block([0, 1, 2].map((i) => c.tx(c.validatorKeys[i]!, c.signBody(1, c.checkpoint(1).digest, i))));
  t.match(await bridge(['withdraw'], { to: user1, amount: '2', from: 'user' }), { nonce: 1, sender: user, recipient: user1.toLowerCase(), amount: (2n * TAG).toString() });
  t.equal(await codeOf(bridge(['prove'], { nonce: '1' })), 'BRIDGE_NOT_CHECKPOINTED');
  c.advanceTo(10); // checkpoint 2 takes the withdrawal
  c.block([0, 1, 2].map((i) => c.tx(c.validatorKeys[i]!, c.signBody(2, c.checkpoint(2).digest, i))));
  const proof = await bridge(['prove'], { nonce: '1' });
  t.match(proof, { nonce: 1, status: 'signed', checkpoint: 2, index: 0, withdrawal: { nonce: 1, sender: '0x' + bytesToHex(c.user.address), recipient: user1.toLowerCase(), amount: (2n * TAG).toString() }, proof: [] });
  const submit = { nonce: '1', submit: true, 'bnb-rpc': bnbRpc, 'evm-key': keyHex('relayer/1') };
  t.equal(await codeOf(bridge(['prove'], submit)), 'BRIDGE_CHECKPOINT_NOT_ON_BNB');
  const tagger = new BridgeClient({ url });
  const submitted: string[] = [];
  for (const n of [1, 2]) {
    const receipt = await b.write('relayer/0', b.bridge, TAGGER_BRIDGE.abi, 'submitCheckpoint', submitCheckpointArgs(await tagger.checkpoint(n)));
    t.equal(receipt.status, 'success', `checkpoint ${n} accepted`);
    submitted.push(receipt.transactionHash);
  }
  t.strictSame((await tagger.checkpoint(2)).bnb, { txHash: submitted[1], error: null }, 'the node finds the submission on BNB Chain');
  t.strictSame((await tagger.withdrawal(1)).bnb, { txHash: null, error: null }, 'not released yet');
  const before = await b.balance(user1);
  const release = await bridge(['prove'], submit);
  t.match(release, { nonce: 1, released: true, queuedUntil: null, bnbTxHash: /^0x[0-9a-f]{64}$/ });
  t.strictSame((await tagger.withdrawal(1)).bnb, { txHash: release['bnbTxHash'], error: null }, 'the node finds the release on BNB Chain');
  t.equal((await b.balance(user1)) - before, 2n * TAG);
  t.equal(await codeOf(bridge(['prove'], submit)), 'BRIDGE_ALREADY_CLAIMED');

  // status and audit.
  const status = await bridge(['status'], { 'bnb-rpc': bnbRpc, json: true });
  t.match(status, { tagger: { globals: { bridgedSupply: (4_500_000_000_000_000_000n).toString(), lastCheckpoint: 2 } }, bnb: { lastCheckpoint: 2, depositNonce: 2, lockedBalance: (4_500_000_000_000_000_000n).toString(), paused: false } });
  printed.length = 0;
  await cmdBridge(ctx, ['status'], { 'bnb-rpc': bnbRpc });
  t.match(printed[0], /bridged supply\s+4\.5 TAG[\s\S]*locked balance\s+4\.5 TAG/);
  printed.length = 0;
  await cmdBridge(ctx, ['audit'], { 'bnb-rpc': bnbRpc });
  const lines = String(printed[0]).split('\n');
  t.equal(lines.filter((l) => l.startsWith('MATCH ')).length, 4, lines.join('\n'));
  t.match(await bridge(['audit'], { 'bnb-rpc': bnbRpc, bridge: b.bridge, json: true }), { ok: true, checks: { length: 4 } });

  // TAG minted on Tagger chain for a deposit BNB Chain never saw: the audit fails, and the binary exits 1.
  c.attest([0, 1, 2], c.depositBody(3, c.user.address, TAG));
  printed.length = 0;
  t.equal(await codeOf(cmdBridge(ctx, ['audit'], { 'bnb-rpc': bnbRpc })), 'BRIDGE_AUDIT_FAILED');
  t.match(printed[0], /FAIL {2}locked-covers-bridged: 4\.5 TAG ≥ 5\.5 TAG/);
  t.match(printed[0], /FAIL {2}minted-within-locked/);
  const exit = await run(process.execPath, [MAIN, 'bridge', 'audit', '--rpc', url, '--bnb-rpc', bnbRpc]).then(
    () => ({ code: 0, stdout: '', stderr: '' }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
  t.equal(exit.code, 1);
  t.match(exit.stdout, /MATCH released-within-burnt/);
  t.match(exit.stderr, /BRIDGE_AUDIT_FAILED/);

  // withdraw signed with a key file (--key) and its password file.
  const dir = t.testdir();
  await new Keyring({ dir, scryptN: MIN_SCRYPT_N }).add('spender', 'pw', c.user.secretKey);
  await writeFile(join(dir, 'pw.txt'), 'pw\n');
  t.match(await bridge(['withdraw'], { to: user1, amount: '0.25', key: join(dir, 'spender.json'), 'password-file': join(dir, 'pw.txt') }), { nonce: 2, sender: user, amount: '250000000000000000' });

  // Usage errors: nothing is sent.
  const height = c.height;
  const usage: Array<[string, string[], BridgeFlags, string]> = [
    ['no subcommand', [], {}, 'CLI_USAGE'],
    ['unknown subcommand', ['mint'], {}, 'CLI_USAGE'],
    ['withdraw without --to', ['withdraw'], { amount: '1', from: 'user' }, 'CLI_USAGE'],
    ['withdraw to a Tagger address', ['withdraw'], { to: user, amount: '1', from: 'user' }, 'BRIDGE_BAD_INPUT'],
    ['withdraw to the zero address', ['withdraw'], { to: '0x' + '00'.repeat(20), amount: '1', from: 'user' }, 'BRIDGE_BAD_INPUT'],
    ['withdraw zero', ['withdraw'], { to: user1, amount: '0', from: 'user' }, 'CLI_USAGE'],
    ['withdraw a bad amount', ['withdraw'], { to: user1, amount: '1.0000000000000000001', from: 'user' }, 'AMOUNT_INVALID'],
    ['withdraw without a key', ['withdraw'], { to: user1, amount: '1' }, 'CLI_USAGE'],
    ['deposit without --to', ['deposit'], { amount: '1', 'bnb-rpc': bnbRpc, 'evm-key': keyHex('user/0') }, 'CLI_USAGE'],
    ['deposit to an EVM address', ['deposit'], { to: user1, amount: '1', 'bnb-rpc': bnbRpc, 'evm-key': keyHex('user/0') }, 'ADDRESS_INVALID'],
    ['deposit without --bnb-rpc', ['deposit'], { to: user, amount: '1', 'evm-key': keyHex('user/0') }, 'CLI_USAGE'],
    ['deposit without --evm-key', ['deposit'], { to: user, amount: '1', 'bnb-rpc': bnbRpc }, 'CLI_USAGE'],
    ['deposit with a bad --evm-key', ['deposit'], { to: user, amount: '1', 'bnb-rpc': bnbRpc, 'evm-key': '0x1234' }, 'BRIDGE_BAD_EVM_KEY'],
    ['deposit with a bad --bridge', ['deposit'], { to: user, amount: '1', 'bnb-rpc': bnbRpc, 'evm-key': keyHex('user/0'), bridge: '0x12' }, 'BRIDGE_BAD_INPUT'],
    ['prove without --nonce', ['prove'], {}, 'CLI_USAGE'],
    ['prove nonce 0', ['prove'], { nonce: '0' }, 'CLI_USAGE'],
    ['prove a bad nonce', ['prove'], { nonce: '1e3' }, 'CLI_USAGE'],
    ['prove an unknown nonce', ['prove'], { nonce: '9' }, 'BRIDGE_WITHDRAWAL_NOT_FOUND'],
    ['prove --submit without --bnb-rpc', ['prove'], { nonce: '1', submit: true, 'evm-key': keyHex('relayer/1') }, 'CLI_USAGE'],
    ['audit without --bnb-rpc', ['audit'], {}, 'CLI_USAGE'],
  ];
  for (const [what, args, flags, code] of usage) t.equal(await codeOf(cmdBridge(ctx, args, flags)), code, what);
  t.equal(c.height, height, 'no transaction was sent');
  t.equal(await b.view<bigint>('depositNonce'), 2n, 'no deposit was made');
});
