/**
 * The playground's view of one streamed run, folded from the events of `POST /v1/scripts` in the
 * order they came: console lines, progress, each tool call with its arguments and (once known)
 * its result, calls held for approval, and the final result.
 */
import type { StreamEvent } from './api.ts';
import type { ErrorData, PendingApproval, ScriptResult } from './types.ts';

export type RunEntry =
  | { readonly kind: 'console'; readonly level: string; readonly text: string }
  | { readonly kind: 'progress'; readonly message: string }
  | {
      readonly kind: 'tool';
      readonly callId: string;
      readonly tool: string;
      readonly args: unknown;
      readonly status?: 'ok' | 'error' | 'aborted';
      readonly durationMs?: number;
      readonly value?: unknown;
      readonly error?: ErrorData;
    }
  | { readonly kind: 'approval'; readonly approval: PendingApproval };

export interface RunState {
  readonly phase: 'idle' | 'running' | 'done';
  readonly scriptId?: string;
  readonly entries: readonly RunEntry[];
  readonly result?: ScriptResult;
  /** A failure of the request itself (not of the script): 400, 401, 503, a dropped connection. */
  readonly failure?: { readonly code: string; readonly message: string };
}

export const IDLE_RUN: RunState = { phase: 'idle', entries: [] };

export function startedRun(): RunState {
  return { phase: 'running', entries: [] };
}

export function applyRunEvent(state: RunState, { event, data }: StreamEvent): RunState {
  const fields = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  switch (event) {
    case 'script_started':
      return { ...state, scriptId: String(fields.scriptId ?? '') };
    case 'console':
      return append(state, { kind: 'console', level: String(fields.level ?? 'log'), text: String(fields.text ?? '') });
    case 'progress':
      return append(state, { kind: 'progress', message: String(fields.message ?? '') });
    case 'tool_call':
      return append(state, {
        kind: 'tool',
        callId: String(fields.callId ?? ''),
        tool: String(fields.tool ?? ''),
        args: fields.args,
      });
    case 'tool_result':
      return updateCall(state, String(fields.callId ?? ''), (entry) => ({
        ...entry,
        status: fields.status as 'ok' | 'error' | 'aborted',
        ...(typeof fields.durationMs === 'number' ? { durationMs: fields.durationMs } : {}),
        ...(fields.error === undefined ? {} : { error: fields.error as ErrorData }),
      }));
    case 'approval_requested':
      return append(state, { kind: 'approval', approval: data as PendingApproval });
    case 'script_completed':
    case 'script_error': {
      const result = fields.result as ScriptResult | undefined;
      if (result === undefined) return state;
      // The stream's tool_result carries no value; the final result has every call's.
      let next: RunState = { ...state, phase: 'done', result, scriptId: result.metadata.scriptId };
      for (const call of result.calls) {
        const known = next.entries.some((entry) => entry.kind === 'tool' && entry.callId === call.callId);
        next = known
          ? updateCall(next, call.callId, (entry) => ({
              ...entry,
              status: call.status,
              durationMs: call.durationMs,
              ...(call.value === undefined ? {} : { value: call.value }),
              ...(call.error === undefined ? {} : { error: call.error }),
            }))
          : append(next, { kind: 'tool', ...call });
      }
      return next;
    }
    default:
      return state;
  }
}

export function failedRun(state: RunState, failure: { code: string; message: string }): RunState {
  return { ...state, phase: 'done', failure };
}

/** Ends a run whose stream closed without a final event. */
export function endedRun(state: RunState): RunState {
  if (state.phase === 'done') return state;
  return failedRun(state, { code: 'STREAM_ENDED', message: 'the stream ended before the run reported its result' });
}

function append(state: RunState, entry: RunEntry): RunState {
  return { ...state, entries: [...state.entries, entry] };
}

function updateCall(
  state: RunState,
  callId: string,
  change: (entry: Extract<RunEntry, { kind: 'tool' }>) => Extract<RunEntry, { kind: 'tool' }>,
): RunState {
  return {
    ...state,
    entries: state.entries.map((entry) => (entry.kind === 'tool' && entry.callId === callId ? change(entry) : entry)),
  };
}
