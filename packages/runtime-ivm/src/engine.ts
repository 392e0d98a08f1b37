/**
 * Runs scripts in fresh V8 isolates inside a child process (see child.ts).
 *
 * Every script gets a new `Isolate` with its own memory limit and a new context booted with the
 * guest glue; nothing of an earlier script exists in it, and it is disposed when the script ends.
 * Creating an isolate costs about a millisecond, so the factory keeps one isolate prepared ahead of
 * demand (created and booted once a script has ended, never used by anyone before); the next
 * script takes it when its memory limit matches, and otherwise gets a new one.
 *
 * Untrusted code only ever runs asynchronously, on isolated-vm's threads, while this thread keeps a
 * timer: at the deadline (or on abort) the isolate is disposed, which ends whatever runs in it.
 * Host calls cross as strings: the guest registers a tool call through a fire-and-forget reference
 * call, and the answer goes back through the glue's `deliver`, which resolves the call's promise
 * inside the isolate. After each step the glue's `status` says whether the script has ended and
 * how many calls it still awaits; that is how a promise nothing can settle is recognised.
 */
import type { ErrorCode, RunOutcome, RunRequest, SandboxLimits } from '@script-harness/core';
import type IsolatedVM from 'isolated-vm';
import { BOOT_SOURCE, GLUE_FILENAME } from './glue.ts';
import {
  envelopeOutcome,
  internal,
  MEMORY_MESSAGE,
  SCRIPT_FILENAME,
  syntaxErrorOutcome,
  timeoutMessage,
} from './outcome.ts';

export type IsolatedVMModule = typeof IsolatedVM;
type Reference = IsolatedVM.Reference;

/** Receives what the guest of one isolate sends; set while a script owns the isolate. */
interface IsolateOwner {
  onCall(callId: number, name: string, argsJson: string): void;
  onEmit(kind: string, level: string, text: string): void;
  onCatastrophe(message: string): void;
}

interface PreparedIsolate {
  readonly isolate: IsolatedVM.Isolate;
  readonly context: IsolatedVM.Context;
  readonly memoryBytes: number;
  /** The glue's entry point: `('start', …)`, `('deliver', …)`, `('status')`. */
  readonly glue: Reference;
  owner: IsolateOwner | undefined;
}

/** isolated-vm's memory limit is in whole megabytes, 8 at least. */
const MIN_MEMORY_MB = 8;
const MB = 1024 * 1024;

export class IsolateFactory {
  readonly #ivm: IsolatedVMModule;
  readonly #onUnownedCatastrophe: (message: string) => void;
  #spare: PreparedIsolate | undefined;
  #glueCache: IsolatedVM.ExternalCopy<ArrayBuffer> | undefined;
  #closed = false;

  constructor(ivm: IsolatedVMModule, onUnownedCatastrophe: (message: string) => void) {
    this.#ivm = ivm;
    this.#onUnownedCatastrophe = onUnownedCatastrophe;
  }

  /** A fresh isolate for a script: the spare when its memory limit matches, else a new one. */
  take(memoryBytes: number): PreparedIsolate {
    const spare = this.#spare;
    this.#spare = undefined;
    if (spare !== undefined) {
      if (spare.memoryBytes === memoryBytes && !spare.isolate.isDisposed) return spare;
      disposeQuietly(spare.isolate);
    }
    return this.#prepare(memoryBytes);
  }

