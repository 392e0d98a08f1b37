/**
 * The engine: runs one prepared script in a fresh sandbox, serves its tool calls through the host
 * bridge under limits and policy, and returns a `ScriptResult` as data. Script faults never throw.
 */
import { randomUUID } from 'node:crypto';
import {
  type ErrorCode,
  errorData,
  HarnessError,
  type HarnessErrorData,
  redactHostPaths,
  toErrorData,
} from './errors.ts';
import {
  DEFAULT_MAX_LIMITS,
  formatIssues,
  type Limits,
  type LimitsInput,
  parseLimits,
  resolveLimits,
} from './limits.ts';
import {
  type ApprovalBroker,
  defaultPolicy,
  denyAllApprovals,
  type PolicyEngine,
  type ToolCallRequest,
} from './policy.ts';
import { type Finding, type PreparedScript, prepareScript, type ScriptLanguage } from './prepare.ts';
import type { BridgeReply, DeadlineControl, HostBridge, RunOutcome, RuntimeAdapter, Sandbox } from './runtime.ts';
import { noopTelemetry, type ScriptTelemetry, type Telemetry } from './telemetry.ts';
import { type AnyTool, createToolRegistry, type ToolRegistry } from './tool.ts';

export type ToolCallStatus = 'ok' | 'error' | 'aborted';

export interface ToolCallRecord {
  readonly callId: string;
  readonly tool: string;
  readonly args: unknown;
  readonly status: ToolCallStatus;
  readonly value?: unknown;
  readonly error?: HarnessErrorData;
  readonly startedAt: number;
  readonly durationMs: number;
}

export interface ConsoleEntry {
  readonly level: string;
  readonly text: string;
  /** Milliseconds since the script started. */
  readonly atMs: number;
}

export interface ResultWarning {
  readonly code: ErrorCode;
  readonly message: string;
}

export interface ScriptMetadata {
  readonly scriptId: string;
  readonly runtime: string;
  readonly durationMs: number;
  readonly toolCalls: number;
  readonly consoleDropped: number;
  readonly memoryBytes?: number;
}

export interface ScriptResult {
  readonly ok: boolean;
  /** The value the script returned (JSON data), when `ok`. */
  readonly value?: unknown;
  readonly error?: HarnessErrorData;
  /** Every tool call, in the order the script made them. */
  readonly calls: readonly ToolCallRecord[];
  /** On failure: the tool calls that completed before it (e.g. before a timeout). */
  readonly partial?: readonly ToolCallRecord[];
  readonly console: readonly ConsoleEntry[];
  readonly warnings: readonly ResultWarning[];
  readonly metadata: ScriptMetadata;
}

export type ScriptEvent =
  | { readonly type: 'script_started'; readonly scriptId: string }
  | { readonly type: 'console'; readonly scriptId: string; readonly level: string; readonly text: string }
  | { readonly type: 'script_progress'; readonly scriptId: string; readonly message: string }
  | {
      readonly type: 'tool_call';
      readonly scriptId: string;
      readonly callId: string;
      readonly tool: string;
      readonly args: unknown;
    }
  | {
      readonly type: 'tool_result';
      readonly scriptId: string;
      readonly callId: string;
      readonly tool: string;
      readonly status: ToolCallStatus;
      readonly durationMs: number;
      readonly error?: HarnessErrorData;
    }
  | { readonly type: 'script_completed'; readonly scriptId: string; readonly result: ScriptResult }
  | { readonly type: 'script_error'; readonly scriptId: string; readonly result: ScriptResult };

