// The dashboard's DLQ endpoints beyond paging: entries of one key, and a bulk replay by key or ids.
import type { Backend, DeadLetter } from '../backend/Backend.ts';

/** Dead letters scanned at most to find the entries of one key (the DLQ has no key index). */
export const KEY_SCAN_LIMIT = 10_000;

/** Entries with `key` among the first {@link KEY_SCAN_LIMIT} dead letters, oldest first. */
export async function deadLettersOfKey(
  backend: Backend,
  key: string,
  limit: number,
): Promise<{ entries: DeadLetter[]; matched: number; scanned: number; truncated: boolean }> {
  const entries: DeadLetter[] = [];
  let matched = 0;
  let scanned = 0;
  let after: string | undefined;
  for (;;) {
    const page = await backend.dlq.list(after === undefined ? { limit: 1000 } : { limit: 1000, after });
    for (const e of page) {
      if (e.key !== key) continue;
      matched++;
      if (entries.length < limit) entries.push(e);
    }
    scanned += page.length;
    if (page.length < 1000 || scanned >= KEY_SCAN_LIMIT) {
      return { entries, matched, scanned, truncated: page.length === 1000 };
    }
    after = page[page.length - 1]?.id;
  }
}

/**
 * Replays the dead letters with `key` (found by {@link deadLettersOfKey}) or with the given ids.
 * Entries without a topic stay (no `toTopic`). Returns the replayed ids.
 */
export async function bulkReplay(
  backend: Backend,
  what: { key?: string; ids?: readonly string[] },
  toTopic: string | undefined,
): Promise<string[]> {
  let ids = what.ids ?? [];
  if (what.key !== undefined) {
    const { entries } = await deadLettersOfKey(backend, what.key, KEY_SCAN_LIMIT);
    ids = entries.map((e) => e.id);
  }
  if (ids.length === 0) return [];
  return backend.dlq.replay({ ids }, toTopic === undefined ? {} : { toTopic });
}
