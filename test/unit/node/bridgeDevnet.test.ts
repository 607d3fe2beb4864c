/**
 * The devnet's bridge (node/bridgeDevnet.ts): `init` fixes the contracts' addresses and the first
 * bridge set in genesis before anything is deployed; the embedded EVM deploys them there, checks them
 * against genesis, and after a restart replays its log instead of deploying again.
 */
import t from 'tap';
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { pino } from 'pino';
import { bytesToHex, secp256k1Address } from '../../../lib/index.ts';
import { genesisBridgeSet, validatorSetHashOf } from './bridgeDevnetHelpers.ts';
import { initHome } from '../../../node/home.ts';
import { DEVNET_EVM_CHAIN_ID, devnetContracts, loadEvmKey, startEmbeddedEvm } from '../../../node/bridgeDevnet.ts';
import { createBnbPublicClient } from '../../../bridge/bnbClient.ts';
import { TAGGER_BRIDGE } from '../../../bridge/index.ts';

const log = pino({ level: 'silent' });

t.test('init fixes the bridge in genesis; start deploys it there once and replays it after', async (t) => {
  const home = t.testdir();
  const { genesis, validator } = await initHome({ home, chainId: 'tagger-devnet-1', devPassword: 'pw', genesisTimeMs: 1_800_000_000_000n, scryptN: 1024, bridge: true });
  const bridgeKey = (await loadEvmKey(join(home, 'bridge-key.json'), false))!;
  const deployer = (await loadEvmKey(join(home, 'bridge', 'deployer-key.json'), false))!;
  t.equal((await stat(join(home, 'bridge-key.json'))).mode & 0o777, 0o600, 'the bridge key is private');
  t.same(genesis.bridge?.keys, [{ validator: 'validator-0', address: secp256k1Address(bridgeKey) }]);
  const { bridge } = devnetContracts(deployer);
  t.equal(`0x${bytesToHex(genesis.bridge!.params.bridgeContract)}`, bridge.toLowerCase(), 'the contract address is known before it exists');
  t.equal(genesis.bridge!.params.bnbChainId, DEVNET_EVM_CHAIN_ID);
  t.ok(genesis.accounts.some((a) => bytesToHex(a.address) === bytesToHex(validator.address) && a.balance > 0n), 'the validator can pay its bridge fees');

  const opts = { host: '127.0.0.1', port: 0, blockTimeMs: 0, bridgeKeyFile: 'bridge-key.json', relayerKeyFile: 'relayer-key.json', log };
  const first = await startEmbeddedEvm(home, genesis, opts);
  const client = createBnbPublicClient({ url: first.url, chainId: DEVNET_EVM_CHAIN_ID });
  const onChain = await client.readContract({ address: first.bridge, abi: TAGGER_BRIDGE.abi, functionName: 'validatorSetHash' });
  t.equal(onChain, validatorSetHashOf(genesisBridgeSet(genesis)), 'deployed with the set genesis fixes');
  const head = await client.getBlockNumber();
  await first.node.stop();

  const second = await startEmbeddedEvm(home, genesis, opts);
  t.teardown(() => second.node.stop());
  const client2 = createBnbPublicClient({ url: second.url, chainId: DEVNET_EVM_CHAIN_ID });
  t.equal(await client2.getBlockNumber(), head, 'replayed, not deployed again');
  t.equal(second.bridge, first.bridge);
});
