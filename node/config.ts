/**
 * The node's configuration file (`<home>/config.json`): every setting has a default, unknown keys
 * and wrong types are errors naming the key. Flags and environment variables override the file.
 * Reference: docs/operators.md §Configuration.
 */
import { ChainError } from '../lib/index.ts';
import { DEFAULT_MEMPOOL_OPTS, type MempoolOpts } from './mempool.ts';

export type ConfigErrorType =
  | { code: 'CONFIG_NOT_JSON'; path: string; reason: string }
  | { code: 'CONFIG_UNKNOWN_KEY'; key: string }
  | { code: 'CONFIG_INVALID_VALUE'; key: string; reason: string };
export class ConfigError extends ChainError<ConfigErrorType> {}

export type NodeConfig = {
  rpc: { host: string; port: number; bodyLimitBytes: number };
  consensus: { blockIntervalMs: number; emptyBlockIntervalMs: number; haltHeight: number };
  mempool: MempoolOpts;
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent' };
};

export const DEFAULT_CONFIG: NodeConfig = {
  rpc: { host: '127.0.0.1', port: 26657, bodyLimitBytes: 1024 * 1024 },
  consensus: { blockIntervalMs: 1000, emptyBlockIntervalMs: 5000, haltHeight: 0 },
  mempool: { ...DEFAULT_MEMPOOL_OPTS },
  log: { level: 'info' },
};

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

type Spec = { kind: 'int'; min: number; max: number } | { kind: 'string'; re: RegExp } | { kind: 'enum'; values: readonly string[] };

const SPEC: Record<string, Record<string, Spec>> = {
  rpc: {
    host: { kind: 'string', re: /^[A-Za-z0-9.:-]{1,253}$/ },
    port: { kind: 'int', min: 0, max: 65535 },
    bodyLimitBytes: { kind: 'int', min: 1024, max: 64 * 1024 * 1024 },
  },
  consensus: {
    blockIntervalMs: { kind: 'int', min: 10, max: 600_000 },
    emptyBlockIntervalMs: { kind: 'int', min: 0, max: 86_400_000 },
    haltHeight: { kind: 'int', min: 0, max: 0xffff_ffff },
  },
  mempool: {
    txCountMax: { kind: 'int', min: 1, max: 10_000_000 },
    bytesMax: { kind: 'int', min: 1024, max: 4 * 1024 * 1024 * 1024 },
    perSenderMax: { kind: 'int', min: 1, max: 100_000 },
    nonceGapMax: { kind: 'int', min: 0, max: 100_000 },
    futureTtlBlocks: { kind: 'int', min: 1, max: 1_000_000 },
  },
  log: { level: { kind: 'enum', values: LOG_LEVELS } },
};

function invalid(key: string, reason: string): ConfigError {
  return new ConfigError({ code: 'CONFIG_INVALID_VALUE', key, reason }, `config ${key}: ${reason}`);
}

function checkValue(key: string, spec: Spec, value: unknown): unknown {
  switch (spec.kind) {
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < spec.min || value > spec.max) {
        throw invalid(key, `must be an integer from ${spec.min} to ${spec.max}`);
      }
      return value;
    case 'string':
      if (typeof value !== 'string' || !spec.re.test(value)) throw invalid(key, `must match ${spec.re}`);
      return value;
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) throw invalid(key, `must be one of ${spec.values.join(', ')}`);
      return value;
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
    const value = spec.kind === 'int' && typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
    (patch[section] as Record<string, unknown>)[name] = value;
  }
  return parseConfig(patch);
}

/** Environment variables that override config keys. */
export const ENV_OVERRIDES: Record<string, string> = {
  TAGGER_RPC_HOST: 'rpc.host',
  TAGGER_RPC_PORT: 'rpc.port',
  TAGGER_LOG_LEVEL: 'log.level',
  TAGGER_BLOCK_INTERVAL_MS: 'consensus.blockIntervalMs',
  TAGGER_HALT_HEIGHT: 'consensus.haltHeight',
};
