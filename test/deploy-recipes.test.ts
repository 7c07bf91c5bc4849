// The deployment recipes of docs/operations.md: compose file (docker compose / docker-compose config),
// systemd unit (systemd-analyze verify), Kubernetes manifests (a schema of the fields that matter).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { RELEASE_GRACE_MS } from '../src/cli/drain.ts';
import { parseDuration } from '../src/core/duration.ts';

const deploy = join(import.meta.dirname, '..', 'examples', 'deploy');
const scratch = mkdtempSync(join(tmpdir(), 'sluice-deploy-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function available(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

/** The compose validator on this machine: `docker compose` (v2) or `docker-compose` (v1). */
const compose: string[] | undefined = available('docker', ['compose', 'version'])
  ? ['docker', 'compose']
  : available('docker-compose', ['version'])
    ? ['docker-compose']
    : undefined;

/** Runs the compose validator on `file` (in the folder of the recipe, for its build context). */
function composeConfig(file: string): { code: number | null; stdout: string; stderr: string } {
  if (compose === undefined) {
    throw new Error('neither `docker compose` nor `docker-compose` found: run `bash .ci/packages`');
  }
  const [cmd, ...pre] = compose;
  const r = spawnSync(cmd!, [...pre, '-f', file, 'config'], { cwd: deploy, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The value after `flag` in an argument list. */
function flag(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

const seconds = (d: string) => parseDuration(d, 'test') / 1000;

describe('docker compose recipe', () => {
  it('is valid for `compose config`: PostgreSQL, 3 runners, dashboard; grace covers the drain', () => {
    const r = composeConfig('compose.yaml');
    expect(r.stderr.replace(/.*version.*obsolete.*\n?/i, '')).toBe('');
    expect(r.code).toBe(0);
    const config = parseYaml(r.stdout) as {
      services: Record<
        string,
        { command?: string[]; stop_grace_period?: string; environment?: Record<string, string> }
      >;
    };
    const names = Object.keys(config.services).sort();
    expect(names).toEqual(['dashboard', 'postgres', 'runner-1', 'runner-2', 'runner-3']);
    for (const name of ['runner-1', 'runner-2', 'runner-3']) {
      const s = config.services[name]!;
      expect(s.command?.slice(0, 2)).toEqual(['runner', 'billing.ts']);
      expect(flag(s.command!, '--node')).toBe(name);
      const drain = seconds(flag(s.command!, '--drain-timeout')!);
      // compose prints the grace period normalised ("45s"); SIGKILL must not cut a drain short.
      expect(seconds(s.stop_grace_period!)).toBeGreaterThanOrEqual(drain + RELEASE_GRACE_MS / 1000);
      expect(s.environment?.SLUICE_BACKEND).toMatch(/^postgres:\/\/.*@postgres:5432\//);
    }
  });

  it('the validator refuses a broken file (the check can fail)', () => {
    const bad = join(deploy, '.compose-broken.yaml');
    writeFileSync(
      bad,
      readFileSync(join(deploy, 'compose.yaml'), 'utf8').replace('stop_grace_period:', 'stop_grace_perod:'),
    );
    try {
      const r = composeConfig(bad);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/stop_grace_perod/);
    } finally {
      rmSync(bad, { force: true });
    }
  });
});

describe('systemd unit', () => {
  const verify = (file: string) => {
    if (!available('systemd-analyze', ['--version'])) {
      throw new Error('systemd-analyze not found: run `bash .ci/packages`');
    }
    return spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
  };

  it('passes `systemd-analyze verify` without a warning; stop timeout covers the drain', () => {
    const r = verify(join(deploy, 'sluice-runner.service'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const unit = readFileSync(join(deploy, 'sluice-runner.service'), 'utf8');
    const exec = /^ExecStart=(.*)$/m.exec(unit)![1]!.split(/\s+/);
    const stop = Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)![1]);
    expect(stop).toBeGreaterThanOrEqual(seconds(flag(exec, '--drain-timeout')!) + RELEASE_GRACE_MS / 1000);
    expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
  });

  it('the check catches a broken unit (warnings count)', () => {
    const bad = join(scratch, 'sluice-runner.service');
    copyFileSync(join(deploy, 'sluice-runner.service'), bad);
    writeFileSync(bad, readFileSync(bad, 'utf8').replace('TimeoutStopSec=45', 'TimeoutStopSec=soon'));
    expect(verify(bad).stderr).toMatch(/Failed to parse/);
  });
});

// The fields of the Kubernetes objects the recipe depends on; anything else is passed through.
const probe = z.object({
  httpGet: z.object({ path: z.string(), port: z.union([z.string(), z.number()]) }),
  periodSeconds: z.number().int().positive(),
  failureThreshold: z.number().int().positive().optional(),
  timeoutSeconds: z.number().int().positive().optional(),
});
const container = z.object({
  name: z.string(),
  image: z.string().min(1),
  args: z.array(z.string()),
  ports: z.array(z.object({ name: z.string(), containerPort: z.number().int() })),
  envFrom: z.array(z.object({ secretRef: z.object({ name: z.string() }) })),
  lifecycle: z.object({ preStop: z.object({ exec: z.object({ command: z.array(z.string()) }) }) }),
  livenessProbe: probe,
  readinessProbe: probe,
  startupProbe: probe.optional(),
});
const labels = z.record(z.string(), z.string());
const deployment = z.object({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('Deployment'),
  metadata: z.object({ name: z.string() }),
  spec: z.object({
    replicas: z.number().int().min(1),
    selector: z.object({ matchLabels: labels }),
    strategy: z.object({ type: z.literal('RollingUpdate') }),
    template: z.object({
      metadata: z.object({ labels }),
      spec: z.object({
        terminationGracePeriodSeconds: z.number().int(),
        containers: z.array(container).min(1),
      }),
    }),
  }),
});
const other = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('Secret'),
    apiVersion: z.literal('v1'),
    metadata: z.object({ name: z.string() }),
    stringData: z.record(z.string(), z.string()),
  }),
  z.object({
    kind: z.literal('Service'),
    apiVersion: z.literal('v1'),
    metadata: z.object({ name: z.string() }),
    spec: z.object({
      selector: labels,
      ports: z.array(z.object({ port: z.number(), targetPort: z.union([z.string(), z.number()]) })),
    }),
  }),
  z.object({
    kind: z.literal('PodDisruptionBudget'),
    apiVersion: z.literal('policy/v1'),
    metadata: z.object({ name: z.string() }),
    spec: z.object({ selector: z.object({ matchLabels: labels }) }),
  }),
]);

/** Problems of a Deployment of runners: schema errors, then the rules the drain and probes need. */
function deploymentProblems(doc: unknown, secrets: Set<string>): string[] {
  const parsed = deployment.safeParse(doc);
  if (!parsed.success) return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  const d = parsed.data;
  const problems: string[] = [];
  const c = d.spec.template.spec.containers[0]!;
  const drain = flag(c.args, '--drain-timeout');
  const health = flag(c.args, '--health-port');
  if (drain === undefined || health === undefined)
    return ['runner args need --drain-timeout and --health-port'];
  if (flag(c.args, '--ops-host') !== '0.0.0.0')
    problems.push('--ops-host must be 0.0.0.0 for the kubelet probes');
  const pre = c.lifecycle.preStop.exec.command;
  const preStop = pre[0] === 'sleep' ? Number(pre[1]) : 0;
  const needed = preStop + seconds(drain) + RELEASE_GRACE_MS / 1000;
  if (d.spec.template.spec.terminationGracePeriodSeconds < needed)
    problems.push(
      `terminationGracePeriodSeconds ${d.spec.template.spec.terminationGracePeriodSeconds} < preStop + drain + release ${needed}`,
    );
  const port = (p: string | number) =>
    typeof p === 'number' ? p : c.ports.find((x) => x.name === p)?.containerPort;
  for (const [name, pr, path] of [
    ['liveness', c.livenessProbe, '/livez'],
    ['readiness', c.readinessProbe, '/readyz'],
  ] as const) {
    if (pr.httpGet.path !== path) problems.push(`${name} probe must GET ${path}, not ${pr.httpGet.path}`);
    if (port(pr.httpGet.port) !== Number(health))
      problems.push(`${name} probe port is not --health-port ${health}`);
  }
  for (const [k, v] of Object.entries(d.spec.selector.matchLabels))
    if (d.spec.template.metadata.labels[k] !== v)
      problems.push(`selector label ${k} does not match the pod template`);
  for (const e of c.envFrom)
    if (!secrets.has(e.secretRef.name)) problems.push(`secret ${e.secretRef.name} is not in the manifests`);
  return problems;
}

function manifests(): unknown[] {
  const dir = join(deploy, 'k8s');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as unknown));
}

