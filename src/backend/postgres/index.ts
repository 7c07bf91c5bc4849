// Public exports of the PostgreSQL backend (`sluice/postgres`).
/**
 * The PostgreSQL backend: `import { createPostgresBackend } from 'sluice/postgres'`.
 * @packageDocumentation
 */
export { PG_MIGRATIONS, type PgMigration } from './migrations.ts';
export type { PostgresBackendOptions } from './options.ts';
export type { PgListenerState } from './PgListener.ts';
export { createPostgresBackend, PostgresBackend, type PostgresBackendState } from './PostgresBackend.ts';
