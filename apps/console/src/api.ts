/**
 * The console's client of the server API: every call carries the API key (when there is one) as
 * `Authorization: Bearer`, errors come back as `ApiError` with the server's code, and streams are
 * read with `fetch` (EventSource cannot send the header). Works in browsers and in Node.
 */
import { readEventStream, type ServerSentEvent } from './sse.ts';
import type {
  MessageExecution,
  RunDetail,
  RunSettings,
  RunSummary,
  ServerInfo,
  SettledApproval,
  TaskRecord,
} from './types.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export interface ApiClientOptions {
  /** The server's root, e.g. `http://127.0.0.1:8080/` (the page uses its own origin). */
  readonly baseUrl: string | URL;
  /** The API key to send; undefined sends none (a server started without keys). */
  readonly key?: () => string | undefined;
  readonly fetch?: typeof fetch;
}

export interface ScriptRunRequest extends RunSettings {
  readonly code: string;
  readonly language?: 'ts' | 'js';
}

export interface MessageRunRequest extends RunSettings {
  readonly message: string;
}

/** An event of a stream, its data parsed from JSON. */
export interface StreamEvent {
  readonly event: string;
  readonly data: unknown;
}

export interface ApiClient {
  info(signal?: AbortSignal): Promise<ServerInfo>;
  /** Runs a script, yielding its events as they come; the last is `script_completed` or `script_error`. */
  streamScript(request: ScriptRunRequest, signal?: AbortSignal): AsyncGenerator<StreamEvent>;
  executeMessage(request: MessageRunRequest, signal?: AbortSignal): Promise<MessageExecution>;
  /** The approvals of the caller as they happen: `snapshot`, `approval_requested`, `approval_settled`. */
  approvalEvents(signal?: AbortSignal): AsyncGenerator<StreamEvent>;
  approvalHistory(signal?: AbortSignal): Promise<readonly SettledApproval[]>;
  decide(
    id: string,
    decision: 'approve' | 'deny',
    options?: { readonly reason?: string; readonly argsHash?: string },
  ): Promise<{ id: string; status: string }>;
  runs(limit?: number, signal?: AbortSignal): Promise<readonly RunSummary[]>;
  run(id: string, signal?: AbortSignal): Promise<RunDetail>;
  tasks(limit?: number, signal?: AbortSignal): Promise<readonly TaskRecord[]>;
  cancelTask(id: string): Promise<{ task: TaskRecord; cancelled: boolean }>;
  /** `/ready`: its JSON whether ready (200) or not (503). */
  ready(signal?: AbortSignal): Promise<ReadyState>;
  live(signal?: AbortSignal): Promise<{ status: string; eventLoopLagMs?: number }>;
  /** `/metrics` as Prometheus text. */
  metrics(signal?: AbortSignal): Promise<string>;
}

export interface ReadyState {
  readonly status: string;
  readonly reasons?: readonly string[];
  readonly queue?: { readonly queued: number; readonly running: number; readonly maxQueued: number };
  readonly pool?: { readonly size: number; readonly busy: number };
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const base = new URL(options.baseUrl);

  const call = async (
    path: string,
    init: { method?: string; body?: unknown; accept?: string; signal?: AbortSignal | undefined } = {},
  ): Promise<Response> => {
    const headers: Record<string, string> = { accept: init.accept ?? 'application/json' };
    const key = options.key?.();
    if (key !== undefined && key !== '') headers.authorization = `Bearer ${key}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    return doFetch(new URL(path, base), {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      ...(init.signal === undefined ? {} : { signal: init.signal }),
    });
  };

  const json = async <T>(response: Response, okStatuses: readonly number[] = []): Promise<T> => {
    if (!response.ok && !okStatuses.includes(response.status)) throw await errorOf(response);
    return (await response.json()) as T;
  };

  const stream = async function* (response: Response): AsyncGenerator<StreamEvent> {
    if (!response.ok) throw await errorOf(response);
    const type = response.headers.get('content-type') ?? '';
    if (!type.startsWith('text/event-stream') || response.body === null) {
      throw new ApiError(response.status, 'NOT_A_STREAM', `expected an event stream, got ${type || 'no body'}`);
    }
    for await (const event of readEventStream(response.body)) yield parsed(event);
  };

  return {
    info: async (signal) => json(await call('v1/info', { signal })),
    async *streamScript(request, signal) {
      yield* stream(await call('v1/scripts', { body: request, accept: 'text/event-stream', signal }));
    },
    executeMessage: async (request, signal) => json(await call('v1/messages:execute', { body: request, signal })),
    async *approvalEvents(signal) {
      yield* stream(await call('v1/approvals/events', { accept: 'text/event-stream', signal }));
    },
    approvalHistory: async (signal) =>
      (await json<{ approvals: SettledApproval[] }>(await call('v1/approvals/history', { signal }))).approvals,
    decide: async (id, decision, decideOptions = {}) =>
      json(
        await call(`v1/approvals/${encodeURIComponent(id)}`, {
          body: {
            decision,
            ...(decideOptions.reason === undefined || decideOptions.reason === ''
              ? {}
              : { reason: decideOptions.reason }),
            ...(decideOptions.argsHash === undefined ? {} : { argsHash: decideOptions.argsHash }),
          },
        }),
      ),
    runs: async (limit = 50, signal) =>
      (await json<{ runs: RunSummary[] }>(await call(`v1/runs?limit=${limit}`, { signal }))).runs,
    run: async (id, signal) => json(await call(`v1/runs/${encodeURIComponent(id)}`, { signal })),
    tasks: async (limit = 50, signal) =>
      (await json<{ tasks: TaskRecord[] }>(await call(`v1/tasks?limit=${limit}`, { signal }))).tasks,
    cancelTask: async (id) => json(await call(`v1/tasks/${encodeURIComponent(id)}`, { method: 'DELETE' })),
    ready: async (signal) => json(await call('ready', { signal }), [503]),
    live: async (signal) => json(await call('live', { signal }), [503]),
    async metrics(signal) {
      const response = await call('metrics', { accept: 'text/plain', signal });
      if (!response.ok) throw await errorOf(response);
      return response.text();
    },
  };
}

function parsed(event: ServerSentEvent): StreamEvent {
  try {
    return { event: event.event, data: JSON.parse(event.data) };
  } catch {
    return { event: event.event, data: event.data };
  }
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string' && typeof body.error.message === 'string') {
      return new ApiError(response.status, body.error.code, body.error.message);
    }
  } catch {
    // Not JSON: a proxy's page, say. Fall through to the status line.
  }
  return new ApiError(response.status, `HTTP_${response.status}`, `${response.status} ${response.statusText}`.trim());
}
