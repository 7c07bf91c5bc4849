// The `ctx` object a process function receives with each attempt.
import type { Duration } from '../core/duration.ts';
import type { ProcessContext } from './types.ts';

/** Where `ctx.pause` parks a key or the stage. @internal */
export interface Pauser {
  pauseFrom(workerId: number, key: unknown, ms: Duration, scope: 'key' | 'stage'): void;
}

/** One attempt's context; the idempotency key is computed only when read. @internal */
export class ItemContext<S> implements ProcessContext<S> {
  constructor(
    readonly seq: number,
    readonly key: string | number,
    readonly partition: number,
    readonly workerId: number,
    readonly attempt: number,
    readonly signal: AbortSignal,
    readonly state: S,
    readonly offset: number | undefined,
    private readonly prefix: string,
    private readonly perWorker: boolean,
    private readonly pauser: Pauser,
  ) {}

  pause(ms: Duration, options?: { scope?: 'key' | 'stage' }): void {
    this.pauser.pauseFrom(this.workerId, this.key, ms, options?.scope ?? 'key');
  }

  get idempotencyKey(): string {
    const base =
      this.offset === undefined
        ? `${this.prefix}:${this.seq}`
        : `${this.prefix}:${this.partition}:${this.offset}`;
    return this.perWorker ? `${base}:w${this.workerId}` : base;
  }
}
