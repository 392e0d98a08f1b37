/**
 * Helpers of the server's tests: a server on 127.0.0.1 with a temporary workspace and two
 * tenants, tools that take their time, and a reader for event streams. Not part of the API.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineTool } from '@script-harness/core';
import type { AuditSink } from '@script-harness/policy';
import { z } from 'zod';
import { loadConfig, type ServerConfig } from './config.ts';
import { type RunningServer, startServer } from './start.ts';

export const TENANT_KEYS = {
  alpha: 'alpha-key-0123456789abcdef',
  beta: 'beta-key-0123456789abcdef',
} as const;

/** `tools.echo({ text })` → `{ text }`. */
export const echoTool = defineTool({
  name: 'echo',
  description: 'Returns its text.',
  input: z.strictObject({ text: z.string() }),
  execute: ({ text }) => ({ text }),
});

/** `tools.sleep({ ms })` waits, and stops waiting when the call is aborted. */
export const sleepTool = defineTool({
  name: 'sleep',
  description: 'Waits ms milliseconds.',
  input: z.strictObject({ ms: z.number().int().min(0).max(60_000) }),
  execute: ({ ms }, { signal }) =>
    new Promise<{ slept: number }>((resolve, reject) => {
      const timer = setTimeout(() => resolve({ slept: ms }), ms);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(signal.reason);
        },
        { once: true },
      );
    }),
});

export interface TestServer {
  readonly url: string;
  readonly running: RunningServer;
  readonly config: ServerConfig;
  readonly workspace: string;
  /** fetch against the server, with the tenant's key unless `tenant: null`, and JSON bodies. */
  request(path: string, options?: TestRequestOptions): Promise<Response>;
  close(): Promise<void>;
}

export interface TestRequestOptions {
  readonly method?: string;
  readonly tenant?: keyof typeof TENANT_KEYS | null;
  /** Sent as JSON (with its content type) unless it is a string, which is sent as is. */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface TestServerOptions {
  /** Environment variables besides the defaults below (two tenants, a quiet log, one worker). */
  readonly env?: Record<string, string>;
  readonly overrides?: Record<string, unknown>;
  readonly auditSink?: AuditSink;
  readonly insecureNoAuth?: boolean;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const workspace = await mkdtemp(join(tmpdir(), 'harness-server-test-'));
  const env: Record<string, string> = {
    HARNESS_HOST: '127.0.0.1',
    HARNESS_PORT: '0',
    HARNESS_LOG_LEVEL: 'silent',
    HARNESS_POOL_SIZE: '1',
    HARNESS_WORKSPACE: workspace,
    ...(options.insecureNoAuth === true
      ? { HARNESS_INSECURE_NO_AUTH: 'true' }
      : { HARNESS_API_KEYS: `alpha:${TENANT_KEYS.alpha},beta:${TENANT_KEYS.beta}` }),
    ...options.env,
  };
  const config = await loadConfig({
    env,
    ...(options.overrides === undefined ? {} : { overrides: options.overrides }),
  });
  const running = await startServer(config, {
    dependencies: {
      tools: [echoTool, sleepTool],
      ...(options.auditSink === undefined ? {} : { auditSink: options.auditSink }),
    },
  });
  const request = (path: string, requestOptions: TestRequestOptions = {}) => {
    const tenant = requestOptions.tenant === undefined ? 'alpha' : requestOptions.tenant;
    const headers: Record<string, string> = {
      ...(tenant === null ? {} : { authorization: `Bearer ${TENANT_KEYS[tenant]}` }),
      ...(requestOptions.body === undefined || typeof requestOptions.body === 'string'
        ? {}
        : { 'content-type': 'application/json' }),
      ...requestOptions.headers,
    };
    const body =
      requestOptions.body === undefined
        ? undefined
        : typeof requestOptions.body === 'string'
          ? requestOptions.body
          : JSON.stringify(requestOptions.body);
    return fetch(`${running.url}${path}`, {
      method: requestOptions.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      ...(body === undefined ? {} : { body }),
      // No test waits on a silent server: an answer that does not come is a failure.
      signal: AbortSignal.timeout(20_000),
    });
  };
  return {
    url: running.url,
    running,
    config,
    workspace,
    request,
    async close() {
      await running.close();
      await rm(workspace, { recursive: true, force: true });
    },
  };
}

export interface ServerSentEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: unknown;
}

/** Reads a text/event-stream body event by event (comments skipped). */
export async function* readEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let id: string | undefined;
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') id = value;
        else if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length > 0) yield { id, event, data: JSON.parse(data.join('\n')) };
    }
  }
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const SERVER_ENTRY = fileURLToPath(new URL('./test-server-entry.ts', import.meta.url));

export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Settles with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  /** What the process wrote to stderr so far. */
  stderr(): string;
}

/**
 * A server in its own process (test-server-entry.ts), configured only by `env` (the caller's
 * `HARNESS_*` variables are not passed on). Resolves once it listens; the caller kills it.
 */
export function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const processEnv: Record<string, string | undefined> = { ...process.env };
    for (const name of Object.keys(processEnv)) if (name.startsWith('HARNESS_')) delete processEnv[name];
    const child = spawn(process.execPath, [SERVER_ENTRY], {
      env: { ...processEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /listening (http:\/\/\S+)/.exec(stdout);
      if (match?.[1] !== undefined) resolve({ url: match[1], child, exited, stderr: () => stderr });
    });
    child.on('exit', (code, signal) => reject(new Error(`the server exited early (${code ?? signal}): ${stderr}`)));
  });
}
