/**
 * The bridge end to end on loopback, with real processes: four validators (one of them offline the
 * whole time), a local EVM node standing in for BNB Chain with TAG and TaggerBridge deployed on it,
 * node0 relaying. deposit → attest by 3 of 4 → mint → transfer → withdraw (burn) → checkpoint
 * signed by 3 of 4 → relayed → released on BNB Chain; then a second deposit is minted once, in
 * order, and the supply invariant holds on both chains.
 */
import t from 'tap';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import type { Hex } from 'viem';
import { addressFromPublicKey, addressFromString, addressToString, bytesToHex, ONE_TAG, publicKeyFromSecret, randomSecretKey, secp256k1Address, secp256k1RandomSecretKey } from '../../lib/index.ts';
import { parseGenesisJson } from '../../genesis/index.ts';
import { EvmNode } from '../../bridge/evmNode.ts';
import { createBnbPublicClient, createBnbWalletClient } from '../../bridge/bnbClient.ts';
import { TAGGER_BRIDGE, TAG_TOKEN } from '../../bridge/index.ts';
import { DEVNET_EVM_CHAIN_ID, deployDevnetContracts, loadEvmKey } from '../../node/bridgeDevnet.ts';
import { homePaths, DEV_BALANCE } from '../../node/home.ts';
import { Keyring, TaggerClient, sendTx } from '../../sdk/index.ts';
import { DEV_PASSWORD, TestNetwork, freePorts, getJson, waitFor } from './fixtures/network.ts';

const hex = (b: Uint8Array): Hex => `0x${bytesToHex(b)}`;
const TAG = ONE_TAG;

