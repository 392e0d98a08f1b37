/**
 * One harness node for the cluster tests, run as a child process with an IPC channel: the
 * distributed queue (role from the environment) with a runner that sleeps a few milliseconds and
 * returns the job's id and the node that ran it, the Redis task store behind real spawn tools
 * (adopting tasks of dead nodes), and the Redis approval broker. The test drives it with
 * messages (see test-cluster.ts) and it reports what it sees: jobs it starts, results its
 * submissions get, tools aborted under it.
 */
import { defineTool, HarnessError, toErrorData } from '@script-harness/core';
import { createSpawnTools } from '@script-harness/tools';
import { z } from 'zod';
import { createRedisApprovalBroker } from './approval-broker.ts';
import { createBullMQQueue, type NodeRole } from './queue.ts';
import { createRedisTaskStore } from './task-store.ts';
import type { NodeCommand, NodeReport } from './test-cluster.ts';

const env = process.env;
const connection = env.HARNESS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = env.TEST_PREFIX ?? 'harness-test';
const nodeId = env.TEST_NODE_ID ?? 'node';
const role = (env.TEST_ROLE ?? 'all') as NodeRole;

const report = (message: NodeReport) => process.send?.(message);
const onError = (error: unknown, context: string) =>
  process.stderr.write(`[${nodeId}] ${context}: ${error instanceof Error ? error.message : String(error)}\n`);

interface JobPayload {
  readonly id: string;
  /** How long the run takes; a random few milliseconds when absent. */
  readonly sleepMs?: number;
}

const queue = createBullMQQueue<JobPayload, { id: string; node: string }, string>({
  connection,
  prefix,
  name: 'jobs',
  nodeId,
  role,
  concurrency: Number(env.TEST_CONCURRENCY ?? 8),
  maxQueued: 10_000,
  // Short locks, so a killed node's jobs are free again within a few seconds.
  lockDurationMs: 2_000,
  stalledIntervalMs: 1_000,
  pollIntervalMs: 500,
  onError,
  async run(payload, { signal, id, emit }) {
    report({ type: 'started', id, node: nodeId });
    emit(`running on ${nodeId}`);
    await sleep(payload.sleepMs ?? 1 + Math.floor(Math.random() * 5), signal);
    return { id: payload.id, node: nodeId };
  },
});

const waitTool = defineTool({
  name: 'wait',
  description: 'Waits for the given milliseconds, then says which node it ran on.',
  input: z.strictObject({ ms: z.number().int().min(0) }),
  output: z.object({ waited: z.number(), node: z.string() }),
  async execute(args, context) {
    context.signal.addEventListener(
      'abort',
      () => report({ type: 'tool-aborted', node: nodeId, reason: toErrorData(context.signal.reason).code }),
      { once: true },
    );
    await sleep(args.ms, context.signal);
    return { waited: args.ms, node: nodeId };
  },
});

const store = createRedisTaskStore({
  connection,
  prefix: `${prefix}:tasks`,
  nodeId,
  heartbeatMs: 250,
  ownerTimeoutMs: 1_500,
  onError,
});
store.adopt({ tools: [waitTool] });
const spawn = createSpawnTools({ tools: [waitTool], store, tenant: 'tenant-a' });
const spawnCall = spawn.tools.find((tool) => tool.name === 'spawn.call');

const broker = createRedisApprovalBroker({
  connection,
  prefix: `${prefix}:approvals`,
  nodeId,
  timeoutMs: 20_000,
  tenantOf: () => 'tenant-a',
  onError,
});
broker.on('requested', (approval) => report({ type: 'approval-requested', node: nodeId, approval }));

async function handle(command: NodeCommand): Promise<unknown> {
  switch (command.type) {
    case 'submit':
      for (const id of command.ids) {
        const handle = queue.submit({
          id,
          payload: { id, ...(command.sleepMs === undefined ? {} : { sleepMs: command.sleepMs }) },
        });
        handle.result.then(
          (value) => report({ type: 'result', id, node: nodeId, value }),
          (error: unknown) => report({ type: 'failure', id, node: nodeId, code: toErrorData(error).code }),
        );
      }
      return command.ids.length;
    case 'attach': {
      const attached = await queue.attach(command.id);
      return attached === undefined ? null : await attached.result;
    }
    case 'spawn': {
      const controller = new AbortController();
      return spawnCall?.execute(
        { tool: 'wait', args: { ms: command.ms } },
        { signal: controller.signal, callId: '1', scriptId: `script-${nodeId}`, maxOutputBytes: 100_000 },
      );
    }
    case 'task-get':
      return (await spawn.getTask(command.id)) ?? null;
    case 'task-cancel':
      return (await spawn.cancelTask(command.id, 'cancelled from another node')) ?? null;
    case 'approval-request': {
      const outcome = await broker.request(
        {
          scriptId: `script-${nodeId}`,
          callId: '1',
          sequence: 1,
          tool: 'deleteFile',
          args: command.args,
          toolRequiresApproval: true,
        },
        new AbortController().signal,
      );
      return outcome;
    }
    case 'approval-pending':
      return broker.pending();
    case 'approval-decide':
      return broker.decide(command.id, command.decision, command.by, undefined, { argsHash: command.argsHash });
    case 'approval-get':
      return { state: broker.get(command.id) ?? null, tenant: broker.tenantOf(command.id) ?? null };
    case 'close':
      await store.close();
      await spawn.close();
      await Promise.all([queue.close({ graceMs: 2_000 }), broker.close()]);
      return true;
  }
}

process.on('message', (command: NodeCommand) => {
  handle(command).then(
    (value) => report({ type: 'reply', ref: command.ref, value: value ?? null }),
    (error: unknown) => report({ type: 'reply', ref: command.ref, error: toErrorData(error) }),
  );
});

await Promise.all([queue.ready, store.ready, broker.ready]);
report({ type: 'ready', node: nodeId });

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason ?? new HarnessError('CANCELLED', 'aborted'));
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason ?? new HarnessError('CANCELLED', 'aborted'));
      },
      { once: true },
    );
  });
}
