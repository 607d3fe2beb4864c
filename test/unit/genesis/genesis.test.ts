/** The genesis document (genesis/genesis.ts, docs/genesis.md): every error code with its path. */
import t from 'tap';
import fc from 'fast-check';
import { addressToString, bytesToHex, hexToBytes } from '../../../lib/index.ts';
import {
  GENESIS_SUPPLY_MAX,
  genesisSupply,
  genesisToJson,
  genesisValidatorSet,
  parseGenesis,
  parseGenesisJson,
} from '../../../genesis/index.ts';
import { CHAIN_ID_KEY, DEFAULT_LABELLING_PARAMS, DEFAULT_PARAMS, PARAMS_KEY, decodeParams, loadAccount, loadLabellingParams, loadSupply, loadValidatorSet } from '../../../state/index.ts';
import { MemChain, errorOf, fixedKey } from '../../utils/factories.ts';

type T = Parameters<Parameters<typeof t.test>[0]>[0];
// Tests edit genesis documents into every wrong shape: the JSON is deliberately untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const v1 = fixedKey(0x10);
const v2 = fixedKey(0x11);
const a1 = fixedKey(1);
const a2 = fixedKey(2);

function valid(): Json {
  return {
    chainId: 'tagger-devnet-1',
    genesisTime: '2026-01-01T00:00:00.000Z',
    params: {
      baseFee: '1000000000000000',
      perByteFee: '1000000000000',
      feeBurnPercent: 50,
      txBytesMax: 131072,
      blockTxCountMax: 10000,
      blockBytesMax: 8388608,
    },
    validators: [
      { name: 'validator-0', publicKey: bytesToHex(v1.publicKey), power: '100000000000000000000000' },
      { name: 'validator.1_b', publicKey: bytesToHex(v2.publicKey), power: '1' },
    ],
    accounts: [
      { address: addressToString(a1.address), balance: '1000000000000000000000000' },
      { address: addressToString(a2.address), balance: '0' },
    ],
  };
}

/** A valid genesis with `edit` applied to a deep copy. */
function edited(edit: (g: Json) => void): Json {
  const g = structuredClone(valid());
  edit(g);
  return g;
}

function rejects(t: T, g: unknown, code: string, path?: string, msg?: string): void {
  const err = errorOf(() => parseGenesis(g));
  t.equal(err?.code ?? 'accepted', code, msg ?? `${code}${path ? ` at ${path}` : ''}`);
  if (path !== undefined && err !== null) t.equal(err.path, path, `  path ${path}`);
}

t.test('a valid genesis parses', async (t) => {
  const g = parseGenesis(valid());
  t.equal(g.chainId, 'tagger-devnet-1');
  t.equal(g.genesisTimeMs, 1_767_225_600_000n);
  t.same(g.params, DEFAULT_PARAMS);
  t.equal(g.validators.length, 2);
  t.equal(bytesToHex(g.validators[0]!.publicKey), bytesToHex(v1.publicKey));
  t.equal(g.validators[0]!.power, 100_000n * 10n ** 18n);
  t.equal(bytesToHex(g.accounts[0]!.address), bytesToHex(a1.address));
  t.equal(g.accounts[1]!.balance, 0n);
  t.equal(genesisSupply(g), 100_000n * 10n ** 18n + 1n + 1_000_000n * 10n ** 18n);
  t.same(parseGenesisJson(JSON.stringify(valid())), g, 'same from text');
});

t.test('genesisToJson ∘ parseGenesis is the identity on normal-form documents', async (t) => {
  t.same(genesisToJson(parseGenesis(valid())), valid());
  const noMs = edited((g) => (g.genesisTime = '2026-01-01T00:00:00Z'));
  t.same(genesisToJson(parseGenesis(noMs)), valid(), 'the time is written back with milliseconds');
  const upper = edited((g) => (g.validators[0].publicKey = g.validators[0].publicKey.toUpperCase()));
  t.same(genesisToJson(parseGenesis(upper)), valid(), 'keys are written back in lower case');
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 253_402_300_799_999 }),
      fc.bigInt({ min: 1n, max: 10n ** 30n }),
      fc.array(fc.bigInt({ min: 0n, max: 10n ** 30n }), { maxLength: 5 }),
      (timeMs, power, balances) => {
        const doc = edited((g) => {
          g.genesisTime = new Date(timeMs).toISOString();
          g.validators[0].power = power.toString();
          g.accounts = balances.map((b, i) => ({ address: addressToString(fixedKey(0x60 + i).address), balance: b.toString() }));
        });
        const parsed = parseGenesis(doc);
        return JSON.stringify(genesisToJson(parsed)) === JSON.stringify(doc) && JSON.stringify(genesisToJson(parseGenesis(genesisToJson(parsed)))) === JSON.stringify(doc);
      },
    ),
    { numRuns: 200 },
  );
});

