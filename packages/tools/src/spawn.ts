/**
 * Detached tasks: `tools.spawn.call({ tool, args })` starts a tool call that keeps running after
 * the script that started it has ended, and later scripts fetch its outcome by id
 * (`spawn.status`, `spawn.wait`), stop it (`spawn.cancel`) or list them (`spawn.list`).
 *
 * A task is not a way around the rules of a direct call (THREATS item 26, resource exhaustion
 * through detached work): its arguments are validated against the target tool's schema, it passes
 * the same policy and approvals (`decide`), it has its own deadline and output cap, each tenant may
 * have only so many live tasks, and no task can start another (spawn tools are never a target).
 * Its abort signal is its own: the end of the script does not stop it; its deadline, a cancel or
 * `close()` does.
 *
 * Tasks live in a `TaskStore`. The memory store here serves one process; a shared store lets a CLI
 * or server on another process read and cancel them (a cancel written to the store reaches the
 * process running the task through `subscribe`).
 */
import { randomUUID } from 'node:crypto';
import {
  type AnyTool,
  type ApprovalOutcome,
  closestNames,
  defaultPolicy,
  defineTool,
  errorData,
  HarnessError,
  type HarnessErrorData,
  type PolicyEngine,
  type ToolCallRequest,
  type ToolExecuteContext,
  toErrorData,
  toPlainJson,
} from '@script-harness/core';
import { z } from 'zod';

export const TASK_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
/** Statuses of a task that has not ended; these count against the tenant's cap. */
export const LIVE_TASK_STATUSES: readonly TaskStatus[] = Object.freeze(['queued', 'running']);

/** One detached task as the store keeps it. Times are epoch milliseconds. */
export interface TaskRecord {
  readonly id: string;
  readonly tenant: string;
  /** Name of the tool the task runs. */
  readonly tool: string;
  /** Validated arguments (plain data). */
  readonly args: unknown;
  readonly status: TaskStatus;
  /** When the task was accepted; its deadline counts from here. */
  readonly startedAt: number;
  readonly deadline: number;
  readonly endedAt?: number;
  /** The tool's result (plain JSON data), once `succeeded`. */
  readonly result?: unknown;
  /** Why it did not succeed, once `failed`, `cancelled` or `timed_out`. */
  readonly error?: HarnessErrorData;
  /** The script that started the task. */
  readonly scriptId?: string;
}

/** The fields of a task that change after it is created. */
export type TaskPatch = Partial<Pick<TaskRecord, 'status' | 'endedAt' | 'result' | 'error'>>;

export interface TaskFilter {
  readonly tenant?: string;
  readonly statuses?: readonly TaskStatus[];
  /** Most tasks returned (newest first). */
  readonly limit?: number;
}

/**
 * Where tasks are kept. Every method may be called from several processes at once for a shared
 * store, so the two that decide something are atomic: `create` checks the tenant's cap and adds
 * the task in one step, and `update` applies a patch only while the status is one of `from`.
 */
export interface TaskStore {
  /** Adds `task` unless its tenant already has `maxLive` live tasks; false when refused for that. */
  create(task: TaskRecord, options?: { readonly maxLive?: number }): Promise<boolean>;
  get(id: string): Promise<TaskRecord | undefined>;
  /**
   * Applies `patch` when the task exists and (if `from` is given) its status is one of `from`.
   * Returns the updated task, or undefined when nothing was changed.
   */
  update(
    id: string,
    patch: TaskPatch,
    options?: { readonly from?: readonly TaskStatus[] },
  ): Promise<TaskRecord | undefined>;
  /** Tasks matching `filter`, newest first. */
  list(filter?: TaskFilter): Promise<TaskRecord[]>;
  /** Calls `listener` with the task after each change; returns the function that stops it. */
  subscribe(id: string, listener: (task: TaskRecord) => void): () => void;
}

