// The short CI version of `pnpm load soak`: three minutes of mixed load. Its memory checks are the
// short-run ones (see scenarios/soak.ts): the heap after a full GC may not grow by more than 2 MB
// across the fitted window (a leak of a few KB per request), RSS must stay below what the pool
// holds by design, and handles, descriptors and threads must not grow. The 10 MB/h bound itself
// needs a fitted window of 30 minutes (`pnpm load soak --duration 60m`).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnswerKind } from './client.ts';
import { REPORTS_DIRECTORY, writeReport } from './report.ts';
import { runSoak } from './scenarios/soak.ts';

describe('load: soak', () => {
  it(
    'holds three minutes of mixed load without growing memory, handles or descriptors',
    async () => {
      const report = await runSoak({ durationMs: 3 * 60_000, rate: 8 });
      // Kept under tools/load/reports/ (ignored by git), to read when the test fails.
      await writeReport(report, join(REPORTS_DIRECTORY, 'ci-soak.json'));
      expect(report.checks.filter((check) => !check.pass)).toEqual([]);
      expect(report.pass).toBe(true);
      const figures = report.figures as { answers: Record<AnswerKind, number>; strictBound: boolean };
      expect(figures.answers.lost + figures.answers.untyped).toBe(0);
      expect(figures.strictBound).toBe(false);
    },
    6 * 60_000,
  );
});
