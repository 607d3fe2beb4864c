/**
 * The devnet's local EVM node (bridge/evmNode.ts) through what its users run: viem public and wallet
 * clients over HTTP JSON-RPC on 127.0.0.1, plus raw JSON-RPC for malformed input.
 */
import t from 'tap';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BaseError,
  ContractFunctionRevertedError,
  InsufficientFundsError,
  NonceTooLowError,
  createPublicClient,
  createWalletClient,
  http,
  parseAbiItem,
  toHex,
  type Hex,
  type PublicClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { createBlock, createBlockHeader } from '@ethereumjs/block';
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { KECCAK256_RLP } from '@ethereumjs/util';
import { EvmNode, type EvmNodeOpts } from '../../bridge/evmNode.ts';
import { TAG_TOKEN } from '../../bridge/index.ts';

const CHAIN_ID = 31_337n;
const KEY_A: Hex = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const KEY_B: Hex = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a';
const alice = privateKeyToAccount(KEY_A);
const bob = privateKeyToAccount(KEY_B);
const BNB = 10n ** 18n;
const TRANSFER = parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)');

const chain = {
  id: Number(CHAIN_ID),
  name: 'local',
  nativeCurrency: { name: 'BNB', symbol: 'BNB', decimals: 18 },
  rpcUrls: { default: { http: ['http://127.0.0.1'] } },
} as const;

function opts(over: Partial<EvmNodeOpts> = {}): EvmNodeOpts {
  return {
    chainId: CHAIN_ID,
    port: 0,
    finalityDepth: 3,
    blockTimeMs: 0,
    prefund: [
      { address: alice.address, balance: 1_000n * BNB },
      { address: bob.address, balance: 10n * BNB },
    ],
    logFile: null,
    ...over,
  };
}

function clients(node: EvmNode) {
  const transport = http(node.url, { retryCount: 0 });
  const pub: PublicClient = createPublicClient({ chain, transport, pollingInterval: 20 });
  const wallet = createWalletClient({ chain, transport, account: alice });
  const bobWallet = createWalletClient({ chain, transport, account: bob });
  return { pub, wallet, bobWallet };
}

async function rpc(node: EvmNode, body: string): Promise<unknown> {
  const res = await fetch(node.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return res.json();
}

async function call(node: EvmNode, method: string, params: unknown[] = []): Promise<unknown> {
  const reply = (await rpc(node, JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }))) as { result?: unknown; error?: unknown };
  if (reply.error !== undefined) throw new TypeError(JSON.stringify(reply.error));
  return reply.result;
}

const snapshot = async (node: EvmNode): Promise<Hex> => (await call(node, 'evm_snapshot')) as Hex;
const revert = async (node: EvmNode, id: Hex): Promise<unknown> => call(node, 'evm_revert', [id]);

/** Deploys TAG with the whole supply at alice; returns the token address. */
async function deployToken(node: EvmNode, supply = 1_000_000n * BNB): Promise<Hex> {
  const { pub, wallet } = clients(node);
  const hash = await wallet.deployContract({ abi: TAG_TOKEN.abi, bytecode: TAG_TOKEN.bytecode, args: [alice.address, supply] });
  const receipt = await pub.waitForTransactionReceipt({ hash });
  if (receipt.contractAddress === null || receipt.contractAddress === undefined) throw new TypeError('no contract address');
  return receipt.contractAddress;
}