export interface MemoryTaskStoreOptions {
  /** How long an ended task is kept for `get` and `list` (default 1 hour). */
  readonly retentionMs?: number;
  /** Most tasks kept; the oldest ended ones go first when there are more (default 10,000). */
  readonly maxTasks?: number;
}

/** A task store in this process's memory: tasks are gone when it exits. */
export function createMemoryTaskStore(options: MemoryTaskStoreOptions = {}): TaskStore {
  const retentionMs = options.retentionMs ?? 60 * 60 * 1000;
  const maxTasks = options.maxTasks ?? 10_000;
  const tasks = new Map<string, TaskRecord>();
  const listeners = new Map<string, Set<(task: TaskRecord) => void>>();

  const isLive = (task: TaskRecord) => LIVE_TASK_STATUSES.includes(task.status);
  const prune = () => {
    const now = Date.now();
    for (const [id, task] of tasks) {
      if (!isLive(task) && task.endedAt !== undefined && now - task.endedAt > retentionMs) tasks.delete(id);
    }
    if (tasks.size < maxTasks) return;
    // Map order is insertion order: the first ended tasks found are the oldest.
    for (const [id, task] of tasks) {
      if (tasks.size < maxTasks) break;
      if (!isLive(task)) tasks.delete(id);
    }
  };
  const notify = (task: TaskRecord) => {
    for (const listener of [...(listeners.get(task.id) ?? [])]) {
      try {
        listener(task);
      } catch {
        // A listener's failure is its own; the other listeners and the writer carry on.
      }
    }
  };

  return {
    async create(task, createOptions = {}) {
      prune();
      if (tasks.has(task.id)) throw new HarnessError('INTERNAL', 'a task with this id already exists');
      const { maxLive } = createOptions;
      if (maxLive !== undefined) {
        let live = 0;
        for (const existing of tasks.values()) if (existing.tenant === task.tenant && isLive(existing)) live++;
        if (live >= maxLive) return false;
      }
      tasks.set(task.id, Object.freeze({ ...task }));
      return true;
    },
    async get(id) {
      return tasks.get(id);
    },
    async update(id, patch, updateOptions = {}) {
      const current = tasks.get(id);
      if (current === undefined) return undefined;
      if (updateOptions.from !== undefined && !updateOptions.from.includes(current.status)) return undefined;
      const next = Object.freeze({ ...current, ...patch });
      tasks.set(id, next);
      notify(next);
      return next;
    },
    async list(filter = {}) {
      prune();
      const matching = [...tasks.values()]
        .filter((task) => filter.tenant === undefined || task.tenant === filter.tenant)
        .filter((task) => filter.statuses === undefined || filter.statuses.includes(task.status))
        .reverse()
        .sort((a, b) => b.startedAt - a.startedAt);
      return filter.limit === undefined ? matching : matching.slice(0, filter.limit);
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
  };
}

/** What `decide` is told about the call a task would make. */
export interface SpawnDecisionContext {
  readonly tenant: string;
  /** The request as the harness's policy sees a direct call (`toolRequiresApproval` included). */
  readonly request: ToolCallRequest;
  /** Fires when the spawning call is aborted (its script ended or was cancelled). */
  readonly signal: AbortSignal;
}

/**
 * Decides whether a task may run: `'allow'`, or the error to refuse it with (`POLICY_DENIED`,
 * `APPROVAL_DENIED`, `APPROVAL_TIMEOUT`). It is asked before the task is queued, while the spawning
 * call waits.
 */
export type SpawnDecide = (
  tool: string,
  args: unknown,
  context: SpawnDecisionContext,
) => Promise<'allow' | HarnessError> | 'allow' | HarnessError;

export interface SpawnToolsOptions {
  /** Tools `spawn.call` may run. Spawn tools are never among them, whatever is listed. */
  readonly tools: readonly AnyTool[];
  /** The command tool `spawn.exec` runs detached; without it there is no `spawn.exec`. */
  readonly exec?: AnyTool;
  /** Where tasks are kept (default: a new memory store). */
  readonly store?: TaskStore;
  /** Live (queued or running) tasks one tenant may have (default 8). */
  readonly maxLiveTasksPerTenant?: number;
  /** Deadline of a task when the script gives none (default 5 minutes). */
  readonly defaultTimeoutMs?: number;
  /** Longest deadline a script may ask for (default 1 hour, at least `defaultTimeoutMs`). */
  readonly maxTimeoutMs?: number;
  /** Largest task result kept, in JSON bytes (default 256 KiB); a larger one fails the task with OUTPUT_LIMIT. */
  readonly maxOutputBytes?: number;
  /** Longest `spawn.wait` (default 5 minutes); the script's own deadline still ends it sooner. */
  readonly maxWaitMs?: number;
  /** Whose tasks these are: a name, or one derived from each call (default `"default"`). */
  readonly tenant?: string | ((context: ToolExecuteContext) => string);
  /** Policy and approval of a task's call; replaces `policy` and `approve` when given. */
  readonly decide?: SpawnDecide;
  /** Policy asked about each task's call when there is no `decide` (default: core's default policy). */
  readonly policy?: PolicyEngine;
  /** Asked when the policy says `ask`; without it such a task is refused with APPROVAL_DENIED. */
  readonly approve?: (request: ToolCallRequest, signal: AbortSignal) => Promise<ApprovalOutcome>;
}

export interface SpawnTools {
  /** `spawn.call`, `spawn.status`, `spawn.wait`, `spawn.cancel`, `spawn.list` and (with `exec`) `spawn.exec`. */
  readonly tools: readonly AnyTool[];
  readonly store: TaskStore;
  /** A task of any tenant, for operators (CLI, server). */
  getTask(id: string): Promise<TaskRecord | undefined>;
  listTasks(filter?: TaskFilter): Promise<TaskRecord[]>;
  /** Cancels a live task; returns it as it now stands (undefined when there is no such task). */
  cancelTask(id: string, reason?: string): Promise<TaskRecord | undefined>;
  /** Stops every task this process is running (they end `cancelled` with SHUTDOWN) and waits for them. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_LIVE_TASKS_PER_TENANT = 8;
export const DEFAULT_TASK_TIMEOUT_MS = 300_000;
export const DEFAULT_MAX_TASK_TIMEOUT_MS = 3_600_000;
export const DEFAULT_MAX_TASK_OUTPUT_BYTES = 256 * 1024;
export const DEFAULT_MAX_WAIT_MS = 300_000;
const DEFAULT_WAIT_MS = 10_000;
const DEFAULT_TENANT = 'default';
const MAX_LISTED_TASKS = 100;

/**
 * The `execute` functions of every tool `createSpawnTools` made: a copy of a spawn tool under
 * another name (`{ ...tool, name }`) keeps its `execute`, so it is still recognised.
 */
const SPAWN_EXECUTES = new WeakSet<object>();

const TaskId = z.string().min(1).max(100).describe('Task id returned by tools.spawn.call or tools.spawn.exec.');

const TaskView = z.object({
  id: z.string(),
  tool: z.string().describe('Name of the tool the task runs.'),
  status: z.enum(TASK_STATUSES),
  startedAt: z.number().describe('When the task was accepted (epoch milliseconds).'),
  endedAt: z.number().optional().describe('When it ended (epoch milliseconds), once it has.'),
});

const TaskError = z.object({ code: z.string(), message: z.string() });

const WaitOutput = TaskView.extend({
  done: z.boolean().describe('True when the task has ended; false when the wait ran out first.'),
  result: z.unknown().optional().describe('What the tool returned, when the task succeeded.'),
  error: TaskError.optional().describe('Why the task failed, was cancelled or timed out.'),
});

const SpawnedOutput = z.object({ id: z.string().describe('Task id, for tools.spawn.status/wait/cancel.') });

type TaskViewData = z.output<typeof TaskView>;
type WaitResult = z.output<typeof WaitOutput>;

interface RunningTask {
  readonly controller: AbortController;
  readonly finished: Promise<void>;
}

/** Creates the spawn tools over `options.tools`, and the operations a CLI or server needs on their tasks. */
export function createSpawnTools(options: SpawnToolsOptions): SpawnTools {
  const store = options.store ?? createMemoryTaskStore();
  const maxLive = positiveInteger(
    options.maxLiveTasksPerTenant,
    DEFAULT_MAX_LIVE_TASKS_PER_TENANT,
    'maxLiveTasksPerTenant',
  );
  const defaultTimeoutMs = positiveInteger(options.defaultTimeoutMs, DEFAULT_TASK_TIMEOUT_MS, 'defaultTimeoutMs');
  const maxTimeoutMs = positiveInteger(
    options.maxTimeoutMs,
    Math.max(DEFAULT_MAX_TASK_TIMEOUT_MS, defaultTimeoutMs),
    'maxTimeoutMs',
  );
  if (defaultTimeoutMs > maxTimeoutMs) {
    throw new HarnessError('INVALID_REQUEST', 'defaultTimeoutMs must not be larger than maxTimeoutMs');
  }
  const maxOutputBytes = positiveInteger(options.maxOutputBytes, DEFAULT_MAX_TASK_OUTPUT_BYTES, 'maxOutputBytes');
  const maxWaitMs = positiveInteger(options.maxWaitMs, DEFAULT_MAX_WAIT_MS, 'maxWaitMs');
  const decide = options.decide ?? policyDecide(options.policy ?? defaultPolicy, options.approve);
  const tenantOf = (context: ToolExecuteContext): string =>
    typeof options.tenant === 'function' ? options.tenant(context) : (options.tenant ?? DEFAULT_TENANT);

  const targets = new Map<string, AnyTool>();
  for (const tool of options.tools) {
    if (isSpawnTool(tool)) continue;
    if (targets.has(tool.name)) throw new HarnessError('INVALID_REQUEST', `duplicate tool name ${tool.name}`);
    targets.set(tool.name, tool);
  }
  const exec = options.exec;
  if (exec !== undefined && isSpawnTool(exec)) {
    throw new HarnessError('INVALID_REQUEST', 'the exec tool of spawn.exec cannot be a spawn tool');
  }
  const running = new Map<string, RunningTask>();

  /** Validates, decides, queues and starts one task; returns its id. */
  async function spawn(
    target: AnyTool,
    rawArgs: unknown,
    timeoutMs: number | undefined,
    context: ToolExecuteContext,
    { validated }: { validated: boolean },
  ) {
    // `spawn.exec` takes the exec tool's own schema, so the harness has validated its arguments already.
    const parsed = validated ? { success: true as const, data: rawArgs } : target.input.safeParse(rawArgs);
    if (!parsed.success) {
      throw new HarnessError(
        'TOOL_VALIDATION',
        `invalid arguments for tools.${target.name}: ${describeIssues(parsed.error.issues)}`,
        {
          details: {
            issues: parsed.error.issues.map((issue) => ({ path: issue.path.map(String), message: issue.message })),
          },
        },
      );
    }
    const args: unknown = parsed.data;
    const tenant = tenantOf(context);
    // A quick refusal before anyone is asked to approve a task that could not be queued anyway;
    // `create` checks the cap again, atomically.
    const live = await store.list({ tenant, statuses: LIVE_TASK_STATUSES });
    if (live.length >= maxLive) throw overBudget(maxLive);

    const request: ToolCallRequest = {
      scriptId: context.scriptId,
      callId: context.callId,
      sequence: Number.parseInt(context.callId, 10) || 0,
      tool: target.name,
      args,
      toolRequiresApproval:
        typeof target.requiresApproval === 'function'
          ? target.requiresApproval(args)
          : target.requiresApproval === true,
    };
    const verdict = await decide(target.name, args, { tenant, request, signal: context.signal });
    if (verdict !== 'allow') {
      throw verdict instanceof HarnessError
        ? verdict
        : new HarnessError('POLICY_DENIED', `tools.${target.name} is not allowed as a task`);
    }
    context.signal.throwIfAborted();

    const startedAt = Date.now();
    const task: TaskRecord = {
      id: randomUUID(),
      tenant,
      tool: target.name,
      args,
      status: 'queued',
      startedAt,
      deadline: startedAt + (timeoutMs ?? defaultTimeoutMs),
      scriptId: context.scriptId,
    };
    if (!(await store.create(task, { maxLive }))) throw overBudget(maxLive);
    start(task, target);
    return { id: task.id };
  }

  function start(task: TaskRecord, target: AnyTool): void {
    const controller = new AbortController();
    let settle: () => void = () => {};
    const finished = new Promise<void>((resolve) => (settle = resolve));
    running.set(task.id, { controller, finished });
    // A cancel may be written to the store by another process; it stops the task here.
    const unsubscribe = store.subscribe(task.id, (current) => {
      if ((current.status === 'cancelled' || current.status === 'timed_out') && !controller.signal.aborted) {
        controller.abort(
          new HarnessError(current.error?.code ?? 'CANCELLED', current.error?.message ?? 'the task was stopped'),
        );
      }
    });
    const timeoutMs = task.deadline - task.startedAt;
    const timer = setTimeout(
      () => {
        const error = new HarnessError('TIMEOUT', `the task ran past its ${timeoutMs} ms deadline`);
        void endTask(task.id, 'timed_out', { error: error.toData() });
      },
      Math.max(0, task.deadline - Date.now()),
    );
    timer.unref();

    const run = async (): Promise<void> => {
      const started = await store.update(task.id, { status: 'running' }, { from: ['queued'] });
      if (started === undefined) return;
      const result = await executeTaskTool(target, task, controller.signal, maxOutputBytes);
      await endTask(task.id, 'succeeded', result === undefined ? {} : { result });
    };

    run()
      .catch(async (error: unknown) => {
        // After an abort the task has already ended (cancelled, timed out); its outcome stands.
        if (controller.signal.aborted) return;
        await endTask(task.id, 'failed', { error: toErrorData(error, 'TOOL_ERROR') });
      })
      .catch(() => {
        // The store itself failed while recording the outcome; nothing is left to tell.
      })
      .finally(() => {
        clearTimeout(timer);
        unsubscribe();
        if (!controller.signal.aborted) controller.abort(new HarnessError('CANCELLED', 'the task has ended'));
        running.delete(task.id);
        settle();
      });
  }

  /** Ends a live task; the first ending wins (a cancel racing a result, a timeout racing a cancel). */
  async function endTask(
    id: string,
    status: Exclude<TaskStatus, 'queued' | 'running'>,
    outcome: { result?: unknown; error?: HarnessErrorData },
  ): Promise<TaskRecord | undefined> {
    return store.update(id, { status, endedAt: Date.now(), ...outcome }, { from: LIVE_TASK_STATUSES });
  }

  async function cancelTask(id: string, reason?: string): Promise<TaskRecord | undefined> {
    const message = reason === undefined ? 'the task was cancelled' : `the task was cancelled: ${reason}`;
    const ended = await endTask(id, 'cancelled', { error: errorData('CANCELLED', message) });
    return ended ?? (await store.get(id));
  }

  /** The task with `id` if it belongs to this call's tenant; another tenant's task reads as missing. */
  async function ownTask(id: string, context: ToolExecuteContext): Promise<TaskRecord> {
    const task = await store.get(id);
    if (task === undefined || task.tenant !== tenantOf(context)) {
      throw new HarnessError('TOOL_ERROR', `there is no task with id ${JSON.stringify(id)}`);
    }
    return task;
  }

  async function waitForEnd(id: string, waitMs: number, signal: AbortSignal): Promise<TaskRecord | undefined> {
    return new Promise<TaskRecord | undefined>((resolve, reject) => {
      let done = false;
      const finish = (task: TaskRecord | undefined, error?: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unsubscribe();
        signal.removeEventListener('abort', onAbort);
        if (error !== undefined) reject(error);
        else resolve(task);
      };
      const onAbort = () => finish(undefined, signal.reason);
      const timer = setTimeout(() => finish(undefined), waitMs);
      // Subscribed before the read, so an ending between the two is not missed.
      const unsubscribe = store.subscribe(id, (task) => {
        if (!LIVE_TASK_STATUSES.includes(task.status)) finish(task);
      });
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort();
      store.get(id).then(
        (task) => {
          if (task !== undefined && !LIVE_TASK_STATUSES.includes(task.status)) finish(task);
        },
        (error: unknown) => finish(undefined, error),
      );
    });
  }

  const spawnCall = defineTool<{ tool: string; args?: unknown; timeoutMs?: number }, { id: string }>({
    name: 'spawn.call',
    description:
      'Starts a tool call as a detached task and returns its id at once; the task keeps running after this script ' +
      'ends. Fetch its outcome later with tools.spawn.wait or tools.spawn.status. The call goes through the same ' +
      `checks and approvals as a direct one; at most ${maxLive} tasks may run at a time, and spawn tools cannot be started.`,
    input: z.strictObject({
      tool: z.string().min(1).max(200).describe('Name of the tool to run, as after "tools." (e.g. "readFile").'),
      args: z.unknown().optional().describe("The tool's arguments, as for a direct call."),
      timeoutMs: z
        .number()
        .int()
        .min(1)
        .max(maxTimeoutMs)
        .optional()
        .describe(`The task's own deadline in ms (default ${defaultTimeoutMs}).`),
    }),
    output: SpawnedOutput,
    async execute(args, context) {
      const name = args.tool.startsWith('tools.') ? args.tool.slice('tools.'.length) : args.tool;
      if (name === 'spawn' || name.startsWith('spawn.')) {
        throw new HarnessError(
          'POLICY_DENIED',
          'a task cannot start further tasks: spawn tools cannot be run through spawn.call',
        );
      }
      const target = targets.get(name);
      if (target === undefined) {
        const suggestions = closestNames(name, [...targets.keys()]);
        const hint =
          suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => JSON.stringify(s)).join(', ')}?` : '';
        throw new HarnessError(
          'TOOL_NOT_FOUND',
          `there is no tool ${JSON.stringify(name)} that spawn.call can run${hint}`,
          {
            details: { suggestions },
          },
        );
      }
      return spawn(target, args.args, args.timeoutMs, context, { validated: false });
    },
  });

  const spawnStatus = defineTool<{ id: string }, TaskViewData>({
    name: 'spawn.status',
    description: 'Returns where a task stands: queued, running, succeeded, failed, cancelled or timed_out.',
    input: z.strictObject({ id: TaskId }),
    output: TaskView,
    async execute(args, context) {
      return view(await ownTask(args.id, context));
    },
  });

  const spawnWait = defineTool<{ id: string; timeoutMs?: number }, WaitResult>({
    name: 'spawn.wait',
    description:
      "Waits for a task to end and returns its status with its result or error. If it has not ended within timeoutMs, returns the current status with done: false. The wait counts against this script's own deadline.",
    input: z.strictObject({
      id: TaskId,
      timeoutMs: z
        .number()
        .int()
        .min(0)
        .max(maxWaitMs)
        .optional()
        .describe(`How long to wait in ms (default ${DEFAULT_WAIT_MS}); keep it below the script's remaining time.`),
    }),
    output: WaitOutput,
    async execute(args, context) {
      const task = await ownTask(args.id, context);
      const ended = LIVE_TASK_STATUSES.includes(task.status)
        ? ((await waitForEnd(task.id, args.timeoutMs ?? DEFAULT_WAIT_MS, context.signal)) ??
          (await ownTask(args.id, context)))
        : task;
      return outcome(ended);
    },
  });

  const spawnCancel = defineTool<{ id: string }, TaskViewData & { cancelled: boolean }>({
    name: 'spawn.cancel',
    description: 'Cancels a queued or running task. cancelled is false when the task had already ended.',
    input: z.strictObject({ id: TaskId }),
    output: TaskView.extend({ cancelled: z.boolean().describe('True when this call stopped the task.') }),
    async execute(args, context) {
      await ownTask(args.id, context);
      const ended = await endTask(args.id, 'cancelled', {
        error: errorData('CANCELLED', 'the task was cancelled by a script'),
      });
      const task = ended ?? (await ownTask(args.id, context));
      return { ...view(task), cancelled: ended !== undefined };
    },
  });

  const spawnList = defineTool<
    { status?: TaskStatus; limit?: number } | undefined,
    { tasks: TaskViewData[]; truncated: boolean }
  >({
    name: 'spawn.list',
    description: `Lists this tenant's tasks, newest first (at most ${MAX_LISTED_TASKS}), optionally only those with one status.`,
    input: z
      .strictObject({
        status: z.enum(TASK_STATUSES).optional().describe('Only tasks with this status.'),
        limit: z
          .number()
          .int()
          .min(1)
          .max(MAX_LISTED_TASKS)
          .optional()
          .describe(`Most tasks returned (default ${MAX_LISTED_TASKS}).`),
      })
      .optional(),
    output: z.object({
      tasks: z.array(TaskView),
      truncated: z.boolean().describe('True when more tasks exist than were returned.'),
    }),
    async execute(args, context) {
      const limit = args?.limit ?? MAX_LISTED_TASKS;
      const tasks = await store.list({
        tenant: tenantOf(context),
        ...(args?.status === undefined ? {} : { statuses: [args.status] }),
        limit: limit + 1,
      });
      return { tasks: tasks.slice(0, limit).map(view), truncated: tasks.length > limit };
    },
  });

  const tools: AnyTool[] = [];
  if (exec !== undefined) {
    tools.push(
      defineTool<unknown, { id: string }>({
        name: 'spawn.exec',
        description:
          `Runs tools.${exec.name} as a detached task (same arguments) and returns its id at once; fetch the outcome ` +
          'later with tools.spawn.wait or tools.spawn.status.',
        input: exec.input,
        output: SpawnedOutput,
        execute: (args, context) => spawn(exec, args, undefined, context, { validated: true }),
      }),
    );
  }
  tools.push(spawnCall, spawnStatus, spawnWait, spawnCancel, spawnList);
  for (const tool of tools) SPAWN_EXECUTES.add(tool.execute);

  return {
    tools,
    store,
    getTask: (id) => store.get(id),
    listTasks: (filter) => store.list(filter),
    cancelTask,
    async close() {
      const stopping = [...running.entries()];
      await Promise.all(
        stopping.map(([id]) =>
          endTask(id, 'cancelled', { error: errorData('SHUTDOWN', 'the task was stopped because the host shut down') }),
        ),
      );
      for (const [, task] of stopping) {
        if (!task.controller.signal.aborted) {
          task.controller.abort(new HarnessError('SHUTDOWN', 'the task was stopped because the host shut down'));
        }
      }
      await Promise.all(stopping.map(([, task]) => task.finished));
    },
  };
}

