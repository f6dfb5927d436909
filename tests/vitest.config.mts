import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // 2 cores: files run in forked workers, at most two at a time.
    pool: 'forks',
    maxWorkers: 2,
  },
});
