export * from './errors.ts';
export * from './assert.ts';
export * from './bytes.ts';
export * from './codec.ts';
export * from './crypto.ts';
export * from './address.ts';
export * from './merkle.ts';
export * from './amount.ts';
export type * from './types.ts';