t.test('deploy TAG and transfer through viem: blocks, receipts, logs and getLogs filters', async (t) => {
  const node = await EvmNode.start(opts());
  t.teardown(() => node.stop());
  const { pub, wallet, bobWallet } = clients(node);

  t.equal(await pub.getChainId(), Number(CHAIN_ID));
  t.equal(await pub.getBlockNumber(), 0n, 'genesis only');
  t.equal(await pub.getBalance({ address: alice.address }), 1_000n * BNB, 'prefunded in genesis');

  const token = await deployToken(node);
  t.equal(node.head(), 1n, 'the deployment is mined in a block of its own');
  t.ok((await pub.getCode({ address: token }))?.length ?? 0 > 2, 'code is deployed');

  const transfer = await wallet.writeContract({ address: token, abi: TAG_TOKEN.abi, functionName: 'transfer', args: [bob.address, 5n * BNB] });
  const receipt = await pub.waitForTransactionReceipt({ hash: transfer });
  t.equal(receipt.status, 'success');
  t.equal(receipt.blockNumber, 2n);
  t.equal(receipt.logs.length, 1);
  t.equal(receipt.logs[0]?.address, token.toLowerCase());
  t.equal(receipt.logs[0]?.transactionHash, transfer);
  t.equal(receipt.logs[0]?.logIndex, 0);
  t.ok(receipt.gasUsed > 21_000n && receipt.gasUsed < 100_000n, `gas used ${receipt.gasUsed}`);
  t.equal(await pub.readContract({ address: token, abi: TAG_TOKEN.abi, functionName: 'balanceOf', args: [bob.address] }), 5n * BNB);

  // An EIP-1559 transfer from bob (type 2), then a legacy one and an EIP-2930 one.
  const back = await bobWallet.writeContract({ address: token, abi: TAG_TOKEN.abi, functionName: 'transfer', args: [alice.address, 1n * BNB] });
  await pub.waitForTransactionReceipt({ hash: back });
  const legacy = await wallet.sendTransaction({ to: bob.address, value: 1n * BNB, type: 'legacy', gasPrice: 2_000_000_000n });
  const l2930 = await wallet.sendTransaction({ to: bob.address, value: 1n * BNB, type: 'eip2930', gasPrice: 2_000_000_000n, accessList: [] });
  t.equal((await pub.waitForTransactionReceipt({ hash: legacy })).type, 'legacy');
  t.equal((await pub.waitForTransactionReceipt({ hash: l2930 })).type, 'eip2930');
  const tx = await pub.getTransaction({ hash: back });
  t.equal(tx.type, 'eip1559');
  t.equal(tx.from, bob.address.toLowerCase());
  t.equal(tx.blockNumber, 3n);
  t.equal(await pub.getBalance({ address: bob.address }) > 11n * BNB, true, 'bob received BNB and paid gas');
  t.equal(await pub.getTransactionCount({ address: alice.address }), 4);

  const block = await pub.getBlock({ blockNumber: 3n, includeTransactions: true });
  t.equal(block.transactions.length, 1);
  t.equal(block.transactions[0]?.hash, back);
  const parent = await pub.getBlock({ blockNumber: 2n });
  t.equal(block.parentHash, parent.hash, 'parentHash links');
  t.ok(block.timestamp > parent.timestamp, 'timestamps increase');
  t.same(await pub.getBlock({ blockHash: parent.hash }), parent, 'by hash = by number');

  const all = await pub.getLogs({ address: token, event: TRANSFER, fromBlock: 0n, toBlock: 'latest' });
  t.equal(all.length, 3, 'mint, transfer, transfer back');
  const toBob = await pub.getLogs({ address: token, event: TRANSFER, args: { to: bob.address }, fromBlock: 0n });
  t.equal(toBob.length, 1);
  t.equal(toBob[0]?.args.value, 5n * BNB);
  t.equal(toBob[0]?.blockNumber, 2n);
  const either = await pub.getLogs({ event: TRANSFER, args: { to: [bob.address, alice.address] }, fromBlock: 2n, toBlock: 3n });
  t.equal(either.length, 2, 'OR-array of topics');
  const inBlock = await pub.getLogs({ event: TRANSFER, blockHash: block.hash });
  t.equal(inBlock.length, 1);
  t.equal(inBlock[0]?.transactionHash, back);
  t.same(await pub.getLogs({ address: bob.address, fromBlock: 0n }), [], 'no logs from another address');
  t.same(await pub.getLogs({ address: [token, bob.address], event: TRANSFER, fromBlock: 1n, toBlock: 1n }).then((l) => l.length), 1, 'address array');

  // State at an older block: bob held nothing before the transfer of block 2.
  t.equal(await pub.readContract({ address: token, abi: TAG_TOKEN.abi, functionName: 'balanceOf', args: [bob.address], blockNumber: 1n }), 0n);
  t.equal(await pub.getBalance({ address: bob.address, blockNumber: 0n }), 10n * BNB, 'balance at genesis');
  t.equal(await pub.getBalance({ address: bob.address, blockTag: 'latest' }) !== 10n * BNB, true);
  const receipts = (await call(node, 'eth_getBlockReceipts', ['0x3'])) as { transactionHash: Hex }[];
  t.same(receipts.map((r) => r.transactionHash), [back]);

  const history = await pub.getFeeHistory({ blockCount: 4, rewardPercentiles: [50] });
  t.equal(history.baseFeePerGas.length, 5);
  t.equal(history.gasUsedRatio.length, 4);
  const latest = await pub.getBlock();
  t.equal(history.baseFeePerGas[3], latest.baseFeePerGas, 'the newest block’s base fee');
  t.equal(history.gasUsedRatio[3], Number(latest.gasUsed) / Number(latest.gasLimit));
  t.ok((history.baseFeePerGas[4] ?? 0n) > 0n, 'and the next one');
  t.ok((await pub.getGasPrice()) > 0n);
  t.equal(await pub.getTransactionReceipt({ hash: `0x${'11'.repeat(32)}` }).catch((e: Error) => e.name), 'TransactionReceiptNotFoundError');
});

