// PostgreSQL session settings on a real server: idle_in_transaction_session_timeout and the locks of a frozen session.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { resolveOptions } from './options.ts';

const URL = process.env.SLUICE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function serverSetting(options: Parameters<typeof resolveOptions>[0]): Promise<string> {
  const pool = new pg.Pool({ ...resolveOptions(options).clientConfig, max: 1 });
  try {
    const r = await pool.query<{ idle_in_transaction_session_timeout: string }>(
      'SHOW idle_in_transaction_session_timeout',
    );
    return r.rows[0]!.idle_in_transaction_session_timeout;
  } finally {
    await pool.end();
  }
}

describe('PostgreSQL session settings', () => {
  it('ends sessions idle inside a transaction after 5 s by default, so a frozen process cannot hold locks', async () => {
    expect(await serverSetting({ connectionString: URL })).toBe('5s');
    expect(await serverSetting({ connectionString: URL, idleInTransactionTimeoutMs: 1500 })).toBe('1500ms');
    expect(await serverSetting({ connectionString: URL, idleInTransactionTimeoutMs: 0 })).toBe('0');
  });

  it('releases the locks of a session frozen in a transaction', async () => {
    const config = {
      ...resolveOptions({ connectionString: URL, idleInTransactionTimeoutMs: 300 }).clientConfig,
      max: 1,
    };
    const frozen = new pg.Client(config);
    const other = new pg.Client(config);
    frozen.on('error', () => {}); // the server ends this session on purpose
    await frozen.connect();
    await other.connect();
    try {
      await other.query('CREATE TABLE IF NOT EXISTS sluice_idle_tx_probe (id int PRIMARY KEY)');
      await other.query('INSERT INTO sluice_idle_tx_probe VALUES (1) ON CONFLICT DO NOTHING');
      await frozen.query('BEGIN');
      await frozen.query('SELECT * FROM sluice_idle_tx_probe WHERE id = 1 FOR UPDATE');
      // `frozen` now sends nothing more, like a SIGSTOPped process; the row lock is released
      // when the server ends its session, so this update completes instead of waiting forever.
      const r = await other.query('UPDATE sluice_idle_tx_probe SET id = 1 WHERE id = 1');
      expect(r.rowCount).toBe(1);
    } finally {
      await other.query('DROP TABLE IF EXISTS sluice_idle_tx_probe').catch(() => {});
      await other.end();
      await frozen.end().catch(() => {});
    }
  });
});
