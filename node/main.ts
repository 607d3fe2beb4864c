#!/usr/bin/env node
/**
 * `tagger`, the command line: node operation (init, start), keys, transactions, queries and
 * genesis editing. Every command prints JSON on stdout (logs go to stderr) and exits non-zero with
 * `{ "error": { code, message } }` on failure. Reference: docs/cli.md.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import {
  ChainError,
  addressFromString,
  addressToString,
  formatTag,
  isChainError,
  bytesToHex,
  hexToBytes,
  parseTag,
} from '../lib/index.ts';
import { Keyring, MIN_SCRYPT_N, readPassword } from '../sdk/index.ts';
import { TaggerClient, buildTransfer, sendTx } from '../sdk/index.ts';
import { applyOverrides, ENV_OVERRIDES, parseConfigJson, type NodeConfig } from './config.ts';
import { exists, homePaths, initHome } from './home.ts';
import type { TaggerNode } from './node.ts';
import { ChainStore } from '../state/index.ts';
import { assertEmptyHome, listSnapshots, pruneSnapshots, restoreSnapshot, snapshotStoreHead, snapshotsDir } from './snapshot.ts';
import { parseGenesisJson } from '../genesis/index.ts';
import { genesisAddAccount, genesisAddValidator, genesisInit, genesisValidate } from './genesisCommands.ts';
import { TESTNET_BASE_PORT, createTestnet, loadTestnet, startTestnetNode, stopTestnetNodes, type RunningNode } from './testnet.ts';
import { LABELLING_OPTIONS, cmdAnnotator, cmdDispute, cmdGold, cmdLabels, cmdTask, type CliContext } from './labellingCommands.ts';
import { STAKING_OPTIONS, cmdStake, cmdValidator } from './stakingCommands.ts';
import { PASSPORT_OPTIONS, cmdLicence, cmdPassport } from './passportCommands.ts';
import { EXPORT_OPTIONS, cmdExport, cmdVerify } from './exportCommands.ts';
import { BRIDGE_OPTIONS, cmdBridge } from './bridgeCommands.ts';
import type { EmbeddedEvm } from './bridgeDevnet.ts';

type CliErrorType = { code: 'CLI_USAGE'; reason: string };
class CliError extends ChainError<CliErrorType> {}

const DEVNET_CHAIN_ID = 'tagger-devnet-1';
const DEVNET_PASSWORD = 'devnet';

const USAGE = `tagger <command> [options]

Node:
  init     [--home DIR] [--chain-id ID] [--no-bridge] create a one-validator devnet home (with the BNB Chain
                                                     bridge and a local EVM standing in for BNB Chain, unless --no-bridge)
  start    [--home DIR] [--rpc-port N] [--rpc-host H] [--log-level L] [--halt-height N] [--no-bridge]
                                                     run the node (creates a devnet home on first start)
  testnet  [--validators N] [--dir DIR] [--base-port P]
                                                     run N validators on 127.0.0.1 (default 4, ./testnet, 26700)
Snapshots (docs/operators.md §Snapshots):
  snapshot create [--home DIR]                        snapshot the latest block's state (node stopped)
  snapshot list [--home DIR]                          heights of the snapshots in <home>/snapshots
  snapshot restore --from SNAPSHOT_DIR [--trusted-hash HEX] [--home DIR]
                                                     verify a snapshot and restore it into a new home
Keys (encrypted; password from --password-file, TAGGER_PASSWORD or a prompt):
  keys add NAME | keys list | keys show NAME [--home DIR]
Transactions:
  tx transfer --from NAME --to ADDRESS --amount TAG [--max-fee TAG] [--node URL] [--no-wait]
Queries:
  query status | account ADDRESS | block HEIGHT|latest | tx HASH   [--node URL]
Labelling (transactions take --from NAME [--max-fee TAG] [--node URL]; see docs/cli.md):
  task create --spec FILE.json [--gold-out FILE]     create a task (gold answers optional)
  task add-items --task ID --file items.jsonl        add items, in batches
  task fund|cancel --task ID                          escrow the payment / cancel and refund
  task show --task ID | task items --task ID [--cursor N] [--limit N] | task round --task ID --round R
  annotator stake|unstake --amount TAG               stake to be drawn for seats / start unbonding
  annotator show [ADDRESS] [--classes K]             stake, earnings, reputation (ADDRESS or --from)
  annotator assignments --task ID [ADDRESS]          rounds of a task where you hold seats
  labels commit --task ID --round R --file labels.json [--salts FILE]
  labels reveal --task ID --round R [--salts FILE]
  gold reveal --task ID --file gold-secrets.json
  dispute --task ID --item N --bond TAG
Staking (transactions take --from NAME [--max-fee TAG] [--node URL]; see docs/cli.md):
  validator create --self-stake TAG --moniker M [--commission-bps N] [--consensus-key HEX]
                                                     register as a validator (key: the home's node key)
  validator edit [--commission-bps N] [--moniker M] | validator unjail
  validator show [ADDRESS] | validator list [--cursor N] [--limit N] | validator set
  stake delegate|undelegate --validator ADDRESS --amount TAG
  stake claim --validator ADDRESS                    pay pending rewards (and commission, as operator)
  stake show [ADDRESS]                               delegations, pending rewards, unbonding
Passports and licences (transactions take --from NAME [--max-fee TAG] [--node URL]; see docs/cli.md):
  passport create --task ID --spec FILE.json         a passport from a done task (built over the next blocks)
  passport register --root HEX --records N --spec FILE.json   an external dataset by its content root
  passport version --passport ID (--task ID | --root HEX --records N) --spec FILE.json
  passport transfer --passport ID --to ADDRESS
  passport offer --passport ID --price TAG [--kind open|commercial|research-only] [--uses a,b]
                 [--duration BLOCKS] [--expires-at H] [--max-sales N] [--transferable] [--irrevocable]
  passport buy --offer ID [--max-price TAG] | passport revoke --licence ID [--reason TEXT]
  passport show --passport ID [--version V] | passport versions --passport ID | passport list [ADDRESS] [--task ID]
  licence offers --passport ID | --offer ID | licence withdraw --offer ID | licence buy --offer ID
  licence show --licence ID | licence list [ADDRESS] [--passport ID] | licence check --passport ID [ADDRESS]
  licence transfer --licence ID --to ADDRESS | licence revoke --licence ID [--reason TEXT]
Datasets (docs/spec/export.md):
  export --task ID | --passport ID [--version V] --format jsonl|csv|parquet --out FILE [--rpc URL]
  verify FILE --manifest FILE.manifest.json [--rpc URL]   exit 0 verified, 3 a check failed
Bridge to BNB Chain (see docs/cli.md §Bridge; --rpc URL is the Tagger node, default --node):
  bridge status [--bnb-rpc URL] [--bridge 0x…] [--json]   counters on both chains
  bridge withdraw --to 0xEVM --amount TAG (--from NAME | --key FILE)   burn TAG here for BNB Chain
  bridge deposit --to tag1… --amount TAG --bnb-rpc URL --evm-key 0xHEX|FILE [--bridge 0x…] [--wait]
                                                     approve + lock TAG on BNB Chain (--wait: until minted)
  bridge prove --nonce N [--submit --bnb-rpc URL --evm-key 0xHEX|FILE]   a withdrawal's proof / release it
  bridge audit --bnb-rpc URL [--bridge 0x…] [--json]   supply invariant: MATCH/FAIL, exit 1 on FAIL
Genesis:
  genesis init --chain-id ID [--file F] [--genesis-time T]
  genesis add-account ADDRESS AMOUNT_TAG [--file F]
  genesis add-validator NAME PUBLIC_KEY_HEX POWER_TAG [--file F]
  genesis validate [--file F]

Defaults: --home ./.tagger (or TAGGER_HOME); --node from the home's config (http://127.0.0.1:26657).
`;

const OPTIONS = {
  home: { type: 'string' },
  'chain-id': { type: 'string' },
  'no-bridge': { type: 'boolean' },
  'rpc-port': { type: 'string' },
  'rpc-host': { type: 'string' },
  'log-level': { type: 'string' },
  'halt-height': { type: 'string' },
  'block-interval-ms': { type: 'string' },
  'password-file': { type: 'string' },
  node: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  amount: { type: 'string' },
  'max-fee': { type: 'string' },
  'no-wait': { type: 'boolean' },
  file: { type: 'string' },
  'genesis-time': { type: 'string' },
  validators: { type: 'string' },
  dir: { type: 'string' },
  'base-port': { type: 'string' },
  'trusted-hash': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ...LABELLING_OPTIONS,
  ...EXPORT_OPTIONS,
  ...STAKING_OPTIONS,
  ...PASSPORT_OPTIONS,
  ...BRIDGE_OPTIONS,
} satisfies ParseArgsConfig['options'];

type Flags = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

function usage(reason: string): CliError {
  return new CliError({ code: 'CLI_USAGE', reason }, `${reason}\n\n${USAGE}`);
}

function print(value: unknown): void {
  if (typeof value === 'string') return void process.stdout.write(value + '\n');
  process.stdout.write(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
}

function homeOf(flags: Flags): string {
  return resolve(flags.home ?? process.env['TAGGER_HOME'] ?? '.tagger');
}

async function loadConfig(home: string, flags: Flags): Promise<NodeConfig> {
  const path = homePaths(home).config;
  const text = (await exists(path)) ? await readFile(path, 'utf8') : '{}';
  const overrides: Record<string, string> = {};
  for (const [env, key] of Object.entries(ENV_OVERRIDES)) {
    const value = process.env[env];
    if (value !== undefined) overrides[key] = value;
  }
  if (flags['rpc-port'] !== undefined) overrides['rpc.port'] = flags['rpc-port'];
  if (flags['rpc-host'] !== undefined) overrides['rpc.host'] = flags['rpc-host'];
  if (flags['log-level'] !== undefined) overrides['log.level'] = flags['log-level'];
  if (flags['halt-height'] !== undefined) overrides['consensus.haltHeight'] = flags['halt-height'];
  if (flags['block-interval-ms'] !== undefined) overrides['consensus.blockIntervalMs'] = flags['block-interval-ms'];
  return applyOverrides(parseConfigJson(text, path), overrides);
}

async function nodeUrl(flags: Flags): Promise<string> {
  if (flags.node !== undefined) return flags.node;
  if (process.env['TAGGER_NODE'] !== undefined) return process.env['TAGGER_NODE'];
  const config = await loadConfig(homeOf(flags), flags);
  const host = config.rpc.host === '0.0.0.0' ? '127.0.0.1' : config.rpc.host;
  return `http://${host}:${config.rpc.port}`;
}

async function devPassword(flags: Flags): Promise<string> {
  if (flags['password-file'] !== undefined || process.env['TAGGER_PASSWORD'] !== undefined) {
    return readPassword(flags['password-file'] === undefined ? {} : { passwordFile: flags['password-file'] });
  }
  return DEVNET_PASSWORD;
}

async function cmdInit(flags: Flags): Promise<void> {
  const home = homeOf(flags);
  const result = await initHome({
    home,
    chainId: flags['chain-id'] ?? DEVNET_CHAIN_ID,
    devPassword: await devPassword(flags),
    genesisTimeMs: BigInt(Date.now()),
    bridge: flags['no-bridge'] !== true,
  });
  print({
    home,
    chainId: result.genesis.chainId,
    validator: addressToString(result.validator.address),
    devKey: { name: 'dev', address: result.devAddress, balance: formatTag(result.genesis.accounts[0]?.balance ?? 0n) },
    devKeyPassword: flags['password-file'] === undefined && process.env['TAGGER_PASSWORD'] === undefined ? DEVNET_PASSWORD : '(yours)',
  });
}

async function cmdStart(flags: Flags): Promise<void> {
  const home = homeOf(flags);
  if (!(await exists(homePaths(home).genesis))) {
    process.stderr.write(`No genesis in ${home}: creating a one-validator devnet there.\n`);
    await cmdInit(flags);
  }
  const config = await loadConfig(home, flags);
  const log = pino({ level: config.log.level }, pino.destination(2));
  let evm: EmbeddedEvm | null = null;
  if (config.bridge.enabled && config.bridge.embeddedEvm) {
    const genesis = parseGenesisJson(await readFile(homePaths(home).genesis, 'utf8'));
    if (genesis.bridge !== undefined) {
      const b = config.bridge;
      const { startEmbeddedEvm } = await import('./bridgeDevnet.ts');
      evm = await startEmbeddedEvm(home, genesis, { host: b.embeddedEvmHost, port: b.embeddedEvmPort, blockTimeMs: b.embeddedEvmBlockMs, bridgeKeyFile: b.bridgeKeyFile, relayerKeyFile: b.relayerKeyFile, log: log.child({ module: 'evm' }) });
      config.bridge.bnbRpcUrl = evm.url;
      process.stderr.write(`Local EVM (standing in for BNB Chain): ${evm.url}  TAG ${evm.token}  bridge ${evm.bridge}  dev EVM account ${evm.devEvmAddress} (key in ${join(home, 'bridge', 'dev-evm-key.json')})\n`);
    }
  }
  let node: TaggerNode;
  try {
    // Loaded here, not at the top: the node (libp2p, the EVM, viem) is heavy for one-shot CLI commands.
    const { TaggerNode } = await import('./node.ts');
    node = await TaggerNode.open({ home, config, log });
  } catch (e: unknown) {
    await evm?.node.stop();
    throw e;
  }
  const url = await node.start();
  const p2p = node.p2pAddrs();
  process.stderr.write(`Tagger node running. RPC: ${url}${p2p.length > 0 ? `  P2P: ${p2p.join(' ')}` : ''}  (Ctrl-C to stop)\n`);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'Shutting down');
    node.stop().then(async () => evm?.node.stop()).then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: e }, 'Shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

function intFlag(flags: Flags, name: 'validators' | 'base-port', fallback: number): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw usage(`--${name} must be a whole number`);
  return Number(raw);
}

/** `tagger testnet`: creates (or reuses) N validator homes under --dir and runs them until Ctrl-C. */
async function cmdTestnet(flags: Flags): Promise<void> {
  const dir = resolve(flags.dir ?? 'testnet');
  const wanted = intFlag(flags, 'validators', 4);
  let nodes = await loadTestnet(dir);
  if (nodes.length === 0) {
    nodes = await createTestnet({
      dir,
      validators: wanted,
      chainId: flags['chain-id'] ?? 'tagger-testnet-1',
      basePort: intFlag(flags, 'base-port', TESTNET_BASE_PORT),
      devPassword: await devPassword(flags),
      genesisTimeMs: BigInt(Date.now()),
      // Keys under the published devnet password protect nothing: encrypt them cheaply.
      ...(flags['password-file'] === undefined && process.env['TAGGER_PASSWORD'] === undefined ? { scryptN: MIN_SCRYPT_N } : {}),
    });
  } else if (flags.validators !== undefined && nodes.length !== wanted) {
    throw usage(`${dir} holds a testnet of ${nodes.length} validators; remove it or use another --dir for ${wanted}`);
  }
  const extra = flags['log-level'] === undefined ? [] : ['--log-level', flags['log-level']];
  const started = await Promise.allSettled(nodes.map((n) => startTestnetNode(n, extra)));
  const running = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed !== undefined) {
    await stopTestnetNodes(running);
    throw failed.reason;
  }
  print({
    dir,
    devKeyPassword: flags['password-file'] === undefined && process.env['TAGGER_PASSWORD'] === undefined ? DEVNET_PASSWORD : '(yours)',
    nodes: running.map((r) => ({ name: r.node.name, rpc: r.rpcUrl, p2p: r.node.p2pAddr, home: r.node.home, validator: r.node.validator, devAddress: r.node.devAddress })),
  });
  for (const r of running) process.stderr.write(`${r.node.name}: RPC ${r.rpcUrl}  log ${r.node.home}/node.log\n`);
  process.stderr.write(`Testnet of ${running.length} validators running (Ctrl-C to stop).\n`);
  superviseTestnet(running);
}