t.test('a reverted tx is mined with status 0 and no logs; simulateContract decodes the custom error', async (t) => {
  const node = await EvmNode.start(opts());
  t.teardown(() => node.stop());
  const { pub, bobWallet } = clients(node);
  const token = await deployToken(node);

  const failed = await pub
    .simulateContract({ account: bob, address: token, abi: TAG_TOKEN.abi, functionName: 'transfer', args: [alice.address, 7n] })
    .catch((e: unknown) => e);
  t.ok(failed instanceof BaseError);
  const reverted = (failed as BaseError).walk((e) => e instanceof ContractFunctionRevertedError);
  t.ok(reverted instanceof ContractFunctionRevertedError, 'a ContractFunctionRevertedError');
  t.equal((reverted as ContractFunctionRevertedError).data?.errorName, 'InsufficientBalance');
  t.same((reverted as ContractFunctionRevertedError).data?.args, [0n, 7n]);

  const estimate = await pub
    .estimateContractGas({ account: bob, address: token, abi: TAG_TOKEN.abi, functionName: 'transfer', args: [alice.address, 7n] })
    .catch((e: unknown) => e);
  t.ok((estimate as BaseError).walk((e) => e instanceof ContractFunctionRevertedError), 'estimateGas reverts with the same error');

  const head = node.head();
  const hash = await bobWallet.writeContract({ address: token, abi: TAG_TOKEN.abi, functionName: 'transfer', args: [alice.address, 7n], gas: 100_000n });
  const receipt = await pub.waitForTransactionReceipt({ hash });
  t.equal(receipt.status, 'reverted');
  t.same(receipt.logs, []);
  t.equal(receipt.blockNumber, head + 1n, 'mined anyway');
  t.equal(await pub.getTransactionCount({ address: bob.address }), 1, 'the nonce is used');
});

