/**
 * `createTelemetry`: core's telemetry hooks on the OpenTelemetry SDK. Every script gets the
 * `harness_*` metrics; when tracing is on, a `script.run` span with a `tool.call` child per tool
 * call. The hooks sit on the per-script path, so they reuse attribute objects built once per
 * label combination, create no span at all when tracing is off, and never throw.
 */
import {
  type Attributes,
  type BatchObservableResult,
  type Context,
  type Span,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { type IMetricReader, MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  type ApprovalBroker,
  ERROR_CODES,
  type ErrorCode,
  type ScriptResult,
  type ScriptTelemetry,
  type ScriptTelemetryStart,
  type Telemetry,
  type ToolCallStatus,
  type ToolCallTelemetry,
  type ToolCallTelemetryEnd,
} from '@script-harness/core';
import {
  boundedId,
  DEFAULT_MAX_TOOL_LABELS,
  errorCodeLabel,
  OTHER_LABEL,
  RuntimeLabels,
  ToolLabels,
} from './labels.ts';
import {
  createInstruments,
  createPrometheusSerializer,
  type HarnessInstruments,
  PullMetricReader,
  renderPrometheusText,
} from './metrics.ts';
import { Tally } from './tally.ts';
import { createTracerProvider, parentContext, parentSpanContext, type TracingOptions } from './tracing.ts';

const INSTRUMENTATION_NAME = '@script-harness/telemetry';
const INSTRUMENTATION_VERSION = '0.1.0';

export interface TelemetryOptions {
  /**
   * Runtime names that get their own `runtime` label value (e.g. `['quickjs']`); any other
   * runtime counts as `(other)`.
   */
  readonly runtimes: readonly string[];
  /** `service.name` of spans and of `target_info`; default OTEL_SERVICE_NAME, else `script-harness`. */
  readonly serviceName?: string;
  /** Distinct tool names with their own `tool` label value before the rest share `(other)`; default 200. */
  readonly maxToolLabels?: number;
  /**
   * Spans: `false` never; `{ exporter }` always; unset when OTEL_TRACES_EXPORTER lists `otlp` or
   * an OTLP endpoint variable is set (OTLP over HTTP, configured by the OTEL_* variables).
   */
  readonly tracing?: false | TracingOptions;
  /** More readers of the same metrics (e.g. a periodic OTLP exporter), besides `/metrics`. */
  readonly metricReaders?: readonly IMetricReader[];
}

/** Figures of a sandbox worker pool, as the QuickJS runtime's `stats()` returns them. */
export interface PoolFigures {
  readonly size: number;
  readonly busy: number;
  readonly workerRestarts?: number;
  readonly workerKills?: number;
  /** Scripts that ran in a warm sandbox restored from a snapshot. */
  readonly warmRuns?: number;
  /** Scripts that ran in a sandbox booted for them. */
  readonly freshRuns?: number;
}

/** Figures of a job queue. */
export interface QueueFigures {
  readonly queued: number;
}

export interface JobRecord {
  readonly outcome: 'ok' | 'error';
  /** From enqueueing the job to its result. */
  readonly durationMs: number;
}

/** Stops a registered callback from being read. */
export type Unregister = () => void;

export interface HarnessScriptTelemetry extends ScriptTelemetry {
  /** Trace id of the script span, or of the parent when tracing is off; undefined without either. */
  readonly traceId: string | undefined;
}

export interface HarnessTelemetry extends Telemetry {
  startScript(start: ScriptTelemetryStart): HarnessScriptTelemetry;
  /** Whether spans are recorded. */
  readonly tracing: boolean;
  /** Every metric as Prometheus text exposition, for the server's `/metrics`. */
  metricsText(): Promise<string>;
  /**
   * Feeds `harness_pool_size`, `harness_pool_busy`, `harness_worker_restarts_total`,
   * `harness_worker_kills_total` and `harness_sandbox_starts_total`. Sources of one runtime add up. After `Unregister` the source is
   * no longer read, but the SDK keeps exporting the last figures of a series nothing observes any
   * more, so unregister a source that is gone for good, or replace it with its successor.
   */
  observePool(read: () => PoolFigures | undefined, labels: { readonly runtime: string }): Unregister;
  /** Feeds `harness_jobs_queued`. */
  observeQueue(read: () => QueueFigures | undefined): Unregister;
  /** Feeds `harness_spawn_tasks_active`. */
  observeSpawnTasks(read: () => number | undefined): Unregister;
  /** Counts a finished queued job in `harness_jobs_completed_total` and `harness_job_duration_seconds`. */
  recordJob(job: JobRecord): void;
  /** The same broker, counted in `harness_approvals_pending` while a decision is awaited. */
  instrumentApprovals(broker: ApprovalBroker): ApprovalBroker;
  /** Exports the spans ended so far. */
  forceFlush(): Promise<void>;
  /** Exports what is left and stops; hooks called afterwards record nothing. */
  shutdown(): Promise<void>;
}

/** Attribute objects of one runtime label, built once and reused for every script. */
interface RuntimeSeries {
  readonly active: Attributes;
  /** Also the attributes of the duration of ok scripts. */
  readonly ok: Attributes;
  readonly durationError: Attributes;
  readonly failed: Map<ErrorCode, Attributes>;
}

/** Attribute objects of one tool label, built once and reused for every call. */
interface ToolSeries {
  readonly label: string;
  readonly calls: Readonly<Record<ToolCallStatus, Attributes>>;
  readonly duration: Attributes;
  readonly span: Attributes;
  /** The handle of an untraced call: it holds no per-call state, so every call shares it. */
  readonly untraced: ToolCallTelemetry;
}

/** The per-script counters (see tally.ts). */
interface Tallies {
  readonly scripts: Tally;
  readonly toolCalls: Tally;
  readonly errors: Tally;
  readonly sandboxesActive: Tally;
}

interface Shared {
  readonly instruments: HarnessInstruments;
  readonly tallies: Tallies;
  readonly codes: ReadonlyMap<ErrorCode, Attributes>;
  readonly approvalDecisions: Readonly<Record<'approved' | 'denied' | 'timeout', Attributes>>;
  runtimeSeries(runtime: string): RuntimeSeries;
  toolSeries(tool: string): ToolSeries;
}

export function createTelemetry(options: TelemetryOptions): HarnessTelemetry {
  const env = process.env;
  const resource = resourceFromAttributes({
    'service.name': options.serviceName ?? env.OTEL_SERVICE_NAME ?? 'script-harness',
  });
  const pullReader = new PullMetricReader();
  const meterProvider = new MeterProvider({ resource, readers: [pullReader, ...(options.metricReaders ?? [])] });
  const meter = meterProvider.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
  const instruments = createInstruments(meter);
  const serializer = createPrometheusSerializer();
  const tracerProvider = createTracerProvider(options.tracing, resource, env);
  const tracer = tracerProvider?.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);

  const runtimeLabels = new RuntimeLabels(options.runtimes);
  const toolLabels = new ToolLabels(options.maxToolLabels ?? DEFAULT_MAX_TOOL_LABELS);
  const codes = new Map<ErrorCode, Attributes>(
    (Object.keys(ERROR_CODES) as ErrorCode[]).map((code) => [code, { code }]),
  );
  const runtimeSeriesByLabel = new Map<string, RuntimeSeries>();
  // Keyed by label value, so at most maxToolLabels + 2 entries whatever names arrive.
  const toolSeriesByLabel = new Map<string, ToolSeries>();

  const tallies: Tallies = {
    scripts: new Tally(),
    toolCalls: new Tally(),
    errors: new Tally(),
    sandboxesActive: new Tally(),
  };
  const shared: Shared = {
    instruments,
    tallies,
    codes,
    approvalDecisions: {
      approved: { decision: 'approved' },
      denied: { decision: 'denied' },
      timeout: { decision: 'timeout' },
    },
    runtimeSeries(runtime) {
      const label = runtimeLabels.label(runtime);
      let series = runtimeSeriesByLabel.get(label);
      if (series === undefined) {
        series = {
          active: { runtime: label },
          ok: { outcome: 'ok', runtime: label },
          durationError: { outcome: 'error', runtime: label },
          failed: new Map(),
        };
        runtimeSeriesByLabel.set(label, series);
      }
      return series;
    },
    toolSeries(tool) {
      const label = toolLabels.label(tool);
      let series = toolSeriesByLabel.get(label);
      if (series === undefined) {
        series = createToolSeries(shared, label);
        toolSeriesByLabel.set(label, series);
      }
      return series;
    },
  };

  const pools = new Set<{ read: () => PoolFigures | undefined; runtime: string }>();
  const queues = new Set<() => QueueFigures | undefined>();
  const spawnTasks = new Set<() => number | undefined>();
  meter.addBatchObservableCallback(
    (result) => {
      tallies.scripts.observe(result, instruments.scripts);
      tallies.toolCalls.observe(result, instruments.toolCalls);
      tallies.errors.observe(result, instruments.errors);
      tallies.sandboxesActive.observe(result, instruments.sandboxesActive);
      observe(result, instruments, pools, queues, spawnTasks);
    },
    [
      instruments.scripts,
      instruments.toolCalls,
      instruments.errors,
      instruments.sandboxesActive,
      instruments.poolSize,
      instruments.poolBusy,
      instruments.workerRestarts,
      instruments.workerKills,
      instruments.sandboxStarts,
      instruments.jobsQueued,
      instruments.spawnTasksActive,
    ],
  );
  const register = <T>(set: Set<T>, entry: T): Unregister => {
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  };
  const jobAttributes: Readonly<Record<JobRecord['outcome'], Attributes>> = {
    ok: { outcome: 'ok' },
    error: { outcome: 'error' },
  };

  return {
    tracing: tracer !== undefined,
    startScript(start) {
      try {
        const series = shared.runtimeSeries(start.runtime);
        tallies.sandboxesActive.add(series.active, 1);
        if (tracer === undefined) return new UntracedScript(shared, series, start.parent);
        return new TracedScript(shared, series, start, tracer);
      } catch {
        // Telemetry must never fail a script.
        return unrecordedScript;
      }
    },
    metricsText: () => renderPrometheusText(pullReader, serializer),
    observePool: (read, labels) => register(pools, { read, runtime: runtimeLabels.label(labels.runtime) }),
    observeQueue: (read) => register(queues, read),
    observeSpawnTasks: (read) => register(spawnTasks, read),
    recordJob(job) {
      const attributes = job.outcome === 'ok' ? jobAttributes.ok : jobAttributes.error;
      instruments.jobsCompleted.add(1, attributes);
      if (Number.isFinite(job.durationMs) && job.durationMs >= 0) {
        instruments.jobDuration.record(job.durationMs / 1000, attributes);
      }
    },
    instrumentApprovals(broker) {
      return {
        async request(request, signal) {
          instruments.approvalsPending.add(1);
          try {
            return await broker.request(request, signal);
          } finally {
            instruments.approvalsPending.add(-1);
          }
        },
      };
    },
    async forceFlush() {
      await Promise.all([tracerProvider?.forceFlush(), meterProvider.forceFlush()]);
    },
    async shutdown() {
      await Promise.all([tracerProvider?.shutdown(), meterProvider.shutdown()]);
    },
  };
}

