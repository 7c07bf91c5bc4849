// SQLite retention specifics: migration 2 over a file at version 1 that holds events and markers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/ManualClock.ts';
import { MIGRATIONS } from './migrations.ts';
import { createSqliteBackend } from './SqliteBackend.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-sqlite-retention-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SQLite retention', () => {
  it('migration 2 upgrades a file at version 1 that holds events and markers', async () => {
    const path = join(dir, 'v1.db');
    const db = new BetterSqlite3(path);
    db.exec(
      `CREATE TABLE sluice_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
    );
    db.exec(MIGRATIONS[0]!.up);
    db.prepare('INSERT INTO sluice_migrations VALUES (1, ?, 0)').run(MIGRATIONS[0]!.name);
    db.exec(`INSERT INTO sluice_topics (topic_id, name, partitions, created_at) VALUES (1, 't', 1, 0);
      INSERT INTO sluice_partitions VALUES (1, 0, 4);
      INSERT INTO sluice_events (topic_id, partition_index, event_offset, id, payload, ts)
        VALUES (1, 0, 0, 'a', '1', 0), (1, 0, 1, 'b', '2', 0), (1, 0, 2, 'c', '3', 0), (1, 0, 3, 'd', '4', 0);
      INSERT INTO sluice_processed VALUES ('g', 'old-marker', 0);`);
    db.close();
    const b = createSqliteBackend({ path, clock: new ManualClock(1000) });
    try {
      expect(await b.retention.get('t')).toBeNull();
      expect(await b.retention.firstOffset('t', 0)).toBe(0);
      await b.setRetention('t', { maxEvents: 1 });
      await b.commit('g', 't', 0, 4);
      const r = await b.trim('t');
      expect(r).toEqual({
        topic: 't',
        partitions: [{ partition: 0, firstOffset: 3, removed: 3 }],
        markersRemoved: 0,
      });
      expect((await b.read('t', 0, 3, 5)).map((e) => e.id)).toEqual(['d']);
      // A marker written before the upgrade has no offset: it is kept.
      expect([...(await b.processed('g', ['old-marker']))]).toEqual(['old-marker']);
    } finally {
      await b.close();
    }
  });
});
