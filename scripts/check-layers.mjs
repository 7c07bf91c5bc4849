#!/usr/bin/env node
// Checks the layering of src/ (DESIGN.md "Layers"): a module may import from its own folder or
// from a lower layer, never from a higher one or a sibling of the same layer. Exits 1 on a violation.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
const RANK = {
  core: 0,
  telemetry: 0, // OpenTelemetry hooks (optional peer): imported by every engine, imports nothing of ours
  testing: 9, // test helpers (`sluice/testing`) may use any layer
  backend: 1,
  partition: 2,
  resilience: 2,
  flow: 2, // limiters: may use core and backend
  time: 2, // scheduler, delayed events, TTL: may use core and backend
  pool: 3,
  supervision: 3,
  dlq: 3,
  pipeline: 4,
  cluster: 5,
  patterns: 5,
  connectors: 5, // broker sources/sinks (sluice/rabbitmq, sluice/nats) over the pipeline
  metrics: 6,
  dashboard: 7,
  cli: 8,
};

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) yield p;
  }
}

const layerOf = (file) => relative(root, file).split(sep)[0];
const violations = [];
for (const file of files(root)) {
  const from = layerOf(file);
  if (!(from in RANK)) continue; // src/index.ts re-exports every layer
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    const target = resolve(dirname(file), m[1]);
    if (!target.startsWith(root)) continue;
    const to = layerOf(target);
    if (to === from || !(to in RANK)) continue;
    if (RANK[to] >= RANK[from]) violations.push(`${relative(root, file)} (${from}) imports ${m[1]} (${to})`);
  }
}
if (violations.length > 0) {
  process.stderr.write(`layer violations:\n  ${violations.join('\n  ')}\n`);
  process.exit(1);
}
process.stdout.write(`layers: ok\n`);
