/**
 * The server on 127.0.0.1, driven over HTTP: every endpoint, event streams, approvals, the
 * execution modes, authentication, bad input, load limits and spawned tasks.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DISABLED_NOTICE } from '@script-harness/core';
import { createMemoryAuditSink, type MemoryAuditSink } from '@script-harness/policy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, readEventStream, type ServerSentEvent, startTestServer, type TestServer } from './test-support.ts';

let server: TestServer;
let audit: MemoryAuditSink;

beforeAll(async () => {
  audit = createMemoryAuditSink();
  server = await startTestServer({
    auditSink: audit,
    env: { HARNESS_BODY_LIMIT_BYTES: String(64 * 1024), HARNESS_QUEUE_CONCURRENCY: '4' },
    overrides: { policy: { rules: [{ tool: 'writeFile', decision: 'ask', reason: 'writes are reviewed' }] } },
  });
});

afterAll(async () => {
  await server?.close();
});

interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details?: Record<string, unknown> };
}

async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return (await response.json()) as T;
}

async function expectError(response: Response, status: number, code: string, mentions?: string | RegExp) {
  expect(response.status).toBe(status);
  const body = await json<ErrorBody>(response);
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  if (mentions !== undefined) expect(body.error.message).toMatch(mentions);
  return body;
}

async function metricsText(target: TestServer = server): Promise<string> {
  const response = await target.request('/metrics', { tenant: null });
  expect(response.status).toBe(200);
  return response.text();
}

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('operations endpoints', () => {
  it('GET /health answers without an API key', async () => {
    const response = await server.request('/health', { tenant: null });
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ status: 'ok' });
  });

  it('GET /live reports a responsive event loop', async () => {
    const response = await server.request('/live', { tenant: null });
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ status: 'ok', eventLoopLagMs: expect.any(Number) });
  });

  it('GET /ready reports a warm pool and a queue with room', async () => {
    const response = await server.request('/ready', { tenant: null });
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({
      status: 'ready',
      pool: { size: 1 },
      queue: { queued: 0, maxQueued: 256 },
    });
  });

  it('GET /metrics serves Prometheus text with harness and server metrics', async () => {
    await server.request('/v1/scripts', { body: { code: 'return 1' } });
    const response = await server.request('/metrics', { tenant: null });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(text).toMatch(/^harness_scripts_total\{outcome="ok",runtime="quickjs"\} \d+$/m);
    expect(text).toMatch(/^harness_pool_size\{runtime="quickjs"\} 1$/m);
    expect(text).toContain('harness_jobs_completed_total');
    expect(text).toMatch(/^harness_server_executions_total\{endpoint="scripts",mode="enabled",tenant="alpha"\} \d+$/m);
    expect(metricValue(text, 'harness_sandbox_starts_total{runtime="quickjs",start="warm"}')).toBeGreaterThan(0);
  });

  it('runs scripts in sandboxes booted for them when runtime.warmSandboxes is 0', async () => {
    const cold = await startTestServer({ env: { HARNESS_WARM_SANDBOXES: '0' } });
    try {
      const response = await cold.request('/v1/scripts', { body: { code: 'return 1' } });
      expect(response.status).toBe(200);
      const text = await metricsText(cold);
      expect(metricValue(text, 'harness_sandbox_starts_total{runtime="quickjs",start="fresh"}')).toBe(1);
      expect(metricValue(text, 'harness_sandbox_starts_total{runtime="quickjs",start="warm"}')).toBe(0);
    } finally {
      await cold.close();
    }
  });

  it('GET /docs serves the UI and /docs/json the OpenAPI document of every route', async () => {
    const page = await server.request('/docs', { tenant: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const document = await json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(
      await server.request('/docs/json', { tenant: null }),
    );
    expect(document.openapi).toBe('3.1.0');
    for (const path of [
      '/v1/scripts',
      '/v1/messages:execute',
      '/v1/approvals',
      '/v1/approvals/{id}',
      '/v1/tasks',
      '/v1/tasks/{id}',
      '/health',
      '/live',
      '/ready',
      '/metrics',
    ]) {
      expect(Object.keys(document.paths)).toContain(path);
    }
    const scripts = document.paths['/v1/scripts']?.post as { requestBody: { content: Record<string, unknown> } };
    expect(JSON.stringify(scripts.requestBody.content['application/json'])).toContain('"additionalProperties":false');
  });

  it('an unknown route answers 404 as JSON', async () => {
    await expectError(await server.request('/v2/nothing', { tenant: null }), 404, 'NOT_FOUND', '/v2/nothing');
  });
});

describe('POST /v1/scripts', () => {
  it('runs a script and answers with its ScriptResult, tenant included', async () => {
    const response = await server.request('/v1/scripts', {
      body: {
        code: 'const r = await tools.echo({ text: "hi" }); console.log(r.text); return { got: r.text, n: 6 * 7 };',
      },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    const result = await json(response);
    expect(result).toMatchObject({
      ok: true,
      mode: 'enabled',
      value: { got: 'hi', n: 42 },
      calls: [{ tool: 'echo', status: 'ok', value: { text: 'hi' } }],
      console: [{ level: 'log', text: 'hi' }],
      metadata: { runtime: 'quickjs', tenant: 'alpha', toolCalls: 1 },
    });
  });

  it('answers a script fault with 200 and ok: false', async () => {
    const response = await server.request('/v1/scripts', { body: { code: 'throw new Error("boom")' } });
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({
      ok: false,
      error: { code: 'GUEST_ERROR' },
      metadata: { tenant: 'alpha' },
    });
  });

  it('applies per-request limits and tool allowlists', async () => {
    const limited = await json(
      await server.request('/v1/scripts', {
        body: { code: 'return context.limits.timeoutMs', language: 'js', limits: { timeoutMs: 1234 } },
      }),
    );
    expect(limited).toMatchObject({ ok: true, value: 1234 });
    const restricted = await json(
      await server.request('/v1/scripts', {
        body: { code: 'return await tools.echo({ text: "x" })', tools: ['sleep'] },
      }),
    );
    expect(restricted).toMatchObject({ ok: false, error: { code: 'TOOL_NOT_FOUND' } });
  });

  it('streams script_started, console, progress, tool_call, tool_result and script_completed in order', async () => {
    const response = await server.request('/v1/scripts', {
      headers: { accept: 'text/event-stream' },
      body: {
        code: [
          'console.log("before");',
          'context.emitProgress("half way");',
          'const r = await tools.echo({ text: "hi" });',
          'console.log("after", r.text);',
          'return r;',
        ].join('\n'),
      },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const events: ServerSentEvent[] = [];
    for await (const event of readEventStream(response.body as ReadableStream<Uint8Array>)) events.push(event);
    expect(events.map((event) => event.event)).toEqual([
      'script_started',
      'console',
      'progress',
      'tool_call',
      'tool_result',
      'console',
      'script_completed',
    ]);
    expect(events.map((event) => Number(event.id))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(events[1]?.data).toMatchObject({ level: 'log', text: 'before' });
    expect(events[2]?.data).toMatchObject({ message: 'half way' });
    expect(events[3]?.data).toMatchObject({ tool: 'echo', args: { text: 'hi' } });
    expect(events[4]?.data).toMatchObject({ tool: 'echo', status: 'ok' });
    expect(events[5]?.data).toMatchObject({ text: 'after hi' });
    expect(events[6]?.data).toMatchObject({
      result: { ok: true, value: { text: 'hi' }, metadata: { tenant: 'alpha' } },
    });
  });

  it('ends a stream of a failing script with script_error', async () => {
    const response = await server.request('/v1/scripts', {
      headers: { accept: 'text/event-stream' },
      body: { code: 'return (1' },
    });
    const events: ServerSentEvent[] = [];
    for await (const event of readEventStream(response.body as ReadableStream<Uint8Array>)) events.push(event);
    expect(events.map((event) => event.event)).toEqual(['script_error']);
    expect(events[0]?.data).toMatchObject({ result: { ok: false, error: { code: 'SYNTAX_ERROR' } } });
  });

  it('I5: approval round trip over the server API resumes the script', async () => {
    const response = await server.request('/v1/scripts', {
      headers: { accept: 'text/event-stream' },
      body: {
        code: "const written = await tools.writeFile({ path: 'notes/plan.md', content: 'approved plan' });\nreturn written;",
      },
    });
    expect(response.status).toBe(200);
    const seen: ServerSentEvent[] = [];
    let decided = false;
    for await (const event of readEventStream(response.body as ReadableStream<Uint8Array>)) {
      seen.push(event);
      if (event.event !== 'approval_requested') continue;
      const approval = event.data as { id: string; tool: string; argsHash: string; args: unknown };
      expect(approval).toMatchObject({ tool: 'writeFile', args: { path: 'notes/plan.md' } });
      // Listed for its own tenant only; invisible and undecidable for another.
      const listed = await json<{ approvals: { id: string }[] }>(await server.request('/v1/approvals'));
      expect(listed.approvals.map((entry) => entry.id)).toContain(approval.id);
      const otherList = await json<{ approvals: unknown[] }>(await server.request('/v1/approvals', { tenant: 'beta' }));
      expect(otherList.approvals).toEqual([]);
      await expectError(
        await server.request(`/v1/approvals/${approval.id}`, { tenant: 'beta', body: { decision: 'approve' } }),
        404,
        'NOT_FOUND',
      );
      const decision = await server.request(`/v1/approvals/${approval.id}`, {
        body: { decision: 'approve', reason: 'looks right', argsHash: approval.argsHash },
      });
      expect(decision.status).toBe(200);
      expect(await json(decision)).toEqual({ id: approval.id, status: 'approved' });
      await expectError(
        await server.request(`/v1/approvals/${approval.id}`, { body: { decision: 'deny' } }),
        409,
        'CONFLICT',
        /already settled/,
      );
      decided = true;
    }
    expect(decided).toBe(true);
    expect(seen.map((event) => event.event)).toEqual([
      'script_started',
      'tool_call',
      'approval_requested',
      'tool_result',
      'script_completed',
    ]);
    expect(seen.at(-1)?.data).toMatchObject({
      result: {
        ok: true,
        value: { path: 'notes/plan.md', created: true },
        calls: [{ tool: 'writeFile', status: 'ok' }],
      },
    });
    expect(await readFile(join(server.workspace, 'notes/plan.md'), 'utf8')).toBe('approved plan');
    const records = audit.records().filter((record) => record.tool === 'writeFile');
    expect(records.map((record) => record.decision)).toEqual(['ask', 'ask']);
    expect(records[1]?.approval).toMatchObject({ outcome: 'approved', by: 'alpha', reason: 'looks right' });
    for (const record of records) expect(record.correlationId).toMatch(/^alpha\//);
  });

  it('a denied approval fails the call, not the request', async () => {
    const response = await server.request('/v1/scripts', {
      headers: { accept: 'text/event-stream' },
      body: {
        code: "try { await tools.writeFile({ path: 'denied.md', content: 'x' }); } catch (e) { return e.code; }",
      },
    });
    let last: ServerSentEvent | undefined;
    for await (const event of readEventStream(response.body as ReadableStream<Uint8Array>)) {
      last = event;
      if (event.event === 'approval_requested') {
        const { id } = event.data as { id: string };
        expect((await server.request(`/v1/approvals/${id}`, { body: { decision: 'deny', reason: 'no' } })).status).toBe(
          200,
        );
      }
    }
    expect(last).toMatchObject({ event: 'script_completed', data: { result: { ok: true, value: 'APPROVAL_DENIED' } } });
    expect(existsSync(join(server.workspace, 'denied.md'))).toBe(false);
  });

  it('a caller waiting without a stream finds its approvals through GET /v1/approvals', async () => {
    const pending = server.request('/v1/scripts', {
      tenant: 'beta',
      body: { code: "return await tools.writeFile({ path: 'beta.md', content: 'from beta' });" },
    });
    const approval = await eventually(async () => {
      const listed = await json<{ approvals: { id: string; tool: string }[] }>(
        await server.request('/v1/approvals', { tenant: 'beta' }),
      );
      return listed.approvals[0];
    });
    expect(approval.tool).toBe('writeFile');
    expect(
      (await server.request(`/v1/approvals/${approval.id}`, { tenant: 'beta', body: { decision: 'approve' } })).status,
    ).toBe(200);
    expect(await json(await pending)).toMatchObject({ ok: true, metadata: { tenant: 'beta' } });
  });

  it('I7: disabled mode end to end through the server', async () => {
    const before = metricValue(
      await metricsText(),
      'harness_server_executions_total{endpoint="messages",mode="disabled",tenant="alpha"}',
    );
    const message = [
      'I will write the file now.',
      '<tool-calls>',
      "await tools.writeFile({ path: 'disabled.md', content: 'must not exist' });",
      "return 'written';",
      '</tool-calls>',
      'Done.',
    ].join('\n');
    const response = await server.request('/v1/messages:execute', { body: { message, mode: 'disabled' } });
    expect(response.status).toBe(200);
    const execution = await json<{
      mode: string;
      blocks: number;
      items: { type: string; text?: string }[];
      results: [];
    }>(response);
    expect(execution).toMatchObject({ mode: 'disabled', tenant: 'alpha', blocks: 1, results: [] });
    expect(execution.items.map((item) => item.type)).toEqual(['text', 'text', 'text']);
    expect(execution.items[1]?.text).toBe(DISABLED_NOTICE);

    const single = await json(
      await server.request('/v1/scripts', {
        body: { code: "await tools.writeFile({ path: 'disabled.md', content: 'x' })", mode: 'disabled' },
      }),
    );
    expect(single).toMatchObject({ ok: false, mode: 'disabled', notice: DISABLED_NOTICE, calls: [] });
    expect(existsSync(join(server.workspace, 'disabled.md'))).toBe(false);
    const after = metricValue(
      await metricsText(),
      'harness_server_executions_total{endpoint="messages",mode="disabled",tenant="alpha"}',
    );
    expect(after).toBe(before + 1);
  });

  it('I8: dry-run end to end, with its metrics recorded', async () => {
    const series = 'harness_server_executions_total{endpoint="messages",mode="dry-run",tenant="alpha"}';
    const scriptsBefore = metricValue(await metricsText(), 'harness_scripts_total{outcome="ok",runtime="quickjs"}');
    const before = metricValue(await metricsText(), series);
    const message = [
      '<tool-calls>',
      "await tools.writeFile({ path: 'dry.md', content: 'validated only' });",
      '</tool-calls>',
      'and then',
      '<tool-calls>',
      "await tools.wirteFile({ path: 'typo.md', content: 'x' });",
      '</tool-calls>',
    ].join('\n');
    const execution = await json<{
      mode: string;
      items: { type: string; ok?: boolean; report?: { ok: boolean; findings: { code: string; message: string }[] } }[];
      results: unknown[];
    }>(await server.request('/v1/messages:execute', { body: { message, mode: 'dry-run' } }));
    expect(execution.mode).toBe('dry-run');
    expect(execution.results).toEqual([]);
    const outputs = execution.items.filter((item) => item.type === 'script_tool_call_output');
    expect(outputs.map((item) => item.ok)).toEqual([true, false]);
    expect(outputs[1]?.report?.findings[0]).toMatchObject({ code: 'TOOL_NOT_FOUND' });
    expect(outputs[1]?.report?.findings[0]?.message).toContain('tools.writeFile');

    const script = await json(await server.request('/v1/scripts', { body: { code: 'return (1', mode: 'dry-run' } }));
    expect(script).toMatchObject({
      ok: false,
      mode: 'dry-run',
      error: { code: 'SYNTAX_ERROR' },
      report: { ok: false },
    });

    expect(existsSync(join(server.workspace, 'dry.md'))).toBe(false);
    const text = await metricsText();
    // The dry-run count is a server counter: dry runs never reach the engine's telemetry hooks.
    expect(metricValue(text, series)).toBe(before + 1);
    expect(text).toMatch(/^harness_server_executions_total\{endpoint="scripts",mode="dry-run",tenant="alpha"\} [1-9]/m);
    expect(metricValue(text, 'harness_scripts_total{outcome="ok",runtime="quickjs"}')).toBe(scriptsBefore);
  });
});

describe('POST /v1/messages:execute', () => {
  it('executes the blocks of a message and answers with ordered history items', async () => {
    const message = [
      '<thinking>echo first</thinking>',
      'Echoing.',
      '```ts tool-calls',
      'const r = await tools.echo({ text: "one" });',
      'return r.text;',
      '```',
      'Then the previous result:',
      '<tool-calls>return context.previousResults[0].value + "+two";</tool-calls>',
    ].join('\n');
    const response = await server.request('/v1/messages:execute', { body: { message } });
    expect(response.status).toBe(200);
    const execution = await json<{
      blocks: number;
      items: { type: string }[];
      results: { ok: boolean; value: unknown }[];
    }>(response);
    expect(execution.blocks).toBe(2);
    expect(execution.items.map((item) => item.type)).toEqual([
      'reasoning',
      'text',
      'script_tool_call',
      'script_tool_call_output',
      'text',
      'script_tool_call',
      'script_tool_call_output',
    ]);
    expect(execution.results.map((result) => result.value)).toEqual(['one', 'one+two']);
  });
});

describe('authentication', () => {
  it('refuses /v1 requests without a key, with a malformed header or with an unknown key', async () => {
    const missing = await expectError(
      await server.request('/v1/scripts', { tenant: null, body: { code: 'return 1' } }),
      401,
      'UNAUTHORIZED',
      /API key/,
    );
    expect(missing.error.message).not.toContain(TENANT_KEY_FRAGMENT);
    const malformed = await server.request('/v1/approvals', {
      tenant: null,
      headers: { authorization: 'Basic YWxwaGE6a2V5' },
    });
    await expectError(malformed, 401, 'UNAUTHORIZED', /Bearer/);
    const unknown = await server.request('/v1/tasks', {
      tenant: null,
      headers: { authorization: 'Bearer not-a-configured-key-000' },
    });
    expect(unknown.headers.get('www-authenticate')).toContain('invalid_token');
    await expectError(unknown, 401, 'UNAUTHORIZED', /not valid/);
    expect(
      metricValue(await metricsText(), 'harness_server_rejections_total{reason="unauthorized"}'),
    ).toBeGreaterThanOrEqual(3);
  });

  it('runs each request as the tenant of its key', async () => {
    const beta = await json(await server.request('/v1/scripts', { tenant: 'beta', body: { code: 'return 1' } }));
    expect(beta).toMatchObject({ metadata: { tenant: 'beta' } });
  });

  it('requires a key on /metrics when metricsAuth is on', async () => {
    const guarded = await startTestServer({ env: { HARNESS_METRICS_AUTH: 'true' } });
    try {
      await expectError(await guarded.request('/metrics', { tenant: null }), 401, 'UNAUTHORIZED');
      expect((await guarded.request('/metrics')).status).toBe(200);
      expect((await guarded.request('/health', { tenant: null })).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });

  it('without keys (--insecure-no-auth) serves 127.0.0.1 only, as tenant local', async () => {
    const local = await startTestServer({ insecureNoAuth: true, env: { HARNESS_HOST: '' } });
    try {
      expect(local.config.host).toBe('127.0.0.1');
      expect(local.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const result = await json(await local.request('/v1/scripts', { tenant: null, body: { code: 'return 2' } }));
      expect(result).toMatchObject({ ok: true, value: 2, metadata: { tenant: 'local' } });
    } finally {
      await local.close();
    }
  });
});

const TENANT_KEY_FRAGMENT = '0123456789abcdef';

describe('bad input gets a 4xx JSON error naming the problem', () => {
  it('malformed JSON → 400 INVALID_JSON', async () => {
    await expectError(
      await server.request('/v1/scripts', { body: '{"code": ', headers: { 'content-type': 'application/json' } }),
      400,
      'INVALID_JSON',
      /not valid JSON/,
    );
  });

  it('a __proto__ key → 400 INVALID_JSON', async () => {
    await expectError(
      await server.request('/v1/scripts', {
        body: '{"code":"return 1","context":{"__proto__":{"polluted":true}}}',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'INVALID_JSON',
      /__proto__/,
    );
  });

  it('wrong types → 400 INVALID_REQUEST naming each field', async () => {
    const body = await expectError(
      await server.request('/v1/scripts', { body: { code: 42, language: 'python', priority: 'urgent' } }),
      400,
      'INVALID_REQUEST',
    );
    expect(body.error.message).toContain('body.code');
    expect(body.error.message).toContain('body.language');
    expect(body.error.message).toContain('body.priority');
    expect(body.error.details?.issues).toHaveLength(3);
  });

  it('unknown fields → 400 INVALID_REQUEST', async () => {
    await expectError(
      await server.request('/v1/scripts', { body: { code: 'return 1', timeout: 5 } }),
      400,
      'INVALID_REQUEST',
      /Unrecognized key: "timeout"/,
    );
    await expectError(
      await server.request('/v1/scripts', { body: { code: 'return 1', limits: { timeoutMs: 10, speed: 2 } } }),
      400,
      'INVALID_REQUEST',
      /body\.limits.*speed/,
    );
  });

  it('an oversize body → 413 BODY_TOO_LARGE', async () => {
    await expectError(
      await server.request('/v1/scripts', { body: { code: `return "${'x'.repeat(100 * 1024)}"` } }),
      413,
      'BODY_TOO_LARGE',
      /65536 bytes/,
    );
  });

  it('a wrong content type → 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    await expectError(
      await server.request('/v1/scripts', { body: 'return 1', headers: { 'content-type': 'text/plain' } }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      /text\/plain/,
    );
    await expectError(
      await server.request('/v1/scripts', {
        body: 'code=1',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('a missing or empty body → 400 MISSING_BODY', async () => {
    await expectError(await server.request('/v1/scripts', { method: 'POST' }), 400, 'MISSING_BODY');
    await expectError(
      await server.request('/v1/messages:execute', { body: '', headers: { 'content-type': 'application/json' } }),
      400,
      'MISSING_BODY',
    );
  });

  it('a body that is JSON but not an object → 400 INVALID_REQUEST', async () => {
    await expectError(
      await server.request('/v1/scripts', { body: '[1,2]', headers: { 'content-type': 'application/json' } }),
      400,
      'INVALID_REQUEST',
    );
  });

  it('options the harness would refuse → 400 before anything is queued', async () => {
    await expectError(
      await server.request('/v1/scripts', { body: { code: 'return 1', limits: { timeoutMs: 10_000_000 } } }),
      400,
      'INVALID_REQUEST',
      /timeoutMs.*maximum/,
    );
    await expectError(
      await server.request('/v1/scripts', { body: { code: 'return 1', tools: ['echo', 'launchRockets'] } }),
      400,
      'INVALID_REQUEST',
      /launchRockets/,
    );
    await expectError(
      await server.request('/v1/messages:execute', { body: { message: 'hi', runtime: 'v8' } }),
      400,
      'INVALID_REQUEST',
      /runtime/,
    );
  });

  it('bad approval decisions and task queries → 400', async () => {
    await expectError(
      await server.request('/v1/approvals/some-id', { body: { decision: 'maybe' } }),
      400,
      'INVALID_REQUEST',
      /body\.decision/,
    );
    await expectError(await server.request('/v1/tasks?limit=many'), 400, 'INVALID_REQUEST', /querystring\.limit/);
    await expectError(await server.request('/v1/tasks?color=red'), 400, 'INVALID_REQUEST', /color/);
  });

  it('an unknown approval → 404', async () => {
    await expectError(
      await server.request('/v1/approvals/no-such-id', { body: { decision: 'approve' } }),
      404,
      'NOT_FOUND',
    );
  });
});

describe('spawned tasks', () => {
  it('lists, shows and cancels the tasks of the caller only', async () => {
    const started = await json<{ ok: boolean; value: { id: string } }>(
      await server.request('/v1/scripts', {
        body: { code: "return await tools.spawn.call({ tool: 'sleep', args: { ms: 30000 } });" },
      }),
    );
    expect(started.ok).toBe(true);
    const id = started.value.id;

    const listed = await json<{ tasks: { id: string; status: string; tenant: string }[] }>(
      await server.request('/v1/tasks?status=running'),
    );
    expect(listed.tasks.map((task) => task.id)).toContain(id);
    expect(listed.tasks.every((task) => task.tenant === 'alpha')).toBe(true);
    const other = await json<{ tasks: unknown[] }>(await server.request('/v1/tasks', { tenant: 'beta' }));
    expect(other.tasks).toEqual([]);

    expect(await json(await server.request(`/v1/tasks/${id}`))).toMatchObject({
      id,
      tool: 'sleep',
      status: 'running',
      args: { ms: 30000 },
    });
    await expectError(await server.request(`/v1/tasks/${id}`, { tenant: 'beta' }), 404, 'NOT_FOUND');
    await expectError(await server.request(`/v1/tasks/${id}`, { tenant: 'beta', method: 'DELETE' }), 404, 'NOT_FOUND');

    const cancelled = await json(await server.request(`/v1/tasks/${id}`, { method: 'DELETE' }));
    expect(cancelled).toMatchObject({
      cancelled: true,
      task: { id, status: 'cancelled', error: { code: 'CANCELLED' } },
    });
    const again = await json(await server.request(`/v1/tasks/${id}`, { method: 'DELETE' }));
    expect(again).toMatchObject({ cancelled: false, task: { status: 'cancelled' } });
    await expectError(await server.request('/v1/tasks/no-such-task'), 404, 'NOT_FOUND');
  });
});

describe('retries', () => {
  const busy = 'const end = Date.now() + 1500; while (Date.now() < end) {}\nreturn "done";';

  async function crashWhileRunning(body: unknown): Promise<Record<string, unknown>> {
    const answer = server.request('/v1/scripts', { body });
    await eventually(async () => {
      const ready = await json<{ pool: { busy: number } }>(await server.request('/ready', { tenant: null }));
      return ready.pool.busy > 0 ? true : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await server.running.server.context.runtime.terminateWorkers();
    return json(await answer);
  }

  const crashed = 'harness_scripts_total{outcome="error",code="INTERNAL",runtime="quickjs"}';

  it('runs a script again when its worker dies before any tool call', async () => {
    const before = metricValue(await metricsText(), crashed);
    const result = await crashWhileRunning({ code: busy });
    expect(result).toMatchObject({ ok: true, value: 'done' });
    // The first attempt did end in the crash; the answer is the retry's.
    expect(metricValue(await metricsText(), crashed)).toBe(before + 1);
  });

  it('never repeats a script that already called a tool: the failure is its answer', async () => {
    const result = await crashWhileRunning({ code: `await tools.echo({ text: "side effect" });\n${busy}` });
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'INTERNAL', retryable: true },
      calls: [{ tool: 'echo' }],
    });
  });
});

describe('load limits', () => {
  it('answers 503 with Retry-After when the queue is full, and /ready turns 503 meanwhile', async () => {
    const tiny = await startTestServer({
      env: { HARNESS_QUEUE_CONCURRENCY: '1', HARNESS_QUEUE_MAX_QUEUED: '1', HARNESS_QUEUE_RETRY_AFTER_SECONDS: '3' },
    });
    try {
      const slow = { code: 'return await tools.sleep({ ms: 1500 })' };
      const running = tiny.request('/v1/scripts', { body: slow });
      await eventually(async () => {
        const ready = await json<{ queue: { running: number } }>(await tiny.request('/ready', { tenant: null }));
        return ready.queue.running === 1 ? true : undefined;
      });
      const queued = tiny.request('/v1/scripts', { body: slow });
      await eventually(async () => {
        const ready = await tiny.request('/ready', { tenant: null });
        const body = await json<{ queue: { queued: number }; reasons?: string[] }>(ready);
        return ready.status === 503 && body.queue.queued === 1 ? body : undefined;
      });
      const refused = await tiny.request('/v1/scripts', { body: slow });
      expect(refused.headers.get('retry-after')).toBe('3');
      await expectError(refused, 503, 'QUEUE_FULL', /too many scripts/);
      expect((await running).status).toBe(200);
      expect(await json(await queued)).toMatchObject({ ok: true, value: { slept: 1500 } });
      expect(metricValue(await metricsText(tiny), 'harness_server_rejections_total{reason="queue_full"}')).toBe(1);
    } finally {
      await tiny.close();
    }
  });

  /** Starts a script on `target` that sleeps `ms`, recording its name in `finished` when answered. */
  function sleeper(target: TestServer, finished: string[]) {
    return (name: string, tenant: 'alpha' | 'beta', ms: number, priority?: string) =>
      target
        .request('/v1/scripts', { tenant, body: { code: `return await tools.sleep({ ms: ${ms} })`, priority } })
        .then(async (response) => {
          expect(response.status).toBe(200);
          finished.push(name);
        });
  }

  async function queueFigures(target: TestServer): Promise<{ queued: number; running: number }> {
    return (
      await json<{ queue: { queued: number; running: number } }>(await target.request('/ready', { tenant: null }))
    ).queue;
  }

  it('bounds the scripts one tenant runs at once, while other tenants go ahead', async () => {
    const scheduled = await startTestServer({
      env: { HARNESS_QUEUE_CONCURRENCY: '2', HARNESS_QUEUE_MAX_RUNNING_PER_TENANT: '1' },
    });
    try {
      const finished: string[] = [];
      const run = sleeper(scheduled, finished);
      const first = run('alpha-first', 'alpha', 800);
      await eventually(async () => ((await queueFigures(scheduled)).running === 1 ? true : undefined));
      const second = run('alpha-second', 'alpha', 10);
      await eventually(async () => ((await queueFigures(scheduled)).queued === 1 ? true : undefined));
      // alpha holds its one slot, so its second script waits; beta takes the free slot at once.
      await run('beta', 'beta', 10);
      expect(await queueFigures(scheduled)).toMatchObject({ queued: 1, running: 1 });
      await Promise.all([first, second]);
      expect(finished).toEqual(['beta', 'alpha-first', 'alpha-second']);
    } finally {
      await scheduled.close();
    }
  });

  it('runs waiting scripts by priority', async () => {
    const serial = await startTestServer({ env: { HARNESS_QUEUE_CONCURRENCY: '1' } });
    try {
      const finished: string[] = [];
      const run = sleeper(serial, finished);
      const first = run('first', 'alpha', 600);
      await eventually(async () => ((await queueFigures(serial)).running === 1 ? true : undefined));
      const low = run('low', 'alpha', 10, 'low');
      await eventually(async () => ((await queueFigures(serial)).queued === 1 ? true : undefined));
      const normal = run('normal', 'beta', 10);
      await eventually(async () => ((await queueFigures(serial)).queued === 2 ? true : undefined));
      const high = run('high', 'alpha', 10, 'high');
      await Promise.all([first, low, normal, high]);
      expect(finished).toEqual(['first', 'high', 'normal', 'low']);
    } finally {
      await serial.close();
    }
  });

  it('rate-limits each API key on its own with 429 and Retry-After', async () => {
    const limited = await startTestServer({ env: { HARNESS_RATE_LIMIT_MAX: '2' } });
    try {
      expect((await limited.request('/v1/approvals')).status).toBe(200);
      expect((await limited.request('/v1/tasks')).status).toBe(200);
      const refused = await limited.request('/v1/approvals');
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      await expectError(refused, 429, 'RATE_LIMITED', /alpha/);
      expect((await limited.request('/v1/approvals', { tenant: 'beta' })).status).toBe(200);
      expect((await limited.request('/health', { tenant: null })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
