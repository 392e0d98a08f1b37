/**
 * `@script-harness/console`: the web console of harness-server, served at `/ui` from this
 * package's `dist` (built with `vite build`). From code, the pieces the page is made of that work
 * anywhere `fetch` does: the API client (with event streams read over `fetch`, so they can carry
 * an API key), the event-stream reader, and the health figures read from `/metrics`.
 */
export {
  type ApiClient,
  type ApiClientOptions,
  ApiError,
  createApiClient,
  type MessageRunRequest,
  type ReadyState,
  type ScriptRunRequest,
  type StreamEvent,
} from './api.ts';
export {
  baselineOf,
  type HealthFigures,
  healthFigures,
  parsePrometheusText,
  type Reading,
  readingOf,
  type Sample,
  sumOf,
} from './metrics.ts';
export { applyRunEvent, endedRun, IDLE_RUN, type RunEntry, type RunState, startedRun } from './run-state.ts';
export { readEventStream, type ServerSentEvent } from './sse.ts';
export type {
  PendingApproval,
  RunDetail,
  RunSummary,
  ScriptResult,
  ServerInfo,
  SettledApproval,
  TaskRecord,
} from './types.ts';

/** Where `vite build` puts the console (the directory harness-server serves at `/ui`). */
export const CONSOLE_DIST_URL: URL = new URL('../dist/', import.meta.url);
