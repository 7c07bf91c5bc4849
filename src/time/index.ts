// Public face of time: the scheduler (delayed events, cron and interval schedules) and event expiry.
/** @packageDocumentation */
export { expiresAt } from './expiry.ts';
export {
  createScheduler,
  Scheduler,
  type SchedulerOptions,
  type SchedulerRound,
  type SchedulerState,
} from './Scheduler.ts';
export type { ScheduleOptions, TickContext } from './scheduleOptions.ts';
