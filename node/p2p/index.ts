/** The P2P layer's public surface: the network, its config, block sync and peer scoring. */
export { P2PNetwork, peerIdFromSeed, toPeerId, IDENTITY_SEED_BYTES, type Verdict, type GossipValidator, type P2PNetworkOpts, type P2PNetworkDeps, type P2PMetrics } from './network.ts';
export {
  DEFAULT_P2P_CONFIG,
  TOPIC_KINDS,
  createP2PConfig,
  validateP2PConfig,
  parseListenAddr,
  parseBootstrapAddr,
  topicName,
  syncProtocol,
  type P2PConfig,
  type SyncOpts,
  type DialOpts,
  type TopicKind,
} from './config.ts';
export { P2PError, type P2PErrorType } from './errors.ts';
export { loadNetworkIdentity, saveNetworkIdentity, loadOrCreateNetworkIdentity, type NetworkIdentity } from './identity.ts';
export { Inbox, type InboundMessage } from './inbox.ts';
export { PeerScoreTable, DEFAULT_PEER_SCORE_OPTS, PENALTY_REASONS, type PeerScoreOpts, type PenaltyReason, type PenaltyResult, type ScoreClock } from './peerScore.ts';
export { type BlockSource } from './syncProtocol.ts';
export { storeBlockSource, type StoredBlocks } from './storeSource.ts';
export { type BlockPair, type BlockPairBytes } from './syncWire.ts';
export { syncToTip, SyncClient, type SyncClientOpts, type SyncClientDeps, type SyncResult, type SyncNetwork, type ApplyBatch } from './sync.ts';
