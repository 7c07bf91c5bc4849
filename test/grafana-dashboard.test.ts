// examples/grafana/sluice-cluster.json queries only metrics that Sluice's registry really exports.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../src/backend/memory/index.ts';
import { collectBackendMetrics } from '../src/metrics/backendMetrics.ts';
import { runnerMetrics } from '../src/metrics/runnerMetrics.ts';
import { instrumentDistributedSupervisor } from '../src/metrics/supervisorMetrics.ts';

const file = join(import.meta.dirname, '..', 'examples', 'grafana', 'sluice-cluster.json');

/** Every PromQL expression of a dashboard: panel targets and template variable queries. */
function expressions(dashboard: unknown): string[] {
  const d = dashboard as {
    panels: { targets?: { expr: string }[] }[];
    templating: { list: { query?: unknown }[] };
  };
  const exprs = d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  for (const v of d.templating.list) {
    const q = v.query as { query?: string } | string | undefined;
    const text = typeof q === 'string' ? q : q?.query;
    if (text?.startsWith('label_values(')) exprs.push(text);
  }
  return exprs;
}

/** Metric names referenced by the expressions (`sluice_*`, `process_*`, `nodejs_*`). */
function referencedMetrics(exprs: string[]): Set<string> {
  const names = new Set<string>();
  for (const e of exprs)
    for (const m of e.matchAll(/\b(?:sluice|process|nodejs)_[a-z0-9_]+\b/g)) names.add(m[0]);
  return names;
}

/** The names a scrape of `registry` shows, histograms with their `_bucket`, `_sum` and `_count` series. */
async function exported(registry: Registry): Promise<Set<string>> {
  const names = new Set<string>();
  for (const m of await registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
  }
  return names;
}

/** A registry as a runner, a supervisor node and the dashboard expose them together. */
async function sluiceRegistry(): Promise<Registry> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  runnerMetrics({ registry, group: 'g', topic: 't', node: 'n' });
  instrumentDistributedSupervisor(
    {
      getStats: () => ({
        state: 'running',
        leader: undefined,
        nodes: [],
        children: 0,
        childrenByNode: {},
        local: [],
        totalRestarts: 0,
        nodeFailureRestarts: 0,
        migrations: 0,
        rebalances: 0,
        nodeFailures: 0,
      }),
    },
    { registry, name: 's', node: 'n' },
  );
  collectBackendMetrics(createMemoryBackend(), { registry, groups: [] });
  return registry;
}

function missing(referenced: Set<string>, available: Set<string>): string[] {
  return [...referenced].filter((n) => !available.has(n)).sort();
}

describe('Grafana dashboard', () => {
  it('every metric it queries exists in the registry', async () => {
    const dashboard = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    const referenced = referencedMetrics(expressions(dashboard));
    expect(referenced.size).toBeGreaterThan(10);
    for (const name of [
      'sluice_runner_owned_partitions',
      'sluice_lease_renew_seconds_bucket',
      'sluice_dsup_leader',
    ])
      expect(referenced).toContain(name);
    expect(missing(referenced, await exported(await sluiceRegistry()))).toEqual([]);
  });

  it('the check catches a metric that does not exist', async () => {
    const broken = {
      panels: [{ targets: [{ expr: 'sum(rate(sluice_runner_handovers_total[5m]))' }] }],
      templating: { list: [{ query: { query: 'label_values(sluice_runner_up, group)' } }] },
    };
    expect(missing(referencedMetrics(expressions(broken)), await exported(await sluiceRegistry()))).toEqual([
      'sluice_runner_handovers_total',
    ]);
  });
});
