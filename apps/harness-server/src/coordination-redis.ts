/**
 * The distributed mode: the queue, the spawned tasks and the pending approvals in Redis, shared
 * by every node with the same URL and prefix. The node's role decides what it does with the
 * queue: an `api` node only submits, a `worker` node only runs, an `all` node does both. Every
 * role shares approvals and tasks, and every role that runs scripts also adopts the spawned
 * tasks of nodes that died.
 */
import {
  type BullMQJobQueue,
  createBullMQQueue,
  createRedisApprovalBroker,
  createRedisTaskStore,
  defaultNodeId,
  describeConnection,
} from '@script-harness/queue-bullmq';
import { type Coordination, type CoordinationOptions, RedisUnavailableError } from './coordination.ts';
import { type ExecutionEvent, type ExecutionJob, type ExecutionOutcome, shouldRetryExecution } from './execution.ts';

/** How long a starting node waits for Redis before it gives up with a readable error. */
const CONNECT_TIMEOUT_MS = 15_000;

export function createRedisCoordination(
  { config, owners, logger, scriptExcerpt }: CoordinationOptions,
  url: string,
): Coordination {
  const nodeId = defaultNodeId();
  const { prefix, lockDurationMs, stalledIntervalMs } = config.redis;
  const where = describeConnection(url);
  const onError = (error: unknown, context: string) =>
    logger.warn({ err: error, redis: where }, `redis: ${context} failed`);

  const broker = createRedisApprovalBroker({
    connection: url,
    prefix: `${prefix}:approvals`,
    nodeId,
    timeoutMs: config.approvals.timeoutMs,
    tenantOf: (request) => owners.get(request.scriptId)?.tenant,
    ...(scriptExcerpt === undefined ? {} : { scriptExcerpt }),
    onError,
  });
  const taskStore = createRedisTaskStore({ connection: url, prefix: `${prefix}:tasks`, nodeId, onError });
  let queue: BullMQJobQueue<ExecutionJob, ExecutionOutcome, ExecutionEvent> | undefined;
  const runs = config.role !== 'api';

  return {
    description: `redis ${where} (prefix ${prefix}, role ${config.role}, node ${nodeId})`,
    broker,
    taskStore,
    tenantOfApproval: (id) => broker.tenantOf(id),
    createQueue(run) {
      queue = createBullMQQueue<ExecutionJob, ExecutionOutcome, ExecutionEvent>({
        connection: url,
        prefix,
        name: 'scripts',
        nodeId,
        role: config.role,
        ...(runs ? { run: (job, context) => run(job, context) } : {}),
        concurrency: config.queue.concurrency,
        maxQueued: config.queue.maxQueued,
        ...(config.queue.maxRunningPerTenant === undefined
          ? {}
          : { maxRunningPerTenant: config.queue.maxRunningPerTenant }),
        retry: { ...config.queue.retry, shouldRetry: shouldRetryExecution },
        lockDurationMs,
        stalledIntervalMs,
        onError,
      });
      return queue;
    },
    adoptTasks(tools) {
      if (runs) taskStore.adopt({ tools });
    },
    async whenReady() {
      const connected = Promise.all([broker.ready, taskStore.ready, queue?.ready]);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new RedisUnavailableError(
                `cannot reach Redis at ${where} within ${CONNECT_TIMEOUT_MS / 1000} s: start Redis there, or fix redis.url (HARNESS_REDIS_URL); without it the server runs as a single node`,
              ),
            ),
          CONNECT_TIMEOUT_MS,
        );
        timer.unref();
      });
      try {
        await Promise.race([connected, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async releaseTasks() {
      await taskStore.close();
    },
    async close() {
      await broker.close();
    },
  };
}
