// The list of `sluice` sub-commands, in help order; each registers itself on the program.
import type { Command } from 'commander';
import { register as batch } from './batch.ts';
import { register as dashboard } from './dashboard.ts';
import { register as demo } from './demo.ts';
import { register as dlq } from './dlq.ts';
import { register as run } from './run.ts';
import { register as runner } from './runner.ts';
import { register as scale } from './scale.ts';
import { register as schedules } from './schedules.ts';
import { register as status } from './status.ts';
import { register as supervisor } from './supervisor.ts';
import { register as topics } from './topics.ts';

/** A CLI sub-command: adds itself to the program. One file per command in this folder. */
export type RegisterCommand = (program: Command) => void;

/** Every sub-command of `sluice`, in help order. */
export const commands: RegisterCommand[] = [
  demo,
  run,
  batch,
  dlq,
  status,
  dashboard,
  runner,
  scale,
  supervisor,
  topics,
  schedules,
];
