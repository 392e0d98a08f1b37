/**
 * The file tools driven by real scripts: QuickJS sandbox, harness validation and error plumbing.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHarness, type Harness, type LimitsInput } from '@script-harness/core';
import { createQuickJSRuntime } from '@script-harness/runtime-quickjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileTools } from './files.ts';

let base: string;
let root: string;
let outside: string;
let harness: Harness | undefined;

beforeEach(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'script-harness-e2e-'));
  root = path.join(base, 'root');
  outside = path.join(base, 'outside');
  await fs.mkdir(root);
  await fs.mkdir(outside);
  await fs.writeFile(path.join(outside, 'secret.txt'), 'outside secret\n');
  await fs.writeFile(path.join(root, 'a.txt'), 'hello from a\n');
  await fs.mkdir(path.join(root, 'docs'));
  await fs.writeFile(path.join(root, 'docs', 'guide.md'), '# Guide\n');
});

afterEach(async () => {
  await harness?.close();
  harness = undefined;
  await fs.rm(base, { recursive: true, force: true });
});

async function fileHarness(limits?: LimitsInput): Promise<Harness> {
  harness = createHarness({
    runtime: await createQuickJSRuntime(),
    tools: createFileTools({ root }),
    ...(limits === undefined ? {} : { limits }),
  });
  return harness;
}

async function hostPathsOf(directory: string): Promise<string[]> {
  return [directory, await fs.realpath(directory)];
}

describe('file tools in a script', () => {
  it('reads a file and lists the root in parallel', async () => {
    const run = await fileHarness();
    const result = await run.run(
      "const [a, b] = await Promise.all([tools.readFile({ path: 'a.txt' }), tools.listDir({})]); return { a: a.content, n: b.entries.length }",
    );
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.value).toEqual({ a: 'hello from a\n', n: 2 });
    // Records are kept in completion order, which varies for parallel calls.
    expect(result.calls.map((record) => `${record.tool}:${record.status}`).sort()).toEqual([
      'listDir:ok',
      'readFile:ok',
    ]);
  });

  it('F7: the output of one tool feeds the next', async () => {
    const run = await fileHarness();
    const result = await run.run(`
      const source = await tools.readFile({ path: 'a.txt' });
      const written = await tools.writeFile({ path: 'out/upper.txt', content: source.content.toUpperCase() });
      return written;
    `);
    expect(result.error).toBeUndefined();
    expect(result.value).toEqual({ path: 'out/upper.txt', bytes: 13, created: true });
    expect(await fs.readFile(path.join(root, 'out', 'upper.txt'), 'utf8')).toBe('HELLO FROM A\n');
  });

  it('refuses unknown argument keys with TOOL_VALIDATION before the tool runs', async () => {
    const run = await fileHarness();
    const result = await run.run(`
      const codes = [];
      const attempts = [
        () => tools.readFile({ path: 'a.txt', encoding: 'utf8' }),
        () => tools.writeFile({ path: 'b.txt', content: 'x', mode: 0o777 }),
        () => tools.listDir({ path: '.', recursive: true }),
        () => tools.readFile({ path: 'a.txt', startLine: 5, endLine: 2 }),
      ];
      for (const attempt of attempts) {
        try { await attempt(); codes.push('ran'); } catch (error) { codes.push(error.code); }
      }
      return codes;
    `);
    expect(result.value).toEqual(['TOOL_VALIDATION', 'TOOL_VALIDATION', 'TOOL_VALIDATION', 'TOOL_VALIDATION']);
    await expect(fs.access(path.join(root, 'b.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('S41: refusals reach the script as POLICY_DENIED with no host path in them (threat 21)', async () => {
    await fs.symlink(outside, path.join(root, 'out'));
    await fs.symlink(path.join(outside, 'secret.txt'), path.join(root, 'leak.txt'));
    const run = await fileHarness();
    const result = await run.run(`
      const attempts = [
        () => tools.readFile({ path: '../outside/secret.txt' }),
        () => tools.readFile({ path: '/etc/passwd' }),
        () => tools.readFile({ path: 'a.txt\\u0000' }),
        () => tools.readFile({ path: 'leak.txt' }),
        () => tools.listDir({ path: 'out' }),
        () => tools.writeFile({ path: 'out/planted.txt', content: 'x' }),
        () => tools.readFile({ path: 'missing.txt' }),
        () => tools.readFile({ path: 'docs' }),
      ];
      const errors = [];
      for (const attempt of attempts) {
        try { await attempt(); errors.push({ code: 'none' }); } catch (error) {
          errors.push({ code: error.code, message: error.message });
        }
      }
      return errors;
    `);
    expect(result.ok).toBe(true);
    const errors = result.value as { code: string; message: string }[];
    expect(errors.map((error) => error.code)).toEqual([
      'POLICY_DENIED',
      'POLICY_DENIED',
      'POLICY_DENIED',
      'POLICY_DENIED',
      'POLICY_DENIED',
      'POLICY_DENIED',
      'TOOL_ERROR',
      'TOOL_ERROR',
    ]);
    expect(errors[0]?.message).toContain('"../outside/secret.txt"');
    expect(errors[6]?.message).toContain('"missing.txt"');
    const everything = JSON.stringify(result);
    for (const hostPath of await hostPathsOf(base)) expect(everything).not.toContain(hostPath);
    expect(await fs.readdir(outside)).toEqual(['secret.txt']);
  });

  it('truncates a read to the harness tool output limit instead of failing the call', async () => {
    await fs.writeFile(path.join(root, 'big.txt'), 'x'.repeat(99).concat('\n').repeat(200));
    const run = await fileHarness({ maxToolOutputBytes: 4096 });
    const result = await run.run(`
      const r = await tools.readFile({ path: 'big.txt' });
      return { truncated: r.truncated, totalLines: r.totalLines, length: r.content.length };
    `);
    expect(result.error).toBeUndefined();
    expect(result.value).toMatchObject({ truncated: true, totalLines: 200 });
    const { length } = result.value as { length: number };
    expect(length % 100).toBe(0);
    expect(length).toBeLessThanOrEqual(4096 - 1024);
  });
});
