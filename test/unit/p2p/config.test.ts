import t from 'tap';
import { DEFAULT_P2P_CONFIG, createP2PConfig, parseBootstrapAddr, syncProtocol, topicName } from '../../../node/index.ts';
import { isChainError } from '../../../lib/index.ts';

const PEER = '12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e: unknown) {
    return isChainError(e) ? e.code : `not a ChainError: ${String(e)}`;
  }
  return 'no error';
}

t.test('topic and protocol names are per chain', async (t) => {
  t.equal(topicName('tagger-1', 'tx'), '/tagger/tagger-1/tx/1');
  t.equal(topicName('tagger-1', 'evidence'), '/tagger/tagger-1/evidence/1');
  t.equal(syncProtocol('tagger-1'), '/tagger/tagger-1/sync/1');
});

t.test('defaults are valid and patches merge by section', async (t) => {
  t.same(createP2PConfig(), DEFAULT_P2P_CONFIG);
  const c = createP2PConfig({ listen: '/ip4/0.0.0.0/tcp/0', sync: { ...DEFAULT_P2P_CONFIG.sync, countMax: 10 } });
  t.equal(c.sync.countMax, 10);
  t.equal(c.sync.requestTimeoutMs, DEFAULT_P2P_CONFIG.sync.requestTimeoutMs);
  t.equal(c.listen, '/ip4/0.0.0.0/tcp/0');
});

t.test('bad addresses and limits are typed errors', async (t) => {
  t.equal(code(() => createP2PConfig({ listen: 'localhost:26656' })), 'P2P_BAD_MULTIADDR');
  t.equal(code(() => createP2PConfig({ listen: '/ip4/127.0.0.1/udp/1' })), 'P2P_BAD_MULTIADDR');
  t.equal(code(() => createP2PConfig({ listen: `/ip4/127.0.0.1/tcp/1/p2p/${PEER}` })), 'P2P_BAD_MULTIADDR', 'listen takes no peer id');
  t.equal(code(() => createP2PConfig({ bootstrap: ['/ip4/127.0.0.1/tcp/1'] })), 'P2P_BAD_BOOTSTRAP_PEER', 'a bootstrap peer needs its id');
  t.equal(code(() => createP2PConfig({ bootstrap: ['/ip4/127.0.0.1/tcp/1/p2p/notapeer'] })), 'P2P_BAD_BOOTSTRAP_PEER');
  t.equal(code(() => createP2PConfig({ bootstrap: ['nonsense'] })), 'P2P_BAD_BOOTSTRAP_PEER');
  t.equal(code(() => createP2PConfig({ connectionsMax: 0 })), 'P2P_BAD_CONFIG');
  t.equal(code(() => createP2PConfig({ inboxMax: 1.5 })), 'P2P_BAD_CONFIG');
  t.equal(code(() => createP2PConfig({ topicBytesMax: { ...DEFAULT_P2P_CONFIG.topicBytesMax, vote: 10 } })), 'P2P_BAD_CONFIG');
  t.equal(code(() => createP2PConfig({ sync: { ...DEFAULT_P2P_CONFIG.sync, responseBytesMax: 1024, frameBytesMax: 4096 } })), 'P2P_BAD_CONFIG', 'an answer must fit a frame');
  t.equal(code(() => createP2PConfig({ score: { ...DEFAULT_P2P_CONFIG.score, banThreshold: 0 } })), 'P2P_BAD_CONFIG');
  t.equal(code(() => createP2PConfig({ bootstrap: Array.from({ length: 65 }, () => `/ip4/127.0.0.1/tcp/1/p2p/${PEER}`) })), 'P2P_BAD_CONFIG');
});

t.test('a bootstrap address yields its peer id', async (t) => {
  t.equal(parseBootstrapAddr(`/ip4/10.0.0.1/tcp/26656/p2p/${PEER}`).peerId, PEER);
  t.equal(parseBootstrapAddr(`/dns4/node.example/tcp/26656/p2p/${PEER}`).peerId, PEER);
});
