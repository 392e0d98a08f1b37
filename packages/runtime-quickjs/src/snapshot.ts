/**
 * Sandboxes restored from a snapshot, and the per-thread engine that runs scripts in them.
 *
 * Booting a hardened sandbox (a runtime and context, the glue, every intrinsic frozen) costs about
 * four times what a bare runtime and context cost: freezing materialises every built-in function
 * QuickJS otherwise creates on first use, and the glue has to be compiled. Paying that for every
 * script is what kept the harness far from the engine's own speed.
 *
 * All of QuickJS's state lives in its WebAssembly memory. A warm sandbox is a module instance of
 * its own holding one booted sandbox; right after booting, the memory that holds state (static
 * data and the heap; the stack is dead between calls) is copied aside, and after every script it
 * is copied back. Every script therefore starts in a runtime and context bit for bit identical to
 * a freshly booted one: nothing a script did (globals, prototypes, pending jobs, the symbol
 * registry, the heap) survives into the next. Restoring copies a few hundred KB, about 15 µs.
 *
 * A warm sandbox runs one script at a time. Scripts that find none idle (in inline mode many run
 * at once, interleaved at their awaits) boot a fresh runtime and context on the thread's shared
 * module, as before. A warm sandbox whose engine failed, or whose memory grew past a bound, is
 * dropped and another is booted in the background.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { HostBridge, RunOutcome, RunRequest, SandboxLimits } from '@script-harness/core';
import {
  type BootedSandbox,
  bootSandbox,
  type CompiledWasmModule,
  QuickJSModuleHolder,
  runInFreshContext,
  runInSandbox,
  sandboxReservation,
} from './engine.ts';

/** Where QuickJS keeps state in its WebAssembly memory. */
export interface MemoryLayout {
  /** End of the static data (initialised data and zeroed statics): the stack's far end. */
  readonly staticEnd: number;
  /** Where the stack starts (it grows down towards `staticEnd`) and the heap begins. */
  readonly stackBase: number;
}

/**
 * The C stack of this QuickJS build (emscripten's STACK_SIZE): emscripten lays memory out as
 * static data, then the stack, then the heap.
 */
const BUILD_STACK_BYTES = 5 * 1024 * 1024;
/** A warm sandbox whose memory grew past this is dropped rather than kept (its pages stay resident). */
const MAX_REUSED_MEMORY_BYTES = 32 * 1024 * 1024;

/**
 * Reads the memory layout from the WebAssembly binary: the initial value of the stack pointer (the
 * first global) and the end of the data segments. Undefined when the binary does not look like the
 * layout expected, in which case no snapshots are taken.
 */
export function readMemoryLayout(bytes: Uint8Array): MemoryLayout | undefined {
  let offset = 8;
  /** A LEB128 number; `signed` for i32 constants, whose last byte carries the sign in bit 6. */
  const leb = (signed = false): number => {
    let result = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = bytes[offset++] ?? 0;
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return signed && byte & 0x40 ? result - 2 ** shift : result;
  };
  let stackBase: number | undefined;
  let dataEnd = 0;
  while (offset < bytes.length) {
    const section = bytes[offset++];
    const size = leb();
    const end = offset + size;
    if (section === 6) {
      // The first global: (global (mut i32) (i32.const STACK_BASE)).
      leb();
      const [type, mutable, opcode] = [bytes[offset], bytes[offset + 1], bytes[offset + 2]];
      offset += 3;
      if (type !== 0x7f || mutable !== 1 || opcode !== 0x41) return undefined;
      stackBase = leb(true);
    } else if (section === 11) {
      const count = leb();
      for (let index = 0; index < count; index++) {
        // Only active segments at a constant offset in memory 0 (flag 0).
        if (leb() !== 0 || bytes[offset++] !== 0x41) return undefined;
        const at = leb(true);
        if (bytes[offset++] !== 0x0b) return undefined;
        const length = leb();
        offset += length;
        dataEnd = Math.max(dataEnd, at + length);
      }
    }
    offset = end;
  }
  if (stackBase === undefined) return undefined;
  const staticEnd = stackBase - BUILD_STACK_BYTES;
  return staticEnd >= dataEnd && dataEnd > 0 ? { staticEnd, stackBase } : undefined;
}

export interface CompiledQuickJS {
  readonly module: CompiledWasmModule;
  readonly layout: MemoryLayout | undefined;
}

let compiled: Promise<CompiledQuickJS> | undefined;

