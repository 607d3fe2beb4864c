// ESLint flat config. The boundary table below is the executable form of ARCHITECTURE.md: change
// both in the same PR (and write an ADR when a boundary changes).
//
// Flat config merges config objects per file, but a later object REPLACES a rule's options instead
// of merging them. So every rule that carries a list (no-restricted-imports, no-restricted-globals,
// no-restricted-properties, no-restricted-syntax) is emitted exactly once per file by the helpers
// below, with its complete list.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';
import { importX, createNodeResolver } from 'eslint-plugin-import-x';

/** Source folders: they ship in the node and obey the boundary table. */
const SOURCE = ['lib', 'genesis', 'state', 'runtime', 'consensus', 'rpc', 'node', 'sdk', 'bridge'];
/** Harness folders: they may import anything, including single files of a folder. */
const HARNESS = ['test', 'bench', 'scripts'];
const ALL_FOLDERS = [...SOURCE, ...HARNESS];

const ts = (folder) => `${folder}/**/*.ts`;

/**
 * A folder's public surface is its index.ts. sdk/ also exposes keyring.ts (files, passwords) and
 * client.ts (HTTP) as separate entry points, so a client that only needs one does not load the other.
 */
const BRIDGE_SHELLS = ['bridge/relayer.ts', 'bridge/watcher.ts', 'bridge/bnbClient.ts', 'bridge/bnbLookup.ts'];
const PUBLIC_FILES = { sdk: ['index.ts', 'keyring.ts', 'client.ts'], bridge: ['index.ts', 'evm.ts', 'evmNode.ts', 'watcher.ts', 'relayer.ts', 'bnbClient.ts', 'bnbLookup.ts'] };

/** Node built-ins that do I/O or spawn work; `fs` also matches `fs/promises`, `node:fs`. */
const IO_BUILTINS = ['fs', 'net', 'http', 'https', 'http2', 'dgram', 'dns', 'tls', 'child_process', 'worker_threads', 'cluster', 'readline'];
/** Built-ins that are back doors to the clock and the process in pure code. */
const CLOCK_BUILTINS = ['timers', 'perf_hooks', 'process'];

/**
 * The boundary table (ARCHITECTURE.md). `may`: internal folders this folder may import (through
 * their public surface); every other internal folder is forbidden. `typeOnly`: folders it may import
 * with `import type` only. `names`: folders it may import only the listed names from (regex).
 * `modules`: third-party or built-in modules it may never import. `shells`: files of the folder
 * that may import some of those modules anyway.
 */
const BOUNDARIES = {
  lib: {
    may: [],
    modules: [...IO_BUILTINS, ...CLOCK_BUILTINS, 'level', 'fastify', '@fastify', 'pino'],
  },
  genesis: {
    may: ['lib', 'state'],
    modules: [...IO_BUILTINS, ...CLOCK_BUILTINS, 'level', 'fastify', '@fastify', 'pino'],
  },
  state: {
    may: ['lib'],
    modules: [...IO_BUILTINS, ...CLOCK_BUILTINS, 'level', 'fastify', '@fastify', 'pino'],
    shells: [{ files: ['state/*Store.ts'], allow: ['level', ...CLOCK_BUILTINS] }],
  },
  runtime: {
    may: ['lib', 'state'],
    modules: [...IO_BUILTINS, ...CLOCK_BUILTINS, 'level', 'fastify', '@fastify', 'pino'],
  },
  consensus: {
    may: ['lib'],
    modules: [...IO_BUILTINS, ...CLOCK_BUILTINS, 'level', 'fastify', '@fastify', 'pino'],
    shells: [
      { files: ['consensus/signer.ts', 'consensus/wal.ts'], allow: ['fs', ...CLOCK_BUILTINS] },
      { files: ['consensus/engine.ts', 'consensus/soloEngine.ts'], allow: [...CLOCK_BUILTINS] },
    ],
  },
  rpc: {
    // state and runtime are pure: rpc may use their codecs and key layout to shape replies.
    may: ['lib', 'state', 'runtime'],
    typeOnly: ['consensus'],
    modules: ['level'],
  },
  sdk: {
    may: ['lib', 'runtime'],
    typeOnly: ['rpc'],
    // "keys only": the state key layout (PREFIX, *_KEY constants, accountKey(), validatorKey()).
    names: { state: { pattern: '^(PREFIX|[A-Z][A-Z0-9_]*_KEY|[a-z][A-Za-z0-9]*Key)$', what: 'the key layout (PREFIX, *_KEY, *Key())' } },
    modules: ['level', 'fastify', '@fastify'],
  },
  // Formats and verification are pure, evm.ts (in-memory EVM) too. The shells talk to BNB Chain or serve
  // the local EVM over JSON-RPC: the relayer, the deposit watcher, the BNB lookups and the EVM node (ADR 0008).
  bridge: {
    may: ['lib'],
    typeOnly: ['state'],
    modules: [...IO_BUILTINS, ...CLOCK_BUILTINS, 'level', 'fastify', '@fastify', 'pino'],
    shells: [
      { files: [...BRIDGE_SHELLS], allow: [...IO_BUILTINS, ...CLOCK_BUILTINS, 'pino'] },
      { files: ['bridge/evmNode.ts', 'bridge/evmChain.ts'], allow: [...IO_BUILTINS, ...CLOCK_BUILTINS, 'pino', 'fastify', '@fastify'] },
    ],
  },
  // The composition root: may import every source folder (through its public surface).
  node: {
    may: SOURCE.filter((f) => f !== 'node'),
    modules: [],
  },
};

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const UP = '^(\\.\\./)+'; // one or more `../`: works from any depth inside a folder

