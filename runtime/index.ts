export * from './tx.ts';
export * from './block.ts';
export * from './errors.ts';
export * from './applyTx.ts';
export * from './applyBlock.ts';
export * from './labelling/index.ts';
export * from './staking/index.ts';
export * from './passport/index.ts';
