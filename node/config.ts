/**
 * The node's configuration file (`<home>/config.json`): every setting has a default, unknown keys
 * and wrong types are errors naming the key. Flags and environment variables override the file.
 * Reference: docs/operators.md §Configuration.
 */
import { ChainError, isChainError } from '../lib/index.ts';
import { DEFAULT_MEMPOOL_OPTS, type MempoolOpts } from './mempool.ts';
import { BOOTSTRAP_PEERS_MAX, parseBootstrapAddr, parseListenAddr } from './p2p/config.ts';

export type ConfigErrorType =
  | { code: 'CONFIG_NOT_JSON'; path: string; reason: string }
  | { code: 'CONFIG_UNKNOWN_KEY'; key: string }
  | { code: 'CONFIG_INVALID_VALUE'; key: string; reason: string };
export class ConfigError extends ChainError<ConfigErrorType> {}

export type NodeConfig = {
  rpc: {
    host: string;
    port: number;
    bodyLimitBytes: number;
    /** Open client connections at most (event streams included). */
    connectionsMax: number;
    /** Requests per client (IP) per window; 0: no limit. */
    rateLimitMax: number;
    rateLimitWindowMs: number;
    /** Take the client address from X-Forwarded-For: only behind a reverse proxy you run. */
    trustProxy: boolean;
    /** Origins allowed cross-origin reads (`*` for any); empty: CORS off. */
    corsOrigins: string[];
    /** `/ready` fails when the latest block is older than this. */
    readyMaxAgeMs: number;
    streamSubscribersMax: number;
    /** Bytes of the event log a stream subscriber may fall behind before it is dropped. */
    streamLagBytesMax: number;
    streamLogEntriesMax: number;
    streamLogBytesMax: number;
  };
  /** The operator listener (metrics, readiness), always on 127.0.0.1; off unless enabled. */
  admin: { enabled: boolean; port: number };
  consensus: {
    /** Least time between blocks (the BFT engine's wait after a commit, CometBFT's timeout_commit). */
    blockIntervalMs: number;
    /** Single-validator engine only: most time between blocks when idle. */
    emptyBlockIntervalMs: number;
    haltHeight: number;
    /** BFT round timeouts: base per step, plus `timeoutDeltaMs` for each round past 0. */
    timeoutProposeMs: number;
    timeoutPrevoteMs: number;
    timeoutPrecommitMs: number;
    timeoutDeltaMs: number;
    /** BFT: resend this node's messages of the current round when nothing moved for this long. */
    rebroadcastMs: number;
  };
  mempool: MempoolOpts;
  /**
   * The peer-to-peer network. It runs, with the BFT engine, when `enabled`, when `bootstrap` names
   * peers, or when the chain has more than one validator; otherwise the node is the single-validator
   * devnet it always was (no listening socket besides the RPC).
   */
  p2p: {
    enabled: boolean;
    listen: string;
    bootstrap: string[];
    connectionsMax: number;
    /** How long a peer that misbehaved is refused. */
    banMs: number;
    /** How often the node asks its peers' heights to see whether it fell behind. */
    syncCheckMs: number;
    /** Deadline of one block sync request. */
    syncRequestTimeoutMs: number;
  };
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent' };
  /** Pruning and compaction (node/pruner.ts, docs/operators.md §Disk). */
  storage: {
    /** Heights whose blocks, commits, receipts and transactions are kept, counting the latest; 0: all (archive). */
    retainBlocks: number;
    /** Heights pruned per database batch. */
    pruneBatchHeights: number;
    /** Compact the pruned key ranges after this many pruned heights; 0: only when asked (admin). */
    compactEveryHeights: number;
    /** Write the query indexes (transactions by account, events by type/account/task/passport). */
    index: boolean;
  };
  /** State snapshots (node/snapshot.ts): every `interval` heights into `<home>/snapshots/`; 0: off. */
  snapshot: { interval: number; keep: number; chunkBytes: number };
  /** The BNB Chain bridge's node side (node/bridgeService.ts, docs/operators.md §Bridge); idle if genesis has no bridge. */
  bridge: {
    enabled: boolean;
    /** BNB Chain JSON-RPC endpoint; '' with `embeddedEvm` uses the embedded local EVM node. */
    bnbRpcUrl: string;
    /** Blocks behind the BNB Chain head that count as final; 0: the endpoint's `finalized` block tag. */
    confirmations: number;
    /** First BNB Chain block the deposit watcher scans (the bridge's deployment block). */
    fromBlock: number;
    pollMs: number;
    rpcTimeoutMs: number;
    /** Submit signed checkpoints and release withdrawals with the key in `relayerKeyFile`. */
    relayer: boolean;
    /** The validator's secp256k1 bridge key, relative to the home (absent: the node neither attests nor signs). */
    bridgeKeyFile: string;
    /** The relayer's funded BNB Chain key, relative to the home. */
    relayerKeyFile: string;
    /** Devnet: run a local EVM node standing in for BNB Chain, with the contracts deployed (node/bridgeDevnet.ts). */
    embeddedEvm: boolean;
    embeddedEvmHost: string;
    embeddedEvmPort: number;
    /** Empty blocks every this many ms on the embedded EVM, so its finalized head advances. */
    embeddedEvmBlockMs: number;
  };
};