export interface HarnessOptions {
  /** The default runtime. */
  readonly runtime: RuntimeAdapter;
  /** Further runtimes a request may choose by name (`RunOptions.runtime`). */
  readonly additionalRuntimes?: readonly RuntimeAdapter[];
  readonly tools?: readonly AnyTool[];
  /** Limits of every run (defaults fill the rest). */
  readonly limits?: LimitsInput;
  /** Ceilings for per-request limit overrides. */
  readonly maxLimits?: Partial<Limits>;
  readonly policy?: PolicyEngine;
  readonly approvals?: ApprovalBroker;
  /** Fields added to every script's `context` (plain data). */
  readonly context?: Readonly<Record<string, unknown>>;
  /** Spans and metrics; default: none. */
  readonly telemetry?: Telemetry;
}

export interface RunOptions {
  readonly language?: ScriptLanguage;
  /** Name of the runtime for this run (e.g. "quickjs", "isolated-vm"); default: the harness's. */
  readonly runtime?: string;
  readonly limits?: Partial<Limits>;
  /** Tool names this run may call (a subset of the harness tools). Default: all. */
  readonly tools?: readonly string[];
  /** Fields added to this script's `context` (plain data). */
  readonly context?: Readonly<Record<string, unknown>>;
  readonly scriptId?: string;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: ScriptEvent) => void;
  /** Tool calls still running when the script ends are aborted either way; this only silences the warning. */
  readonly allowDetached?: boolean;
  /** Handed to `Telemetry.startScript` as `parent` (e.g. the trace context of an incoming request). */
  readonly telemetryParent?: unknown;
}

export interface Harness {
  /** Name of the default runtime. */
  readonly runtime: string;
  /** Names of every runtime a request may choose. */
  readonly runtimes: readonly string[];
  readonly limits: Readonly<Limits>;
  readonly registry: ToolRegistry;
  run(source: string | Uint8Array, options?: RunOptions): Promise<ScriptResult>;
  /** Validates without running anything: syntax, banned constructs, unknown tools. */
  check(source: string | Uint8Array, options?: Pick<RunOptions, 'language' | 'limits' | 'tools'>): CheckReport;
  close(): Promise<void>;
}

export interface CheckReport {
  readonly ok: boolean;
  readonly findings: readonly Finding[];
  readonly referencedTools: readonly string[];
}

