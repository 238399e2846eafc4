import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores shared with other work: one test file at a time keeps multi-process tests honest.
    fileParallelism: false,
  },
});
