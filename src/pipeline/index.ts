/** @packageDocumentation */
export type { PipelineEvents } from './Engine.ts';
export { OffsetTracker } from './OffsetTracker.ts';
export { PipelineRun } from './PipelineRun.ts';
export { Err, type ErrResult, isResult, Ok, type OkResult, type Result } from './result.ts';
export type { StreamSource } from './source.ts';
export { Stream, stream } from './stream.ts';
export type * from './types.ts';
