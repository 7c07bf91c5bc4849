// The memory backend's dead-letter queue, payloads kept as JSON text so reads return fresh copies.
import type { Clock } from '../../core/Clock.ts';
import type {
  AppendInput,
  AppendResult,
  DeadLetter,
  DeadLetterInput,
  DlqFilter,
  DlqStore,
  TopicInfo,
} from '../Backend.ts';
import { checkDlqFilter, checkName, prepareDeadLetter } from '../common/args.ts';
import {
  buildDeadLetter,
  compareDeadLetters,
  matchesDlqFilter,
  pageDeadLetters,
  replayEvent,
} from '../common/deadLetters.ts';
import { topicNotFound } from '../common/errors.ts';

/** A stored dead letter: payload and error kept as JSON text so reads return fresh copies. */
interface LetterRow {
  id: string;
  source: string;
  topic: string | undefined;
  partition: number | undefined;
  offset: number | undefined;
  key: string | undefined;
  payload: string;
  error: string;
  attempts: number;
  deliveryCount: number;
  firstFailedAt: number;
  lastFailedAt: number;
}

/** What the DLQ needs from the log to replay entries (synchronously, so each replay is atomic). */
export interface ReplayTarget {
  topicInfoSync(topic: string): TopicInfo | undefined;
  appendSync(topic: string, events: readonly AppendInput[]): AppendResult[];
}

/** In-memory {@link DlqStore}. Part of {@link MemoryBackend}. */
export class MemoryDlq implements DlqStore {
  private readonly rows = new Map<string, LetterRow>();

  constructor(
    private readonly clock: Clock,
    private readonly ensureOpen: () => void,
    private readonly log: ReplayTarget,
  ) {}

  async put(entry: DeadLetterInput): Promise<DeadLetter> {
    this.ensureOpen();
    const e = prepareDeadLetter(entry);
    const now = this.clock.now();
    const row = this.rows.get(e.id);
    if (row !== undefined) {
      row.error = e.error;
      row.attempts = e.attempts;
      row.deliveryCount += 1;
      row.lastFailedAt = now;
      return buildDeadLetter(row);
    }
    const fresh: LetterRow = { ...e, deliveryCount: 1, firstFailedAt: now, lastFailedAt: now };
    this.rows.set(e.id, fresh);
    return buildDeadLetter(fresh);
  }

  async list(filter?: DlqFilter): Promise<DeadLetter[]> {
    this.ensureOpen();
    const f = checkDlqFilter(filter);
    const sorted = this.matching(f).sort(compareDeadLetters);
    const cursor = f.after === undefined ? undefined : this.rows.get(f.after);
    return pageDeadLetters(sorted, f, cursor).map(buildDeadLetter);
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    this.ensureOpen();
    const row = this.rows.get(id);
    return row === undefined ? undefined : buildDeadLetter(row);
  }

  async count(filter?: DlqFilter): Promise<number> {
    this.ensureOpen();
    return this.matching(checkDlqFilter(filter)).length;
  }

  async replay(filter: DlqFilter, options: { toTopic?: string } = {}): Promise<string[]> {
    this.ensureOpen();
    const f = checkDlqFilter(filter);
    const toTopic = options.toTopic === undefined ? undefined : checkName('toTopic', options.toTopic);
    if (toTopic !== undefined && this.log.topicInfoSync(toTopic) === undefined) throw topicNotFound(toTopic);
    const replayed: string[] = [];
    for (const row of this.matching(f).sort(compareDeadLetters)) {
      const target = toTopic ?? row.topic;
      if (target === undefined) continue;
      const info = this.log.topicInfoSync(target);
      if (info === undefined) continue;
      this.log.appendSync(target, [replayEvent(buildDeadLetter(row), info.partitions)]);
      this.rows.delete(row.id);
      replayed.push(row.id);
    }
    return replayed;
  }

  async purge(filter?: DlqFilter): Promise<number> {
    this.ensureOpen();
    const f = checkDlqFilter(filter);
    const victims = this.matching(f);
    for (const row of victims) this.rows.delete(row.id);
    return victims.length;
  }

  /** Rows matching the source/topic/ids filter; looks ids up directly when given. */
  private matching(f: DlqFilter): LetterRow[] {
    const out: LetterRow[] = [];
    if (f.ids !== undefined) {
      for (const id of new Set(f.ids)) {
        const row = this.rows.get(id);
        if (row !== undefined && matchesDlqFilter(row, f)) out.push(row);
      }
      return out;
    }
    for (const row of this.rows.values()) if (matchesDlqFilter(row, f)) out.push(row);
    return out;
  }
}