function superviseTestnet(running: RunningNode[]): void {
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('Stopping the testnet…\n');
    void stopTestnetNodes(running).then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  let alive = running.length;
  for (const r of running) {
    void r.exited.then((code) => {
      alive--;
      if (stopping) return;
      process.stderr.write(`${r.node.name} exited (code ${code}); see ${r.node.home}/node.log\n`);
      if (alive === 0) process.exit(1);
    });
  }
}

async function cmdKeys(args: string[], flags: Flags): Promise<void> {
  const keyring = new Keyring({ dir: homePaths(homeOf(flags)).keyring });
  const [sub, name] = args;
  const passwordOpts = flags['password-file'] === undefined ? {} : { passwordFile: flags['password-file'] };
  switch (sub ?? '') {
    case 'add':
      if (name === undefined) throw usage('keys add needs a NAME');
      return print(await keyring.add(name, await readPassword({ ...passwordOpts, prompt: `Password for ${name}: `, confirm: true })));
    case 'list':
      return print(await keyring.list());
    case 'show':
      if (name === undefined) throw usage('keys show needs a NAME');
      return print(await keyring.show(name));
    default:
      throw usage(`unknown keys command "${sub ?? ''}"`);
  }
}

async function cmdTx(args: string[], flags: Flags): Promise<void> {
  if (args[0] !== 'transfer') throw usage(`unknown tx command "${args[0] ?? ''}"`);
  if (flags.from === undefined || flags.to === undefined || flags.amount === undefined) {
    throw usage('tx transfer needs --from NAME --to ADDRESS --amount TAG');
  }
  const to = addressFromString(flags.to);
  const amount = parseTag(flags.amount);
  const client = new TaggerClient({ url: await nodeUrl(flags) });
  const keyring = new Keyring({ dir: homePaths(homeOf(flags)).keyring });
  const secretKey = await keyring.unlock(
    flags.from,
    await readPassword({ ...(flags['password-file'] === undefined ? {} : { passwordFile: flags['password-file'] }), prompt: `Password for ${flags.from}: ` }),
  );
  const { signed, committed } = await sendTx(client, secretKey, buildTransfer(to, amount), {
    ...(flags['max-fee'] === undefined ? {} : { maxFee: parseTag(flags['max-fee']) }),
    wait: flags['no-wait'] !== true,
  });
  print(committed ?? { hash: `0x${bytesToHex(signed.hash)}`, status: 'submitted' });
}

