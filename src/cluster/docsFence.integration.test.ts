// Runs the "Fenced writes" blocks of docs/cluster.md, as written, against PostgreSQL with tokens
// from real partition leases: a stale token's write is refused.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresBackend } from '../backend/postgres/index.ts';
import type { RunnerEventContext } from './runner/runnerOptions.ts';

const DB_URL = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `fence_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
const admin = new pg.Pool({ connectionString: DB_URL, max: 2 });
const dir = mkdtempSync(join(tmpdir(), 'sluice-docs-fence-'));
afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
});

/** The first fenced code block of `lang` in the "Fenced writes" section of docs/cluster.md. */
function docBlock(lang: 'sql' | 'ts'): string {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'cluster.md'), 'utf8');
  const start = doc.indexOf('### Fenced writes');
  const section = doc.slice(start, doc.indexOf('\n### ', start + 1));
  const match = new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(section);
  if (start < 0 || match === null) throw new Error(`no ${lang} block under "### Fenced writes"`);
  return match[1]!;
}

type SetBalance = (
  db: pg.Pool,
  account: string,
  balance: number,
  ctx: Pick<RunnerEventContext, 'fence'>,
) => Promise<boolean>;

/** Loads the TypeScript block as a module (its imports are type-only, erased by the compiler). */
async function loadSetBalance(): Promise<SetBalance> {
  const js = ts.transpileModule(docBlock('ts'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const file = join(dir, 'setBalance.mjs');
  writeFileSync(file, js);
  const mod = (await import(pathToFileURL(file).href)) as { setBalance: SetBalance };
  return mod.setBalance;
}

describe('docs/cluster.md: fenced writes to PostgreSQL', () => {
  it('the write of a stale lease holder is refused; the current holder writes (and rewrites)', async () => {
    await admin.query(`CREATE SCHEMA "${schema}"`);
    const db = new pg.Pool({ connectionString: DB_URL, max: 2, options: `-c search_path=${schema}` });
    const backend = await createPostgresBackend({ connectionString: DB_URL, schema: `${schema}_b` });
    try {
      await db.query(docBlock('sql'));
      await db.query("INSERT INTO accounts (id, balance) VALUES ('acct-1', 0)");
      const setBalance = await loadSetBalance();

      // The partition's lease: held by runner a, then (after a's hold ended) by runner b.
      const name = 'billing/payments/3';
      const a = await backend.leases.acquire(name, 'a#1', 60_000);
      expect(await backend.leases.release(a!)).toBe(true);
      const b = await backend.leases.acquire(name, 'b#1', 60_000);
      expect(b!.fencingToken).toBeGreaterThan(a!.fencingToken);
      const fenceA = { fence: { lease: name, token: a!.fencingToken } };
      const fenceB = { fence: { lease: name, token: b!.fencingToken } };

      expect(await setBalance(db, 'acct-1', 100, fenceB)).toBe(true);
      expect(await setBalance(db, 'acct-1', 999, fenceA)).toBe(false); // a resumed after its pause
      expect(await setBalance(db, 'acct-1', 150, fenceB)).toBe(true); // b retries: same token
      const row = await db.query('SELECT balance, fence FROM accounts WHERE id = $1', ['acct-1']);
      expect(row.rows).toEqual([{ balance: '150', fence: String(b!.fencingToken) }]);
    } finally {
      await db.end();
      await backend.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}_b" CASCADE`);
    }
  });
});
