export * from './params.ts';
export * from './records.ts';
export * from './queue.ts';
export * from './sampler.ts';
export * from './txs.ts';
export * from './annotators.ts';
export * from './execute.ts';
export * from './endBlock.ts';
export {
  aggregate,
  aggregateMultiLabel,
  majorityVote,
  DEFAULT_AGGREGATE_CONFIG,
  type AggregateConfig,
  type AggregateItem,
  type AggregateResult,
  type AnnotatorPrior,
  type ItemResult,
} from './aggregate.ts';