t.test('invalid transactions are rejected with a JSON-RPC error and not mined', async (t) => {
  const node = await EvmNode.start(opts());
  t.teardown(() => node.stop());
  const { pub, wallet } = clients(node);
  const poor = privateKeyToAccount('0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba');
  const poorWallet = createWalletClient({ chain, transport: http(node.url, { retryCount: 0 }), account: poor });

  const base = { to: bob.address, value: 1n, gas: 21_000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n, chainId: Number(CHAIN_ID) };
  const send = async (raw: Hex) => rpc(node, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_sendRawTransaction', params: [raw] }));
  const badNonce = await send(await alice.signTransaction({ ...base, nonce: 5 }));
  t.match(badNonce, { error: { code: -32003, message: /^nonce too high: / } }, 'bad nonce');
  const noFunds = await send(await poor.signTransaction({ ...base, nonce: 0 }));
  t.match(noFunds, { error: { code: -32003, message: /^insufficient funds for gas \* price \+ value: / } }, 'insufficient funds');
  t.match(await send(await alice.signTransaction({ ...base, nonce: 0, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n })), {
    error: { code: -32003, message: /^max fee per gas less than block base fee/ },
  });
  t.match(await send(await alice.signTransaction({ ...base, nonce: 0, gas: 20_000n })), { error: { code: -32003, message: /^intrinsic gas too low/ } });
  t.match(await send(await alice.signTransaction({ ...base, nonce: 0, gas: 40_000_000n })), { error: { code: -32003, message: /^exceeds block gas limit/ } });
  const wrongChain = await send(await alice.signTransaction({ ...base, nonce: 0, chainId: 56 }));
  t.match(wrongChain, { error: { code: -32003, message: /chain/i } }, 'wrong chain id');
  const signed = await alice.signTransaction({ ...base, nonce: 0 });
  const tampered = `${signed.slice(0, -6)}${signed.slice(-6, -4) === 'ff' ? '00' : 'ff'}${signed.slice(-4)}` as Hex;
  t.match(await send(tampered), { error: { code: -32003 } }, 'bad signature');
  t.match(await send('0x02c0'), { error: { code: -32003 } }, 'garbage');
  t.equal(node.head(), 0n, 'nothing was mined');

  const refused = await poorWallet.sendTransaction({ to: bob.address, value: 1n, gas: 21_000n }).catch((e: unknown) => e);
  t.ok(refused instanceof BaseError && refused.walk((e) => e instanceof InsufficientFundsError), 'viem maps it to InsufficientFundsError');
  const ok = await wallet.sendTransaction({ to: bob.address, value: 1n });
  t.equal((await pub.waitForTransactionReceipt({ hash: ok })).status, 'success', 'the node keeps mining valid txs');
  t.equal(node.head(), 1n);
  const replay = await wallet.sendTransaction({ to: bob.address, value: 1n, nonce: 0 }).catch((e: unknown) => e);
  t.ok(replay instanceof BaseError && replay.walk((e) => e instanceof NonceTooLowError), 'a used nonce is NonceTooLowError');
});

t.test('the finalized and safe tags lag by finalityDepth; interval mining advances them', async (t) => {
  const node = await EvmNode.start(opts({ finalityDepth: 3 }));
  t.teardown(() => node.stop());
  const { pub } = clients(node);
  t.equal((await pub.getBlock({ blockTag: 'finalized' })).number, 0n);
  await node.mine(5);
  t.equal(await pub.getBlockNumber(), 5n);
  t.equal((await pub.getBlock({ blockTag: 'finalized' })).number, 2n);
  t.equal((await pub.getBlock({ blockTag: 'safe' })).number, 2n);
  t.equal((await pub.getBlock({ blockTag: 'earliest' })).number, 0n);
  t.equal((await pub.getBlock({ blockTag: 'pending' })).number, 5n);
  t.equal(await pub.getBlock({ blockNumber: 99n }).catch((e: Error) => e.name), 'BlockNotFoundError', 'a future block is null');

  const timed = await EvmNode.start(opts({ blockTimeMs: 10, finalityDepth: 2 }));
  t.teardown(() => timed.stop());
  const timedPub = clients(timed).pub;
  // Bounded wait: the interval miner advances the finalized head without any transaction.
  for (let i = 0; i < 500 && (await timedPub.getBlock({ blockTag: 'finalized' })).number < 3n; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  t.ok((await timedPub.getBlock({ blockTag: 'finalized' })).number >= 3n, 'finalized head advanced by interval mining');
});

t.test('evm_snapshot / evm_revert drop the later blocks and their logs, never below the finalized head', async (t) => {
  const node = await EvmNode.start(opts({ finalityDepth: 2 }));
  t.teardown(() => node.stop());
  const { pub, wallet } = clients(node);
  const token = await deployToken(node);
  await node.mine(3);
  const snap = await snapshot(node);
  const headBefore = await pub.getBlock();
  const hash = await wallet.writeContract({ address: token, abi: TAG_TOKEN.abi, functionName: 'transfer', args: [bob.address, 9n] });
  await pub.waitForTransactionReceipt({ hash });
  await node.mine(1);
  t.equal((await pub.getLogs({ address: token, event: TRANSFER, fromBlock: 0n })).length, 2);

  t.equal(await revert(node, snap), true);
  t.equal(await pub.getBlockNumber(), headBefore.number);
  t.equal((await pub.getBlock()).hash, headBefore.hash);
  t.equal((await pub.getLogs({ address: token, event: TRANSFER, fromBlock: 0n })).length, 1, 'the transfer log is gone');
  t.equal(await pub.getTransactionReceipt({ hash }).catch((e: Error) => e.name), 'TransactionReceiptNotFoundError');
  t.equal(await pub.readContract({ address: token, abi: TAG_TOKEN.abi, functionName: 'balanceOf', args: [bob.address] }), 0n, 'state rolled back');
  t.equal(await revert(node, snap), false, 'a snapshot is used once');

  // A different transfer takes the dropped block's place: a reorg.
  const other = await wallet.writeContract({ address: token, abi: TAG_TOKEN.abi, functionName: 'transfer', args: [bob.address, 4n] });
  const receipt = await pub.waitForTransactionReceipt({ hash: other });
  t.equal(receipt.blockNumber, headBefore.number + 1n);
  t.equal(await pub.readContract({ address: token, abi: TAG_TOKEN.abi, functionName: 'balanceOf', args: [bob.address] }), 4n);

  const old = await snapshot(node);
  await node.mine(3);
  const refused = await rpc(node, JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'evm_revert', params: [old] }));
  t.match(refused, { error: { code: -32000, message: /below the finalized block/ } }, 'refused below the finalized head');
  t.equal(node.head(), headBefore.number + 4n, 'nothing dropped');
});

