// Supervision config tests: snake_case and camelCase shapes, YAML files, errors naming the field, driving a supervisor.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeChildren } from '../../test/fixtures/supervision/fakeChildren.ts';
import { settle } from '../../test/fixtures/supervision/harness.ts';
import { ManualClock } from '../core/ManualClock.ts';
import { toBackoff } from '../resilience/backoffFactories.ts';
import { loadSupervisionConfig, parseSupervisionConfig, toSupervisorOptions } from './config.ts';
import { Supervisor } from './Supervisor.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-supervision-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseSupervisionConfig', () => {
  it('maps the seed shape (snake_case) onto OTP names', () => {
    expect(
      parseSupervisionConfig({
        restart: 'always',
        max_restarts: 3,
        backoff: 'exponential',
        circuit_breaker: { enabled: true, failure_threshold: 5, timeout: '30s', half_open_requests: 3 },
        health_check: { interval: '5s', timeout: '1s' },
      }),
    ).toEqual({
      restart: 'permanent',
      maxRestarts: 3,
      withinMs: 5000,
      backoff: 'exponential',
      circuitBreaker: { enabled: true, failureThreshold: 5, timeout: 30_000, halfOpenRequests: 3 },
      healthCheck: { interval: 5000, timeout: 1000, unhealthyThreshold: 1 },
    });
  });

  it('accepts camelCase (the pipeline shape) and every restart name', () => {
    const c = parseSupervisionConfig({
      restart: 'on_failure',
      maxRestarts: 7,
      within: '1m',
      backoff: { initial: '1s', max: '1m', multiplier: 2 },
      circuitBreaker: { failureThreshold: 2, timeout: 500, halfOpenRequests: 1 },
    });
    expect(c).toMatchObject({ restart: 'transient', maxRestarts: 7, withinMs: 60_000 });
    expect(c.circuitBreaker).toEqual({
      enabled: true,
      failureThreshold: 2,
      timeout: 500,
      halfOpenRequests: 1,
    });
    expect(parseSupervisionConfig({ restart: 'never' }).restart).toBe('temporary');
    expect(parseSupervisionConfig({ restart: 'transient' }).restart).toBe('transient');
    expect(parseSupervisionConfig(undefined)).toEqual({
      restart: 'permanent',
      maxRestarts: 3,
      withinMs: 5000,
    });
    const b = toBackoff(c.backoff);
    expect(b.next(1, 0)).toBeLessThanOrEqual(1000);
  });

  it('rejects bad values naming the field and the value', () => {
    const cases: [unknown, string][] = [
      [
        { restart: 'sometimes' },
        'Expected `supervision.restart` to be one of "always", "on_failure", "never"',
      ],
      [{ max_restarts: -1 }, 'Expected `supervision.max_restarts` to be an integer >= 0, got -1'],
      [{ maxRestarts: 1.5 }, '`supervision.maxRestarts`'],
      [{ backoff: 'linear' }, '`supervision.backoff`'],
      [{ backoff: { initial: 'soon' } }, '`supervision.backoff.initial`'],
      [{ circuit_breaker: { failure_threshold: 0 } }, '`supervision.circuit_breaker.failure_threshold`'],
      [{ circuit_breaker: { timeout: 'never' } }, '`supervision.circuit_breaker.timeout`'],
      [{ health_check: { interval: 0 } }, '`supervision.health_check.interval` to be a duration > 0, got 0'],
      [{ restrat: 'always' }, 'Expected `supervision` to be an object without the unknown key(s) restrat'],
      [{ max_restarts: 1, maxRestarts: 2 }, '`supervision.max_restarts` to be absent'],
      ['always', 'Expected `supervision` to be an object, got "always"'],
    ];
    for (const [input, message] of cases) {
      expect(() => parseSupervisionConfig(input), JSON.stringify(input)).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(message) }),
      );
    }
  });
});

describe('loadSupervisionConfig', () => {
  it('reads a YAML file, with or without a supervision key', async () => {
    const a = join(dir, 'a.yaml');
    await writeFile(
      a,
      [
        'supervision:',
        '  restart: on_failure',
        '  max_restarts: 2',
        '  within: 10s',
        '  backoff:',
        '    initial: 1s',
        '    max: 1m',
        '    multiplier: 2',
        '  health_check:',
        '    interval: 5s',
        '    timeout: 1s',
      ].join('\n'),
    );
    expect(await loadSupervisionConfig(a)).toEqual({
      restart: 'transient',
      maxRestarts: 2,
      withinMs: 10_000,
      backoff: { initial: '1s', max: '1m', multiplier: 2 },
      healthCheck: { interval: 5000, timeout: 1000, unhealthyThreshold: 1 },
    });
    const b = join(dir, 'b.yaml');
    await writeFile(b, 'restart: never\nmax_restarts: 0\n');
    expect(await loadSupervisionConfig(b)).toMatchObject({ restart: 'temporary', maxRestarts: 0 });
    expect(await loadSupervisionConfig({ restart: 'always' })).toMatchObject({ restart: 'permanent' });
  });

  it('reports a missing file, bad YAML and bad values', async () => {
    await expect(loadSupervisionConfig(join(dir, 'missing.yaml'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'supervision: [unclosed\n');
    await expect(loadSupervisionConfig(bad)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    const wrong = join(dir, 'wrong.yaml');
    await writeFile(wrong, 'supervision:\n  restart: sometimes\n');
    await expect(loadSupervisionConfig(wrong)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('`supervision.restart`'),
    });
  });

  it('drives a supervisor: intensity and restart type come from the config', async () => {
    const config = parseSupervisionConfig({ restart: 'on_failure', max_restarts: 1, within: '1s' });
    const fakes = new FakeChildren();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      ...toSupervisorOptions(config),
      children: [{ ...fakes.spec('w'), restart: config.restart }],
    });
    fakes.crash('w');
    await settle(sup);
    expect(sup.state).toBe('running');
    fakes.crash('w');
    await settle(sup);
    expect(sup.state).toBe('failed');
  });
});
