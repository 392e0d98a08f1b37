import { configDefaults, defineConfig } from 'vitest/config';

// Redis integration tests are left out only on purpose (HARNESS_TEST_REDIS=off, set by .ci/run when
// Redis cannot be started at all, with a loud message); otherwise a missing Redis fails them.
const redisTests = process.env.HARNESS_TEST_REDIS === 'off' ? ['**/*.redis.integration.test.ts'] : [];
// Browser tests likewise (HARNESS_TEST_BROWSER=off, set by .ci/run when Chromium cannot be installed).
const browserTests = process.env.HARNESS_TEST_BROWSER === 'off' ? ['**/*.e2e.integration.test.ts'] : [];

export default defineConfig({
  test: {
    exclude: [...configDefaults.exclude, ...redisTests, ...browserTests],
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'tools/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: keep test files from starving the worker pools they start themselves.
    maxWorkers: 2,
  },
});
