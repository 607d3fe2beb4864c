/**
 * The SDK's bridge side end to end: BridgeClient reads the node's bridge endpoints (over a chain
 * driven by the real runtime), and what it builds from the replies — submitCheckpointArgs and
 * withdrawCallArgs — is accepted by the real TaggerBridge contract on the in-process EVM: a deposit
 * locked there is minted here, two withdrawals burnt here are checkpointed, signed, submitted and
 * released there, and a set rotation (a validator's new bridge key) is carried by `nextSet`. Then
 * the supply audit over the two chains' counters, its arithmetic with made-up numbers, the input
 * checks, and the BNB Chain lookup's chunked, bounded, cached search.
 */
import t from 'tap';
import { addressToString, hexToBytes, secp256k1Address } from '../../../lib/index.ts';
import { loadBridgeGlobals } from '../../../runtime/index.ts';
import {
  BridgeClient,
  BridgeInputError,
  ClientError,
  auditSupply,
  buildBridgeWithdraw,
  depositRecipientArg,
  evmAddressFrom,
  evmAddressToString,
  submitCheckpointArgs,
  verifyWithdrawalReply,
  withdrawCallArgs,
  type SupplyAuditInputs,
} from '../../../sdk/index.ts';
import { BnbLookup, type BnbLogsClient } from '../../../bridge/index.ts';
import { BridgeFixture, bytes, hex, testKey } from '../../bridge/fixtures/bridgeFixture.ts';
import { BridgeChain, TAG } from '../bridge/harness.ts';
import { serve } from './helpers.ts';

