/**
 * Metric label values come only from closed sets: error codes of core's table, outcomes, the
 * runtime names given at construction and registered tool names (capped). A string a script
 * wrote can never become a label value, so a script cannot blow up the series count of the
 * metrics store or smuggle text into dashboards.
 */
import { type ErrorCode, isErrorCode, UNKNOWN_TOOL } from '@script-harness/core';

/** Label value for a tool or runtime beyond the closed set (past the cap, or not listed). */
export const OTHER_LABEL = '(other)';

/** Label value of a tool the script made up (core passes it as such). */
export { UNKNOWN_TOOL };

/** Distinct tool names that get their own label value before the rest share `(other)`. */
export const DEFAULT_MAX_TOOL_LABELS = 200;

// The tool name grammar of core's defineTool; anything else cannot be a registered name.
const TOOL_NAME = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$/;
const MAX_TOOL_NAME_LENGTH = 128;

/** An error code from core's table; anything else (a foreign hook caller) counts as INTERNAL. */
export function errorCodeLabel(code: unknown): ErrorCode {
  return typeof code === 'string' && isErrorCode(code) ? code : 'INTERNAL';
}

/**
 * Maps tool names to label values: the first `max` distinct well-formed names keep their own
 * value, later ones share `(other)`; malformed names count as `(unknown)`.
 */
export class ToolLabels {
  readonly #max: number;
  readonly #admitted = new Set<string>();

  constructor(max: number) {
    this.#max = max;
  }

  label(tool: string): string {
    if (tool === UNKNOWN_TOOL) return UNKNOWN_TOOL;
    if (this.#admitted.has(tool)) return tool;
    if (tool.length > MAX_TOOL_NAME_LENGTH || !TOOL_NAME.test(tool)) return UNKNOWN_TOOL;
    if (this.#admitted.size >= this.#max) return OTHER_LABEL;
    this.#admitted.add(tool);
    return tool;
  }
}

/** Maps runtime names to label values: the names given at construction, `(other)` for the rest. */
export class RuntimeLabels {
  readonly #known: ReadonlySet<string>;

  constructor(runtimes: readonly string[]) {
    this.#known = new Set(runtimes);
  }

  label(runtime: string): string {
    return this.#known.has(runtime) ? runtime : OTHER_LABEL;
  }
}

/** Cuts a host-supplied identifier (script id, request id) to a bounded length for spans and logs. */
export function boundedId(value: string, max = 128): string {
  return value.length <= max ? value : value.slice(0, max);
}
