// Public test helpers (`sluice/testing`): ManualClock and flushMicrotasks.
/**
 * Test helpers: a manual clock and fakes. Import from `sluice/testing`.
 * @packageDocumentation
 */
export { flushMicrotasks, ManualClock } from '../core/ManualClock.ts';
