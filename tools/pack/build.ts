/**
 * `pnpm build`: builds every published package into its `dist/` — JavaScript, declarations and
 * source maps (with the sources inlined), from `tsconfig.build.json`, which leaves tests and
 * test-only helpers out. The workspace itself never uses `dist/`: it runs the TypeScript sources,
 * and the manifests point at `dist/` only through `publishConfig`, which pnpm applies when it packs.
 *
 *   node tools/pack/build.ts
 *
 * Each `dist/` is removed first, so a file whose source is gone cannot linger in a tarball. Files
 * below src/ that are not TypeScript (recorded fixtures, ...) are copied next to the modules that
 * read them, and a few packages carry files from elsewhere in the repository (EXTRA_ASSETS).
 */
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { publishedPackages, REPO_ROOT, run, type WorkspacePackage, withBuildLock, workspaceBin } from './workspace.ts';

/** The solution file that references the build config of every published package. */
export const BUILD_SOLUTION = 'tsconfig.build.json';

/** Files a package ships from outside its own src/, by package name: repository path → package path. */
export const EXTRA_ASSETS: Record<string, readonly { from: string; to: string }[]> = {
  // `harness demo` replays the recorded transcript against a copy of the demo project.
  '@script-harness/cli': [{ from: 'examples/demo', to: 'dist/demo' }],
  // `/ui`: the built web console (a private workspace package) ships inside the server.
  '@script-harness/server': [{ from: 'apps/console/dist', to: 'dist/console' }],
};

const isTestFile = (name: string) => /\.test\.[cm]?[jt]s$/.test(name);

/** Checks that every published package has a build config and that the solution builds all of them. */
export function checkBuildConfigs(packages: readonly WorkspacePackage[]): void {
  const solution = JSON.parse(readFileSync(join(REPO_ROOT, BUILD_SOLUTION), 'utf8')) as {
    references: { path: string }[];
  };
  const referenced = new Set(solution.references.map((reference) => reference.path));
  for (const pkg of packages) {
    const config = `${pkg.dir}/tsconfig.build.json`;
    if (!existsSync(join(REPO_ROOT, config))) throw new Error(`${pkg.name} is published but has no ${config}`);
    if (!referenced.has(config))
      throw new Error(`${pkg.name} is published but ${BUILD_SOLUTION} does not reference ${config}`);
  }
}

/** Copies the files below `from` that are neither TypeScript nor tests into `to`, keeping their paths. */
function copyAssets(from: string, to: string, skipTypeScript: boolean): string[] {
  const copied: string[] = [];
  for (const entry of readdirSync(from, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || isTestFile(entry.name)) continue;
    if (skipTypeScript && entry.name.endsWith('.ts')) continue;
    const source = join(entry.parentPath, entry.name);
    const path = relative(from, source);
    cpSync(source, join(to, path));
    copied.push(path);
  }
  return copied;
}

export interface BuildReport {
  readonly packages: readonly string[];
  /** Files copied besides the compiler's output, per package. */
  readonly assets: Record<string, readonly string[]>;
}

/** Builds every published package; the caller holds the build lock. */
export function buildPackagesLocked(): BuildReport {
  const packages = publishedPackages();
  checkBuildConfigs(packages);
  for (const pkg of packages) rmSync(join(REPO_ROOT, pkg.dir, 'dist'), { recursive: true, force: true });
  run(workspaceBin('tsc'), ['-b', BUILD_SOLUTION]);
  // The console is built here too, so the server's tarball never carries a stale one.
  run(workspaceBin('vite'), ['build', join(REPO_ROOT, 'apps/console')]);
  const assets: Record<string, string[]> = {};
  for (const pkg of packages) {
    const root = join(REPO_ROOT, pkg.dir);
    const copied = copyAssets(join(root, 'src'), join(root, 'dist'), true);
    for (const extra of EXTRA_ASSETS[pkg.name] ?? []) {
      for (const path of copyAssets(join(REPO_ROOT, extra.from), join(root, extra.to), false)) {
        copied.push(join(extra.to.replace(/^dist\//, ''), path));
      }
    }
    // The license text travels with every tarball (the manifests name it; this is the text).
    cpSync(join(REPO_ROOT, 'LICENSE'), join(root, 'dist', 'LICENSE'));
    copied.push('LICENSE');
    for (const target of Object.values(pkg.manifest.publishConfig?.bin ?? {})) chmodSync(join(root, target), 0o755);
    assets[pkg.name] = copied.sort();
  }
  return { packages: packages.map((p) => p.name), assets };
}

export function buildPackages(): Promise<BuildReport> {
  return withBuildLock(buildPackagesLocked);
}

if (import.meta.main) {
  const started = performance.now();
  const report = await buildPackages();
  for (const name of report.packages) {
    const assets = report.assets[name] ?? [];
    console.log(`built ${name}${assets.length > 0 ? ` (+ ${assets.length} asset files)` : ''}`);
  }
  console.log(`${report.packages.length} packages in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
