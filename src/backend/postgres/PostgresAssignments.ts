// The PostgreSQL backend's store of published runner group assignments (table assignments).
import type { AssignmentInput, AssignmentStore, GroupAssignment } from '../AssignmentStore.ts';
import { checkName } from '../common/args.ts';
import { checkAssignment, decodeAssignment } from '../common/assignments.ts';
import type { PgConnection } from './PgConnection.ts';

interface AssignmentRow {
  generation: string;
  body: string;
  published_at: string;
}

/**
 * PostgreSQL {@link AssignmentStore}: one row per name. Reading the generation is a primary key
 * lookup of one column; a publish is one statement whose `WHERE` compares the stored generation.
 * Part of {@link PostgresBackend}.
 */
export class PostgresAssignments implements AssignmentStore {
  constructor(private readonly conn: PgConnection) {}

  async generation(name: string): Promise<number> {
    checkName('name', name);
    const { rows } = await this.conn.query<{ generation: string }>(
      'assignments.generation',
      `SELECT generation FROM ${this.conn.s}.assignments WHERE name = $1`,
      [name],
    );
    return Number(rows[0]?.generation ?? 0);
  }

  async get(name: string): Promise<GroupAssignment | undefined> {
    checkName('name', name);
    const { rows } = await this.conn.query<AssignmentRow>(
      'assignments.get',
      `SELECT generation, body, published_at FROM ${this.conn.s}.assignments WHERE name = $1`,
      [name],
    );
    const row = rows[0];
    return row === undefined
      ? undefined
      : decodeAssignment(row.body, Number(row.generation), Number(row.published_at));
  }

  async publish(
    name: string,
    expectedGeneration: number,
    assignment: AssignmentInput,
  ): Promise<GroupAssignment | null> {
    const body = checkAssignment(name, expectedGeneration, assignment);
    const now = this.conn.clock.now();
    // Generation 0 means "no row yet": only the insert can succeed; otherwise only the update
    // of the row still at the expected generation. One statement either way.
    const { rows } =
      expectedGeneration === 0
        ? await this.conn.query(
            'assignments.publish',
            `INSERT INTO ${this.conn.s}.assignments (name, generation, body, published_at)
             VALUES ($1, 1, $2, $3) ON CONFLICT (name) DO NOTHING RETURNING generation`,
            [name, body, now],
            undefined,
            false,
          )
        : await this.conn.query(
            'assignments.publish',
            `UPDATE ${this.conn.s}.assignments SET generation = generation + 1, body = $3, published_at = $4
             WHERE name = $1 AND generation = $2 RETURNING generation`,
            [name, expectedGeneration, body, now],
            undefined,
            false,
          );
    return rows.length === 0 ? null : decodeAssignment(body, expectedGeneration + 1, now);
  }
}