export const DEFAULT_CONFIG: NodeConfig = {
  rpc: {
    host: '127.0.0.1',
    port: 26657,
    bodyLimitBytes: 1024 * 1024,
    connectionsMax: 1024,
    rateLimitMax: 6000,
    rateLimitWindowMs: 60_000,
    trustProxy: false,
    corsOrigins: [],
    readyMaxAgeMs: 60_000,
    streamSubscribersMax: 256,
    streamLagBytesMax: 16 * 1024 * 1024,
    streamLogEntriesMax: 100_000,
    streamLogBytesMax: 64 * 1024 * 1024,
  },
  admin: { enabled: false, port: 26660 },
  consensus: {
    blockIntervalMs: 1000,
    emptyBlockIntervalMs: 5000,
    haltHeight: 0,
    timeoutProposeMs: 3000,
    timeoutPrevoteMs: 1000,
    timeoutPrecommitMs: 1000,
    timeoutDeltaMs: 500,
    rebroadcastMs: 2000,
  },
  mempool: { ...DEFAULT_MEMPOOL_OPTS },
  p2p: {
    enabled: false,
    listen: '/ip4/127.0.0.1/tcp/26656',
    bootstrap: [],
    connectionsMax: 64,
    banMs: 10 * 60 * 1000,
    syncCheckMs: 2000,
    syncRequestTimeoutMs: 10_000,
  },
  log: { level: 'info' },
  storage: { retainBlocks: 0, pruneBatchHeights: 100, compactEveryHeights: 10_000, index: true },
  snapshot: { interval: 0, keep: 2, chunkBytes: 4 * 1024 * 1024 },
  bridge: {
    enabled: true,
    bnbRpcUrl: '',
    confirmations: 0,
    fromBlock: 0,
    pollMs: 2000,
    rpcTimeoutMs: 10_000,
    relayer: false,
    bridgeKeyFile: 'bridge-key.json',
    relayerKeyFile: 'relayer-key.json',
    embeddedEvm: false,
    embeddedEvmHost: '127.0.0.1',
    embeddedEvmPort: 8545,
    embeddedEvmBlockMs: 1000,
  },
};

/** Smallest pruning window (`storage.retainBlocks`) other than 0. */
export const RETAIN_BLOCKS_MIN = 10;

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

type Spec =
  /** An integer from min to max; with `offZero`, 0 too (the setting is off). */
  | { kind: 'int'; min: number; max: number; offZero?: true }
  | { kind: 'string'; re: RegExp }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'bool' }
  /** A string checked by `check` (which throws a ChainError saying what is wrong). */
  | { kind: 'checked'; check: (value: string) => unknown }
  /** A list of at most `max` strings, each checked by `check`. */
  | { kind: 'list'; max: number; check: (value: string) => unknown };