t.test('not JSON → GENESIS_NOT_JSON', async (t) => {
  for (const text of ['', '{', '{"chainId": "x",}', 'undefined', "{'a': 1}"]) {
    t.equal(errorOf(() => parseGenesisJson(text))?.code, 'GENESIS_NOT_JSON', JSON.stringify(text));
  }
  t.equal(errorOf(() => parseGenesisJson('[]'))?.code, 'GENESIS_INVALID_FIELD', 'JSON, but not an object');
  t.equal(errorOf(() => parseGenesisJson('null'))?.code, 'GENESIS_INVALID_FIELD');
});

t.test('unknown fields → GENESIS_UNKNOWN_FIELD, top level and nested', async (t) => {
  rejects(t, edited((g) => (g.extra = 1)), 'GENESIS_UNKNOWN_FIELD', 'extra');
  rejects(t, edited((g) => (g.ChainId = 'x')), 'GENESIS_UNKNOWN_FIELD', 'ChainId', 'field names are case-sensitive');
  rejects(t, edited((g) => (g.params.minFee = '1')), 'GENESIS_UNKNOWN_FIELD', 'params.minFee');
  rejects(t, edited((g) => (g.validators[1].address = 'tag1…')), 'GENESIS_UNKNOWN_FIELD', 'validators[1].address');
  rejects(t, edited((g) => (g.accounts[0].nonce = 0)), 'GENESIS_UNKNOWN_FIELD', 'accounts[0].nonce');
  rejects(t, JSON.parse('{"__proto__": {"x": 1}, "chainId": "abc"}'), 'GENESIS_UNKNOWN_FIELD', '__proto__');
});

t.test('missing fields → GENESIS_INVALID_FIELD "is required"', async (t) => {
  for (const key of ['chainId', 'genesisTime', 'params', 'validators', 'accounts']) {
    rejects(t, edited((g) => delete g[key]), 'GENESIS_INVALID_FIELD', key);
  }
  for (const key of ['baseFee', 'perByteFee', 'feeBurnPercent', 'txBytesMax', 'blockTxCountMax', 'blockBytesMax']) {
    rejects(t, edited((g) => delete g.params[key]), 'GENESIS_INVALID_FIELD', `params.${key}`);
  }
  for (const key of ['name', 'publicKey', 'power']) rejects(t, edited((g) => delete g.validators[0][key]), 'GENESIS_INVALID_FIELD', `validators[0].${key}`);
  for (const key of ['address', 'balance']) rejects(t, edited((g) => delete g.accounts[1][key]), 'GENESIS_INVALID_FIELD', `accounts[1].${key}`);
  t.match(errorOf(() => parseGenesis(edited((g) => delete g.chainId))), { reason: 'is required' });
});

t.test('wrong shapes → GENESIS_INVALID_FIELD', async (t) => {
  rejects(t, [], 'GENESIS_INVALID_FIELD', '', 'top level array');
  rejects(t, edited((g) => (g.params = [])), 'GENESIS_INVALID_FIELD', 'params');
  rejects(t, edited((g) => (g.validators = {})), 'GENESIS_INVALID_FIELD', 'validators');
  rejects(t, edited((g) => (g.accounts = null)), 'GENESIS_INVALID_FIELD', 'accounts');
  rejects(t, edited((g) => (g.validators[0] = 'v')), 'GENESIS_INVALID_FIELD', 'validators[0]');
  rejects(t, edited((g) => (g.accounts[1] = [])), 'GENESIS_INVALID_FIELD', 'accounts[1]');
  rejects(t, edited((g) => (g.chainId = 7)), 'GENESIS_INVALID_FIELD', 'chainId');
  rejects(t, edited((g) => (g.validators[0].name = 'has space')), 'GENESIS_INVALID_FIELD', 'validators[0].name');
  rejects(t, edited((g) => (g.validators[0].name = '')), 'GENESIS_INVALID_FIELD', 'validators[0].name');
  rejects(t, edited((g) => (g.validators[0].name = 'x'.repeat(65))), 'GENESIS_INVALID_FIELD', 'validators[0].name');
  rejects(t, edited((g) => (g.accounts[0].address = 'tag1qqqq')), 'GENESIS_INVALID_FIELD', 'accounts[0].address');
  rejects(t, edited((g) => (g.accounts[0].address = bytesToHex(a1.address))), 'GENESIS_INVALID_FIELD', 'accounts[0].address', 'hex address');
});