t.test('restart from the block log: same head hash and balances; a torn last line is ignored', async (t) => {
  const dir = t.testdir();
  const logFile = join(dir, 'evm.log');
  const first = await EvmNode.start(opts({ logFile }));
  const { pub, wallet } = clients(first);
  const token = await deployToken(first);
  const hash = await wallet.writeContract({ address: token, abi: TAG_TOKEN.abi, functionName: 'transfer', args: [bob.address, 3n * BNB] });
  await pub.waitForTransactionReceipt({ hash });
  await first.mine(2);
  const snap = await snapshot(first);
  await first.mine(2);
  t.equal(await revert(first, snap), true, 'revert rewrites the log');
  const head = await pub.getBlock();
  const aliceBalance = await pub.getBalance({ address: alice.address });
  await first.stop();
  t.equal(readFileSync(logFile, 'utf8').trim().split('\n').length, Number(head.number), 'one line per block after genesis');

  appendFileSync(logFile, '{"n":"0x5","t":"0xdead', 'utf8'); // a write torn by kill -9
  const second = await EvmNode.start(opts({ logFile }));
  t.teardown(() => second.stop());
  const again = clients(second).pub;
  t.equal(await again.getBlockNumber(), head.number);
  t.equal((await again.getBlock()).hash, head.hash, 'same head hash');
  t.equal(await again.getBalance({ address: alice.address }), aliceBalance);
  t.equal(await again.readContract({ address: token, abi: TAG_TOKEN.abi, functionName: 'balanceOf', args: [bob.address] }), 3n * BNB);
  t.equal((await again.getTransactionReceipt({ hash })).status, 'success', 'receipts are rebuilt');
  t.notOk(readFileSync(logFile, 'utf8').includes('0xdead'), 'the torn line is cut from the file');

  await second.mine(1);
  t.equal(readFileSync(logFile, 'utf8').trim().split('\n').length, Number(head.number) + 1, 'appending continues after the cut');

  const wrongChain = await EvmNode.start(opts({ logFile, chainId: 97n })).catch((e: unknown) => e);
  t.match(wrongChain, { code: 'EVM_INTERNAL', message: /block log: block 1 does not replay/ }, 'a log of another chain is refused');
});

t.test('malformed JSON, unknown methods and bad params get JSON-RPC errors; the node keeps serving', async (t) => {
  const node = await EvmNode.start(opts());
  t.teardown(() => node.stop());
  t.match(await rpc(node, '{"jsonrpc":"2.0","id":1,"method":'), { jsonrpc: '2.0', id: null, error: { code: -32700 } });
  t.match(await rpc(node, '"hello"'), { error: { code: -32600 } });
  t.match(await rpc(node, '[]'), { error: { code: -32600 } });
  t.match(await rpc(node, JSON.stringify({ jsonrpc: '1.0', id: 1, method: 'eth_chainId' })), { id: 1, error: { code: -32600 } });
  t.match(await rpc(node, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'eth_mine' })), { id: 2, error: { code: -32601, message: /eth_mine/ } });
  t.match(await rpc(node, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'toString' })), { error: { code: -32601 } }, 'no prototype methods');
  t.match(await rpc(node, JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'eth_getBalance', params: ['0x12'] })), { error: { code: -32602, message: /address/ } });
  t.match(await rpc(node, JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'eth_getBlockByNumber', params: ['soon', false] })), { error: { code: -32602 } });
  t.match(await rpc(node, JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'eth_getLogs', params: [{ fromBlock: '0x0', toBlock: '0x2710' }] })), {
    error: { code: -32005 },
  });
  t.match(await rpc(node, JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'eth_getLogs', params: [{ topics: ['0x1'] }] })), { error: { code: -32602 } });
  t.match(await rpc(node, JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'eth_call', params: ['nope'] })), { error: { code: -32602 } });
  t.match(await rpc(node, JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'eth_blockNumber', params: {} })), { error: { code: -32602 } });

  const batch = await rpc(
    node,
    JSON.stringify([
      { jsonrpc: '2.0', id: 1, method: 'eth_chainId' },
      { jsonrpc: '2.0', id: 2, method: 'nope' },
      { jsonrpc: '2.0', id: 3, method: 'net_version' },
    ]),
  );
  t.match(batch, [{ id: 1, result: '0x7a69' }, { id: 2, error: { code: -32601 } }, { id: 3, result: '31337' }]);
  const tooMany = JSON.stringify(Array.from({ length: 101 }, (_, id) => ({ jsonrpc: '2.0', id, method: 'eth_chainId' })));
  t.match(await rpc(node, tooMany), { error: { code: -32600, message: /at most 100/ } });
  const huge = await fetch(node.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `"${'a'.repeat(5 * 1024 * 1024)}"` });
  t.equal(huge.status, 413, 'body limit');
  t.match(await huge.json(), { error: { code: -32600 } });

  t.match(await rpc(node, JSON.stringify({ jsonrpc: '2.0', id: 10, method: 'eth_blockNumber' })), { id: 10, result: '0x0' }, 'still serving');
  t.match(await rpc(node, JSON.stringify({ jsonrpc: '2.0', id: 11, method: 'web3_clientVersion' })), { result: /tagger-evm-node/ });
  t.match(await rpc(node, JSON.stringify({ jsonrpc: '2.0', id: 12, method: 'eth_accounts' })), { result: [] });
});

