export * from './errors.ts';
export * from './genesis.ts';
