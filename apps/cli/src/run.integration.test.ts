/**
 * `harness run` as a child process: approvals on a terminal (a pseudo-terminal) and without one,
 * the shared flags (--tools, --config, --approve), --mode, --runtime and the exit codes 3 and 4.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  harness,
  harnessInTerminal,
  parseSingleJson,
  type TemporaryDirectory,
  temporaryDirectory,
} from './test-support.ts';

let scratch: TemporaryDirectory;
let counter = 0;

beforeAll(async () => {
  scratch = await temporaryDirectory('run');
});

afterAll(async () => {
  await scratch.remove();
});

/** A fresh workspace with a manifest and one source file. */
async function workspace(): Promise<string> {
  const root = join(scratch.path, `workspace-${++counter}`);
  await mkdir(join(root, 'src'), { recursive: true });
  await writeFile(join(root, 'package.json'), '{ "name": "tiny-app", "version": "1.2.3" }\n');
  await writeFile(join(root, 'src', 'main.ts'), 'export const main = () => 1;\n');
  return root;
}

async function file(name: string, content: string): Promise<string> {
  const path = join(scratch.path, `${++counter}-${name}`);
  await writeFile(path, content);
  return path;
}

const WRITING_SCRIPT = [
  'const manifest = await tools.readFile({ path: "package.json" });',
  'console.log("read", manifest.totalLines, "line");',
  'await tools.writeFile({ path: "NOTES.md", content: "# notes\\n", token: undefined });',
  'return "written";',
].join('\n');

describe('approvals on a terminal', () => {
  it('F11: asks on the terminal with the tool, redacted arguments and the calling line; "y" runs the call', async () => {
    const root = await workspace();
    const script = await file(
      'f11.ts',
      [
        'await tools.readFile({ path: "package.json" });',
        'const key = "sk-live-0123456789";',
        'await tools.exec({ command: ["node", "-e", "require(\'fs\').writeFileSync(\'ran.txt\', \'yes\')", "--", "--api-key=" + key] });',
        'return "done";',
      ].join('\n'),
    );
    const run = await harnessInTerminal(
      ['run', script, '--workspace', root, '--tools', 'files,exec'],
      [{ after: 'Allow this call of tools.exec?', type: 'y' }],
    );
    expect(run.signal).toBeNull();
    expect(run.code).toBe(0);
    expect(run.screen).toContain('tools.exec needs approval');
    expect(run.screen).toContain('call #2 of the script');
    expect(run.screen).toContain('called from line 3: await tools.exec({ command: ["node"');
    // Secrets are redacted in what the person sees; the command still ran with them.
    expect(run.screen).toContain('--api-key=[redacted]');
    expect(run.screen).not.toContain('sk-live-0123456789');
    expect(run.screen).toContain('tools.exec approved');
    expect(run.screen).toMatch(/Result: ok \(.+, 2 tool calls, quickjs\)\n"done"/);
    expect(await readFile(join(root, 'ran.txt'), 'utf8')).toBe('yes');
  });

  it('F12: "n" at the prompt denies the call: APPROVAL_DENIED, nothing written, exit 1', async () => {
    const root = await workspace();
    const script = await file('f12.ts', WRITING_SCRIPT);
    const run = await harnessInTerminal(
      ['run', script, '--workspace', root],
      [{ after: 'Allow this call of tools.writeFile?', type: 'n' }],
    );
    expect(run.code).toBe(1);
    expect(run.screen).toContain('[script] read 1 line');
    expect(run.screen).toContain('called from line 3: await tools.writeFile({ path: "NOTES.md"');
    expect(run.screen).toContain('tools.writeFile denied');
    expect(run.screen).toContain('APPROVAL_DENIED at line 3');
    expect(run.screen).toContain('tools.writeFile was denied: the person at the terminal said no');
    expect(existsSync(join(root, 'NOTES.md'))).toBe(false);
  });

  it('F11: calls made together are asked about one at a time, in call order', async () => {
    const root = await workspace();
    const script = await file(
      'parallel.ts',
      [
        'const settled = await Promise.allSettled([',
        '  tools.writeFile({ path: "a.txt", content: "a" }),',
        '  tools.writeFile({ path: "b.txt", content: "b" }),',
        ']);',
        'return settled.map((outcome) => outcome.status);',
      ].join('\n'),
    );
    const run = await harnessInTerminal(
      ['run', script, '--workspace', root, '--json'],
      [
        { after: ['call #1 of the script', 'Allow this call of tools.writeFile?'], type: 'y' },
        { after: ['call #2 of the script', 'Allow this call of tools.writeFile?'], type: 'n' },
      ],
    );
    expect(run.code).toBe(0);
    // Called from two lines: both are shown as candidates.
    expect(run.screen).toContain('called from one of\n│  line 2: tools.writeFile({ path: "a.txt"');
    expect(run.screen.indexOf('"path": "a.txt"')).toBeLessThan(run.screen.indexOf('"path": "b.txt"'));
    const report = JSON.parse(run.screen.slice(run.screen.lastIndexOf('\n{"ok"'))) as { value: unknown };
    expect(report.value).toEqual(['fulfilled', 'rejected']);
    expect(await readFile(join(root, 'a.txt'), 'utf8')).toBe('a');
    expect(existsSync(join(root, 'b.txt'))).toBe(false);
  });
});

