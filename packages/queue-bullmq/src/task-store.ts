/**
 * The `TaskStore` of the spawn tools in Redis, so a detached task can be read, awaited and
 * cancelled from any node, and outlives the node that started it.
 *
 * - The two deciding operations are Lua scripts, atomic in Redis: `create` checks the tenant's
 *   live cap and adds the task in one step; `update` applies a patch only while the status is
 *   one of `from`.
 * - Every change is published on one channel; each node calls its local `subscribe` listeners,
 *   so a cancel written on node B aborts the task running on node A.
 * - Each live task has an owner: the node that runs it. Nodes heartbeat (with Redis's clock, so
 *   their own clocks may differ); when a node misses its heartbeats for `ownerTimeoutMs`, any
 *   other node puts that node's live tasks back to `queued`, and a node that has called `adopt`
 *   claims and runs them. A node that shuts down hands its tasks over the same way at once.
 *
 * Values are kept as JSON strings in a hash and never decoded inside Redis: Lua's JSON would
 * round numbers and turn empty arrays into objects.
 */
import { type AnyTool, errorData, HarnessError, type HarnessErrorData, toErrorData } from '@script-harness/core';
import {
  executeTaskTool,
  type TaskFilter,
  type TaskPatch,
  type TaskRecord,
  type TaskStatus,
  type TaskStore,
} from '@script-harness/tools';
import type { Redis } from 'ioredis';
import {
  closeClient,
  createRedisClient,
  type ErrorReporter,
  type RedisConnection,
  throttled,
  warnOnError,
  withinTime,
} from './connection.ts';
import { subscribeChannels } from './pubsub.ts';
import { defaultNodeId } from './queue.ts';

/** The statuses of a task that has not ended (the same as the spawn tools' `LIVE_TASK_STATUSES`). */
const LIVE: readonly TaskStatus[] = ['queued', 'running'];

export interface RedisTaskStoreOptions {
  readonly connection: RedisConnection;
  /** Prefix of every key of the store. Default `harness:tasks`. */
  readonly prefix?: string;
  /** This node's id, unique among running nodes; a node restarted with the same id takes its tasks back at once. */
  readonly nodeId?: string;
  /** How long an ended task is kept for `get` and `list`. Default 1 hour. */
  readonly retentionMs?: number;
  /** How often this node says it is alive (and looks for dead nodes). Default 5 s. */
  readonly heartbeatMs?: number;
  /** Silence after which a node counts as dead and its tasks are queued again. Default 30 s. */
  readonly ownerTimeoutMs?: number;
  readonly onError?: ErrorReporter;
}

export interface AdoptOptions {
  /** The tools tasks may run: the same targets the spawn tools were given. Tasks of other tools are left to other nodes. */
  readonly tools: readonly AnyTool[];
  /** Largest task result kept, in JSON bytes (default 256 KiB, as for the spawn tools). */
  readonly maxOutputBytes?: number;
  /** Most adopted tasks this node runs at once. Default 8. */
  readonly concurrency?: number;
}

export interface RedisTaskStore extends TaskStore {
  readonly nodeId: string;
  /** Resolves once the store is connected, subscribed and has registered this node. */
  readonly ready: Promise<void>;
  /** Lets this node run tasks whose node died (or shut down), until `close`. */
  adopt(options: AdoptOptions): void;
  /** Looks for dead nodes now and queues their tasks again; returns how many were queued. */
  reap(): Promise<number>;
  /**
   * Stops heartbeating and adopting. With `handOff` (the default) this node's live tasks are
   * queued again at once for another node, and later writes of this node about them are ignored,
   * so close the store before the spawn tools (whose close would otherwise cancel them). Without
   * it they are queued again once the other nodes notice the silence, as after a crash.
   */
  close(options?: { readonly handOff?: boolean }): Promise<void>;
}

