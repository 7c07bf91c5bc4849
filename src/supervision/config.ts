// The supervision block of user configuration (object or YAML, snake_case or camelCase) and its mapping to Supervisor options.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type Duration, parseDuration } from '../core/duration.ts';
import { configError, SluiceError } from '../core/errors.ts';
import { validate } from '../core/validate.ts';
import { type BackoffSpec, toBackoff } from '../resilience/backoffFactories.ts';
import { toRestartType } from './options.ts';
import type { RestartIntensity, RestartType, SeedRestartType } from './types.ts';

/**
 * The supervision block of a configuration, as written by users: the seed (snake_case) shape or
 * camelCase, from an object or a YAML file.
 *
 * ```yaml
 * supervision:
 *   restart: always            # always | on_failure | never (or permanent | transient | temporary)
 *   max_restarts: 3
 *   within: 5s                 # restart intensity window (also within_ms / withinMs)
 *   backoff: exponential       # or { initial: 1s, max: 1m, multiplier: 2 }
 *   circuit_breaker: { enabled: true, failure_threshold: 5, timeout: 30s, half_open_requests: 3 }
 *   health_check: { interval: 5s, timeout: 1s }
 * ```
 */
export interface SupervisionConfigInput {
  restart?: RestartType | SeedRestartType;
  maxRestarts?: number;
  max_restarts?: number;
  within?: Duration;
  withinMs?: Duration;
  within_ms?: Duration;
  backoff?: Exclude<BackoffSpec, (...args: never[]) => unknown> | null;
  circuitBreaker?: CircuitBreakerConfigInput;
  circuit_breaker?: CircuitBreakerConfigInput;
  healthCheck?: HealthCheckConfigInput;
  health_check?: HealthCheckConfigInput;
}

/** Circuit-breaker block of {@link SupervisionConfigInput} (camelCase or snake_case keys). */
export interface CircuitBreakerConfigInput {
  enabled?: boolean;
  failureThreshold?: number;
  failure_threshold?: number;
  timeout?: Duration;
  halfOpenRequests?: number;
  half_open_requests?: number;
}

/** Health-check block of {@link SupervisionConfigInput} (camelCase or snake_case keys). */
export interface HealthCheckConfigInput {
  interval?: Duration;
  timeout?: Duration;
  unhealthyThreshold?: number;
  unhealthy_threshold?: number;
}

/**
 * A validated supervision configuration: OTP restart type, intensity, and plain-data settings that
 * the resilience factories accept as they are (`toBackoff(config.backoff)`,
 * `new CircuitBreaker({ ...config.circuitBreaker, clock })`).
 */
export interface SupervisionConfig {
  /** `always` → `permanent`, `on_failure` → `transient`, `never` → `temporary`. Default `permanent`. */
  restart: RestartType;
  /** Default 3. */
  maxRestarts: number;
  /** Intensity window in ms. Default 5000. */
  withinMs: number;
  /** Backoff spec (validated); `undefined` restarts at once. */
  backoff?: BackoffSpec;
  /** Circuit-breaker settings, durations in ms. */
  circuitBreaker?: { enabled: boolean; failureThreshold: number; timeout: number; halfOpenRequests: number };
  /** Health-check settings, durations in ms. */
  healthCheck?: { interval: number; timeout: number; unhealthyThreshold: number };
}

/** Defaults of {@link SupervisionConfig}. */
export const SUPERVISION_CONFIG_DEFAULTS = {
  restart: 'permanent',
  maxRestarts: 3,
  withinMs: 5000,
  circuitBreaker: { failureThreshold: 5, timeout: 30_000, halfOpenRequests: 3 },
  healthCheck: { interval: 5000, timeout: 1000, unhealthyThreshold: 1 },
} as const;

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function objectError(iss: { code?: string; keys?: string[] }): string {
  return iss.code === 'unrecognized_keys'
    ? `an object without the unknown key(s) ${(iss.keys ?? []).join(', ')}`
    : 'an object';
}

/** A strict object accepting each camelCase key and its snake_case twin. */
function dual(shape: Record<string, z.ZodType>) {
  const full: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(shape)) {
    full[k] = v.optional();
    full[snake(k)] = v.optional();
  }
  return z.strictObject(full, { error: objectError });
}

/** Reads `key` or its snake_case twin; both at once is an error. */
function pick(obj: Record<string, unknown>, key: string, where: string): unknown {
  const s = snake(key);
  if (s !== key && obj[key] !== undefined && obj[s] !== undefined) {
    throw configError(`${where}.${s}`, `absent when \`${where}.${key}\` is given`, obj[s]);
  }
  return obj[key] ?? obj[s];
}

const intMin = (min: number) => {
  const msg = `an integer >= ${min}`;
  return z.number({ error: msg }).int(msg).min(min, msg);
};
const duration = z.union([z.number(), z.string()], { error: 'a duration (ms or "500ms"/"1s"/"1m")' });

const breakerSchema = dual({
  enabled: z.boolean({ error: 'a boolean' }),
  failureThreshold: intMin(1),
  timeout: duration,
  halfOpenRequests: intMin(1),
});
const healthSchema = dual({ interval: duration, timeout: duration, unhealthyThreshold: intMin(1) });
const configSchema = dual({
  restart: z.enum(['always', 'on_failure', 'never', 'permanent', 'transient', 'temporary'], {
    error: 'one of "always", "on_failure", "never" (or "permanent", "transient", "temporary")',
  }),
  maxRestarts: intMin(0),
  within: duration,
  withinMs: duration,
  backoff: z.unknown(),
  circuitBreaker: breakerSchema,
  healthCheck: healthSchema,
});

function positive(value: unknown, field: string): number {
  const ms = parseDuration(value, field);
  if (ms <= 0) throw configError(field, 'a duration > 0', value);
  return ms;
}

