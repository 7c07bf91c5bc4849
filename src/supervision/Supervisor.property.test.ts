// The local Supervisor against a small reference model of the OTP restart rules, with random crash, exit, shutdown and request sequences.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeChildren } from '../../test/fixtures/supervision/fakeChildren.ts';
import { failOnUnhandledRejections, settle } from '../../test/fixtures/supervision/harness.ts';
import { SluiceError } from '../core/errors.ts';
import { ManualClock } from '../core/ManualClock.ts';
import { Supervisor } from './Supervisor.ts';
import type { RestartType } from './types.ts';

failOnUnhandledRejections();

type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';
type Op =
  | { kind: 'crash' | 'exit' | 'shutdown' | 'terminate' | 'restart'; pick: number }
  | { kind: 'advance'; ms: number };

interface ModelChild {
  id: string;
  restart: RestartType;
  status: 'running' | 'terminated';
  restarts: number;
}

/**
 * A small reference model of the OTP rules: which children run, restart counts, intensity window
 * and the supervisor state after each step. It mirrors supervisor.erl's `do_restart`, `restart/2`
 * and `add_restart`, written independently of the implementation, including the `shutdown` exit
 * of a child supervisor that gave up (a transient child is not restarted after it).
 */
class Model {
  children: ModelChild[];
  state: 'running' | 'failed' = 'running';
  now = 0;
  total = 0;
  /** Expected `start:`/`stop:` calls on the children, in order. */
  log: string[] = [];
  private restarts: number[] = [];

  constructor(
    readonly strategy: Strategy,
    types: RestartType[],
    readonly maxRestarts: number,
    readonly withinMs: number,
  ) {
    this.children = types.map((restart, i) => ({ id: `c${i}`, restart, status: 'running', restarts: 0 }));
  }

  running(): ModelChild[] {
    return this.children.filter((c) => c.status === 'running');
  }

  /** `shutdown`: the exit of a child supervisor that gave up (OTP reason `shutdown`, not abnormal). */
  exit(c: ModelChild, how: 'normal' | 'crash' | 'shutdown'): void {
    c.status = 'terminated';
    const restart = c.restart === 'permanent' || (c.restart === 'transient' && how === 'crash');
    if (!restart) {
      if (c.restart === 'temporary') this.remove(c);
      return;
    }
    this.restarts = [...this.restarts, this.now].filter((t) => t >= this.now - this.withinMs);
    if (this.restarts.length > this.maxRestarts) {
      this.state = 'failed';
      for (const x of [...this.children].reverse()) {
        if (x.status === 'running') this.log.push(`stop:${x.id}`);
        x.status = 'terminated';
      }
      return;
    }
    this.total++;
    const i = this.children.indexOf(c);
    const group =
      this.strategy === 'one_for_one'
        ? [c]
        : this.strategy === 'one_for_all'
          ? [...this.children]
          : this.children.slice(i);
    for (const r of [...group].reverse()) {
      if (r === c) continue;
      if (r.status === 'running') this.log.push(`stop:${r.id}`);
      r.status = 'terminated';
      if (r.restart === 'temporary') this.remove(r);
    }
    for (const r of group) {
      if (r.restart === 'temporary') continue;
      this.log.push(`start:${r.id}`);
      r.status = 'running';
      r.restarts++;
    }
  }

  terminate(c: ModelChild): void {
    if (c.status === 'running') this.log.push(`stop:${c.id}`);
    c.status = 'terminated';
    if (c.restart === 'temporary') this.remove(c);
  }

  private remove(c: ModelChild): void {
    this.children = this.children.filter((x) => x !== c);
  }
}

/** What a child supervisor's `done` rejects with when it exceeded its restart intensity. */
const gaveUp = (id: string) => new SluiceError('MAX_RESTARTS_EXCEEDED', `child supervisor ${id} gave up`);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('crash' as const), pick: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('exit' as const), pick: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('shutdown' as const), pick: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('terminate' as const), pick: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), pick: fc.nat(20) }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 700 }) }),
  },
);

describe('Supervisor against a reference model of the OTP rules', () => {
  it('random crash sequences leave the same children running with the same restart counts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Strategy>('one_for_one', 'one_for_all', 'rest_for_one'),
        fc.array(fc.constantFrom<RestartType>('permanent', 'transient', 'temporary'), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 100, max: 1000 }),
        fc.array(opArb, { minLength: 1, maxLength: 25 }),
        async (strategy, types, maxRestarts, withinMs, ops) => {
          const clock = new ManualClock();
          const fakes = new FakeChildren();
          const model = new Model(strategy, types, maxRestarts, withinMs);
          const sup = await Supervisor.start({
            strategy,
            clock,
            restartIntensity: { maxRestarts, withinMs },
            children: types.map((t, i) => fakes.spec(`c${i}`, t)),
          });
          fakes.take();
          const observe = () => ({
            log: fakes.take(),
            state: sup.state,
            total: sup.stats().totalRestarts,
            children: sup.whichChildren().map((c) => ({
              id: c.id,
              status: c.status,
              restarts: c.restarts,
              alive: fakes.running(c.id),
            })),
          });
          const expected = () => ({
            log: model.log.splice(0, model.log.length),
            state: model.state,
            total: model.total,
            children: model.children.map((c) => ({
              id: c.id,
              status: c.status,
              restarts: c.restarts,
              alive: c.status === 'running',
            })),
          });
          for (const op of ops) {
            if (model.state !== 'running') break;
            if (op.kind === 'advance') {
              await clock.advance(op.ms);
              model.now += op.ms;
            } else if (op.kind === 'crash' || op.kind === 'exit' || op.kind === 'shutdown') {
              const live = model.running();
              const c = live[op.pick % Math.max(1, live.length)];
              if (!c) continue;
              if (op.kind === 'crash') fakes.crash(c.id);
              else if (op.kind === 'shutdown') fakes.crash(c.id, gaveUp(c.id));
              else fakes.exit(c.id);
              model.exit(c, op.kind === 'exit' ? 'normal' : op.kind);
            } else if (op.kind === 'terminate') {
              const c = model.children[op.pick % Math.max(1, model.children.length)];
              if (!c) continue;
              await sup.terminateChild(c.id);
              model.terminate(c);
            } else {
              const c = model.children[op.pick % Math.max(1, model.children.length)];
              if (!c) continue;
              if (c.status === 'terminated') {
                await sup.restartChild(c.id);
                c.status = 'running';
                model.log.push(`start:${c.id}`);
              } else {
                await expect(sup.restartChild(c.id)).rejects.toMatchObject({ code: 'INVALID_STATE' });
              }
            }
            await settle(sup);
            expect(observe()).toEqual(expected());
          }
          await sup.stop();
          expect(fakes.log.filter((l) => l.startsWith('kill:'))).toEqual([]);
          for (const c of sup.whichChildren()) expect(fakes.running(c.id)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});
