/**
 * The CLI's bridge commands (docs/cli.md §Bridge): `tagger bridge status | withdraw | deposit | prove
 * | audit`. Tagger chain is read through the SDK's BridgeClient (`--rpc URL`, else the node of the
 * home's config); BNB Chain through viem's JSON-RPC clients (`--bnb-rpc URL`), the contract at
 * `--bridge 0x…` or, when not given, the one the chain's bridge parameters name. A withdrawal is a
 * Tagger transaction (kind 42) sent like every other writing command (`sendCommitted`); a deposit and
 * a proven release are BNB Chain transactions signed with `--evm-key` (0x-hex, or a file holding it).
 *
 * Amounts are TAG decimal strings on the command line (`parseTag`): 18 decimals, the same unit on
 * both chains. Every command prints JSON, except `status` and `audit`, which print lines for people
 * unless given `--json`. `audit` exits non-zero (BRIDGE_AUDIT_FAILED) when a check fails.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  parseEventLogs,
  type Hex,
  type PrivateKeyAccount,
  type PublicClient,
  type TransactionReceipt,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { ChainError, addressFromString, addressToString, bytesToHex, formatTag, parseTag } from '../lib/index.ts';
import { TAGGER_BRIDGE, TAG_TOKEN } from '../bridge/index.ts';
import {
  BridgeClient,
  Keyring,
  auditSupply,
  buildBridgeWithdraw,
  depositRecipientArg,
  evmAddressFrom,
  readPassword,
  stakingMaxFee,
  verifyWithdrawalReply,
  withdrawCallArgs,
  type BridgeStatusJson,
  type SupplyCheck,
  type WithdrawalReplyJson,
} from '../sdk/index.ts';
import { sendCommitted, type CliContext } from './labellingCommands.ts';

/** Flags of the bridge commands, added to the CLI's option table by main.ts. */
export const BRIDGE_OPTIONS = {
  rpc: { type: 'string' },
  'bnb-rpc': { type: 'string' },
  bridge: { type: 'string' },
  'evm-key': { type: 'string' },
  key: { type: 'string' },
  nonce: { type: 'string' },
  wait: { type: 'boolean' },
  submit: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export type BridgeFlags = {
  rpc?: string;
  'bnb-rpc'?: string;
  bridge?: string;
  'evm-key'?: string;
  key?: string;
  nonce?: string;
  wait?: boolean;
  submit?: boolean;
  json?: boolean;
  from?: string;
  to?: string;
  amount?: string;
  'max-fee'?: string;
  'password-file'?: string;
};

export type BridgeCliErrorType =
  | { code: 'BRIDGE_AUDIT_FAILED'; failed: string[] }
  | { code: 'BRIDGE_NOT_CHECKPOINTED'; nonce: number; status: string }
  | { code: 'BRIDGE_CHECKPOINT_NOT_ON_BNB'; checkpoint: number; lastCheckpoint: string }
  | { code: 'BRIDGE_ALREADY_CLAIMED'; nonce: number }
  | { code: 'BRIDGE_BAD_PROOF'; nonce: number }
  | { code: 'BRIDGE_NO_CONTRACT' }
  | { code: 'BRIDGE_BAD_EVM_KEY'; reason: string }
  | { code: 'BRIDGE_BNB_TX_FAILED'; what: string; txHash: string }
  | { code: 'BRIDGE_NO_EVENT'; event: string; txHash: string };
export class BridgeCliError extends ChainError<BridgeCliErrorType> {}

/** Per-request limit of the BNB Chain JSON-RPC client. */
const BNB_RPC_TIMEOUT_MS = 15_000;
/** How long `deposit --wait` waits for the validators to mint. */
const DEPOSIT_WAIT_MS = 10 * 60_000;
const KEY_FILE_BYTES_MAX = 4_096;

// ── flags ────────────────────────────────────────────────────────────────────────────────────────

async function taggerClient(ctx: CliContext, flags: BridgeFlags): Promise<BridgeClient> {
  return new BridgeClient({ url: flags.rpc ?? (await ctx.nodeUrl()) });
}

function need(ctx: CliContext, value: string | undefined, what: string): string {
  if (value === undefined) throw ctx.usage(`${what} is required`);
  return value;
}

function amountFlag(ctx: CliContext, flags: BridgeFlags): bigint {
  const amount = parseTag(need(ctx, flags.amount, '--amount TAG'));
  if (amount <= 0n) throw ctx.usage('--amount must be more than zero');
  return amount;
}

function nonceFlag(ctx: CliContext, flags: BridgeFlags): number {
  const text = need(ctx, flags.nonce, '--nonce N');
  if (!/^[1-9][0-9]{0,9}$/.test(text) || Number(text) > 0xffff_ffff) throw ctx.usage(`--nonce must be a whole number from 1, got "${text}"`);
  return Number(text);
}

function hexAddress(bytes: Uint8Array): Hex {
  return `0x${bytesToHex(bytes)}`;
}

/** `given` (--bridge), else the contract the chain's bridge parameters name (an error if none). */
function bridgeAddress(given: string | undefined, status: BridgeStatusJson | null): Hex {
  if (given !== undefined) return hexAddress(evmAddressFrom(given, '--bridge'));
  const named = status?.params.bridgeContract;
  if (named === undefined || /^0x0{40}$/.test(named)) {
    throw new BridgeCliError({ code: 'BRIDGE_NO_CONTRACT' }, 'the chain names no bridge contract: give --bridge 0x…');
  }
  return named as Hex;
}

function jsonSecretKey(content: string): string {
  try {
    const parsed = JSON.parse(content) as { secretKey?: unknown };
    return typeof parsed.secretKey === 'string' ? parsed.secretKey : '';
  } catch {
    return '';
  }
}

/** --evm-key: 0x + 64 hex digits, or a file holding that (first line, or a JSON key file's `secretKey`). */
async function evmAccount(ctx: CliContext, flags: BridgeFlags): Promise<PrivateKeyAccount> {
  const given = need(ctx, flags['evm-key'], '--evm-key 0xHEX|FILE (a funded BNB Chain key)');
  const KEY = /^0x[0-9a-fA-F]{64}$/;
  let text = given;
  if (!KEY.test(given)) {
    const info = await stat(given).catch(() => null);
    if (info === null || !info.isFile()) throw new BridgeCliError({ code: 'BRIDGE_BAD_EVM_KEY', reason: 'neither 0x + 64 hex digits nor a file' }, '--evm-key must be 0x followed by 64 hex digits, or a file holding that');
    if (info.size > KEY_FILE_BYTES_MAX) throw new BridgeCliError({ code: 'BRIDGE_BAD_EVM_KEY', reason: 'file too large' }, `--evm-key file ${given} is larger than ${KEY_FILE_BYTES_MAX} bytes`);
    const content = (await readFile(given, 'utf8')).trim();
    // A key file as the node writes them ({"address", "secretKey"}), or the bare key on its first line.
    text = content.startsWith('{') ? jsonSecretKey(content) : (content.split('\n')[0]?.trim() ?? '');
    if (!KEY.test(text)) throw new BridgeCliError({ code: 'BRIDGE_BAD_EVM_KEY', reason: 'file content' }, `--evm-key file ${given} must hold 0x followed by 64 hex digits`);
  }
  return privateKeyToAccount(text as Hex);
}

/** The Tagger key that signs: --from NAME (the home's keyring), or --key FILE (a keyring key file). */
async function taggerKey(ctx: CliContext, flags: BridgeFlags): Promise<Uint8Array> {
  if (flags.key !== undefined) {
    const path = resolve(flags.key);
    const name = basename(path, '.json');
    const password = await readPassword({ ...(flags['password-file'] === undefined ? {} : { passwordFile: flags['password-file'] }), prompt: `Password for ${path}: ` });
    return new Keyring({ dir: dirname(path) }).unlock(name, password);
  }
  if (flags.from !== undefined) return ctx.unlock(flags.from);
  throw ctx.usage('--from NAME (a keyring key) or --key FILE (a key file) is required');
}

// ── BNB Chain ────────────────────────────────────────────────────────────────────────────────────

function bnbPublic(url: string): PublicClient {
  return createPublicClient({ transport: http(url, { timeout: BNB_RPC_TIMEOUT_MS, retryCount: 2 }) });
}

async function bnbWallet(url: string, account: PrivateKeyAccount) {
  const chainId = await bnbPublic(url).getChainId();
  const chain = defineChain({ id: chainId, name: `BNB Chain ${chainId}`, nativeCurrency: { name: 'BNB', symbol: 'BNB', decimals: 18 }, rpcUrls: { default: { http: [url] } } });
  return createWalletClient({ account, chain, transport: http(url, { timeout: BNB_RPC_TIMEOUT_MS, retryCount: 2 }) });
}

async function confirmed(client: PublicClient, txHash: Hex, what: string): Promise<TransactionReceipt> {
  const receipt = await client.waitForTransactionReceipt({ hash: txHash, timeout: 120_000 });
  if (receipt.status !== 'success') throw new BridgeCliError({ code: 'BRIDGE_BNB_TX_FAILED', what, txHash }, `${what} reverted on BNB Chain (transaction ${txHash})`);
  return receipt;
}

export type BnbBridgeState = {
  bridge: Hex;
  token: Hex;
  lockedBalance: bigint;
  totalLocked: bigint;
  totalReleased: bigint;
  lastCheckpoint: bigint;
  depositNonce: bigint;
  validatorSetId: bigint;
  paused: boolean;
};

/** The contract's counters and the token balance it holds, all read at one block (default: the latest). */
export async function readBnbBridge(client: PublicClient, bridge: Hex, blockNumber?: bigint): Promise<BnbBridgeState> {
  const abi = TAGGER_BRIDGE.abi;
  const at = blockNumber ?? (await client.getBlockNumber());
  const token = await client.readContract({ address: bridge, abi, functionName: 'token', blockNumber: at });
  const [lockedBalance, totalLocked, totalReleased, lastCheckpoint, depositNonce, validatorSetId, paused] = await Promise.all([
    client.readContract({ address: token, abi: TAG_TOKEN.abi, functionName: 'balanceOf', args: [bridge], blockNumber: at }),
    client.readContract({ address: bridge, abi, functionName: 'totalLocked', blockNumber: at }),
    client.readContract({ address: bridge, abi, functionName: 'totalReleased', blockNumber: at }),
    client.readContract({ address: bridge, abi, functionName: 'lastCheckpoint', blockNumber: at }),
    client.readContract({ address: bridge, abi, functionName: 'depositNonce', blockNumber: at }),
    client.readContract({ address: bridge, abi, functionName: 'validatorSetId', blockNumber: at }),
    client.readContract({ address: bridge, abi, functionName: 'paused', blockNumber: at }),
  ]);
  return { bridge, token, lockedBalance, totalLocked, totalReleased, lastCheckpoint, depositNonce, validatorSetId, paused };
}

// ── status ───────────────────────────────────────────────────────────────────────────────────────

function bnbJson(b: BnbBridgeState): Record<string, unknown> {
  return {
    bridge: b.bridge,
    token: b.token,
    paused: b.paused,
    lastCheckpoint: Number(b.lastCheckpoint),
    depositNonce: Number(b.depositNonce),
    validatorSetId: Number(b.validatorSetId),
    lockedBalance: b.lockedBalance.toString(),
    totalLocked: b.totalLocked.toString(),
    totalReleased: b.totalReleased.toString(),
  };
}

async function bridgeStatus(ctx: CliContext, flags: BridgeFlags): Promise<void> {
  const s = await (await taggerClient(ctx, flags)).bridge();
  const bnb = flags['bnb-rpc'] === undefined ? null : await readBnbBridge(bnbPublic(flags['bnb-rpc']), bridgeAddress(flags.bridge, s));
  if (flags.json === true) return ctx.print({ tagger: s, bnb: bnb === null ? null : bnbJson(bnb) });
  const g = s.globals;
  const lines = [
    `Tagger chain (height ${s.height}): bridge ${s.enabled ? 'enabled' : 'disabled'}, contract ${s.params.bridgeContract} on BNB chain ${s.params.bnbChainId}`,
    `  bridged supply      ${formatTag(BigInt(g.bridgedSupply))} TAG`,
    `  deposits            next nonce to mint ${g.nextDepositNonce}`,
    `  withdrawals         ${g.nextWithdrawalNonce - 1} burnt, ${g.withdrawalsPending} not yet in a checkpoint`,
    `  checkpoints         last ${g.lastCheckpoint} (to block ${g.lastEndBlock}), every ${s.params.checkpointInterval} blocks`,
    `  signing set         id ${s.signingSet.id}, ${s.signingSet.signers.length} signers`,
  ];
  if (bnb !== null) {
    lines.push(
      `BNB Chain: bridge ${bnb.bridge}${bnb.paused ? ' (PAUSED)' : ''}, token ${bnb.token}`,
      `  locked balance      ${formatTag(bnb.lockedBalance)} TAG`,
      `  locked / released   ${formatTag(bnb.totalLocked)} / ${formatTag(bnb.totalReleased)} TAG (ever)`,
      `  last checkpoint     ${bnb.lastCheckpoint} (Tagger chain has ${g.lastCheckpoint})`,
      `  deposits            ${bnb.depositNonce}; validator set ${bnb.validatorSetId}`,
    );
  }
  ctx.print(lines.join('\n'));
}

// ── withdraw ─────────────────────────────────────────────────────────────────────────────────────

async function bridgeWithdraw(ctx: CliContext, flags: BridgeFlags): Promise<void> {
  const body = buildBridgeWithdraw(need(ctx, flags.to, '--to 0x… (a BNB Chain address)'), amountFlag(ctx, flags));
  const secretKey = await taggerKey(ctx, flags);
  const client = await taggerClient(ctx, flags);
  const [status, params] = await Promise.all([client.status(), client.stakingParams()]);
  const fees = { baseFee: BigInt(params.fees.baseFee), perByteFee: BigInt(params.fees.perByteFee), txBytesMax: params.fees.txBytesMax };
  const maxFee = flags['max-fee'] === undefined ? stakingMaxFee(status.chainId, body, fees) : parseTag(flags['max-fee']);
  const tx = await sendCommitted(client, secretKey, body, maxFee);
  const e = tx.receipt.events.find((x) => x.type === 'bridgeWithdrawal')?.attributes ?? {};
  ctx.print({
    nonce: e['nonce'] === undefined ? null : Number(e['nonce']),
    sender: e['sender'] ?? null,
    recipient: e['recipient'] ?? null,
    amount: e['amount'] ?? null,
    hash: tx.hash,
    height: tx.height,
    fee: tx.receipt.fee,
    next: 'released on BNB Chain once a checkpoint holding it is accepted: `tagger bridge prove --nonce N`',
  });
}

// ── deposit ──────────────────────────────────────────────────────────────────────────────────────

async function bridgeDeposit(ctx: CliContext, flags: BridgeFlags): Promise<void> {
  const to = addressFromString(need(ctx, flags.to, '--to tag1… (a Tagger address)'));
  const recipient = depositRecipientArg(to);
  const amount = amountFlag(ctx, flags);
  const url = need(ctx, flags['bnb-rpc'], '--bnb-rpc URL');
  const account = await evmAccount(ctx, flags);
  const tagger = flags.bridge === undefined || flags.wait === true ? await taggerClient(ctx, flags) : null;
  const bridge = bridgeAddress(flags.bridge, tagger === null ? null : await tagger.bridge());
  const reader = bnbPublic(url);
  const wallet = await bnbWallet(url, account);
  const token = await reader.readContract({ address: bridge, abi: TAGGER_BRIDGE.abi, functionName: 'token' });
  const allowance = await reader.readContract({ address: token, abi: TAG_TOKEN.abi, functionName: 'allowance', args: [account.address, bridge] });
  let approveTxHash: Hex | null = null;
  if (allowance < amount) {
    approveTxHash = await wallet.writeContract({ address: token, abi: TAG_TOKEN.abi, functionName: 'approve', args: [bridge, amount] });
    await confirmed(reader, approveTxHash, 'approve');
  }
  const { request } = await reader.simulateContract({ account, address: bridge, abi: TAGGER_BRIDGE.abi, functionName: 'deposit', args: [recipient, amount] });
  const txHash = await wallet.writeContract(request);
  const receipt = await confirmed(reader, txHash, 'deposit');
  const deposited = parseEventLogs({ abi: TAGGER_BRIDGE.abi, eventName: 'Deposited', logs: receipt.logs }).find((l) => l.address.toLowerCase() === bridge.toLowerCase());
  if (deposited === undefined) throw new BridgeCliError({ code: 'BRIDGE_NO_EVENT', event: 'Deposited', txHash }, `no Deposited event in ${txHash}`);
  const nonce = Number(deposited.args.nonce);
  const out = {
    nonce,
    recipient: addressToString(to),
    amount: deposited.args.amount.toString(),
    bnbTxHash: txHash,
    bnbBlock: Number(receipt.blockNumber),
    approveTxHash,
  };
  if (flags.wait !== true || tagger === null) return ctx.print({ ...out, status: 'locked' });
  const minted = await tagger.waitForDeposit(nonce, { timeoutMs: DEPOSIT_WAIT_MS, pollMs: 1_000 });
  ctx.print({ ...out, status: minted.status, height: minted.height });
}

// ── prove ────────────────────────────────────────────────────────────────────────────────────────

function proofJson(w: WithdrawalReplyJson): Record<string, unknown> {
  const [number, withdrawal, index, proof] = withdrawCallArgs(w);
  return {
    nonce: w.nonce,
    status: w.status,
    checkpoint: Number(number),
    withdrawal: { nonce: Number(withdrawal.nonce), sender: withdrawal.sender, recipient: withdrawal.recipient, amount: withdrawal.amount.toString() },
    index: Number(index),
    proof,
    withdrawalsRoot: w.proof?.withdrawalsRoot ?? null,
    leaf: w.proof?.leaf ?? null,
  };
}

async function bridgeProve(ctx: CliContext, flags: BridgeFlags): Promise<void> {
  const nonce = nonceFlag(ctx, flags);
  const client = await taggerClient(ctx, flags);
  const w = await client.withdrawal(nonce);
  if (w.proof === null) {
    throw new BridgeCliError({ code: 'BRIDGE_NOT_CHECKPOINTED', nonce, status: w.status }, `withdrawal ${nonce} is not in a checkpoint yet (status ${w.status}); retry after the next checkpoint`);
  }
  if (!verifyWithdrawalReply(w)) throw new BridgeCliError({ code: 'BRIDGE_BAD_PROOF', nonce }, `the node's proof for withdrawal ${nonce} does not verify`);
  const out = proofJson(w);
  if (flags.submit !== true) return ctx.print(out);

  const url = need(ctx, flags['bnb-rpc'], '--submit needs --bnb-rpc URL');
  const account = await evmAccount(ctx, flags);
  const bridge = bridgeAddress(flags.bridge, flags.bridge === undefined ? await client.bridge() : null);
  const reader = bnbPublic(url);
  const abi = TAGGER_BRIDGE.abi;
  const [lastCheckpoint, claimed] = await Promise.all([
    reader.readContract({ address: bridge, abi, functionName: 'lastCheckpoint' }),
    reader.readContract({ address: bridge, abi, functionName: 'claimed', args: [BigInt(nonce)] }),
  ]);
  if (claimed) throw new BridgeCliError({ code: 'BRIDGE_ALREADY_CLAIMED', nonce }, `withdrawal ${nonce} is already claimed on BNB Chain`);
  const checkpoint = w.proof.checkpoint;
  if (lastCheckpoint < BigInt(checkpoint)) {
    throw new BridgeCliError(
      { code: 'BRIDGE_CHECKPOINT_NOT_ON_BNB', checkpoint, lastCheckpoint: lastCheckpoint.toString() },
      `checkpoint ${checkpoint} is not on BNB Chain yet (last accepted: ${lastCheckpoint}); a relayer submits it once signed`,
    );
  }
  const { request } = await reader.simulateContract({ account, address: bridge, abi, functionName: 'withdraw', args: withdrawCallArgs(w) });
  const txHash = await (await bnbWallet(url, account)).writeContract(request);
  const receipt = await confirmed(reader, txHash, 'withdraw');
  const logs = parseEventLogs({ abi, logs: receipt.logs }).filter((l) => l.address.toLowerCase() === bridge.toLowerCase());
  const queued = logs.find((l) => l.eventName === 'WithdrawalQueued');
  ctx.print({
    ...out,
    bnbTxHash: txHash,
    released: logs.some((l) => l.eventName === 'WithdrawalReleased'),
    queuedUntil: queued?.eventName === 'WithdrawalQueued' ? Number(queued.args.releaseAt) : null,
  });
}

// ── audit ────────────────────────────────────────────────────────────────────────────────────────

export type AuditReport = { height: number; bnbBlock: string; checks: SupplyCheck[]; ok: boolean };

/**
 * Reads Tagger chain first (its counters at one height, then the withdrawals below that height's
 * next nonce: records never change, so the sum is what was burnt at that height), then BNB Chain
 * (every figure at one block), and compares them (`auditSupply`).
 */
export async function auditBridge(tagger: BridgeClient, bnb: PublicClient, bridgeGiven: string | undefined): Promise<AuditReport> {
  const s = await tagger.bridge();
  const bridge = bridgeAddress(bridgeGiven, s);
  const { totalBurnt } = await tagger.totalBurnt({ below: s.globals.nextWithdrawalNonce });
  const bnbBlock = await bnb.getBlockNumber();
  const b = await readBnbBridge(bnb, bridge, bnbBlock);
  const checks = auditSupply({
    bridgedSupply: BigInt(s.globals.bridgedSupply),
    totalBurnt,
    lockedBalance: b.lockedBalance,
    totalLocked: b.totalLocked,
    totalReleased: b.totalReleased,
  });
  return { height: s.height, bnbBlock: bnbBlock.toString(), checks, ok: checks.every((c) => c.ok) };
}

export function auditLines(r: AuditReport): string {
  const tag = (units: string): string => `${formatTag(BigInt(units))} TAG`;
  const lines = [`Supply audit: Tagger chain height ${r.height}, BNB Chain block ${r.bnbBlock}`];
  for (const c of r.checks) lines.push(`${c.ok ? 'MATCH' : 'FAIL '} ${c.name}: ${tag(c.left)} ${c.op} ${tag(c.right)}  (${c.description})`);
  return lines.join('\n');
}

async function bridgeAudit(ctx: CliContext, flags: BridgeFlags): Promise<void> {
  const url = need(ctx, flags['bnb-rpc'], '--bnb-rpc URL');
  const report = await auditBridge(await taggerClient(ctx, flags), bnbPublic(url), flags.bridge);
  ctx.print(flags.json === true ? report : auditLines(report));
  const failed = report.checks.filter((c) => !c.ok).map((c) => c.name);
  if (failed.length > 0) throw new BridgeCliError({ code: 'BRIDGE_AUDIT_FAILED', failed }, `supply audit failed: ${failed.join(', ')}`);
}

// ── dispatch ─────────────────────────────────────────────────────────────────────────────────────

export async function cmdBridge(ctx: CliContext, args: string[], flags: BridgeFlags): Promise<void> {
  const [sub] = args;
  switch (sub ?? '') {
    case 'status':
      return bridgeStatus(ctx, flags);
    case 'withdraw':
      return bridgeWithdraw(ctx, flags);
    case 'deposit':
      return bridgeDeposit(ctx, flags);
    case 'prove':
      return bridgeProve(ctx, flags);
    case 'audit':
      return bridgeAudit(ctx, flags);
    default:
      throw ctx.usage(`unknown bridge command "${sub ?? ''}"`);
  }
}