function modulePattern(name) {
  if (name.startsWith('@')) {
    return `^${escape(name)}(/|$)`;
  }
  const builtin = IO_BUILTINS.includes(name) || CLOCK_BUILTINS.includes(name);
  return builtin ? `^(node:)?${escape(name)}(/.*)?$` : `^${escape(name)}(/.*)?$`;
}

/** The complete `no-restricted-imports` pattern list for one folder (or one shell file group). */
function boundaryPatterns(folder, allowModules = []) {
  const b = BOUNDARIES[folder];
  const typeOnly = b.typeOnly ?? [];
  const names = b.names ?? {};
  const patterns = [];
  const others = ALL_FOLDERS.filter((f) => f !== folder);

  // 1. Folders this folder may not import at all.
  const forbidden = others.filter((f) => !b.may.includes(f) && !typeOnly.includes(f) && !(f in names));
  if (forbidden.length > 0) {
    patterns.push({
      regex: `${UP}(${forbidden.join('|')})(/|$)`,
      caseSensitive: true,
      message: `${folder}/ may not import this folder (boundary table in ARCHITECTURE.md).`,
    });
  }
  // 2. Folders this folder may import only with `import type`.
  if (typeOnly.length > 0) {
    patterns.push({
      regex: `${UP}(${typeOnly.join('|')})/index\\.ts$`,
      caseSensitive: true,
      allowTypeImports: true,
      message: `${folder}/ may import only types from this folder: use \`import type\`.`,
    });
  }
  // 3. Folders this folder may import only some names from.
  for (const [f, { pattern, what }] of Object.entries(names)) {
    patterns.push({
      regex: `${UP}${f}/index\\.ts$`,
      caseSensitive: true,
      allowImportNamePattern: pattern,
      message: `${folder}/ may import only ${what} from ${f}/.`,
    });
  }
  // 4. Whatever it may import, it goes through the other folder's public surface.
  for (const f of SOURCE.filter((s) => s !== folder && !forbidden.includes(s))) {
    const publicFiles = (PUBLIC_FILES[f] ?? ['index.ts']).map(escape).join('|');
    patterns.push({
      regex: `${UP}${f}/(?!(${publicFiles})$)`,
      caseSensitive: true,
      message: `Import ${f}/ through its public surface (${(PUBLIC_FILES[f] ?? ['index.ts']).join(', ')}), not one of its files.`,
    });
  }
  // 5. Third-party and built-in modules.
  for (const m of b.modules.filter((name) => !allowModules.includes(name))) {
    const shellFiles = (b.shells ?? []).filter((s) => s.allow.includes(m)).flatMap((s) => s.files);
    const where = shellFiles.length > 0 ? ` outside ${shellFiles.join(', ')}` : '';
    patterns.push({
      regex: modulePattern(m),
      caseSensitive: true,
      message: `${folder}/ may not import ${m}${where} (boundary table in ARCHITECTURE.md).`,
    });
  }
  return patterns;
}

/** One config object per folder, plus one per shell group, each with a complete entry. */
function boundaryConfigs() {
  return Object.keys(BOUNDARIES).flatMap((folder) => {
    const shells = BOUNDARIES[folder].shells ?? [];
    return [
      {
        name: `boundaries/${folder}`,
        files: [ts(folder)],
        ignores: shells.flatMap((s) => s.files),
        rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: boundaryPatterns(folder) }] },
      },
      ...shells.map((s) => ({
        name: `boundaries/${folder}/shell:${s.files.join(',')}`,
        files: s.files,
        rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: boundaryPatterns(folder, s.allow) }] },
      })),
    ];
  });
}

const PURE_MESSAGE = 'Pure code reads no clock, timer, process or randomness: take it through a port or an argument.';

