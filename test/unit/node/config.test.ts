import t from 'tap';
import { isChainError } from '../../../lib/index.ts';
import { applyOverrides, DEFAULT_CONFIG, parseConfigJson } from '../../../node/config.ts';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e: unknown) {
    return isChainError(e) ? `${e.code}:${JSON.stringify(e.type)}` : `not a ChainError: ${String(e)}`;
  }
  return 'no error';
}

t.test('an empty config is the defaults; given keys override them', async (t) => {
  t.same(parseConfigJson('{}', 'c.json'), DEFAULT_CONFIG);
  const c = parseConfigJson('{"rpc":{"port":9000},"log":{"level":"debug"}}', 'c.json');
  t.equal(c.rpc.port, 9000);
  t.equal(c.rpc.host, DEFAULT_CONFIG.rpc.host, 'untouched keys keep their default');
  t.equal(c.log.level, 'debug');
});

t.test('bad config files get typed errors naming the key', async (t) => {
  t.match(code(() => parseConfigJson('{"rpc":', 'c.json')), /^CONFIG_NOT_JSON/);
  t.match(code(() => parseConfigJson('[]', 'c.json')), /^CONFIG_INVALID_VALUE/);
  t.match(code(() => parseConfigJson('{"rcp":{}}', 'c.json')), /^CONFIG_UNKNOWN_KEY.*"rcp"/);
  t.match(code(() => parseConfigJson('{"rpc":{"prot":1}}', 'c.json')), /^CONFIG_UNKNOWN_KEY.*rpc\.prot/);
  t.match(code(() => parseConfigJson('{"rpc":{"port":70000}}', 'c.json')), /^CONFIG_INVALID_VALUE.*rpc\.port/);
  t.match(code(() => parseConfigJson('{"rpc":{"port":"80"}}', 'c.json')), /^CONFIG_INVALID_VALUE.*rpc\.port/);
  t.match(code(() => parseConfigJson('{"consensus":{"blockIntervalMs":1.5}}', 'c.json')), /^CONFIG_INVALID_VALUE.*blockIntervalMs/);
  t.match(code(() => parseConfigJson('{"log":{"level":"loud"}}', 'c.json')), /^CONFIG_INVALID_VALUE.*log\.level/);
  t.match(code(() => parseConfigJson('{"rpc":{"host":"a b"}}', 'c.json')), /^CONFIG_INVALID_VALUE.*rpc\.host/);
});

t.test('overrides from flags and environment are validated like the file', async (t) => {
  t.equal(applyOverrides(DEFAULT_CONFIG, { 'rpc.port': '1234' }).rpc.port, 1234);
  t.match(code(() => applyOverrides(DEFAULT_CONFIG, { 'rpc.port': 'abc' })), /^CONFIG_INVALID_VALUE/);
  t.match(code(() => applyOverrides(DEFAULT_CONFIG, { 'nope.key': '1' })), /^CONFIG_UNKNOWN_KEY/);
  t.equal(DEFAULT_CONFIG.rpc.port, 26657, 'defaults are not mutated');
});

