/**
 * Drives the real `harness` executable as a child process: exit codes, stdout/stderr separation
 * and, above all, that the process ends on its own after runaway scripts.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('./bin.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Long enough for the slowest scenario (the memory bomb); a process still alive then is hanging. */
const HANG_AFTER_MS = 45_000;

interface CliRun {
  readonly code: number | null;
  /** Set when the process had to be killed: it did not exit on its own. */
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly elapsedMs: number;
}

/** Runs bin.ts with the Node that runs the tests (the repository's Node 24). */
function harness(args: readonly string[], options: { cwd?: string; stdin?: string } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), HANG_AFTER_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, elapsedMs: performance.now() - started });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

/** stdout of `--json` must be exactly one JSON object and nothing else. */
function parseSingleJson(stdout: string): Record<string, unknown> {
  expect(stdout.endsWith('\n')).toBe(true);
  expect(stdout.trimEnd().split('\n')).toHaveLength(1);
  const parsed: unknown = JSON.parse(stdout);
  expect(parsed).toBeTypeOf('object');
  return parsed as Record<string, unknown>;
}

let workspace: string;
let scripts: string;

beforeAll(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'script-harness-cli-workspace-'));
  scripts = await mkdtemp(join(tmpdir(), 'script-harness-cli-scripts-'));
  await mkdir(join(workspace, 'src'));
  await writeFile(join(workspace, 'package.json'), '{\n  "name": "tiny-app",\n  "version": "1.2.3"\n}\n');
  await writeFile(join(workspace, 'src', 'main.ts'), 'export const main = () => 1;\n');
});

afterAll(async () => {
  await rm(workspace, { recursive: true, force: true });
  await rm(scripts, { recursive: true, force: true });
});

async function script(name: string, source: string): Promise<string> {
  const path = join(scripts, name);
  await writeFile(path, source);
  return path;
}

