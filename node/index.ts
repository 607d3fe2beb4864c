/**
 * The node's public surface for embedding and tools: open and run a node, create a home, read its
 * configuration. The CLI (`main.ts`) is built on these.
 */
export { TaggerNode, NodeError, systemClock, type NodeOpts } from './node.ts';
export { initHome, homePaths, loadNodeKey, saveNodeKey, HomeError, type HomePaths, type InitOpts, type InitResult } from './home.ts';
export { parseConfig, parseConfigJson, applyOverrides, DEFAULT_CONFIG, ConfigError, type NodeConfig } from './config.ts';
export { Mempool, MempoolError, DEFAULT_MEMPOOL_OPTS, type MempoolOpts } from './mempool.ts';
export { BlockExecutor, type ExecutedBlock, type CommittedBlockInfo } from './blockExecutor.ts';
export * from './p2p/index.ts';