t.test('the p2p section: addresses and peers are checked, errors name the key', async (t) => {
  t.equal(DEFAULT_CONFIG.p2p.enabled, false, 'a devnet home runs no network');
  const peer = '/ip4/127.0.0.1/tcp/26656/p2p/12D3KooWQsfZpdEmDHCUrU4ZG1V6jmJaWhzKWBDFEtzNws95pdfT';
  const c = parseConfigJson(JSON.stringify({ p2p: { enabled: true, listen: '/ip4/0.0.0.0/tcp/4001', bootstrap: [peer] } }), 'c.json');
  t.equal(c.p2p.listen, '/ip4/0.0.0.0/tcp/4001');
  t.same(c.p2p.bootstrap, [peer]);
  t.equal(c.p2p.connectionsMax, DEFAULT_CONFIG.p2p.connectionsMax);
  t.match(code(() => parseConfigJson('{"p2p":{"enabled":"yes"}}', 'c.json')), /^CONFIG_INVALID_VALUE.*p2p\.enabled/);
  t.match(code(() => parseConfigJson('{"p2p":{"listen":"127.0.0.1:4001"}}', 'c.json')), /^CONFIG_INVALID_VALUE.*p2p\.listen/);
  t.match(code(() => parseConfigJson('{"p2p":{"listen":"/ip4/127.0.0.1/udp/4001"}}', 'c.json')), /^CONFIG_INVALID_VALUE.*p2p\.listen/);
  t.match(code(() => parseConfigJson('{"p2p":{"bootstrap":"x"}}', 'c.json')), /^CONFIG_INVALID_VALUE.*p2p\.bootstrap/);
  t.match(code(() => parseConfigJson('{"p2p":{"bootstrap":["/ip4/127.0.0.1/tcp/1"]}}', 'c.json')), /^CONFIG_INVALID_VALUE.*p2p\.bootstrap\[0\].*peer id/);
  t.match(code(() => parseConfigJson('{"p2p":{"connectionsMax":0}}', 'c.json')), /^CONFIG_INVALID_VALUE.*p2p\.connectionsMax/);
  t.match(code(() => parseConfigJson('{"p2p":{"seeds":[]}}', 'c.json')), /^CONFIG_UNKNOWN_KEY.*p2p\.seeds/);
  t.match(code(() => parseConfigJson('{"consensus":{"timeoutProposeMs":0}}', 'c.json')), /^CONFIG_INVALID_VALUE.*timeoutProposeMs/);

  const o = applyOverrides(DEFAULT_CONFIG, { 'p2p.bootstrap': `${peer}, ${peer}`, 'p2p.enabled': 'true' });
  t.same(o.p2p.bootstrap, [peer, peer], 'a comma-separated list from the environment');
  t.equal(o.p2p.enabled, true);
  t.match(code(() => applyOverrides(DEFAULT_CONFIG, { 'p2p.enabled': 'maybe' })), /^CONFIG_INVALID_VALUE.*p2p\.enabled/);
  t.same(DEFAULT_CONFIG.p2p.bootstrap, [], 'defaults are not mutated');
});

t.test('the bridge section: endpoint, finality, relaying and the embedded EVM', async (t) => {
  const c = parseConfigJson('{"bridge":{"bnbRpcUrl":"https://bsc.example.org/rpc","confirmations":15,"relayer":true,"fromBlock":4000000}}', 'c.json');
  t.equal(c.bridge.bnbRpcUrl, 'https://bsc.example.org/rpc');
  t.equal(c.bridge.confirmations, 15);
  t.equal(c.bridge.relayer, true);
  t.equal(c.bridge.embeddedEvm, false, 'no local EVM unless asked (the devnet asks)');
  t.match(code(() => parseConfigJson('{"bridge":{"bnbRpcUrl":"ftp://x"}}', 'c.json')), /^CONFIG_INVALID_VALUE.*bridge\.bnbRpcUrl/);
  t.match(code(() => parseConfigJson('{"bridge":{"confirmations":-1}}', 'c.json')), /^CONFIG_INVALID_VALUE.*bridge\.confirmations/);
  t.match(code(() => parseConfigJson('{"bridge":{"pollMs":1}}', 'c.json')), /^CONFIG_INVALID_VALUE.*bridge\.pollMs/);
  t.match(code(() => parseConfigJson('{"bridge":{"relayer":"yes"}}', 'c.json')), /^CONFIG_INVALID_VALUE.*bridge\.relayer/);
  t.match(code(() => parseConfigJson('{"bridge":{"rpcUrl":""}}', 'c.json')), /^CONFIG_UNKNOWN_KEY.*bridge\.rpcUrl/);
  const env = applyOverrides(DEFAULT_CONFIG, { 'bridge.bnbRpcUrl': 'http://127.0.0.1:8545', 'bridge.relayer': 'true', 'bridge.embeddedEvmPort': '0' });
  t.equal(env.bridge.bnbRpcUrl, 'http://127.0.0.1:8545');
  t.equal(env.bridge.relayer, true);
  t.equal(env.bridge.embeddedEvmPort, 0);
});
