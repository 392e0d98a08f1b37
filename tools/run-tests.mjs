// The whole test suite, as CI and the README run it: the services the integration tests need
// (Redis, Chromium: found, or installed from Debian and started), typecheck, lint, then every vitest
// test. Ends with one line `N passed, N failed` (the vitest test counts); exits non-zero when any
// step failed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = (name) => join('node_modules', '.bin', name);
const steps = [];
const run = (label, command, args) => {
  console.log(`\n▶ ${label}`);
  const result = spawnSync(command, args, { stdio: 'inherit' });
  const ok = result.status === 0;
  steps.push({ label, ok });
  return ok;
};

/**
 * Runs one of the ensure scripts (tools/redis, tools/browser), which prints `export NAME=value` once its service is there;
 * when it cannot be had at all, the tests that need it are left out through `offVariable`, loudly.
 */
const ensureService = (label, script, variable, offVariable) => {
  if (process.env[variable] !== undefined || process.env[offVariable] === 'off') return;
  const result = spawnSync('bash', [script], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  const match = new RegExp(`^export ${variable}=(.*)$`, 'm').exec(result.stdout ?? '');
  if (result.status === 0 && match !== null) {
    // The scripts quote with printf %q; the values (a URL, a path) need no unquoting beyond that.
    process.env[variable] = match[1].replace(/^'(.*)'$/, '$1').replace(/\\(.)/g, '$1');
    return;
  }
  console.error(`!!! ${label} could not be set up: the tests that need it are NOT run (${offVariable}=off) !!!`);
  process.env[offVariable] = 'off';
};
ensureService('Redis', 'tools/redis/ensure-redis.sh', 'HARNESS_TEST_REDIS_URL', 'HARNESS_TEST_REDIS');
ensureService('Chromium', 'tools/browser/ensure-chromium.sh', 'HARNESS_TEST_CHROMIUM', 'HARNESS_TEST_BROWSER');

run('typecheck (tsc -b)', bin('tsc'), ['-b']);
run('lint (biome check)', bin('biome'), ['check', '.']);

const reportDir = mkdtempSync(join(tmpdir(), 'script-harness-tests-'));
const reportFile = join(reportDir, 'vitest.json');
run('tests (vitest)', bin('vitest'), [
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${reportFile}`,
  ...process.argv.slice(2),
]);

let passed = 0;
let failed = 0;
try {
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  passed = report.numPassedTests;
  failed = report.numFailedTests + (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A test file that failed to load has no tests to count; count it as a failure.
  failed += report.testResults.filter((file) => file.status === 'failed' && file.assertionResults.length === 0).length;
} catch {
  failed += 1;
}
rmSync(reportDir, { recursive: true, force: true });

const failedSteps = steps.filter((step) => !step.ok).map((step) => step.label);
if (failedSteps.length > 0) console.log(`\nFailed steps: ${failedSteps.join(', ')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failedSteps.length > 0 || failed > 0 ? 1 : 0);
