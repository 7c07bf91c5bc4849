// Tests of mapPgError: which pg and network errors become BACKEND_UNAVAILABLE, AUTH_FAILED, CONFIG_INVALID or TIMEOUT.
import { describe, expect, it } from 'vitest';
import { isSluiceError, SluiceError } from '../../core/errors.ts';
import { notificationPayloads } from './PgConnection.ts';
import { isConnectionError, mapPgError } from './pgErrors.ts';

function withCode(code: string, message = 'x'): Error {
  return Object.assign(new Error(message), { code });
}

describe('mapPgError', () => {
  it.each([
    ['ECONNREFUSED', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['ECONNRESET', withCode('ECONNRESET')],
    ['57P01 admin shutdown', withCode('57P01', 'terminating connection due to administrator command')],
    ['57P03 starting up', withCode('57P03', 'the database system is starting up')],
    ['08006 connection failure', withCode('08006')],
    ['53300 too many connections', withCode('53300')],
    ['40P01 deadlock', withCode('40P01')],
    ['driver: terminated', new Error('Connection terminated unexpectedly')],
    ['driver: pool timeout', new Error('timeout exceeded when trying to connect')],
    ['driver: read timeout', new Error('Query read timeout')],
  ])('%s → BACKEND_UNAVAILABLE, retryable, with the cause', (_name, cause) => {
    const e = mapPgError(cause, 'append');
    expect(isSluiceError(e)).toBe(true);
    const err = e as SluiceError;
    expect(err.code).toBe('BACKEND_UNAVAILABLE');
    expect(err.retryable).toBe(true);
    expect(err.cause).toBe(cause);
    expect(err.message).toBe(`The postgres backend is unavailable during append: ${cause.message}`);
    expect(err.context).toEqual({ kind: 'postgres', what: 'append' });
    const named = mapPgError(cause, 'append', 'db.example:5433/app') as SluiceError;
    expect(named.message).toBe(
      `The postgres backend at db.example:5433/app is unavailable during append: ${cause.message}`,
    );
  });

  it('a statement timeout is TIMEOUT (retryable)', () => {
    const e = mapPgError(
      withCode('57014', 'canceling statement due to statement timeout'),
      'read',
    ) as SluiceError;
    expect(e.code).toBe('TIMEOUT');
    expect(e.retryable).toBe(true);
  });

  it('a NUL in text is CONFIG_INVALID', () => {
    const e = mapPgError(withCode('22021', 'invalid byte sequence for encoding "UTF8": 0x00'), 'append');
    expect((e as SluiceError).code).toBe('CONFIG_INVALID');
    expect((e as SluiceError).retryable).toBe(false);
  });

  it('passes Sluice errors and statement errors through unchanged', () => {
    const fenced = new SluiceError('FENCED', 'no');
    expect(mapPgError(fenced, 'commit')).toBe(fenced);
    const dup = withCode('23505', 'duplicate key');
    expect(mapPgError(dup, 'append')).toBe(dup);
    const syntax = withCode('42601', 'syntax error');
    expect(mapPgError(syntax, 'read')).toBe(syntax);
  });

  it('only connection-level failures mark a connection as broken', () => {
    expect(isConnectionError(withCode('ECONNREFUSED'))).toBe(true);
    expect(isConnectionError(withCode('08003'))).toBe(true);
    expect(isConnectionError(withCode('57P01'))).toBe(true);
    expect(isConnectionError(withCode('40P01'))).toBe(false);
    expect(isConnectionError(withCode('23505'))).toBe(false);
    expect(isConnectionError('Connection terminated')).toBe(false);
    expect(isConnectionError(null)).toBe(false);
  });
});

describe('notificationPayloads', () => {
  it('lists the partitions then the topic after the first colon', () => {
    expect(notificationPayloads('or:ders', [0, 3, 7])).toEqual(['0,3,7:or:ders']);
  });

  it('splits many partitions into payloads under the 8000-byte limit', () => {
    const parts = Array.from({ length: 5000 }, (_, i) => i);
    const payloads = notificationPayloads('t', parts);
    expect(payloads.length).toBeGreaterThan(1);
    for (const p of payloads) {
      expect(Buffer.byteLength(p)).toBeLessThan(8000);
      expect(p.endsWith(':t')).toBe(true);
    }
    const back = payloads.flatMap((p) => p.slice(0, p.indexOf(':')).split(',').map(Number));
    expect(back).toEqual(parts);
  });

  it('announces nothing for a topic name too long for a notification', () => {
    expect(notificationPayloads('x'.repeat(8000), [1])).toEqual([]);
  });
});
