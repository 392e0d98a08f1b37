// The short CI version of `pnpm load exhaustion`: eight seconds of load several times the capacity.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnswerKind } from './client.ts';
import { REPORTS_DIRECTORY, writeReport } from './report.ts';
import { runExhaustion } from './scenarios/exhaustion.ts';

describe('load: exhaustion', () => {
  it('refuses what it cannot take with 503 and Retry-After, stays live and recovers', async () => {
    const report = await runExhaustion({ overloadMs: 8_000, rate: 200 });
    // Kept under tools/load/reports/ (ignored by git), to read when the test fails.
    await writeReport(report, join(REPORTS_DIRECTORY, 'ci-exhaustion.json'));
    expect(report.checks.filter((check) => !check.pass)).toEqual([]);
    expect(report.pass).toBe(true);
    const figures = report.figures as { overloadAnswers: Record<AnswerKind, number> };
    expect(figures.overloadAnswers.rejected).toBeGreaterThan(0);
    expect(figures.overloadAnswers.ok).toBeGreaterThan(0);
    expect(figures.overloadAnswers.lost + figures.overloadAnswers.untyped).toBe(0);
  }, 120_000);
});