const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
if ARGV[6] ~= '' and redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[6]) then return 0 end
redis.call('HSET', KEYS[1], 'base', ARGV[2], 'tenant', ARGV[3], 'tool', ARGV[9], 'status', ARGV[4], 'owner', ARGV[7])
for i = 11, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1])
if ARGV[8] == '1' then
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('SADD', KEYS[5], ARGV[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[10])
end
return 1
`;

const UPDATE = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return false end
if ARGV[3] ~= '' then
  local allowed = false
  for candidate in string.gmatch(ARGV[3], '[^,]+') do
    if candidate == status then allowed = true end
  end
  if not allowed then return false end
end
for i = 6, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
local now = redis.call('HGET', KEYS[1], 'status')
local tenant = redis.call('HGET', KEYS[1], 'tenant')
local owner = redis.call('HGET', KEYS[1], 'owner')
if now == 'queued' or now == 'running' then
  redis.call('SADD', ARGV[1] .. ':live:' .. tenant, ARGV[2])
  redis.call('PERSIST', KEYS[1])
else
  redis.call('SREM', ARGV[1] .. ':live:' .. tenant, ARGV[2])
  if owner and owner ~= '' then redis.call('SREM', ARGV[1] .. ':owned:' .. owner, ARGV[2]) end
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
local fields = redis.call('HGETALL', KEYS[1])
redis.call('PUBLISH', ARGV[5], cjson.encode(fields))
return fields
`;

const HEARTBEAT = `
local time = redis.call('TIME')
redis.call('ZADD', KEYS[1], tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000), ARGV[1])
return 1
`;

/**
 * Queues the live tasks of dead nodes again: nodes silent for ARGV[2] ms (by Redis's clock), and
 * ARGV[4] when given (a node handing over, or this node's previous life). With ARGV[5] = '1' only
 * ARGV[4]. Returns the ids queued again.
 */
const REQUEUE = `
local prefix = ARGV[1]
local nodesKey = prefix .. ':nodes'
local dead = {}
if ARGV[5] ~= '1' then
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  dead = redis.call('ZRANGEBYSCORE', nodesKey, '-inf', now - tonumber(ARGV[2]))
end
if ARGV[4] ~= '' then table.insert(dead, ARGV[4]) end
local requeued = {}
for _, node in ipairs(dead) do
  local ownedKey = prefix .. ':owned:' .. node
  for _, id in ipairs(redis.call('SMEMBERS', ownedKey)) do
    local key = prefix .. ':task:' .. id
    local status = redis.call('HGET', key, 'status')
    if (status == 'queued' or status == 'running') and redis.call('HGET', key, 'owner') == node then
      redis.call('HSET', key, 'status', 'queued', 'owner', '')
      redis.call('RPUSH', prefix .. ':requeued', id)
      redis.call('PUBLISH', ARGV[3], cjson.encode(redis.call('HGETALL', key)))
      table.insert(requeued, id)
    end
  end
  redis.call('DEL', ownedKey)
  redis.call('ZREM', nodesKey, node)
end
return requeued
`;

/** Claims the first queued-again task this node can run (ARGV[3]: tool names, newline-separated). */
const CLAIM = `
local prefix = ARGV[1]
local list = prefix .. ':requeued'
local tools = {}
for name in string.gmatch(ARGV[3], '[^\\n]+') do tools[name] = true end
for _, id in ipairs(redis.call('LRANGE', list, 0, 99)) do
  local key = prefix .. ':task:' .. id
  local status = redis.call('HGET', key, 'status')
  if status ~= 'queued' or redis.call('HGET', key, 'owner') ~= '' then
    redis.call('LREM', list, 1, id)
  elseif tools[redis.call('HGET', key, 'tool')] then
    redis.call('LREM', list, 1, id)
    redis.call('HSET', key, 'owner', ARGV[2])
    redis.call('SADD', prefix .. ':owned:' .. ARGV[2], id)
    local fields = redis.call('HGETALL', key)
    redis.call('PUBLISH', ARGV[4], cjson.encode(fields))
    return fields
  end
end
return false
`;

const DEFAULT_MAX_OUTPUT_BYTES = 256 * 1024;

export function createRedisTaskStore(options: RedisTaskStoreOptions): RedisTaskStore {
  const prefix = options.prefix ?? 'harness:tasks';
  const nodeId = options.nodeId ?? defaultNodeId();
  const retentionMs = options.retentionMs ?? 3_600_000;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const ownerTimeoutMs = options.ownerTimeoutMs ?? 30_000;
  if (ownerTimeoutMs <= heartbeatMs) {
    throw new HarnessError('INVALID_REQUEST', 'ownerTimeoutMs must be longer than heartbeatMs');
  }
  const report = throttled(options.onError ?? warnOnError);
  const channel = `${prefix}:changed`;
  const key = {
    task: (id: string) => `${prefix}:task:${id}`,
    live: (tenant: string) => `${prefix}:live:${tenant}`,
    index: `${prefix}:index`,
    tenantIndex: (tenant: string) => `${prefix}:index:${tenant}`,
    owned: (node: string) => `${prefix}:owned:${node}`,
    nodes: `${prefix}:nodes`,
  };

  const client: Redis = createRedisClient(options.connection, `${nodeId}:tasks`, report);
  const listeners = new Map<string, Set<(task: TaskRecord) => void>>();
  const requeuedListeners = new Set<() => void>();
  /** Tasks this node handed over when it closed; its later writes about them are dropped. */
  const handedOver = new Set<string>();
  let closed = false;

  const onChange = (message: string) => {
    let fields: Record<string, string>;
    try {
      fields = pairs(JSON.parse(message) as string[]);
    } catch {
      return;
    }
    const task = decodeTask(fields);
    if (task === undefined) return;
    for (const listener of [...(listeners.get(task.id) ?? [])]) {
      try {
        listener(task);
      } catch {
        // A listener's failure is its own; the other listeners carry on.
      }
    }
    if (task.status === 'queued' && fields.owner === '') {
      for (const listener of requeuedListeners) listener();
    }
  };
  const subscription = subscribeChannels(
    options.connection,
    `${nodeId}:tasks-subscriber`,
    new Map([[channel, onChange]]),
    report,
  );

  const heartbeat = () => client.eval(HEARTBEAT, 1, key.nodes, nodeId);
  const requeue = async (only?: string): Promise<string[]> =>
    (await client.eval(
      REQUEUE,
      0,
      prefix,
      String(ownerTimeoutMs),
      channel,
      only ?? '',
      only === undefined ? '0' : '1',
    )) as string[];

  const ready = (async () => {
    await subscription.ready;
    // Tasks still owned by this id belong to an earlier process of this node: queue them again now.
    await requeue(nodeId);
    await heartbeat();
  })();
  ready.catch(() => {});

  let adoption: Adoption | undefined;
  const tick = async () => {
    try {
      await heartbeat();
      await requeue();
      // Also after a quiet tick: a task queued again by another node may have been announced while this one was away.
      adoption?.wake();
    } catch (error) {
      report(error, 'the task store heartbeat');
    }
  };
  const timer = setInterval(() => void tick(), heartbeatMs);
  timer.unref();

  const assertOpen = () => {
    if (closed) throw new HarnessError('SHUTDOWN', 'the task store is closed');
  };

  const store: RedisTaskStore = {
    nodeId,
    ready,

    async create(task, createOptions = {}) {
      assertOpen();
      await withinTime(ready, 10_000, 'the task could not be stored');
      const { id, tenant, tool, args, status, startedAt, deadline, scriptId } = task;
      const base = JSON.stringify({
        id,
        tenant,
        tool,
        args,
        startedAt,
        deadline,
        ...(scriptId === undefined ? {} : { scriptId }),
      });
      const live = LIVE.includes(status);
      const created = (await client.eval(
        CREATE,
        5,
        key.task(id),
        key.live(tenant),
        key.index,
        key.tenantIndex(tenant),
        key.owned(nodeId),
        id,
        base,
        tenant,
        status,
        String(startedAt),
        createOptions.maxLive === undefined ? '' : String(createOptions.maxLive),
        live ? nodeId : '',
        live ? '1' : '0',
        tool,
        String(retentionMs),
        // An ended task may be created as such (an import, a test); its outcome is written with it.
        ...encodePatch({ endedAt: task.endedAt, result: task.result, error: task.error }),
      )) as number;
      if (created === -1) throw new HarnessError('INTERNAL', 'a task with this id already exists');
      return created === 1;
    },

    async get(id) {
      assertOpen();
      return decodeTask(await client.hgetall(key.task(id)));
    },

    async update(id, patch, updateOptions = {}) {
      // After a hand-over another node owns the task; what this node still has to say about it is moot.
      if (closed || handedOver.has(id)) return undefined;
      const fields = encodePatch(patch);
      const result = (await client.eval(
        UPDATE,
        1,
        key.task(id),
        prefix,
        id,
        updateOptions.from === undefined ? '' : updateOptions.from.join(','),
        String(retentionMs),
        channel,
        ...fields,
      )) as string[] | null;
      return result === null ? undefined : decodeTask(pairs(result));
    },

    async list(filter = {}) {
      assertOpen();
      const index = filter.tenant === undefined ? key.index : key.tenantIndex(filter.tenant);
      const limit = filter.limit ?? Number.POSITIVE_INFINITY;
      const found: TaskRecord[] = [];
      const page = Math.min(500, Math.max(50, Number.isFinite(limit) ? limit * 2 : 500));
      let start = 0;
      while (found.length < limit) {
        const ids = await client.zrevrange(index, start, start + page - 1);
        if (ids.length === 0) break;
        const pipeline = client.pipeline();
        for (const id of ids) pipeline.hgetall(key.task(id));
        const replies = (await pipeline.exec()) ?? [];
        const expired: string[] = [];
        replies.forEach(([, fields], i) => {
          const task = decodeTask(fields as Record<string, string>);
          if (task === undefined) expired.push(ids[i] as string);
          else if (matches(task, filter)) found.push(task);
        });
        // Ended tasks expire as keys; the index forgets them the first time a listing meets them.
        if (expired.length > 0) await client.zrem(index, ...expired);
        if (ids.length < page) break;
        // The entries just removed no longer take places before the next page.
        start += page - expired.length;
      }
      return found.sort((a, b) => b.startedAt - a.startedAt).slice(0, limit);
    },

    subscribe(id, listener) {
      let set = listeners.get(id);
      if (set === undefined) {
        set = new Set();
        listeners.set(id, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(id);
      };
    },

    adopt(adoptOptions) {
      assertOpen();
      if (adoption !== undefined) throw new HarnessError('INVALID_REQUEST', 'this task store already adopts tasks');
      adoption = createAdoption(
        store,
        adoptOptions,
        async (tools) => {
          const fields = (await client.eval(CLAIM, 0, prefix, nodeId, tools.join('\n'), channel)) as string[] | null;
          return fields === null ? undefined : decodeTask(pairs(fields));
        },
        report,
      );
      requeuedListeners.add(adoption.wake);
      void ready.then(() => adoption?.wake());
    },

    async reap() {
      assertOpen();
      const requeued = await requeue();
      if (requeued.length > 0) adoption?.wake();
      return requeued.length;
    },

    async close({ handOff = true } = {}) {
      if (closed) return;
      clearInterval(timer);
      if (adoption !== undefined) {
        requeuedListeners.delete(adoption.wake);
        await adoption.stop();
      }
      try {
        // Handing over also forgets the node. Without it the node's heartbeat entry stays, so the
        // other nodes find it silent and queue its tasks again once it is overdue.
        if (handOff) for (const id of await requeue(nodeId)) handedOver.add(id);
      } catch (error) {
        report(error, 'handing over the tasks of this node');
      }
      closed = true;
      await Promise.allSettled([subscription.close(), closeClient(client)]);
    },
  };
  return store;
}

interface Adoption {
  readonly wake: () => void;
  stop(): Promise<void>;
}

/**
 * Runs tasks whose node died, as the spawn tools run their own: the task's own deadline (from
 * when it was first accepted), a cancel written by any node, the tool's output schema and the
 * output cap; the first ending written wins.
 */
function createAdoption(
  store: TaskStore,
  options: AdoptOptions,
  claim: (tools: readonly string[]) => Promise<TaskRecord | undefined>,
  report: ErrorReporter,
): Adoption {
  const tools = new Map(options.tools.map((tool) => [tool.name, tool]));
  const names = [...tools.keys()];
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const concurrency = options.concurrency ?? 8;
  const running = new Map<string, { controller: AbortController; finished: Promise<void> }>();
  const stopping = new HarnessError('SHUTDOWN', 'this node shut down; another node runs the task');
  let claiming = false;
  let stopped = false;

  const end = (
    id: string,
    status: Exclude<TaskStatus, 'queued' | 'running'>,
    outcome: { result?: unknown; error?: HarnessErrorData },
  ) => store.update(id, { status, endedAt: Date.now(), ...outcome }, { from: LIVE });

  const runTask = async (task: TaskRecord, controller: AbortController) => {
    const target = tools.get(task.tool) as AnyTool;
    const unsubscribe = store.subscribe(task.id, (current) => {
      if ((current.status === 'cancelled' || current.status === 'timed_out') && !controller.signal.aborted) {
        controller.abort(
          new HarnessError(current.error?.code ?? 'CANCELLED', current.error?.message ?? 'the task was stopped'),
        );
      }
    });
    const timeoutMs = task.deadline - task.startedAt;
    const timer = setTimeout(
      () =>
        void end(task.id, 'timed_out', {
          error: errorData('TIMEOUT', `the task ran past its ${timeoutMs} ms deadline`),
        }),
      Math.max(0, task.deadline - Date.now()),
    );
    timer.unref();
    try {
      const started = await store.update(task.id, { status: 'running' }, { from: ['queued'] });
      if (started === undefined) return;
      const result = await executeTaskTool(target, task, controller.signal, maxOutputBytes);
      await end(task.id, 'succeeded', result === undefined ? {} : { result });
    } catch (error) {
      // Aborted: the task has ended elsewhere (cancel, deadline) or goes to another node; nothing to write.
      if (!controller.signal.aborted) await end(task.id, 'failed', { error: toErrorData(error, 'TOOL_ERROR') });
    } finally {
      clearTimeout(timer);
      unsubscribe();
    }
  };

  const start = (task: TaskRecord) => {
    const controller = new AbortController();
    const finished = runTask(task, controller)
      .catch((error: unknown) => report(error, `running adopted task ${task.id}`))
      .finally(() => {
        running.delete(task.id);
        wake();
      });
    running.set(task.id, { controller, finished });
  };

  const wake = () => {
    if (claiming || stopped || names.length === 0) return;
    claiming = true;
    void (async () => {
      try {
        while (!stopped && running.size < concurrency) {
          const task = await claim(names);
          if (task === undefined) break;
          if (stopped) break;
          start(task);
        }
      } catch (error) {
        report(error, 'claiming tasks of a node that stopped');
      } finally {
        claiming = false;
      }
    })();
  };

  return {
    wake,
    async stop() {
      stopped = true;
      for (const { controller } of running.values()) if (!controller.signal.aborted) controller.abort(stopping);
      await Promise.all([...running.values()].map((task) => task.finished));
    },
  };
}

function encodePatch(patch: TaskPatch): string[] {
  const fields: string[] = [];
  if (patch.status !== undefined) fields.push('status', patch.status);
  if (patch.endedAt !== undefined) fields.push('endedAt', String(patch.endedAt));
  if (patch.result !== undefined) fields.push('result', JSON.stringify(patch.result));
  if (patch.error !== undefined) fields.push('error', JSON.stringify(patch.error));
  return fields;
}

/** The task a hash holds; undefined for a missing (or expired) one. */
export function decodeTask(fields: Record<string, string> | null | undefined): TaskRecord | undefined {
  if (fields?.base === undefined || fields.status === undefined) return undefined;
  const base = JSON.parse(fields.base) as Omit<TaskRecord, 'status'>;
  return Object.freeze({
    ...base,
    status: fields.status as TaskStatus,
    ...(fields.endedAt === undefined ? {} : { endedAt: Number(fields.endedAt) }),
    ...(fields.result === undefined ? {} : { result: JSON.parse(fields.result) as unknown }),
    ...(fields.error === undefined ? {} : { error: JSON.parse(fields.error) as HarnessErrorData }),
  });
}

function pairs(flat: readonly string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i] as string] = flat[i + 1] as string;
  return record;
}

function matches(task: TaskRecord, filter: TaskFilter): boolean {
  return (
    (filter.tenant === undefined || task.tenant === filter.tenant) &&
    (filter.statuses === undefined || filter.statuses.includes(task.status))
  );
}
