export * from './types.ts';
export * from './errors.ts';
export * from './ports.ts';
export * from './signer.ts';
export * from './soloEngine.ts';
export * from './core/index.ts';
