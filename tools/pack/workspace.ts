/**
 * The published packages of the workspace and what their manifests promise, shared by the build,
 * the release script and the packaging tests. A package is published when its package.json is not
 * `private`; everything else here is derived from the manifests, so a new package is covered by the
 * tests as soon as it stops being private.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The folders that hold workspace packages (pnpm-workspace.yaml lists the same). */
const PACKAGE_FOLDERS = ['packages', 'apps'];

export interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly private?: boolean;
  readonly description?: string;
  readonly type?: string;
  readonly license?: string;
  readonly repository?: { readonly type: string; readonly url: string; readonly directory?: string };
  readonly engines?: Record<string, string>;
  readonly sideEffects?: boolean | readonly string[];
  readonly bin?: Record<string, string>;
  readonly exports?: Record<string, string>;
  readonly files?: readonly string[];
  readonly publishConfig?: {
    readonly access?: string;
    readonly bin?: Record<string, string>;
    readonly types?: string;
    readonly exports?: Record<string, { readonly types: string; readonly import: string }>;
  };
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { readonly optional?: boolean }>;
  readonly optionalDependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

export interface WorkspacePackage {
  readonly name: string;
  /** Relative to the repository root, with forward slashes: `packages/core`. */
  readonly dir: string;
  readonly manifest: Manifest;
}

export function workspacePackages(): WorkspacePackage[] {
  const found: WorkspacePackage[] = [];
  for (const folder of PACKAGE_FOLDERS) {
    for (const entry of readdirSync(join(REPO_ROOT, folder), { withFileTypes: true })) {
      const manifestPath = join(REPO_ROOT, folder, entry.name, 'package.json');
      if (!entry.isDirectory() || !existsSync(manifestPath)) continue;
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
      found.push({ name: manifest.name, dir: `${folder}/${entry.name}`, manifest });
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

export function publishedPackages(): WorkspacePackage[] {
  return workspacePackages().filter((p) => p.manifest.private !== true);
}

/** `./src/testing/index.ts` → `testing/index`: the path of a source entry below src, without extension. */
export function entryStem(sourceEntry: string): string {
  const match = /^\.\/src\/(.+)\.ts$/.exec(sourceEntry);
  if (match?.[1] === undefined) throw new Error(`an entry point must be a TypeScript file below src/: ${sourceEntry}`);
  return match[1];
}

/**
 * What the published `exports` must be for a workspace `exports` map that points at sources:
 * every subpath, with its declarations and its built module.
 */
export function expectedPublishedExports(
  workspaceExports: Record<string, string>,
): Record<string, { types: string; import: string }> {
  return Object.fromEntries(
    Object.entries(workspaceExports).map(([subpath, target]) => {
      const stem = entryStem(target);
      return [subpath, { types: `./dist/${stem}.d.ts`, import: `./dist/${stem}.js` }];
    }),
  );
}

/** The command line of a binary of the workspace's node_modules/.bin, run with the Node running this. */
export function workspaceBin(name: string): string {
  return join(REPO_ROOT, 'node_modules', '.bin', name);
}

/** The environment for child processes: this Node first on PATH, so shims and npm run on it too. */
export function childEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // pnpm and npm pass their own settings down as npm_* variables; a nested npm must not inherit them.
    if (key.startsWith('npm_') && !['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig'].includes(key))
      continue;
    env[key] = value;
  }
  env.PATH = [dirname(process.execPath), process.env.PATH ?? ''].join(':');
  return { ...env, ...extra };
}

/** Runs a command to completion; throws with its output when it fails. */
export function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? childEnvironment(),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited with ${result.status ?? result.signal}\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result;
}

const LOCK_FILE = join(REPO_ROOT, 'node_modules', '.cache', 'script-harness-build.lock');

/**
 * Runs `body` holding the build lock: builds rewrite the packages' `dist/` folders in place, so two
 * of them at the same time (a test run and `pnpm build` in one working tree) must take turns. A lock
 * left by a process that is gone is taken over.
 */
export async function withBuildLock<T>(body: () => Promise<T> | T, waitMs = 5 * 60_000): Promise<T> {
  mkdirSync(dirname(LOCK_FILE), { recursive: true });
  const giveUpAt = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = openSync(LOCK_FILE, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = lockHolder();
      if (holder === 'gone') continue;
      if (holder === 'stale' || (typeof holder === 'number' && !isAlive(holder))) {
        rmSync(LOCK_FILE, { force: true });
        continue;
      }
      if (Date.now() > giveUpAt) throw new Error(`the build lock is held by process ${holder}: ${LOCK_FILE}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    return await body();
  } finally {
    rmSync(LOCK_FILE, { force: true });
  }
}

/** The pid in the lock file; `starting` while its owner has created it but not yet written to it. */
function lockHolder(): number | 'starting' | 'stale' | 'gone' {
  try {
    const text = readFileSync(LOCK_FILE, 'utf8').trim();
    if (text !== '') return Number.isInteger(Number(text)) && Number(text) > 0 ? Number(text) : 'stale';
    return Date.now() - statSync(LOCK_FILE).mtimeMs > 10_000 ? 'stale' : 'starting';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
