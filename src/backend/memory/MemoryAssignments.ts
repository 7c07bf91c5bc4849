// The memory backend's store of published runner group assignments.
import type { Clock } from '../../core/Clock.ts';
import type { AssignmentInput, AssignmentStore, GroupAssignment } from '../AssignmentStore.ts';
import { checkName } from '../common/args.ts';
import { checkAssignment, decodeAssignment } from '../common/assignments.ts';

/** Memory {@link AssignmentStore}: one entry per name. Part of {@link MemoryBackend}. */
export class MemoryAssignments implements AssignmentStore {
  private readonly entries = new Map<string, { body: string; generation: number; publishedAt: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly ensureOpen: () => void,
  ) {}

  async generation(name: string): Promise<number> {
    this.ensureOpen();
    checkName('name', name);
    return this.entries.get(name)?.generation ?? 0;
  }

  async get(name: string): Promise<GroupAssignment | undefined> {
    this.ensureOpen();
    checkName('name', name);
    const e = this.entries.get(name);
    return e === undefined ? undefined : decodeAssignment(e.body, e.generation, e.publishedAt);
  }

  async publish(
    name: string,
    expectedGeneration: number,
    assignment: AssignmentInput,
  ): Promise<GroupAssignment | null> {
    this.ensureOpen();
    const body = checkAssignment(name, expectedGeneration, assignment);
    if ((this.entries.get(name)?.generation ?? 0) !== expectedGeneration) return null;
    const entry = { body, generation: expectedGeneration + 1, publishedAt: this.clock.now() };
    this.entries.set(name, entry);
    return decodeAssignment(body, entry.generation, entry.publishedAt);
  }
}