const SPEC: Record<string, Record<string, Spec>> = {
  rpc: {
    host: { kind: 'string', re: /^[A-Za-z0-9.:-]{1,253}$/ },
    port: { kind: 'int', min: 0, max: 65535 },
    bodyLimitBytes: { kind: 'int', min: 1024, max: 64 * 1024 * 1024 },
    connectionsMax: { kind: 'int', min: 1, max: 1_000_000 },
    rateLimitMax: { kind: 'int', min: 0, max: 10_000_000 },
    rateLimitWindowMs: { kind: 'int', min: 1000, max: 86_400_000 },
    trustProxy: { kind: 'bool' },
    corsOrigins: { kind: 'list', max: 64, check: checkCorsOrigin },
    readyMaxAgeMs: { kind: 'int', min: 1000, max: 86_400_000 },
    streamSubscribersMax: { kind: 'int', min: 0, max: 100_000 },
    streamLagBytesMax: { kind: 'int', min: 64 * 1024, max: 1024 * 1024 * 1024 },
    streamLogEntriesMax: { kind: 'int', min: 100, max: 10_000_000 },
    streamLogBytesMax: { kind: 'int', min: 1024 * 1024, max: 4 * 1024 * 1024 * 1024 },
  },
  admin: {
    enabled: { kind: 'bool' },
    port: { kind: 'int', min: 0, max: 65535 },
  },
  consensus: {
    blockIntervalMs: { kind: 'int', min: 10, max: 600_000 },
    emptyBlockIntervalMs: { kind: 'int', min: 0, max: 86_400_000 },
    haltHeight: { kind: 'int', min: 0, max: 0xffff_ffff },
    timeoutProposeMs: { kind: 'int', min: 10, max: 600_000 },
    timeoutPrevoteMs: { kind: 'int', min: 10, max: 600_000 },
    timeoutPrecommitMs: { kind: 'int', min: 10, max: 600_000 },
    timeoutDeltaMs: { kind: 'int', min: 0, max: 600_000 },
    rebroadcastMs: { kind: 'int', min: 10, max: 600_000 },
  },
  mempool: {
    txCountMax: { kind: 'int', min: 1, max: 10_000_000 },
    bytesMax: { kind: 'int', min: 1024, max: 4 * 1024 * 1024 * 1024 },
    perSenderMax: { kind: 'int', min: 1, max: 100_000 },
    nonceGapMax: { kind: 'int', min: 0, max: 100_000 },
    futureTtlBlocks: { kind: 'int', min: 1, max: 1_000_000 },
  },
  p2p: {
    enabled: { kind: 'bool' },
    listen: { kind: 'checked', check: parseListenAddr },
    bootstrap: { kind: 'list', max: BOOTSTRAP_PEERS_MAX, check: parseBootstrapAddr },
    connectionsMax: { kind: 'int', min: 1, max: 10_000 },
    banMs: { kind: 'int', min: 1, max: 365 * 86_400_000 },
    syncCheckMs: { kind: 'int', min: 10, max: 3_600_000 },
    syncRequestTimeoutMs: { kind: 'int', min: 10, max: 600_000 },
  },
  log: { level: { kind: 'enum', values: LOG_LEVELS } },
  storage: {
    // The node reads back blocks a few heights behind its head (the next proposal's last commit,
    // a stale engine's proposal), so a window keeps at least RETAIN_BLOCKS_MIN.
    retainBlocks: { kind: 'int', min: RETAIN_BLOCKS_MIN, max: 0xffff_ffff, offZero: true },
    pruneBatchHeights: { kind: 'int', min: 1, max: 10_000 },
    compactEveryHeights: { kind: 'int', min: 0, max: 0xffff_ffff },
    index: { kind: 'bool' },
  },
  bridge: {
    enabled: { kind: 'bool' },
    bnbRpcUrl: { kind: 'string', re: /^(https?:\/\/[^\s]{1,2000})?$/ },
    confirmations: { kind: 'int', min: 0, max: 100_000 },
    fromBlock: { kind: 'int', min: 0, max: Number.MAX_SAFE_INTEGER },
    pollMs: { kind: 'int', min: 50, max: 3_600_000 },
    rpcTimeoutMs: { kind: 'int', min: 100, max: 600_000 },
    relayer: { kind: 'bool' },
    bridgeKeyFile: { kind: 'string', re: /^[^\0]{1,4096}$/ },
    relayerKeyFile: { kind: 'string', re: /^[^\0]{1,4096}$/ },
    embeddedEvm: { kind: 'bool' },
    embeddedEvmHost: { kind: 'string', re: /^[A-Za-z0-9.:-]{1,253}$/ },
    embeddedEvmPort: { kind: 'int', min: 0, max: 65535 },
    embeddedEvmBlockMs: { kind: 'int', min: 0, max: 3_600_000 },
  },
  snapshot: {
    interval: { kind: 'int', min: 0, max: 0xffff_ffff },
    keep: { kind: 'int', min: 1, max: 1000 },
    chunkBytes: { kind: 'int', min: 64 * 1024, max: 32 * 1024 * 1024 },
  },
};

/** `*`, or an origin as a browser sends it: scheme, host, optional port, nothing after. */
function checkCorsOrigin(value: string): void {
  if (value !== '*' && !/^https?:\/\/[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/.test(value)) {
    throw new ConfigError({ code: 'CONFIG_INVALID_VALUE', key: 'rpc.corsOrigins', reason: 'bad origin' }, `"${value.slice(0, 100)}" is not "*" or an origin like https://example.org`);
  }
}

function invalid(key: string, reason: string): ConfigError {
  return new ConfigError({ code: 'CONFIG_INVALID_VALUE', key, reason }, `config ${key}: ${reason}`);
}

function checkValue(key: string, spec: Spec, value: unknown): unknown {
  switch (spec.kind) {
    case 'int':
      if (spec.offZero === true && value === 0) return value;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < spec.min || value > spec.max) {
        throw invalid(key, `must be an integer from ${spec.min} to ${spec.max}${spec.offZero === true ? ', or 0 (off)' : ''}`);
      }
      return value;
    case 'string':
      if (typeof value !== 'string' || !spec.re.test(value)) throw invalid(key, `must match ${spec.re}`);
      return value;
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) throw invalid(key, `must be one of ${spec.values.join(', ')}`);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw invalid(key, 'must be true or false');
      return value;
    case 'checked':
      if (typeof value !== 'string') throw invalid(key, 'must be a string');
      checkWith(key, spec.check, value);
      return value;
    case 'list':
      if (!Array.isArray(value) || value.length > spec.max) throw invalid(key, `must be a list of at most ${spec.max} strings`);
      value.forEach((item: unknown, i) => {
        if (typeof item !== 'string') throw invalid(`${key}[${i}]`, 'must be a string');
        checkWith(`${key}[${i}]`, spec.check, item);
      });
      return [...(value as string[])];
  }
}

