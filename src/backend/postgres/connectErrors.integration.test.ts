// Connection and login failures against a real server name the host, port and database in one line.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SluiceError } from '../../core/errors.ts';
import { createPostgresBackend } from './PostgresBackend.ts';

const HOST = process.env.PGHOST_TEST ?? '127.0.0.1';

/** A TCP server that accepts connections and never answers (a hung PostgreSQL). */
let silent: Server;
const sockets: Socket[] = [];
let silentPort = 0;
beforeAll(async () => {
  silent = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as { port: number }).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => silent.close(r));
});

async function failure(p: Promise<unknown>): Promise<SluiceError> {
  try {
    await p;
  } catch (e) {
    return e as SluiceError;
  }
  throw new Error('expected a rejection');
}

describe('PostgreSQL connection errors', () => {
  it('an unknown role is AUTH_FAILED naming host:port/database, not a raw pg error', async () => {
    const e = await failure(
      createPostgresBackend({
        connectionString: `postgres://nobody@${HOST}:5432/test`,
        schema: 'unused_auth',
      }),
    );
    expect(e.code).toBe('AUTH_FAILED');
    expect(e.retryable).toBe(false);
    expect(e.message).toBe(
      `The postgres server at ${HOST}:5432/test refused the login: role "nobody" does not exist`,
    );
  });

  it('a missing database is CONFIG_INVALID naming it', async () => {
    const e = await failure(
      createPostgresBackend({
        connectionString: `postgres://postgres@${HOST}:5432/no_such_db_sluice`,
        schema: 'unused_db',
      }),
    );
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain(`${HOST}:5432/no_such_db_sluice`);
    expect(e.message).toContain('does not exist');
  });

  it('a connection timeout is BACKEND_UNAVAILABLE naming host and port', async () => {
    const e = await failure(
      createPostgresBackend({
        connectionString: `postgres://postgres@127.0.0.1:${silentPort}/test`,
        connectionTimeoutMs: 300,
        schema: 'unused_timeout',
      }),
    );
    expect(e.code).toBe('BACKEND_UNAVAILABLE');
    expect(e.message).toMatch(
      new RegExp(
        `^The postgres backend at 127\\.0\\.0\\.1:${silentPort}/test is unavailable during ready: .*timeout`,
      ),
    );
    expect(e.context).toMatchObject({ endpoint: `127.0.0.1:${silentPort}/test` });
  });
});
