import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Two cores shared with other work: one file at a time keeps the multi-process cases honest.
    fileParallelism: false,
  },
});