// Errors: typed ChainError subclasses for expected failures, assert() for invariants.
const THROW_BAN_MESSAGE = 'Throw a typed ChainError subclass (folder errors.ts), or assert() for an invariant.';
const BUILTIN_ERROR = '/^(Error|TypeError|RangeError|SyntaxError|ReferenceError|EvalError|URIError)$/';
const sourceSyntaxBans = [
  { selector: `ThrowStatement > NewExpression[callee.name=${BUILTIN_ERROR}]`, message: THROW_BAN_MESSAGE },
  { selector: `ThrowStatement > CallExpression[callee.name=${BUILTIN_ERROR}]`, message: THROW_BAN_MESSAGE },
];
// genesis/genesis.ts may use Date to parse and print the genesis time, never to read the clock.
const genesisTimeSyntaxBans = [
  ...sourceSyntaxBans,
  { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: PURE_MESSAGE },
  { selector: "CallExpression[callee.name='Date']", message: PURE_MESSAGE },
];

// Determinism: the pure core reads no clock, no timers, no process and draws no randomness.
const PURE_FILES = [ts('lib'), ts('genesis'), ts('state'), ts('runtime'), ts('consensus'), ts('bridge')];
const SHELL_FILES = [
  'state/*Store.ts',
  'consensus/signer.ts',
  'consensus/engine.ts',
  'consensus/wal.ts',
  'consensus/soloEngine.ts',
  ...BRIDGE_SHELLS,
  'bridge/evmNode.ts',
  'bridge/evmChain.ts',
];
const bannedGlobals = (names) => ['error', ...names.map((name) => ({ name, message: PURE_MESSAGE }))];
const PURE_GLOBALS = ['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate', 'queueMicrotask', 'process', 'performance', 'Date'];

const determinismConfigs = [
  {
    name: 'determinism/pure',
    files: PURE_FILES,
    ignores: SHELL_FILES,
    rules: {
      'no-restricted-globals': bannedGlobals(PURE_GLOBALS),
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: PURE_MESSAGE },
        { object: 'Date', property: 'now', message: PURE_MESSAGE },
        ...PURE_GLOBALS.map((property) => ({ object: 'globalThis', property, message: PURE_MESSAGE })),
      ],
    },
  },
  {
    // Parses and prints the genesis time (Date.parse, toISOString); it still never reads the clock:
    // Date.now, `new Date()` and `Date()` stay banned.
    name: 'determinism/genesis-time',
    files: ['genesis/genesis.ts'],
    rules: {
      'no-restricted-globals': bannedGlobals(PURE_GLOBALS.filter((g) => g !== 'Date')),
      'no-restricted-syntax': ['error', ...genesisTimeSyntaxBans],
    },
  },
];

export default defineConfig(
  {
    name: 'ignores',
    ignores: ['node_modules/**', '.tagger/**', 'dist/**', '.tap/**', 'bench/out/**', 'docs/**'],
  },

  // JavaScript (this file, bin/): no type information.
  {
    name: 'javascript',
    files: ['**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },

  // TypeScript: every folder.
  {
    name: 'typescript',
    files: ALL_FOLDERS.map(ts),
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    plugins: { 'import-x': importX },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    settings: {
      // Relative imports name real `.ts` files, so the plain node resolver is enough.
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'] })],
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // Node strips `import { type A } from 'm'` to `import {} from 'm'`, which still loads m at run
      // time: an all-types import must be `import type`, or a type-only boundary is not one.
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      // `async` without `await` is how a fastify plugin or handler, a Promise-returning port and a
      // tap callback are written here; forgotten awaits are no-floating-promises' job.
      '@typescript-eslint/require-await': 'off',
      // Unused names are tsc's job (noUnusedLocals, noUnusedParameters); `_` prefixes are allowed there.
      '@typescript-eslint/no-unused-vars': 'off',
      'import-x/no-cycle': 'error',
      'no-restricted-imports': 'off',
    },
  },

  // Source folders (not test/bench/scripts): the throw ban.
  {
    name: 'errors/source',
    files: SOURCE.map(ts),
    rules: { 'no-restricted-syntax': ['error', ...sourceSyntaxBans] },
  },

  ...boundaryConfigs(),
  ...determinismConfigs,

  // Harnesses often handle a subset of a union and throw in `default` (vector dispatch): that is
  // exhaustive enough there. Source code keeps the strict form: every member named, or assertNever.
  {
    name: 'harness/relaxed',
    files: HARNESS.map(ts),
    rules: {
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
    },
  },
  // Tests parse JSON and talk to child processes: `any` from JSON.parse is expected there. tap's
  // top-level `t.test()` returns a promise that tap itself awaits: the idiom is not a floating promise.
  {
    name: 'test/relaxed',
    files: [ts('test')],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: '@tapjs/test', name: ['test', 'skip', 'todo', 'only'] }] },
      ],
    },
  },
);
