import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    // Hang detectors, not margins: the suite must pass on a loaded 2-core machine (two engines' suites
    // side by side), where a browser test's twenty steps or a first start took over a minute.
    testTimeout: 180_000,
    hookTimeout: 300_000,
    // expect.poll waits on a condition; its default 1 s gave up on a loaded machine before a page or
    // a job had caught up. Well inside testTimeout, so a hang still fails with the poll's message.
    expect: { poll: { timeout: 30_000 } },
    reporters: ['default'],
  },
});
