export * from './checkpoint.ts';
export * from './errors.ts';
export * from './contracts/artifacts.ts';
export * from './bnbLookup.ts';
