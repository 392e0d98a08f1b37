/**
 * Three server nodes in their own processes on one Redis, as `harness serve --role …` runs them:
 * `api` takes requests, `worker` runs scripts, `all` does both. Scripts submitted to any API node
 * run on the worker roles and answer once; an approval held on one node is decided on another; a
 * spawned task is read and cancelled on another node; a worker killed with SIGKILL mid-run loses
 * no script and duplicates no answer.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, testPrefix } from '@script-harness/queue-bullmq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  readEventStream,
  type ServerProcess,
  type ServerSentEvent,
  startServerProcess,
  TENANT_KEYS,
} from './test-support.ts';

type Label = 'api' | 'worker' | 'all';

let redis: Awaited<ReturnType<typeof connectTestRedis>>;
let prefix: string;
let directory: string;
const nodes = new Map<Label, ServerProcess>();

beforeAll(async () => {
  redis = await connectTestRedis();
  prefix = testPrefix('server-cluster');
  directory = await mkdtemp(join(tmpdir(), 'harness-cluster-'));
  const configFile = join(directory, 'config.json');
  // Calls of `echo` wait for a person: the approvals test decides them on another node.
  await writeFile(configFile, JSON.stringify({ policy: { rules: [{ tool: 'echo', decision: 'ask' }] } }));
  const started = await Promise.all(
    (['api', 'worker', 'all'] as const).map(async (role) => {
      const node = await startServerProcess({
        HARNESS_CONFIG: configFile,
        HARNESS_ROLE: role,
        HARNESS_REDIS_URL: TEST_REDIS_URL,
        HARNESS_REDIS_PREFIX: prefix,
        // Short locks, so the scripts of a killed node run again within seconds.
        HARNESS_REDIS_LOCK_DURATION_MS: '2000',
        HARNESS_REDIS_STALLED_INTERVAL_MS: '1000',
        HARNESS_API_KEYS: `alpha:${TENANT_KEYS.alpha},beta:${TENANT_KEYS.beta}`,
        HARNESS_HOST: '127.0.0.1',
        HARNESS_PORT: '0',
        HARNESS_LOG_LEVEL: 'silent',
        HARNESS_POOL_SIZE: '1',
        HARNESS_QUEUE_CONCURRENCY: '16',
        HARNESS_QUEUE_MAX_QUEUED: '5000',
        HARNESS_RATE_LIMIT_MAX: '100000',
        HARNESS_SHUTDOWN_GRACE_MS: '1000',
        TEST_NODE_LABEL: role,
      });
      return [role, node] as const;
    }),
  );
  for (const [role, node] of started) nodes.set(role, node);
}, 60_000);

afterAll(async () => {
  for (const node of nodes.values()) {
    if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
    await node.exited;
  }
  if (redis !== undefined) {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  }
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
});

function node(label: Label): ServerProcess {
  const found = nodes.get(label);
  if (found === undefined) throw new Error(`node ${label} did not start`);
  return found;
}

function call(
  label: Label,
  path: string,
  options: { method?: string; body?: unknown; tenant?: keyof typeof TENANT_KEYS; accept?: string } = {},
): Promise<Response> {
  return fetch(`${node(label).url}${path}`, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers: {
      authorization: `Bearer ${TENANT_KEYS[options.tenant ?? 'alpha']}`,
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.accept === undefined ? {} : { accept: options.accept }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    signal: AbortSignal.timeout(45_000),
  });
}

interface ScriptAnswer {
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
}

async function runScript(label: Label, code: string): Promise<{ status: number; body: ScriptAnswer }> {
  const response = await call(label, '/v1/scripts', { body: { code } });
  return { status: response.status, body: (await response.json()) as ScriptAnswer };
}

/** Runs `count` tasks, at most `width` at once. */
async function bounded<T>(count: number, width: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await task(index);
      }
    }),
  );
  return results;
}

/** Reads a script's event stream, handing each event to `onEvent`, until it ends. */
async function followStream(
  response: Response,
  onEvent: (event: ServerSentEvent) => Promise<void> | void,
): Promise<ServerSentEvent | undefined> {
  let last: ServerSentEvent | undefined;
  for await (const event of readEventStream(response.body as ReadableStream<Uint8Array>)) {
    last = event;
    await onEvent(event);
  }
  return last;
}

