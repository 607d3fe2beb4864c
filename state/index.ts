export * from './keys.ts';
export * from './stateView.ts';
export * from './account.ts';
export * from './params.ts';
export * from './labellingParams.ts';
export * from './supply.ts';
export * from './smt.ts';
export * from './chainStore.ts';
