/**
 * The `harness_*` instruments and the pull reader behind `/metrics`. Names follow Prometheus
 * conventions (unit in the name, `_total` on counters) because Prometheus is where operators read
 * them; the OpenTelemetry SDK does the aggregation.
 */
import type {
  Counter,
  Histogram,
  Meter,
  ObservableCounter,
  ObservableGauge,
  ObservableUpDownCounter,
  UpDownCounter,
} from '@opentelemetry/api';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MetricReader } from '@opentelemetry/sdk-metrics';

/** Content type of `metricsText()` for the `/metrics` response. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Seconds; from a trivial inline script (about half a millisecond) to the longest allowed run. */
export const SCRIPT_DURATION_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** Seconds; a person answering an approval takes seconds to an hour. */
export const APPROVAL_WAIT_BUCKETS: readonly number[] = [0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/** Seconds; a queued job adds its wait in the queue to the run itself. */
export const JOB_DURATION_BUCKETS: readonly number[] = [...SCRIPT_DURATION_BUCKETS, 120, 300, 600];

/** Every metric this package exports, as Prometheus names them (histograms add `_bucket`, `_sum`, `_count`). */
export const HARNESS_METRIC_NAMES = [
  'harness_scripts_total',
  'harness_script_duration_seconds',
  'harness_tool_calls_total',
  'harness_tool_duration_seconds',
  'harness_errors_total',
  'harness_sandboxes_active',
  'harness_approvals_pending',
  'harness_approval_wait_seconds',
  'harness_jobs_completed_total',
  'harness_job_duration_seconds',
  'harness_pool_size',
  'harness_pool_busy',
  'harness_worker_restarts_total',
  'harness_worker_kills_total',
  'harness_sandbox_starts_total',
  'harness_jobs_queued',
  'harness_spawn_tasks_active',
] as const;

export interface HarnessInstruments {
  /** Observed from a `Tally` (see tally.ts), like the other per-script counters. */
  readonly scripts: ObservableCounter;
  readonly scriptDuration: Histogram;
  readonly toolCalls: ObservableCounter;
  readonly toolDuration: Histogram;
  readonly errors: ObservableCounter;
  readonly sandboxesActive: ObservableUpDownCounter;
  readonly approvalsPending: UpDownCounter;
  readonly approvalWait: Histogram;
  readonly jobsCompleted: Counter;
  readonly jobDuration: Histogram;
  readonly poolSize: ObservableGauge;
  readonly poolBusy: ObservableGauge;
  readonly workerRestarts: ObservableCounter;
  readonly workerKills: ObservableCounter;
  readonly sandboxStarts: ObservableCounter;
  readonly jobsQueued: ObservableGauge;
  readonly spawnTasksActive: ObservableGauge;
}

export function createInstruments(meter: Meter): HarnessInstruments {
  return {
    scripts: meter.createObservableCounter('harness_scripts_total', {
      description: 'Scripts run, by outcome, error code and runtime.',
    }),
    scriptDuration: meter.createHistogram('harness_script_duration_seconds', {
      description: 'Wall time of a script run, from the run call to its result.',
      advice: { explicitBucketBoundaries: [...SCRIPT_DURATION_BUCKETS] },
    }),
    toolCalls: meter.createObservableCounter('harness_tool_calls_total', {
      description: 'Tool calls made by scripts, by tool and outcome.',
    }),
    toolDuration: meter.createHistogram('harness_tool_duration_seconds', {
      description: 'Wall time of a tool call, approval wait included.',
      advice: { explicitBucketBoundaries: [...SCRIPT_DURATION_BUCKETS] },
    }),
    errors: meter.createObservableCounter('harness_errors_total', {
      description: 'Errors by code: failed scripts and failed tool calls (aborted calls are not counted).',
    }),
    sandboxesActive: meter.createObservableUpDownCounter('harness_sandboxes_active', {
      description: 'Scripts between start and result.',
    }),
    approvalsPending: meter.createUpDownCounter('harness_approvals_pending', {
      description: 'Tool calls waiting for a decision of a person.',
    }),
    approvalWait: meter.createHistogram('harness_approval_wait_seconds', {
      description: 'Time tool calls waited for an approval decision, by decision.',
      advice: { explicitBucketBoundaries: [...APPROVAL_WAIT_BUCKETS] },
    }),
    jobsCompleted: meter.createCounter('harness_jobs_completed_total', {
      description: 'Queued jobs that finished, by outcome.',
    }),
    jobDuration: meter.createHistogram('harness_job_duration_seconds', {
      description: 'Time from enqueueing a job to its result, by outcome.',
      advice: { explicitBucketBoundaries: [...JOB_DURATION_BUCKETS] },
    }),
    poolSize: meter.createObservableGauge('harness_pool_size', {
      description: 'Workers in the sandbox pool, by runtime.',
    }),
    poolBusy: meter.createObservableGauge('harness_pool_busy', {
      description: 'Workers running at least one script, by runtime.',
    }),
    workerRestarts: meter.createObservableCounter('harness_worker_restarts_total', {
      description: 'Workers replaced after they died or were terminated, by runtime.',
    }),
    workerKills: meter.createObservableCounter('harness_worker_kills_total', {
      description: 'Workers terminated because a script would not stop, by runtime.',
    }),
    sandboxStarts: meter.createObservableCounter('harness_sandbox_starts_total', {
      description:
        'Scripts by how their sandbox started: warm (restored from a snapshot) or fresh (booted for the script), by runtime.',
    }),
    jobsQueued: meter.createObservableGauge('harness_jobs_queued', {
      description: 'Jobs waiting in the queue.',
    }),
    spawnTasksActive: meter.createObservableGauge('harness_spawn_tasks_active', {
      description: 'Spawned tasks running.',
    }),
  };
}

/**
 * A metric reader read on demand (a Prometheus scrape), so library code never opens a port:
 * the server that owns `/metrics` asks for the text.
 */
export class PullMetricReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** Collects `reader` and renders Prometheus text exposition (format 0.0.4). */
export async function renderPrometheusText(
  reader: PullMetricReader,
  serializer: PrometheusSerializer,
): Promise<string> {
  // Errors here are failed observable callbacks; their metrics are missing, the rest is served.
  const { resourceMetrics } = await reader.collect();
  return serializer.serialize(resourceMetrics);
}

/** Series without scope labels: every `harness_*` metric comes from this one package. */
export function createPrometheusSerializer(): PrometheusSerializer {
  return new PrometheusSerializer(undefined, false, undefined, false, true);
}