t.test('a relayer and a user drive the contract with what BridgeClient reads', async (t) => {
  const power = 100n * TAG; // StakingChain's genesis power per validator
  const f = await BridgeFixture.deploy({ powers: [power, power, power, power] });
  const c = new BridgeChain({ validators: 4, bridgeKeys: f.group.validators.map((v) => v.key), params: { bnbChainId: 56, bridgeContract: bytes(f.bridge) } });
  const { app } = await serve(t, { state: () => ({ height: c.height, reader: c.state }) });
  const client = new BridgeClient({
    url: 'http://node.test/',
    fetch: async (input) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      const res = await app.inject({ method: 'GET', url: url.pathname + url.search });
      return new Response(res.body, { status: res.statusCode, headers: { 'content-type': 'application/json' } });
    },
  });
  c.registerAll();

  // A deposit locked on BNB Chain, to the 20 bytes of a Tagger address, minted here.
  const dep = await f.bridgeCall(f.users[0]!, 'deposit', [depositRecipientArg(addressToString(c.user.address)), 50n * TAG]);
  t.notOk(dep.reverted);
  await t.rejects(client.deposit(1), { code: 'BRIDGE_DEPOSIT_NOT_FOUND' });
  c.attest([0, 1, 2, 3], c.depositBody(1, c.user.address, 50n * TAG));
  t.match(await client.deposit(1), { nonce: 1, status: 'minted' });
  await t.rejects(client.deposit(-1), ClientError, 'refused before any request');

  // Two withdrawals; checkpoint 1 closes at height 5 with both.
  const [to1, to2] = [f.address(f.users[1]!), f.address(f.users[2]!)];
  t.equal(c.send(c.user, buildBridgeWithdraw(to1, 10n * TAG)).code, '');
  t.equal(c.send(c.user, buildBridgeWithdraw(evmAddressToString(bytes(to2)), 5n * TAG)).code, '', 'EIP-55 spelling accepted');
  t.equal(c.height, 5);
  const unsigned = await client.checkpoint(1);
  t.throws(() => submitCheckpointArgs(unsigned), BridgeInputError, 'not signed yet');
  c.block([0, 1, 2, 3].map((i) => c.tx(c.validatorKeys[i]!, c.signBody(1, hexToBytes(unsigned.digest), i))));

  const cp1 = await client.checkpoint(1);
  t.equal(cp1.signed, true);
  const submitted = await f.bridgeCall(f.relayer, 'submitCheckpoint', submitCheckpointArgs(cp1));
  t.notOk(submitted.reverted, `submitCheckpoint: ${submitted.error?.name ?? ''}`);
  t.equal(await f.view('lastCheckpoint'), 1n);

  const w2 = await client.withdrawal(2);
  t.ok(verifyWithdrawalReply(w2), 'the served proof verifies against the served root');
  t.notOk(verifyWithdrawalReply({ ...w2, amount: (6n * TAG).toString() }), 'a different amount is another leaf');
  t.notOk(verifyWithdrawalReply({ ...w2, proof: { ...w2.proof!, index: 0 } }), 'another index');
  const before = await f.tokenBalance(to2);
  const released = await f.bridgeCall(f.users[2]!, 'withdraw', withdrawCallArgs(w2));
  t.notOk(released.reverted, `withdraw: ${released.error?.name ?? ''}`);
  t.equal((await f.tokenBalance(to2)) - before, 5n * TAG);
  const replay = await f.bridgeCall(f.relayer, 'withdraw', withdrawCallArgs(w2));
  t.equal(replay.error?.name, 'AlreadyClaimed');

  // The last validator registers a new bridge key: checkpoint 2 rotates to set 2, signed by set 1
  // (three of four: its old key is no longer registered), submitted with `nextSet`.
  const newKey = testKey('validator/rotated');
  c.block([c.tx(c.validatorKeys[3]!, c.keyRegisterBody(c.validatorKeys[3]!, newKey))]);
  c.advanceTo(10);
  const cp2 = await client.checkpoint(2);
  t.match(cp2, { nextValidatorSetId: 2, signingSet: { id: 1 }, nextSet: { id: 2 } });
  t.ok(cp2.nextSet!.signers.includes(hex(secp256k1Address(newKey))));
  c.block([0, 1, 2].map((i) => c.tx(c.validatorKeys[i]!, c.signBody(2, hexToBytes(cp2.digest), i))));
  const rotated = await f.bridgeCall(f.relayer, 'submitCheckpoint', submitCheckpointArgs(await client.checkpoint(2)));
  t.notOk(rotated.reverted, `rotation: ${rotated.error?.name ?? ''}`);
  t.equal(await f.view('validatorSetId'), 2n);

  c.advanceTo(15);
  const cp3 = await client.checkpoint(3);
  t.equal(cp3.signingSet.id, 2);
  const digest3 = hexToBytes(cp3.digest);
  c.block([0, 1, 2, 3].map((i) => c.tx(c.validatorKeys[i]!, c.signBody(3, digest3, i, i === 3 ? newKey : c.bridgeKeys[i]))));
  const third = await f.bridgeCall(f.relayer, 'submitCheckpoint', submitCheckpointArgs(await client.checkpoint(3)));
  t.notOk(third.reverted, `checkpoint 3 under set 2: ${third.error?.name ?? ''}`);

  // The supply audit over both chains' counters: every check matches.
  const status = await client.bridge();
  const burnt = await client.totalBurnt({ below: status.globals.nextWithdrawalNonce });
  t.strictSame(burnt, { totalBurnt: 15n * TAG, withdrawals: 2 });
  const inputs: SupplyAuditInputs = {
    bridgedSupply: BigInt(status.globals.bridgedSupply),
    totalBurnt: burnt.totalBurnt,
    lockedBalance: await f.tokenBalance(f.bridge),
    totalLocked: (await f.view('totalLocked')) as bigint,
    totalReleased: (await f.view('totalReleased')) as bigint,
  };
  t.strictSame(inputs, { bridgedSupply: 35n * TAG, totalBurnt: 15n * TAG, lockedBalance: 45n * TAG, totalLocked: 50n * TAG, totalReleased: 5n * TAG });
  t.equal(loadBridgeGlobals(c.state).bridgedSupply, 35n * TAG);
  t.ok(auditSupply(inputs).every((x) => x.ok));
  t.strictSame(auditSupply({ ...inputs, bridgedSupply: inputs.bridgedSupply + 1n }).filter((x) => !x.ok).map((x) => x.name), ['locked-covers-bridged', 'minted-within-locked'], 'one unit minted without a lock');
});

