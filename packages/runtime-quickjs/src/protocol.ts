/**
 * Messages between the pool (main thread) and its workers. Everything is structured-clone data:
 * strings, numbers and plain objects — never functions, errors or handles.
 */
import type { GuestErrorInfo, RunOutcome, RunRequest, SandboxLimits } from '@script-harness/core';

export type ToWorker =
  | { readonly type: 'run'; readonly jobId: number; readonly limits: SandboxLimits; readonly request: RunRequest }
  | { readonly type: 'ping' }
  /** Stop / restart the script's clock while a tool call waits for a person. */
  | { readonly type: 'hold' | 'release'; readonly jobId: number }
  | { readonly type: 'reply'; readonly jobId: number; readonly callId: number; readonly reply: string }
  | { readonly type: 'abort'; readonly jobId: number; readonly code: GuestErrorInfo['code']; readonly message: string };

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'pong' }
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
  | {
      readonly type: 'done';
      readonly jobId: number;
      readonly outcome: RunOutcome;
      /** Whether the script ran in a warm sandbox restored from a snapshot. */
      readonly warm: boolean;
      /** Size of the worker's WebAssembly memory after the job, for recycling decisions. */
      readonly wasmBytes: number;
      /** How many times this worker replaced a faulted QuickJS module. */
      readonly moduleReplacements: number;
    };

/** What a worker is started with. */
export interface WorkerData {
  /** Warm sandboxes the worker keeps (see `QuickJSRuntimeOptions.warmSandboxes`). */
  readonly warmSandboxes: number;
}
