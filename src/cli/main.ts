// The `sluice` command-line program: sub-commands, one-line errors, signals and broken pipes.
import { Command, CommanderError } from 'commander';
import { commands } from './commands/index.ts';
import { EXIT_CODES } from './drain.ts';
import { describeError, describeErrorVerbose } from './formatError.ts';
import { stopWhenLauncherDies } from './parentWatch.ts';

/** Exit code after the reader of stdout went away (`sluice dlq ls | head`): 128 + SIGPIPE. */
const EXIT_BROKEN_PIPE = 141;

/** Builds the `sluice` command-line program. */
export function buildProgram(): Command {
  const program = new Command('sluice')
    .description('Partitioned, supervised, parallel processing of jobs and event streams')
    .version('0.1.0')
    .option('--verbose', 'print the stack trace (and causes) of an error')
    .showHelpAfterError()
    // Usage errors (unknown option, missing argument) exit 2, help and --version 0: see main below.
    .exitOverride();
  for (const register of commands) register(program);
  return program;
}

const verbose = process.argv.includes('--verbose') || process.env.SLUICE_VERBOSE === '1';

/** Prints the error of a failed command as one line (the stack with `--verbose`). */
function report(e: unknown): void {
  process.stderr.write(`sluice: ${describeError(e)}\n`);
  if (verbose) process.stderr.write(`${describeErrorVerbose(e)}\n`);
}

// `sluice ... | head`: the reader left; stop quietly instead of printing an EPIPE stack.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT_BROKEN_PIPE);
    throw e;
  });
}
process.on('uncaughtException', (e) => {
  report(e);
  process.exit(1);
});
stopWhenLauncherDies();

try {
  await buildProgram().parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // commander already printed its message (or the help).
    process.exitCode = e.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
  } else {
    report(e);
    process.exitCode = EXIT_CODES.error;
  }
}
