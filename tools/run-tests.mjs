// The whole test suite, as CI and the README run it: typecheck, lint, then every vitest test.
// Ends with one line `N passed, N failed` (the vitest test counts); exits non-zero when any step failed.
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
