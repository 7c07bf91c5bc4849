// The PostgreSQL call deadline as sessions see it: statement_timeout and query_timeout follow callTimeoutMs; bad values are refused.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { resolveOptions } from './options.ts';

const URL = process.env.SLUICE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function statementTimeout(options: Parameters<typeof resolveOptions>[0]): Promise<string> {
  const pool = new pg.Pool({ ...resolveOptions(options).clientConfig, max: 1 });
  try {
    const r = await pool.query<{ statement_timeout: string }>('SHOW statement_timeout');
    return r.rows[0]!.statement_timeout;
  } finally {
    await pool.end();
  }
}

describe('PostgreSQL callTimeoutMs', () => {
  it('defaults to 10 s and sets the server statement_timeout, the driver query_timeout and caps the connection wait', async () => {
    expect(await statementTimeout({ connectionString: URL })).toBe('10s');
    expect(await statementTimeout({ connectionString: URL, callTimeoutMs: 1500 })).toBe('1500ms');
    const s = resolveOptions({ connectionString: URL, callTimeoutMs: 1500 });
    expect(s.callTimeoutMs).toBe(1500);
    expect(s.clientConfig.query_timeout).toBe(1500);
    expect(s.clientConfig.connectionTimeoutMillis).toBe(1500);
    expect(resolveOptions({ connectionString: URL }).clientConfig.connectionTimeoutMillis).toBe(5000);
    expect(resolveOptions({ connectionString: URL, queryTimeoutMs: 700 }).clientConfig.query_timeout).toBe(
      700,
    );
  });

  it('refuses a callTimeoutMs that is not an integer >= 1, naming the field', () => {
    expect(() => resolveOptions({ connectionString: URL, callTimeoutMs: 0 })).toThrow(
      /PostgresBackend\.callTimeoutMs/,
    );
  });
});
