/**
 * The recent runs of this server, for `/v1/runs` and the web console: every script the harness
 * runs (from `/v1/scripts` and from the blocks of `/v1/messages:execute`) with whom it ran for,
 * its outcome, duration and tool-call count, and its source. A bounded ring: the oldest finished
 * runs are forgotten first.
 *
 * It also finds the line of a running script that made a tool call held for approval
 * (`scriptExcerpt`), since an approval request carries the call but not the source.
 */
import { randomUUID } from 'node:crypto';
import { type Harness, type HarnessErrorData, type ScriptResult, toErrorData } from '@script-harness/core';
import { describeCallingLines } from '@script-harness/policy';
import type { ScriptOwners } from './owners.ts';

export type RunStatus = 'running' | 'ok' | 'error';

export interface RunSummary {
  readonly scriptId: string;
  /** The tenant of the API key that started the run; undefined for runs no request owns (MCP). */
  readonly tenant: string | undefined;
  readonly requestId: string | undefined;
  readonly runtime: string;
  readonly status: RunStatus;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  readonly endedAt?: number;
  /** The run's own duration (ScriptResult metadata), once it ended. */
  readonly durationMs?: number;
  readonly toolCalls?: number;
  readonly consoleLines?: number;
  /** More than one when the queue retried the run (a worker died before any tool call). */
  readonly attempts: number;
  readonly error?: Pick<HarnessErrorData, 'code' | 'message' | 'line' | 'column'>;
}

export interface RunDetail extends RunSummary {
  readonly language: string;
  /** The script as it was submitted, cut at `maxSourceChars`. */
  readonly source: string;
  readonly sourceTruncated: boolean;
}

export interface RunRecorderOptions {
  readonly owners: Pick<ScriptOwners, 'get'>;
  /** Runs remembered (default 200). */
  readonly capacity?: number;
  /** Characters of source kept per run (default 32768). */
  readonly maxSourceChars?: number;
  /** Clock for `startedAt` and `endedAt` (default `Date.now`). */
  readonly now?: () => number;
}

export interface RunRecorder {
  /** The harness, with every run recorded. */
  wrap(harness: Harness): Harness;
  /** A tenant's runs, newest first. */
  list(tenant: string, limit?: number): RunSummary[];
  /** One run of the tenant, with its source. */
  get(scriptId: string, tenant: string): RunDetail | undefined;
  /** The line(s) of a recorded script that call `tool`; for `createApprovalBroker({ scriptExcerpt })`. */
  scriptExcerpt(request: { readonly scriptId: string; readonly tool: string }): string | undefined;
  /** Who a recorded script ran for, for showing who asked for an approval. */
  ownerOf(
    scriptId: string,
  ): { readonly tenant: string | undefined; readonly requestId: string | undefined } | undefined;
}

export const DEFAULT_RUN_CAPACITY = 200;
export const DEFAULT_MAX_SOURCE_CHARS = 32_768;

interface Entry {
  summary: RunSummary;
  language: string;
  source: string;
  sourceTruncated: boolean;
}

export function createRunRecorder(options: RunRecorderOptions): RunRecorder {
  const capacity = options.capacity ?? DEFAULT_RUN_CAPACITY;
  const maxSourceChars = options.maxSourceChars ?? DEFAULT_MAX_SOURCE_CHARS;
  const now = options.now ?? Date.now;
  if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  const entries = new Map<string, Entry>();

  const evict = () => {
    while (entries.size > capacity) {
      let victim: string | undefined;
      for (const [id, entry] of entries) {
        if (entry.summary.status !== 'running') {
          victim = id;
          break;
        }
      }
      // Every remembered run is still running: forget the oldest of them.
      victim ??= entries.keys().next().value;
      if (victim === undefined) return;
      entries.delete(victim);
    }
  };

  const begin = (scriptId: string, source: string | Uint8Array, runtime: string, language: string) => {
    const previous = entries.get(scriptId);
    if (previous !== undefined) {
      // A retried attempt of the same run.
      const { endedAt: _e, durationMs: _d, toolCalls: _t, consoleLines: _c, error: _x, ...rest } = previous.summary;
      previous.summary = { ...rest, status: 'running', attempts: previous.summary.attempts + 1 };
      return;
    }
    const text = typeof source === 'string' ? source : new TextDecoder().decode(source);
    const owner = options.owners.get(scriptId);
    entries.set(scriptId, {
      summary: {
        scriptId,
        tenant: owner?.tenant,
        requestId: owner?.requestId,
        runtime,
        status: 'running',
        startedAt: now(),
        attempts: 1,
      },
      language,
      source: text.length > maxSourceChars ? text.slice(0, maxSourceChars) : text,
      sourceTruncated: text.length > maxSourceChars,
    });
    evict();
  };

  const finish = (scriptId: string, result: ScriptResult) => {
    const entry = entries.get(scriptId);
    if (entry === undefined) return;
    entry.summary = {
      ...entry.summary,
      status: result.ok ? 'ok' : 'error',
      endedAt: now(),
      durationMs: result.metadata.durationMs,
      toolCalls: result.metadata.toolCalls,
      consoleLines: result.console.length,
      ...(result.error === undefined ? {} : { error: errorSummary(result.error) }),
    };
  };

  const fail = (scriptId: string, error: HarnessErrorData) => {
    const entry = entries.get(scriptId);
    if (entry === undefined) return;
    entry.summary = { ...entry.summary, status: 'error', endedAt: now(), error: errorSummary(error) };
  };

  return {
    wrap(harness) {
      return {
        ...harness,
        async run(source, runOptions = {}) {
          const scriptId = runOptions.scriptId ?? randomUUID();
          begin(scriptId, source, runOptions.runtime ?? harness.runtime, runOptions.language ?? 'ts');
          try {
            const result = await harness.run(source, { ...runOptions, scriptId });
            finish(scriptId, result);
            return result;
          } catch (error) {
            fail(scriptId, toErrorData(error));
            throw error;
          }
        },
      };
    },
    list(tenant, limit = capacity) {
      const found: RunSummary[] = [];
      const all = [...entries.values()];
      for (let index = all.length - 1; index >= 0 && found.length < limit; index--) {
        const entry = all[index];
        if (entry !== undefined && entry.summary.tenant === tenant) found.push(entry.summary);
      }
      return found;
    },
    get(scriptId, tenant) {
      const entry = entries.get(scriptId);
      if (entry === undefined || entry.summary.tenant !== tenant) return undefined;
      return {
        ...entry.summary,
        language: entry.language,
        source: entry.source,
        sourceTruncated: entry.sourceTruncated,
      };
    },
    scriptExcerpt({ scriptId, tool }) {
      const entry = entries.get(scriptId);
      return entry === undefined ? undefined : describeCallingLines(entry.source, tool);
    },
    ownerOf(scriptId) {
      const entry = entries.get(scriptId);
      return entry === undefined ? undefined : { tenant: entry.summary.tenant, requestId: entry.summary.requestId };
    },
  };
}

function errorSummary(error: HarnessErrorData): RunSummary['error'] {
  return {
    code: error.code,
    message: error.message,
    ...(error.line === undefined ? {} : { line: error.line }),
    ...(error.column === undefined ? {} : { column: error.column }),
  };
}
