/**
 * The passport and licence CLI commands (node/passportCommands.ts) in-process, against the real
 * RPC server on 127.0.0.1 over a LabellingChain whose "mempool" applies each submitted transaction
 * in a block at once: a passport from a labelled task, show and list, an offer, a purchase at the
 * price read from the node, the licence check, revocation, withdrawal, transfers; then a failed
 * receipt (its code is the error's) and usage errors, which send nothing.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChainError, ONE_TAG, addressToString, bytesToHex } from '../../../lib/index.ts';
import { decodeSignedTx, loadLicence, loadPassportHead, type Receipt } from '../../../runtime/index.ts';
import { loadAccount } from '../../../state/index.ts';
import { buildServer, type TxView } from '../../../rpc/index.ts';
import { cmdLicence, cmdPassport, type PassportFlags } from '../../../node/passportCommands.ts';
import type { CliContext } from '../../../node/labellingCommands.ts';
import { TEST_CHAIN_ID, type Key } from '../../utils/factories.ts';
import { createFake } from '../rpc/fakeDeps.ts';
import { buyer, doneTask, requester, stranger, taskRoot } from './fixtures.ts';

class UsageError extends ChainError<{ code: 'CLI_USAGE'; reason: string }> {}

const keys: Record<string, Key> = { alice: requester, bob: buyer, carol: stranger };

t.test('passport and licence commands against a node', async (t) => {
  const { chain, task } = doneTask(8);
  const txs = new Map<string, TxView>();
  const { deps } = createFake({
    status: () => ({ chainId: TEST_CHAIN_ID, nodeId: 'n', height: chain.height, blockHash: new Uint8Array(32), stateRoot: new Uint8Array(32), timeMs: 0n, syncing: false, mempoolTxs: 0, mempoolBytes: 0, validatorAddress: null }),
    account: (address) => ({ ...loadAccount(chain.state, address), pendingNonce: loadAccount(chain.state, address).nonce }),
    submitTx: (bytes) => {
      const signed = decodeSignedTx(bytes);
      const receipt = chain.block([signed])[0] as Receipt;
      txs.set(bytesToHex(signed.hash), { tx: signed, height: chain.height, index: 0, blockHash: new Uint8Array(32), receipt });
      return { hash: signed.hash, duplicate: false };
    },
    tx: async (hash) => txs.get(bytesToHex(hash)),
    isPending: () => false,
    state: () => ({ height: chain.height, reader: chain.state }),
  });
  const app = await buildServer(deps, { logger: false });
  t.teardown(() => app.close());
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  chain.resetNonces();

  const dir = t.testdir();
  const specFile = join(dir, 'passport.json');
  writeFileSync(specFile, JSON.stringify({ schema: 'image-classification/4', consentBasis: 'explicit-consent', consentDocument: 'I agree.', uses: ['train', 'evaluate'], contributorsPercent: 30, metadata: 'cli' }));
  const printed: unknown[] = [];
  const ctx: CliContext = {
    home: dir,
    nodeUrl: async () => url,
    unlock: async (name) => (keys[name] as Key).secretKey,
    keyInfo: async (name) => ({ name, address: addressToString((keys[name] as Key).address), publicKey: bytesToHex((keys[name] as Key).publicKey) }),
    print: (v) => void printed.push(v),
    usage: (reason) => new UsageError({ code: 'CLI_USAGE', reason }, reason),
  };
  type Out = Record<string, unknown>;
  const passport = async (args: string[], flags: PassportFlags): Promise<Out> => {
    await cmdPassport(ctx, args, flags);
    return printed.pop() as Out;
  };
  const licence = async (args: string[], flags: PassportFlags): Promise<Out> => {
    await cmdLicence(ctx, args, flags);
    return printed.pop() as Out;
  };
  const codeOf = async (p: Promise<unknown>): Promise<string> =>
    p.then(
      () => 'succeeded',
      (e: unknown) => (e instanceof ChainError ? e.code : String(e)),
    );

  const created = await passport(['create'], { from: 'alice', task: String(task), spec: specFile });
  t.match(created, { passport_created: { passport: '1', version: '1', status: 'building' } });
  const shown = await passport(['show'], { passport: '1' });
  t.match(shown, { id: 1, activeVersion: 1, latest: { status: 'active', contentRoot: '0x' + bytesToHex(taskRoot(chain, task)), terms: { uses: ['train', 'evaluate'], contributorsShareBps: 3_000 } } });
  const v1 = await passport(['show'], { passport: '1', version: '1', limit: '2' });
  t.match(v1, { version: 1, contributors: { passport: 1, version: 1 } });
  t.match(await passport(['list'], { from: 'alice' }), { passports: [{ id: 1 }] });
  t.match(await passport(['list'], { task: String(task) }), { passports: [{ id: 1 }] });
  t.match(await passport(['versions'], { passport: '1' }), { versions: [{ version: 1 }], nextCursor: null });

  const offered = await passport(['offer'], { from: 'alice', passport: '1', price: '3', uses: 'train', duration: '100', transferable: true });
  t.match(offered, { licence_offered: { offer: '1', passport: '1', price: (3n * ONE_TAG).toString() } });
  t.match(await licence(['offers'], { passport: '1' }), { offers: [{ id: 1, transferable: true, revocable: true, durationBlocks: 100 }] });

  const bought = await passport(['buy'], { from: 'bob', offer: '1' });
  t.match(bought, { licence_bought: { licence: '1', price: (3n * ONE_TAG).toString() } });
  t.match(await licence(['check'], { passport: '1', from: 'bob' }), { licensed: true });
  t.match(await licence(['show'], { licence: '1' }), { id: 1, buyer: addressToString(buyer.address), active: true });
  t.match(await licence(['list'], { from: 'bob' }), { licences: [{ id: 1 }] });
  t.match(await licence(['list'], { passport: '1' }), { licences: [{ id: 1 }] });

  t.equal(await codeOf(licence(['buy'], { from: 'bob', offer: '1' })), 'LICENCE_ALREADY_HELD', 'a failed receipt is an error with its code');
  t.equal(await codeOf(passport(['buy'], { from: 'alice', offer: '1' })), 'LICENCE_SELF_PURCHASE');

  t.match(await licence(['transfer'], { from: 'bob', licence: '1', to: addressToString(stranger.address) }), { licence_transferred: { licence: '1' } });
  t.match(await passport(['revoke'], { from: 'alice', licence: '1', reason: 'breach notice' }), { licence_revoked: { licence: '1' } });
  t.ok((loadLicence(chain.state, 1)?.revokedHeight ?? 0) > 0);
  t.match(await licence(['check'], { passport: '1', from: 'carol' }), { licensed: false });
  t.match(await licence(['withdraw'], { from: 'alice', offer: '1' }), { licence_offer_withdrawn: { offer: '1' } });

  const reg = await passport(['register'], { from: 'carol', root: '0x' + '11'.repeat(32), records: '10', spec: specFile });
  t.match(reg, { passport_created: { passport: '2', status: 'active' } });
  t.match(await passport(['version'], { from: 'carol', passport: '2', root: '0x' + '22'.repeat(32), records: '12', spec: specFile }), { passport_versioned: { version: '2' } });
  t.match(await passport(['transfer'], { from: 'carol', passport: '2', to: addressToString(buyer.address) }), { passport_transferred: { passport: '2' } });
  t.same(loadPassportHead(chain.state, 2)?.owner, buyer.address);

  // Usage errors send nothing.
  const height = chain.height;
  t.equal(await codeOf(passport(['create'], { from: 'alice', spec: specFile })), 'CLI_USAGE', '--task missing');
  t.equal(await codeOf(passport(['register'], { from: 'alice', root: 'zz', records: '1', spec: specFile })), 'CLI_USAGE');
  t.equal(await codeOf(passport(['offer'], { from: 'alice', passport: '1' })), 'CLI_USAGE', '--price missing');
  t.equal(await codeOf(passport(['offer'], { from: 'alice', passport: '1', price: '1', kind: 'open' })), 'PASSPORT_BAD_INPUT', 'an open licence is free');
  t.equal(await codeOf(passport(['create'], { from: 'alice', task: String(task), spec: join(dir, 'missing.json') })), 'CLI_BAD_FILE');
  t.equal(await codeOf(passport(['frobnicate'], {})), 'CLI_USAGE');
  t.equal(await codeOf(licence(['frobnicate'], {})), 'CLI_USAGE');
  t.equal(chain.height, height, 'nothing was sent');
});
