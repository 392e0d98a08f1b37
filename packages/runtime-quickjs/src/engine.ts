/**
 * Boots hardened QuickJS sandboxes and runs one script in one, on the current thread. Used by the
 * per-thread engine (snapshot.ts) in inline mode and inside each pool worker.
 */
import releaseSyncVariant from '@jitl/quickjs-wasmfile-release-sync';
import type {
  DeadlineControl,
  GuestErrorInfo,
  HostBridge,
  RunOutcome,
  RunRequest,
  SandboxLimits,
} from '@script-harness/core';
import {
  type CustomizeVariantOptions,
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSContext,
  type QuickJSDeferredPromise,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSSyncVariant,
  type QuickJSWASMModule,
} from 'quickjs-emscripten-core';
import { BOOT_SOURCE, DESCRIBE_SOURCE, GLUE_FILENAME, IO_SOURCE, TOOLS_SOURCE } from './glue.ts';

// The package's types describe its CommonJS build; under ESM its default export is the variant itself.
const variant = releaseSyncVariant as unknown as QuickJSSyncVariant;

/**
 * One QuickJS WebAssembly module per thread, shared by its sandboxes. If a script exhausts the
 * thread's native stack inside the engine (deep recursion in a native builtin such as
 * `JSON.stringify`), or QuickJS fails an internal check (it may on out-of-memory, or when freeing a
 * runtime), the WebAssembly instance cannot be trusted again: it is marked poisoned and abandoned
 * without disposal, the sandboxes still alive on it end as INTERNAL at their next step, and the next
 * sandbox loads a fresh module.
 *
 * The holder also owns the module's WebAssembly memory and caps its growth. QuickJS's own memory
 * limit cannot see the size of blocks in this build (`malloc_usable_size` is unavailable under
 * WebAssembly), so it only refuses single allocations larger than the limit: many smaller ones
 * (typed arrays, strings, array storage) would grow the memory up to its 2 GiB maximum. Memory may
 * grow only while it stays within the limits of the sandboxes alive on the module plus headroom;
 * past that, allocation fails inside QuickJS and the script ends as MEMORY_LIMIT.
 */
export class QuickJSModuleHolder {
  #module: QuickJSWASMModule | undefined;
  #loading: Promise<QuickJSWASMModule> | undefined;
  /** Memory limits (plus headroom) of the sandboxes alive on this thread. */
  #reserved = 0;
  #memory: WasmMemory | undefined;
  /** How many times growth was refused; an engine fault right after one is an out-of-memory. */
  refusals = 0;
  /** How many times the module was replaced after a fault. */
  replacements = 0;
  readonly #poisoned = new WeakSet<QuickJSWASMModule>();
  /** The compiled WebAssembly module to instantiate (compiling it again for every instance is slow). */
  readonly #wasmModule: CompiledWasmModule | undefined;

  constructor(options: { readonly wasmModule?: CompiledWasmModule } = {}) {
    this.#wasmModule = options.wasmModule;
  }

  /** True once `module` faulted: nothing may call into it again. */
  isPoisoned(module: QuickJSWASMModule): boolean {
    return this.#poisoned.has(module);
  }

  /** Counts a sandbox's memory limit towards the growth budget until the returned function is called. */
  reserve(bytes: number): () => void {
    this.#reserved += bytes;
    let released = false;
    return () => {
      if (!released) this.#reserved -= bytes;
      released = true;
    };
  }

  /** The current module, synchronously, when one is loaded and healthy. */
  get ready(): QuickJSWASMModule | undefined {
    return this.#module;
  }

