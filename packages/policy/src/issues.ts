/** Zod issues as lines an operator can act on: `rules[2].when.paths[0]: message`. */
import type { z } from 'zod';

export function formatIssues(issues: readonly z.core.$ZodIssue[], root: string): string[] {
  return issues.map((issue) => {
    const location = issue.path
      .map((segment) => (typeof segment === 'number' ? `[${segment}]` : `.${String(segment)}`))
      .join('');
    return `${root}${location}: ${issue.message}`;
  });
}
