import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Component tests live beside the components (the renderer's own tsconfig covers them).
    include: ['test/**/*.test.ts', 'renderer/**/*.test.{ts,tsx}'],
    // Server suites boot PGlite (a WebAssembly PostgreSQL) and real HTTP listeners: give them room.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