describe('harness run', () => {
  it('F3: TypeScript with interfaces, generics and Promise.all runs through the CLI', async () => {
    const file = await script(
      'f3.ts',
      [
        'interface Manifest { name: string; version: string }',
        'interface Entry { path: string; type: "file" | "directory" | "symlink"; size: number }',
        'function parse<T>(text: string): T { return JSON.parse(text) as T; }',
        'function pathsOf<T extends { path: string }>(items: readonly T[]): string[] {',
        '  return items.map((item) => item.path).sort();',
        '}',
        'const [a, b] = await Promise.all([tools.readFile({ path: "package.json" }), tools.listDir({ depth: 2 })]);',
        'const manifest = parse<Manifest>(a.content);',
        'const entries: Entry[] = b.entries;',
        'return { name: manifest.name, version: manifest.version, lines: a.totalLines, paths: pathsOf(entries) };',
      ].join('\n'),
    );
    const run = await harness(['run', file, '--json', '--workspace', workspace]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = parseSingleJson(run.stdout);
    expect(report).toEqual({
      ok: true,
      value: { name: 'tiny-app', version: '1.2.3', lines: 4, paths: ['package.json', 'src', 'src/main.ts'] },
      calls: [
        { callId: '1', tool: 'readFile', args: { path: 'package.json' }, status: 'ok', durationMs: expect.any(Number) },
        { callId: '2', tool: 'listDir', args: { depth: 2 }, status: 'ok', durationMs: expect.any(Number) },
      ],
      console: [],
      warnings: [],
      metadata: { durationMs: expect.any(Number), toolCalls: 2, runtime: 'quickjs' },
    });
  });

  it('F3: without --json the console streams with a [script] prefix before the result and the call table', async () => {
    const file = await script(
      'report.ts',
      'console.log("reading");\nconst file = await tools.readFile({ path: "package.json" });\nconsole.warn("done");\nreturn file.totalLines;\n',
    );
    const run = await harness(['run', file, '--workspace', workspace]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^\[script\] reading\n\[script\] warn: done\nResult: ok \(\d+ ms, 1 tool call, quickjs\)\n4\n\nTool calls \(1\)\n {2}# {2}tool {6}status {2}ms {2}args\n {2}1 {2}readFile {2}ok +\d+ {2}\{"path":"package.json"\}\n$/,
    );
  });

  it('F29: a syntax error reports SYNTAX_ERROR with the model’s own line and column, exit 1', async () => {
    const file = await script(
      'f29.ts',
      'interface Point {\n  x: number;\n  y: number;\n}\nconst origin: Point = { x: 0, y: 0 };\nconst broken: number = origin.x +;\nreturn broken;\n',
    );
    const json = await harness(['run', file, '--json']);
    expect(json.code).toBe(1);
    expect(parseSingleJson(json.stdout).error).toEqual({
      code: 'SYNTAX_ERROR',
      message: expect.any(String),
      line: 6,
      column: 34,
    });
    const readable = await harness(['run', file]);
    expect(readable.code).toBe(1);
    expect(readable.stdout).toContain('SYNTAX_ERROR at line 6, column 34: ');
    expect(readable.stdout).toContain('Remedy: Fix the syntax at the reported line and column');
    expect(readable.stderr).toBe('');
  });

  it('F29: a .js file is run as JavaScript, so type annotations are a syntax error there', async () => {
    const file = await script('typed.js', 'const n: number = 1;\nreturn n;\n');
    const asJs = await harness(['run', file, '--json']);
    expect(asJs.code).toBe(1);
    expect(parseSingleJson(asJs.stdout).error).toMatchObject({ code: 'SYNTAX_ERROR', line: 1 });
    const asTs = await harness(['run', file, '--json', '--language', 'ts']);
    expect(asTs.code).toBe(0);
    expect(parseSingleJson(asTs.stdout).value).toBe(1);
  });

  it('S5: while(true){} with --timeout-ms 300 ends in TIMEOUT, exit 1, and the process exits by itself', async () => {
    const file = await script('s5.ts', 'while (true) {}\n');
    const run = await harness(['run', file, '--json', '--timeout-ms', '300']);
    expect(run.signal).toBeNull();
    expect(run.code).toBe(1);
    expect(parseSingleJson(run.stdout).error).toMatchObject({ code: 'TIMEOUT' });
    expect(run.elapsedMs).toBeLessThan(15_000);
    const readable = await harness(['run', file, '--timeout-ms', '300']);
    expect(readable.signal).toBeNull();
    expect(readable.code).toBe(1);
    expect(readable.stdout).toMatch(/TIMEOUT: .*Remedy: /);
  });

  it('S5: the deadline holds while the script is busy inside a single long native call', async () => {
    // String.prototype.replace over 150 million characters never consults the interrupt handler,
    // and with enough memory it cannot end any other way: only the pool's kill switch stops it.
    const file = await script('s5-native.js', 'return "a".repeat(1.5e8).replace(/a/g, "bb").length;\n');
    const run = await harness(['run', file, '--json', '--timeout-ms', '300', '--memory-mb', '2048']);
    expect(run.signal).toBeNull();
    expect(run.code).toBe(1);
    expect(parseSingleJson(run.stdout).error).toMatchObject({ code: 'TIMEOUT' });
    expect(run.elapsedMs).toBeLessThan(10_000);
  });

  it('S7: a memory bomb ends in MEMORY_LIMIT, exit 1, and the process exits by itself', {
    timeout: 60_000,
  }, async () => {
    const file = await script('s7.js', 'const a = []; for(;;) a.push(new Array(1e6).fill(0))\n');
    const run = await harness(['run', file, '--json']);
    expect(run.signal).toBeNull();
    expect(run.code).toBe(1);
    expect(parseSingleJson(run.stdout).error).toMatchObject({ code: 'MEMORY_LIMIT', line: 1 });
  });

  it('reads the script from stdin when the file is "-"', async () => {
    const run = await harness(['run', '-', '--json', '--workspace', workspace], {
      stdin:
        'const files: string[] = (await tools.listDir({})).entries.map((e: { path: string }) => e.path);\nreturn files.length;\n',
    });
    expect(run.code).toBe(0);
    expect(parseSingleJson(run.stdout)).toMatchObject({ ok: true, value: 2 });
  });

  it('with --approve allow, writes files into the workspace and only there', async () => {
    const run = await harness(['run', '-', '--json', '--approve', 'allow'], {
      cwd: workspace,
      stdin: [
        'const written = await tools.writeFile({ path: "out/result.txt", content: "done\\n" });',
        'let escaped = "no";',
        'try { await tools.writeFile({ path: "../escape.txt", content: "x" }); escaped = "yes"; }',
        'catch (error) { escaped = (error as { code: string }).code; }',
        'return { written, escaped };',
      ].join('\n'),
    });
    expect(run.code).toBe(0);
    expect(parseSingleJson(run.stdout).value).toEqual({
      written: { path: 'out/result.txt', bytes: 5, created: true },
      escaped: 'POLICY_DENIED',
    });
  });

  it.each([
    [['run', 'no-such-script.ts'], /^harness: cannot read script "no-such-script.ts": no such file or directory\n$/],
    [['run', '-', '--timeout-ms', 'abc'], /^harness: option '--timeout-ms <ms>' argument 'abc' is invalid\. .+\n$/],
    [['run', '-', '--memory-mb', '0'], /^harness: option '--memory-mb <mb>' argument '0' is invalid\. .+\n$/],
    [['run', '-', '--workspace', 'no-such-directory'], /^harness: cannot use workspace "no-such-directory": .+\n$/],
    [['run', '-', '--no-such-flag'], /^harness: unknown option '--no-such-flag'\n$/],
    [['frobnicate'], /^harness: unknown command 'frobnicate'\n$/],
  ])('usage error %j: one line on stderr, nothing on stdout, exit 2', async (args, message) => {
    const run = await harness(args, { stdin: 'return 1' });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('harness demo', () => {
  it('demo: runs the transcript, prints the history in message order and exits 0', async () => {
    const run = await harness(['demo']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const order = [
      '── reasoning',
      'Promise.all',
      '── text',
      "I'll look at the project layout",
      '── script (ts, call_',
      'interface PackageManifest',
      '── tool calls',
      'Tool calls (4)',
      '── script output (ok',
      '[script] 4 files, 2 TODOs in src/app.ts',
      '"summaryFile": "SUMMARY.md"',
      '── text',
      'Once the script is back',
      '── file written by the script: SUMMARY.md',
      '# weather-digest 0.3.1',
      '── summary',
      '1 script succeeded with 4 tool calls; the temporary workspace was removed.',
    ];
    let from = 0;
    for (const fragment of order) {
      const at = run.stdout.indexOf(fragment, from);
      expect(at, `"${fragment}" after offset ${from}`).toBeGreaterThanOrEqual(from);
      from = at + fragment.length;
    }
    // Tool calls are listed in the order the script made them.
    expect(run.stdout).toMatch(
      /1 {2}listDir .*\n.*2 {2}readFile .*package\.json.*\n.*3 {2}readFile .*src\/app\.ts.*\n.*4 {2}writeFile /,
    );
    // The temporary workspace never shows: the output is the same on every machine.
    expect(run.stdout).not.toContain(tmpdir());
    expect(run.stdout).not.toContain('script-harness-demo-');
  });

  it('demo: --json prints the history items and results as one JSON object', async () => {
    const run = await harness(['demo', '--json']);
    expect(run.code).toBe(0);
    const report = parseSingleJson(run.stdout) as {
      ok: boolean;
      items: { type: string }[];
      results: { ok: boolean; calls: unknown[] }[];
      written: { path: string; content: string }[];
    };
    expect(report.ok).toBe(true);
    expect(report.items.map((item) => item.type)).toEqual([
      'reasoning',
      'text',
      'script_tool_call',
      'script_tool_call_output',
      'text',
    ]);
    expect(report.results).toHaveLength(1);
    expect(report.results[0]?.calls).toHaveLength(4);
    expect(report.written.map((file) => file.path)).toEqual(['SUMMARY.md']);
    expect(run.stdout).not.toContain('script-harness-demo-');
  });
});