export function createHarness(options: HarnessOptions): Harness {
  const limits = Object.freeze(parseLimits(options.limits));
  const ceilings = { ...DEFAULT_MAX_LIMITS, ...options.maxLimits };
  const registry = createToolRegistry(options.tools ?? []);
  const policy = options.policy ?? defaultPolicy;
  const approvals = options.approvals ?? denyAllApprovals;
  const baseContext = options.context ?? {};
  const runtime = options.runtime;
  const runtimesByName = new Map<string, RuntimeAdapter>();
  for (const adapter of [runtime, ...(options.additionalRuntimes ?? [])]) {
    if (runtimesByName.has(adapter.name))
      throw new HarnessError('INVALID_REQUEST', `two runtimes are named ${adapter.name}`);
    runtimesByName.set(adapter.name, adapter);
  }
  const telemetry = options.telemetry ?? noopTelemetry;

  const allowedTools = (requested: readonly string[] | undefined): readonly string[] => {
    if (requested === undefined) return registry.names;
    const unknown = requested.filter((name) => registry.get(name) === undefined);
    if (unknown.length > 0) {
      throw new HarnessError('INVALID_REQUEST', `unknown tools in the allowlist: ${unknown.join(', ')}`, {
        details: { unknown, known: registry.names },
      });
    }
    return [...new Set(requested)].sort();
  };

  async function run(source: string | Uint8Array, runOptions: RunOptions = {}): Promise<ScriptResult> {
    const startedAt = performance.now();
    const scriptId = runOptions.scriptId ?? randomUUID();
    const emit = listenerOf(runOptions.onEvent);
    const adapter = runtimesByName.get(runOptions.runtime ?? runtime.name);
    const scriptTelemetry = telemetry.startScript({
      scriptId,
      runtime: adapter?.name ?? runtime.name,
      parent: runOptions.telemetryParent,
    });
    const early = (error: HarnessErrorData): ScriptResult => {
      const result = failedResult(error, scriptId, adapter?.name ?? runtime.name, startedAt);
      scriptTelemetry.end(result);
      emit?.({ type: 'script_error', scriptId, result });
      return result;
    };
    if (adapter === undefined) {
      return early(
        errorData(
          'INVALID_REQUEST',
          `unknown runtime ${JSON.stringify(runOptions.runtime)}; available: ${[...runtimesByName.keys()].join(', ')}`,
        ),
      );
    }
    let runLimits: Limits;
    let toolNames: readonly string[];
    try {
      runLimits = resolveLimits(limits, runOptions.limits, ceilings);
      toolNames = allowedTools(runOptions.tools);
    } catch (error) {
      return early(toErrorData(error));
    }
    const prepared = prepareScript(source, {
      language: runOptions.language ?? 'ts',
      maxSourceBytes: runLimits.maxSourceBytes,
    });
    if (!prepared.ok) return early(prepared.error);
    emit?.({ type: 'script_started', scriptId });
    let result: ScriptResult;
    try {
      result = await execute(
        adapter,
        prepared.script,
        scriptId,
        runLimits,
        toolNames,
        runOptions,
        startedAt,
        scriptTelemetry,
      );
    } catch (error) {
      // Only a failure of the harness itself lands here (a runtime that could not create a sandbox).
      result = failedResult(toErrorData(error), scriptId, adapter.name, startedAt);
    }
    scriptTelemetry.end(result);
    return result;
  }

  async function execute(
    runtime: RuntimeAdapter,
    script: PreparedScript,
    scriptId: string,
    runLimits: Limits,
    toolNames: readonly string[],
    runOptions: RunOptions,
    startedAt: number,
    scriptTelemetry: ScriptTelemetry,
  ): Promise<ScriptResult> {
    const emit = listenerOf(runOptions.onEvent);
    const controller = new AbortController();
    const onCallerAbort = () =>
      controller.abort(new HarnessError('CANCELLED', 'the script was cancelled by the caller'));
    if (runOptions.signal?.aborted) onCallerAbort();
    runOptions.signal?.addEventListener('abort', onCallerAbort, { once: true });
    // The runtime enforces the deadline; this guard enforces it again from outside, in case it does not.
    let guard: NodeJS.Timeout | undefined;
    let deadlineControl: DeadlineControl | undefined;
    let approvalsWaiting = 0;
    const armGuard = (deadline: number, control: DeadlineControl) => {
      deadlineControl = control;
      clearTimeout(guard);
      guard = setTimeout(
        () =>
          controller.abort(new HarnessError('TIMEOUT', `the script ran past its ${runLimits.timeoutMs} ms deadline`)),
        Math.max(0, deadline - Date.now()) + GUARD_SLACK_MS,
      );
    };
    // While any call waits for a person, the script's clock stands still (the runtime moves its
    // deadline by the time held and reports the new one through `started`).
    const holdClock = () => {
      if (approvalsWaiting++ === 0) {
        clearTimeout(guard);
        deadlineControl?.hold();
      }
    };
    const releaseClock = () => {
      if (--approvalsWaiting === 0) deadlineControl?.release();
    };

    const allowed = new Set(toolNames);
    const calls: ToolCallRecord[] = [];
    const inFlight = new Map<number, { controller: AbortController; settled: Promise<void> }>();
    const consoleEntries: ConsoleEntry[] = [];
    let consoleDropped = 0;
    let consoleWindowStart = 0;
    let consoleInWindow = 0;
    let progressCount = 0;
    let lastProgressAt = Number.NEGATIVE_INFINITY;
    let callSequence = 0;
    let running = 0;
    const waiting: (() => void)[] = [];

    const context = JSON.stringify({
      ...baseContext,
      ...runOptions.context,
      scriptId,
      runtime: runtime.name,
      tools: toolNames,
      mode: 'enabled',
      remainingToolCalls: runLimits.maxToolCalls,
      limits: {
        timeoutMs: runLimits.timeoutMs,
        memoryMb: runLimits.memoryMb,
        maxToolCalls: runLimits.maxToolCalls,
        maxOutputBytes: runLimits.maxOutputBytes,
      },
    });

    const acquireSlot = async (signal: AbortSignal): Promise<void> => {
      if (running < runLimits.maxConcurrentToolCalls) {
        running++;
        return;
      }
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const index = waiting.indexOf(grant);
          if (index >= 0) waiting.splice(index, 1);
          reject(signal.reason);
        };
        const grant = () => {
          signal.removeEventListener('abort', onAbort);
          running++;
          resolve();
        };
        waiting.push(grant);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    };
    const releaseSlot = () => {
      running--;
      waiting.shift()?.();
    };

    const reply = (error: HarnessErrorData): string =>
      JSON.stringify({
        ok: false,
        error: { code: error.code, message: error.message, details: error.details },
      } satisfies BridgeReply);

    const serveCall = async (numericId: number, name: string, argsJson: string): Promise<string> => {
      const callId = String(numericId);
      const callStarted = Date.now();
      const callClock = performance.now();
      // A name the script made up never reaches telemetry (it would become a metric label).
      const callTelemetry = scriptTelemetry.startToolCall({ tool: allowed.has(name) ? name : UNKNOWN_TOOL, callId });
      let approvalWaitMs: number | undefined;
      let args: unknown;
      const record = (status: ToolCallStatus, extra: { value?: unknown; error?: HarnessErrorData }) => {
        const entry: ToolCallRecord = {
          callId,
          tool: name,
          args,
          status,
          ...extra,
          startedAt: callStarted,
          durationMs: performance.now() - callClock,
        };
        calls.push(entry);
        callTelemetry.end({
          status,
          durationMs: entry.durationMs,
          ...(extra.error === undefined ? {} : { code: extra.error.code }),
          ...(approvalWaitMs === undefined ? {} : { approvalWaitMs }),
        });
        emit?.({
          type: 'tool_result',
          scriptId,
          callId,
          tool: name,
          status,
          durationMs: entry.durationMs,
          ...(extra.error === undefined ? {} : { error: extra.error }),
        });
      };
      const fail = (code: ErrorCode, message: string, details?: Record<string, unknown>): string => {
        const error = errorData(code, message, { details });
        record('error', { error });
        return reply(error);
      };

      if (argsJson.length > runLimits.maxToolArgsBytes && byteLength(argsJson) > runLimits.maxToolArgsBytes) {
        return fail(
          'TOOL_VALIDATION',
          `arguments of tools.${name} are larger than ${runLimits.maxToolArgsBytes} bytes`,
        );
      }
      try {
        args = argsJson === '' ? undefined : JSON.parse(argsJson);
      } catch {
        return fail('SERIALIZATION', `arguments of tools.${name} are not JSON-compatible`);
      }
      const tool = allowed.has(name) ? registry.get(name) : undefined;
      if (tool === undefined) {
        const suggestions = registry.suggest(name, toolNames);
        const hint = suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => `tools.${s}`).join(', ')}?` : '';
        return fail('TOOL_NOT_FOUND', `tools.${name} does not exist${hint}`, { suggestions });
      }
      callSequence++;
      if (callSequence > runLimits.maxToolCalls) {
        return fail('TOOL_BUDGET', `the script made more than ${runLimits.maxToolCalls} tool calls`, {
          maxToolCalls: runLimits.maxToolCalls,
        });
      }
      const parsed = tool.input.safeParse(args);
      if (!parsed.success) {
        const first = parsed.error.issues[0];
        return fail('TOOL_VALIDATION', `invalid arguments for tools.${name}: ${formatIssues(parsed.error.issues)}`, {
          path: first === undefined ? [] : first.path.map(String),
          issues: parsed.error.issues.map((issue) => ({ path: issue.path.map(String), message: issue.message })),
        });
      }
      // Frozen: what policy and a person approve is exactly what the tool receives.
      args = deepFreeze(parsed.data);
      emit?.({ type: 'tool_call', scriptId, callId, tool: name, args });

      const callController = new AbortController();
      const onRunAbort = () => callController.abort(controller.signal.reason);
      if (controller.signal.aborted) onRunAbort();
      else controller.signal.addEventListener('abort', onRunAbort, { once: true });
      let settle: () => void = () => {};
      inFlight.set(numericId, {
        controller: callController,
        settled: new Promise<void>((resolve) => (settle = resolve)),
      });
      const signal = callController.signal;
      let slotHeld = false;
      try {
        const request: ToolCallRequest = {
          scriptId,
          callId,
          sequence: callSequence,
          tool: name,
          args,
          toolRequiresApproval:
            typeof tool.requiresApproval === 'function' ? tool.requiresApproval(args) : tool.requiresApproval === true,
        };
        const decision = await policy.decide(request);
        if (decision.decision === 'deny') {
          return fail('POLICY_DENIED', `tools.${name} is not allowed${decision.reason ? `: ${decision.reason}` : ''}`);
        }
        if (decision.decision === 'ask') {
          const askedAt = Date.now();
          holdClock();
          let outcome: Awaited<ReturnType<ApprovalBroker['request']>>;
          try {
            outcome = await approvals.request(request, signal);
          } finally {
            releaseClock();
          }
          approvalWaitMs = Date.now() - askedAt;
          if (!outcome.approved) {
            return outcome.timedOut
              ? fail('APPROVAL_TIMEOUT', `no decision on tools.${name} arrived in time`)
              : fail('APPROVAL_DENIED', `tools.${name} was denied${outcome.reason ? `: ${outcome.reason}` : ''}`);
          }
        }
        await acquireSlot(signal);
        slotHeld = true;
        const output = await abortable(
          Promise.resolve(
            tool.execute(args, { signal, callId, scriptId, maxOutputBytes: runLimits.maxToolOutputBytes }),
          ),
          signal,
        );
        let checked: unknown = output;
        if (tool.output !== undefined) {
          const result = tool.output.safeParse(output);
          if (!result.success) {
            return fail('TOOL_ERROR', `tools.${name} returned a value that does not match its output schema`);
          }
          checked = result.data;
        }
        const json = toPlainJson(checked);
        if (json === undefined) {
          record('ok', { value: undefined });
          return '{"ok":true}';
        }
        if (json.length > runLimits.maxToolOutputBytes && byteLength(json) > runLimits.maxToolOutputBytes) {
          return fail(
            'OUTPUT_LIMIT',
            `the result of tools.${name} is larger than ${runLimits.maxToolOutputBytes} bytes`,
          );
        }
        record('ok', { value: JSON.parse(json) });
        return `{"ok":true,"value":${json}}`;
      } catch (error) {
        if (signal.aborted) {
          const reason = toErrorData(signal.reason);
          record('aborted', { error: reason });
          return reply(reason);
        }
        const data = toErrorData(error, 'TOOL_ERROR');
        record('error', { error: data });
        return reply(data);
      } finally {
        if (slotHeld) releaseSlot();
        controller.signal.removeEventListener('abort', onRunAbort);
        inFlight.delete(numericId);
        settle();
      }
    };

    const bridge: HostBridge = {
      callTool: serveCall,
      started: armGuard,
      emit(kind, level, text) {
        const now = performance.now();
        if (kind === 'progress') {
          if (progressCount >= runLimits.maxProgressEvents || now - lastProgressAt < runLimits.progressIntervalMs)
            return;
          progressCount++;
          lastProgressAt = now;
          emit?.({ type: 'script_progress', scriptId, message: truncate(text, runLimits.maxConsoleLineBytes) });
          return;
        }
        if (now - consoleWindowStart >= 1000) {
          consoleWindowStart = now;
          consoleInWindow = 0;
        }
        if (
          consoleEntries.length >= runLimits.maxConsoleEvents ||
          consoleInWindow >= runLimits.consoleEventsPerSecond
        ) {
          consoleDropped++;
          return;
        }
        consoleInWindow++;
        const entry = { level, text: truncate(text, runLimits.maxConsoleLineBytes), atMs: Math.round(now - startedAt) };
        consoleEntries.push(entry);
        emit?.({ type: 'console', scriptId, level, text: entry.text });
      },
    };

    let outcome: RunOutcome;
    let sandbox: Sandbox | undefined;
    try {
      sandbox = await runtime.createSandbox({
        memoryBytes: Math.floor(runLimits.memoryMb * 1024 * 1024),
        stackBytes: runLimits.stackKb * 1024,
      });
      outcome = await sandbox.run(
        {
          code: script.code,
          lineOffset: script.lineOffset,
          toolNames,
          contextJson: context,
          timeoutMs: runLimits.timeoutMs,
          caps: {
            outputChars: runLimits.maxOutputBytes,
            consoleLineChars: runLimits.maxConsoleLineBytes,
            toolArgsChars: runLimits.maxToolArgsBytes,
          },
        },
        bridge,
        controller.signal,
      );
    } catch (error) {
      outcome = { ok: false, error: toErrorData(error) };
    } finally {
      clearTimeout(guard);
      runOptions.signal?.removeEventListener('abort', onCallerAbort);
      await sandbox?.dispose();
    }

    // Tool calls still running: the script never awaited them, or it failed (timed out) while they
    // ran. Abort them with that reason, give them a moment to settle, and report detached ones.
    const warnings: ResultWarning[] = [];
    if (inFlight.size > 0) {
      const detached = [...inFlight.entries()];
      const reason = outcome.ok
        ? new HarnessError('DETACHED_PROMISE', 'the script ended before this tool call finished')
        : new HarnessError(outcome.error.code, outcome.error.message);
      for (const [, call] of detached) call.controller.abort(reason);
      await Promise.race([
        Promise.all(detached.map(([, call]) => call.settled)),
        new Promise((resolve) => setTimeout(resolve, runLimits.detachedGraceMs).unref()),
      ]);
      if (outcome.ok && runOptions.allowDetached !== true) {
        warnings.push({
          code: 'DETACHED_PROMISE',
          message: `${detached.length} tool call(s) were still running when the script ended and were aborted (calls ${detached
            .map(([id]) => id)
            .join(', ')}); await every tool call`,
        });
      }
    }

    // Calls were logged as they finished; the result lists them in the order the script made them.
    calls.sort((a, b) => Number(a.callId) - Number(b.callId));
    const metadata: ScriptMetadata = {
      scriptId,
      runtime: runtime.name,
      durationMs: performance.now() - startedAt,
      toolCalls: calls.length,
      consoleDropped,
      ...(outcome.memoryBytes === undefined ? {} : { memoryBytes: outcome.memoryBytes }),
    };
    let result: ScriptResult;
    if (outcome.ok) {
      const json = outcome.valueJson;
      if (json !== undefined && json.length > runLimits.maxOutputBytes && byteLength(json) > runLimits.maxOutputBytes) {
        result = {
          ok: false,
          error: errorData('OUTPUT_LIMIT', `the returned value is larger than ${runLimits.maxOutputBytes} bytes`, {
            details: { truncated: true, bytes: byteLength(json), preview: truncate(json, runLimits.maxOutputBytes) },
          }),
          calls,
          partial: calls.filter((call) => call.status === 'ok'),
          console: consoleEntries,
          warnings,
          metadata,
        };
      } else {
        result = {
          ok: true,
          value: json === undefined ? undefined : JSON.parse(json),
          calls,
          console: consoleEntries,
          warnings,
          metadata,
        };
      }
    } else {
      result = {
        ok: false,
        error: errorData(outcome.error.code, outcome.error.message, outcome.error),
        calls,
        partial: calls.filter((call) => call.status === 'ok'),
        console: consoleEntries,
        warnings,
        metadata,
      };
    }
    emit?.({ type: result.ok ? 'script_completed' : 'script_error', scriptId, result });
    return result;
  }

  return {
    runtime: runtime.name,
    runtimes: [...runtimesByName.keys()],
    limits,
    registry,
    run,
    check(source, checkOptions = {}) {
      const runLimits = resolveLimits(limits, checkOptions.limits, ceilings);
      const names = allowedTools(checkOptions.tools);
      const prepared = prepareScript(source, {
        language: checkOptions.language ?? 'ts',
        maxSourceBytes: runLimits.maxSourceBytes,
        analyze: true,
      });
      if (!prepared.ok) return { ok: false, findings: prepared.findings, referencedTools: [] };
      const referenced = prepared.script.referencedTools ?? [];
      const known = new Set(names);
      const findings: Finding[] = referenced
        .filter((name) => !known.has(name))
        .map((name) => {
          const suggestions = registry.suggest(name, names);
          return {
            code: 'TOOL_NOT_FOUND',
            message: `tools.${name} does not exist${suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => `tools.${s}`).join(', ')}?` : ''}`,
          };
        });
      return { ok: findings.length === 0, findings, referencedTools: referenced };
    },
    close: async () => {
      await Promise.all([...runtimesByName.values()].map((adapter) => adapter.close?.()));
    },
  };
}

