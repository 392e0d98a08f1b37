/**
 * The contract between the engine and a JavaScript runtime. A runtime receives plain JavaScript
 * (types already stripped) and a host bridge; it knows nothing of tools, policy or telemetry.
 * Everything that crosses the boundary is a string or JSON-compatible data — never a live object,
 * function, promise or error of the other realm.
 */
import type { ErrorCode } from './errors.ts';

export interface SandboxLimits {
  readonly memoryBytes: number;
  readonly stackBytes: number;
}

/** One script, ready to run. */
export interface RunRequest {
  /**
   * The script as one strict-mode async function expression with no parameters:
   * `(async function () {"use strict";\n<script>\n})`. Evaluating it yields the function; calling
   * it runs the script. `tools`, `console` and `context` are globals the runtime provides.
   */
  readonly code: string;
  /** Lines before the model's first line in `code`; runtimes subtract it from reported lines. */
  readonly lineOffset: number;
  /**
   * Size caps the runtime applies inside the guest, in UTF-16 code units, so oversized data never
   * crosses the boundary. The engine re-checks exact byte sizes on its side.
   */
  readonly caps: {
    /** JSON of the returned value; beyond it the runtime reports OUTPUT_LIMIT with a preview of this size. */
    readonly outputChars: number;
    /** One console line or progress message; longer ones are cut. */
    readonly consoleLineChars: number;
    /** JSON of one tool call's arguments; beyond it the call fails with TOOL_VALIDATION. */
    readonly toolArgsChars: number;
  };
  /** Names exposed on `tools`; dotted names are namespaces (`mcp.files.read` → tools.mcp.files.read). */
  readonly toolNames: readonly string[];
  /** JSON of the `context` object the script sees (deep-frozen in the guest). */
  readonly contextJson: string;
  /**
   * Wall-clock budget of the run. The clock starts when the runtime starts the script (time spent
   * queued for a worker does not count) and covers promise jobs and awaited tool calls.
   */
  readonly timeoutMs: number;
}

/** The only way guest code reaches the host. */
export interface HostBridge {
  /**
   * Calls a tool. `argsJson` was serialised inside the guest. Resolves with the JSON of a
   * `BridgeReply`; never rejects (host failures are replies too).
   */
  callTool(callId: number, name: string, argsJson: string): Promise<string>;
  /** A console line or progress message from the script (already a string). */
  emit(kind: 'console' | 'progress', level: string, text: string): void;
  /**
   * The runtime started the script and it must end by `deadline` (epoch ms); called again when the
   * deadline moves (after a hold). The engine arms its own guard from this, so a runtime that
   * failed to stop in time is still stopped, and holds the clock through `control` while a tool
   * call waits for a person's approval.
   */
  started(deadline: number, control: DeadlineControl): void;
}

/** What the host sends back for one tool call, as JSON. */
export type BridgeReply =
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false;
      readonly error: { readonly code: ErrorCode; readonly message: string; readonly details?: unknown };
    };

export interface GuestErrorInfo {
  readonly code: ErrorCode;
  /** `name: message` of the guest error, read inside the guest without running user code on the host. */
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
  /** Stack in the script's own coordinates (`script.ts:LINE:COL`), no host frames. */
  readonly stack?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export type RunOutcome =
  | {
      readonly ok: true;
      /** JSON of the returned value, or undefined when the script returned nothing. */
      readonly valueJson: string | undefined;
      readonly memoryBytes?: number;
    }
  | { readonly ok: false; readonly error: GuestErrorInfo; readonly memoryBytes?: number };

/** Stops and restarts a running script's clock (while a person decides on an approval). */
export interface DeadlineControl {
  /** Stops the clock; nested holds are counted by the caller, not here. */
  hold(): void;
  /** Restarts the clock: the deadline moves by the time held. */
  release(): void;
}

export interface Sandbox {
  /** Runs one script to completion. Never throws for script faults: they are outcomes. */
  run(request: RunRequest, bridge: HostBridge, signal: AbortSignal): Promise<RunOutcome>;
  dispose(): void | Promise<void>;
}

export interface RuntimeAdapter {
  readonly specificationVersion: 'v1';
  /** Stable name used in results, metrics and `runtime:` selection ("quickjs", "isolated-vm"). */
  readonly name: string;
  /** A fresh, isolated sandbox; nothing of an earlier sandbox is visible in it. */
  createSandbox(limits: SandboxLimits): Sandbox | Promise<Sandbox>;
  /** Releases pools, workers and processes. */
  close?(): Promise<void>;
}
