/**
 * Tracer setup (explicit exporter, or OTLP over HTTP from the standard OTEL_* variables) and the
 * parent of a script span (an OpenTelemetry Context, a W3C `traceparent`, or a carrier object).
 */
import {
  type Context,
  context,
  defaultTextMapGetter,
  isSpanContextValid,
  type SpanContext,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { Resource } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { boundedId } from './labels.ts';

export interface TracingOptions {
  readonly exporter: SpanExporter;
  /** `batch` (default) exports in the background; `simple` exports every span as it ends. */
  readonly processor?: 'batch' | 'simple';
  /** Default: from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, else parent-based always-on. */
  readonly sampler?: Sampler;
}

/**
 * What `RunOptions.telemetryParent` may be: an OpenTelemetry `Context`, a W3C `traceparent`
 * header value, or a carrier with the incoming headers and the id of the request.
 */
export type TelemetryParent = Context | string | TelemetryParentCarrier;

export interface TelemetryParentCarrier {
  readonly traceparent?: string;
  readonly tracestate?: string;
  /** Used instead of `traceparent`/`tracestate` when present. */
  readonly context?: Context;
  /** Logged with every line of the script (bounded to 128 characters). */
  readonly requestId?: string;
}

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Whether the standard variables ask for OTLP traces: `OTEL_TRACES_EXPORTER` lists `otlp`, or
 * it is unset and an OTLP endpoint is. `OTEL_SDK_DISABLED=true` turns everything off.
 */
export function otlpTracingRequested(env: Environment): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  if (exporters.length > 0) return exporters.includes('otlp');
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim());
}

/** The sampler named by OTEL_TRACES_SAMPLER (the standard names); parent-based always-on otherwise. */
export function samplerFromEnvironment(env: Environment): Sampler {
  const ratio = (): number => {
    const value = Number.parseFloat(env.OTEL_TRACES_SAMPLER_ARG ?? '');
    return Number.isFinite(value) && value >= 0 && value <= 1 ? value : 1;
  };
  switch (env.OTEL_TRACES_SAMPLER?.trim().toLowerCase()) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * The tracer provider for `tracing`: `false` is off; an exporter is on; unset follows the
 * environment. Undefined means tracing is off and no span is ever created.
 */
export function createTracerProvider(
  tracing: false | TracingOptions | undefined,
  resource: Resource,
  env: Environment,
): TracerProvider | undefined {
  if (tracing === false) return undefined;
  let processor: SpanProcessor;
  if (tracing !== undefined) {
    processor =
      tracing.processor === 'simple'
        ? new SimpleSpanProcessor({ exporter: tracing.exporter })
        : new BatchSpanProcessor({ exporter: tracing.exporter });
  } else if (otlpTracingRequested(env)) {
    // The exporter reads its endpoint, headers, timeout and compression from the OTEL_* variables.
    processor = new BatchSpanProcessor({ exporter: new OTLPTraceExporter() });
  } else {
    return undefined;
  }
  return new TracerProvider({
    resource,
    sampler: tracing?.sampler ?? samplerFromEnvironment(env),
    spanProcessors: [processor],
  });
}

const propagator = new W3CTraceContextPropagator();
// A valid traceparent is 55 characters; tracestate is at most 512 (W3C Trace Context).
const MAX_TRACEPARENT_LENGTH = 128;
const MAX_TRACESTATE_LENGTH = 512;

function isContext(value: object): value is Context {
  const candidate = value as Partial<Context>;
  return (
    typeof candidate.getValue === 'function' &&
    typeof candidate.setValue === 'function' &&
    typeof candidate.deleteValue === 'function'
  );
}

function extract(traceparent: string, tracestate: unknown): Context {
  const base = context.active();
  if (traceparent.length > MAX_TRACEPARENT_LENGTH) return base;
  const carrier: Record<string, string> = { traceparent };
  if (typeof tracestate === 'string' && tracestate.length <= MAX_TRACESTATE_LENGTH) carrier.tracestate = tracestate;
  return propagator.extract(base, carrier, defaultTextMapGetter);
}

/** The context a script span starts in; the active context when the parent names none. */
export function parentContext(parent: unknown): Context {
  if (typeof parent === 'string') return extract(parent, undefined);
  if (typeof parent === 'object' && parent !== null) {
    if (isContext(parent)) return parent;
    const carrier = parent as Record<string, unknown>;
    if (typeof carrier.context === 'object' && carrier.context !== null && isContext(carrier.context)) {
      return carrier.context;
    }
    if (typeof carrier.traceparent === 'string') return extract(carrier.traceparent, carrier.tracestate);
  }
  return context.active();
}

/** The span context of the parent, when it names a valid one. */
export function parentSpanContext(parent: unknown): SpanContext | undefined {
  const spanContext = trace.getSpanContext(parentContext(parent));
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** The request id a carrier parent brings, bounded. */
export function requestIdOf(parent: unknown): string | undefined {
  if (typeof parent !== 'object' || parent === null || isContext(parent)) return undefined;
  const requestId = (parent as Record<string, unknown>).requestId;
  return typeof requestId === 'string' && requestId !== '' ? boundedId(requestId) : undefined;
}
