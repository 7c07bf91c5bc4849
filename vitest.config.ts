import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Examples import the package by name, as users do; tests run them against the sources.
    alias: [
      { find: /^sluice\/testing$/, replacement: src('testing/index.ts') },
      { find: /^sluice\/sqlite$/, replacement: src('backend/sqlite/index.ts') },
      { find: /^sluice\/postgres$/, replacement: src('backend/postgres/index.ts') },
      { find: /^sluice\/redis$/, replacement: src('backend/redis/index.ts') },
      { find: /^sluice\/rabbitmq$/, replacement: src('connectors/rabbitmq/index.ts') },
      { find: /^sluice\/nats$/, replacement: src('connectors/nats/index.ts') },
      { find: /^sluice$/, replacement: src('index.ts') },
    ],
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default', './test/summaryReporter.ts'],
  },
});
