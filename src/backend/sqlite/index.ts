// Public exports of the SQLite backend (`sluice/sqlite`).
/**
 * The SQLite backend: `import { createSqliteBackend } from 'sluice/sqlite'`.
 * @packageDocumentation
 */
export { MIGRATIONS, type Migration } from './migrations.ts';
export { createSqliteBackend, SqliteBackend, type SqliteBackendOptions } from './SqliteBackend.ts';
