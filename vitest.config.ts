import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default is one fewer worker than cores: a single one on the 2-core CI machine.
    // Most files wait on real processes and sockets, so two halve the suite's time.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
