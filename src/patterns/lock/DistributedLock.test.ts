// The DistributedLock suite on the memory backend with a ManualClock, and tests of option validation.
import { describe, expect, it } from 'vitest';
import { distributedLockSuite } from '../../../test/fixtures/patterns/lockSuite.ts';
import { createMemoryBackend } from '../../backend/memory/MemoryBackend.ts';
import { ManualClock } from '../../core/ManualClock.ts';
import { DistributedLock } from './DistributedLock.ts';

distributedLockSuite('memory', async () => {
  const clock = new ManualClock(1_700_000_000_000);
  return { backend: createMemoryBackend({ clock }), clock, cleanup: async () => {} };
});

describe('DistributedLock options', () => {
  const backend = createMemoryBackend();
  it('rejects invalid options with CONFIG_INVALID naming the field', () => {
    expect(() => new DistributedLock({ backend, name: '', ttl: 1000 })).toThrow(/`DistributedLock\.name`/);
    expect(() => new DistributedLock({ backend, name: 'L', ttl: 'soon' })).toThrow(/`DistributedLock\.ttl`/);
    expect(() => new DistributedLock({ backend, name: 'L', ttl: 1 })).toThrow(/`DistributedLock\.ttl`/);
    expect(() => new DistributedLock({ backend: {} as never, name: 'L', ttl: 1000 })).toThrow(
      /`DistributedLock\.backend`/,
    );
  });

  it('rejects an invalid wait with CONFIG_INVALID', async () => {
    const lock = new DistributedLock({ backend, name: 'L', ttl: 1000 });
    await expect(lock.acquire({ wait: 'later' as never })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
