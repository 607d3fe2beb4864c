/**
 * The genesis `bridge` section (genesis/genesis.ts, docs/genesis.md): parameters, the validators'
 * bridge keys, the first bridge validator set fixed at genesis, and every error with its path.
 */
import t from 'tap';
import { addressFromPublicKey, addressToString, bytesToHex } from '../../../lib/index.ts';
import { genesisBridgeSet, genesisHash, genesisToJson, parseGenesis } from '../../../genesis/index.ts';
import { loadBridgeKey, loadBridgeKeyOwner, loadBridgeParams, loadBridgeSet } from '../../../state/index.ts';
import { MemChain, errorOf, fixedKey } from '../../utils/factories.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const v1 = fixedKey(0x10);
const v2 = fixedKey(0x11);
const KEY_A = '0x' + 'aa'.repeat(20);
const KEY_B = '0x' + '0b'.repeat(20);
const CONTRACT = '0x' + '5c'.repeat(20);

function valid(): Json {
  return {
    chainId: 'tagger-devnet-1',
    genesisTime: '2026-01-01T00:00:00.000Z',
    params: { baseFee: '1000', perByteFee: '1', feeBurnPercent: 50, txBytesMax: 131072, blockTxCountMax: 10000, blockBytesMax: 8388608 },
    validators: [
      { name: 'val-0', publicKey: bytesToHex(v1.publicKey), power: '300' },
      { name: 'val-1', publicKey: bytesToHex(v2.publicKey), power: '100' },
    ],
    accounts: [{ address: addressToString(fixedKey(1).address), balance: '5' }],
    bridge: {
      checkpointInterval: 10,
      bnbChainId: 97,
      bridgeContract: CONTRACT,
      withdrawalAmountMax: '1000000',
      keys: [
        { validator: 'val-0', address: KEY_A },
        { validator: 'val-1', address: KEY_B },
      ],
    },
  };
}

function edited(edit: (g: Json) => void): Json {
  const g = structuredClone(valid());
  edit(g);
  return g;
}

function rejectsAt(g: Json): string {
  const err = errorOf(() => parseGenesis(g));
  return err === null ? 'accepted' : `${err.code} ${String(err.path)}`;
}

t.test('the bridge section parses, round-trips and changes the genesis hash', async (t) => {
  const g = parseGenesis(valid());
  t.equal(g.bridge?.params.checkpointInterval, 10);
  t.equal(g.bridge?.params.bnbChainId, 97);
  t.equal(g.bridge?.params.withdrawalAmountMax, 1_000_000n);
  t.equal(g.bridge?.params.depositsAheadMax, 1_024, 'an omitted parameter keeps its default');
  t.equal(bytesToHex(g.bridge!.params.bridgeContract), '5c'.repeat(20));
  const json = genesisToJson(g);
  t.same(parseGenesis(json), g, 'parse ∘ toJson is the identity');
  const without = edited((x) => delete x['bridge']);
  t.not(bytesToHex(genesisHash(parseGenesis(without))), bytesToHex(genesisHash(g)));
  t.equal(parseGenesis(without).bridge, undefined, 'no section: bridge off');
});

t.test('the first bridge set is fixed at genesis, ascending by address, with the validators\' powers', async (t) => {
  const g = parseGenesis(valid());
  const set = genesisBridgeSet(g);
  t.equal(set.id, 1n);
  t.same(set.signers.map((s) => `0x${bytesToHex(s)}`), [KEY_B, KEY_A], 'ascending by address');
  t.same(set.powers, [100n, 300n]);

  const chain = MemChain.fromGenesis(g);
  t.same(loadBridgeSet(chain.reader), set, 'genesis writes set 1');
  t.equal(loadBridgeParams(chain.reader).checkpointInterval, 10);
  const operator = addressFromPublicKey(v1.publicKey);
  t.equal(bytesToHex(loadBridgeKey(chain.reader, operator)!), 'aa'.repeat(20), 'the key is registered to the operator');
  t.equal(bytesToHex(loadBridgeKeyOwner(chain.reader, set.signers[1]!)!), bytesToHex(operator));

  const noKeys = parseGenesis(edited((x) => (x['bridge'].keys = [])));
  t.equal(genesisBridgeSet(noKeys).signers.length, 0);
  t.equal(loadBridgeSet(MemChain.fromGenesis(noKeys).reader).id, 0n, 'without keys the set waits for registrations');
});

t.test('a bad bridge section is refused with its path', async (t) => {
  const cases: Array<[string, (g: Json) => void, string]> = [
    ['not an object', (g) => (g['bridge'] = 5), 'GENESIS_INVALID_FIELD bridge'],
    ['unknown field', (g) => (g['bridge'].foo = 1), 'GENESIS_UNKNOWN_FIELD bridge.foo'],
    ['no contract', (g) => delete g['bridge'].bridgeContract, 'GENESIS_INVALID_FIELD bridge.bridgeContract'],
    ['short contract', (g) => (g['bridge'].bridgeContract = '0x1234'), 'GENESIS_INVALID_FIELD bridge.bridgeContract'],
    ['no BNB chain id', (g) => delete g['bridge'].bnbChainId, 'GENESIS_INVALID_FIELD bridge.bnbChainId'],
    ['interval 0', (g) => (g['bridge'].checkpointInterval = 0), 'GENESIS_INVALID_FIELD bridge.checkpointInterval'],
    ['interval too large', (g) => (g['bridge'].checkpointInterval = 70_000), 'GENESIS_INVALID_FIELD bridge'],
    ['negative amount', (g) => (g['bridge'].withdrawalAmountMax = '-1'), 'GENESIS_INVALID_FIELD bridge.withdrawalAmountMax'],
    ['unknown validator', (g) => (g['bridge'].keys[0].validator = 'nobody'), 'GENESIS_INVALID_FIELD bridge.keys[0].validator'],
    ['two keys for one validator', (g) => (g['bridge'].keys[1].validator = 'val-0'), 'GENESIS_INVALID_FIELD bridge.keys[1].validator'],
    ['one key twice', (g) => (g['bridge'].keys[1].address = KEY_A), 'GENESIS_INVALID_FIELD bridge.keys[1].address'],
    ['zero key', (g) => (g['bridge'].keys[0].address = '0x' + '00'.repeat(20)), 'GENESIS_INVALID_FIELD bridge.keys[0].address'],
    ['keys not a list', (g) => (g['bridge'].keys = {}), 'GENESIS_INVALID_FIELD bridge.keys'],
  ];
  for (const [what, edit, expected] of cases) t.equal(rejectsAt(edited(edit)), expected, what);
});
