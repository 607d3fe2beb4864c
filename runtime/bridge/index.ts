export * from './records.ts';
export * from './params.ts';
export * from './errors.ts';
export * from './txs.ts';
export * from './execute.ts';
export * from './endBlock.ts';
