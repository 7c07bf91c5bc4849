// The Redis backend's store of published runner group assignments (one hash per name) and its commitMany.
import type { Clock } from '../../core/Clock.ts';
import type { AssignmentInput, AssignmentStore, GroupAssignment } from '../AssignmentStore.ts';
import type { CommitOutcome, CommitRequest } from '../Backend.ts';
import { checkName } from '../common/args.ts';
import { checkAssignment, decodeAssignment } from '../common/assignments.ts';
import { checkCommitRequests } from '../common/batchArgs.ts';
import { offsetField } from './keys.ts';
import type { RedisConnection } from './RedisConnection.ts';

/** Redis {@link AssignmentStore}: `HGET gen` for the generation, a script for the publish. Part of {@link RedisBackend}. */
export class RedisAssignments implements AssignmentStore {
  constructor(
    private readonly conn: RedisConnection,
    private readonly clock: Clock,
  ) {}

  generation(name: string): Promise<number> {
    return this.conn.run('assignments.generation', async () => {
      checkName('name', name);
      return Number((await this.conn.client.hget(this.conn.keys.assignment(name), 'gen')) ?? 0);
    });
  }

  get(name: string): Promise<GroupAssignment | undefined> {
    return this.conn.run('assignments.get', async () => {
      checkName('name', name);
      const [gen, body, at] = await this.conn.client.hmget(
        this.conn.keys.assignment(name),
        'gen',
        'body',
        'at',
      );
      return gen == null || body == null ? undefined : decodeAssignment(body, Number(gen), Number(at));
    });
  }

  publish(
    name: string,
    expectedGeneration: number,
    assignment: AssignmentInput,
  ): Promise<GroupAssignment | null> {
    return this.conn.run('assignments.publish', async () => {
      const body = checkAssignment(name, expectedGeneration, assignment);
      const now = this.clock.now();
      const ok = await this.conn.script(
        'sluiceAssignmentPublish',
        [this.conn.keys.assignment(name)],
        [expectedGeneration, body, now],
      );
      return ok === 1 ? decodeAssignment(body, expectedGeneration + 1, now) : null;
    });
  }
}

/** `Backend.commitMany` of the Redis backend: one script for every commit of the list. */
export function redisCommitMany(
  conn: RedisConnection,
  clock: Clock,
  group: string,
  topic: string,
  commits: readonly CommitRequest[],
): Promise<CommitOutcome[]> {
  return conn.run('commitMany', async () => {
    checkName('group', group);
    checkName('topic', topic);
    checkCommitRequests(commits);
    if (commits.length === 0) return [];
    const k = conn.keys;
    const keys = [k.offsets(group)];
    const args: (string | number)[] = [clock.now()];
    for (const c of commits) {
      keys.push(c.fence === undefined ? k.offsets(group) : k.lease(c.fence.lease));
      args.push(
        offsetField(topic, c.partition),
        c.offset,
        c.fence === undefined ? '0' : '1',
        String(c.fence?.token ?? ''),
      );
    }
    const reply = (await conn.script('sluiceCommitMany', keys, args)) as number[];
    return commits.map((_, i) => (reply[i] === 1 ? 'ok' : 'fenced'));
  });
}