describe('Kubernetes manifests', () => {
  it('a Deployment with preStop, a grace period covering the drain, probes on the health port', () => {
    const docs = manifests();
    const deployments = docs.filter((d) => (d as { kind?: string }).kind === 'Deployment');
    expect(deployments).toHaveLength(1);
    const rest = docs.filter((d) => (d as { kind?: string }).kind !== 'Deployment');
    for (const d of rest) expect(other.safeParse(d).error?.issues ?? []).toEqual([]);
    const secrets = new Set(
      rest
        .filter((d) => (d as { kind: string }).kind === 'Secret')
        .map((d) => (d as { metadata: { name: string } }).metadata.name),
    );
    expect(deploymentProblems(deployments[0], secrets)).toEqual([]);
  });

  it('the check catches a grace period shorter than the drain and a probe on another port', () => {
    const d = structuredClone(manifests().find((x) => (x as { kind?: string }).kind === 'Deployment')) as {
      spec: {
        template: {
          spec: {
            terminationGracePeriodSeconds: number;
            containers: { readinessProbe: { httpGet: { port: unknown } } }[];
          };
        };
      };
    };
    d.spec.template.spec.terminationGracePeriodSeconds = 30;
    d.spec.template.spec.containers[0]!.readinessProbe.httpGet.port = 8080;
    expect(deploymentProblems(d, new Set(['sluice-backend']))).toEqual([
      'terminationGracePeriodSeconds 30 < preStop + drain + release 38',
      'readiness probe port is not --health-port 9464',
    ]);
    expect(deploymentProblems({ kind: 'Deployment' }, new Set()).length).toBeGreaterThan(0);
  });
});
