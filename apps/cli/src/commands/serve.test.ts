import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../io.ts';
import { main } from '../main.ts';
import { configShowCommand, NODE_ROLES, parsePort, serveCommand } from './serve.ts';

const BIN = fileURLToPath(new URL('../bin.ts', import.meta.url));
const KEY = 'team-a-key-0123456789abcdef';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'script-harness-cli-serve-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function capture(): { io: CliIo; stdout: () => string; stderr: () => string } {
  let stdout = '';
  let stderr = '';
  return {
    io: {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      readStdin: async () => new Uint8Array(),
      cwd: directory,
    },
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

describe('parsePort', () => {
  it('accepts 0 to 65535 only', () => {
    expect(parsePort('0')).toBe(0);
    expect(parsePort(' 8080 ')).toBe(8080);
    for (const bad of ['-1', '65536', 'http', '80.5', '']) expect(() => parsePort(bad)).toThrow(/0 to 65535/);
  });
});

describe('harness config show', () => {
  it('prints the configuration with API keys masked', async () => {
    const file = join(directory, 'server.json');
    await writeFile(file, JSON.stringify({ queue: { maxQueued: 12 } }));
    const { io, stdout, stderr } = capture();
    const code = await configShowCommand({ config: 'server.json', port: 9000 }, io, {
      HARNESS_API_KEYS: `team-a:${KEY}`,
      HARNESS_SHUTDOWN_GRACE_MS: '5000',
    });
    expect(stderr()).toBe('');
    expect(code).toBe(0);
    const shown = JSON.parse(stdout()) as Record<string, unknown>;
    expect(shown).toMatchObject({
      port: 9000,
      shutdownGraceMs: 5000,
      queue: { maxQueued: 12 },
      apiKeys: [{ tenant: 'team-a', key: '********' }],
    });
    expect(stdout()).not.toContain(KEY);
  });

  it('lists every problem of an invalid configuration and exits 3', async () => {
    const { io, stdout, stderr } = capture();
    const code = await configShowCommand({ workspace: 'missing-dir' }, io, {
      HARNESS_PORT: 'eighty',
      HARNESS_QUEUE_CONCURRENCY: '0',
    });
    expect(code).toBe(3);
    expect(stdout()).toBe('');
    expect(stderr()).toMatch(/^harness: invalid configuration:\n/);
    expect(stderr()).toContain('HARNESS_PORT: expected a whole number, got "eighty"');
    expect(stderr()).toContain('queue.concurrency (HARNESS_QUEUE_CONCURRENCY): Too small');
    expect(stderr()).toContain('workspace (--workspace): missing-dir cannot be used (ENOENT)');
    expect(stderr()).toContain('no API keys are configured');
  });

  it('takes --tools, --approve and --role into the configuration, and refuses a role without Redis', async () => {
    const { io, stdout, stderr } = capture();
    const env = { HARNESS_API_KEYS: `team-a:${KEY}`, HARNESS_REDIS_URL: 'redis://:hunter2@cache.internal:6379' };
    const code = await configShowCommand({ tools: ['files', 'grep'], approve: 'deny', role: 'worker' }, io, env);
    expect(stderr()).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout())).toMatchObject({
      role: 'worker',
      tools: { select: ['files', 'grep'] },
      approvals: { mode: 'deny' },
      redis: { url: 'redis://:********@cache.internal:6379' },
    });
    expect(stdout()).not.toContain('hunter2');

    const refused = capture();
    expect(await configShowCommand({ role: 'api' }, refused.io, { HARNESS_API_KEYS: `team-a:${KEY}` })).toBe(3);
    expect(refused.stderr()).toContain(
      'role (--role): the api role shares a queue with other nodes and needs redis.url',
    );
  });

  it('uses the same role names as the server', async () => {
    const server = await import('@script-harness/server');
    expect([...NODE_ROLES].sort()).toEqual([...server.NODE_ROLES].sort());
  });

  it('is reachable through main, with help for serve', async () => {
    const { io, stdout } = capture();
    expect(await main(['node', 'harness', 'serve', '--help'], io)).toBe(0);
    for (const flag of [
      '--port <port>',
      '--host <address>',
      '--config <file>',
      '--workspace <dir>',
      '--tools <names>',
      '--approve <mode>',
      '--role <role>',
      '--insecure-no-auth',
    ]) {
      expect(stdout()).toContain(flag);
    }
    expect(await main(['node', 'harness', 'serve', '--port', 'x'], capture().io)).toBe(2);
    expect(await main(['node', 'harness', 'serve', '--role', 'boss'], capture().io)).toBe(2);
    expect(await main(['node', 'harness', 'serve', '--approve', 'maybe'], capture().io)).toBe(2);
  });
});

describe('harness serve', () => {
  it('refuses to start without API keys, saying how to fix it', async () => {
    const { io, stderr } = capture();
    expect(await serveCommand({}, io, {})).toBe(3);
    expect(stderr()).toContain('no API keys are configured');
    expect(stderr()).toContain('--insecure-no-auth');
  });

  it('serves on 127.0.0.1 with --insecure-no-auth and the tools and approvals of the flags, and exits 0 on SIGTERM', async () => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      HARNESS_LOG_LEVEL: 'silent',
      HARNESS_POOL_SIZE: '1',
    };
    for (const name of Object.keys(env))
      if (name.startsWith('HARNESS_') && !/LOG_LEVEL|POOL_SIZE/.test(name)) delete env[name];
    const child = spawn(
      process.execPath,
      [
        BIN,
        'serve',
        '--insecure-no-auth',
        '--port',
        '0',
        '--workspace',
        directory,
        '--tools',
        'files',
        '--approve',
        'deny',
      ],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const url = await new Promise<string>((resolve, reject) => {
        let stdout = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk;
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
          if (match?.[1] !== undefined) resolve(match[1]);
        });
        child.on('exit', (code) => reject(new Error(`harness serve exited early with ${code}`)));
      });
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      const run = await fetch(`${url}/v1/scripts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code: 'return (await tools.listDir({})).entries.length' }),
      });
      expect(await run.json()).toMatchObject({ ok: true, metadata: { tenant: 'local' } });
      // --tools files: no search tools; --approve deny: a write (the policy asks) is refused at once.
      const probe = await fetch(`${url}/v1/scripts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          code:
            "const attempt = async (call) => { try { await call(); return 'ran'; } catch (error) { return error.code; } };\n" +
            "return [await attempt(() => tools.grep({ pattern: 'x' })), await attempt(() => tools.writeFile({ path: 'a.txt', content: 'x' }))];",
        }),
      });
      expect(await probe.json()).toMatchObject({ ok: true, value: ['TOOL_NOT_FOUND', 'APPROVAL_DENIED'] });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      clearTimeout(killer);
      // A failed assertion above must not leave the server running.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