/** Runs a checker that throws a ChainError, as a CONFIG_INVALID_VALUE naming the key. */
function checkWith(key: string, check: (value: string) => unknown, value: string): void {
  try {
    check(value);
  } catch (e: unknown) {
    if (!isChainError(e)) throw e;
    throw invalid(key, e.message);
  }
}

/** A flag or environment string as the value its key takes: a number, a boolean or a list. */
function fromText(spec: Spec, raw: string): unknown {
  switch (spec.kind) {
    case 'int':
      return /^\d+$/.test(raw) ? Number(raw) : raw;
    case 'bool':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    case 'string':
    case 'enum':
    case 'checked':
      return raw;
  }
}

/** Validates a parsed config object over the defaults. */
export function parseConfig(value: unknown): NodeConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('(root)', 'must be an object');
  const out = structuredClone(DEFAULT_CONFIG) as unknown as Record<string, Record<string, unknown>>;
  for (const [section, body] of Object.entries(value as Record<string, unknown>)) {
    const specs = SPEC[section];
    if (specs === undefined) throw new ConfigError({ code: 'CONFIG_UNKNOWN_KEY', key: section }, `config: unknown key "${section}"`);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid(section, 'must be an object');
    for (const [name, v] of Object.entries(body as Record<string, unknown>)) {
      const spec = specs[name];
      const key = `${section}.${name}`;
      if (spec === undefined) throw new ConfigError({ code: 'CONFIG_UNKNOWN_KEY', key }, `config: unknown key "${key}"`);
      (out[section] as Record<string, unknown>)[name] = checkValue(key, spec, v);
    }
  }
  return out as unknown as NodeConfig;
}

export function parseConfigJson(text: string, path: string): NodeConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e: unknown) {
    const reason = e instanceof Error ? e.message : 'unparseable';
    throw new ConfigError({ code: 'CONFIG_NOT_JSON', path, reason }, `config ${path}: not valid JSON: ${reason}`);
  }
  return parseConfig(value);
}

/** Applies `section.key=value` overrides (from flags or TAGGER_* variables), validated like the file. */
export function applyOverrides(config: NodeConfig, overrides: Record<string, string | number>): NodeConfig {
  const patch: Record<string, Record<string, unknown>> = structuredClone(config);
  for (const [key, raw] of Object.entries(overrides)) {
    const [section = '', name = ''] = key.split('.');
    const spec = SPEC[section]?.[name];
    if (spec === undefined) throw new ConfigError({ code: 'CONFIG_UNKNOWN_KEY', key }, `config: unknown key "${key}"`);
    const value = typeof raw === 'string' ? fromText(spec, raw) : raw;
    (patch[section] as Record<string, unknown>)[name] = value;
  }
  return parseConfig(patch);
}

/** Environment variables that override config keys. */
export const ENV_OVERRIDES: Record<string, string> = {
  TAGGER_RPC_HOST: 'rpc.host',
  TAGGER_RPC_PORT: 'rpc.port',
  TAGGER_RPC_CORS_ORIGINS: 'rpc.corsOrigins',
  TAGGER_RPC_RATE_LIMIT_MAX: 'rpc.rateLimitMax',
  TAGGER_ADMIN_ENABLED: 'admin.enabled',
  TAGGER_ADMIN_PORT: 'admin.port',
  TAGGER_LOG_LEVEL: 'log.level',
  TAGGER_BLOCK_INTERVAL_MS: 'consensus.blockIntervalMs',
  TAGGER_HALT_HEIGHT: 'consensus.haltHeight',
  TAGGER_P2P_LISTEN: 'p2p.listen',
  TAGGER_P2P_BOOTSTRAP: 'p2p.bootstrap',
  TAGGER_STORAGE_RETAIN_BLOCKS: 'storage.retainBlocks',
  TAGGER_SNAPSHOT_INTERVAL: 'snapshot.interval',
  TAGGER_BNB_RPC_URL: 'bridge.bnbRpcUrl',
  TAGGER_BRIDGE_RELAYER: 'bridge.relayer',
  TAGGER_EVM_PORT: 'bridge.embeddedEvmPort',
};