function passwordOpts(flags: Flags): { passwordFile?: string } {
  return flags['password-file'] === undefined ? {} : { passwordFile: flags['password-file'] };
}

/** What the labelling commands (node/labellingCommands.ts) use of this CLI: home, node, keys, output. */
function cliContext(flags: Flags): CliContext {
  const home = homeOf(flags);
  const keyring = new Keyring({ dir: homePaths(home).keyring });
  return {
    home,
    nodeUrl: () => nodeUrl(flags),
    unlock: async (name) => keyring.unlock(name, await readPassword({ ...passwordOpts(flags), prompt: `Password for ${name}: ` })),
    keyInfo: (name) => keyring.show(name),
    print,
    usage,
  };
}

async function cmdQuery(args: string[], flags: Flags): Promise<void> {
  const client = new TaggerClient({ url: await nodeUrl(flags) });
  const [what, arg] = args;
  switch (what ?? '') {
    case 'status':
      return print(await client.status());
    case 'account':
      if (arg === undefined) throw usage('query account needs an ADDRESS');
      addressFromString(arg);
      return print(await client.account(arg));
    case 'block':
      if (arg === undefined || (arg !== 'latest' && !/^\d+$/.test(arg))) throw usage('query block needs a HEIGHT or "latest"');
      return print(await client.block(arg === 'latest' ? 'latest' : Number(arg)));
    case 'tx':
      if (arg === undefined) throw usage('query tx needs a HASH');
      return print(await client.tx(arg));
    default:
      throw usage(`unknown query "${what ?? ''}"`);
  }
}