describe('the spinner', () => {
  it('shows which tools are running on a terminal, and never in a pipe', async () => {
    const root = await workspace();
    const script = await file(
      'slow.ts',
      'console.log("before");\nawait tools.exec({ command: ["sleep", "1"] });\nreturn "after";',
    );
    const args = ['run', script, '--workspace', root, '--tools', 'exec', '--approve', 'allow'];
    const terminal = await harnessInTerminal(args, []);
    expect(terminal.code).toBe(0);
    expect(terminal.screen).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] running tools\.exec/);
    expect(terminal.screen).toContain('[script] before');

    const piped = await harness(args);
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('');
    expect(piped.stdout).not.toContain('running tools.exec');
  });
});

describe('approvals without a terminal', () => {
  it('F12: --approve ask (the default) denies calls that need approval when stdin is not a terminal', async () => {
    const root = await workspace();
    const script = await file('no-tty.ts', WRITING_SCRIPT);
    const run = await harness(['run', script, '--workspace', root, '--json']);
    expect(run.code).toBe(1);
    const report = parseSingleJson(run.stdout);
    expect(report.error).toMatchObject({ code: 'APPROVAL_DENIED', line: 3 });
    expect((report.error as { message: string }).message).toContain('no terminal to ask on; run with --approve allow');
    expect(report.calls).toMatchObject([
      { tool: 'readFile', status: 'ok' },
      { tool: 'writeFile', status: 'error', error: { code: 'APPROVAL_DENIED' } },
    ]);
    expect(existsSync(join(root, 'NOTES.md'))).toBe(false);
  });

  it('--approve allow runs such calls; --approve deny refuses them', async () => {
    const root = await workspace();
    const script = await file('allow.ts', WRITING_SCRIPT);
    const allowed = await harness(['run', script, '--workspace', root, '--approve', 'allow', '--json']);
    expect(allowed.code).toBe(0);
    expect(parseSingleJson(allowed.stdout).value).toBe('written');
    expect(await readFile(join(root, 'NOTES.md'), 'utf8')).toBe('# notes\n');

    const denied = await harness(['run', script, '--workspace', root, '--approve', 'deny', '--json']);
    expect(denied.code).toBe(1);
    expect((parseSingleJson(denied.stdout).error as { message: string }).message).toContain('denied by --approve deny');
  });

  it('--approve allow does not loosen what the policy denies (the network)', async () => {
    const root = await workspace();
    const config = await file(
      'http.json',
      JSON.stringify({ http: { allowHosts: ['api.example.com'] }, tools: { files: false } }),
    );
    const script = await file('http.ts', 'return await tools.http({ url: "https://api.example.com/" });');
    const run = await harness(['run', script, '--workspace', root, '--config', config, '--approve', 'allow', '--json']);
    expect(run.code).toBe(1);
    expect(parseSingleJson(run.stdout).error).toMatchObject({ code: 'POLICY_DENIED' });
  });
});