  /** Prepares the next spare, for scripts like the last one, unless one is ready. */
  prepareSpare(memoryBytes: number): void {
    if (this.#closed || this.#spare !== undefined) return;
    try {
      this.#spare = this.#prepare(memoryBytes);
    } catch {
      // The next script prepares its own isolate and reports the failure.
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#spare !== undefined) disposeQuietly(this.#spare.isolate);
    this.#spare = undefined;
  }

  /**
   * Compiles the glue, from V8's code cache after the first time: parsing it costs more than a
   * third of creating the isolate, and it is the same source in every isolate of the process.
   */
  #compileGlue(isolate: IsolatedVM.Isolate): IsolatedVM.Script {
    const cachedData = this.#glueCache;
    const script = isolate.compileScriptSync(
      BOOT_SOURCE,
      cachedData === undefined
        ? { filename: GLUE_FILENAME, produceCachedData: true }
        : { filename: GLUE_FILENAME, cachedData },
    ) as IsolatedVM.Script & IsolatedVM.CachedDataResult & { cachedDataRejected?: boolean };
    if (cachedData === undefined) this.#glueCache = script.cachedData;
    else if (script.cachedDataRejected === true) this.#glueCache = undefined;
    return script;
  }

  #prepare(memoryBytes: number): PreparedIsolate {
    const ivm = this.#ivm;
    let prepared: PreparedIsolate | undefined;
    const isolate = new ivm.Isolate({
      memoryLimit: Math.max(MIN_MEMORY_MB, Math.ceil(memoryBytes / MB)),
      // V8 lost control of the isolate (an out-of-memory it could not recover from). isolated-vm
      // parks the isolate's thread instead of aborting the process; the process must be replaced.
      onCatastrophicError: (message: string) => {
        const owner = prepared?.owner;
        if (owner === undefined) this.#onUnownedCatastrophe(message);
        else owner.onCatastrophe(message);
      },
    });
    try {
      const context = isolate.createContextSync();
      const hostCall = new ivm.Reference((callId: unknown, name: unknown, argsJson: unknown) => {
        if (typeof callId === 'number' && typeof name === 'string' && typeof argsJson === 'string')
          prepared?.owner?.onCall(callId, name, argsJson);
      });
      const hostEmit = new ivm.Reference((kind: unknown, level: unknown, text: unknown) => {
        if (typeof kind === 'string' && typeof level === 'string' && typeof text === 'string')
          prepared?.owner?.onEmit(kind, level, text);
      });
      const boot = this.#compileGlue(isolate).runSync(context, { reference: true }) as Reference;
      const glue = boot.applySync(undefined, [hostCall, hostEmit, memoryBytes], {
        result: { reference: true },
      }) as Reference;
      prepared = { isolate, context, memoryBytes, glue, owner: undefined };
      return prepared;
    } catch (error) {
      disposeQuietly(isolate);
      throw error;
    }
  }
}

function disposeQuietly(isolate: IsolatedVM.Isolate): void {
  try {
    if (!isolate.isDisposed) isolate.dispose();
  } catch {
    // Already disposed (by a timer or a memory limit).
  }
}

/** What a running script sends out of the child. */
export interface ScriptChannel {
  started(deadline: number): void;
  call(callId: number, name: string, argsJson: string): void;
  emit(kind: 'console' | 'progress', level: string, text: string): void;
  /** V8 lost control of the script's isolate: the process must be replaced. */
  catastrophe(message: string): void;
}

type GlueStatus = [envelope: string | null, awaitedCalls: number, callsMade: number, linesEmitted: number];

/** One script in one fresh isolate, from compile to disposal. */
export class ScriptRun {
  readonly #factory: IsolateFactory;
  readonly #limits: SandboxLimits;
  readonly #request: RunRequest;
  readonly #channel: ScriptChannel;
  #prepared: PreparedIsolate | undefined;
  #deadline = 0;
  #heldSince: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Why the script was stopped from outside (deadline, abort, memory); wins over anything it reports. */
  #stopped: RunOutcome | undefined;
  #ended = false;
  /** V8 lost control of the isolate and isolated-vm parked its thread: the isolate is never touched again. */
  #parked = false;
  #replies: { callId: number; reply: string }[] = [];
  #callsSeen = 0;
  #linesSeen = 0;
  #wake: (() => void) | undefined;
  /** True while guest code may be running (an asynchronous step is in flight). */
  executing = false;