t.test('duplicates → GENESIS_DUPLICATE_ACCOUNT / GENESIS_DUPLICATE_VALIDATOR', async (t) => {
  rejects(t, edited((g) => g.accounts.push({ ...g.accounts[0] })), 'GENESIS_DUPLICATE_ACCOUNT', 'accounts[2]');
  rejects(t, edited((g) => g.accounts.push({ address: g.accounts[0].address.toUpperCase(), balance: '1' })), 'GENESIS_DUPLICATE_ACCOUNT', 'accounts[2]', 'same address in upper case');
  rejects(t, edited((g) => g.validators.push({ ...g.validators[0], name: 'other' })), 'GENESIS_DUPLICATE_VALIDATOR', 'validators[2]');
  rejects(t, edited((g) => g.validators.push({ ...g.validators[1], name: 'other', publicKey: g.validators[1].publicKey.toUpperCase() })), 'GENESIS_DUPLICATE_VALIDATOR', 'validators[2]', 'same key in upper case');
  rejects(t, edited((g) => g.validators.push({ ...g.validators[1], name: 'other', publicKey: '0x' + g.validators[1].publicKey })), 'GENESIS_DUPLICATE_VALIDATOR', 'validators[2]', 'same key with 0x');
  t.ok(parseGenesis(edited((g) => g.validators.push({ ...g.validators[0], publicKey: bytesToHex(fixedKey(0x12).publicKey) }))), 'names may repeat');
});

