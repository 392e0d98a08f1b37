/**
 * The manifests of the published packages say what a registry user needs, without building
 * anything: entry points under `publishConfig` that mirror the workspace's, files, engines, license,
 * repository, README install section, changelog, build config, ranges that pack into real versions,
 * core as a peer of every adapter, and one fixed version group for changesets. The pack smoke test
 * (pack-smoke.integration.test.ts) then checks the tarballs themselves.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILD_SOLUTION, checkBuildConfigs } from './build.ts';
import { tarballName } from './pack.ts';
import {
  entryStem,
  expectedPublishedExports,
  type Manifest,
  publishedPackages,
  REPO_ROOT,
  workspacePackages,
} from './workspace.ts';

const published = publishedPackages();
const publishedNames = new Set(published.map((p) => p.name));
const root = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as Manifest;
const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
const INTERNAL = /^@script-harness\//;

describe('published package manifests', () => {
  it('the published set: the libraries, the server and the CLI; bench, examples and the rest stay private', () => {
    expect([...publishedNames].sort()).toEqual(
      expect.arrayContaining([
        '@script-harness/agents',
        '@script-harness/cli',
        '@script-harness/core',
        '@script-harness/policy',
        '@script-harness/queue-bullmq',
        '@script-harness/runtime-ivm',
        '@script-harness/runtime-quickjs',
        '@script-harness/server',
        '@script-harness/telemetry',
        '@script-harness/tools',
      ]),
    );
    expect(publishedNames.has('@script-harness/bench')).toBe(false);
    expect(JSON.parse(read('examples/package.json')).private).toBe(true);
  });

  it.each(published.map((p) => [p.name, p] as const))('%s: metadata, files and entry points', (_name, pkg) => {
    const m = pkg.manifest;
    expect(m.type).toBe('module');
    expect(m.license).toBe(root.license);
    expect(m.engines?.node).toBe(root.engines?.node);
    expect(m.description?.length ?? 0).toBeGreaterThan(20);
    expect(typeof m.sideEffects === 'boolean' || Array.isArray(m.sideEffects)).toBe(true);
    expect(m.repository).toEqual({ type: 'git', url: published[0]?.manifest.repository?.url, directory: pkg.dir });
    expect(m.files).toEqual(['dist', '!dist/.tsbuildinfo', 'CHANGELOG.md']);

    // The workspace runs the sources; what is published points at the build.
    const exportsMap = m.exports ?? {};
    expect(Object.keys(exportsMap)).toContain('.');
    for (const target of Object.values(exportsMap))
      expect(existsSync(join(REPO_ROOT, pkg.dir, target)), target).toBe(true);
    expect(m.publishConfig?.access).toBe('public');
    expect(m.publishConfig?.exports).toEqual(expectedPublishedExports(exportsMap));
    expect(m.publishConfig?.types).toBe(`./dist/${entryStem(exportsMap['.'] ?? '')}.d.ts`);
    const bins = Object.entries(m.bin ?? {});
    expect(m.publishConfig?.bin).toEqual(
      bins.length === 0
        ? undefined
        : Object.fromEntries(bins.map(([name, src]) => [name, `./dist/${entryStem(src)}.js`])),
    );
    for (const [, src] of bins) expect(read(join(pkg.dir, src)).startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it.each(published.map((p) => [p.name, p] as const))(
    '%s: README with an install section, and a changelog',
    (_name, pkg) => {
      const readme = read(join(pkg.dir, 'README.md'));
      const install = /^## Install\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readme)?.[1] ?? '';
      expect(install, 'an "## Install" section').not.toBe('');
      const escaped = pkg.name.replace(/[/.]/g, '\\$&');
      expect(install).toMatch(new RegExp(`npm install [^\\n]*${escaped}(\\s|$)`, 'm'));
      const example =
        Object.keys(pkg.manifest.bin ?? {}).length > 0
          ? new RegExp(`\`\`\`sh\\n[^\`]*^(${Object.keys(pkg.manifest.bin ?? {}).join('|')}) `, 'm')
          : new RegExp(`\`\`\`ts\\n[^\`]*from '${escaped}(/[a-z-]+)?';`);
      expect(readme, 'a runnable example').toMatch(example);
      expect(read(join(pkg.dir, 'CHANGELOG.md')).startsWith(`# ${pkg.name}\n`)).toBe(true);
    },
  );

  it.each(published.map((p) => [p.name, p] as const))(
    '%s: internal ranges, peers and optional dependencies',
    (_name, pkg) => {
      const m = pkg.manifest;
      for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'] as const) {
        for (const [name, range] of Object.entries(m[field] ?? {})) {
          if (!INTERNAL.test(name)) continue;
          // pnpm packs workspace:^ as ^<version>: a real range, never a literal workspace: protocol.
          expect(range, `${field} ${name}`).toBe('workspace:^');
          expect(
            publishedNames.has(name),
            `${name} (${field}) must be published for a published package to use it`,
          ).toBe(true);
        }
      }
      const isAdapter = pkg.dir.startsWith('packages/') && pkg.name !== '@script-harness/core';
      if (isAdapter) {
        expect(m.peerDependencies?.['@script-harness/core'], 'core is a peer of every adapter').toBe('workspace:^');
        expect(m.dependencies?.['@script-harness/core']).toBeUndefined();
      }
      if (pkg.name === '@script-harness/runtime-ivm') {
        expect(Object.keys(m.optionalDependencies ?? {})).toEqual(['isolated-vm']);
        expect(m.dependencies?.['isolated-vm']).toBeUndefined();
      }
      expect(tarballName(pkg.name, m.version)).toMatch(/^script-harness-[a-z-]+-\d+\.\d+\.\d+.*\.tgz$/);
    },
  );

  it('every published package has a build config that references the builds of the packages it uses', () => {
    expect(() => checkBuildConfigs(published)).not.toThrow();
    const dirs = new Map(workspacePackages().map((p) => [p.name, p.dir]));
    for (const pkg of published) {
      const config = JSON.parse(read(join(pkg.dir, 'tsconfig.build.json'))) as { references?: { path: string }[] };
      const referenced = new Set(
        (config.references ?? []).map((r) =>
          join(pkg.dir, r.path)
            .split('\\')
            .join('/')
            .replace(/\/tsconfig\.build\.json$/, ''),
        ),
      );
      // Published packages built by tsc; whether every internal dependency is published is checked above.
      const used = Object.keys({ ...pkg.manifest.dependencies, ...pkg.manifest.peerDependencies }).filter(
        (n) => publishedNames.has(n) && existsSync(join(REPO_ROOT, dirs.get(n) ?? '', 'tsconfig.build.json')),
      );
      for (const name of used) expect(referenced.has(dirs.get(name) ?? name), `${pkg.name} → ${name}`).toBe(true);
    }
    const solution = JSON.parse(read(BUILD_SOLUTION)) as { references: { path: string }[] };
    expect(solution.references.map((r) => r.path).sort()).toEqual(
      published.map((p) => `${p.dir}/tsconfig.build.json`).sort(),
    );
  });

  it('changesets releases every published package in one fixed version group', () => {
    const config = JSON.parse(read('.changeset/config.json')) as { fixed: string[][]; access: string };
    expect(config.fixed).toHaveLength(1);
    expect([...(config.fixed[0] ?? [])].sort()).toEqual([...publishedNames].sort());
    expect(config.access).toBe('public');
    expect(new Set(published.map((p) => p.manifest.version)).size).toBe(1);
  });
});