const unrecordedScript: HarnessScriptTelemetry = {
  traceId: undefined,
  startToolCall: () => ({ end() {} }),
  end() {},
};

function createToolSeries(shared: Shared, label: string): ToolSeries {
  const calls = {
    ok: { tool: label, outcome: 'ok' },
    error: { tool: label, outcome: 'error' },
    aborted: { tool: label, outcome: 'aborted' },
  };
  const duration = { tool: label };
  const series: ToolSeries = {
    label,
    calls,
    duration,
    span: { 'harness.tool': label },
    untraced: { end: (outcome) => recordToolCall(shared, series, outcome) },
  };
  return series;
}

function recordToolCall(shared: Shared, series: ToolSeries, outcome: ToolCallTelemetryEnd): void {
  const { instruments } = shared;
  const { calls } = series;
  shared.tallies.toolCalls.add(
    outcome.status === 'ok' ? calls.ok : outcome.status === 'aborted' ? calls.aborted : calls.error,
  );
  if (outcome.durationMs >= 0) instruments.toolDuration.record(outcome.durationMs / 1000, series.duration);
  if (outcome.status === 'error') {
    shared.tallies.errors.add(shared.codes.get(errorCodeLabel(outcome.code)));
  }
  if (outcome.approvalWaitMs !== undefined && outcome.approvalWaitMs >= 0) {
    const decision =
      outcome.code === 'APPROVAL_TIMEOUT' ? 'timeout' : outcome.code === 'APPROVAL_DENIED' ? 'denied' : 'approved';
    instruments.approvalWait.record(outcome.approvalWaitMs / 1000, shared.approvalDecisions[decision]);
  }
}

