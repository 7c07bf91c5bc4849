// Loads the user's module named on the command line (TypeScript or JavaScript, any folder), in-process.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { register as registerHooks } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SluiceError } from '../core/errors.ts';

let typescriptReady: Promise<void> | undefined;

/**
 * Registers TypeScript support in this process, once: tsx's ESM and CommonJS hooks, then the
 * CLI's hook that loads `.ts` files outside an ESM package as ESM (`bin/esm-format-hooks.mjs`).
 * In-process on purpose: the process the user started (`npx sluice`, `node bin/sluice.js`, the
 * bin on PATH) is the one that runs the module and receives SIGTERM/SIGKILL. The hooks stay
 * registered, so modules the user's module imports later (lazily) load too.
 */
export function registerTypeScript(): Promise<void> {
  typescriptReady ??= (async () => {
    const [{ register: esm }, { register: cjs }] = await Promise.all([
      import('tsx/esm/api'),
      import('tsx/cjs/api'),
    ]);
    esm();
    cjs();
    // Same relative path from src/cli/ and from dist/cli/.
    registerHooks(new URL('../../bin/esm-format-hooks.mjs', import.meta.url));
  })();
  return typescriptReady;
}

/**
 * Imports a user module (`.ts`, `.mts`, `.cts`, `.tsx`, `.js`, `.mjs`, `.cjs`) given on the
 * command line, from any folder, with or without a package.json. A CommonJS module's
 * `module.exports` object is also read for named exports (`items`, `process`, ...).
 */
export async function loadUserModule(file: string): Promise<Record<string, unknown>> {
  const path = resolve(file);
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new SluiceError('NOT_FOUND', `Module file not found: ${path}`, { context: { file: path } });
  }
  const url = pathToFileURL(path).href;
  await registerTypeScript();
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    throw withSyntaxLocation(e, path);
  }
  const def = mod.default;
  if (Object.keys(mod).length === 1 && typeof def === 'object' && def !== null && !Array.isArray(def)) {
    return { default: def, ...(def as Record<string, unknown>) };
  }
  return mod;
}

/**
 * Node reports a syntax error of an ES module without its file and line (it prints them only for
 * an uncaught error). `node --check` on the file finds them; the error gets a stack whose first
 * line is `file:line` and a caret line, as for CommonJS, which the CLI prints as one line.
 */
function withSyntaxLocation(e: unknown, path: string): unknown {
  if (!(e instanceof SyntaxError) || /^.+:\d+$/m.test((e.stack ?? '').split('\n')[0] ?? '')) return e;
  if (!/\.(c|m)?js$/.test(path)) return e;
  try {
    execFileSync(process.execPath, ['--check', path], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (checked) {
    const stderr = String((checked as { stderr?: unknown }).stderr ?? '');
    const lines = stderr.split('\n');
    if (/^.+:\d+$/.test(lines[0] ?? '')) e.stack = `${lines.slice(0, 3).join('\n')}\n\n${e.stack ?? ''}`;
  }
  return e;
}
