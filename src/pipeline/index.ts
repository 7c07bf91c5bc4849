// The public names of the pipeline module.
/** @packageDocumentation */

export { definePipeline, type PipelineDefinition } from './definePipeline.ts';
export type { PipelineEvents } from './engineTypes.ts';
export type { PartitionKey } from './keys.ts';
export type { HotKey, KeyView, WaitingKey } from './keyView.ts';
export { PipelineRun } from './PipelineRun.ts';
export type { WaitReason } from './RetryTimers.ts';
export { Err, type ErrResult, isResult, Ok, type OkResult, type Result } from './result.ts';
export type { AckSource, ItemOutcome, StreamSource } from './source.ts';
export { fromTopic, Stream, stream } from './stream.ts';
export type { TopicSourceOptions } from './TopicSource.ts';
export type * from './types.ts';
