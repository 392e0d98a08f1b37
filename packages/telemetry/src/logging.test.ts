import { Writable } from 'node:stream';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { createHarness, errorData, noopTelemetry, type ScriptEvent } from '@script-harness/core';
import { createQuickJSRuntime, type QuickJSRuntimeAdapter } from '@script-harness/runtime-quickjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, escapeGuestText, logGuestConsole, MAX_GUEST_LOG_BYTES, withScriptLogging } from './logging.ts';
import { createTelemetry } from './telemetry.ts';
import { createLookupTools } from './test-support.ts';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const TRACEPARENT = `00-${TRACE_ID}-b7ad6b7169203331-01`;

let runtime: QuickJSRuntimeAdapter;
beforeAll(async () => {
  runtime = await createQuickJSRuntime({ mode: 'inline' });
});
afterAll(async () => {
  await runtime.close();
});

/** A pino destination that keeps every written chunk, to be read back as lines. */
function captureLines(): { stream: Writable; lines: () => string[]; records: () => Record<string, unknown>[] } {
  let written = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      written += chunk.toString('utf8');
      callback();
    },
  });
  const lines = () => written.split('\n').filter((line) => line !== '');
  return { stream, lines, records: () => lines().map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('logs', () => {
  it('script and tool call lines carry scriptId, traceId and requestId', async () => {
    const output = captureLines();
    const logger = createLogger({ level: 'debug', destination: output.stream });
    const spans = new InMemorySpanExporter();
    const telemetry = createTelemetry({ runtimes: ['quickjs'], tracing: { exporter: spans, processor: 'simple' } });
    const harness = createHarness({
      runtime,
      tools: createLookupTools(),
      telemetry: withScriptLogging(telemetry, logger),
    });
    const result = await harness.run(
      'const r = await tools.lookup({ id: 1 }); await tools.save({ value: r.name }); return 1',
      {
        scriptId: 'script-logged',
        telemetryParent: { traceparent: TRACEPARENT, requestId: 'req-42' },
      },
    );
    expect(result.ok).toBe(true);

    const records = output.records();
    expect(records.map((record) => record.msg)).toEqual([
      'script started',
      'tool call ended',
      'tool call ended',
      'script completed',
    ]);
    for (const record of records) {
      expect(record).toMatchObject({ scriptId: 'script-logged', traceId: TRACE_ID, requestId: 'req-42' });
      expect(typeof record.level).toBe('number');
      expect(typeof record.time).toBe('string');
      expect(record.service).toBe('script-harness');
    }
    expect(records[0]).toMatchObject({ level: 20, runtime: 'quickjs' });
    expect(records[1]).toMatchObject({ level: 20, tool: 'lookup', callId: '1', status: 'ok' });
    expect(records[3]).toMatchObject({ level: 30, outcome: 'ok', toolCalls: 2 });
    // The log's trace id is the trace of the spans.
    expect(spans.getFinishedSpans()[0]!.spanContext().traceId).toBe(TRACE_ID);
    // The wrapper keeps the rest of the telemetry object.
    const wrapped = withScriptLogging(telemetry, logger);
    expect(wrapped.metricsText).toBe(telemetry.metricsText);
    expect(wrapped.tracing).toBe(true);
  });

  it('failures log codes, never messages; harness failures are warnings', async () => {
    const output = captureLines();
    const logger = createLogger({ destination: output.stream });
    const harness = createHarness({
      runtime,
      tools: createLookupTools(),
      telemetry: withScriptLogging(noopTelemetry, logger),
    });
    await harness.run('try { await tools.lookup({ id: "guest-arg" }) } catch {} throw new Error("guest-message")', {
      scriptId: 'failing',
    });
    const records = output.records();
    // Info level: the started line (debug) and the ok tool calls are not written.
    expect(records.map((record) => [record.msg, record.code])).toEqual([
      ['tool call failed', 'TOOL_VALIDATION'],
      ['script failed', 'GUEST_ERROR'],
    ]);
    expect(records[1]).toMatchObject({ level: 30, outcome: 'error', scriptId: 'failing' });
    expect(records[1]!.traceId).toBeUndefined();
    expect(output.lines().join('\n')).not.toMatch(/guest-arg|guest-message/);

    const operator = createTelemetry({ runtimes: ['quickjs'], tracing: false });
    const script = withScriptLogging(operator, logger).startScript({ scriptId: 'broken', runtime: 'quickjs' });
    script.end({
      ok: false,
      error: errorData('RUNTIME_UNAVAILABLE', 'the runtime is down'),
      calls: [],
      console: [],
      warnings: [],
      metadata: { scriptId: 'broken', runtime: 'quickjs', durationMs: 1, toolCalls: 0, consoleDropped: 0 },
    });
    expect(output.records().at(-1)).toMatchObject({ level: 40, msg: 'script failed', code: 'RUNTIME_UNAVAILABLE' });
  });

  it('S62: guest console text cannot forge log lines or reach the terminal (threat 42)', async () => {
    const output = captureLines();
    const logger = createLogger({ level: 'debug', destination: output.stream });
    const harness = createHarness({ runtime, tools: [] });
    const forged = 'hello\n{"level":50,"msg":"forged"}\r\n\u001b[31mred\u001b[0m\u2028\u202eevil';
    const events: ScriptEvent[] = [];
    await harness.run(`console.error(${JSON.stringify(forged)}); console.log('x'.repeat(10000)); return 1`, {
      onEvent: (event) => {
        if (event.type === 'console') logGuestConsole(logger, event);
        events.push(event);
      },
    });
    expect(events.filter((event) => event.type === 'console')).toHaveLength(2);

    const lines = output.lines();
    expect(lines).toHaveLength(2);
    const [first, second] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    // The level is the operator's (debug), not the script's console.error; nothing is forged.
    expect(first).toMatchObject({ level: 20, msg: 'guest console', guestLevel: 'error' });
    expect(first!.text).toBe('hello\\n{"level":50,"msg":"forged"}\\r\\n\\u001b[31mred\\u001b[0m\\u2028\\u202eevil');
    for (const line of lines) {
      expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202e]/);
      expect(line).not.toContain('"msg":"forged"');
    }
    expect(Buffer.byteLength(second!.text as string, 'utf8')).toBeLessThanOrEqual(MAX_GUEST_LOG_BYTES);

    // Whatever the runtime's own console cap, the log record is bounded.
    logGuestConsole(logger, { level: 'log', text: 'x'.repeat(100_000), atMs: 5 });
    const long = JSON.parse(output.lines().at(-1)!) as Record<string, unknown>;
    expect(Buffer.byteLength(long.text as string, 'utf8')).toBeLessThanOrEqual(MAX_GUEST_LOG_BYTES);
    expect(long).toMatchObject({ guestLevel: 'log', atMs: 5, text: expect.stringMatching(/^x+…\[truncated\]$/) });
  });

  it('escapeGuestText: one printable line, unambiguous, bounded in bytes', () => {
    expect(escapeGuestText('plain text')).toBe('plain text');
    expect(escapeGuestText('a\\nb')).toBe('a\\\\nb');
    expect(escapeGuestText('tab\there\u0000\u007f\u009b')).toBe('tab\\there\\u0000\\u007f\\u009b');
    expect(escapeGuestText('\u2066isolate\u2069 \u200f')).toBe('\\u2066isolate\\u2069 \\u200f');
    expect(escapeGuestText('pair 😀 lone \ud800 end \udc00')).toBe('pair 😀 lone \\ud800 end \\udc00');
    const wide = escapeGuestText('€'.repeat(2000), 100);
    expect(Buffer.byteLength(wide, 'utf8')).toBeLessThanOrEqual(100);
    expect(wide).toMatch(/^€+…\[truncated\]$/);
    const escapes = escapeGuestText('\n'.repeat(2000), 64);
    expect(Buffer.byteLength(escapes, 'utf8')).toBeLessThanOrEqual(64);
    expect(escapes).toMatch(/^(\\n)+…\[truncated\]$/);
    // Exactly at the limit: kept whole, no marker.
    expect(escapeGuestText('y'.repeat(64), 64)).toBe('y'.repeat(64));
  });
});