/** Whether a tool is one of the spawn tools (by name or by its `execute`): such tools never run as tasks. */
export function isSpawnTool(tool: AnyTool): boolean {
  return SPAWN_EXECUTES.has(tool.execute) || tool.name === 'spawn' || tool.name.startsWith('spawn.');
}

/** The default decision: the policy (as for a direct call), then the approval hook when it says ask. */
function policyDecide(policy: PolicyEngine, approve: SpawnToolsOptions['approve']): SpawnDecide {
  return async (tool, _args, { request, signal }) => {
    const decision = await policy.decide(request);
    if (decision.decision === 'deny') {
      return new HarnessError(
        'POLICY_DENIED',
        `tools.${tool} is not allowed${decision.reason ? `: ${decision.reason}` : ''}`,
      );
    }
    if (decision.decision === 'allow') return 'allow';
    if (approve === undefined) {
      return new HarnessError('APPROVAL_DENIED', `tools.${tool} needs approval, and no one can approve tasks here`);
    }
    const outcome = await approve(request, signal);
    if (outcome.approved) return 'allow';
    if (outcome.timedOut === true)
      return new HarnessError('APPROVAL_TIMEOUT', `no decision on tools.${tool} arrived in time`);
    return new HarnessError(
      'APPROVAL_DENIED',
      `tools.${tool} was denied${outcome.reason ? `: ${outcome.reason}` : ''}`,
    );
  };
}