t.test('bridge: 4 validators, one offline — deposit, mint, transfer, withdraw, checkpoint, release', async (t) => {
  const deployer = secp256k1RandomSecretKey();
  const guardians = [secp256k1RandomSecretKey(), secp256k1RandomSecretKey()] as [Uint8Array, Uint8Array];
  const user = secp256k1RandomSecretKey();
  const [evmPort] = (await freePorts(1)) as [number];
  const evmUrl = `http://127.0.0.1:${evmPort}`;
  const net = await TestNetwork.create(t, 4, 'tagger-e2e', {
    bridge: { deployer },
    config: (c) => {
      c.bridge.bnbRpcUrl = evmUrl;
      c.bridge.pollMs = 250;
    },
  });
  const relayerKey = (await loadEvmKey(join(net.nodes[0]!.home, 'relayer-key.json'), false))!;
  const prefund = [deployer, relayerKey, user, ...guardians].map((k) => ({ address: hex(secp256k1Address(k)), balance: 1_000n * TAG }));
  const evm = await EvmNode.start({ chainId: BigInt(DEVNET_EVM_CHAIN_ID), port: evmPort, finalityDepth: 2, blockTimeMs: 200, prefund, logFile: null });
  t.teardown(() => evm.stop());
  const genesis = parseGenesisJson(await readFile(homePaths(net.nodes[0]!.home).genesis, 'utf8'));
  const { token, bridge } = await deployDevnetContracts(evm.url, genesis, { deployer, guardians, devEvm: user }, pino({ level: 'silent' }));

  await Promise.all([0, 1, 2].map((i) => net.start(i))); // validator 3 stays offline: 3 of 4 is > 2/3
  const tagger = new TaggerClient({ url: net.url(0) });
  const bnb = createBnbPublicClient({ url: evm.url, chainId: DEVNET_EVM_CHAIN_ID });
  const wallet = createBnbWalletClient({ url: evm.url, chainId: DEVNET_EVM_CHAIN_ID }, hex(user));
  const tokenBalance = async (owner: Hex): Promise<bigint> => bnb.readContract({ address: token, abi: TAG_TOKEN.abi, functionName: 'balanceOf', args: [owner] });
  const balance = async (address: string): Promise<bigint> => BigInt((await tagger.account(address)).balance);
  const send = async (fn: () => Promise<Hex>): Promise<void> => {
    const receipt = await bnb.waitForTransactionReceipt({ hash: await fn() });
    t.equal(receipt.status, 'success');
  };

  // Deposit 100 TAG on BNB Chain for node1's dev account; 3 of 4 validators attest it; it is minted.
  const alice = net.nodes[1]!.devAddress;
  const aliceKey = await new Keyring({ dir: homePaths(net.nodes[1]!.home).keyring, scryptN: 1024 }).unlock('dev', DEV_PASSWORD);
  const aliceBytes = addressFromPublicKey(publicKeyFromSecret(aliceKey));
  await send(() => wallet.writeContract({ address: token, abi: TAG_TOKEN.abi, functionName: 'approve', args: [bridge, 1_000n * TAG] }));
  await send(() => wallet.writeContract({ address: bridge, abi: TAGGER_BRIDGE.abi, functionName: 'deposit', args: [hex(aliceBytes), 100n * TAG] }));
  await waitFor(async () => (await balance(alice)) === DEV_BALANCE + 100n * TAG, 'deposit 1 minted to alice', 120_000);

  // Transfer on Tagger chain, then withdraw (burn) 40 TAG to a fresh BNB Chain address.
  const bob = addressToString(addressFromPublicKey(publicKeyFromSecret(randomSecretKey())));
  const transfer = await sendTx(tagger, aliceKey, { kind: 'transfer', to: addressFromString(bob), amount: 10n * TAG });
  t.equal(transfer.committed?.receipt.status, 'ok');
  const recipient = secp256k1Address(secp256k1RandomSecretKey());
  const burn = await sendTx(tagger, aliceKey, { kind: 'withdraw', recipient, amount: 40n * TAG });
  t.equal(burn.committed?.receipt.status, 'ok', 'the withdrawal burns on Tagger chain');

  // A checkpoint closes, 3 of 4 sign it, node0's relayer submits it and releases the withdrawal.
  await waitFor(async () => (await tokenBalance(hex(recipient))) === 40n * TAG, 'withdrawal released on BNB Chain', 180_000);
  t.ok((await bnb.readContract({ address: bridge, abi: TAGGER_BRIDGE.abi, functionName: 'lastCheckpoint' })) >= 1n, 'a checkpoint was accepted');
  t.equal(await bnb.readContract({ address: bridge, abi: TAGGER_BRIDGE.abi, functionName: 'claimed', args: [1n] }), true);
  // The RPC names the BNB Chain transactions: the release, and the submission of its checkpoint.
  const w = await getJson<{ checkpoint: number | null; bnb: { txHash: string | null } | null }>(`${net.url(1)}/v1/bridge/withdrawals/1`);
  t.match(w.bnb?.txHash, /^0x[0-9a-f]{64}$/, 'the release transaction on BNB Chain');
  const cp = await getJson<{ bnb: { txHash: string | null } | null }>(`${net.url(1)}/v1/bridge/checkpoints/${w.checkpoint}`);
  t.match(cp.bnb?.txHash, /^0x[0-9a-f]{64}$/, 'the checkpoint submission on BNB Chain');

  // A second deposit, to bob: minted once and in order (bob holds exactly 10 + 5 TAG).
  await send(() => wallet.writeContract({ address: bridge, abi: TAGGER_BRIDGE.abi, functionName: 'deposit', args: [hex(addressFromString(bob)), 5n * TAG] }));
  await waitFor(async () => (await balance(bob)) === 15n * TAG, 'deposit 2 minted to bob', 120_000);

  // The supply invariant: locked on BNB Chain (100 + 5 − 40) = bridged on Tagger chain; released = burnt.
  const status = await getJson<{ globals: { bridgedSupply: string; nextDepositNonce: number } }>(`${net.url(2)}/v1/bridge`);
  t.equal(BigInt(status.globals.bridgedSupply), 65n * TAG);
  t.equal(status.globals.nextDepositNonce, 3, 'both deposits minted, nothing skipped');
  t.equal(await tokenBalance(bridge), 65n * TAG);
  t.equal(await bnb.readContract({ address: bridge, abi: TAGGER_BRIDGE.abi, functionName: 'totalReleased' }), 40n * TAG);
  t.equal(await balance(alice) < DEV_BALANCE + 50n * TAG, true, 'alice paid 10 + 40 TAG and fees');
});
