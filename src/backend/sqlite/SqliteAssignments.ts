// The SQLite backend's store of published runner group assignments (table sluice_assignments).
import type { AssignmentInput, AssignmentStore, GroupAssignment } from '../AssignmentStore.ts';
import { checkName } from '../common/args.ts';
import { checkAssignment, decodeAssignment } from '../common/assignments.ts';
import type { SqliteConnection } from './SqliteConnection.ts';

interface AssignmentRow {
  generation: number;
  body: string;
  published_at: number;
}

/** SQLite {@link AssignmentStore}: one row per name; a publish is one IMMEDIATE transaction. Part of {@link SqliteBackend}. */
export class SqliteAssignments implements AssignmentStore {
  constructor(private readonly conn: SqliteConnection) {}

  generation(name: string): Promise<number> {
    return this.conn.run('assignments.generation', () => {
      checkName('name', name);
      const row = this.conn.stmt('SELECT generation FROM sluice_assignments WHERE name = ?').get(name) as
        | { generation: number }
        | undefined;
      return row?.generation ?? 0;
    });
  }

  get(name: string): Promise<GroupAssignment | undefined> {
    return this.conn.run('assignments.get', () => {
      checkName('name', name);
      const row = this.conn
        .stmt('SELECT generation, body, published_at FROM sluice_assignments WHERE name = ?')
        .get(name) as AssignmentRow | undefined;
      return row === undefined ? undefined : decodeAssignment(row.body, row.generation, row.published_at);
    });
  }

  publish(
    name: string,
    expectedGeneration: number,
    assignment: AssignmentInput,
  ): Promise<GroupAssignment | null> {
    return this.conn.run('assignments.publish', () => {
      const body = checkAssignment(name, expectedGeneration, assignment);
      const now = this.conn.clock.now();
      return this.conn.write(() => {
        const row = this.conn.stmt('SELECT generation FROM sluice_assignments WHERE name = ?').get(name) as
          | { generation: number }
          | undefined;
        if ((row?.generation ?? 0) !== expectedGeneration) return null;
        this.conn
          .stmt(
            `INSERT INTO sluice_assignments (name, generation, body, published_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET generation = excluded.generation, body = excluded.body,
               published_at = excluded.published_at`,
          )
          .run(name, expectedGeneration + 1, body, now);
        return decodeAssignment(body, expectedGeneration + 1, now);
      });
    });
  }
}
