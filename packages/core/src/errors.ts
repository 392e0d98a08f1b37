/**
 * Every failure the harness reports has one stable string code, documented once here. The error
 * catalog (docs/errors.md) is generated from this table, so adding a code means adding a row.
 */

export type ErrorPhase = 'detect' | 'prepare' | 'schedule' | 'execute' | 'tool' | 'output' | 'host';

export interface ErrorCodeInfo {
  /** Where in the path of a script the error arises. */
  readonly phase: ErrorPhase;
  /** True when running the same script again may succeed (a crashed worker, a full queue). */
  readonly retryable: boolean;
  /** What the code means, in one sentence. */
  readonly meaning: string;
  /** What the model (or the operator) should do about it. */
  readonly remedy: string;
}

export const ERROR_CODES = {
  SYNTAX_ERROR: {
    phase: 'prepare',
    retryable: false,
    meaning:
      'The script is not valid TypeScript/JavaScript (or uses TypeScript that cannot be stripped, such as enums).',
    remedy: 'Fix the syntax at the reported line and column; use plain types instead of enums and namespaces.',
  },
  BANNED_CONSTRUCT: {
    phase: 'prepare',
    retryable: false,
    meaning: 'The script uses a construct the sandbox does not offer (require, import, eval, new Function).',
    remedy: 'Call host capabilities through `tools.*` instead; there is no module loader and no code generation.',
  },
  SOURCE_TOO_LARGE: {
    phase: 'prepare',
    retryable: false,
    meaning: 'The script source is larger than the configured maximum.',
    remedy: 'Write a shorter script; move data into tool calls instead of literals.',
  },
  INVALID_ENCODING: {
    phase: 'prepare',
    retryable: false,
    meaning: 'The script source is not valid UTF-8 or contains NUL characters.',
    remedy: 'Send the script as UTF-8 text.',
  },
  DETECTION_ERROR: {
    phase: 'detect',
    retryable: false,
    meaning: 'A script block in the message is malformed (unbalanced or nested tags, an unclosed fence).',
    remedy: 'Close every <tool-calls> tag and fence; do not nest blocks.',
  },
  TIMEOUT: {
    phase: 'execute',
    retryable: false,
    meaning: 'The script ran past its deadline (the deadline covers tool calls and promise jobs too).',
    remedy:
      'Do less per script, run independent tool calls with Promise.all, or raise the timeout within the allowed maximum.',
  },
  MEMORY_LIMIT: {
    phase: 'execute',
    retryable: false,
    meaning: 'The script allocated more memory than its limit.',
    remedy: 'Process data in smaller pieces; return summaries rather than whole data sets.',
  },
  STACK_OVERFLOW: {
    phase: 'execute',
    retryable: false,
    meaning: 'The script recursed deeper than the stack limit allows.',
    remedy: 'Replace deep recursion with a loop.',
  },
  OUTPUT_LIMIT: {
    phase: 'output',
    retryable: false,
    meaning: 'The value returned by the script (or its console output) exceeds the configured cap.',
    remedy: 'Return a smaller value: a summary, a count, the first N items.',
  },
  TOOL_NOT_FOUND: {
    phase: 'tool',
    retryable: false,
    meaning: 'The script called a tool that does not exist or is not allowed for this request.',
    remedy: 'Use one of the suggested tool names.',
  },
  TOOL_VALIDATION: {
    phase: 'tool',
    retryable: false,
    meaning: 'The arguments of a tool call do not match the tool input schema.',
    remedy: 'Fix the argument at the reported path; see the tool declaration.',
  },
  TOOL_ERROR: {
    phase: 'tool',
    retryable: false,
    meaning: 'A tool failed while executing.',
    remedy: 'Read the message; catch the error in the script if the failure is expected.',
  },
  TOOL_BUDGET: {
    phase: 'tool',
    retryable: false,
    meaning: 'The script made more tool calls than its budget allows.',
    remedy: 'Make fewer, larger tool calls, or split the work over several scripts.',
  },
  APPROVAL_DENIED: {
    phase: 'tool',
    retryable: false,
    meaning: 'A person or a policy rule denied a tool call that needed approval.',
    remedy: 'Catch the error and continue without that action, or explain to the user why it is needed.',
  },
  APPROVAL_TIMEOUT: {
    phase: 'tool',
    retryable: false,
    meaning: 'No decision on a tool call that needed approval arrived in time.',
    remedy: 'Ask the user to approve and run the script again.',
  },
  POLICY_DENIED: {
    phase: 'tool',
    retryable: false,
    meaning: 'The policy forbids this tool call (path outside the workspace, host not allowed, ...).',
    remedy: 'Stay inside the workspace and the allowed hosts.',
  },
  DETACHED_PROMISE: {
    phase: 'execute',
    retryable: false,
    meaning: 'The script ended while tool calls it started were still running; they were aborted.',
    remedy: 'Await every tool call (use Promise.all for parallel calls).',
  },
  SERIALIZATION: {
    phase: 'execute',
    retryable: false,
    meaning: 'A value crossing the sandbox boundary is not JSON-compatible (function, symbol, cycle, BigInt).',
    remedy: 'Pass and return plain data: objects, arrays, strings, numbers, booleans, null.',
  },
  GUEST_ERROR: {
    phase: 'execute',
    retryable: false,
    meaning: 'The script threw an error that it did not catch.',
    remedy: 'Read the message and the line; handle the failure in the script.',
  },
  UNSETTLED_PROMISE: {
    phase: 'execute',
    retryable: false,
    meaning: 'The script awaited a promise that can never settle (nothing is left that could resolve it).',
    remedy: 'Only await tool calls and promises that something resolves; there are no timers.',
  },
  INVALID_REQUEST: {
    phase: 'host',
    retryable: false,
    meaning: 'The request to the harness is malformed (bad option, limit above its maximum).',
    remedy: 'Fix the request; the message names the field.',
  },
  RUNTIME_UNAVAILABLE: {
    phase: 'host',
    retryable: false,
    meaning: 'The selected runtime cannot be loaded on this host.',
    remedy: 'Install the runtime dependency named in the message, or choose another runtime.',
  },
  DISABLED: {
    phase: 'host',
    retryable: false,
    meaning: 'Code execution is disabled for this provider or request; nothing ran.',
    remedy: 'Use plain tool calls instead of a script.',
  },
  CANCELLED: {
    phase: 'host',
    retryable: false,
    meaning: 'The caller cancelled the script.',
    remedy: 'Nothing to do; the run was stopped on request.',
  },
  SHUTDOWN: {
    phase: 'host',
    retryable: true,
    meaning: 'The harness is shutting down and did not finish the script.',
    remedy: 'Submit the script again (to another node).',
  },
  QUEUE_FULL: {
    phase: 'schedule',
    retryable: true,
    meaning: 'Too many scripts are waiting; the harness refused this one.',
    remedy: 'Retry after a short delay.',
  },
  INTERNAL: {
    phase: 'host',
    retryable: true,
    meaning: 'The harness itself failed (for example a worker died); the script may not have finished.',
    remedy: 'Retry; report the error if it persists.',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface HarnessErrorData {
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryable: boolean;
  readonly phase: ErrorPhase;
  /** 1-based line in the model's own source, when the error points at one. */
  readonly line?: number;
  /** 1-based column in the model's own source. */
  readonly column?: number;
  /** Stack relative to the script (`script.ts:LINE:COL`), never host frames. */
  readonly stack?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface HarnessErrorOptions {
  line?: number | undefined;
  column?: number | undefined;
  stack?: string | undefined;
  details?: Record<string, unknown> | undefined;
  cause?: unknown;
}

/** The one error type of the harness. `code` is stable; `message` is for people and models. */
export class HarnessError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly phase: ErrorPhase;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly scriptStack: string | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options: HarnessErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HarnessError';
    const info = ERROR_CODES[code];
    this.code = code;
    this.retryable = info.retryable;
    this.phase = info.phase;
    this.line = options.line;
    this.column = options.column;
    this.scriptStack = options.stack;
    this.details = options.details;
  }

  /** Plain data for results, logs and the wire; never includes the host stack. */
  toData(): HarnessErrorData {
    return errorData(this.code, this.message, {
      line: this.line,
      column: this.column,
      stack: this.scriptStack,
      details: this.details as Record<string, unknown> | undefined,
    });
  }
}

/** Builds the plain error record of a code without constructing an Error (no host stack captured). */
export function errorData(code: ErrorCode, message: string, options: HarnessErrorOptions = {}): HarnessErrorData {
  const info = ERROR_CODES[code];
  const data: { -readonly [K in keyof HarnessErrorData]: HarnessErrorData[K] } = {
    code,
    message,
    retryable: info.retryable,
    phase: info.phase,
  };
  if (options.line !== undefined) data.line = options.line;
  if (options.column !== undefined) data.column = options.column;
  if (options.stack !== undefined) data.stack = options.stack;
  if (options.details !== undefined) data.details = options.details;
  return data;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/**
 * Converts anything a tool or the host threw into harness error data with a sanitised message:
 * host stacks and absolute paths never reach the guest or the model.
 */
export function toErrorData(error: unknown, fallback: ErrorCode = 'INTERNAL'): HarnessErrorData {
  if (error instanceof HarnessError) return error.toData();
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : 'unknown error';
  return errorData(fallback, redactHostPaths(message));
}

const ABSOLUTE_PATH = /(?:[A-Za-z]:)?(?:\/|\\)(?:[\w.@+-]+(?:\/|\\))+[\w.@+-]*/g;

/** Replaces absolute host paths in a message with `<path>`, so errors do not reveal the host layout. */
export function redactHostPaths(message: string): string {
  return message.replace(ABSOLUTE_PATH, '<path>');
}
