// Supervisor and child spec validation: defaults (shutdown timeout, intensity), normalized specs in ms.
import { z } from 'zod';
import { type Clock, systemClock } from '../core/Clock.ts';
import { parseDuration } from '../core/duration.ts';
import { configError } from '../core/errors.ts';
import { validate } from '../core/validate.ts';
import type { Backoff } from '../resilience/Backoff.ts';
import type {
  AutoShutdown,
  ChildHandle,
  ChildSpec,
  ChildStart,
  RestartType,
  SeedRestartType,
  SupervisorOptions,
  SupervisorStrategy,
} from './types.ts';

/** Default `shutdownTimeout` of a child (as OTP's 5000 ms for workers). */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5000;
/** Default restart intensity (as OTP: 1 restart within 5 seconds). */
export const DEFAULT_INTENSITY = { maxRestarts: 1, withinMs: 5000 } as const;
const DEFAULT_HEALTH_TIMEOUT_MS = 1000;

/** A child spec after validation: durations in ms, restart type resolved. */
export interface NormalizedChildSpec {
  readonly id: string;
  readonly start: ChildStart;
  readonly restart: RestartType;
  /** `Infinity` for `'infinity'`. */
  readonly shutdownTimeoutMs: number;
  readonly significant: boolean;
  readonly healthCheck?: NormalizedHealthCheck;
}

/** A health check after validation. */
export interface NormalizedHealthCheck {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly unhealthyThreshold: number;
  // biome-ignore lint/suspicious/noConfusingVoidType: a probe may be an async function that returns nothing.
  readonly check: (signal: AbortSignal, handle: ChildHandle) => Promise<boolean | void> | boolean | void;
}

/** Supervisor options after validation. */
export interface NormalizedSupervisorOptions {
  readonly strategy: SupervisorStrategy;
  readonly children: NormalizedChildSpec[];
  readonly template: NormalizedChildSpec | undefined;
  readonly maxRestarts: number;
  readonly withinMs: number;
  readonly backoff: Backoff | undefined;
  readonly autoShutdown: AutoShutdown;
  readonly clock: Clock;
  readonly name: string;
  readonly signal: AbortSignal | undefined;
}

const fn = (what: string) => z.custom<(...a: never[]) => unknown>((v) => typeof v === 'function', what);
const RESTART_VALUES = ['permanent', 'transient', 'temporary', 'always', 'on_failure', 'never'] as const;
const restartMsg = 'one of "permanent", "transient", "temporary" (or "always", "on_failure", "never")';

const healthCheckSchema = z.object(
  {
    interval: z.unknown(),
    timeout: z.unknown().optional(),
    unhealthyThreshold: z
      .number({ error: 'an integer >= 1' })
      .int('an integer >= 1')
      .min(1, 'an integer >= 1')
      .optional(),
    check: fn('a function (signal, handle) => boolean | Promise<boolean | void>'),
  },
  { error: 'an object {interval, timeout?, check}' },
);

const childSpecSchema = z.object(
  {
    id: z.string({ error: 'a non-empty string' }).min(1, 'a non-empty string'),
    start: fn('a function (ctx) => ChildHandle | Promise<ChildHandle>'),
    restart: z.enum(RESTART_VALUES, { error: restartMsg }).optional(),
    shutdownTimeout: z.unknown().optional(),
    significant: z.boolean({ error: 'a boolean' }).optional(),
    healthCheck: healthCheckSchema.optional(),
  },
  { error: 'a child spec object {id, start, restart?}' },
);

const intMin0 = z.number({ error: 'an integer >= 0' }).int('an integer >= 0').min(0, 'an integer >= 0');

const supervisorSchema = z.object(
  {
    strategy: z.enum(['one_for_one', 'one_for_all', 'rest_for_one', 'simple_one_for_one'], {
      error: 'one of "one_for_one", "one_for_all", "rest_for_one", "simple_one_for_one"',
    }),
    children: z.array(z.unknown(), { error: 'an array of child specs' }).optional(),
    childTemplate: z.unknown().optional(),
    restartIntensity: z
      .object({ maxRestarts: intMin0, withinMs: z.unknown() }, { error: 'an object {maxRestarts, withinMs}' })
      .optional(),
    maxRestarts: intMin0.optional(),
    max_restarts: intMin0.optional(),
    backoff: z.unknown().optional(),
    autoShutdown: z
      .enum(['never', 'any_significant', 'all_significant'], {
        error: 'one of "never", "any_significant", "all_significant"',
      })
      .optional(),
    clock: z
      .custom<Clock>(
        (v) =>
          typeof v === 'object' &&
          v !== null &&
          typeof (v as Clock).now === 'function' &&
          typeof (v as Clock).setTimeout === 'function' &&
          typeof (v as Clock).clearTimeout === 'function' &&
          typeof (v as Clock).sleep === 'function',
        'a Clock (now, setTimeout, clearTimeout, sleep)',
      )
      .optional(),
    name: z.string({ error: 'a non-empty string' }).min(1, 'a non-empty string').optional(),
    signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, 'an AbortSignal').optional(),
  },
  { error: 'an options object' },
);