function recordScript(shared: Shared, series: RuntimeSeries, result: ScriptResult): ErrorCode | undefined {
  const { instruments } = shared;
  shared.tallies.sandboxesActive.add(series.active, -1);
  const { durationMs } = result.metadata;
  const timed = Number.isFinite(durationMs) && durationMs >= 0;
  if (result.ok) {
    shared.tallies.scripts.add(series.ok);
    if (timed) instruments.scriptDuration.record(durationMs / 1000, series.ok);
    return undefined;
  }
  const code = errorCodeLabel(result.error?.code);
  let failed = series.failed.get(code);
  if (failed === undefined) {
    failed = { outcome: 'error', code, runtime: series.active.runtime };
    series.failed.set(code, failed);
  }
  shared.tallies.scripts.add(failed);
  if (timed) instruments.scriptDuration.record(durationMs / 1000, series.durationError);
  shared.tallies.errors.add(shared.codes.get(code));
  return code;
}

/** A script while tracing is off: metrics only. */
class UntracedScript implements HarnessScriptTelemetry {
  readonly #shared: Shared;
  readonly #series: RuntimeSeries;
  readonly #parent: unknown;
  #ended = false;

  constructor(shared: Shared, series: RuntimeSeries, parent: unknown) {
    this.#shared = shared;
    this.#series = series;
    this.#parent = parent;
  }