/** The QuickJS WebAssembly module, compiled once per thread and instantiated by every holder. */
export function compiledQuickJS(): Promise<CompiledQuickJS> {
  compiled ??= (async () => {
    const path = createRequire(import.meta.url).resolve('@jitl/quickjs-wasmfile-release-sync/wasm');
    const bytes = readFileSync(path);
    const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<CompiledWasmModule> } })
      .WebAssembly;
    return { module: await wasm.compile(bytes), layout: readMemoryLayout(bytes) };
  })();
  return compiled;
}

const SCAN_CHUNK_BYTES = 64 * 1024;
const ZERO_CHUNK = Buffer.alloc(SCAN_CHUNK_BYTES);

/** One byte past the last non-zero byte at or above `from`. */
export function usedEnd(buffer: ArrayBuffer, from: number): number {
  // Whole chunks compared with memcmp first: the memory above the heap is megabytes of zeros.
  let end = buffer.byteLength;
  while (
    end - SCAN_CHUNK_BYTES >= from &&
    Buffer.from(buffer, end - SCAN_CHUNK_BYTES, SCAN_CHUNK_BYTES).equals(ZERO_CHUNK)
  ) {
    end -= SCAN_CHUNK_BYTES;
  }
  const bytes = new Uint8Array(buffer);
  while (end > from && bytes[end - 1] === 0) end--;
  return end;
}

/** Handles quickjs-emscripten (0.32) creates on a context the first time an API needs them. */
const LAZY_CONTEXT_HANDLES = ['_global', '_BigInt', '_Symbol', '_SymbolIterator', '_SymbolAsyncIterator'] as const;

/**
 * What of quickjs-emscripten's own host-side state points into the module's memory and is created
 * on first use: the runtime's hidden "system" context, its map of contexts, a context's cached
 * handles. A restore cannot roll these back, so a warm sandbox whose state changed during a script
 * (some API created one after the snapshot, and the restore just freed what it points at) is dropped.
 */
export function lazyHostState(sandbox: BootedSandbox): string {
  const runtime = sandbox.runtime as unknown as { context?: unknown; contextMap?: Map<unknown, unknown> };
  const context = sandbox.context as unknown as Record<string, unknown>;
  return [
    runtime.context !== undefined,
    runtime.contextMap?.size,
    ...LAZY_CONTEXT_HANDLES.map((name) => context[name] !== undefined),
  ].join();
}

/** A booted sandbox in a module instance of its own, restored from its snapshot after every script. */
export class WarmSandbox {
  readonly #holder: QuickJSModuleHolder;
  readonly #sandbox: BootedSandbox;
  readonly #layout: MemoryLayout;
  readonly #statics: Uint8Array;
  readonly #heap: Uint8Array;
  readonly #hostState: string;
  /** False once the sandbox must not run another script. */
  reusable = true;

  private constructor(holder: QuickJSModuleHolder, sandbox: BootedSandbox, layout: MemoryLayout, buffer: ArrayBuffer) {
    this.#holder = holder;
    this.#sandbox = sandbox;
    this.#layout = layout;
    // A fresh memory is zero beyond what was used, so the heap in use ends at its last non-zero byte
    // (at the least the allocator's own bookkeeping of its top chunk).
    this.#statics = new Uint8Array(buffer.slice(0, layout.staticEnd));
    this.#heap = new Uint8Array(buffer.slice(layout.stackBase, usedEnd(buffer, layout.stackBase)));
    this.#hostState = lazyHostState(sandbox);
  }

  /** Boots a sandbox in a new module instance and snapshots it; undefined when it cannot be booted. */
  static async create(quickjs: CompiledQuickJS): Promise<WarmSandbox | undefined> {
    const layout = quickjs.layout;
    if (layout === undefined) return undefined;
    const holder = new QuickJSModuleHolder({ wasmModule: quickjs.module });
    const module = await holder.get();
    const sandbox = bootSandbox(holder, module, true);
    const buffer = holder.memoryBuffer;
    if (sandbox === undefined || buffer === undefined) return undefined;
    return new WarmSandbox(holder, sandbox, layout, buffer);
  }

  /** Bytes copied back after every script. */
  get snapshotBytes(): number {
    return this.#statics.byteLength + this.#heap.byteLength;
  }

