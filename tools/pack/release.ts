/**
 * `pnpm release`: a dry run of publishing every published package, unless `--publish` is given.
 * See docs/contributing/releasing.md for the whole flow (changesets, versions, changelogs).
 *
 *   pnpm release             build, test the packed packages, `pnpm publish --dry-run` each one
 *   pnpm release --publish   the same, then `changeset publish`: uploads the versions the registry
 *                            does not have yet and tags them in git (needs an npm login or token)
 */
import { spawnSync } from 'node:child_process';
import { childEnvironment, publishedPackages, REPO_ROOT, workspaceBin } from './workspace.ts';

export interface ReleaseStep {
  readonly label: string;
  readonly command: string;
  readonly args: readonly string[];
}

export const RELEASE_USAGE = `Usage: pnpm release [--publish]

Without flags, a dry run: builds every published package, runs the pack smoke test against the
tarballs, and has pnpm show what it would upload (pnpm publish --dry-run). Nothing is published.

  --publish   then publish with changesets: every package whose version is not on the registry
              yet is uploaded and tagged in git. Needs an npm login (npm login) or NPM_TOKEN.
  -h, --help  this text
`;

/** The steps of a release; `--publish` adds the one that uploads. Throws on an unknown argument. */
export function releasePlan(argv: readonly string[]): ReleaseStep[] {
  const unknown = argv.filter((arg) => arg !== '--publish');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown.join(' ')}`);
  const publish = argv.includes('--publish');
  const filters = publishedPackages().flatMap((pkg) => ['--filter', pkg.name]);
  const steps: ReleaseStep[] = [
    { label: 'build', command: process.execPath, args: ['tools/pack/build.ts'] },
    {
      label: 'pack smoke test',
      command: workspaceBin('vitest'),
      args: ['run', 'tools/pack/manifest.test.ts', 'tools/pack/pack-smoke.integration.test.ts'],
    },
    {
      label: 'what would be published',
      command: workspaceBin('pnpm'),
      args: ['--recursive', ...filters, 'publish', '--dry-run', '--no-git-checks'],
    },
  ];
  if (publish) steps.push({ label: 'publish', command: workspaceBin('changeset'), args: ['publish'] });
  return steps;
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(RELEASE_USAGE);
    process.exit(0);
  }
  let steps: ReleaseStep[];
  try {
    steps = releasePlan(argv);
  } catch (error) {
    process.stderr.write(`release: ${(error as Error).message}\n\n${RELEASE_USAGE}`);
    process.exit(2);
  }
  for (const step of steps) {
    process.stdout.write(`\n▶ ${step.label}: ${[step.command, ...step.args].join(' ')}\n`);
    const result = spawnSync(step.command, step.args, { cwd: REPO_ROOT, env: childEnvironment(), stdio: 'inherit' });
    if (result.status !== 0) {
      process.stderr.write(`release: ${step.label} failed; nothing after it ran\n`);
      process.exit(1);
    }
  }
  process.stdout.write(
    argv.includes('--publish')
      ? '\nPublished. Push the tags: git push --follow-tags\n'
      : '\nDry run: nothing was published.\n',
  );
}
