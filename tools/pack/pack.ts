/**
 * Packs the published packages with pnpm, as `pnpm publish` would: `publishConfig` applied (the
 * `dist/` entry points, the built `bin`), `workspace:` ranges replaced by the versions they stand
 * for, only the `files` of each manifest. Build first (build.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run, type WorkspacePackage, workspaceBin } from './workspace.ts';

/** The file name pnpm gives the tarball of a package: `@script-harness/core@0.1.0` → `script-harness-core-0.1.0.tgz`. */
export function tarballName(name: string, version: string): string {
  return `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
}

/** Packs `packages` into `destination`; returns the tarball of each, by package name. */
export function packPackages(packages: readonly WorkspacePackage[], destination: string): Map<string, string> {
  const filters = packages.flatMap((pkg) => ['--filter', pkg.name]);
  run(workspaceBin('pnpm'), ['--recursive', ...filters, 'pack', '--pack-destination', destination]);
  const tarballs = new Map<string, string>();
  for (const pkg of packages) {
    const tarball = join(destination, tarballName(pkg.name, pkg.manifest.version));
    if (!existsSync(tarball)) throw new Error(`pnpm pack wrote no ${tarball}`);
    tarballs.set(pkg.name, tarball);
  }
  return tarballs;
}
