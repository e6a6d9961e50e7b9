import { defineConfig } from 'vitest/config';

// Integration suites spawn real node processes and real UDP sockets; on a
// loaded 2-core machine they need generous per-test deadlines (they wait for
// conditions, never for fixed sleeps) and must not all run at once.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
  },
});
