export * from './abort.ts';
export * from './Clock.ts';
export * from './Deque.ts';
export * from './duration.ts';
export * from './errors.ts';
export * from './events.ts';
export * from './hash.ts';
export * from './validate.ts';
