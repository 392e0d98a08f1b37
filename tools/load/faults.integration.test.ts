// The short CI version of `pnpm load faults`: workers killed, tools failing, hanging and stalling,
// then SIGTERM mid-load.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnswerKind } from './client.ts';
import { REPORTS_DIRECTORY, writeReport } from './report.ts';
import { runFaults } from './scenarios/faults.ts';

describe('load: faults', () => {
  it('answers every accepted request with a result or a typed error, heals, and shuts down cleanly', async () => {
    const report = await runFaults({ durationMs: 10_000, rate: 20 });
    // Kept under tools/load/reports/ (ignored by git), to read when the test fails.
    await writeReport(report, join(REPORTS_DIRECTORY, 'ci-faults.json'));
    expect(report.checks.filter((check) => !check.pass)).toEqual([]);
    expect(report.pass).toBe(true);
    const figures = report.figures as { answers: Record<AnswerKind, number>; terminations: number };
    expect(figures.answers.lost + figures.answers.untyped).toBe(0);
    expect(figures.terminations).toBeGreaterThanOrEqual(3);
  }, 120_000);
});
