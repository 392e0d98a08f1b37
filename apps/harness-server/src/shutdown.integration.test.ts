/**
 * SIGTERM during load, on a real server process: every accepted request gets an answer (its
 * result, or 503 SHUTDOWN for the scripts the grace period could not finish), `/ready` turns 503
 * at once, new work is refused, and the process exits 0.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, readEventStream, startServerProcess, startTestServer, TENANT_KEYS } from './test-support.ts';

const AUTH = { authorization: `Bearer ${TENANT_KEYS.alpha}` };

let child: ChildProcess | undefined;
let workspace: string | undefined;

afterEach(async () => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (workspace !== undefined) await rm(workspace, { recursive: true, force: true });
});

interface Answer {
  readonly status: number;
  readonly code?: string;
  readonly ok?: boolean;
}

describe('shutdown', () => {
  it('on SIGTERM during load answers every accepted request, turns /ready 503 and exits 0', async () => {
    workspace = await mkdtemp(join(tmpdir(), 'harness-server-shutdown-'));
    const server = await startServerProcess({
      HARNESS_API_KEYS: `alpha:${TENANT_KEYS.alpha}`,
      HARNESS_HOST: '127.0.0.1',
      HARNESS_PORT: '0',
      HARNESS_LOG_LEVEL: 'silent',
      HARNESS_POOL_SIZE: '1',
      HARNESS_WORKSPACE: workspace,
      HARNESS_QUEUE_CONCURRENCY: '4',
      HARNESS_QUEUE_MAX_QUEUED: '200',
      HARNESS_SHUTDOWN_GRACE_MS: '1500',
    });
    child = server.child;
    const { url, exited } = server;
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${url}/v1/scripts`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(20_000),
      });
    const slowScript = { code: 'return await tools.sleep({ ms: 500 })' };

    // 60 plain requests and 4 streams: 4 run at a time, so the grace period finishes only some.
    const plain: Promise<Answer>[] = Array.from({ length: 60 }, async () => {
      const response = await post(slowScript);
      const body = (await response.json()) as { ok?: boolean; error?: { code: string } };
      return { status: response.status, ...(body.error === undefined ? {} : { code: body.error.code }), ok: body.ok };
    });
    const streams: Promise<Answer>[] = Array.from({ length: 4 }, async () => {
      const response = await post(slowScript, { accept: 'text/event-stream' });
      let last: { event: string; data: unknown } | undefined;
      for await (const event of readEventStream(response.body as ReadableStream<Uint8Array>)) last = event;
      const result = (last?.data as { result?: { ok: boolean; error?: { code: string } } } | undefined)?.result;
      return {
        status: response.status,
        ...(result?.error === undefined ? {} : { code: result.error.code }),
        ...(result === undefined ? {} : { ok: result.ok }),
      };
    });
    await eventually(async () => {
      const ready = (await (await fetch(`${url}/ready`)).json()) as { queue: { queued: number; running: number } };
      return ready.queue.queued + ready.queue.running === 64 ? true : undefined;
    });

    child?.kill('SIGTERM');
    const notReady = await eventually(async () => {
      const response = await fetch(`${url}/ready`);
      return response.status === 503 ? ((await response.json()) as { reasons: string[] }) : undefined;
    }, 1_000);
    expect(notReady.reasons).toContain('the server is shutting down');
    const late = await post(slowScript);
    expect(late.status).toBe(503);
    expect(late.headers.get('retry-after')).toBe('1');
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe('SHUTDOWN');

    const answers = await Promise.all([...plain, ...streams]);
    expect(answers).toHaveLength(64);
    for (const answer of answers) {
      const finished = answer.status === 200 && answer.ok === true;
      const shutDown = answer.code === 'SHUTDOWN' && (answer.status === 503 || answer.status === 200);
      expect(finished || shutDown, JSON.stringify(answer)).toBe(true);
    }
    const finished = answers.filter((answer) => answer.ok === true).length;
    expect(finished).toBeGreaterThan(0);
    expect(finished).toBeLessThan(64);
    expect(answers.filter((answer) => answer.status === 503)).not.toHaveLength(0);
    expect(await exited).toBe(0);
  });

  it('is not held up by a connection that never sent a request', async () => {
    const server = await startTestServer();
    const { hostname, port } = new URL(server.url);
    // What a browser or a load balancer opens ahead of time: connected, silent.
    const socket = connect(Number(port), hostname);
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    const socketClosed = new Promise((resolve) => socket.once('close', resolve));
    // Node would keep it (and the shutdown) until its request timeout, minutes away.
    const outcome = await Promise.race([
      server.close().then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('still open after 10 s'), 10_000).unref()),
    ]);
    expect(outcome).toBe('closed');
    await socketClosed;
  });
});
