// Tests of parseBackendSpec and openBackend for memory, sqlite, postgres and redis specs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  backendSpecFrom,
  DEFAULT_SQLITE_PATH,
  openBackend,
  parseBackendSpec,
  withBackend,
} from './backendSpec.ts';

describe('parseBackendSpec', () => {
  it('parses every supported form', () => {
    expect(parseBackendSpec('memory')).toEqual({ kind: 'memory' });
    expect(parseBackendSpec('sqlite')).toEqual({ kind: 'sqlite', path: DEFAULT_SQLITE_PATH });
    expect(parseBackendSpec('sqlite:')).toEqual({ kind: 'sqlite', path: DEFAULT_SQLITE_PATH });
    expect(parseBackendSpec('sqlite:data/x.db')).toEqual({ kind: 'sqlite', path: 'data/x.db' });
    expect(parseBackendSpec('sqlite:///abs/x.db')).toEqual({ kind: 'sqlite', path: '/abs/x.db' });
    expect(parseBackendSpec('postgres://u@h:5432/db')).toEqual({
      kind: 'postgres',
      url: 'postgres://u@h:5432/db',
    });
    expect(parseBackendSpec('postgresql://h/db')).toMatchObject({ kind: 'postgres' });
    expect(parseBackendSpec('redis://127.0.0.1:6379/2')).toEqual({
      kind: 'redis',
      url: 'redis://127.0.0.1:6379/2',
    });
    expect(parseBackendSpec('rediss://h')).toMatchObject({ kind: 'redis' });
    expect(parseBackendSpec('redis+cluster://127.0.0.1:7000,h2:7001')).toEqual({
      kind: 'redis-cluster',
      nodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: 'h2', port: 7001 },
      ],
    });
  });

  it('rejects anything else with CONFIG_INVALID naming the value', () => {
    for (const bad of [
      '',
      'mysql://h',
      'postgres://',
      'mem',
      'sqlite3:x',
      'redis+cluster://',
      'redis+cluster://h',
      'redis+cluster://h:0',
      'redis+cluster://h:7000,',
    ])
      expect(() => parseBackendSpec(bad)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => parseBackendSpec('mongo://x')).toThrow('got "mongo://x"');
  });

  it('takes the option, then SLUICE_BACKEND, then sqlite', () => {
    expect(backendSpecFrom('memory', { SLUICE_BACKEND: 'redis://h' })).toBe('memory');
    expect(backendSpecFrom(undefined, { SLUICE_BACKEND: 'redis://h' })).toBe('redis://h');
    expect(backendSpecFrom(undefined, {})).toBe('sqlite');
  });
});

describe('openBackend', () => {
  it('opens memory and a SQLite file in a folder it creates, and closes after withBackend', async () => {
    const m = await openBackend('memory');
    expect(m.kind).toBe('memory');
    await m.close();
    const dir = mkdtempSync(join(tmpdir(), 'sluice-spec-'));
    try {
      const spec = `sqlite:${join(dir, 'a', 'b', 'x.db')}`;
      await withBackend(spec, async (b) => {
        expect(b.kind).toBe('sqlite');
        await b.ensureTopic('t', { partitions: 2 });
      });
      expect(await withBackend(spec, async (b) => (await b.topicInfo('t'))?.partitions)).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