  async get(): Promise<QuickJSWASMModule> {
    if (this.#module !== undefined) return this.#module;
    if (this.#loading === undefined) {
      const memory = boundedMemory(
        () => MODULE_HEADROOM_BYTES + this.#reserved,
        () => this.refusals++,
      );
      this.#loading = newQuickJSWASMModuleFromVariant(
        newVariant(variant, {
          wasmMemory: memory as unknown as CustomizeVariantOptions['wasmMemory'],
          ...(this.#wasmModule === undefined
            ? {}
            : { wasmModule: this.#wasmModule as CustomizeVariantOptions['wasmModule'] }),
        }),
      ).then((module) => {
        this.#module = module;
        this.#memory = memory;
        this.#loading = undefined;
        return module;
      });
    }
    return this.#loading;
  }

  /** Size of the current module's WebAssembly memory: it only grows, so growth is a cheap signal. */
  get memoryBytes(): number {
    return this.#memory?.buffer.byteLength ?? 0;
  }

  /** The current module's WebAssembly memory (for snapshots, see snapshot.ts). */
  get memoryBuffer(): ArrayBuffer | undefined {
    return this.#memory?.buffer;
  }

  /**
   * Marks `module` as faulted: the next sandbox loads a fresh module, and the sandboxes still alive
   * on this one stop at their next step instead of calling into it again (`isPoisoned`).
   */
  poison(module: QuickJSWASMModule): void {
    this.#poisoned.add(module);
    if (this.#module === module) {
      this.#module = undefined;
      this.replacements++;
    }
  }
}

interface Envelope {
  ok: boolean;
  name?: string;
  message?: string;
  code?: string;
  stack?: string;
  /** OUTPUT_LIMIT only: the start of the oversized JSON. */
  preview?: string;
}

interface ScriptFrame {
  line: number;
  column?: number;
  text: string;
}

const FRAME_POSITION = /script\.ts:(\d+)(?::(\d+))?/;

/** Keeps the script's own stack frames, in the model's coordinates; glue and host frames are dropped. */
function scriptFrames(stack: string | undefined, lineOffset: number): ScriptFrame[] {
  if (stack === undefined) return [];
  const frames: ScriptFrame[] = [];
  for (const text of stack.split('\n')) {
    const match = FRAME_POSITION.exec(text);
    if (match === null) continue;
    const line = Number(match[1]) - lineOffset;
    const column = match[2] === undefined ? undefined : Number(match[2]);
    frames.push({
      line,
      ...(column === undefined ? {} : { column }),
      text: `    at script.ts:${line}${column === undefined ? '' : `:${column}`}`,
    });
  }
  return frames;
}

/** A compiled `WebAssembly.Module` (this project's lib settings carry no WebAssembly types). */
export type CompiledWasmModule = object;

interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
const WebAssemblyMemory = (
  globalThis as unknown as {
    WebAssembly: { Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory };
  }
).WebAssembly.Memory;

const OVER_BUDGET = 'the sandboxes on this thread reached their memory limits';

/** A memory for one module that refuses to grow past `budget()` bytes. */
function boundedMemory(budget: () => number, refused: () => void): WasmMemory {
  const memory = new WebAssemblyMemory({ initial: WASM_INITIAL_BYTES / WASM_PAGE_BYTES, maximum: WASM_MAX_PAGES });
  const grow = memory.grow.bind(memory);
  // The module grows its memory through this method and treats a throw as "no more memory".
  Object.defineProperty(memory, 'grow', {
    value: (pages: number) => {
      // Thrown on every refused allocation: a constant, not an Error (capturing a stack each time is slow).
      if (memory.buffer.byteLength + pages * WASM_PAGE_BYTES > budget()) {
        refused();
        throw OVER_BUDGET;
      }
      return grow(pages);
    },
  });
  return memory;
}

const SCRIPT_FILENAME = 'script.ts';
const WASM_PAGE_BYTES = 64 * 1024;
/** The module's initial memory (its data, stack and first heap) and its own maximum (2 GiB). */
const WASM_INITIAL_BYTES = 16 * 1024 * 1024;
const WASM_MAX_PAGES = 32 * 1024;
/** Room for the module, its runtimes and contexts, on top of the sandboxes' limits. */
const MODULE_HEADROOM_BYTES = WASM_INITIAL_BYTES + 8 * 1024 * 1024;
/** Promise jobs run between two checks of the deadline. */
const JOB_BATCH = 1024;
/** How often a running script's memory is measured exactly (it costs about 15 ns per object). */
const MEMORY_CHECK_MS = 50;
/** A runtime and its context before the script allocates anything. */
const RUNTIME_OVERHEAD_BYTES = 1024 * 1024;
const VALUE_PREFIX = '{"ok":true,"value":';
const DESCRIBE_HEADROOM_BYTES = 4 * 1024 * 1024;

/** The glue parts behind the injected globals and the error reader (see glue.ts). */
type GluePart = 'tools' | 'io' | 'describe';
const PART_SOURCES: Readonly<Record<GluePart, string>> = {
  tools: TOOLS_SOURCE,
  io: IO_SOURCE,
  describe: DESCRIBE_SOURCE,
};

/** What the host functions of a booted sandbox do for the script running in it now. */
interface ScriptHooks {
  call(id: QuickJSHandle, name: QuickJSHandle, args: QuickJSHandle): QuickJSHandle;
  emit(kind: QuickJSHandle, level: QuickJSHandle, text: QuickJSHandle): void;
  load(name: QuickJSHandle): QuickJSHandle;
  interrupt(): boolean;
}

/**
 * A runtime + context with the boot glue evaluated: code generation removed, intrinsics frozen,
 * the injected globals in place. Its host functions and interrupt handler serve whichever script
 * runs in it now (`hooks`), so a booted sandbox can be snapshotted and restored between scripts
 * (snapshot.ts) as well as used once and disposed (`runInFreshContext`).
 */
export interface BootedSandbox {
  readonly holder: QuickJSModuleHolder;
  readonly module: QuickJSWASMModule;
  readonly runtime: QuickJSRuntime;
  readonly context: QuickJSContext;
  readonly hostCall: QuickJSHandle;
  readonly hostEmit: QuickJSHandle;
  /** The glue's `run(fn, runJson)`. */
  readonly runFn: QuickJSHandle;
  /** Parts compiled at boot; a script compiles the others when it first needs them. */
  readonly parts: ReadonlyMap<GluePart, QuickJSHandle>;
  /** Handles that live as long as the sandbox. */
  readonly handles: readonly QuickJSHandle[];
  hooks: ScriptHooks | undefined;
}

/**
 * Boots a sandbox on `module`. With `compileParts`, every glue part is compiled now (a sandbox
 * that is snapshotted pays for them once, not per script); otherwise each script compiles the
 * parts it uses. Returns undefined when the glue could not be evaluated (the module is out of
 * memory); throws when the engine itself fails.
 */
export function bootSandbox(
  holder: QuickJSModuleHolder,
  module: QuickJSWASMModule,
  compileParts: boolean,
): BootedSandbox | undefined {
  const runtime = module.newRuntime();
  let context: QuickJSContext;
  try {
    context = runtime.newContext();
  } catch (error) {
    runtime.dispose();
    throw error;
  }
  const handles: QuickJSHandle[] = [];
  let hooks: ScriptHooks | undefined;
  runtime.setInterruptHandler(() => hooks?.interrupt() ?? false);
  const hostCall = context.newFunction('hostCall', (id, name, args) =>
    hooks === undefined ? context.undefined : hooks.call(id, name, args),
  );
  const hostEmit = context.newFunction('hostEmit', (kind, level, text) => hooks?.emit(kind, level, text));
  const hostLoad = context.newFunction('hostLoad', (name) =>
    hooks === undefined ? context.undefined : hooks.load(name),
  );
  handles.push(hostCall, hostEmit, hostLoad);
  // quickjs-emscripten creates this handle on first use; created now, so that a snapshot holds it.
  void context.global;
  const parts = new Map<GluePart, QuickJSHandle>();
  const compile = (source: string): QuickJSHandle | undefined => {
    const compiled = context.evalCode(source, GLUE_FILENAME, { type: 'global', strict: true });
    if (compiled.error) {
      compiled.error.dispose();
      return undefined;
    }
    handles.push(compiled.value);
    return compiled.value;
  };
  const fail = (): undefined => {
    for (const handle of handles) if (handle.alive) handle.dispose();
    disposeQuietly(context, runtime);
    return undefined;
  };
  const factory = compile(BOOT_SOURCE);
  if (factory === undefined) return fail();
  const booted = context.callFunction(factory, context.undefined, hostLoad);
  if (booted.error) {
    booted.error.dispose();
    return fail();
  }
  handles.push(booted.value);
  if (compileParts) {
    for (const part of Object.keys(PART_SOURCES) as GluePart[]) {
      const compiled = compile(PART_SOURCES[part]);
      if (compiled === undefined) return fail();
      parts.set(part, compiled);
    }
  }
  return {
    holder,
    module,
    runtime,
    context,
    hostCall,
    hostEmit,
    runFn: booted.value,
    parts,
    handles,
    get hooks() {
      return hooks;
    },
    set hooks(value) {
      hooks = value;
    },
  };
}

/** Disposes a booted sandbox; false when disposal failed inside the engine (the module must go). */
export function disposeSandbox(sandbox: BootedSandbox): boolean {
  sandbox.hooks = undefined;
  try {
    for (const handle of sandbox.handles) if (handle.alive) handle.dispose();
  } catch {
    return false;
  }
  return disposeQuietly(sandbox.context, sandbox.runtime);
}

/**
 * Executes `request` to completion in a fresh runtime and context on `module`, then disposes both.
 * Never throws for anything the script does.
 */
export async function runInFreshContext(
  holder: QuickJSModuleHolder,
  module: QuickJSWASMModule,
  limits: SandboxLimits,
  request: RunRequest,
  bridge: HostBridge,
  signal: AbortSignal,
): Promise<RunOutcome> {
  const release = holder.reserve(sandboxReservation(limits));
  try {
    const sandbox = bootSandbox(holder, module, false);
    if (sandbox === undefined) {
      return { ok: false, error: { code: 'INTERNAL', message: 'the sandbox could not be initialised' } };
    }
    const outcome = await runInSandbox(sandbox, limits, request, bridge, signal);
    // A runtime the engine could not free keeps its memory inside the module: replace the module.
    if (!holder.isPoisoned(module) && !disposeSandbox(sandbox)) holder.poison(module);
    return outcome;
  } finally {
    release();
  }
}

/** The memory a sandbox's script may use, plus what the engine needs around it. */
export function sandboxReservation(limits: SandboxLimits): number {
  return limits.memoryBytes + DESCRIBE_HEADROOM_BYTES + RUNTIME_OVERHEAD_BYTES;
}

/**
 * Runs `request` to completion in a booted sandbox and leaves the sandbox for the caller to dispose
 * or restore. Never throws for anything the script does. When the engine itself fails, the
 * sandbox's module is marked poisoned (`holder.isPoisoned`) and nothing may call into it again.
 */
export async function runInSandbox(
  sandbox: BootedSandbox,
  limits: SandboxLimits,
  request: RunRequest,
  bridge: HostBridge,
  signal: AbortSignal,
): Promise<RunOutcome> {
  const { holder, module, runtime, context } = sandbox;
  runtime.setMemoryLimit(limits.memoryBytes);
  runtime.setMaxStackSize(limits.stackBytes);
  let deadline = Date.now() + request.timeoutMs;
  let heldSince: number | undefined;
  let interrupted = false;
  let overMemory = false;
  let nextMemoryCheck = Date.now() + MEMORY_CHECK_MS;
  let checkedMemoryBytes = holder.memoryBytes;
  const interrupt = (): boolean => {
    if (interrupted) return true;
    const now = Date.now();
    if (signal.aborted || (heldSince === undefined && now > deadline)) interrupted = true;
    else if (now >= nextMemoryCheck || holder.memoryBytes > checkedMemoryBytes) {
      // QuickJS's own limit misses most allocations in this build (see QuickJSModuleHolder): measure,
      // now and then and whenever the module's memory grew.
      const used = memoryInUse(context);
      // Measuring walks every object: the next measurement waits long enough to keep it cheap.
      nextMemoryCheck = Date.now() + Math.max(MEMORY_CHECK_MS, (Date.now() - now) * 20);
      checkedMemoryBytes = holder.memoryBytes;
      overMemory = interrupted = used > limits.memoryBytes;
    }
    return interrupted;
  };
  const pending = new Set<QuickJSDeferredPromise>();
  let disposed = false;
  /** Set once the script has failed and its error is being read. */
  let ended = false;
  let poisoned = false;
  let wake: (() => void) | undefined;
  const handles: QuickJSHandle[] = [];
  const control: DeadlineControl = {
    hold() {
      if (heldSince !== undefined || disposed) return;
      heldSince = Date.now();
      wake?.();
    },
    release() {
      if (heldSince === undefined || disposed) return;
      deadline += Date.now() - heldSince;
      heldSince = undefined;
      bridge.started(deadline, control);
      wake?.();
    },
  };
  bridge.started(deadline, control);
  const track = (handle: QuickJSHandle) => {
    handles.push(handle);
    return handle;
  };

  const classify = (fallback: GuestErrorInfo['code'], name: string, message: string): GuestErrorInfo['code'] => {
    if (interrupted) return overMemory ? 'MEMORY_LIMIT' : signal.aborted ? abortCode(signal) : 'TIMEOUT';
    if (name === 'InternalError' && message === 'out of memory') return 'MEMORY_LIMIT';
    // When QuickJS runs out of memory while building the "out of memory" error itself (many small
    // allocations filled the heap to the last byte), the exception it leaves is a bare null.
    if (name === 'null') return 'MEMORY_LIMIT';
    // QuickJS reports native recursion limits as InternalError, RangeError or (in JSON.parse) SyntaxError.
    if (/^(?:InternalError|RangeError|SyntaxError)$/.test(name) && /^stack overflow$|call stack size/i.test(message)) {
      return 'STACK_OVERFLOW';
    }
    return fallback;
  };
  const timeoutOutcome = (): RunOutcome => ({
    ok: false,
    error: { code: 'TIMEOUT', message: timeoutMessage(request.timeoutMs) },
  });
  /** Why the interrupt handler stopped the script: memory, cancellation, or the deadline. */
  const interruptedOutcome = (): RunOutcome => {
    const code = classify('TIMEOUT', '', '');
    return { ok: false, error: { code, message: describeMessage(code, '', abortMessage(signal), request.timeoutMs) } };
  };

  // Refusals of memory growth seen before the current stretch of engine work (only this script runs
  // in the engine between two awaits, so a refusal after this mark was its own).
  let refusalsBefore = holder.refusals;
  const settle = (deferred: QuickJSDeferredPromise, reply: string) => {
    if (disposed || !pending.delete(deferred)) return;
    // A module that faulted under another script is not called again; the loop stops this script.
    if (!holder.isPoisoned(module)) {
      const replyHandle = context.newString(reply);
      deferred.resolve(replyHandle);
      replyHandle.dispose();
    }
    wake?.();
  };
  // The caps, and the seed of the script's Math.random (see BOOT_SOURCE).
  const runJson = track(context.newString(JSON.stringify({ ...request.caps, seed: randomSeed() })));
  // Parts this script had to compile (the sandbox was booted without them), and parts made for it.
  const compiledHere = new Map<GluePart, QuickJSHandle>();
  const made = new Map<GluePart, QuickJSHandle>();
  const partFactory = (part: GluePart): QuickJSHandle | undefined => {
    const ready = sandbox.parts.get(part) ?? compiledHere.get(part);
    if (ready !== undefined) return ready;
    const compiled = context.evalCode(PART_SOURCES[part], GLUE_FILENAME, { type: 'global', strict: true });
    if (compiled.error) {
      compiled.error.dispose();
      return undefined;
    }
    compiledHere.set(part, track(compiled.value));
    return compiled.value;
  };
  const makePart = (part: 'tools' | 'io'): QuickJSHandle | undefined => {
    const cached = made.get(part);
    if (cached !== undefined) return cached;
    const factory = partFactory(part);
    if (factory === undefined) return undefined;
    const data = track(
      context.newString(
        part === 'tools'
          ? JSON.stringify({ names: request.toolNames, budget: toolCallBudget(request.contextJson) })
          : request.contextJson,
      ),
    );
    const result = context.callFunction(
      factory,
      context.undefined,
      part === 'tools' ? sandbox.hostCall : sandbox.hostEmit,
      data,
      runJson,
    );
    if (result.error) {
      result.error.dispose();
      return undefined;
    }
    made.set(part, track(result.value));
    return result.value;
  };
  sandbox.hooks = {
    interrupt,
    call(idHandle, nameHandle, argsHandle) {
      const deferred = context.newPromise();
      if (ended) {
        pending.add(deferred);
        settle(deferred, '{"ok":false,"error":{"code":"CANCELLED","message":"the script has ended"}}');
        return deferred.handle;
      }
      try {
        const callId = context.getNumber(idHandle);
        const name = context.getString(nameHandle);
        const argsJson = context.getString(argsHandle);
        pending.add(deferred);
        bridge.callTool(callId, name, argsJson).then(
          (reply) => settle(deferred, reply),
          () =>
            settle(
              deferred,
              '{"ok":false,"error":{"code":"INTERNAL","message":"the host failed to answer the tool call"}}',
            ),
        );
      } catch {
        settle(deferred, '{"ok":false,"error":{"code":"INTERNAL","message":"the tool call could not be made"}}');
      }
      return deferred.handle;
    },
    emit(kindHandle, levelHandle, textHandle) {
      if (ended) return;
      try {
        const kind = context.getString(kindHandle) === 'progress' ? 'progress' : 'console';
        bridge.emit(kind, context.getString(levelHandle), context.getString(textHandle));
      } catch {
        // A listener's failure is the host's problem, never the script's.
      }
    },
    load(nameHandle) {
      // Called from wherever the script first reads the global, possibly at the edge of the stack:
      // a failure here is the script's (the getter reports it and retries on next use), never the host's.
      try {
        const name = context.getString(nameHandle);
        const exports = makePart(name === 'console' || name === 'context' ? 'io' : 'tools');
        return exports === undefined ? context.undefined : context.getProp(exports, name);
      } catch {
        return context.undefined;
      }
    },
  };

  try {
    const errorOutcome = (envelope: Envelope | undefined, fallback: GuestErrorInfo['code']): RunOutcome => {
      if (envelope === undefined) {
        const code = classify(fallback, '', '');
        return {
          ok: false,
          error: { code, message: code === 'TIMEOUT' ? timeoutMessage(request.timeoutMs) : 'the script failed' },
        };
      }
      const name = envelope.name ?? 'Error';
      const message = envelope.message ?? '';
      const code = classify(
        envelope.code !== undefined && isGuestCode(envelope.code) ? envelope.code : fallback,
        name,
        message,
      );
      const frames = scriptFrames(envelope.stack, request.lineOffset);
      const position = frames[0];
      const error: GuestErrorInfo = {
        code,
        message: describeMessage(code, name, message, request.timeoutMs),
        ...(envelope.preview === undefined ? {} : { details: { truncated: true, preview: envelope.preview } }),
        ...(position === undefined
          ? {}
          : { line: position.line, ...(position.column === undefined ? {} : { column: position.column }) }),
        ...(frames.length > 0 ? { stack: `${name}: ${message}\n${frames.map((f) => f.text).join('\n')}` } : {}),
      };
      return { ok: false, error };
    };
    // The error reader runs on the failure path only; see DESCRIBE_SOURCE.
    const describeHandle = (handle: QuickJSHandle, fallback: GuestErrorInfo['code']): RunOutcome => {
      if (interrupted) return interruptedOutcome();
      // Reading the error may run code of the script (Proxy traps): from here on it reaches nothing.
      ended = true;
      // The script is over; give the error reader headroom in case the failure was running out of memory.
      runtime.setMemoryLimit(limits.memoryBytes + DESCRIBE_HEADROOM_BYTES);
      const describeFn = partFactory('describe');
      if (describeFn === undefined) return errorOutcome(undefined, fallback);
      const toolsPart = made.get('tools');
      const toolErrorClass = toolsPart === undefined ? undefined : track(context.getProp(toolsPart, 'ToolError'));
      const described = context.callFunction(
        describeFn,
        context.undefined,
        handle,
        toolErrorClass ?? context.undefined,
      );
      if (described.error) {
        described.error.dispose();
        return errorOutcome(undefined, fallback);
      }
      const text = context.typeof(described.value) === 'string' ? context.getString(described.value) : undefined;
      described.value.dispose();
      return errorOutcome(text === undefined ? undefined : (JSON.parse(text) as Envelope), fallback);
    };

    // Compile the script. A syntax error here carries the engine's position.
    const compiled = context.evalCode(request.code, SCRIPT_FILENAME, { type: 'global', strict: true });
    if (compiled.error) {
      const outcome = describeHandle(compiled.error, 'SYNTAX_ERROR');
      compiled.error.dispose();
      return outcome;
    }
    const scriptFn = track(compiled.value);
    const started = context.callFunction(sandbox.runFn, context.undefined, scriptFn, runJson);
    if (started.error) {
      const outcome = describeHandle(started.error, 'GUEST_ERROR');
      started.error.dispose();
      return outcome;
    }
    const resultPromise = track(started.value);

    for (;;) {
      // Another script on this thread's module made it fault (inline mode runs many at once): its
      // state cannot be trusted, so this script ends here without calling into it again.
      if (holder.isPoisoned(module)) {
        poisoned = true;
        return {
          ok: false,
          error: {
            code: 'INTERNAL',
            message: 'the QuickJS engine failed under another script; this script was stopped',
          },
        };
      }
      // In batches: an interrupted job only rejects its own promise, so a script that keeps queueing
      // jobs would keep one unbounded call busy long past its deadline.
      const jobs = runtime.executePendingJobs(JOB_BATCH);
      if (heldSince === undefined && Date.now() > deadline) interrupted = true;
      if (jobs.error) {
        const outcome = describeHandle(jobs.error, 'GUEST_ERROR');
        jobs.error.dispose();
        return outcome;
      }
      if (interrupted) return interruptedOutcome();
      // The deadline covers every job the script queued, including those after its return value.
      if (runtime.hasPendingJob()) continue;
      const state = context.getPromiseState(resultPromise);
      if (state.type === 'fulfilled') {
        const text = context.typeof(state.value) === 'string' ? context.getString(state.value) : '';
        state.value.dispose();
        // The glue builds success envelopes as '{"ok":true}' or '{"ok":true,"value":<json>}'.
        if (text === '{"ok":true}') return { ok: true, valueJson: undefined };
        if (text.startsWith(VALUE_PREFIX)) return { ok: true, valueJson: text.slice(VALUE_PREFIX.length, -1) };
        return errorOutcome(text === '' ? undefined : (JSON.parse(text) as Envelope), 'GUEST_ERROR');
      }
      if (state.type === 'rejected') {
        const outcome = describeHandle(state.error, 'GUEST_ERROR');
        state.error.dispose();
        return outcome;
      }
      if (runtime.hasPendingJob()) continue;
      if (pending.size === 0) {
        return {
          ok: false,
          error: {
            code: 'UNSETTLED_PROMISE',
            message: 'the script is waiting for a promise that nothing can settle (no tool call is running)',
          },
        };
      }
      // Wait for a tool call to answer, the deadline, or cancellation.
      if (signal.aborted) return { ok: false, error: { code: abortCode(signal), message: abortMessage(signal) } };
      // While the clock is held (an approval is pending) there is no deadline to wait for.
      const remaining = heldSince === undefined ? deadline - Date.now() : Number.POSITIVE_INFINITY;
      if (remaining <= 0) return timeoutOutcome();
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          wake = undefined;
          resolve();
        };
        const timer = Number.isFinite(remaining) ? setTimeout(done, remaining) : undefined;
        wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
      if (signal.aborted) return { ok: false, error: { code: abortCode(signal), message: abortMessage(signal) } };
      if (heldSince === undefined && Date.now() >= deadline && pending.size > 0) return timeoutOutcome();
      refusalsBefore = holder.refusals;
    }
  } catch (error) {
    // The engine itself failed mid-call (never a script fault the engine could report): the
    // WebAssembly instance is in an unknown state, so it is abandoned, not disposed.
    poisoned = true;
    holder.poison(module);
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      return {
        ok: false,
        error: { code: 'STACK_OVERFLOW', message: 'the script overflowed the stack (recursion too deep)' },
      };
    }
    if (interrupted) return interruptedOutcome();
    // QuickJS can fail an internal check when it runs out of memory inside promise jobs.
    if (holder.refusals > refusalsBefore) {
      return { ok: false, error: { code: 'MEMORY_LIMIT', message: describeMessage('MEMORY_LIMIT', '', '', 0) } };
    }
    return { ok: false, error: { code: 'INTERNAL', message: 'the QuickJS runtime failed while running the script' } };
  } finally {
    disposed = true;
    sandbox.hooks = undefined;
    if (!poisoned) {
      try {
        for (const deferred of pending) deferred.dispose();
        for (const handle of handles) if (handle.alive) handle.dispose();
      } catch {
        holder.poison(module);
      }
    }
    pending.clear();
  }
}