/** The tool name telemetry sees for calls to tools that do not exist. */
export const UNKNOWN_TOOL = '(unknown)';

/** How far past the deadline the engine's own guard stops a run the runtime did not stop. */
const GUARD_SLACK_MS = 250;

/** A listener's failure is the caller's problem; it must never break the run it listens to. */
function listenerOf(listener: ((event: ScriptEvent) => void) | undefined): ((event: ScriptEvent) => void) | undefined {
  if (listener === undefined) return undefined;
  return (event) => {
    try {
      listener(event);
    } catch {
      // Deliberately ignored: see above.
    }
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}

function failedResult(error: HarnessErrorData, scriptId: string, runtime: string, startedAt: number): ScriptResult {
  return {
    ok: false,
    error,
    calls: [],
    partial: [],
    console: [],
    warnings: [],
    metadata: { scriptId, runtime, durationMs: performance.now() - startedAt, toolCalls: 0, consoleDropped: 0 },
  };
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

function truncate(text: string, maxBytes: number): string {
  if (text.length <= maxBytes / 3 || byteLength(text) <= maxBytes) return text;
  const marker = '…[truncated]';
  return (
    Buffer.from(text, 'utf8')
      .subarray(0, maxBytes - Buffer.byteLength(marker))
      .toString('utf8')
      .replace(/\uFFFD$/, '') + marker
  );
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Copies a tool's result to JSON by value. Anything that is not plain data (functions, symbols,
 * BigInt, class instances other than Date, cycles) is refused, so no live host object can reach
 * the guest.
 */
export function toPlainJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value, plainDataReplacer);
  } catch (error) {
    throw new HarnessError(
      'SERIALIZATION',
      `a tool result is not plain JSON data (${error instanceof Error ? redactHostPaths(error.message.split('\n')[0] ?? '') : 'unknown'})`,
    );
  }
}

function plainDataReplacer(this: unknown, _key: string, value: unknown): unknown {
  switch (typeof value) {
    case 'function':
    case 'symbol':
    case 'bigint':
      throw new TypeError(`${typeof value} values cannot cross the sandbox boundary`);
    case 'object': {
      if (value === null || Array.isArray(value)) return value;
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`instances of ${proto?.constructor?.name ?? 'a class'} cannot cross the sandbox boundary`);
      }
      return value;
    }
    default:
      return value;
  }
}
