import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT_CONTEXT, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import {
  type ApprovalOutcome,
  createHarness,
  defineTool,
  ERROR_CODES,
  type Harness,
  type HarnessOptions,
} from '@script-harness/core';
import { createQuickJSRuntime, type QuickJSRuntimeAdapter } from '@script-harness/runtime-quickjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ToolLabels } from './labels.ts';
import { HARNESS_METRIC_NAMES, SCRIPT_DURATION_BUCKETS } from './metrics.ts';
import { createTelemetry, type HarnessTelemetry } from './telemetry.ts';
import { createLookupTools, parsePrometheusText, TestMetricReader } from './test-support.ts';
import { otlpTracingRequested } from './tracing.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`;

let runtime: QuickJSRuntimeAdapter;
beforeAll(async () => {
  runtime = await createQuickJSRuntime({ mode: 'inline' });
});
afterAll(async () => {
  await runtime.close();
});
afterEach(() => {
  vi.unstubAllEnvs();
});

interface Setup {
  readonly telemetry: HarnessTelemetry;
  readonly harness: Harness;
  readonly spans: InMemorySpanExporter;
  readonly metrics: TestMetricReader;
}

function setup(options: { tracing?: boolean; harness?: Partial<HarnessOptions>; maxToolLabels?: number } = {}): Setup {
  const spans = new InMemorySpanExporter();
  const metrics = new TestMetricReader();
  const telemetry = createTelemetry({
    runtimes: ['quickjs'],
    tracing: options.tracing === false ? false : { exporter: spans, processor: 'simple' },
    metricReaders: [metrics],
    ...(options.maxToolLabels === undefined ? {} : { maxToolLabels: options.maxToolLabels }),
  });
  const harness = createHarness({ runtime, tools: createLookupTools(), telemetry, ...options.harness });
  return { telemetry, harness, spans, metrics };
}

function spansNamed(exporter: InMemorySpanExporter, name: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((span) => span.name === name);
}

const TWO_CALLS = `
  const record = await tools.lookup({ id: 7 });
  await tools.save({ value: record.name });
  return record.name;
`;

