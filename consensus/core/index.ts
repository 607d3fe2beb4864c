export * from './proposer.ts';
export * from './machine.ts';
export * from './proposal.ts';