t.test('bad validator keys → GENESIS_BAD_KEY', async (t) => {
  const bad: Array<[string, string]> = [
    ['not hex', 'zz'.repeat(32)],
    ['odd length', 'a'.repeat(63)],
    ['31 bytes', bytesToHex(v1.publicKey).slice(2)],
    ['33 bytes', bytesToHex(v1.publicKey) + '00'],
    ['empty', ''],
    ['not on the curve (y = 2)', '02' + '00'.repeat(31)],
    ['non-canonical y ≥ p', 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
  ];
  for (const [name, key] of bad) rejects(t, edited((g) => (g.validators[1].publicKey = key)), 'GENESIS_BAD_KEY', 'validators[1].publicKey', name);
  rejects(t, edited((g) => (g.validators[1].publicKey = 1)), 'GENESIS_INVALID_FIELD', 'validators[1].publicKey', 'a number');
});

t.test('a small-order validator key is refused', async (t) => {
  const g = edited((d) => (d.validators[1].publicKey = '01' + '00'.repeat(31)));
  t.equal(errorOf(() => parseGenesis(g))?.code ?? 'accepted', 'GENESIS_BAD_KEY', 'the identity point');
});

t.test('validator counts and stake', async (t) => {
  rejects(t, edited((g) => (g.validators = [])), 'GENESIS_NO_VALIDATORS');
  const many = edited((g) => (g.validators = Array.from({ length: 201 }, () => null)));
  t.match(errorOf(() => parseGenesis(many)), { code: 'GENESIS_TOO_MANY_VALIDATORS', count: 201, max: 200 });
  rejects(t, edited((g) => (g.validators[1].power = '0')), 'GENESIS_ZERO_STAKE', 'validators[1].power');
});

t.test('chain id', async (t) => {
  for (const id of ['ab', 'Tagger-1', '-tagger', 'tagger-', 'tag_ger', 'tag ger', 'a'.repeat(51), '', 'tägger']) {
    rejects(t, edited((g) => (g.chainId = id)), 'GENESIS_INVALID_FIELD', 'chainId', JSON.stringify(id));
  }
  for (const id of ['abc', 'a-1', 'a'.repeat(50), 'tagger--1']) t.equal(parseGenesis(edited((g) => (g.chainId = id))).chainId, id, id);
});

t.test('genesis time', async (t) => {
  for (const time of [
    '2026-01-01',
    '2026-01-01T00:00:00',
    '2026-01-01T00:00:00+00:00',
    '2026-01-01T00:00:00.0000Z',
    '2026-01-01 00:00:00Z',
    '2026-13-01T00:00:00Z',
    '1969-12-31T23:59:59Z',
    'now',
    '',
  ]) {
    rejects(t, edited((g) => (g.genesisTime = time)), 'GENESIS_INVALID_FIELD', 'genesisTime', time);
  }
  rejects(t, edited((g) => (g.genesisTime = 1767225600000)), 'GENESIS_INVALID_FIELD', 'genesisTime', 'a number');
  t.equal(parseGenesis(edited((g) => (g.genesisTime = '1970-01-01T00:00:00Z'))).genesisTimeMs, 0n, 'the epoch');
  t.equal(parseGenesis(edited((g) => (g.genesisTime = '2026-01-01T00:00:00.5Z'))).genesisTimeMs, 1_767_225_600_500n, 'fraction');
  for (const time of ['2026-02-30T00:00:00Z', '2026-02-29T00:00:00Z', '2026-01-01T24:00:00Z', '2026-04-31T00:00:00Z']) {
    t.equal(errorOf(() => parseGenesis(edited((g) => (g.genesisTime = time))))?.code ?? 'accepted', 'GENESIS_INVALID_FIELD', `impossible date ${time}`);
  }
});

t.test('params ranges', async (t) => {
  const cases: Array<[string, unknown]> = [
    ['feeBurnPercent', 101],
    ['feeBurnPercent', -1],
    ['feeBurnPercent', 50.5],
    ['feeBurnPercent', '50'],
    ['txBytesMax', 255],
    ['txBytesMax', 1024 * 1024 + 1],
    ['blockTxCountMax', 0],
    ['blockTxCountMax', 100_001],
    ['blockBytesMax', 1023],
    ['blockBytesMax', 64 * 1024 * 1024 + 1],
  ];
  for (const [key, value] of cases) rejects(t, edited((g) => (g.params[key] = value)), 'GENESIS_INVALID_FIELD', `params.${key}`, `${key} = ${JSON.stringify(value)}`);
  rejects(t, edited((g) => Object.assign(g.params, { txBytesMax: 4096, blockBytesMax: 2048 })), 'GENESIS_INVALID_FIELD', 'params.blockBytesMax', 'block smaller than a tx');
  t.ok(parseGenesis(edited((g) => Object.assign(g.params, { txBytesMax: 256, blockBytesMax: 1024, blockTxCountMax: 1, feeBurnPercent: 0, baseFee: '0', perByteFee: '0' }))), 'smallest values');
  t.ok(parseGenesis(edited((g) => Object.assign(g.params, { txBytesMax: 1024 * 1024, blockBytesMax: 64 * 1024 * 1024, blockTxCountMax: 100_000, feeBurnPercent: 100 }))), 'largest values');
});

t.test('amounts: decimal strings of whole units only', async (t) => {
  const bad: unknown[] = ['1.5', '-1', '01', '00', '+1', ' 1', '1 ', '1e3', '0x10', '', '１', 1000, 1e3, null, true, ((1n << 256n)).toString()];
  for (const value of bad) {
    rejects(t, edited((g) => (g.accounts[0].balance = value)), 'GENESIS_INVALID_FIELD', 'accounts[0].balance', `balance ${JSON.stringify(value)}`);
    rejects(t, edited((g) => (g.validators[0].power = value)), 'GENESIS_INVALID_FIELD', 'validators[0].power', `power ${JSON.stringify(value)}`);
    rejects(t, edited((g) => (g.params.baseFee = value)), 'GENESIS_INVALID_FIELD', 'params.baseFee', `baseFee ${JSON.stringify(value)}`);
  }
});

t.test('supply: at most 2^128 - 1 units → GENESIS_SUPPLY_OVERFLOW', async (t) => {
  const stake = 100_000n * 10n ** 18n + 1n;
  const at = (total: bigint): Json => edited((g) => {
    g.accounts = [{ address: addressToString(a1.address), balance: (total - stake).toString() }];
  });
  t.equal(genesisSupply(parseGenesis(at(GENESIS_SUPPLY_MAX))), GENESIS_SUPPLY_MAX, 'exactly the maximum');
  const err = errorOf(() => parseGenesis(at(GENESIS_SUPPLY_MAX + 1n)));
  t.match(err, { code: 'GENESIS_SUPPLY_OVERFLOW', max: GENESIS_SUPPLY_MAX.toString() });
  rejects(t, edited((g) => (g.accounts[0].balance = ((1n << 256n) - 1n).toString())), 'GENESIS_SUPPLY_OVERFLOW', undefined, 'one huge (but valid) amount');
});

t.test('genesisToState writes chain id, params, sorted validator set, accounts and supply', async (t) => {
  const g = parseGenesis(valid());
  const chain = MemChain.fromGenesis(g);
  const view = chain.view();
  t.equal(new TextDecoder().decode(view.get(CHAIN_ID_KEY)), 'tagger-devnet-1');
  t.same(decodeParams(view.get(PARAMS_KEY)!), g.params);
  const set = loadValidatorSet(view);
  t.same(set.map((v) => bytesToHex(v.address)), genesisValidatorSet(g).map((v) => bytesToHex(v.address)));
  const sorted = [...set].map((v) => bytesToHex(v.address));
  t.same(sorted, [...sorted].sort(), 'sorted by address');
  t.same(loadAccount(view, a1.address), { balance: 10n ** 24n, nonce: 0 });
  t.equal(view.get(hexToBytes('01' + bytesToHex(a2.address))), undefined, 'a zero balance is not stored');
  t.equal(loadSupply(view), genesisSupply(g));
  const again = MemChain.fromGenesis(parseGenesis(valid()));
  t.equal(bytesToHex(again.root), bytesToHex(chain.root), 'the same genesis gives the same state root');
  const reordered = MemChain.fromGenesis(parseGenesis(edited((d) => d.validators.reverse())));
  t.equal(bytesToHex(reordered.root), bytesToHex(chain.root), 'validator order in the file does not matter');
});

t.test('labelling: optional; a partial section overrides the defaults and is stored; bad values name their field', async (t) => {
  const plain = parseGenesis(valid());
  t.equal(plain.labelling, undefined, 'absent: the defaults, nothing stored');
  t.notOk('labelling' in genesisToJson(plain), 'and not in the JSON form, so the hash is unchanged');
  const g = parseGenesis(edited((x) => (x.labelling = { itemsPerBlockMax: 500, emissionPerLabel: '7' })));
  t.equal(g.labelling?.itemsPerBlockMax, 500);
  t.equal(g.labelling?.emissionPerLabel, 7n);
  t.equal(g.labelling?.epochBlocks, DEFAULT_LABELLING_PARAMS.epochBlocks, 'the rest keep their defaults');
  t.same(parseGenesis(JSON.parse(JSON.stringify(genesisToJson(g)))).labelling, g.labelling, 'round trip through JSON');
  const chain = MemChain.fromGenesis(g);
  t.equal(loadLabellingParams(chain.reader).itemsPerBlockMax, 500, 'written to state');
  rejects(t, edited((x) => (x.labelling = { nope: 1 })), 'GENESIS_UNKNOWN_FIELD', 'labelling.nope');
  rejects(t, edited((x) => (x.labelling = { emIterations: 0 })), 'GENESIS_INVALID_FIELD', 'labelling.emIterations');
  rejects(t, edited((x) => (x.labelling = { probationCapQ16: 60_000, evidenceCapQ16: 50_000 })), 'GENESIS_INVALID_FIELD', 'labelling.probationCapQ16');
  rejects(t, edited((x) => (x.labelling = { emissionPerLabel: 7 })), 'GENESIS_INVALID_FIELD', 'labelling.emissionPerLabel');
  rejects(t, edited((x) => (x.labelling = [])), 'GENESIS_INVALID_FIELD', 'labelling');
});