describe('createTelemetry', () => {
  it('spans and metrics of a script with two tool calls', async () => {
    const { harness, spans, metrics } = setup();
    const result = await harness.run(TWO_CALLS, { scriptId: 'script-two-calls' });
    expect(result.ok).toBe(true);

    const [script, ...others] = spansNamed(spans, 'script.run');
    expect(others).toHaveLength(0);
    expect(script).toBeDefined();
    expect(script!.attributes).toMatchObject({
      'harness.runtime': 'quickjs',
      'harness.script.id': 'script-two-calls',
      'harness.outcome': 'ok',
      'harness.tool_calls': 2,
    });
    expect(script!.attributes['harness.duration_ms']).toBeGreaterThan(0);
    expect(script!.attributes['harness.error.code']).toBeUndefined();
    expect(script!.status.code).not.toBe(SpanStatusCode.ERROR);

    const toolSpans = spansNamed(spans, 'tool.call');
    expect(toolSpans.map((span) => span.attributes['harness.tool'])).toEqual(['lookup', 'save']);
    for (const span of toolSpans) {
      expect(span.spanContext().traceId).toBe(script!.spanContext().traceId);
      expect(span.parentSpanContext?.spanId).toBe(script!.spanContext().spanId);
      expect(span.attributes['harness.tool.status']).toBe('ok');
      expect(span.attributes['harness.error.code']).toBeUndefined();
    }

    expect(await metrics.value('harness_scripts_total', { outcome: 'ok', runtime: 'quickjs' })).toBe(1);
    const duration = await metrics.histogram('harness_script_duration_seconds', { outcome: 'ok', runtime: 'quickjs' });
    expect(duration?.count).toBe(1);
    expect(duration?.sum).toBeCloseTo(result.metadata.durationMs / 1000, 6);
    expect(duration?.buckets.boundaries).toEqual(SCRIPT_DURATION_BUCKETS);
    expect(await metrics.value('harness_tool_calls_total', { tool: 'lookup', outcome: 'ok' })).toBe(1);
    expect(await metrics.value('harness_tool_calls_total', { tool: 'save', outcome: 'ok' })).toBe(1);
    expect((await metrics.histogram('harness_tool_duration_seconds', { tool: 'lookup' }))?.count).toBe(1);
    expect((await metrics.histogram('harness_tool_duration_seconds', { tool: 'save' }))?.count).toBe(1);
    expect(await metrics.value('harness_sandboxes_active', { runtime: 'quickjs' })).toBe(0);
    expect(await metrics.points('harness_errors_total')).toHaveLength(0);
  });

  it('a failed script and a failed tool call carry their codes, and only their codes', async () => {
    const { harness, spans, metrics } = setup();
    const result = await harness.run(`
      try { await tools.lookup({ id: 'not-a-number' }); } catch {}
      console.log('guest console text');
      throw new Error('guest error text');
    `);
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe('GUEST_ERROR');

    const [script] = spansNamed(spans, 'script.run');
    expect(script!.attributes).toMatchObject({ 'harness.outcome': 'error', 'harness.error.code': 'GUEST_ERROR' });
    expect(script!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'GUEST_ERROR' });
    const [tool] = spansNamed(spans, 'tool.call');
    expect(tool!.attributes).toMatchObject({
      'harness.tool': 'lookup',
      'harness.tool.status': 'error',
      'harness.error.code': 'TOOL_VALIDATION',
    });
    // Nothing the script wrote (arguments, console text, error message) is in any span.
    const everything = JSON.stringify(
      spans.getFinishedSpans().map((span) => [span.attributes, span.status, span.events]),
    );
    for (const guestText of ['not-a-number', 'guest console text', 'guest error text']) {
      expect(everything).not.toContain(guestText);
    }

    expect(
      await metrics.value('harness_scripts_total', { outcome: 'error', code: 'GUEST_ERROR', runtime: 'quickjs' }),
    ).toBe(1);
    expect(await metrics.value('harness_tool_calls_total', { tool: 'lookup', outcome: 'error' })).toBe(1);
    expect(await metrics.value('harness_errors_total', { code: 'GUEST_ERROR' })).toBe(1);
    expect(await metrics.value('harness_errors_total', { code: 'TOOL_VALIDATION' })).toBe(1);
    expect(
      (await metrics.histogram('harness_script_duration_seconds', { outcome: 'error', runtime: 'quickjs' }))?.count,
    ).toBe(1);
  });

  it('S62: guest strings never become metric labels (threat 42)', async () => {
    const { harness, spans, metrics, telemetry } = setup();
    const made = Array.from({ length: 500 }, (_, i) => `madeUp${i}_${'x'.repeat(i % 7)}`);
    const result = await harness.run(
      `
      const names = ${JSON.stringify(made)};
      let failed = 0;
      for (const name of names) {
        try { await tools[name]({ payload: name }); } catch (e) { failed++; }
      }
      return failed;
    `,
      { limits: { maxToolCalls: 1000, timeoutMs: 60_000 } },
    ); // every made-up call must reach the host
    expect(result.ok).toBe(true);
    expect(result.value).toBe(500);

    expect(await metrics.labelValues('harness_tool_calls_total', 'tool')).toEqual(['(unknown)']);
    expect(await metrics.value('harness_tool_calls_total', { tool: '(unknown)', outcome: 'error' })).toBe(500);
    expect(await metrics.labelValues('harness_tool_duration_seconds', 'tool')).toEqual(['(unknown)']);
    expect(await metrics.value('harness_errors_total', { code: 'TOOL_NOT_FOUND' })).toBe(500);
    expect(new Set(spansNamed(spans, 'tool.call').map((span) => span.attributes['harness.tool']))).toEqual(
      new Set(['(unknown)']),
    );

    // A script that fails in every way it can still yields codes from the table only.
    await harness.run('while (true) {}', { limits: { timeoutMs: 50 } });
    await harness.run('return 1 +');
    await harness.run('eval("1")');
    const codes = await metrics.labelValues('harness_errors_total', 'code');
    expect(codes.length).toBeGreaterThanOrEqual(3);
    for (const code of [...codes, ...(await metrics.labelValues('harness_scripts_total', 'code'))]) {
      expect(Object.keys(ERROR_CODES)).toContain(code);
    }
    const text = await telemetry.metricsText();
    for (const name of made) expect(text).not.toContain(name);
  });

  it('caps distinct tool label values and maps malformed names to (unknown)', async () => {
    const labels = new ToolLabels(2);
    expect(['a', 'b', 'c', 'a', 'c'].map((name) => labels.label(name))).toEqual(['a', 'b', '(other)', 'a', '(other)']);
    expect(labels.label('(unknown)')).toBe('(unknown)');
    expect(labels.label('bad name"} 1\nforged_metric 1')).toBe('(unknown)');
    expect(labels.label('x'.repeat(200))).toBe('(unknown)');

    const { harness, metrics, spans } = setup({ maxToolLabels: 1 });
    await harness.run('await tools.lookup({ id: 1 }); await tools.save({ value: "v" });');
    expect(await metrics.labelValues('harness_tool_calls_total', 'tool')).toEqual(['(other)', 'lookup']);
    // Spans are not series: they keep the registered name past the cap.
    expect(spansNamed(spans, 'tool.call').map((span) => span.attributes['harness.tool'])).toEqual(['lookup', 'save']);
  });

  it('a W3C traceparent, a carrier object or an OpenTelemetry context is the parent of the script span', async () => {
    const { harness, spans } = setup();
    await harness.run('return 1', { telemetryParent: TRACEPARENT });
    await harness.run('return 2', { telemetryParent: { traceparent: TRACEPARENT, requestId: 'req-1' } });
    const context = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: TRACE_ID,
      spanId: PARENT_SPAN_ID,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    await harness.run('return 3', { telemetryParent: context });
    await harness.run('return 4', { telemetryParent: '00-not-a-valid-traceparent' });

    const scripts = spansNamed(spans, 'script.run');
    expect(scripts).toHaveLength(4);
    for (const span of scripts.slice(0, 3)) {
      expect(span.spanContext().traceId).toBe(TRACE_ID);
      expect(span.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    }
    expect(scripts[3]!.spanContext().traceId).not.toBe(TRACE_ID);
    expect(scripts[3]!.parentSpanContext).toBeUndefined();
  });

  it('tracing off: no spans, the same metrics, and the trace id of the parent still known', async () => {
    vi.stubEnv('OTEL_TRACES_EXPORTER', '');
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', '');
    vi.stubEnv('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', '');
    const metrics = new TestMetricReader();
    const telemetry = createTelemetry({ runtimes: ['quickjs'], metricReaders: [metrics] });
    expect(telemetry.tracing).toBe(false);
    const harness = createHarness({ runtime, tools: createLookupTools(), telemetry });
    expect((await harness.run(TWO_CALLS)).ok).toBe(true);
    expect(await metrics.value('harness_scripts_total', { outcome: 'ok', runtime: 'quickjs' })).toBe(1);
    expect(await metrics.value('harness_tool_calls_total', { tool: 'save', outcome: 'ok' })).toBe(1);

    const handle = telemetry.startScript({ scriptId: 's', runtime: 'quickjs', parent: TRACEPARENT });
    expect(handle.traceId).toBe(TRACE_ID);
    expect(telemetry.startScript({ scriptId: 't', runtime: 'quickjs' }).traceId).toBeUndefined();
  });

  it('hooks count each script once and never throw on odd input', async () => {
    const { telemetry, metrics } = setup();
    const script = telemetry.startScript({ scriptId: 'x'.repeat(10_000), runtime: 'other-engine', parent: 42 });
    const call = script.startToolCall({ tool: 'lookup', callId: '1' });
    call.end({ status: 'error', code: 'NOT_A_CODE' as never, durationMs: Number.NaN });
    call.end({ status: 'ok', durationMs: 1 });
    const result = {
      ok: false,
      error: { code: 'MADE_UP' as never, message: 'm', retryable: false, phase: 'host' as const },
      calls: [],
      console: [],
      warnings: [],
      metadata: { scriptId: 's', runtime: 'other-engine', durationMs: 3, toolCalls: 1, consoleDropped: 0 },
    };
    script.end(result);
    script.end(result);
    expect(
      await metrics.value('harness_scripts_total', { outcome: 'error', code: 'INTERNAL', runtime: '(other)' }),
    ).toBe(1);
    expect(await metrics.value('harness_sandboxes_active', { runtime: '(other)' })).toBe(0);
    expect(await metrics.value('harness_tool_calls_total', { tool: 'lookup', outcome: 'error' })).toBe(1);
    expect(await metrics.value('harness_errors_total', { code: 'INTERNAL' })).toBe(2);
  });

  it('approvals: pending while a person decides, then the wait by decision', async () => {
    let decide: ((outcome: ApprovalOutcome) => void) | undefined;
    const broker = {
      request: () =>
        new Promise<ApprovalOutcome>((resolve) => {
          decide = resolve;
        }),
    };
    const spans = new InMemorySpanExporter();
    const metrics = new TestMetricReader();
    const telemetry = createTelemetry({
      runtimes: ['quickjs'],
      tracing: { exporter: spans, processor: 'simple' },
      metricReaders: [metrics],
    });
    const deploy = defineTool({
      name: 'deploy',
      description: 'Deploys; a person approves it first.',
      input: z.strictObject({}),
      requiresApproval: true,
      execute: () => 'deployed',
    });
    const harness = createHarness({
      runtime,
      tools: [deploy],
      telemetry,
      approvals: telemetry.instrumentApprovals(broker),
    });
    const running = harness.run('return await tools.deploy({})');
    await vi.waitFor(() => expect(decide).toBeDefined());
    expect(await metrics.value('harness_approvals_pending', {})).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    decide!({ approved: true, by: 'operator' });
    const result = await running;
    expect(result.ok).toBe(true);
    expect(await metrics.value('harness_approvals_pending', {})).toBe(0);
    const wait = await metrics.histogram('harness_approval_wait_seconds', { decision: 'approved' });
    expect(wait?.count).toBe(1);
    expect(wait?.sum).toBeGreaterThan(0.01);
    const [tool] = spansNamed(spans, 'tool.call');
    expect(tool!.attributes['harness.approval_wait_ms']).toBeGreaterThanOrEqual(10);
  });

  it('metricsText() is Prometheus text with every harness metric, pool figures from a real worker pool', async () => {
    const pool = await createQuickJSRuntime({ mode: 'pool', pool: { size: 1 } });
    try {
      const telemetry = createTelemetry({ runtimes: ['quickjs'], tracing: false });
      const unregisterPool = telemetry.observePool(() => pool.stats(), { runtime: 'quickjs' });
      telemetry.observeQueue(() => ({ queued: 3 }));
      telemetry.observeQueue(() => {
        throw new Error('a broken source is left out');
      });
      telemetry.observeSpawnTasks(() => 2);
      telemetry.recordJob({ outcome: 'ok', durationMs: 1500 });
      telemetry.recordJob({ outcome: 'error', durationMs: 20 });
      const approvals = telemetry.instrumentApprovals({ request: async () => ({ approved: false, timedOut: true }) });
      const deploy = defineTool({
        name: 'deploy',
        description: 'Deploys after approval.',
        input: z.strictObject({}),
        requiresApproval: true,
        execute: () => 'deployed',
      });
      const harness = createHarness({ runtime: pool, tools: [...createLookupTools(), deploy], telemetry, approvals });
      await harness.run(TWO_CALLS);
      await harness.run('return await tools.deploy({})');

      const text = await telemetry.metricsText();
      const families = parsePrometheusText(text);
      for (const name of HARNESS_METRIC_NAMES) expect(families.has(name), name).toBe(true);
      expect(families.get('harness_scripts_total')).toBe('counter');
      expect(families.get('harness_script_duration_seconds')).toBe('histogram');
      expect(families.get('harness_sandboxes_active')).toBe('gauge');
      expect(families.get('harness_worker_restarts_total')).toBe('counter');
      expect(text).toContain('harness_scripts_total{outcome="ok",runtime="quickjs"} 1');
      expect(text).toContain('harness_scripts_total{outcome="error",code="APPROVAL_TIMEOUT",runtime="quickjs"} 1');
      expect(text).toContain('harness_script_duration_seconds_bucket{outcome="ok",runtime="quickjs",le="+Inf"} 1');
      expect(text).toContain('harness_pool_size{runtime="quickjs"} 1');
      expect(text).toContain('harness_worker_restarts_total{runtime="quickjs"} 0');
      // Two scripts one after another: both found the worker's warm sandbox idle.
      expect(text).toContain('harness_sandbox_starts_total{runtime="quickjs",start="warm"} 2');
      expect(text).toContain('harness_sandbox_starts_total{runtime="quickjs",start="fresh"} 0');
      expect(text).toContain('harness_jobs_queued 3');
      expect(text).toContain('harness_spawn_tasks_active 2');
      expect(text).toContain('harness_jobs_completed_total{outcome="error"} 1');
      expect(text).toContain('harness_approval_wait_seconds_count{decision="timeout"} 1');
      expect(text).toContain('target_info{service_name="script-harness"} 1');

      unregisterPool();
      telemetry.observePool(() => ({ size: 4, busy: 0 }), { runtime: 'quickjs' });
      expect(await telemetry.metricsText()).toContain('harness_pool_size{runtime="quickjs"} 4');
      await telemetry.shutdown();
    } finally {
      await pool.close();
    }
  });

  it('OTEL_EXPORTER_OTLP_ENDPOINT turns tracing on: spans go out as OTLP over HTTP', async () => {
    const received: { path: string | undefined; body: string }[] = [];
    const server = createServer((request: IncomingMessage, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      request.on('end', () => {
        received.push({ path: request.url, body });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      vi.stubEnv('OTEL_TRACES_EXPORTER', '');
      vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', `http://127.0.0.1:${port}`);
      vi.stubEnv('OTEL_SERVICE_NAME', 'harness-under-test');
      const telemetry = createTelemetry({ runtimes: ['quickjs'] });
      expect(telemetry.tracing).toBe(true);
      const harness = createHarness({ runtime, tools: createLookupTools(), telemetry });
      await harness.run(TWO_CALLS, { telemetryParent: TRACEPARENT });
      await telemetry.forceFlush();
      expect(received.length).toBeGreaterThan(0);
      expect(received[0]!.path).toBe('/v1/traces');
      const body = received.map((entry) => entry.body).join('\n');
      expect(body).toContain('script.run');
      expect(body).toContain('tool.call');
      expect(body).toContain('harness-under-test');
      expect(body.toLowerCase()).toContain(TRACE_ID);
      await telemetry.shutdown();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reads the standard variables to decide on OTLP tracing', () => {
    expect(otlpTracingRequested({})).toBe(false);
    expect(otlpTracingRequested({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    expect(otlpTracingRequested({ OTEL_TRACES_EXPORTER: 'console, otlp' })).toBe(true);
    expect(otlpTracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(otlpTracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(
      otlpTracingRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }),
    ).toBe(false);
    expect(otlpTracingRequested({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toBe(false);
    vi.stubEnv('OTEL_TRACES_EXPORTER', 'otlp');
    expect(createTelemetry({ runtimes: [], tracing: false }).tracing).toBe(false);
  });
});