  async run(limits: SandboxLimits, request: RunRequest, bridge: HostBridge, signal: AbortSignal): Promise<RunOutcome> {
    const release = this.#holder.reserve(sandboxReservation(limits));
    try {
      return await runInSandbox(this.#sandbox, limits, request, bridge, signal);
    } finally {
      release();
      const holder = this.#holder;
      this.reusable =
        !holder.isPoisoned(this.#sandbox.module) &&
        holder.memoryBytes <= MAX_REUSED_MEMORY_BYTES &&
        lazyHostState(this.#sandbox) === this.#hostState;
      if (this.reusable) this.#restore();
    }
  }

  /** Whether the memory that holds state is byte for byte the snapshot (between scripts, always). */
  isPristine(): boolean {
    const buffer = this.#holder.memoryBuffer;
    if (buffer === undefined) return false;
    const statics = Buffer.from(buffer, 0, this.#statics.byteLength);
    const heap = Buffer.from(buffer, this.#layout.stackBase, this.#heap.byteLength);
    return statics.equals(this.#statics) && heap.equals(this.#heap);
  }

  #restore(): void {
    const buffer = this.#holder.memoryBuffer;
    if (buffer === undefined) throw new Error('a warm sandbox lost its memory');
    const memory = new Uint8Array(buffer);
    memory.set(this.#statics, 0);
    memory.set(this.#heap, this.#layout.stackBase);
  }
}

export interface QuickJSEngineStats {
  /** Scripts run in a warm sandbox restored from its snapshot. */
  readonly warmRuns: number;
  /** Scripts that found no warm sandbox idle and booted a fresh runtime and context. */
  readonly freshRuns: number;
  /** Warm sandboxes dropped (engine failure or grown memory) and booted again. */
  readonly warmReplaced: number;
  /** Warm sandboxes idle now. */
  readonly warmIdle: number;
}

/**
 * Runs scripts on one thread: in a warm sandbox when one is idle, otherwise in a fresh runtime and
 * context on the thread's shared module.
 */
export class QuickJSEngine {
  /** The shared module of fresh runtimes and contexts. */
  readonly holder: QuickJSModuleHolder;
  readonly #quickjs: CompiledQuickJS;
  readonly #warmTarget: number;
  readonly #idle: WarmSandbox[] = [];
  /** Warm sandboxes idle, running or booting. */
  #warmLive = 0;
  #warmRuns = 0;
  #freshRuns = 0;
  #warmReplaced = 0;
  #closed = false;

  private constructor(quickjs: CompiledQuickJS, warmSandboxes: number) {
    this.#quickjs = quickjs;
    this.#warmTarget = warmSandboxes;
    this.holder = new QuickJSModuleHolder({ wasmModule: quickjs.module });
  }

  /** Loads the shared module and boots `warmSandboxes` warm sandboxes. */
  static async create(warmSandboxes: number): Promise<QuickJSEngine> {
    const engine = new QuickJSEngine(await compiledQuickJS(), warmSandboxes);
    await engine.holder.get();
    await Promise.all(Array.from({ length: warmSandboxes }, () => engine.#bootWarm()));
    return engine;
  }

  /** Runs a script; `warm` says whether it ran in a warm sandbox. */
  async run(
    limits: SandboxLimits,
    request: RunRequest,
    bridge: HostBridge,
    signal: AbortSignal,
  ): Promise<{ readonly outcome: RunOutcome; readonly warm: boolean }> {
    const warm = this.#idle.pop();
    if (warm !== undefined) {
      this.#warmRuns++;
      try {
        return { outcome: await warm.run(limits, request, bridge, signal), warm: true };
      } finally {
        if (warm.reusable && !this.#closed) this.#idle.push(warm);
        else {
          this.#warmLive--;
          if (!this.#closed) {
            this.#warmReplaced++;
            void this.#bootWarm();
          }
        }
      }
    }
    this.#freshRuns++;
    const module = this.holder.ready ?? (await this.holder.get());
    return { outcome: await runInFreshContext(this.holder, module, limits, request, bridge, signal), warm: false };
  }

  stats(): QuickJSEngineStats {
    return {
      warmRuns: this.#warmRuns,
      freshRuns: this.#freshRuns,
      warmReplaced: this.#warmReplaced,
      warmIdle: this.#idle.length,
    };
  }

  /** Drops the warm sandboxes; scripts still running finish, in whatever sandbox they are in. */
  close(): void {
    this.#closed = true;
    this.#warmLive -= this.#idle.length;
    this.#idle.length = 0;
  }

  async #bootWarm(): Promise<void> {
    if (this.#warmLive >= this.#warmTarget) return;
    this.#warmLive++;
    let warm: WarmSandbox | undefined;
    try {
      warm = await WarmSandbox.create(this.#quickjs);
    } catch {
      warm = undefined;
    }
    // A sandbox that cannot be booted (no layout, no memory) is not retried: fresh contexts serve.
    if (warm === undefined || this.#closed) this.#warmLive--;
    else this.#idle.push(warm);
  }
}
