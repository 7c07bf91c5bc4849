// Dropping a PostgreSQL client whose call missed its deadline: its socket is destroyed so pending statements fail and the pool never reuses it.
import type pg from 'pg';

/**
 * Destroys the socket of a client that hung: pending statements reject ("Connection
 * terminated"), so the code holding the client releases it as broken and the pool drops it.
 */
export function destroyHungClient(client: pg.PoolClient | undefined): void {
  const stream = (client as { connection?: { stream?: { destroy?: () => void } } } | undefined)?.connection
    ?.stream;
  stream?.destroy?.();
}