/**
 * Validates and normalizes a supervision block given as an object (camelCase or snake_case).
 *
 * @param where - the field prefix used in error messages. Default `supervision`.
 * @throws SluiceError `CONFIG_INVALID` naming the field and value, e.g.
 *   ``Expected `supervision.restart` to be one of "always", ..., got "sometimes"``.
 * @example
 * ```ts
 * parseSupervisionConfig({ restart: 'on_failure', max_restarts: 5, backoff: 'exponential' });
 * // { restart: 'transient', maxRestarts: 5, withinMs: 5000, backoff: 'exponential' }
 * ```
 */
export function parseSupervisionConfig(input: unknown, where = 'supervision'): SupervisionConfig {
  const o = validate(configSchema, input ?? {}, where) as Record<string, unknown>;
  const restart = toRestartType(pick(o, 'restart', where) as RestartType | SeedRestartType | undefined);
  const maxRestarts =
    (pick(o, 'maxRestarts', where) as number | undefined) ?? SUPERVISION_CONFIG_DEFAULTS.maxRestarts;
  const within = o.within;
  const withinMsRaw = pick(o, 'withinMs', where);
  if (within !== undefined && withinMsRaw !== undefined) {
    throw configError(`${where}.within`, `absent when \`${where}.withinMs\` is given`, within);
  }
  const withinMs =
    within !== undefined
      ? positive(within, `${where}.within`)
      : withinMsRaw !== undefined
        ? positive(withinMsRaw, `${where}.${o.withinMs !== undefined ? 'withinMs' : 'within_ms'}`)
        : SUPERVISION_CONFIG_DEFAULTS.withinMs;
  const config: SupervisionConfig = { restart, maxRestarts, withinMs };

  const backoff = o.backoff;
  if (backoff !== undefined && backoff !== null) {
    toBackoff(backoff as BackoffSpec, `${where}.backoff`);
    config.backoff = backoff as BackoffSpec;
  }

  const cbKey = o.circuitBreaker !== undefined ? 'circuitBreaker' : 'circuit_breaker';
  const cb = pick(o, 'circuitBreaker', where) as Record<string, unknown> | undefined;
  if (cb !== undefined) {
    const at = `${where}.${cbKey}`;
    const d = SUPERVISION_CONFIG_DEFAULTS.circuitBreaker;
    config.circuitBreaker = {
      enabled: (cb.enabled as boolean | undefined) ?? true,
      failureThreshold: (pick(cb, 'failureThreshold', at) as number | undefined) ?? d.failureThreshold,
      timeout: cb.timeout === undefined ? d.timeout : positive(cb.timeout, `${at}.timeout`),
      halfOpenRequests: (pick(cb, 'halfOpenRequests', at) as number | undefined) ?? d.halfOpenRequests,
    };
  }

  const hcKey = o.healthCheck !== undefined ? 'healthCheck' : 'health_check';
  const hc = pick(o, 'healthCheck', where) as Record<string, unknown> | undefined;
  if (hc !== undefined) {
    const at = `${where}.${hcKey}`;
    const d = SUPERVISION_CONFIG_DEFAULTS.healthCheck;
    config.healthCheck = {
      interval: hc.interval === undefined ? d.interval : positive(hc.interval, `${at}.interval`),
      timeout: hc.timeout === undefined ? d.timeout : positive(hc.timeout, `${at}.timeout`),
      unhealthyThreshold: (pick(hc, 'unhealthyThreshold', at) as number | undefined) ?? d.unhealthyThreshold,
    };
  }
  return config;
}

/**
 * Loads a supervision configuration from a YAML file path, or normalizes an object. A file may hold
 * the block at its top level or under a `supervision:` key.
 *
 * @throws SluiceError `CONFIG_INVALID` (bad value, YAML syntax error), `NOT_FOUND` (missing file).
 * @example
 * ```ts
 * const config = await loadSupervisionConfig('./sluice.yaml');
 * const sup = await Supervisor.start({
 *   strategy: 'one_for_one',
 *   ...toSupervisorOptions(config),
 *   children: [{ id: 'worker', restart: config.restart, start: childFromAsync(work) }],
 * });
 * ```
 */
export async function loadSupervisionConfig(
  pathOrObject: string | URL | SupervisionConfigInput,
  options: { signal?: AbortSignal } = {},
): Promise<SupervisionConfig> {
  if (typeof pathOrObject !== 'string' && !(pathOrObject instanceof URL)) {
    return parseSupervisionConfig(pathOrObject);
  }
  const file = String(pathOrObject);
  let text: string;
  try {
    text = await readFile(pathOrObject, {
      encoding: 'utf8',
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOENT') {
      throw new SluiceError('NOT_FOUND', `Supervision config file not found: ${file}`, {
        cause: e,
        context: { file },
      });
    }
    throw e;
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new SluiceError('CONFIG_INVALID', `Invalid YAML in ${file}: ${(e as Error).message}`, {
      cause: e,
      context: { file },
    });
  }
  const block =
    typeof doc === 'object' && doc !== null && 'supervision' in doc
      ? (doc as { supervision: unknown }).supervision
      : doc;
  return parseSupervisionConfig(block ?? {});
}

/**
 * The `Supervisor.start` options a {@link SupervisionConfig} determines: restart intensity and
 * backoff. The restart type goes on each child spec (`restart: config.restart`).
 */
export function toSupervisorOptions(config: SupervisionConfig): {
  restartIntensity: RestartIntensity;
  backoff?: BackoffSpec;
} {
  return {
    restartIntensity: { maxRestarts: config.maxRestarts, withinMs: config.withinMs },
    ...(config.backoff === undefined ? {} : { backoff: config.backoff }),
  };
}