/** `tagger snapshot create | list | restore`. */
async function cmdSnapshot(args: string[], flags: Flags): Promise<void> {
  const home = homeOf(flags);
  const paths = homePaths(home);
  switch (args[0] ?? '') {
    case 'create': {
      const config = await loadConfig(home, flags);
      const genesis = parseGenesisJson(await readFile(paths.genesis, 'utf8'));
      const store = await ChainStore.open(paths.chainDb);
      try {
        const { dir, manifest } = await snapshotStoreHead(store, genesis.chainId, snapshotsDir(home), config.snapshot.chunkBytes);
        const removed = await pruneSnapshots(snapshotsDir(home), config.snapshot.keep);
        return print({ dir, height: manifest.height, blockHash: manifest.blockHash, stateRoot: manifest.stateRoot, entries: manifest.entries, chunks: manifest.chunks.length, removed });
      } finally {
        await store.close();
      }
    }
    case 'list':
      return print({ dir: snapshotsDir(home), heights: await listSnapshots(snapshotsDir(home)) });
    case 'restore': {
      if (flags.from === undefined) throw usage('snapshot restore needs --from SNAPSHOT_DIR');
      const trusted = flags['trusted-hash'];
      if (trusted !== undefined && !/^(0x)?[0-9a-fA-F]{64}$/.test(trusted)) throw usage('--trusted-hash must be a 32-byte block hash in hex');
      if (!(await exists(paths.genesis))) throw usage(`${paths.genesis} is missing: put the chain's genesis.json (and config, node key) in the home first`);
      await assertEmptyHome(home);
      const config = await loadConfig(home, flags);
      const log = pino({ level: config.log.level }, pino.destination(2));
      return print(await restoreSnapshot({ home, from: resolve(flags.from), ...(trusted === undefined ? {} : { trustedHash: hexToBytes(trusted) }), log }));
    }
    default:
      throw usage(`unknown snapshot command "${args[0] ?? ''}"`);
  }
}

