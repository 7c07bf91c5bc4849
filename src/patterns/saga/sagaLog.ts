// A saga definition's event log in a backend topic: creating the topic, appending events idempotently, rebuilding one or all sagas.
import type { Backend, LogEvent } from '../../backend/Backend.ts';
import { throwIfAborted } from '../../core/errors.ts';
import { partitionForKey } from '../../core/hash.ts';
import { applySagaEvent, foldSagaEvents, type SagaEvent, type SagaState, sagaEventId } from './sagaState.ts';

const PAGE = 500;

/** The log topic of one saga definition, keyed by saga id. */
export class SagaLog {
  private topicReady: Promise<number> | undefined;

  constructor(
    private readonly backend: Backend,
    readonly topic: string,
    private readonly partitions: number,
  ) {}

  /** Creates the topic on first use (again after a failure); resolves with its partition count. */
  ensureTopic(): Promise<number> {
    this.topicReady ??= this.backend.ensureTopic(this.topic, { partitions: this.partitions }).then(
      (info) => info.partitions,
      (e: unknown) => {
        this.topicReady = undefined;
        throw e;
      },
    );
    return this.topicReady;
  }

  /** Appends an event (idempotently by its deterministic id) and applies it to the state. */
  async record(state: SagaState | undefined, e: SagaEvent): Promise<SagaState | undefined> {
    const id = sagaEventId(e);
    const ev = id === undefined ? { key: e.sagaId, payload: e } : { key: e.sagaId, id, payload: e };
    await this.backend.append(this.topic, [ev]);
    return applySagaEvent(state, e);
  }

  /** Rebuilds one saga from its partition of the log. */
  async load(id: string): Promise<SagaState | undefined> {
    const partitions = await this.ensureTopic();
    const p = partitionForKey(id, partitions);
    const mine: LogEvent[] = [];
    for (let offset = 0; ; ) {
      const page = await this.backend.read(this.topic, p, offset, PAGE);
      for (const ev of page) if (ev.key === id) mine.push(ev);
      offset += page.length;
      if (page.length < PAGE) break;
    }
    return foldSagaEvents(mine).get(id);
  }

  /** Rebuilds every saga in the log, partition by partition. */
  async loadAll(signal: AbortSignal | undefined): Promise<Map<string, SagaState>> {
    const partitions = await this.ensureTopic();
    const states = new Map<string, SagaState>();
    for (let p = 0; p < partitions; p++) {
      for (let offset = 0; ; ) {
        throwIfAborted(signal, 'saga recovery');
        const page = await this.backend.read(this.topic, p, offset, PAGE);
        foldSagaEvents(page, states);
        offset += page.length;
        if (page.length < PAGE) break;
      }
    }
    return states;
  }
}
