/**
 * The load's HTTP client: node:http with a keep-alive agent that holds at most `connections`
 * sockets (requests beyond that wait in the agent, not in the server), and a classification of
 * every answer. An answer is *typed* when it is a ScriptResult (ok, or ok: false with a known
 * error code) or an error body with a known code; a 503 is typed only with `Retry-After`.
 */
import { Agent, request as httpRequest } from 'node:http';
import { API_ERROR_CODES } from '../../apps/harness-server/src/http-errors.ts';
import { ERROR_CODES } from '../../packages/core/src/index.ts';
import { LOAD_API_KEY } from './server-process.ts';

const KNOWN_CODES = new Set<string>([...Object.keys(ERROR_CODES), ...Object.keys(API_ERROR_CODES)]);

/** How an answer ended, from the caller's side. */
export type AnswerKind =
  /** 200, ok: true */
  | 'ok'
  /** 200, ok: false with a known error code (a script fault, a timeout, a tool failure …) */
  | 'script-error'
  /** 503 QUEUE_FULL or SHUTDOWN with Retry-After */
  | 'rejected'
  /** another status with a known error code */
  | 'http-error'
  /** an answer that is none of the above: unknown code, no body, 503 without Retry-After */
  | 'untyped'
  /** no answer: the connection failed or the client gave up waiting */
  | 'lost';

export interface Answer {
  /** The id the driver gave the request (sent as X-Request-Id and inside the script). */
  readonly id: string;
  /** What the request was (the scenario's label for the script it sent). */
  readonly label: string;
  /** When it was sent, in ms since the driver's clock started. */
  readonly sentAtMs: number;
  readonly latencyMs: number;
  readonly kind: AnswerKind;
  readonly status: number | null;
  readonly code: string | null;
  readonly retryAfter: string | null;
  /** The X-Request-Id the server answered with. */
  readonly echoedId: string | null;
  /** `value` of an ok result. */
  readonly value: unknown;
  /** Tool calls the result reports. */
  readonly toolCalls: number;
  readonly detail?: string;
}

export interface ScriptRequest {
  readonly id: string;
  readonly label: string;
  readonly code: string;
  readonly limits?: Record<string, number>;
}

export interface LoadClient {
  runScript(request: ScriptRequest): Promise<Answer>;
  /** GET a path on a separate connection (health probes must not wait behind the load). */
  probe(path: string): Promise<{ status: number | null; latencyMs: number; body: unknown }>;
  close(): void;
}

export interface LoadClientOptions {
  readonly url: string;
  readonly connections: number;
  /** Clock origin of `sentAtMs`. */
  readonly origin: number;
  /** A request that has no answer after this long counts as lost. Default 120 s. */
  readonly timeoutMs?: number;
}

export function createLoadClient(options: LoadClientOptions): LoadClient {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const probeAgent = new Agent({ keepAlive: true, maxSockets: 4 });
  const target = new URL(options.url);
  const timeoutMs = options.timeoutMs ?? 120_000;

  const send = (
    path: string,
    method: string,
    headers: Record<string, string>,
    body: string | undefined,
    via: Agent,
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> =>
    new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: target.hostname, port: target.port, path, method, headers, agent: via, timeout: timeoutMs },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });

  return {
    async runScript(request) {
      const sentAt = performance.now();
      const body = JSON.stringify({
        code: request.code,
        ...(request.limits === undefined ? {} : { limits: request.limits }),
      });
      const base = { id: request.id, label: request.label, sentAtMs: sentAt - options.origin };
      try {
        const response = await send(
          '/v1/scripts',
          'POST',
          {
            authorization: `Bearer ${LOAD_API_KEY}`,
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
            'x-request-id': request.id,
          },
          body,
          agent,
        );
        const latencyMs = performance.now() - sentAt;
        const echoed = response.headers['x-request-id'];
        const retryAfter = response.headers['retry-after'];
        return {
          ...base,
          latencyMs,
          status: response.status,
          echoedId: typeof echoed === 'string' ? echoed : null,
          retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
          ...classify(response.status, response.text, typeof retryAfter === 'string'),
        };
      } catch (error) {
        return {
          ...base,
          latencyMs: performance.now() - sentAt,
          kind: 'lost',
          status: null,
          code: null,
          retryAfter: null,
          echoedId: null,
          value: undefined,
          toolCalls: 0,
          detail: error instanceof Error ? error.message : String(error),
        };
      }
    },
    async probe(path) {
      const sentAt = performance.now();
      try {
        const response = await send(path, 'GET', {}, undefined, probeAgent);
        let body: unknown;
        try {
          body = JSON.parse(response.text);
        } catch {
          body = response.text;
        }
        return { status: response.status, latencyMs: performance.now() - sentAt, body };
      } catch {
        return { status: null, latencyMs: performance.now() - sentAt, body: undefined };
      }
    },
    close() {
      agent.destroy();
      probeAgent.destroy();
    },
  };
}

type Classified = Pick<Answer, 'kind' | 'code' | 'value' | 'toolCalls' | 'detail'>;

function classify(status: number, text: string, hasRetryAfter: boolean): Classified {
  let body: {
    ok?: unknown;
    value?: unknown;
    calls?: unknown;
    error?: { code?: unknown };
  };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return { kind: 'untyped', code: null, value: undefined, toolCalls: 0, detail: `not JSON: ${text.slice(0, 200)}` };
  }
  const code = typeof body.error?.code === 'string' ? body.error.code : null;
  const toolCalls = Array.isArray(body.calls) ? body.calls.length : 0;
  if (status === 200 && body.ok === true) return { kind: 'ok', code: null, value: body.value, toolCalls };
  if (code === null || !KNOWN_CODES.has(code)) {
    return { kind: 'untyped', code, value: undefined, toolCalls, detail: `status ${status}: ${text.slice(0, 200)}` };
  }
  if (status === 200 && body.ok === false) return { kind: 'script-error', code, value: undefined, toolCalls };
  if (status === 503) {
    return hasRetryAfter
      ? { kind: 'rejected', code, value: undefined, toolCalls }
      : { kind: 'untyped', code, value: undefined, toolCalls, detail: '503 without Retry-After' };
  }
  return { kind: 'http-error', code, value: undefined, toolCalls };
}