async function cmdGenesis(args: string[], flags: Flags): Promise<void> {
  const file = resolve(flags.file ?? homePaths(homeOf(flags)).genesis);
  const [sub, a, b, c] = args;
  switch (sub ?? '') {
    case 'init':
      if (flags['chain-id'] === undefined) throw usage('genesis init needs --chain-id');
      return print(await genesisInit(file, flags['chain-id'], flags['genesis-time'] ?? new Date().toISOString()));
    case 'add-account':
      if (a === undefined || b === undefined) throw usage('genesis add-account needs ADDRESS AMOUNT_TAG');
      return print(await genesisAddAccount(file, a, b));
    case 'add-validator':
      if (a === undefined || b === undefined || c === undefined) throw usage('genesis add-validator needs NAME PUBLIC_KEY_HEX POWER_TAG');
      return print(await genesisAddValidator(file, a, b, c));
    case 'validate':
      return print({ valid: true, ...(await genesisValidate(file)) });
    default:
      throw usage(`unknown genesis command "${sub ?? ''}"`);
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const flags = values;
  const [command, ...rest] = positionals;
  if (flags.help === true || command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  switch (command) {
    case 'init':
      return cmdInit(flags);
    case 'start':
      return cmdStart(flags);
    case 'testnet':
      return cmdTestnet(flags);
    case 'keys':
      return cmdKeys(rest, flags);
    case 'tx':
      return cmdTx(rest, flags);
    case 'query':
      return cmdQuery(rest, flags);
    case 'genesis':
      return cmdGenesis(rest, flags);
    case 'snapshot':
      return cmdSnapshot(rest, flags);
    case 'task':
      return cmdTask(cliContext(flags), rest, flags);
    case 'annotator':
      return cmdAnnotator(cliContext(flags), rest, flags);
    case 'labels':
      return cmdLabels(cliContext(flags), rest, flags);
    case 'gold':
      return cmdGold(cliContext(flags), rest, flags);
    case 'dispute':
      return cmdDispute(cliContext(flags), flags);
    case 'validator':
      return cmdValidator(cliContext(flags), rest, flags);
    case 'stake':
      return cmdStake(cliContext(flags), rest, flags);
    case 'passport':
      return cmdPassport(cliContext(flags), rest, flags);
    case 'licence':
      return cmdLicence(cliContext(flags), rest, flags);
    case 'export':
      return cmdExport(cliContext(flags), flags);
    case 'verify':
      return cmdVerify(cliContext(flags), rest, flags);
    case 'bridge':
      return cmdBridge(cliContext(flags), rest, flags);
    default:
      throw usage(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (isChainError(e)) {
    process.stderr.write(JSON.stringify({ error: { code: e.code, message: e.message } }) + '\n');
  } else if (e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(JSON.stringify({ error: { code: 'CLI_USAGE', message: e.message } }) + '\n');
  } else {
    process.stderr.write(JSON.stringify({ error: { code: 'CLI_FAILED', message: e instanceof Error ? e.message : String(e) } }) + '\n');
  }
  process.exitCode = 1;
});