describe('three nodes on one Redis', () => {
  it('runs 500 scripts submitted across the API nodes exactly once each, on the worker roles only', async () => {
    const answers = await bounded(500, 64, async (index) => {
      const submitter: Label = index % 2 === 0 ? 'api' : 'all';
      return runScript(submitter, `const { node } = await tools.node({}); return { index: ${index}, node };`);
    });
    const ranOn = new Map<string, number>();
    const indexes = new Set<number>();
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.body.ok, JSON.stringify(answer.body.error)).toBe(true);
      const value = answer.body.value as { index: number; node: string };
      indexes.add(value.index);
      ranOn.set(value.node, (ranOn.get(value.node) ?? 0) + 1);
    }
    expect(indexes.size).toBe(500);
    expect(ranOn.has('api')).toBe(false);
    expect((ranOn.get('worker') ?? 0) + (ranOn.get('all') ?? 0)).toBe(500);
    expect(ranOn.get('worker')).toBeGreaterThan(0);
    expect(ranOn.get('all')).toBeGreaterThan(0);
  }, 180_000);

  it('serves only the operations endpoints on a worker node', async () => {
    const response = await call('worker', '/v1/scripts', { body: { code: 'return 1' } });
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/worker role/);
    expect((await fetch(`${node('worker').url}/ready`)).status).toBe(200);
  });

  it('decides on one node an approval held by a script submitted to another', async () => {
    const code = "try { return (await tools.echo({ text: 'held' })).text; } catch (error) { return error.code; }";
    for (const [submitter, decider, decision, expected] of [
      ['api', 'all', 'approve', 'held'],
      ['all', 'api', 'deny', 'APPROVAL_DENIED'],
    ] as const) {
      const response = await call(submitter, '/v1/scripts', { body: { code }, accept: 'text/event-stream' });
      expect(response.status).toBe(200);
      const last = await followStream(response, async (event) => {
        if (event.event !== 'approval_requested') return;
        const { id, scriptExcerpt } = event.data as { id: string; tool: string; scriptExcerpt?: string };
        // The calling line travels with the approval from the node that runs the script.
        expect(scriptExcerpt).toContain("tools.echo({ text: 'held' })");
        // Listed for its own tenant on the deciding node, hidden from another tenant.
        const listed = await eventually(async () => {
          const list = (await (await call(decider, '/v1/approvals')).json()) as { approvals: { id: string }[] };
          return list.approvals.some((approval) => approval.id === id) ? list : undefined;
        });
        expect(listed.approvals.find((approval) => approval.id === id)).toMatchObject({ tool: 'echo', scriptExcerpt });
        const other = (await (await call(decider, '/v1/approvals', { tenant: 'beta' })).json()) as {
          approvals: { id: string }[];
        };
        expect(other.approvals.some((approval) => approval.id === id)).toBe(false);
        const decided = await call(decider, `/v1/approvals/${id}`, { body: { decision } });
        expect(decided.status).toBe(200);
      });
      expect(last?.event).toBe('script_completed');
      expect((last?.data as { result?: ScriptAnswer } | undefined)?.result?.value).toBe(expected);
    }
  }, 60_000);

  it('reads and cancels on one node a task spawned by a script submitted to another', async () => {
    const started = await runScript(
      'api',
      "return (await tools.spawn.call({ tool: 'sleep', args: { ms: 30000 } })).id;",
    );
    expect(started.body.ok, JSON.stringify(started.body.error)).toBe(true);
    const id = started.body.value as string;
    const seen = (await (await call('all', `/v1/tasks/${id}`)).json()) as { id: string; status: string };
    expect(seen).toMatchObject({ id, status: expect.stringMatching(/^(queued|running)$/) });
    expect((await call('all', `/v1/tasks/${id}`, { tenant: 'beta' })).status).toBe(404);
    const cancelled = await call('all', `/v1/tasks/${id}`, { method: 'DELETE' });
    expect(cancelled.status).toBe(200);
    const after = await eventually(async () => {
      const task = (await (await call('api', `/v1/tasks/${id}`)).json()) as { status: string };
      return task.status === 'cancelled' ? task : undefined;
    });
    expect(after.status).toBe('cancelled');
  }, 60_000);

  it('loses no script and duplicates no answer when a worker node is killed mid-run', async () => {
    const code = 'await tools.sleep({ ms: 1500 }); return (await tools.node({})).node;';
    const answers = Array.from({ length: 24 }, () => runScript('api', code));
    // Kill the worker while it runs some of them.
    const runningOnWorker = await eventually(async () => {
      const ready = (await (await fetch(`${node('worker').url}/ready`)).json()) as { queue: { running: number } };
      return ready.queue.running > 0 ? ready.queue.running : undefined;
    }, 20_000);
    node('worker').child.kill('SIGKILL');
    await node('worker').exited;

    const settled = await Promise.all(answers);
    expect(settled).toHaveLength(24);
    for (const answer of settled) {
      expect(answer.status).toBe(200);
      expect(answer.body.ok, JSON.stringify(answer.body.error)).toBe(true);
    }
    // What the killed node was running finished on the node that is left.
    const onSurvivor = settled.filter((answer) => answer.body.value === 'all').length;
    expect(onSurvivor).toBeGreaterThanOrEqual(runningOnWorker);
  }, 90_000);
});
