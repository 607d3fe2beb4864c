/** Serves block sync from the node's chain store: blocks and commits exactly as stored. */
import type { ChainStore } from '../../state/index.ts';
import type { BlockSource } from './syncProtocol.ts';

export type StoredBlocks = Pick<ChainStore, 'head' | 'blockBytes' | 'commitBytes'>;

export function storeBlockSource(store: StoredBlocks): BlockSource {
  return {
    height: () => store.head?.height ?? 0,
    blockAt: async (height) => {
      const [block, commit] = await Promise.all([store.blockBytes(height), store.commitBytes(height)]);
      return block === undefined || commit === undefined ? null : { block, commit };
    },
  };
}
