import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { releasePlan } from './release.ts';
import { publishedPackages, REPO_ROOT } from './workspace.ts';

const line = (step: { command: string; args: readonly string[] }) => [step.command, ...step.args].join(' ');

describe('pnpm release', () => {
  it('is a dry run by default: builds, tests the tarballs, shows what pnpm would publish, uploads nothing', () => {
    const steps = releasePlan([]);
    expect(steps.map((s) => s.label)).toEqual(['build', 'pack smoke test', 'what would be published']);
    const publish = steps[2];
    expect(publish?.args).toEqual(expect.arrayContaining(['publish', '--dry-run']));
    for (const pkg of publishedPackages()) expect(publish?.args).toContain(pkg.name);
    expect(steps.some((s) => line(s).includes('changeset publish'))).toBe(false);
  });

  it('publishes only with --publish, through changesets, after the same checks', () => {
    const steps = releasePlan(['--publish']);
    expect(steps.slice(0, 3)).toEqual(releasePlan([]));
    expect(steps).toHaveLength(4);
    expect(line(steps[3] ?? { command: '', args: [] })).toMatch(/changeset publish$/);
  });

  it('refuses an unknown argument with its usage and exit code 2, before doing anything', () => {
    expect(() => releasePlan(['--publsh'])).toThrow('unknown argument --publsh');
    const child = spawnSync(process.execPath, [join(REPO_ROOT, 'tools', 'pack', 'release.ts'), '--yes'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(child.status).toBe(2);
    expect(child.stderr).toContain('unknown argument --yes');
    expect(child.stderr).toContain('Usage: pnpm release [--publish]');
    expect(child.stdout).toBe('');
  });
});