  constructor(factory: IsolateFactory, limits: SandboxLimits, request: RunRequest, channel: ScriptChannel) {
    this.#factory = factory;
    this.#limits = limits;
    this.#request = request;
    this.#channel = channel;
  }

  reply(callId: number, reply: string): void {
    this.#replies.push({ callId, reply });
    this.#wake?.();
  }

  hold(): void {
    if (this.#heldSince !== undefined || this.#stopped !== undefined || this.#ended) return;
    this.#heldSince = Date.now();
    clearTimeout(this.#timer);
  }

  release(): void {
    if (this.#heldSince === undefined || this.#stopped !== undefined || this.#ended) return;
    this.#deadline += Date.now() - this.#heldSince;
    this.#heldSince = undefined;
    this.#channel.started(this.#deadline);
    this.#arm();
  }

  abort(code: ErrorCode, message: string): void {
    this.#stop({ ok: false, error: { code, message } });
  }

  /**
   * Ends the script as `outcome` now: the isolate is disposed, whatever it was doing (except after
   * a catastrophe, when its thread is parked and the process is about to be replaced anyway).
   */
  #stop(outcome: RunOutcome, dispose = true): void {
    if (this.#stopped !== undefined || this.#ended) return;
    this.#stopped = outcome;
    clearTimeout(this.#timer);
    if (dispose && this.#prepared !== undefined) disposeQuietly(this.#prepared.isolate);
    this.#wake?.();
  }

  /** Frees the isolate; called once the outcome is on its way, so disposal is not on the reply's path. */
  dispose(): void {
    if (this.#prepared !== undefined && !this.#parked) disposeQuietly(this.#prepared.isolate);
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => {
        if (this.#heldSince !== undefined) return;
        if (Date.now() < this.#deadline) this.#arm();
        else this.#stop({ ok: false, error: { code: 'TIMEOUT', message: timeoutMessage(this.#request.timeoutMs) } });
      },
      Math.max(0, this.#deadline - Date.now()),
    );
  }

  async run(): Promise<RunOutcome> {
    const request = this.#request;
    let prepared: PreparedIsolate;
    try {
      prepared = this.#factory.take(this.#limits.memoryBytes);
    } catch {
      return internal('the V8 isolate for the script could not be created');
    }
    this.#prepared = prepared;
    prepared.owner = {
      onCall: (callId, name, argsJson) => {
        this.#callsSeen++;
        this.#wake?.();
        if (this.#stopped === undefined) this.#channel.call(callId, name, argsJson);
      },
      onEmit: (kind, level, text) => {
        this.#linesSeen++;
        this.#wake?.();
        if (this.#stopped === undefined) this.#channel.emit(kind === 'progress' ? 'progress' : 'console', level, text);
      },
      onCatastrophe: (message) => {
        this.#parked = true;
        this.#stop({ ok: false, error: { code: 'MEMORY_LIMIT', message: MEMORY_MESSAGE } }, false);
        this.#channel.catastrophe(message);
      },
    };
    this.#deadline = Date.now() + request.timeoutMs;
    this.#channel.started(this.#deadline);
    this.#arm();
    try {
      return await this.#execute(prepared);
    } finally {
      this.#ended = true;
      clearTimeout(this.#timer);
      prepared.owner = undefined;
    }
  }

  async #execute(prepared: PreparedIsolate): Promise<RunOutcome> {
    const request = this.#request;
    // Evaluating the wrapped source yields the script function; source that closes the wrapper
    // early runs here, so this step has the deadline as its timeout too.
    let scriptFunction: Reference;
    try {
      const script = prepared.isolate.compileScriptSync(request.code, { filename: SCRIPT_FILENAME });
      scriptFunction = script.runSync(prepared.context, {
        reference: true,
        timeout: Math.max(1, this.#deadline - Date.now()),
      }) as Reference;
      script.release();
    } catch (error) {
      if (this.#stopped !== undefined) return this.#stopped;
      const { name, message } = hostErrorFields(error);
      if (name === 'SyntaxError') return syntaxErrorOutcome(name, message, request.lineOffset);
      // V8's parser gives up on source nested deeper than its stack.
      if (name === 'RangeError' && message.startsWith('Maximum call stack size exceeded')) {
        return { ok: false, error: { code: 'STACK_OVERFLOW', message: 'the script is nested too deeply to compile' } };
      }
      return this.#stepFailure(message) ?? internal('the script could not be started');
    }
    const started = await this.#step(
      prepared.glue.apply(undefined, [
        'start',
        scriptFunction.derefInto(),
        JSON.stringify(request.toolNames),
        request.contextJson,
        JSON.stringify(request.caps),
      ]),
    );
    if (started !== undefined) return started;

    for (;;) {
      if (this.#stopped !== undefined) return this.#stopped;
      let status: GlueStatus;
      try {
        status = prepared.glue.applySync(undefined, ['status'], { result: { copy: true } }) as GlueStatus;
      } catch (error) {
        return this.#stopped ?? this.#stepFailure(hostErrorFields(error).message) ?? internal('the script was lost');
      }
      const [envelope, awaited, callsMade, linesEmitted] = status;
      // isolated-vm hands the guest's fire-and-forget calls to this thread in order, before the
      // step that made them completes; wait for them explicitly rather than rely on it.
      if (this.#callsSeen < callsMade || this.#linesSeen < linesEmitted) {
        await this.#sleep();
        continue;
      }
      if (envelope !== null) return envelopeOutcome(envelope, request.lineOffset, request.timeoutMs);
      if (this.#replies.length > 0) {
        const replies = this.#replies.splice(0);
        const delivered = await this.#step(
          prepared.glue.apply(undefined, ['deliver', replies.map((r) => r.callId), replies.map((r) => r.reply)], {
            arguments: { copy: true },
          }),
        );
        if (delivered !== undefined) return delivered;
        continue;
      }
      if (awaited === 0) {
        return {
          ok: false,
          error: {
            code: 'UNSETTLED_PROMISE',
            message: 'the script is waiting for a promise that nothing can settle (no tool call is running)',
          },
        };
      }
      await this.#sleep();
    }
  }

  /**
   * Runs one asynchronous step of guest code. Resolves to an outcome when the step ended the
   * script (stopped, out of memory), or to undefined when the script may go on.
   */
  async #step(pending: Promise<unknown>): Promise<RunOutcome | undefined> {
    this.executing = true;
    try {
      await pending;
      return this.#stopped;
    } catch (error) {
      if (this.#stopped !== undefined) return this.#stopped;
      // isolated-vm rejects a step with the first promise rejection nobody handled during it. The
      // script's own result is read from the glue, so such a rejection is not a failure.
      return this.#stepFailure(hostErrorFields(error).message);
    } finally {
      this.executing = false;
    }
  }

  /** The outcome a failed step means, or undefined when the isolate is alive and the script goes on. */
  #stepFailure(message: string): RunOutcome | undefined {
    const prepared = this.#prepared;
    if (prepared !== undefined && !prepared.isolate.isDisposed) {
      if (message === 'Script execution timed out.') {
        return { ok: false, error: { code: 'TIMEOUT', message: timeoutMessage(this.#request.timeoutMs) } };
      }
      return undefined;
    }
    if (/memory limit/.test(message)) return { ok: false, error: { code: 'MEMORY_LIMIT', message: MEMORY_MESSAGE } };
    return internal('the V8 isolate running the script was disposed unexpectedly');
  }

  /** Waits until something happens: a reply, a call or line from the guest, a stop. */
  #sleep(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = () => {
        this.#wake = undefined;
        resolve();
      };
    });
  }
}

/** Name and message of an error isolated-vm raised on this side (a plain copy; no guest code behind it). */
function hostErrorFields(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: typeof error === 'string' ? error : 'unknown failure' };
}