t.test('retention: blocks, receipts and logs older than retainBlocks answer null or nothing', async (t) => {
  const node = await EvmNode.start(opts({ retainBlocks: 16 }));
  t.teardown(() => node.stop());
  const { pub, wallet } = clients(node);
  const token = await deployToken(node);
  const hash = await wallet.writeContract({ address: token, abi: TAG_TOKEN.abi, functionName: 'transfer', args: [bob.address, 1n] });
  await pub.waitForTransactionReceipt({ hash });
  t.equal((await pub.getLogs({ address: token, fromBlock: 0n })).length, 2);
  await node.mine(20);
  t.equal(await pub.getBlockNumber(), 22n);
  t.equal(await pub.getBlock({ blockNumber: 2n }).catch((e: Error) => e.name), 'BlockNotFoundError', 'block 2 was dropped');
  t.equal((await pub.getBlock({ blockNumber: 7n })).number, 7n, 'block 7 is the oldest kept');
  t.equal(await pub.getTransactionReceipt({ hash }).catch((e: Error) => e.name), 'TransactionReceiptNotFoundError');
  t.same(await pub.getLogs({ address: token, fromBlock: 0n }), []);
  t.equal(await pub.readContract({ address: token, abi: TAG_TOKEN.abi, functionName: 'balanceOf', args: [bob.address] }), 1n, 'the state is whole');
});

t.test('evm_increaseTime and evm_mine with a timestamp move block time forward', async (t) => {
  const node = await EvmNode.start(opts());
  t.teardown(() => node.stop());
  const { pub } = clients(node);
  await node.mine(1);
  const before = (await pub.getBlock()).timestamp;
  t.equal(await call(node, 'evm_increaseTime', ['0x15180']), '0x15180');
  await node.mine(1);
  t.ok((await pub.getBlock()).timestamp >= before + 86_400n, 'a day later');
  const at = (await pub.getBlock()).timestamp + 1000n;
  await call(node, 'evm_mine', [`0x${at.toString(16)}`]);
  t.equal((await pub.getBlock()).timestamp, at);
  t.match(await rpc(node, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'evm_mine', params: ['0x1'] })), { error: { code: -32602, message: /not after/ } });
});

