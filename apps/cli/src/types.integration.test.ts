/**
 * `harness types` as a child process: the printed `.d.ts` type-checks with the repository's
 * TypeScript against a script that uses it (and rejects wrong calls), and the prompt section and
 * JSON forms carry the same tools.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, parseSingleJson, REPO_ROOT, type TemporaryDirectory, temporaryDirectory } from './test-support.ts';

const TSC = join(REPO_ROOT, 'node_modules', '.bin', 'tsc');

let directory: TemporaryDirectory;

beforeAll(async () => {
  directory = await temporaryDirectory('types');
});

afterAll(async () => {
  await directory.remove();
});

/** Type-checks `usage` (a script body, wrapped in a module) against `declarations`. */
async function typeCheck(
  name: string,
  declarations: string,
  usage: string,
): Promise<{ status: number | null; output: string }> {
  const project = join(directory.path, name);
  await writeFile(join(directory.path, `${name}.d.ts`), declarations);
  await writeFile(join(directory.path, `${name}-usage.ts`), `${usage}\nexport {};\n`);
  await writeFile(
    `${project}.tsconfig.json`,
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'es2022',
        module: 'esnext',
        moduleResolution: 'bundler',
        lib: ['es2022'],
        // The script's world is the declarations alone: no DOM, no Node.
        types: [],
        skipLibCheck: false,
      },
      files: [`${name}.d.ts`, `${name}-usage.ts`],
    }),
  );
  const result = spawnSync(TSC, ['-p', `${project}.tsconfig.json`], { encoding: 'utf8', cwd: directory.path });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('harness types', () => {
  it('--dts prints declarations that type-check against a script using the default tools', async () => {
    const run = await harness(['types', '--dts']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('declare const tools: {');
    const usage = [
      'const manifest = await tools.readFile({ path: "package.json", startLine: 1 });',
      'const lines: number = manifest.totalLines;',
      'const listing = await tools.listDir({ depth: 2 });',
      'const paths: string[] = listing.entries.map((entry) => entry.path);',
      'const found = await tools.grep({ pattern: "TODO" });',
      'await tools.applyPatch({ patch: "*** Begin Patch\\n*** End Patch" });',
      'console.log(lines, paths.length, found, context.scriptId);',
      'try { await tools.writeFile({ path: "a.txt", content: "a" }); } catch (error) {',
      '  if (error instanceof ToolError) console.warn(error.code);',
      '}',
      '// @ts-expect-error: readFile needs a path',
      'await tools.readFile({});',
      '// @ts-expect-error: there is no such tool',
      'await tools.deleteEverything();',
      '// @ts-expect-error: exec is not offered by default',
      'await tools.exec({ command: ["ls"] });',
    ].join('\n');
    const checked = await typeCheck('default', run.stdout, usage);
    expect(checked.output).toBe('');
    expect(checked.status).toBe(0);
  });

  it('--tools chooses what is declared: exec appears when asked for', async () => {
    const run = await harness(['types', '--dts', '--tools', 'readFile,exec']);
    expect(run.code).toBe(0);
    const checked = await typeCheck(
      'exec',
      run.stdout,
      [
        'const result = await tools.exec({ command: ["git", "status"] });',
        'await tools.readFile({ path: "x" });',
        '// @ts-expect-error: listDir was not asked for',
        'await tools.listDir({});',
        'console.log(result);',
      ].join('\n'),
    );
    expect(checked.output).toBe('');
    expect(checked.status).toBe(0);
  });

  it('without flags prints the declarations and the prompt section; --prompt only the section', async () => {
    const both = await harness(['types']);
    expect(both.code).toBe(0);
    expect(both.stdout).toMatch(/^── declarations \(\.d\.ts\) ─+\n\/\*\*/);
    expect(both.stdout).toContain('── system-prompt section ─');
    expect(both.stdout).toContain('## Code mode');

    const prompt = await harness(['types', '--prompt', '--timeout-ms', '5000']);
    expect(prompt.stdout).toMatch(/^## Code mode\n/);
    expect(prompt.stdout).toContain('Limits per program: 5 s');
    expect(prompt.stdout).toContain('readFile(args: {');
  });

  it('--json holds the tool names, the declarations and the prompt section', async () => {
    const run = await harness(['types', '--json', '--tools', 'files']);
    expect(run.code).toBe(0);
    const report = parseSingleJson(run.stdout);
    expect(report.tools).toEqual(['listDir', 'readFile', 'writeFile']);
    expect(report.declarations).toContain('writeFile(args: {');
    expect(report.prompt).toContain('## Code mode');
  });

  it('--dts with --prompt, or an unknown tool, is a usage error', async () => {
    const both = await harness(['types', '--dts', '--prompt']);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('harness: --dts and --prompt each print one part; leave both out to print both\n');
    const unknown = await harness(['types', '--tools', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^harness: --tools: unknown tool: nope/);
  });
});
