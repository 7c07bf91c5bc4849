// Shared pieces of the connector chaos tests: the consumer process, its effects database, and the checks.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'connectors', 'consumer.ts');

/** A running consumer process. */
export interface Consumer {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: string | null; out: string }>;
  output(): string;
}

/** Starts the consumer fixture with `env` (BROKER, TOTAL, EFFECTS_DB, queue/stream settings). */
export function startConsumer(env: Record<string, string>): Consumer {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, out })),
  );
  return { child, exited, output: () => out };
}

/** Reads a query from the effects database (0 rows when it does not exist yet). */
function query<R>(path: string, sql: string): R[] {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all() as R[];
    } finally {
      db.close();
    }
  } catch {
    return [];
  }
}

/** Number of effects applied so far. */
export function effectCount(path: string): number {
  return query<{ c: number }>(path, 'SELECT count(*) AS c FROM effects')[0]?.c ?? 0;
}

/** Waits (real time) until `check()` holds. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Checks the effects of `keys` x `perKey` messages: exactly one effect per message, applied in
 * per-key order; returns how many attempts were redeliveries (same idempotency key seen again).
 */
export function checkEffects(path: string, keys: readonly string[], perKey: number): { duplicates: number } {
  const effects = query<{ idem: string; key: string; n: number }>(
    path,
    'SELECT idem, key, n FROM effects ORDER BY seq',
  );
  expect(effects.length).toBe(keys.length * perKey);
  expect(new Set(effects.map((e) => e.idem)).size).toBe(effects.length);
  for (const key of keys) {
    const ns = effects.filter((e) => e.key === key).map((e) => e.n);
    const bad = ns.findIndex((n, i) => n !== i);
    expect(
      ns,
      `effects of key ${key} in order, each once (from index ${bad}: ${ns.slice(bad, bad + 12).join(',')})`,
    ).toEqual(Array.from({ length: perKey }, (_, i) => i));
  }
  const attempts = query<{ c: number }>(path, 'SELECT count(*) AS c FROM attempts')[0]?.c ?? 0;
  return { duplicates: attempts - effects.length };
}

/** Number of distinct consumer processes that applied an effect. */
export function processCount(path: string): number {
  return query<{ c: number }>(path, 'SELECT count(DISTINCT pid) AS c FROM attempts')[0]?.c ?? 0;
}
