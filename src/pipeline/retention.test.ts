// What a topic pipeline does when its group's committed offset was trimmed away by retention.
import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../backend/memory/index.ts';
import { isSluiceError } from '../core/errors.ts';
import { ManualClock } from '../core/ManualClock.ts';
import { stream } from './stream.ts';

async function trimmedTopic() {
  const backend = createMemoryBackend({ clock: new ManualClock(1_000) });
  await backend.ensureTopic('audit', { partitions: 1, retention: { maxEvents: 4 } });
  await backend.append(
    'audit',
    Array.from({ length: 10 }, (_, i) => ({ payload: { n: i } })),
  );
  await backend.commit('late', 'audit', 0, 2);
  await backend.trim('audit');
  return backend;
}

describe('stream.fromTopic() and retention', () => {
  it('fails the run with OFFSET_TRIMMED when the group must resume below the first available offset', async () => {
    const backend = await trimmedTopic();
    const seen: number[] = [];
    const outcome = await stream<{ n: number }>({ backend, topic: 'audit', group: 'late' })
      .process((e) => {
        seen.push(e.payload.n);
      })
      .collect()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    // The run fails (SOURCE_FAILED) and its cause is the backend's OFFSET_TRIMMED, never a silent skip.
    expect(isSluiceError(outcome)).toBe(true);
    expect((outcome as { code: string }).code).toBe('SOURCE_FAILED');
    const cause = (outcome as { cause: unknown }).cause;
    expect(isSluiceError(cause) && cause.code).toBe('OFFSET_TRIMMED');
    expect((cause as { context: unknown }).context).toEqual({
      topic: 'audit',
      partition: 0,
      requested: 2,
      firstAvailable: 6,
    });
    // Nothing was processed and the group's offset did not move.
    expect(seen).toEqual([]);
    expect(await backend.committed('late', 'audit', 0)).toBe(2);
  });

  it('resumes from the first available offset once the group is moved there on purpose', async () => {
    const backend = await trimmedTopic();
    await backend.commit('late', 'audit', 0, await backend.retention.firstOffset('audit', 0));
    const seen: number[] = [];
    await stream<{ n: number }>({ backend, topic: 'audit', group: 'late' })
      .process((e) => {
        seen.push(e.payload.n);
      })
      .checkpoint({ every: '1h' })
      .collect();
    expect(seen).toEqual([6, 7, 8, 9]);
    expect(await backend.committed('late', 'audit', 0)).toBe(10);
  });

  it('a pipeline group named in afterCommittedBy is never trimmed past', async () => {
    const backend = createMemoryBackend({ clock: new ManualClock(1_000) });
    await backend.ensureTopic('jobs', {
      partitions: 2,
      retention: { maxEvents: 1, afterCommittedBy: ['workers'] },
    });
    await backend.append(
      'jobs',
      Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, payload: i })),
    );
    const r = await backend.trim('jobs');
    expect(r.partitions.map((p) => p.removed)).toEqual([0, 0]);
    const seen: unknown[] = [];
    await stream({ backend, topic: 'jobs', group: 'workers' })
      .process((e) => {
        seen.push(e.payload);
      })
      .checkpoint({ every: '1h' })
      .collect();
    expect(seen).toHaveLength(20);
    const after = await backend.trim('jobs');
    for (const p of after.partitions)
      expect(p.firstOffset).toBe((await backend.endOffset('jobs', p.partition)) - 1);
  });
});
