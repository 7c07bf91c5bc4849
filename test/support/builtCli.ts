// Runs the built `sluice` CLI (bin/sluice.js over dist/) as a user would, building it when stale.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The package root. */
export const root = join(import.meta.dirname, '..', '..');
/** The CLI entry a user runs. */
export const bin = join(root, 'bin', 'sluice.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
      newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function builtMtime(): number {
  try {
    return statSync(join(root, 'dist', 'cli', 'main.js')).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Runs `npm run build` when dist/ is older than src/ (once; test files running at the same time
 * wait on a lock folder rather than building together).
 */
export async function ensureBuilt(): Promise<void> {
  const lock = join(root, '.build-lock');
  for (;;) {
    if (builtMtime() >= newestMtime(join(root, 'src'))) return;
    try {
      mkdirSync(lock);
    } catch {
      // A lock left by a killed run is taken over after two minutes.
      const since = statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
      if (Date.now() - since > 120_000) rmdirSync(lock);
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    try {
      if (builtMtime() < newestMtime(join(root, 'src')))
        execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
    } finally {
      rmdirSync(lock);
    }
  }
}

/** Outcome of one CLI run. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/sluice.js <args>` in `cwd` and collects its output. */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      {
        cwd: options.cwd ?? root,
        env: { ...process.env, SLUICE_MAX_WORKERS: '', NO_COLOR: '', FORCE_COLOR: '', ...options.env },
        timeout: 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs a shell command line (bash, pipefail) and collects its output. */
export function runShell(line: string, cwd: string = root): Promise<CliResult> {
  // FORCE_COLOR from a test runner would override what the command under test decides.
  const { FORCE_COLOR: _f, ...env } = process.env;
  return new Promise((resolve) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', line], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * A user's project in `dir`: a package.json (ESM unless `type` says otherwise; none when
 * `type` is null), node_modules/sluice linked to this package, node_modules/.bin/sluice, and
 * optionally a tsconfig whose `paths` send 'sluice' to the TypeScript sources (the worst case:
 * the user's module then loads src/ while the CLI runs dist/).
 */
export function makeProject(
  dir: string,
  options: { type?: 'module' | 'commonjs' | null; pathsToSources?: boolean } = {},
): void {
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(root, join(dir, 'node_modules', 'sluice'), 'dir');
  symlinkSync(join('..', 'sluice', 'bin', 'sluice.js'), join(dir, 'node_modules', '.bin', 'sluice'));
  // Drivers a user installs next to Sluice and imports themselves (the connector docs do).
  mkdirSync(join(dir, 'node_modules', '@nats-io'), { recursive: true });
  mkdirSync(join(dir, 'node_modules', '@opentelemetry'), { recursive: true });
  const otel = ['api', 'sdk-trace-base', 'context-async-hooks'].map((p) => `@opentelemetry/${p}`);
  const linked = ['amqplib', 'pg', 'ioredis', 'prom-client', '@nats-io/jetstream', '@nats-io/transport-node'];
  for (const dep of [...linked, ...otel]) {
    symlinkSync(join(root, 'node_modules', dep), join(dir, 'node_modules', dep), 'dir');
  }
  const type = options.type === undefined ? 'module' : options.type;
  if (type !== null) {
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'user-project', private: true, type, dependencies: { sluice: '*' } }),
    );
  }
  if (options.pathsToSources) {
    const src = join(dir, 'node_modules', 'sluice', 'src');
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          allowImportingTsExtensions: true,
          noEmit: true,
          paths: {
            sluice: [join(src, 'index.ts')],
            'sluice/sqlite': [join(src, 'backend', 'sqlite', 'index.ts')],
            'sluice/postgres': [join(src, 'backend', 'postgres', 'index.ts')],
            'sluice/redis': [join(src, 'backend', 'redis', 'index.ts')],
            'sluice/testing': [join(src, 'testing', 'index.ts')],
            'sluice/rabbitmq': [join(src, 'connectors', 'rabbitmq', 'index.ts')],
            'sluice/nats': [join(src, 'connectors', 'nats', 'index.ts')],
          },
        },
      }),
    );
  }
}
