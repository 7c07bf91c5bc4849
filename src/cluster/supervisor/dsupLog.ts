// The control log of a DistributedSupervisor (topic `sluice.dsup.<name>`): append records, read them into the model in order.
import type { Backend } from '../../backend/Backend.ts';
import { DsupModel } from './DsupModel.ts';
import type { DistributedLifecycleEvent, DsupRecord, NormalizedDistributedChild } from './dsupTypes.ts';

/** Reads and appends a supervisor's control log, keeping its {@link DsupModel} current. @internal */
export class ControlLog {
  /** The model of the current generation. */
  model: DsupModel;
  private generation = 0;
  private offset = 0;
  private reading: Promise<void> = Promise.resolve();

  constructor(
    private readonly backend: Backend,
    readonly topic: string,
    private readonly staticChildren: readonly NormalizedDistributedChild[],
    /** Called with the events each record means, then once per batch read. */
    private readonly onEvent: (event: DistributedLifecycleEvent) => void,
    private readonly onBatch: () => void,
  ) {
    this.model = new DsupModel(staticChildren);
  }

  /** Creates the topic when missing. */
  async open(): Promise<void> {
    await this.backend.ensureTopic(this.topic, { partitions: 1 });
  }

  /** Appends a record and reads the log up to it. */
  async append(rec: DsupRecord): Promise<void> {
    await this.backend.append(this.topic, [{ partition: 0, payload: rec }]);
    await this.read();
  }

  /**
   * Begins a new generation after a stopped one (the event id makes concurrent starters append
   * it once): the model starts again from the static children.
   */
  async nextGeneration(at: number): Promise<void> {
    const n = this.generation + 1;
    const payload: DsupRecord = { t: 'generation', n, at };
    await this.backend.append(this.topic, [{ id: `generation-${n}`, partition: 0, payload }]);
    await this.read();
  }

  /** Reads from where this node stopped, applying records (one reader at a time). */
  read(): Promise<void> {
    const run = this.reading.then(() => this.readNow());
    this.reading = run.catch(() => {});
    return run;
  }

  private async readNow(): Promise<void> {
    for (;;) {
      const events = await this.backend.read(this.topic, 0, this.offset, 500);
      if (events.length === 0) return;
      for (const e of events) {
        this.offset = e.offset + 1;
        const rec = e.payload as DsupRecord;
        if (rec.t === 'generation') {
          if (rec.n === this.generation + 1) {
            this.generation = rec.n;
            this.model = new DsupModel(this.staticChildren);
          }
          continue;
        }
        for (const ev of this.model.apply(rec)) this.onEvent(ev);
      }
      this.onBatch();
    }
  }
}
