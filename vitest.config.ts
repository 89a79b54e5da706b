import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts', 'renderer/src/**/*.test.tsx'],
    exclude: ['node_modules/**', 'out/**', 'dist/**'],
    // Real ptys, sockets and child processes: give slow CI machines room, but never hang.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // A temporary folder for the whole run, removed at its end (test/privateTmpdir.ts). The UI
    // tests serve renderer/dist: build it once, before any worker starts, if it is stale.
    globalSetup: ['test/privateTmpdir.ts', 'test/ui/globalSetup.ts'],
    // The JSON report lets CI print a plain "N passed, N failed" closing line.
    reporters: ['default', ['json', { outputFile: 'test-artifacts/vitest-results.json' }]],
  },
});
