// How a ThreadPool finds what its threads load: option checks, the user module URL, the thread entry and tsx.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { configError } from '../core/errors.ts';
import { validate } from '../core/validate.ts';
import type { ThreadPoolOptions } from './threadPoolTypes.ts';
import type { ThreadBoot } from './threadProtocol.ts';

const INT_GE_1 = 'an integer >= 1';
const optionsSchema = z.object({
  file: z.union([z.string().min(1), z.instanceof(URL)], { error: 'a module path or file: URL' }),
  threads: z.number(INT_GE_1).int(INT_GE_1).min(1, INT_GE_1).optional(),
  maxQueue: z
    .number('an integer >= 0 or Infinity')
    .refine(
      (n) => n === Number.POSITIVE_INFINITY || (Number.isInteger(n) && n >= 0),
      'an integer >= 0 or Infinity',
    )
    .optional(),
});

const TS_EXT = /\.(?:ts|mts|cts|tsx)$/;

/**
 * Checks the pool options and builds the boot settings every thread receives: the thread entry
 * next to this module, the user module as a `file:` URL, and tsx when either is TypeScript.
 *
 * @throws SluiceError `CONFIG_INVALID` for bad options or a module file that does not exist.
 */
export function resolveThreadBoot(options: ThreadPoolOptions): ThreadBoot {
  validate(optionsSchema, options);
  const fileUrl = toFileUrl(options.file);
  if (!fileUrl.startsWith('file:') || !existsSync(fileURLToPath(fileUrl))) {
    throw configError('file', 'an existing module file', String(options.file));
  }
  const entry = new URL(`./threadWorker${extname(import.meta.url)}`, import.meta.url).href;
  const needsTs = TS_EXT.test(entry) || TS_EXT.test(fileUrl);
  return { entry, file: fileUrl, tsx: needsTs ? tsxApiUrl() : null };
}

function toFileUrl(file: string | URL): string {
  if (file instanceof URL) return file.href;
  if (file.startsWith('file:')) return new URL(file).href;
  return pathToFileURL(resolvePath(file)).href;
}

function extname(url: string): string {
  const m = /\.[cm]?[jt]s$/.exec(new URL(url).pathname);
  return m ? m[0] : '.js';
}

let tsxUrl: string | undefined;
/** Absolute URL of `tsx/esm/api`, resolved from this package. */
function tsxApiUrl(): string {
  if (tsxUrl !== undefined) return tsxUrl;
  const req = createRequire(import.meta.url);
  const pkgPath = req.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as {
    exports: Record<string, { import?: { default?: string } }>;
  };
  const rel = pkg.exports['./esm/api']?.import?.default ?? './dist/esm/api/index.mjs';
  tsxUrl = pathToFileURL(join(dirname(pkgPath), rel)).href;
  return tsxUrl;
}