/** Random words drawn from the system in batches: one draw per script would cost more than the seeding. */
const seedWords = new Uint32Array(1024);
let seedOffset = seedWords.length;

/** Four random 32-bit words, not all zero (the one state xoshiro128** never leaves). */
function randomSeed(): number[] {
  if (seedOffset === seedWords.length) {
    crypto.getRandomValues(seedWords);
    seedOffset = 0;
  }
  const words = Array.from(seedWords.subarray(seedOffset, seedOffset + 4));
  seedOffset += 4;
  if (!words.some((word) => word !== 0)) words[0] = 1;
  return words;
}

/** The parts of quickjs-emscripten's `QuickJSContext` (0.32, pinned) that `memoryInUse` needs. */
interface ContextInternals {
  readonly ffi: { QTS_RuntimeComputeMemoryUsage(rt: unknown, ctx: unknown): unknown };
  readonly ctx: { readonly value: unknown };
  readonly rt: { readonly value: unknown };
  readonly memory: { heapValueHandle(pointer: unknown): QuickJSHandle };
}

/**
 * Bytes the runtime's objects, strings, buffers and code take, computed by walking them.
 *
 * Not `runtime.computeMemoryUsage()`: quickjs-emscripten creates a hidden "system" context in the
 * runtime the first time that is called and keeps a pointer to it on the host. In a warm sandbox it
 * would be created after the snapshot and freed by the next restore, and every later measurement
 * would hand QuickJS a freed context whose bytes the next script controls. The measurement is made
 * in the script's own context instead; the object it returns never reaches the script. A failure
 * here is the engine's and propagates: the run ends and the module is dropped.
 */
