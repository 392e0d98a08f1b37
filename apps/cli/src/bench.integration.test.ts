/**
 * `harness bench` as a child process: arguments reach the bench unchanged and its exit code
 * becomes the CLI's. Measuring takes minutes, so these runs stop at the bench's own usage.
 */
import { describe, expect, it } from 'vitest';
import { harness } from './test-support.ts';

describe('harness bench', () => {
  it('passes --help through to the bench, which prints its usage and rows', async () => {
    const run = await harness(['bench', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: pnpm bench \[--filter ID/);
    expect(run.stdout).toContain('Rows:');
  });

  it("the bench's exit code is the CLI's: a flag the bench does not know is its usage error, 2", async () => {
    const run = await harness(['bench', '--no-such-bench-flag']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Unknown option '--no-such-bench-flag'");
    expect(run.stderr).toContain('Usage: pnpm bench');
  });

  it('harness help bench describes the command itself', async () => {
    const run = await harness(['help', 'bench']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: harness bench \[args\.\.\.\]\n/);
    expect(run.stdout).toContain('All arguments go to the bench unchanged');
  });
});
