export * from './buildServer.ts';
export * from './errors.ts';
export type * from './deps.ts';
export type * from './views.ts';
export type * from './labellingViews.ts';
