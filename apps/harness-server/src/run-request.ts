/**
 * Checks the run options of a request before anything is queued, so a request the harness would
 * refuse is answered 400 naming the field, instead of being queued and failing later.
 */
import {
  type ExecutionMode,
  type Harness,
  HarnessError,
  type JobPriority,
  type Limits,
  resolveLimits,
  resolveMode,
} from '@script-harness/core';
import type { LimitsOverride } from './config.ts';

export interface RunRequestFields {
  readonly limits?: LimitsOverride | undefined;
  readonly tools?: readonly string[] | undefined;
  readonly mode?: ExecutionMode | undefined;
  readonly context?: Readonly<Record<string, unknown>> | undefined;
  readonly priority?: JobPriority | undefined;
  readonly runtime?: string | undefined;
}

export interface PreparedRun {
  readonly mode: ExecutionMode;
  /** Complete limits when the request overrides any; undefined to run with the server's. */
  readonly limits: Limits | undefined;
  readonly tools: readonly string[] | undefined;
  readonly context: Readonly<Record<string, unknown>> | undefined;
  readonly priority: JobPriority;
  /** The runtime the request named; undefined for the server's default. */
  readonly runtime: string | undefined;
}

/** Throws `HarnessError` `INVALID_REQUEST` (answered 400) naming the offending field. */
export function prepareRun(
  fields: RunRequestFields,
  harness: Pick<Harness, 'runtimes' | 'limits' | 'registry'>,
  ceilings: Readonly<Partial<Limits>>,
  defaultMode: ExecutionMode,
): PreparedRun {
  if (fields.runtime !== undefined && !harness.runtimes.includes(fields.runtime)) {
    throw new HarnessError(
      'INVALID_REQUEST',
      `runtime: "${fields.runtime}" is not available; this server runs ${harness.runtimes.join(', ')}`,
      { details: { field: 'runtime', available: harness.runtimes } },
    );
  }
  if (fields.tools !== undefined) {
    const known = new Set(harness.registry.names);
    const unknown = fields.tools.filter((name) => !known.has(name));
    if (unknown.length > 0) {
      throw new HarnessError('INVALID_REQUEST', `tools: unknown tools ${unknown.join(', ')}`, {
        details: { field: 'tools', unknown, known: harness.registry.names },
      });
    }
  }
  let limits: Limits | undefined;
  if (fields.limits !== undefined && Object.keys(fields.limits).length > 0) {
    // The override is sent complete: keys the request left out keep the server's values.
    const complete = { ...harness.limits, ...stripUndefined(fields.limits) };
    limits = resolveLimits(harness.limits, complete, ceilings);
  }
  return {
    mode: resolveMode({ turn: fields.mode, global: defaultMode }),
    limits,
    tools: fields.tools,
    context: fields.context,
    priority: fields.priority ?? 'normal',
    runtime: fields.runtime,
  };
}

function stripUndefined(limits: LimitsOverride): Partial<Limits> {
  return Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined)) as Partial<Limits>;
}