function memoryInUse(context: QuickJSContext): number {
  const { ffi, ctx, rt, memory } = context as unknown as ContextInternals;
  const usage = memory.heapValueHandle(ffi.QTS_RuntimeComputeMemoryUsage(rt.value, ctx.value));
  try {
    const used = context.getProp(usage, 'memory_used_size');
    try {
      return context.getNumber(used);
    } finally {
      used.dispose();
    }
  } finally {
    usage.dispose();
  }
}

/** The tool-call budget the harness announces in `context.limits.maxToolCalls`, if any. */
function toolCallBudget(contextJson: string): number | undefined {
  try {
    const budget = (JSON.parse(contextJson) as { limits?: { maxToolCalls?: unknown } } | null)?.limits?.maxToolCalls;
    return typeof budget === 'number' && Number.isSafeInteger(budget) && budget >= 0 ? budget : undefined;
  } catch {
    return undefined;
  }
}

/** False when disposal failed inside the engine (after an out-of-memory, or an engine assertion). */
function disposeQuietly(context: QuickJSContext, runtime: QuickJSRuntime): boolean {
  try {
    context.dispose();
    runtime.dispose();
    return true;
  } catch {
    return false;
  }
}

const GUEST_CODES = new Set([
  'TOOL_NOT_FOUND',
  'TOOL_VALIDATION',
  'TOOL_ERROR',
  'TOOL_BUDGET',
  'APPROVAL_DENIED',
  'APPROVAL_TIMEOUT',
  'POLICY_DENIED',
  'SERIALIZATION',
  'OUTPUT_LIMIT',
  'TIMEOUT',
  'CANCELLED',
  'DETACHED_PROMISE',
  'INTERNAL',
]);

function isGuestCode(code: string): code is GuestErrorInfo['code'] {
  return GUEST_CODES.has(code);
}

function abortCode(signal: AbortSignal): GuestErrorInfo['code'] {
  const code = (signal.reason as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && isGuestCode(code) ? code : 'CANCELLED';
}

function abortMessage(signal: AbortSignal): string {
  const message = (signal.reason as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : 'the script was stopped';
}

function describeMessage(code: GuestErrorInfo['code'], name: string, message: string, timeoutMs: number): string {
  switch (code) {
    case 'MEMORY_LIMIT':
      return 'the script ran out of memory (memory limit reached)';
    case 'STACK_OVERFLOW':
      return 'the script overflowed the stack (recursion too deep)';
    case 'TIMEOUT':
      return timeoutMessage(timeoutMs);
    case 'GUEST_ERROR':
    case 'SYNTAX_ERROR':
      // The error's own class says what kind of failure it was; tool errors already carry a code.
      return name === 'Uncaught' ? `uncaught: ${message}` : `${name}: ${message}`;
    default:
      return message;
  }
}

function timeoutMessage(timeoutMs: number): string {
  return `the script ran past its ${timeoutMs} ms deadline`;
}
