// One-line descriptions of the errors a CLI user runs into (missing file, syntax error, backend down).
import { isSluiceError } from '../core/errors.ts';

/** One entry of an esbuild `TransformError` (what tsx throws for a syntax error in TypeScript). */
interface EsbuildMessage {
  text?: string;
  location?: { file?: string; line?: number; column?: number } | null;
}

/** `file:line:column` of an esbuild message (esbuild columns are 0-based). */
function esbuildLine(m: EsbuildMessage): string {
  const loc = m.location;
  const where = loc?.file ? `${loc.file}:${loc.line ?? 0}:${(loc.column ?? 0) + 1}: ` : '';
  return `${where}${m.text ?? 'syntax error'}`;
}

/**
 * Node's SyntaxError of a JavaScript module: its stack starts with `file:line`, the source line
 * and a caret under the column.
 */
function nodeSyntaxLine(e: Error): string | undefined {
  const lines = (e.stack ?? '').split('\n');
  const m = /^(.+):(\d+)$/.exec(lines[0] ?? '');
  if (!m) return undefined;
  const caret = (lines[2] ?? '').indexOf('^');
  return `${m[1]}:${m[2]}${caret >= 0 ? `:${caret + 1}` : ''}: ${e.message}`;
}

/**
 * The one line printed for an error that ends a command: `CODE: message` for a Sluice error,
 * `file:line:column: message` for a syntax error in a user module, the module that could not be
 * found, else `Name: message`. Never a stack (see `--verbose`).
 */
export function describeError(e: unknown): string {
  if (isSluiceError(e)) return `${e.code}: ${firstLine(e.message)}`;
  if (typeof e !== 'object' || e === null) return String(e);
  const err = e as Error & { code?: unknown; errors?: EsbuildMessage[] };
  if (err.name === 'TransformError') {
    if (Array.isArray(err.errors) && err.errors.length > 0) {
      const more = err.errors.length > 1 ? ` (and ${err.errors.length - 1} more errors)` : '';
      return `SYNTAX_ERROR: ${esbuildLine(err.errors[0] as EsbuildMessage)}${more}`;
    }
    // Passed from tsx's loader thread, the error keeps only its message: "Transform failed with
    // 1 error:\n<file>:<line>:<column>: ERROR: <text>".
    // esbuild columns are 0-based.
    const m = /^(.+):(\d+):(\d+): ERROR: (.*)$/m.exec(String(err.message));
    if (m) return `SYNTAX_ERROR: ${m[1]}:${m[2]}:${Number(m[3]) + 1}: ${m[4]}`;
  }
  if (err.name === 'SyntaxError') {
    const line = nodeSyntaxLine(err);
    if (line !== undefined) return `SYNTAX_ERROR: ${line}`;
  }
  if (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND') {
    return `MODULE_NOT_FOUND: ${firstLine(err.message)}`;
  }
  const code = typeof err.code === 'string' ? `${err.code}: ` : '';
  return `${code}${err.name ?? 'Error'}: ${firstLine(String(err.message))}`;
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

/** What `--verbose` prints: the stack and the chain of causes. */
export function describeErrorVerbose(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 5; depth++) {
    const err = cur as Error;
    parts.push(`${depth === 0 ? '' : 'caused by: '}${err.stack ?? String(cur)}`);
    cur = err.cause;
  }
  return parts.join('\n');
}
