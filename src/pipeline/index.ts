/** @packageDocumentation */

export { definePipeline, type PipelineDefinition } from './definePipeline.ts';
export type { PipelineEvents } from './Engine.ts';
export { OffsetTracker } from './OffsetTracker.ts';
export { PipelineRun } from './PipelineRun.ts';
export { Err, type ErrResult, isResult, Ok, type OkResult, type Result } from './result.ts';
export type { StreamSource } from './source.ts';
export { fromTopic, Stream, stream } from './stream.ts';
export type { TopicSourceOptions } from './TopicSource.ts';
export type * from './types.ts';
