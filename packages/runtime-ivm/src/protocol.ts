/**
 * Messages between the pool (parent process) and its child processes, over Node's IPC channel with
 * JSON serialisation: strings, numbers, booleans, arrays and plain objects only — never functions,
 * errors or handles.
 */
import type { ErrorCode, RunOutcome, RunRequest, SandboxLimits } from '@script-harness/core';

/** How a child is configured; passed as its only command-line argument, as JSON. */
export interface ChildConfig {
  /** Module specifier or path of isolated-vm, resolved from the child's own location. */
  readonly modulePath: string;
  /** Resident set size past which the child reports itself for replacement. */
  readonly maxRssBytes: number;
}

export type ToChild =
  | { readonly type: 'run'; readonly jobId: number; readonly limits: SandboxLimits; readonly request: RunRequest }
  /** Stop / restart the script's clock while a tool call waits for a person. */
  | { readonly type: 'hold' | 'release'; readonly jobId: number }
  | { readonly type: 'reply'; readonly jobId: number; readonly callId: number; readonly reply: string }
  | { readonly type: 'abort'; readonly jobId: number; readonly code: ErrorCode; readonly message: string };

export type FromChild =
  | { readonly type: 'ready' }
  /** isolated-vm could not be loaded (or cannot create an isolate) in this process. */
  | { readonly type: 'unavailable'; readonly message: string }
  | { readonly type: 'started'; readonly jobId: number; readonly deadline: number }
  | {
      readonly type: 'call';
      readonly jobId: number;
      readonly callId: number;
      readonly name: string;
      readonly argsJson: string;
    }
  | {
      readonly type: 'emit';
      readonly jobId: number;
      readonly kind: 'console' | 'progress';
      readonly level: string;
      readonly text: string;
    }
  | { readonly type: 'done'; readonly jobId: number; readonly outcome: RunOutcome }
  /**
   * The child can no longer be trusted and asks to be replaced: V8 lost control of an isolate
   * (a catastrophic out-of-memory), or the process grew past its memory bound. `culprits` are the
   * scripts that caused it (they end as `code`); the child's other scripts end as INTERNAL.
   */
  | {
      readonly type: 'fatal';
      readonly culprits: readonly number[];
      readonly code: ErrorCode;
      readonly message: string;
    };
