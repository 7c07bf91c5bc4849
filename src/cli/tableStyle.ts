// Colours of the CLI's tables: bold headers on a terminal, no ANSI codes otherwise or with NO_COLOR.
import Table from 'cli-table3';

/**
 * Whether stdout gets ANSI colours: a terminal, `NO_COLOR` unset or empty (https://no-color.org),
 * `TERM` not `dumb`; `FORCE_COLOR` (non-empty, not `0`) turns them on anywhere.
 */
export function useColor(
  env: NodeJS.ProcessEnv = process.env,
  isTTY = process.stdout.isTTY === true,
): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY && env.TERM !== 'dumb';
}

const bold = (s: string) => `\u001b[1m${s}\u001b[22m`;

/**
 * A cli-table3 table for CLI output. Headers are bold (never cli-table3's default red, which reads
 * as an error) when {@link useColor} says so, plain otherwise. The decision is Sluice's own:
 * cli-table3's colour library has its own detection (it turns colours off whenever `CI` is set),
 * so the table is given no styles and the header text carries the codes.
 */
export function newTable(head?: string[], color = useColor()): Table.Table {
  const style = { head: [] as string[], border: [] as string[] };
  if (head === undefined) return new Table({ style });
  return new Table({ style, head: color ? head.map(bold) : head });
}