t.test('auditSupply with made-up numbers', async (t) => {
  const failing = (x: SupplyAuditInputs): string[] => auditSupply(x).filter((c) => !c.ok).map((c) => c.name);
  const healthy: SupplyAuditInputs = { bridgedSupply: 90n, totalBurnt: 30n, lockedBalance: 100n, totalLocked: 120n, totalReleased: 20n };
  t.strictSame(auditSupply(healthy), [
    { name: 'locked-covers-bridged', ok: true, left: '100', op: '≥', right: '100', description: 'TAG locked on BNB Chain ≥ TAG bridged on Tagger chain + burnt there and not yet released' },
    { name: 'released-within-burnt', ok: true, left: '20', op: '≤', right: '30', description: 'TAG released on BNB Chain ≤ TAG burnt on Tagger chain' },
    { name: 'minted-within-locked', ok: true, left: '120', op: '≤', right: '120', description: 'TAG minted on Tagger chain (bridged + burnt) ≤ TAG ever locked on BNB Chain' },
    { name: 'balance-covers-accounting', ok: true, left: '100', op: '≥', right: '100', description: 'the bridge\'s token balance ≥ totalLocked − totalReleased (its own books)' },
  ]);
  t.strictSame(failing({ ...healthy, lockedBalance: 110n }), [], 'TAG sent to the bridge outside a deposit only adds cover');
  t.strictSame(failing({ ...healthy, bridgedSupply: 95n }), ['locked-covers-bridged', 'minted-within-locked'], 'minted without a lock');
  t.strictSame(failing({ ...healthy, totalReleased: 40n, lockedBalance: 80n }), ['locked-covers-bridged', 'released-within-burnt'], 'released more than burnt');
  t.strictSame(failing({ ...healthy, lockedBalance: 99n }), ['locked-covers-bridged', 'balance-covers-accounting'], 'the contract lost a unit');
  t.strictSame(failing({ bridgedSupply: 0n, totalBurnt: 0n, lockedBalance: 0n, totalLocked: 0n, totalReleased: 0n }), [], 'an unused bridge');
});

t.test('bridge inputs are checked before anything is sent', async (t) => {
  const a = '0x' + 'ab'.repeat(20);
  t.strictSame(buildBridgeWithdraw(a, 1n), { kind: 'withdraw', recipient: new Uint8Array(20).fill(0xab), amount: 1n });
  for (const [to, amount, field] of [
    ['0x' + '00'.repeat(20), 1n, 'recipient'],
    ['ab'.repeat(20), 1n, 'recipient'],
    ['0x' + 'ab'.repeat(19), 1n, 'recipient'],
    [addressToString(new Uint8Array(20).fill(1)), 1n, 'recipient'],
    [a, 0n, 'amount'],
    [a, -1n, 'amount'],
  ] as const) {
    t.throws(() => buildBridgeWithdraw(to, amount), { code: 'BRIDGE_BAD_INPUT', type: { field } }, `${to} ${amount}`);
  }
  const checksummed = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'; // EIP-55's own example
  t.equal(evmAddressToString(evmAddressFrom(checksummed)), checksummed);
  t.ok(evmAddressFrom(checksummed.toLowerCase()));
  t.throws(() => evmAddressFrom('0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD'), { code: 'BRIDGE_BAD_INPUT' }, 'one letter of the checksum wrong');
});

t.test('the BNB Chain lookup searches back from the newest block in bounded chunks and caches what it finds', async (t) => {
  const calls: Array<[string, bigint, bigint]> = [];
  const at = { release: new Map([[3n, 7_000n]]), checkpoint: new Map([[2n, 1_200n]]) };
  const fake = {
    getBlockNumber: async () => 12_345n,
    getLogs: async (q: { event: { name: string }; args: Record<string, bigint>; fromBlock: bigint; toBlock: bigint }) => {
      const kind = q.event.name === 'WithdrawalReleased' ? 'release' : 'checkpoint';
      const key = q.args['nonce'] ?? q.args['number'] ?? -1n;
      calls.push([`${kind}:${key}`, q.fromBlock, q.toBlock]);
      const block = at[kind].get(key);
      return block !== undefined && block >= q.fromBlock && block <= q.toBlock ? [{ transactionHash: `0x${kind}${key}` }] : [];
    },
  } as unknown as BnbLogsClient;
  const lookup = new BnbLookup(fake, { bridge: '0x' + 'cc'.repeat(20) as `0x${string}`, fromBlock: 1_000n, chunkBlocks: 5_000n, chunksMax: 3 });

  t.equal(await lookup.releaseTx(3), '0xrelease3');
  t.strictSame(calls, [['release:3', 7_346n, 12_345n], ['release:3', 2_346n, 7_345n]], 'newest chunk first');
  calls.length = 0;
  t.equal(await lookup.releaseTx(3), '0xrelease3');
  t.strictSame(calls, [], 'cached');
  t.equal(await lookup.releaseTx(4), null);
  t.strictSame(calls.map(([, from, to]) => [from, to]), [[7_346n, 12_345n], [2_346n, 7_345n], [1_000n, 2_345n]], 'stops at the deployment block');
  calls.length = 0;
  t.equal(await lookup.checkpointTx(2), '0xcheckpoint2');
  const bounded = new BnbLookup(fake, { bridge: '0x' + 'cc'.repeat(20) as `0x${string}`, fromBlock: 0n, chunkBlocks: 1_000n, chunksMax: 2 });
  calls.length = 0;
  t.equal(await bounded.releaseTx(3), null, 'not within chunksMax chunks');
  t.equal(calls.length, 2);
});
