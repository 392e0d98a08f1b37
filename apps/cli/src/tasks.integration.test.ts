/**
 * `harness tasks` as a child process against a real harness server (started in the test process
 * on a free port): tasks started by scripts through `tools.spawn.call` are listed, shown and
 * cancelled; a missing task, a refused key and an unreachable server end with their exit codes.
 */
import { createServer } from 'node:net';
import { defineTool } from '@script-harness/core';
import { loadConfig, type RunningServer, startServer } from '@script-harness/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { harness, parseSingleJson } from './test-support.ts';

const KEY = 'cli-tasks-test-key-0123456789';

/** `tools.sleep({ ms })` waits, and stops when the call is aborted (a cancelled task). */
const sleepTool = defineTool({
  name: 'sleep',
  description: 'Waits ms milliseconds.',
  input: z.strictObject({ ms: z.number().int().min(0).max(120_000) }),
  execute: ({ ms }, { signal }) =>
    new Promise<{ slept: number }>((resolve, reject) => {
      const timer = setTimeout(() => resolve({ slept: ms }), ms);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(signal.reason);
        },
        { once: true },
      );
    }),
});

let server: RunningServer;
let longTask: string;
let shortTask: string;

/** Starts a task through a script, as a model would, and returns its id. */
async function spawnTask(ms: number): Promise<string> {
  const response = await fetch(`${server.url}/v1/scripts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ code: `return await tools.spawn.call({ tool: "sleep", args: { ms: ${ms} } });` }),
  });
  const body = (await response.json()) as { ok: boolean; value?: { id: string } };
  expect(body.ok).toBe(true);
  return body.value?.id as string;
}

beforeAll(async () => {
  const config = await loadConfig({
    env: {},
    overrides: {
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      apiKeys: [{ tenant: 'cli-test', key: KEY }],
      runtime: { mode: 'pool', poolSize: 1 },
    },
  });
  server = await startServer(config, { dependencies: { tools: [sleepTool] } });
  longTask = await spawnTask(60_000);
  shortTask = await spawnTask(1);
  // Let the short one finish.
  await new Promise((resolve) => setTimeout(resolve, 200));
});

afterAll(async () => {
  await server?.close();
});

describe('harness tasks', () => {
  it('list: a table of the tenant’s tasks, newest first; --status narrows it; --json is the server’s answer', async () => {
    const run = await harness(['tasks', 'list', '--server', server.url, '--api-key', KEY]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Tasks \(2\)\n {2}id +tool +status +started \(UTC\) +ran\n/);
    expect(run.stdout).toContain(longTask);
    expect(run.stdout).toMatch(new RegExp(`${shortTask} +sleep +succeeded `));

    const running = await harness(['tasks', '--status', 'running', '--json', '--server', server.url, '--api-key', KEY]);
    expect(running.code).toBe(0);
    expect(parseSingleJson(running.stdout)).toEqual({
      tasks: [expect.objectContaining({ id: longTask, tool: 'sleep', status: 'running', args: { ms: 60_000 } })],
    });
  });

  it('show: one task in full; the server and key may come from the environment', async () => {
    const run = await harness(['tasks', 'show', shortTask], {
      env: { SCRIPT_HARNESS_URL: server.url, SCRIPT_HARNESS_API_KEY: KEY },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Task ${shortTask}\n  tool      tools.sleep\n  status    succeeded\n`);
    expect(run.stdout).toContain('  args      {"ms":1}');
    expect(run.stdout).toContain('Result:\n{\n  "slept": 1\n}');
  });

  it('cancel: stops a running task; a second cancel finds it ended', async () => {
    const first = await harness(['tasks', 'cancel', longTask, '--server', server.url, '--api-key', KEY]);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`Cancelled task ${longTask} (tools.sleep).\n`);
    const second = await harness(['tasks', 'cancel', longTask, '--server', server.url, '--api-key', KEY, '--json']);
    expect(second.code).toBe(0);
    expect(parseSingleJson(second.stdout)).toMatchObject({
      cancelled: false,
      task: { id: longTask, status: 'cancelled' },
    });
  });

  it('a task that does not exist: NOT_FOUND, exit 1', async () => {
    const run = await harness(['tasks', 'show', 'no-such-task', '--server', server.url, '--api-key', KEY]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^harness: NOT_FOUND: there is no task "no-such-task" \(HTTP 404\)\. Remedy: /);
  });

  it('a key the server refuses, or a server that cannot be reached, is a configuration error: exit 3', async () => {
    const refused = await harness(['tasks', '--server', server.url, '--api-key', 'wrong-key-0123456789']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(
      /^harness: CONFIG_INVALID: the harness server at http:\/\/127\.0\.0\.1:\d+ refused the request \(UNAUTHORIZED\): .+ Pass --api-key/,
    );

    const closedPort = await freePort();
    const unreachable = await harness(['tasks', '--server', `http://127.0.0.1:${closedPort}`, '--api-key', KEY]);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toBe(
      `harness: CONFIG_INVALID: cannot reach the harness server at http://127.0.0.1:${closedPort}: ECONNREFUSED. Start it with harness serve, or pass --server (or set SCRIPT_HARNESS_URL) with its address.\n`,
    );
  });
});

/** A port nothing listens on: bound once to find it, then released. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