  /** Read by log wrappers only; parsing the parent is deferred to here so metrics-only runs never pay for it. */
  get traceId(): string | undefined {
    return this.#parent === undefined ? undefined : parentSpanContext(this.#parent)?.traceId;
  }

  startToolCall(call: { readonly tool: string; readonly callId: string }): ToolCallTelemetry {
    return this.#shared.toolSeries(call.tool).untraced;
  }

  end(result: ScriptResult): void {
    if (this.#ended) return;
    this.#ended = true;
    try {
      recordScript(this.#shared, this.#series, result);
    } catch {
      // Telemetry must never fail a script.
    }
  }
}

/** A script with a `script.run` span; tool calls get `tool.call` child spans. */
class TracedScript implements HarnessScriptTelemetry {
  readonly traceId: string;
  readonly #shared: Shared;
  readonly #series: RuntimeSeries;
  readonly #tracer: Tracer;
  readonly #span: Span;
  readonly #context: Context;
  #ended = false;

  constructor(shared: Shared, series: RuntimeSeries, start: ScriptTelemetryStart, tracer: Tracer) {
    this.#shared = shared;
    this.#series = series;
    this.#tracer = tracer;
    const parent = parentContext(start.parent);
    this.#span = tracer.startSpan(
      'script.run',
      {
        attributes: {
          'harness.runtime': boundedId(start.runtime, 64),
          'harness.script.id': boundedId(start.scriptId),
        },
      },
      parent,
    );
    this.#context = trace.setSpan(parent, this.#span);
    this.traceId = this.#span.spanContext().traceId;
  }

  startToolCall(call: { readonly tool: string; readonly callId: string }): ToolCallTelemetry {
    const series = this.#shared.toolSeries(call.tool);
    // Spans may name tools past the label cap: a span is not a metric series.
    const attributes =
      series.label === OTHER_LABEL && call.tool !== OTHER_LABEL ? { 'harness.tool': call.tool } : series.span;
    const span = this.#tracer.startSpan('tool.call', { attributes }, this.#context);
    return new TracedToolCall(this.#shared, series, span);
  }

  end(result: ScriptResult): void {
    if (this.#ended) return;
    this.#ended = true;
    try {
      const code = recordScript(this.#shared, this.#series, result);
      const span = this.#span;
      span.setAttribute('harness.outcome', result.ok ? 'ok' : 'error');
      if (code !== undefined) {
        span.setAttribute('harness.error.code', code);
        // The code only: error messages can carry text the script wrote.
        span.setStatus({ code: SpanStatusCode.ERROR, message: code });
      }
      span.setAttribute('harness.tool_calls', result.metadata.toolCalls);
      span.setAttribute('harness.duration_ms', result.metadata.durationMs);
      span.end();
    } catch {
      // Telemetry must never fail a script.
    }
  }
}

class TracedToolCall implements ToolCallTelemetry {
  readonly #shared: Shared;
  readonly #series: ToolSeries;
  readonly #span: Span;
  #ended = false;

  constructor(shared: Shared, series: ToolSeries, span: Span) {
    this.#shared = shared;
    this.#series = series;
    this.#span = span;
  }

  end(outcome: ToolCallTelemetryEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    try {
      recordToolCall(this.#shared, this.#series, outcome);
      const span = this.#span;
      span.setAttribute('harness.tool.status', outcome.status);
      if (outcome.status !== 'ok') {
        const code = errorCodeLabel(outcome.code);
        span.setAttribute('harness.error.code', code);
        span.setStatus({ code: SpanStatusCode.ERROR, message: code });
      }
      if (outcome.approvalWaitMs !== undefined) span.setAttribute('harness.approval_wait_ms', outcome.approvalWaitMs);
      span.end();
    } catch {
      // Telemetry must never fail a script.
    }
  }
}

function observe(
  result: BatchObservableResult,
  instruments: HarnessInstruments,
  pools: ReadonlySet<{ read: () => PoolFigures | undefined; runtime: string }>,
  queues: ReadonlySet<() => QueueFigures | undefined>,
  spawnTasks: ReadonlySet<() => number | undefined>,
): void {
  // Several sources may share a label (two pools of one runtime): their figures add up.
  const byRuntime = new Map<
    string,
    { size: number; busy: number; restarts: number; kills: number; warm: number; fresh: number; starts: boolean }
  >();
  for (const pool of pools) {
    const figures = readSafely(pool.read);
    if (figures === undefined) continue;
    const sum = byRuntime.get(pool.runtime) ?? {
      size: 0,
      busy: 0,
      restarts: 0,
      kills: 0,
      warm: 0,
      fresh: 0,
      starts: false,
    };
    sum.size += finite(figures.size);
    sum.busy += finite(figures.busy);
    sum.restarts += finite(figures.workerRestarts);
    sum.kills += finite(figures.workerKills);
    // Only runtimes that count sandbox starts report them (isolated-vm has no warm sandboxes).
    if (figures.warmRuns !== undefined || figures.freshRuns !== undefined) sum.starts = true;
    sum.warm += finite(figures.warmRuns);
    sum.fresh += finite(figures.freshRuns);
    byRuntime.set(pool.runtime, sum);
  }
  for (const [runtime, sum] of byRuntime) {
    const attributes = { runtime };
    result.observe(instruments.poolSize, sum.size, attributes);
    result.observe(instruments.poolBusy, sum.busy, attributes);
    result.observe(instruments.workerRestarts, sum.restarts, attributes);
    result.observe(instruments.workerKills, sum.kills, attributes);
    if (sum.starts) {
      result.observe(instruments.sandboxStarts, sum.warm, { runtime, start: 'warm' });
      result.observe(instruments.sandboxStarts, sum.fresh, { runtime, start: 'fresh' });
    }
  }
  if (queues.size > 0) {
    let queued = 0;
    let seen = false;
    for (const read of queues) {
      const figures = readSafely(read);
      if (figures === undefined) continue;
      seen = true;
      queued += finite(figures.queued);
    }
    if (seen) result.observe(instruments.jobsQueued, queued);
  }
  if (spawnTasks.size > 0) {
    let active = 0;
    let seen = false;
    for (const read of spawnTasks) {
      const count = readSafely(read);
      if (count === undefined) continue;
      seen = true;
      active += finite(count);
    }
    if (seen) result.observe(instruments.spawnTasksActive, active);
  }
}

/** A failing source is left out of this scrape instead of failing the others. */
function readSafely<T>(read: () => T | undefined): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function finite(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) ? value : 0;
}
