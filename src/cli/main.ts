import { Command } from 'commander';
import { isSluiceError } from '../core/errors.ts';
import { commands } from './commands/index.ts';

/** Builds the `sluice` command-line program. */
export function buildProgram(): Command {
  const program = new Command('sluice')
    .description('Partitioned, supervised, parallel processing of jobs and event streams')
    .version('0.1.0')
    .showHelpAfterError();
  for (const register of commands) register(program);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (e) {
  if (isSluiceError(e)) {
    process.stderr.write(`sluice: ${e.code}: ${e.message}\n`);
  } else {
    process.stderr.write(`sluice: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  }
  process.exitCode = 1;
}