describe('the shared flags', () => {
  it('--tools limits the tools the script can call', async () => {
    const root = await workspace();
    const script = await file(
      'tools.ts',
      'const found = await tools.grep({ pattern: "main" });\nconst listed = await tools.listDir({});\nreturn [found.matches.length, listed.entries.length];',
    );
    const all = await harness(['run', script, '--workspace', root, '--json']);
    expect(all.code).toBe(0);
    const narrowed = await harness(['run', script, '--workspace', root, '--tools', 'listDir', '--json']);
    expect(narrowed.code).toBe(1);
    expect(parseSingleJson(narrowed.stdout).error).toMatchObject({ code: 'TOOL_NOT_FOUND', line: 1 });
  });

  it('an unknown name in --tools is a usage error that suggests the closest one', async () => {
    const run = await harness(['run', '-', '--tools', 'files,redFile'], { stdin: 'return 1' });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^harness: --tools: unknown tool: redFile \(did you mean readFile\?\)\. Known groups: /);
  });

  it('--config: workspace, limits and policy rules come from the file; flags win over it', async () => {
    const root = await workspace();
    const config = await file(
      'config.json',
      JSON.stringify({
        workspace: root,
        limits: { timeoutMs: 400 },
        policy: {
          rules: [{ tool: 'writeFile', decision: 'allow', when: { paths: ['out/**'] }, reason: 'scratch area' }],
        },
      }),
    );
    const writes = await file('writes.ts', 'await tools.writeFile({ path: "out/a.txt", content: "x" });\nreturn "ok";');
    const ruled = await harness(['run', writes, '--config', config, '--json'], { cwd: scratch.path });
    expect(ruled.code).toBe(0);
    expect(await readFile(join(root, 'out', 'a.txt'), 'utf8')).toBe('x');

    const loop = await file('loop.ts', 'while (true) {}');
    const limited = await harness(['run', loop, '--config', config, '--json']);
    expect(limited.code).toBe(1);
    expect(parseSingleJson(limited.stdout).error).toMatchObject({ code: 'TIMEOUT' });
    expect((parseSingleJson(limited.stdout).error as { message: string }).message).toContain('400 ms');

    const overridden = await harness(['run', loop, '--config', config, '--timeout-ms', '300', '--json']);
    expect((parseSingleJson(overridden.stdout).error as { message: string }).message).toContain('300 ms');
  });

  it('an invalid config file ends with exit code 3 and names every problem', async () => {
    const config = await file(
      'broken.json',
      JSON.stringify({
        limits: { timeoutMs: -1 },
        approvals: { mode: 'sometimes' },
        tools: { exec: 'yes' },
        bogus: 1,
      }),
    );
    const run = await harness(['run', '-', '--config', config], { stdin: 'return 1' });
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    const message = run.stderr.trim();
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toMatch(/^harness: CONFIG_INVALID: config file ".+broken\.json" is invalid: /);
    for (const field of ['limits.timeoutMs', 'approvals.mode', 'tools.exec', '(root): Unrecognized key: "bogus"']) {
      expect(message).toContain(field);
    }
    expect(message).toContain('Fix the file and run again');
    expect(message).not.toMatch(/\n\s+at /);

    const missing = await harness(['run', '-', '--config', 'no-such-config.json'], { stdin: 'return 1' });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toBe(
      'harness: CONFIG_INVALID: cannot use config file "no-such-config.json": there is no such file. Fix the file and run again; docs/cli.md describes every field.\n',
    );
  });

  it('a config file written for harness serve works for harness run', async () => {
    const root = await workspace();
    const config = await file(
      'server.json',
      JSON.stringify({
        port: 9999,
        apiKeys: [{ tenant: 'team-a', key: 'team-a-key-0123456789' }],
        workspace: root,
        tools: { files: true, spawn: true },
        mode: 'enabled',
      }),
    );
    const run = await harness(['run', '-', '--config', config, '--json'], {
      stdin: 'return (await tools.readFile({ path: "package.json" })).totalLines',
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(parseSingleJson(run.stdout).value).toBe(1);
  });
});

describe('live output, modes and runtimes', () => {
  it('console lines and progress stream with the [script] prefix before the result', async () => {
    const script = await file(
      'progress.ts',
      'console.log("starting");\ncontext.emitProgress("half way");\nconsole.error("oops");\nreturn 1;',
    );
    const run = await harness(['run', script]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^\[script\] starting\n\[script\] progress: half way\n\[script\] error: oops\nResult: ok /,
    );
  });

  it('--mode dry-run validates without running; --mode disabled runs nothing', async () => {
    const root = await workspace();
    const script = await file('modes.ts', 'await tools.writeFile({ path: "x.txt", content: "x" });\nreturn 1;');
    const dry = await harness([
      'run',
      script,
      '--workspace',
      root,
      '--mode',
      'dry-run',
      '--approve',
      'allow',
      '--json',
    ]);
    expect(dry.code).toBe(0);
    expect(parseSingleJson(dry.stdout)).toEqual({
      ok: true,
      mode: 'dry-run',
      report: { ok: true, findings: [], referencedTools: ['writeFile'] },
    });
    const disabled = await harness(['run', script, '--workspace', root, '--mode', 'disabled', '--approve', 'allow']);
    expect(disabled.code).toBe(1);
    expect(disabled.stdout).toContain('Not run: code execution is disabled');
    expect(existsSync(join(root, 'x.txt'))).toBe(false);
  });

  it('--runtime isolated-vm runs the script in a V8 isolate', async () => {
    const run = await harness(['run', '-', '--runtime', 'isolated-vm', '--json'], {
      stdin: 'const n: number = (await tools.listDir({})).entries.length;\nreturn 6 * 7 + n * 0;',
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(parseSingleJson(run.stdout)).toMatchObject({ ok: true, value: 42, metadata: { runtime: 'isolated-vm' } });
  });

  it('--runtime isolated-vm where its package cannot be loaded: RUNTIME_UNAVAILABLE, exit code 4', async () => {
    // A module hook makes the runtime package unresolvable, as on a machine without it.
    const hook = await file(
      'hide-runtime-ivm.mjs',
      [
        "import { registerHooks } from 'node:module';",
        'registerHooks({',
        '  resolve(specifier, context, nextResolve) {',
        "    if (specifier === '@script-harness/runtime-ivm') {",
        '      const error = new Error("Cannot find package \'" + specifier + "\'");',
        "      throw Object.assign(error, { code: 'ERR_MODULE_NOT_FOUND' });",
        '    }',
        '    return nextResolve(specifier, context);',
        '  },',
        '});',
      ].join('\n'),
    );
    const run = await harness(['run', '-', '--runtime', 'isolated-vm', '--json'], {
      stdin: 'return 1',
      nodeArgs: ['--import', pathToFileURL(hook).href],
    });
    expect(run.code).toBe(4);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      "harness: RUNTIME_UNAVAILABLE: the isolated-vm runtime is not available here: @script-harness/runtime-ivm cannot be loaded (Cannot find package '@script-harness/runtime-ivm'). " +
        'Remedy: Install the runtime dependency named in the message, or choose another runtime.\n',
    );
    // The default runtime is unaffected.
    const quickjs = await harness(['run', '-', '--json'], {
      stdin: 'return 1',
      nodeArgs: ['--import', pathToFileURL(hook).href],
    });
    expect(quickjs.code).toBe(0);
  });

  it('an unknown --runtime is a usage error', async () => {
    const run = await harness(['run', '-', '--runtime', 'v8'], { stdin: 'return 1' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^harness: option '--runtime <name>' argument 'v8' is invalid\. Expected one of quickjs, isolated-vm\.\n$/,
    );
  });
});