function atLeast1ms(value: unknown, field: string): number {
  const ms = parseDuration(value, field);
  if (ms < 1) throw configError(field, 'a duration >= 1ms', value);
  return ms;
}

/** Maps the seed restart names onto the OTP ones. */
export function toRestartType(r: RestartType | SeedRestartType | undefined): RestartType {
  switch (r) {
    case undefined:
    case 'always':
    case 'permanent':
      return 'permanent';
    case 'on_failure':
    case 'transient':
      return 'transient';
    case 'never':
    case 'temporary':
      return 'temporary';
  }
}

/**
 * Validates one child spec. `field` names it in errors (`children.2`).
 * @throws SluiceError `CONFIG_INVALID` naming the field and value.
 */
export function normalizeChildSpec(spec: unknown, field: string): NormalizedChildSpec {
  const s = validate(childSpecSchema, spec, field);
  const restart = toRestartType(s.restart);
  const significant = s.significant ?? false;
  if (significant && restart === 'permanent') {
    throw configError(
      `${field}.significant`,
      'false for a permanent child (only transient or temporary children can be significant)',
      true,
    );
  }
  const shutdownTimeoutMs =
    s.shutdownTimeout === 'infinity'
      ? Number.POSITIVE_INFINITY
      : s.shutdownTimeout === undefined
        ? DEFAULT_SHUTDOWN_TIMEOUT_MS
        : parseDuration(s.shutdownTimeout, `${field}.shutdownTimeout`);
  const out: NormalizedChildSpec = {
    id: s.id,
    start: s.start as ChildStart,
    restart,
    shutdownTimeoutMs,
    significant,
  };
  if (s.healthCheck === undefined) return out;
  const h = s.healthCheck;
  const intervalMs = atLeast1ms(h.interval, `${field}.healthCheck.interval`);
  return {
    ...out,
    healthCheck: {
      intervalMs,
      timeoutMs:
        h.timeout === undefined
          ? DEFAULT_HEALTH_TIMEOUT_MS
          : atLeast1ms(h.timeout, `${field}.healthCheck.timeout`),
      unhealthyThreshold: h.unhealthyThreshold ?? 1,
      check: h.check as NormalizedHealthCheck['check'],
    },
  };
}

/**
 * Validates `Supervisor.start` options.
 *
 * @param toBackoff - turns a backoff spec into a {@link Backoff}.
 * @throws SluiceError `CONFIG_INVALID` naming the field and value.
 */
export function normalizeSupervisorOptions(
  options: SupervisorOptions,
  toBackoff: (spec: unknown, field: string) => Backoff,
): NormalizedSupervisorOptions {
  const o = validate(supervisorSchema, options, '');
  const strategy = o.strategy;
  const rawChildren = o.children ?? [];
  const children = rawChildren.map((c, i) => normalizeChildSpec(c, `children.${i}`));
  const seen = new Map<string, number>();
  children.forEach((c, i) => {
    const prev = seen.get(c.id);
    if (prev !== undefined) {
      throw configError(`children.${i}.id`, `unique (already used by children.${prev})`, c.id);
    }
    seen.set(c.id, i);
  });
  let template: NormalizedChildSpec | undefined;
  if (strategy === 'simple_one_for_one') {
    if (children.length > 0) {
      throw configError('children', 'empty for simple_one_for_one (use childTemplate)', rawChildren.length);
    }
    if (o.childTemplate === undefined) {
      throw configError('childTemplate', 'a child spec for simple_one_for_one', undefined);
    }
    template = normalizeChildSpec(o.childTemplate, 'childTemplate');
  } else if (o.childTemplate !== undefined) {
    throw configError('childTemplate', 'undefined unless strategy is simple_one_for_one', o.childTemplate);
  }
  const maxRestarts =
    o.restartIntensity?.maxRestarts ?? o.maxRestarts ?? o.max_restarts ?? DEFAULT_INTENSITY.maxRestarts;
  const withinMs =
    o.restartIntensity === undefined
      ? DEFAULT_INTENSITY.withinMs
      : parseDuration(o.restartIntensity.withinMs, 'restartIntensity.withinMs');
  if (withinMs <= 0) {
    throw configError('restartIntensity.withinMs', 'a duration > 0', o.restartIntensity?.withinMs);
  }
  return {
    strategy,
    children,
    template,
    maxRestarts,
    withinMs,
    backoff: o.backoff === undefined ? undefined : toBackoff(o.backoff, 'backoff'),
    autoShutdown: o.autoShutdown ?? 'never',
    clock: o.clock ?? systemClock,
    name: o.name ?? 'supervisor',
    signal: o.signal,
  };
}

/** Checks a spec given to `startChild` and names it in errors. */
export function normalizeDynamicSpec(spec: ChildSpec): NormalizedChildSpec {
  return normalizeChildSpec(spec, 'childSpec');
}