t.test('eth_estimateGas covers the gas a call keeps back (EIP-150): the estimate succeeds, 5% less fails', async (t) => {
  const node = await EvmNode.start(opts());
  t.teardown(() => node.stop());
  const { pub, wallet } = clients(node);
  // init code that returns `runtime`: PUSH1 len DUP1 PUSH1 11 PUSH1 0 CODECOPY PUSH1 0 RETURN
  const deployRaw = async (runtime: string): Promise<Hex> => {
    const len = (runtime.length / 2).toString(16).padStart(2, '0');
    const hash = await wallet.sendTransaction({ data: `0x60${len}80600b6000396000f3${runtime}` });
    const address = (await pub.waitForTransactionReceipt({ hash })).contractAddress;
    if (address === null || address === undefined) throw new TypeError('not deployed');
    return address;
  };
  // Writes slot 0 (a cold 0 → 1 store: 22,100 gas).
  const target = await deployRaw('6001600055' + '00');
  // CALL(gas(), target, 0, 0, 0, 0, 0) and revert unless it succeeded.
  const proxy = await deployRaw(`60006000600060006000 73${target.slice(2)} 5a f1 15 6026 57 00 5b 6000 80 fd`.replaceAll(' ', ''));
  const estimate = await pub.estimateGas({ account: alice, to: proxy });
  t.ok(estimate > 21_000n + 22_100n, `estimate ${estimate}`);
  const low = await wallet.sendTransaction({ to: proxy, gas: (estimate * 95n) / 100n });
  t.equal((await pub.waitForTransactionReceipt({ hash: low })).status, 'reverted', '5% under the estimate is not enough');
  const ok = await wallet.sendTransaction({ to: proxy, gas: estimate });
  t.equal((await pub.waitForTransactionReceipt({ hash: ok })).status, 'success', 'the estimate is enough');
});

t.test('BLOCKHASH sees this chain’s blocks', async (t) => {
  const node = await EvmNode.start(opts());
  t.teardown(() => node.stop());
  const { pub } = clients(node);
  await node.mine(3);
  // Runs as init code in eth_call: PUSH1 2 BLOCKHASH PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
  const data = await pub.call({ data: '0x60024060005260206000f3' });
  t.equal(data.data, (await pub.getBlock({ blockNumber: 2n })).hash);
});

t.test('concurrent requests are served one at a time: every tx in its own block, state consistent', async (t) => {
  const senders = Array.from({ length: 10 }, (_, i) => privateKeyToAccount(`0x${(i + 1).toString(16).padStart(64, '0')}`));
  const node = await EvmNode.start(opts({ prefund: [...senders.map((s) => ({ address: s.address, balance: BNB })), { address: alice.address, balance: BNB }] }));
  t.teardown(() => node.stop());
  const { pub } = clients(node);
  const tx = { to: bob.address, value: 1_000n, gas: 21_000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n, chainId: Number(CHAIN_ID) };
  const raws = await Promise.all(senders.map((s) => s.signTransaction({ ...tx, nonce: 0 })));
  const replies = (await Promise.all([
    ...raws.map((raw) => call(node, 'eth_sendRawTransaction', [raw])),
    ...senders.map((s) => call(node, 'eth_getBalance', [s.address, 'latest'])),
  ])) as Hex[];
  t.equal(node.head(), 10n, 'ten blocks');
  for (const hash of replies.slice(0, 10)) {
    const receipt = await pub.getTransactionReceipt({ hash });
    t.equal(receipt.status, 'success');
    t.equal((await pub.getBlock({ blockNumber: receipt.blockNumber })).transactions.length, 1);
  }
  t.equal(await pub.getBalance({ address: bob.address }), 10_000n, 'bob got every transfer');

  // A batch of one sender's txs with increasing nonces runs in order.
  const batch = await Promise.all([0, 1, 2, 3, 4].map((nonce) => alice.signTransaction({ ...tx, nonce })));
  const out = (await rpc(node, JSON.stringify(batch.map((raw, id) => ({ jsonrpc: '2.0', id, method: 'eth_sendRawTransaction', params: [raw] }))))) as { result?: Hex }[];
  t.equal(out.filter((r) => r.result !== undefined).length, 5);
  t.equal(await pub.getTransactionCount({ address: alice.address }), 5);
  t.equal(node.head(), 15n);
});

