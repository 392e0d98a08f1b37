import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportedNames } from './exports.ts';
import { publishedPackages, REPO_ROOT } from './workspace.ts';

describe('exportedNames', () => {
  it('reads named re-exports, type-only specifiers and type-only export lists', () => {
    const names = exportedNames(`
      export { a, type B, c as d } from './x.ts';
      export type { E, F as G } from './y.ts';
      export {
        h, // trailing comment with export { nope }
        type I,
      } from './z.ts';
    `);
    expect(names).toEqual({ values: ['a', 'd', 'h'], types: ['B', 'E', 'G', 'I'] });
  });

  it('reads exported declarations and ignores comments and strings', () => {
    const names = exportedNames(`
      /** export const commented = 1; */
      export const VERSION = 'export const fake = 2';
      export async function run() {}
      export class Thing {}
      export enum Mode { A }
      export interface Options { a: string }
      export type Alias = string;
      export default run;
    `);
    expect(names).toEqual({ values: ['Mode', 'Thing', 'VERSION', 'default', 'run'], types: ['Alias', 'Options'] });
  });

  it('refuses export * and destructuring exports, whose names it cannot list', () => {
    expect(() => exportedNames(`export * from './x.ts';`)).toThrow(/export \*/);
    expect(() => exportedNames(`export type * from './x.ts';`)).toThrow(/export \*/);
    expect(() => exportedNames(`export const { a } = b;`)).toThrow(/destructuring/);
  });

  it('reads every entry point of every published package', () => {
    for (const pkg of publishedPackages()) {
      for (const target of Object.values(pkg.manifest.exports ?? {})) {
        const names = exportedNames(readFileSync(join(REPO_ROOT, pkg.dir, target), 'utf8'));
        expect(names.values.length + names.types.length, `${pkg.name} ${target}`).toBeGreaterThan(0);
      }
    }
  });
});
