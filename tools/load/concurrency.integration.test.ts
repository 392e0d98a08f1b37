// The short CI version of `pnpm load concurrency`: 200 clients at once, two scripts each.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPORTS_DIRECTORY, writeReport } from './report.ts';
import { runConcurrency } from './scenarios/concurrency.ts';

describe('load: concurrency', () => {
  it('answers 200 concurrent clients, every request once, none lost or crossed', async () => {
    const report = await runConcurrency({ clients: 200, requestsPerClient: 2 });
    // Kept under tools/load/reports/ (ignored by git), to read when the test fails.
    await writeReport(report, join(REPORTS_DIRECTORY, 'ci-concurrency.json'));
    expect(report.checks.filter((check) => !check.pass)).toEqual([]);
    expect(report.pass).toBe(true);
    const figures = report.figures as { requests: number; answers: Record<string, number>; serverPeakInFlight: number };
    expect(figures.requests).toBe(400);
    expect(figures.answers).toEqual({ ok: 400, 'script-error': 0, rejected: 0, 'http-error': 0, untyped: 0, lost: 0 });
    expect(figures.serverPeakInFlight).toBeGreaterThanOrEqual(100);
  }, 120_000);
});