t.test('every method answers junk params with a JSON-RPC error, never an internal error or a crash', async (t) => {
  const node = await EvmNode.start(opts());
  t.teardown(() => node.stop());
  await node.mine(2);
  const methods = [
    'eth_getBlockByNumber', 'eth_getBlockByHash', 'eth_getBlockTransactionCountByNumber', 'eth_getBlockReceipts', 'eth_getTransactionByHash',
    'eth_getTransactionReceipt', 'eth_getLogs', 'eth_sendRawTransaction', 'eth_call', 'eth_estimateGas', 'eth_getTransactionCount',
    'eth_getBalance', 'eth_getCode', 'eth_getStorageAt', 'eth_feeHistory', 'evm_mine', 'evm_revert', 'evm_increaseTime',
  ];
  const junk: unknown[][] = [
    [], [null], [{}], ['0x'], [-1], [1.5], ['0xzz'], [[1]], [true, true], ['latest', 'latest', 'latest'], [`0x${'f'.repeat(65)}`],
    [{ address: 5 }], [{ fromBlock: 'x' }], [{ blockHash: '0x1' }], [{ topics: [[5]] }], [{ to: 'x' }], [{ data: '0xabc' }], [{ value: '-1' }],
    ['0x1', '0x1', [200]], ['0x02f8'], [alice.address, { blockHash: `0x${'00'.repeat(32)}` }], [alice.address, '0xffffffffffffffff'],
  ];
  let errors = 0;
  for (const method of methods) {
    for (const params of junk) {
      const reply = (await rpc(node, JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }))) as { error?: { code: number; message: string } };
      if (reply.error !== undefined) {
        errors++;
        if (reply.error.code === -32603) t.fail(`${method}(${JSON.stringify(params)}) → internal error ${reply.error.message}`);
      }
    }
  }
  t.ok(errors > methods.length * 10, `${errors} JSON-RPC errors`);
  t.match(await rpc(node, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'eth_chainId' })), { result: '0x7a69' }, 'still serving');
});

t.test('empty blocks are the blocks @ethereumjs/block makes from their parent (base fee, roots, Cancun fields)', async (t) => {
  const node = await EvmNode.start(opts());
  t.teardown(() => node.stop());
  const { pub, wallet } = clients(node);
  const common = createCustomCommon({ chainId: Number(CHAIN_ID) }, Mainnet, { hardfork: Hardfork.Cancun });
  await node.mine(2);
  await deployToken(node); // a full block in between moves the base fee up
  await node.mine(2);
  const hash = await wallet.sendTransaction({ to: bob.address, value: 1n });
  await pub.waitForTransactionReceipt({ hash });
  await node.mine(2);
  let checked = 0;
  for (let n = 1n; n <= node.head(); n++) {
    const block = await pub.getBlock({ blockNumber: n });
    if (block.transactions.length > 0) continue;
    const parent = await pub.getBlock({ blockNumber: n - 1n });
    const parentHeader = createBlockHeader(
      {
        parentHash: parent.parentHash,
        number: parent.number,
        timestamp: parent.timestamp,
        gasLimit: parent.gasLimit,
        gasUsed: parent.gasUsed,
        baseFeePerGas: parent.baseFeePerGas ?? 0n,
        stateRoot: parent.stateRoot,
        transactionsTrie: parent.transactionsRoot,
        receiptTrie: parent.receiptsRoot,
        logsBloom: parent.logsBloom ?? undefined,
        withdrawalsRoot: parent.withdrawalsRoot,
        blobGasUsed: parent.blobGasUsed,
        excessBlobGas: parent.excessBlobGas,
        parentBeaconBlockRoot: parent.parentBeaconBlockRoot,
      },
      { common },
    );
    t.equal(toHex(parentHeader.hash()), parent.hash, `block ${n - 1n} hashes as ethereumjs hashes it`);
    const expected = createBlock(
      {
        header: {
          parentHash: parent.hash ?? undefined,
          number: n,
          timestamp: block.timestamp,
          gasLimit: parent.gasLimit,
          baseFeePerGas: parentHeader.calcNextBaseFee(),
          stateRoot: parent.stateRoot,
          excessBlobGas: parentHeader.calcNextExcessBlobGas(parentHeader.common),
          blobGasUsed: 0n,
          withdrawalsRoot: KECCAK256_RLP,
        },
        withdrawals: [],
      },
      { common },
    );
    t.equal(toHex(expected.hash()), block.hash, `empty block ${n}`);
    checked++;
  }
  t.equal(checked, 6);
});

t.test('CORS headers only for the configured origins', async (t) => {
  const closed = await EvmNode.start(opts());
  t.teardown(() => closed.stop());
  const open = await EvmNode.start(opts({ corsOrigins: ['http://localhost:5173'] }));
  t.teardown(() => open.stop());
  const preflight = (url: string) =>
    fetch(url, { method: 'OPTIONS', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
  t.equal((await preflight(open.url)).headers.get('access-control-allow-origin'), 'http://localhost:5173');
  t.equal((await preflight(closed.url)).headers.get('access-control-allow-origin'), null);
  const reply = await fetch(open.url, { method: 'POST', headers: { origin: 'http://evil.example', 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}' });
  t.equal(reply.headers.get('access-control-allow-origin'), null, 'another origin gets no CORS header');
});
