// Module hooks of the `sluice` CLI: a TypeScript file outside an ESM package loads as ESM.
//
// tsx treats a `.ts` file like Node treats a `.js` file: CommonJS unless the nearest package.json
// says `"type": "module"`. A user's `/tmp/job.ts` (no package.json, or one without a "type")
// then fails with `SyntaxError: Unexpected token ':'`, `ERR_REQUIRE_CYCLE_MODULE` or "top-level
// await is not supported", and a `.js` file with top-level await fails the same way. A user
// module (`.ts`, `.tsx`, `.js`) whose package scope does not declare a "type" is loaded as ESM
// when it uses `import`/`export` statements, or when it uses no CommonJS (`require(`,
// `module.exports`, `exports.`); in a package declaring "commonjs", only when it uses
// `import`/`export` and no CommonJS. Files under node_modules keep their own format.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXTENSIONS = /\.(tsx?|js)$/;
const ESM_SYNTAX = /^\s*(?:import|export)\b/m;
const CJS_SYNTAX = /\brequire\s*\(|\bmodule\.exports\b|\bexports\.[A-Za-z_$]/;
const scopeType = new Map();

/** The "type" field of the package.json nearest to `file` (undefined when none says). */
function packageType(file) {
  let dir = dirname(file);
  const seen = [];
  for (;;) {
    const cached = scopeType.get(dir);
    if (cached !== undefined || scopeType.has(dir)) {
      for (const d of seen) scopeType.set(d, cached);
      return cached;
    }
    seen.push(dir);
    let type;
    let found = false;
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      found = true;
      type = typeof pkg.type === 'string' ? pkg.type : undefined;
    } catch {
      // no (readable) package.json here: look further up
    }
    const parent = dirname(dir);
    if (found || parent === dir) {
      for (const d of seen) scopeType.set(d, type);
      return type;
    }
    dir = parent;
  }
}

/** Node resolve hook: ESM format for ESM-looking user modules of packages that declare no type. */
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (
    !resolved.url.startsWith('file:') ||
    (resolved.format !== 'commonjs' && resolved.format !== 'commonjs-typescript')
  )
    return resolved;
  const path = fileURLToPath(resolved.url.split('?')[0]);
  if (!EXTENSIONS.test(path) || path.includes('/node_modules/')) return resolved;
  const type = packageType(path);
  if (type === 'module') return resolved;
  let source;
  try {
    source = readFileSync(path, 'utf8');
  } catch {
    return resolved;
  }
  const esm = ESM_SYNTAX.test(source);
  const cjs = CJS_SYNTAX.test(source);
  // A declared "commonjs" is overridden only for a file that is plainly ESM.
  const asModule = type === 'commonjs' ? esm && !cjs : esm || !cjs;
  return asModule ? { ...resolved, format: 'module' } : resolved;
}