function view(task: TaskRecord): TaskViewData {
  return {
    id: task.id,
    tool: task.tool,
    status: task.status,
    startedAt: task.startedAt,
    ...(task.endedAt === undefined ? {} : { endedAt: task.endedAt }),
  };
}

function outcome(task: TaskRecord): WaitResult {
  const done = !LIVE_TASK_STATUSES.includes(task.status);
  return {
    ...view(task),
    done,
    ...(task.status === 'succeeded' && task.result !== undefined ? { result: task.result } : {}),
    ...(task.error === undefined ? {} : { error: { code: task.error.code, message: task.error.message } }),
  };
}

function overBudget(maxLive: number): HarnessError {
  return new HarnessError(
    'TOOL_BUDGET',
    `too many live tasks: at most ${maxLive} may be queued or running at a time; wait for one to end or cancel one`,
    { details: { maxLiveTasks: maxLive } },
  );
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length === 0 ? '(arguments)' : issue.path.map(String).join('.')}: ${issue.message}`)
    .join('; ');
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  const chosen = value ?? fallback;
  if (!Number.isSafeInteger(chosen) || chosen <= 0) {
    throw new HarnessError('INVALID_REQUEST', `${name} must be a positive integer`);
  }
  return chosen;
}

/**
 * Runs the tool of a detached task (here or, with a shared store, on whichever node adopts it):
 * the call stops with `signal`, and the output must match the tool's schema and fit
 * `maxOutputBytes` as JSON. Resolves with the result as plain JSON data (undefined for none);
 * rejects with the tool's error, TOOL_ERROR or OUTPUT_LIMIT, or the signal's reason.
 */
export async function executeTaskTool(
  target: AnyTool,
  task: Pick<TaskRecord, 'id' | 'args' | 'scriptId'>,
  signal: AbortSignal,
  maxOutputBytes: number,
): Promise<unknown> {
  const output = await abortable(
    Promise.resolve().then(() =>
      target.execute(task.args, {
        signal,
        callId: `task-${task.id}`,
        scriptId: task.scriptId ?? task.id,
        maxOutputBytes,
      }),
    ),
    signal,
  );
  let checked: unknown = output;
  if (target.output !== undefined) {
    const parsed = target.output.safeParse(output);
    if (!parsed.success) {
      throw new HarnessError(
        'TOOL_ERROR',
        `tools.${target.name} returned a value that does not match its output schema`,
      );
    }
    checked = parsed.data;
  }
  const json = toPlainJson(checked);
  if (json !== undefined && Buffer.byteLength(json, 'utf8') > maxOutputBytes) {
    throw new HarnessError('OUTPUT_LIMIT', `the result of tools.${target.name} is larger than ${maxOutputBytes} bytes`);
  }
  return json === undefined ? undefined : JSON.parse(json);
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
