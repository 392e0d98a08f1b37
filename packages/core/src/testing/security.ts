/**
 * The security suite: at least one test of our own for every item of the threat list that a
 * runtime has to withstand, each named with its S id and its threat number (S(20+N) for threat
 * N). `runtimeConformanceSuite` runs it, so every runtime (and every mode of a runtime) passes it.
 * The threats against tools and policy (21–26) and against log sinks (42) have their own tests in
 * those packages; the ones here are the parts that cross the engine.
 *
 * Every attack is checked for the same four outcomes:
 *   1. the host survives: no host exception or unhandled rejection, and the harness still answers;
 *   2. the result is the expected typed error, or a harmless value;
 *   3. nothing of the host shows: not the canary secret planted in the host environment (and in
 *      host paths of failing tools), not the host's directories, not `node:` internals or host
 *      stack frames — in the result, the console, the streamed events, the history items, the
 *      telemetry records, or the process's own output;
 *   4. the next script on the same harness runs clean: it sees exactly the sandbox a first script sees.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../errors.ts';
import type { ScriptEvent, ScriptResult } from '../harness.ts';
import type { Limits } from '../limits.ts';
import { executeMessage, type HistoryItem } from '../message.ts';
import type { HostBridge, RunOutcome, RuntimeAdapter } from '../runtime.ts';
import type { Telemetry } from '../telemetry.ts';
import {
  type AttackObservations,
  createSecurityHarness,
  HOST_VALUES,
  type HostValueKind,
  type SecurityHarness,
} from './attack-tools.ts';
import type { ConformanceOptions } from './conformance.ts';
import { CANARY_SECRET } from './fixtures.ts';

const MB = 1024 * 1024;

/** Host details that must never reach the script, the model or a log. */
const HOST_MARKERS = /node:internal|node_modules|\/srv\/host|file:\/\//;
/** A stack frame that points into the host: an absolute path, a `node:` module or a file URL. */
const HOST_FRAME = /\bat (?:async )?(?:[^\s()"']+ \()?(?:\/|node:|file:|[A-Za-z]:\\)/;

/** What of the host a text reveals, if anything. */
export function findHostLeak(text: string): string | undefined {
  if (text.includes(CANARY_SECRET)) return 'the canary secret';
  const root = process.cwd();
  if (root.length > 1 && text.includes(root)) return 'the host working directory';
  const marker = HOST_MARKERS.exec(text);
  if (marker !== null) return `a host marker (${marker[0]})`;
  const frame = HOST_FRAME.exec(text);
  if (frame !== null) return `a host stack frame (${frame[0]})`;
  return undefined;
}

/**
 * Run after every attack. Whatever the attack did, the next script must see exactly what a first
 * script sees: the same globals, prototypes and constructors, working tools, console and context.
 */
const PROBE = `const names = (o: object) => Reflect.ownKeys(o).map(String).sort().join();
const sum = await tools.add({ a: 20, b: 22 });
console.log('probe');
return { sum, globals: names(globalThis), object: names(Object.prototype), array: names(Array.prototype),
  fn: names(Function.prototype), error: names(Error), errorProto: names(Error.prototype), promise: names(Promise.prototype),
  json: names(JSON), math: names(Math), date: names(Date), map: names(Map), symbol: names(Symbol), regexp: names(RegExp),
  tools: names(tools), context: names(context), hook: typeof (Error as any).prepareStackTrace,
  limit: String((Error as any).stackTraceLimit), polluted: typeof ({} as any).polluted };`;

/**
 * Walks every object reachable from the global object (own keys, symbols, accessors, prototypes)
 * plus the injected values and a tool error, and returns the property and function names met on
 * the way and the strings held in data properties.
 */
const WALK = `async function walk() {
  const seen = new Set<unknown>(), names = new Set<string>(), strings = new Set<string>();
  let failure: unknown;
  try { await tools.fail({ message: 'walk' }); } catch (e) { failure = e; }
  const queue: unknown[] = [globalThis, tools, console, context, ToolError, ApprovalDeniedError, failure, await tools.echo({ value: { a: [1] } })];
  while (queue.length > 0 && seen.size < 50000) {
    const o = queue.pop();
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) continue;
    seen.add(o);
    let keys: (string | symbol)[] = [];
    try { keys = Reflect.ownKeys(o as object); } catch {}
    for (const key of keys) {
      names.add(String(key));
      let d: PropertyDescriptor | undefined;
      try { d = Reflect.getOwnPropertyDescriptor(o as object, key); } catch {}
      if (d === undefined) continue;
      for (const v of [d.value, d.get, d.set]) {
        if (typeof v === 'string') strings.add(v);
        else if (typeof v === 'function') { names.add(String(Reflect.getOwnPropertyDescriptor(v, 'name')?.value)); queue.push(v); }
        else if (typeof v === 'object') queue.push(v);
      }
    }
    try { queue.push(Reflect.getPrototypeOf(o as object)); } catch {}
  }
  return { names: [...names], strings: [...strings], objects: seen.size };
}`;

type Expected = readonly ErrorCode[] | { readonly value: unknown } | ((result: ScriptResult) => void);

interface AttackOptions {
  /** Another harness (other limits); by default the suite's own. */
  readonly on?: SecurityHarness;
  readonly limits?: Partial<Limits>;
  readonly signal?: AbortSignal;
  readonly language?: 'ts' | 'js';
}

interface Attacked {
  readonly result: ScriptResult;
  readonly elapsedMs: number;
  readonly events: readonly ScriptEvent[];
}

/** Plain JSON data all the way down: no prototypes but Object's and Array's, no accessors. */
function isPlainData(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return typeof value !== 'function' && typeof value !== 'symbol';
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== Array.prototype) return false;
  return Reflect.ownKeys(value).every((key) => {
    if (typeof key === 'symbol') return false;
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    return descriptor !== undefined && 'value' in descriptor && isPlainData(descriptor.value);
  });
}

function captureOutput(): { text(): string; restore(): void } {
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write);
  streams.forEach((stream, index) => {
    const original = writes[index] as typeof stream.write;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return Reflect.apply(original, stream, [chunk, ...rest]) as boolean;
    }) as typeof stream.write;
  });
  const levels = ['log', 'info', 'warn', 'error', 'debug'] as const;
  const originals = levels.map((level) => console[level]);
  levels.forEach((level, index) => {
    const original = originals[index] as (...args: unknown[]) => void;
    console[level] = (...args: unknown[]) => {
      chunks.push(args.map(String).join(' '));
      original.apply(console, args);
    };
  });
  return {
    text: () => chunks.join('\n'),
    restore() {
      streams.forEach((stream, index) => {
        stream.write = writes[index] as typeof stream.write;
      });
      levels.forEach((level, index) => {
        console[level] = originals[index] as (typeof console)[typeof level];
      });
    },
  };
}

function block(source: string, language: 'ts' | 'js'): string {
  return language === 'js' ? `\`\`\`js tool-calls\n${source}\n\`\`\`` : `<tool-calls>\n${source}\n</tool-calls>`;
}

function withoutSource(item: HistoryItem): unknown {
  // The model's own text is not the host's: only what the harness produced is searched.
  return item.type === 'script_tool_call' ? { ...item, source: '(source)' } : item;
}

const settle = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

export function runtimeSecuritySuite(name: string, options: ConformanceOptions): void {
  describe(`runtime security: ${name}`, () => {
    let runtime: RuntimeAdapter;
    let main: SecurityHarness;
    let baseline: unknown;
    const records: string[] = [];
    const hostFaults: unknown[] = [];
    const onFault = (error: unknown) => hostFaults.push(error);
    /** Every telemetry record, as the JSON an exporter would write. */
    const telemetry: Telemetry = {
      startScript(start) {
        records.push(JSON.stringify({ start: { scriptId: start.scriptId, runtime: start.runtime } }));
        return {
          startToolCall(call) {
            records.push(JSON.stringify({ toolCall: call }));
            return { end: (outcome) => records.push(JSON.stringify({ toolCallEnd: outcome })) };
          },
          end: (result) => records.push(JSON.stringify({ end: result })),
        };
      },
    };
    const fresh = (limits?: Partial<Limits>) =>
      createSecurityHarness(runtime, { telemetry, ...(limits === undefined ? {} : { limits }) });

    beforeAll(async () => {
      process.env.SCRIPT_HARNESS_TEST_CANARY = CANARY_SECRET;
      process.on('unhandledRejection', onFault);
      process.on('uncaughtException', onFault);
      runtime = await options.createRuntime();
      main = fresh();
      const first = await main.harness.run(PROBE);
      expect(first.error).toBeUndefined();
      baseline = first.value;
    });
    afterAll(async () => {
      process.off('unhandledRejection', onFault);
      process.off('uncaughtException', onFault);
      await runtime.close?.();
    });

    const expectNoLeak = (label: string, where: string, value: unknown) => {
      const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
      const leak = findHostLeak(text);
      expect(leak, `${label}\n→ ${where} reveals ${leak}`).toBeUndefined();
    };

    /** Outcome 4 (and 1): the harness answers, and the next script sees a pristine sandbox. */
    const expectCleanNext = async (target: SecurityHarness, label: string) => {
      const next = await target.harness.run(PROBE);
      expect(next.error, `${label}\n→ the next script failed`).toBeUndefined();
      expect(next.value, `${label}\n→ the next script saw a changed sandbox`).toEqual(baseline);
      expect(next.console.map((entry) => entry.text)).toEqual(['probe']);
      expectNoLeak(label, 'the next script', next);
    };

    /** Runs one attack as a model's message would, and checks the four outcomes. */
    async function attack(source: string, expected: Expected, attackOptions: AttackOptions = {}): Promise<Attacked> {
      const target = attackOptions.on ?? main;
      const label = source.length > 200 ? `${source.slice(0, 200)}…` : source;
      const events: ScriptEvent[] = [];
      const recordsBefore = records.length;
      const output = captureOutput();
      const started = Date.now();
      try {
        const execution = await executeMessage(target.harness, block(source, attackOptions.language ?? 'ts'), {
          run: {
            ...(attackOptions.limits === undefined ? {} : { limits: attackOptions.limits }),
            ...(attackOptions.signal === undefined ? {} : { signal: attackOptions.signal }),
            onEvent: (event) => events.push(event),
          },
        });
        const elapsedMs = Date.now() - started;
        expect(execution.results, `${label}\n→ the block did not run exactly once`).toHaveLength(1);
        const result = execution.results[0] as ScriptResult;
        // 2. The expected typed error, or a harmless value.
        if (typeof expected === 'function') expected(result);
        else if ('value' in expected) {
          expect(result.error, label).toBeUndefined();
          expect(result.value, label).toEqual(expected.value);
        } else {
          expect(result.ok, `${label}\n→ succeeded with ${JSON.stringify(result.value)?.slice(0, 200)}`).toBe(false);
          expect(expected, `${label}\n→ ${result.error?.message}`).toContain(result.error?.code);
        }
        // 3. Nothing of the host, anywhere.
        expectNoLeak(label, 'the result', result);
        expectNoLeak(label, 'the history', execution.items.map(withoutSource));
        expectNoLeak(label, 'the events', events);
        expectNoLeak(label, 'the telemetry', records.slice(recordsBefore));
        // 4. The next script runs clean (and 1: the harness still answers).
        await expectCleanNext(target, label);
        await settle();
        expectNoLeak(label, 'the process output', output.text());
        expect(hostFaults, `${label}\n→ the host saw an uncaught exception or rejection`).toEqual([]);
        return { result, elapsedMs, events };
      } finally {
        output.restore();
      }
    }

    /**
     * Runs code on the runtime directly, without preparation: the runtime's own defences must
     * hold for code the static check would have refused.
     */
    async function attackRaw(body: string, check: (outcome: RunOutcome) => void, timeoutMs = 1_000) {
      const seen: string[] = [];
      const bridge: HostBridge = {
        callTool: async (_id, tool, argsJson) => {
          seen.push(`${tool} ${argsJson}`);
          return '{"ok":true,"value":null}';
        },
        emit: (_kind, _level, text) => {
          seen.push(text);
        },
        started: () => {},
      };
      const sandbox = await runtime.createSandbox({ memoryBytes: 32 * MB, stackBytes: 512 * 1024 });
      let outcome: RunOutcome;
      try {
        outcome = await sandbox.run(
          {
            code: `(async function () {"use strict";\n${body}\n})`,
            lineOffset: 1,
            toolNames: ['echo'],
            contextJson: '{}',
            timeoutMs,
            caps: { outputChars: 64 * 1024, consoleLineChars: 2048, toolArgsChars: 64 * 1024 },
          },
          bridge,
          new AbortController().signal,
        );
      } finally {
        await sandbox.dispose();
      }
      check(outcome);
      expectNoLeak(body, 'the outcome', outcome);
      expectNoLeak(body, 'what reached the bridge', seen);
      await expectCleanNext(main, body);
      expect(hostFaults, body).toEqual([]);
      return outcome;
    }

    const valueIn = (result: ScriptResult) => {
      expect(result.error, JSON.stringify(result.error)).toBeUndefined();
      return result.value as never;
    };

    /** Waits for hooks that may have been queued to reach the host, then asserts none did. */
    const expectNoTicks = async (attacks: AttackObservations) => {
      await settle(30);
      expect(attacks.ticks).toEqual([]);
    };

    // ── A. Realm and object-graph escapes ────────────────────────────────────────────────────

    it('S21: constructor walks from every injected value, glue getter, tool result and error reach only the blocked guest Function (threat 1)', async () => {
      await attack(
        `const found: string[] = [];
let toolError: any, notFound: any, invalid: any;
try { await tools.fail({ message: 'x' }); } catch (e) { toolError = e; }
try { await (tools as any).nope({}); } catch (e) { notFound = e; }
try { await tools.add({ a: 'x' } as any); } catch (e) { invalid = e; }
const getter = (name: string) => Object.getOwnPropertyDescriptor(globalThis, name)!.get;
const echoed: any = await tools.echo({ value: { nested: [{ deep: true }] } });
const sources: Record<string, any> = { tools, add: tools.add, math: tools.math, multiply: tools.math.multiply, console,
  log: console.log, context, limits: context.limits, emitProgress: context.emitProgress, ToolError, ApprovalDeniedError,
  toolError, notFound, invalid, details: invalid.details, echoed, nested: echoed.value.nested[0], pending: tools.add({ a: 1, b: 1 }),
  toolsGetter: getter('tools'), consoleGetter: getter('console'), contextGetter: getter('context') };
for (const [label, start] of Object.entries(sources)) {
  try { found.push(label + ':' + String(start.constructor.constructor('return typeof process')())); }
  catch { found.push(label + ':blocked'); }
}
return found;`,
        (result) => {
          const found = valueIn(result) as string[];
          expect(found).toHaveLength(21);
          for (const entry of found) expect(entry).toMatch(/:blocked$/);
        },
      );
    });

    it('S22: every kind of live host value in a tool result arrives as frozen plain data or is refused (threat 2)', async () => {
      const kinds = Object.keys(HOST_VALUES) as HostValueKind[];
      const target = fresh();
      const { result } = await attack(
        `const plain = (o: any): boolean => o === null || typeof o !== 'object' || ((Object.getPrototypeOf(o) === Object.prototype || Object.getPrototypeOf(o) === Array.prototype)
  && Reflect.ownKeys(o).every((k) => typeof k === 'string' && 'value' in Object.getOwnPropertyDescriptor(o, k)! && plain(o[k])));
const out: Record<string, unknown> = {};
for (const kind of ${JSON.stringify(kinds)}) {
  try { const v: any = await (tools.attack.hostValue as any)({ kind }); out[kind] = { data: v, plain: plain(v), frozen: v === null || typeof v !== 'object' || Object.isFrozen(v) }; }
  catch (e: any) { out[kind] = e.code; }
}
return { out, polluted: [typeof ({} as any).polluted, typeof (Object.prototype as any).polluted] };`,
        (result) => expect(result.ok).toBe(true),
        { on: target },
      );
      const { out, polluted } = result.value as { out: Record<string, unknown>; polluted: string[] };
      for (const kind of kinds) {
        if (HOST_VALUES[kind] === 'refused') expect(out[kind], kind).toBe('SERIALIZATION');
        else expect(out[kind], kind).toMatchObject({ plain: true, frozen: true });
      }
      expect(out.date).toMatchObject({ data: '2030-01-02T03:04:05.000Z' });
      expect(out.getter).toMatchObject({ data: { computed: 'computed on the host' } });
      expect(out.arraySubclass).toMatchObject({ data: [1, 2, 3] });
      expect(out.buffer).toMatchObject({ data: { type: 'Buffer' } });
      expect(polluted).toEqual(['undefined', 'undefined']);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('S23: host errors thrown by tools (composite, with causes, secrets, host stacks, non-errors) reach the script as sanitised messages only (threat 3)', async () => {
      const { result } = await attack(
        `const out: unknown[] = [];
for (const kind of ['aggregate', 'suppressed', 'cause', 'props', 'object', 'string']) {
  try { await (tools.attack.hostError as any)({ kind }); out.push([kind, 'no error']); }
  catch (e: any) { out.push([kind, e.name, e.code, e.message, Object.keys(e).sort(), typeof e.cause, typeof e.errors, typeof e.secret, String(e.stack).split('\\n')[0]]); }
}
return out;`,
        (result) => expect(result.ok).toBe(true),
      );
      expect(result.value).toEqual([
        [
          'aggregate',
          'ToolError',
          'TOOL_ERROR',
          'several host failures',
          ['code'],
          'undefined',
          'undefined',
          'undefined',
          'ToolError: several host failures',
        ],
        [
          'suppressed',
          'ToolError',
          'TOOL_ERROR',
          'a failure while cleaning up',
          ['code'],
          'undefined',
          'undefined',
          'undefined',
          'ToolError: a failure while cleaning up',
        ],
        [
          'cause',
          'ToolError',
          'TOOL_ERROR',
          'the host failed',
          ['code'],
          'undefined',
          'undefined',
          'undefined',
          'ToolError: the host failed',
        ],
        [
          'props',
          'ToolError',
          'TOOL_ERROR',
          'the host failed',
          ['code'],
          'undefined',
          'undefined',
          'undefined',
          'ToolError: the host failed',
        ],
        [
          'object',
          'ToolError',
          'TOOL_ERROR',
          'unknown error',
          ['code'],
          'undefined',
          'undefined',
          'undefined',
          'ToolError: unknown error',
        ],
        [
          'string',
          'ToolError',
          'TOOL_ERROR',
          'the host failed at <path>',
          ['code'],
          'undefined',
          'undefined',
          'undefined',
          'ToolError: the host failed at <path>',
        ],
      ]);
    });

    it('S23: a host error raised while the engine copies a tool result (getter, toJSON, Proxy trap) reaches the script redacted (threat 3)', async () => {
      for (const kind of ['throwingGetter', 'throwingToJSON', 'throwingProxy']) {
        await attack(
          `try { await (tools.attack.hostError as any)({ kind: '${kind}' }); return 'no error'; } catch (e: any) { return [e.code, e.message]; }`,
          (result) => expect((valueIn(result) as string[])[0]).toBe('SERIALIZATION'),
        );
      }
    });

    it('S24: hostile thrown values are described from data only: no getter, trap, toString or toPrimitive of the script runs (threat 4)', async () => {
      const target = fresh();
      const hooks = `const tick = (hook: string) => { (tools.attack.tick as any)({ hook }); return hook; };`;
      for (const thrown of [
        `throw { get message() { return tick('message'); }, get name() { return tick('name'); }, get stack() { return tick('stack'); }, toString() { return tick('toString'); }, [Symbol.toPrimitive]() { return tick('toPrimitive'); } };`,
        `throw new Proxy(new Error('e'), { get(t, k) { tick('get'); return Reflect.get(t, k); }, getOwnPropertyDescriptor(t, k) { tick('gopd'); return Reflect.getOwnPropertyDescriptor(t, k); }, getPrototypeOf(t) { tick('proto'); return Reflect.getPrototypeOf(t); }, ownKeys(t) { tick('keys'); return Reflect.ownKeys(t); }, has(t, k) { tick('has'); return Reflect.has(t, k); } });`,
        `class E extends Error { get message() { return tick('inherited message'); } get name() { return tick('inherited name'); } } throw new E();`,
        `const e = new Error('m'); Object.defineProperty(e, 'stack', { get() { return tick('own stack'); } }); Object.defineProperty(e, 'name', { get() { return tick('own name'); } }); throw e;`,
        `const r = Proxy.revocable({}, {}); r.revoke(); throw r.proxy;`,
        `throw Object.create(null);`,
        `throw Symbol('thrown');`,
        `throw 10n ** 400n;`,
        `let e: any = new Error('root'); for (let i = 0; i < 10000; i++) e = new Error('level ' + i, { cause: e }); throw e;`,
      ]) {
        await attack(`${hooks}\n${thrown}`, ['GUEST_ERROR'], { on: target });
      }
      await expectNoTicks(target.attacks);
      const huge = await attack(`throw new TypeError('m'.repeat(1_000_000));`, ['GUEST_ERROR']);
      expect(huge.result.error?.message.length).toBeLessThanOrEqual(4096 + 64);
    });

    it('S25: Error.prepareStackTrace / captureStackTrace hijacks expose no host frame, function or receiver, and cannot forge the reported stack (threat 5)', async () => {
      const { result } = await attack(
        `const exposed: string[] = [];
const hook = (_error: unknown, frames: any) => {
  if (Array.isArray(frames)) for (const f of frames) {
    try { exposed.push('file:' + String(f.getFileName?.())); } catch {}
    try { const fn = f.getFunction?.(); if (fn !== undefined) exposed.push('fn:' + (fn.constructor === Function)); } catch {}
    try { const self = f.getThis?.(); if (self !== undefined && self !== globalThis) exposed.push('this:' + typeof self); } catch {}
  }
  return 'formatted by the script';
};
let installed: string;
try { (Error as any).prepareStackTrace = hook; installed = typeof (Error as any).prepareStackTrace; } catch { installed = 'refused'; }
let captured = 'absent';
try { if (typeof (Error as any).captureStackTrace === 'function') { const o: any = {}; (Error as any).captureStackTrace(o); captured = typeof o.stack; } } catch { captured = 'refused'; }
const stacks: string[] = [];
try { await tools.fail({ message: 'x' }); } catch (e: any) { stacks.push(String(e.stack)); }
try { await (tools as any).nope({}); } catch (e: any) { stacks.push(String(e.stack)); }
try { (null as any).x; } catch (e: any) { stacks.push(String(e.stack)); }
stacks.push(String(new Error('own').stack));
return { installed, captured, exposed, stacks };`,
        (result) => expect(result.ok).toBe(true),
      );
      const { exposed } = result.value as { exposed: string[] };
      for (const entry of exposed) {
        expect(entry).not.toMatch(/^this:/);
        expect(entry).not.toBe('fn:false');
      }
      // A formatter that throws, or that forges frames, changes nothing the host reports.
      for (const formatter of [
        `() => { throw new Error('formatter failed'); }`,
        `() => 'Error: forged\\n    at evil (/etc/host-file.js:1:1)\\n    at script.ts:999:1'`,
      ]) {
        const forged = await attack(
          `try { (Error as any).prepareStackTrace = ${formatter}; (Error as any).stackTraceLimit = Infinity; } catch {}
try { await tools.fail({ message: 'x' }); } catch {}
throw new Error('after the hook');`,
          ['GUEST_ERROR', 'TOOL_ERROR'],
        );
        for (const line of forged.result.error?.stack?.split('\n').slice(1) ?? []) {
          expect(line).toMatch(/^ {4}at script\.ts:\d+(?::\d+)?$/);
          expect(line).not.toContain('999');
        }
      }
    });

    it('S26: Symbol-named errors mint only guest-realm errors and are reported without running native formatting on the host (threat 6)', async () => {
      const named = `const e: any = new Error('m'); Object.defineProperty(e, 'name', { value: Symbol('evil') });`;
      const minted = await attack(
        `${named}
const realm = (x: any) => { try { x.constructor.constructor('return 1')(); return 'compiled'; } catch { return 'guest'; } };
const out: unknown[] = [];
try { String(e); } catch (x: any) { out.push([x instanceof TypeError, realm(x)]); }
try { \`\${e}\`; } catch (x: any) { out.push([x instanceof TypeError, realm(x)]); }
try { e.toString(); } catch (x: any) { out.push([x instanceof TypeError, realm(x)]); }
console.log(e); context.emitProgress(e);
out.push(await tools.echo({ value: e }));
try { await Promise.any([Promise.reject(e)]); } catch (x: any) { out.push([x.name, x.errors.length]); }
Promise.reject(e);
return out;`,
        (result) => expect(result.ok).toBe(true),
      );
      expect(minted.result.value).toEqual([
        [true, 'guest'],
        [true, 'guest'],
        [true, 'guest'],
        { value: {} },
        ['AggregateError', 1],
      ]);
      for (const source of [
        `${named} throw e;`,
        `${named} Object.defineProperty(e, 'message', { value: Symbol('m') }); throw e;`,
        `${named} await tools.add({ a: 1, b: 1 }).then(() => { throw e; });`,
        `${named} throw new AggregateError([e, e], 'several');`,
        `class X extends Error {} Object.defineProperty(X.prototype, 'name', { value: Symbol('proto') }); throw new X('y');`,
        `const e: any = new Error('m'); Object.defineProperty(e, 'name', { get() { return Symbol('getter'); } }); throw e;`,
      ]) {
        await attack(source, ['GUEST_ERROR']);
      }
    });

    it('S27: Proxies as tool arguments, results, console output and thrown values are serialised in the guest or refused; the host never meets a trap (threat 7)', async () => {
      const { result } = await attack(
        `const out: Record<string, unknown> = {};
const tryEcho = async (label: string, value: unknown) => { try { out[label] = await tools.echo({ value }); } catch (e: any) { out[label] = e.code; } };
await tryEcho('throwing', new Proxy({}, { get() { throw new Error('trap'); }, ownKeys() { throw new Error('trap'); } }));
await tryEcho('duplicateKeys', new Proxy({ a: 1 }, { ownKeys() { return ['a', 'a']; } }));
await tryEcho('lyingDescriptor', new Proxy({}, { ownKeys() { return ['x']; }, getOwnPropertyDescriptor() { return { value: 1, configurable: false, enumerable: true }; } }));
const revocable = Proxy.revocable({}, {}); revocable.revoke();
await tryEcho('revoked', revocable.proxy);
let n = 0;
await tryEcho('shifting', new Proxy({ a: 0, b: 0 }, { get() { return ++n; } }));
try { out.wholeArgs = await tools.echo(new Proxy({ value: 'v' }, { get(t, k) { return Reflect.get(t, k); } }) as any); } catch (e: any) { out.wholeArgs = e.code; }
console.log(new Proxy({}, { ownKeys() { throw new Error('log trap'); } }), new Proxy({}, { get() { throw 1; } }));
context.emitProgress(new Proxy({}, { ownKeys() { throw new Error('progress trap'); } }) as any);
return out;`,
        (result) => expect(result.ok).toBe(true),
      );
      const out = result.value as Record<string, unknown>;
      expect(out).toMatchObject({
        throwing: 'SERIALIZATION',
        duplicateKeys: 'SERIALIZATION',
        lyingDescriptor: 'SERIALIZATION',
        revoked: 'SERIALIZATION',
        wholeArgs: { value: 'v' },
      });
      // The host received one snapshot, taken inside the guest: what it echoed is what it was sent.
      const shifting = result.calls.find((call) => JSON.stringify(call.args).includes('"a"'));
      expect(shifting?.args).toEqual({ value: (out.shifting as { value: unknown }).value });
      expect(result.console.map((entry) => entry.text)).toEqual(['[unprintable] [unprintable]']);
      await attack(`return await tools.echo({ value: new Proxy({}, { ownKeys() { for (;;) {} } }) });`, ['TIMEOUT'], {
        limits: { timeoutMs: 300 },
      });
      await attack(
        `return await tools.echo({ value: new Proxy([], { get: (t, k) => k === 'length' ? 2 ** 32 - 1 : 1 }) });`,
        ['TIMEOUT', 'MEMORY_LIMIT', 'TOOL_VALIDATION', 'SERIALIZATION'],
        { limits: { timeoutMs: 300, memoryMb: 16 } },
      );
      await attack(`return new Proxy({}, { ownKeys() { throw new Error('trap'); } });`, [
        'SERIALIZATION',
        'GUEST_ERROR',
      ]);
      await attack(`return new Proxy({}, { get() { throw new Error('trap'); } });`, ['SERIALIZATION', 'GUEST_ERROR']);
      await attack(`throw new Proxy({}, { get() { throw new Error('trap'); } });`, ['GUEST_ERROR']);
    });

    it('S28: Symbol.species and constructor redirection on arrays and promises change nothing the host receives (threat 8)', async () => {
      const { result } = await attack(
        `class Evil extends Array { static get [Symbol.species](): any { return function () { return { hijacked: true }; }; } }
const a = (Evil as any).from([1, 2, 3]);
const echoed = await tools.echo({ value: a });
class P extends Promise<unknown> { static get [Symbol.species]() { return Promise; } }
const viaSubclass = await P.resolve(tools.add({ a: 1, b: 2 }));
const refused: string[] = [];
for (const attempt of [
  () => Object.defineProperty(Promise, Symbol.species, { get() { return function () {}; } }),
  () => Object.defineProperty(Array, Symbol.species, { get() { return Evil; } }),
  () => { (Array.prototype as any).constructor = Evil; },
  () => { (Promise.prototype as any).constructor = P; },
  () => { (Promise.prototype as any).then = () => 'hijacked'; },
]) { try { attempt(); refused.push('changed'); } catch { refused.push('refused'); } }
const pending: any = tools.add({ a: 2, b: 2 });
try { pending.constructor = P; } catch {}
const all = await Promise.all([tools.add({ a: 1, b: 1 }), pending]);
return { echoed, viaSubclass, refused, all, mapped: JSON.stringify(a.map((x: number) => x * 2)), returned: a };`,
        (result) => expect(result.ok).toBe(true),
      );
      expect(result.value).toEqual({
        echoed: { value: [1, 2, 3] },
        viaSubclass: 3,
        refused: ['refused', 'refused', 'refused', 'refused', 'refused'],
        all: [2, 4],
        mapped: '{"0":2,"1":4,"2":6,"hijacked":true}',
        returned: [1, 2, 3],
      });
      expect(isPlainData(result.calls[0]?.args)).toBe(true);
      expect(result.calls[0]?.args).toEqual({ value: [1, 2, 3] });
    });

    it('S29: thenables in arguments, console output and progress are data; the host never calls their then (threats 9, 20)', async () => {
      const target = fresh();
      const { result } = await attack(
        `const thenable = (label: string) => ({ label, then(resolve: any) { (tools.attack.tick as any)({ hook: label }); resolve('hijacked'); } });
const echoed = await tools.echo({ value: thenable('args') });
console.log(thenable('console')); context.emitProgress(thenable('progress') as any);
let caught: unknown; try { await tools.fail({ message: 'x' }); } catch (e) { caught = e; }
Object.defineProperty(caught as object, 'then', { value: () => (tools.attack.tick as any)({ hook: 'error then' }) });
return { echoed, adopted: await { then(resolve: any) { resolve('adopted in the guest'); } } };`,
        { value: { echoed: { value: { label: 'args' } }, adopted: 'adopted in the guest' } },
        { on: target },
      );
      expect(result.console.map((entry) => entry.text)).toEqual(['{"label":"console"}']);
      await expectNoTicks(target.attacks);
    });

    it('S30: async generators, yield* delegation and return/throw hooks deliver only guest-realm errors (threat 10)', async () => {
      await attack(
        `const realm = (e: any) => { try { e.constructor.constructor('return 1')(); return 'compiled'; } catch { return 'guest'; } };
const seen: unknown[] = [];
const it1: any = { [Symbol.asyncIterator]() { return { next: () => tools.fail({ message: 'next' }), return() { throw new Error('return hook'); }, throw: () => tools.fail({ message: 't' }) }; } };
async function* d1() { yield* it1; }
try { for await (const _ of d1()) break; } catch (e: any) { seen.push([e.name, e.code, realm(e)]); }
const it2: any = { [Symbol.asyncIterator]() { let i = 0; return { next: async () => ({ done: false, value: i++ }), return: async () => { await tools.fail({ message: 'r' }); return { done: true }; } }; } };
async function* d2() { yield* it2; }
try { for await (const v of d2()) if (v > 1) break; } catch (e: any) { seen.push([e.name, e.code, realm(e)]); }
async function* inner() { yield 1; }
async function* d3() { yield* inner(); }
const g3 = d3(); await g3.next();
let injected: any; try { await tools.fail({ message: 'injected' }); } catch (e) { injected = e; }
try { await g3.throw(injected); } catch (e: any) { seen.push([e.name, e.code, realm(e), e === injected]); }
async function* d4() { yield* ({ [Symbol.asyncIterator]() { return { next: () => ({ get then() { throw new Error('then getter'); } }) }; } } as any); }
try { await d4().next(); } catch (e: any) { seen.push([e.name, e.message, realm(e)]); }
const it5: any = { [Symbol.iterator]() { return { next: () => ({ done: false, value: 1 }), return() { throw Object.create(null); } }; } };
function* d5() { yield* it5; }
const g5 = d5(); g5.next();
try { g5.return(undefined); } catch (e: any) { seen.push([typeof e, Object.getPrototypeOf(e)]); }
async function* d6() { try { yield 1; } finally { await tools.fail({ message: 'finally' }); } }
const g6 = d6(); await g6.next();
try { await g6.return(undefined); } catch (e: any) { seen.push([e.name, e.code, realm(e)]); }
return seen;`,
        (result) => {
          // Engines differ on which hooks surface an error (a failing async return() during a break may
          // be swallowed); every error that does surface must be the guest's own.
          const seen = valueIn(result) as unknown[][];
          expect(seen.length).toBeGreaterThanOrEqual(4);
          expect(seen).toContainEqual(['ToolError', 'TOOL_ERROR', 'guest', true]);
          expect(seen).toContainEqual(['Error', 'then getter', 'guest']);
          expect(seen).toContainEqual(['object', null]);
          for (const entry of seen) if (entry[0] !== 'object') expect(entry).toContain('guest');
        },
      );
    });

    it('S31: composite errors (AggregateError, SuppressedError, causes) carry only sanitised guest data (threat 11)', async () => {
      const { result } = await attack(
        `const out: unknown[] = [];
try { await Promise.any([tools.fail({ message: 'a' }), tools.fail({ message: 'b' }), (tools as any).nope({})]); }
catch (e: any) { out.push([e.name, e instanceof AggregateError, e.errors.map((x: any) => [x.name, x.code, x.message, String(x.stack)])]); }
if (typeof (globalThis as any).DisposableStack === 'function') {
  const stack = new (globalThis as any).DisposableStack();
  stack.defer(() => tools.fail({ message: 'deferred' }));
  stack.defer(() => { throw new Error('one'); });
  stack.defer(() => { throw new Error('two'); });
  try { stack.dispose(); } catch (e: any) { out.push([e.name, typeof e.error, typeof e.suppressed]); }
}
return out;`,
        (result) => expect(result.ok).toBe(true),
      );
      const [aggregate] = result.value as [[string, boolean, [string, string, string, string][]]];
      expect(aggregate[0]).toBe('AggregateError');
      expect(aggregate[1]).toBe(true);
      expect(aggregate[2].map(([errorName, code]) => [errorName, code])).toEqual([
        ['ToolError', 'TOOL_ERROR'],
        ['ToolError', 'TOOL_ERROR'],
        ['ToolError', 'TOOL_NOT_FOUND'],
      ]);
      await attack(
        `await Promise.any([tools.fail({ message: 'a' }), (tools.attack.hostError as any)({ kind: 'aggregate' })]);`,
        ['GUEST_ERROR'],
      );
      await attack(
        `await Promise.all([(tools.attack.hostError as any)({ kind: 'suppressed' }), (tools.attack.hostError as any)({ kind: 'cause' })]);`,
        ['TOOL_ERROR'],
      );
    });

    it('S32: WebAssembly is absent and unreachable from anything the script can walk (threat 12)', async () => {
      const { result } = await attack(
        `${WALK}
const { names, objects } = await walk();
return { type: typeof (globalThis as any).WebAssembly, has: Reflect.has(globalThis, 'WebAssembly'), found: names.filter((n) => /^(?:WebAssembly|JSTag|instantiateStreaming|compileStreaming|validate)$/.test(n)), objects };`,
        (result) => expect(result.ok).toBe(true),
      );
      expect(result.value).toMatchObject({ type: 'undefined', has: false, found: [] });
      expect((result.value as { objects: number }).objects).toBeGreaterThan(100);
    });

    it('S33: dynamic import is refused at preparation in every disguise, and has no loader at run time (threat 13)', async () => {
      for (const source of [
        `const m = await import('fs'); return Object.keys(m);`,
        `const parts = [...[1, 2]]; const m = await import('data:text/javascript,export default 1'); return parts;`,
        `const m = await import /* a comment */ (\n'node:fs');`,
        `const m = await \\u0069mport('fs');`,
        `const m = await im\\u0070ort('fs');`,
        `import fs from 'fs';\nreturn 1;`,
        `export const x = 1;`,
        `return import.meta.url;`,
        `const req = (globalThis as any)['req' + 'uire']; return req('fs');`,
        `const load = (globalThis as any)['imp' + 'ort']; return await load('fs');`,
      ]) {
        const { result } = await attack(source, ['BANNED_CONSTRUCT', 'SYNTAX_ERROR', 'GUEST_ERROR']);
        expect(result.calls).toEqual([]);
      }
      // The same attempts on the runtime itself, without preparation: nothing loads.
      const specifiers = [
        'fs',
        'node:fs',
        'data:text/javascript,export default 1',
        'std',
        'os',
        './harness-glue.js',
        'script.ts',
        '/etc/passwd',
      ];
      await attackRaw(
        `const out = [];
for (const s of ${JSON.stringify(specifiers)}) { try { await import(s); out.push('loaded ' + s); } catch (e) { out.push('refused'); } }
return out;`,
        (outcome) => expect(outcome).toEqual({ ok: true, valueJson: JSON.stringify(specifiers.map(() => 'refused')) }),
      );
    });

    it('S34: source-filter bypasses find nothing at run time: computed names, escapes and code generation are refused by the sandbox itself (threat 14)', async () => {
      const { result } = await attack(
        `const g: any = globalThis;
const tries: Record<string, () => unknown> = {
  evalByConcat: () => g['ev' + 'al']('1 + 1'),
  evalByCharCodes: () => g[String.fromCharCode(101, 118, 97, 108)]('1'),
  functionByJoin: () => g[['Fun', 'ction'].join('')]('return 1')(),
  constructorByConcat: () => { const k = 'constr' + 'uctor'; return (() => 0)[k as 'constructor'][k as 'constructor']('return 1')(); },
  asyncGenerator: () => new (Object.getPrototypeOf(async function* () {}).constructor)('yield 1'),
  requireByReflect: () => Reflect.get(g, 'req' + 'uire')('fs'),
  processByReflect: () => Reflect.get(g, 'pro' + 'cess').env,
  toolOutsideAllowlist: () => (tools as any)['sp' + 'awn']({}),
};
const out: Record<string, string> = {};
for (const [label, attempt] of Object.entries(tries)) {
  try { const v: any = attempt(); out[label] = v instanceof Promise ? await v.then(() => 'ran', (e: any) => e.code ?? 'refused') : 'ran'; }
  catch { out[label] = 'refused'; }
}
return out;`,
        (result) => expect(result.ok).toBe(true),
      );
      expect(result.value).toEqual({
        evalByConcat: 'refused',
        evalByCharCodes: 'refused',
        functionByJoin: 'refused',
        constructorByConcat: 'refused',
        asyncGenerator: 'refused',
        requireByReflect: 'refused',
        processByReflect: 'refused',
        toolOutsideAllowlist: 'TOOL_NOT_FOUND',
      });
      await attack(`with (Math) { return max(1, 2); }`, ['SYNTAX_ERROR']);
      // Code the static check refuses, run on the runtime directly: refused again at run time.
      for (const body of [
        `return eval('1 + 1');`,
        `return Function('return 1')();`,
        `return new Function('return 1')();`,
        `return require('fs');`,
        `return (0, eval)('1');`,
      ]) {
        await attackRaw(body, (outcome) => {
          expect(outcome.ok, body).toBe(false);
          expect(outcome.ok ? '' : outcome.error.code).toBe('GUEST_ERROR');
        });
      }
    });

    it('S35: no harness internal (bridge functions, loaders, caches) is reachable by walking everything from globalThis (threat 15)', async () => {
      const { result } = await attack(
        `${WALK}
const { names } = await walk();
return names.filter((n) => /^(?:host(?:Call|Load|Emit)|callTool|deepFreeze|namespace|loaded|capsJson|bridge|pending|settle|loadPart|run)$/.test(n));`,
        { value: [] },
      );
      expect(result.ok).toBe(true);
    });

    it('S36: intrinsics poisoned before the glue first runs leave tools, console, context and errors working (threat 16)', async () => {
      await attack(
        `const poison: unknown[] = [];
const evil = { get() { throw new Error('poisoned'); }, set() { throw new Error('poisoned'); }, configurable: true };
for (const target of [Object.prototype, Array.prototype, Function.prototype, Promise.prototype, Error.prototype, String.prototype, Symbol.prototype, JSON, Reflect, Object, Array, Promise, Math, Error, RegExp.prototype, globalThis]) {
  for (const key of ['then', 'toJSON', '__proto__', '0', 'length', 'call', 'apply', 'bind', 'stringify', 'parse', 'constructor', 'name', 'message', 'stack', 'freeze', 'defineProperty', 'ownKeys', Symbol.iterator, Symbol.species, Symbol.toPrimitive, Symbol.hasInstance]) {
    try { Object.defineProperty(target, key, evil); poison.push(String(key)); } catch {}
    try { (target as any)[key] = () => { throw new Error('poisoned'); }; poison.push(String(key)); } catch {}
  }
}
try { (Error as any).prepareStackTrace = () => { throw new Error('poisoned'); }; } catch {}
try { (Error as any).captureStackTrace = () => { throw new Error('poisoned'); }; } catch {}
try { (Error as any).stackTraceLimit = 0; } catch {}
const sum = await tools.add({ a: 1, b: 2 });
let failure: unknown; try { await tools.fail({ message: 'm' }); } catch (e: any) { failure = [e.name, e.code, Object.getPrototypeOf(e) === ToolError.prototype]; }
console.log('line', { a: 1 });
context.emitProgress('progress');
return { sum, failure, scriptId: typeof context.scriptId, limits: context.limits.maxToolCalls > 0, poisoned: poison.length };`,
        (result) => {
          expect(valueIn(result)).toMatchObject({
            sum: 3,
            failure: ['ToolError', 'TOOL_ERROR', true],
            scriptId: 'string',
            limits: true,
          });
          expect(result.console.map((entry) => entry.text)).toEqual(['line {"a":1}']);
        },
      );
      // The error reader copes with the same poisoning (Symbol.hasInstance on Error included).
      await attack(
        `for (const key of ['name', 'message', 'stack', Symbol.hasInstance, Symbol.toPrimitive, 'toString']) {
  try { Object.defineProperty(Error, key, { get() { throw new Error('poisoned'); } }); } catch {}
}
try { await tools.fail({ message: 'described' }); } catch (e) { throw e; }`,
        (result) =>
          expect(result.error).toMatchObject({ code: 'TOOL_ERROR', message: 'described (while reading <path>)' }),
      );
      // First use from awkward places: inside the final serialisation, inside a trap, at the
      // stack limit and at the memory limit; the parts must load (or load on the next use).
      await attack(`return { toJSON() { return typeof tools.add + ' ' + typeof console.log; } };`, {
        value: 'function function',
      });
      await attack(
        `const seen: string[] = []; console.log(new Proxy({}, { ownKeys() { seen.push(typeof context.scriptId); return []; } })); return seen;`,
        { value: ['string'] },
      );
      await attack(
        `function deep(n: number): string { try { return deep(n + 1); } catch { try { return typeof tools; } catch { return 'not yet'; } } }
deep(0);
return [typeof tools, await tools.add({ a: 1, b: 2 }), typeof console.log, typeof context.scriptId];`,
        { value: ['object', 3, 'function', 'string'] },
        { limits: { stackKb: 128 } },
      );
      await attack(
        `let keep: unknown[] | undefined = [];
try { for (;;) keep.push(new Array(4096).fill(keep.length)); } catch {}
keep = undefined;
let first: string; try { first = typeof tools; } catch { first = 'not yet'; }
return [await tools.add({ a: 1, b: 2 }), typeof console.log];`,
        (result) => {
          // The memory limit may be found by the allocation or by the periodic measurement.
          if (result.ok) expect(result.value).toEqual([3, 'function']);
          else expect(result.error?.code).toBe('MEMORY_LIMIT');
        },
        { limits: { memoryMb: 16 } },
      );
    });

    it('S37: no host symbol is reachable and symbol-keyed hooks the host would call when logging never run (threat 17)', async () => {
      const target = fresh();
      const { result } = await attack(
        `const inspect = Symbol.for('nodejs.util.inspect.custom');
const rejection = Symbol.for('nodejs.rejection');
const hooks = (label: string) => ({ data: label, [inspect]() { (tools.attack.tick as any)({ hook: label + ' inspect' }); return 'x'; }, [rejection]() { (tools.attack.tick as any)({ hook: label + ' rejection' }); }, get [Symbol.toStringTag]() { (tools.attack.tick as any)({ hook: label + ' tag' }); return 'Evil'; } });
console.log(hooks('console'), 'text');
context.emitProgress(hooks('progress') as any);
const echoed = await tools.echo({ value: hooks('args') });
Promise.reject(hooks('rejection'));
const wellKnown = Reflect.ownKeys(Symbol).filter((k) => typeof (Symbol as any)[k] === 'symbol').map(String).sort();
const injected: any[] = [tools, tools.add, console, console.log, context, ToolError, ToolError.prototype, ApprovalDeniedError.prototype, echoed];
const symbols = injected.flatMap((o) => Object.getOwnPropertySymbols(o).map(String));
return { echoed, wellKnown, symbols, keyFor: Symbol.keyFor(inspect), returned: hooks('returned') };`,
        (result) => expect(result.ok).toBe(true),
        { on: target },
      );
      const value = result.value as { echoed: unknown; wellKnown: string[]; symbols: string[]; returned: unknown };
      expect(value.echoed).toEqual({ value: { data: 'args' } });
      expect(value.returned).toEqual({ data: 'returned' });
      expect(value.symbols.every((symbol) => symbol === 'Symbol(Symbol.toStringTag)')).toBe(true);
      const spec =
        /^(?:asyncDispose|asyncIterator|dispose|hasInstance|isConcatSpreadable|iterator|match|matchAll|replace|search|species|split|toPrimitive|toStringTag|unscopables)$/;
      for (const symbol of value.wellKnown) expect(symbol).toMatch(spec);
      const echoedArgs = result.calls[0]?.args as { value: object } | undefined;
      expect(echoedArgs).toBeDefined();
      expect(Object.getOwnPropertySymbols(echoedArgs?.value ?? {})).toEqual([]);
      for (const entry of result.console) expect(typeof entry.text).toBe('string');
      await expectNoTicks(target.attacks);
    });

    it('S38: caller/arguments of glue functions and of callbacks the glue calls reveal no frame: everything is strict (threat 18)', async () => {
      const { result } = await attack(
        `const probe = (f: any) => ['caller', 'arguments'].map((k) => { try { const v = f[k]; return v === null || v === undefined ? 'none' : typeof v; } catch { return 'blocked'; } }).join('/');
const targets: Record<string, any> = { add: tools.add, log: console.log, emitProgress: context.emitProgress, ToolError,
  toolsGetter: Object.getOwnPropertyDescriptor(globalThis, 'tools')!.get, then: Promise.prototype.then, stringify: JSON.stringify };
const out: Record<string, string> = {};
for (const [k, f] of Object.entries(targets)) out[k] = probe(f);
await tools.add({ a: 1, b: 1 }).then(function callback() {
  out.thenCallback = probe(callback);
  try { out.callee = typeof (arguments as any).callee; } catch { out.callee = 'blocked'; }
});
const value = { toJSON: function toJSON() { out.toJSON = probe(toJSON); return 1; } };
await tools.echo({ value });
out.sloppyThis = typeof (function (this: unknown) { return this; })();
return out;`,
        (result) => expect(result.ok).toBe(true),
      );
      const out = result.value as Record<string, string>;
      expect(out.callee).toBe('blocked');
      expect(out.sloppyThis).toBe('undefined');
      for (const [label, probe] of Object.entries(out)) {
        if (label === 'callee' || label === 'sloppyThis') continue;
        expect(probe, label).toMatch(/^(?:blocked|none)\/(?:blocked|none)$/);
      }
    });

    it('S39: no engine constructor or less restricted environment is reachable, and limit or policy fields in tool arguments change nothing (threat 19)', async () => {
      const target = fresh();
      const { result } = await attack(
        `${WALK}
const { names } = await walk();
const engines = names.filter((n) => /^(?:Isolate|Context|ExternalCopy|Reference|NativeModule|QuickJS\\w*|Worker|SharedWorker|ShadowRealm|Compartment|inspector|process|require|spawn|fork|evalScript|loadScript|createRealm|std|os)$/.test(n));
let spawn: string; try { await (tools as any).spawn({ source: 'return 1', limits: { timeoutMs: 1e9 } }); spawn = 'ran'; } catch (e: any) { spawn = e.code; }
try { (context.limits as any).timeoutMs = 1e9; } catch {}
const seen: any = await (tools.attack.inspect as any)({ limits: { timeoutMs: 1e9, memoryMb: 1e6 }, policy: 'allow-all', maxOutputBytes: 1e12, scriptId: 'forged', callId: 'forged', signal: null, approved: true });
return { engines, spawn, tools: Reflect.ownKeys(tools).map(String).sort(), seen, limit: context.limits.timeoutMs };`,
        (result) => expect(result.ok).toBe(true),
        { on: target },
      );
      const value = result.value as {
        engines: string[];
        spawn: string;
        tools: string[];
        seen: { scriptId: string; callId: string; maxOutputBytes: number; keys: string[] };
        limit: number;
      };
      expect(value.engines).toEqual([]);
      expect(value.spawn).toBe('TOOL_NOT_FOUND');
      expect(value.tools).toEqual(['add', 'attack', 'echo', 'fail', 'hostObject', 'math', 'needsApproval', 'slow']);
      expect(value.limit).toBe(target.harness.limits.timeoutMs);
      expect(value.seen.scriptId).toBe(result.metadata.scriptId);
      expect(value.seen.maxOutputBytes).toBe(target.harness.limits.maxToolOutputBytes);
      expect(value.seen.callId).not.toBe('forged');
      expect(value.seen.keys).toContain('limits'); // plain data the tool may read, nothing more
      // Asking for a longer deadline through a tool changes nothing: the configured one ends the loop.
      const loop = await attack(
        `await (tools.attack.inspect as any)({ limits: { timeoutMs: 600000 }, timeoutMs: 600000 });
while (true) {}`,
        ['TIMEOUT'],
        { limits: { timeoutMs: 300 } },
      );
      expect(loop.elapsedMs).toBeLessThan(300 + 2_000);
    });

    it('S40: toJSON, valueOf, getters and other hooks of returned or passed objects never run on the host: only plain snapshots leave the guest (threat 20)', async () => {
      const target = fresh();
      const hooked = `const tick = (hook: string) => { (tools.attack.tick as any)({ hook }); return 1; };
class Base { get inherited() { return tick('inherited getter'); } }
const hooked = (label: string) => {
  const o: any = Object.assign(new Base(), { label, nested: [{ ok: true }] });
  const hook = (key: PropertyKey, get: () => unknown) => Object.defineProperty(o, key, { get, enumerable: false });
  hook('valueOf', () => () => tick(label + ' valueOf')); hook('toString', () => () => String(tick(label + ' toString')));
  hook(Symbol.toPrimitive, () => () => tick(label + ' toPrimitive'));
  hook(Symbol.for('nodejs.util.inspect.custom'), () => () => tick(label + ' inspect'));
  hook('hidden', () => tick(label + ' hidden getter'));
  return o;
};`;
      const { result } = await attack(
        `${hooked}
await tools.echo({ value: hooked('args') });
console.log(hooked('console')); context.emitProgress(hooked('progress'));
return hooked('returned');`,
        { value: { label: 'returned', nested: [{ ok: true }] } },
        { on: target },
      );
      expect(isPlainData(result.value)).toBe(true);
      expect(isPlainData(result.calls[0]?.args)).toBe(true);
      await attack(`${hooked}\nthrow hooked('thrown');`, ['GUEST_ERROR'], { on: target });
      await expectNoTicks(target.attacks);
      // Hooks that do run are the guest's own serialisation, inside the deadline and the memory limit.
      await attack(`return { toJSON() { while (true) {} } };`, ['TIMEOUT'], { limits: { timeoutMs: 300 } });
      await attack(
        `return { get big() { const a: unknown[] = []; for (;;) a.push(new Array(4096).fill(1)); } };`,
        ['MEMORY_LIMIT', 'SERIALIZATION'],
        { limits: { memoryMb: 16 } },
      );
    });

    // ── B. Capabilities, seen from the engine (the tools and policy packages cover the rest) ───

    it('S43: no secret of the host is reachable from anything the script can walk (threat 23)', async () => {
      const { result } = await attack(
        `${WALK}
const { strings } = await walk();
return { suspicious: strings.filter((s) => /canary|secret|\\/srv\\/|node_modules/i.test(s)), env: typeof (globalThis as any).process };`,
        (result) => expect(result.ok).toBe(true),
      );
      expect(result.value).toEqual({ suspicious: [], env: 'undefined' });
    });

    it('S44: injected argument keys (__proto__, constructor, extras) and oversized payloads are refused host-side before any tool runs (threat 24)', async () => {
      const { result } = await attack(
        `const attempts: (() => Promise<unknown>)[] = [
  () => tools.add(JSON.parse('{"a":1,"b":2,"__proto__":{"polluted":true}}')),
  () => tools.add(JSON.parse('{"a":1,"b":2,"constructor":{"prototype":{"polluted":true}}}')),
  () => tools.add({ a: 1, b: 2, command: '; rm -rf / #' } as any),
  () => tools.add({ a: "1'; DROP TABLE users; --", b: 2 } as any),
  () => tools.echo({ value: 'x'.repeat(300 * 1024) }),
];
const codes: string[] = [];
for (const attempt of attempts) { try { await attempt(); codes.push('ran'); } catch (e: any) { codes.push(e.code); } }
return codes;`,
        { value: ['TOOL_VALIDATION', 'TOOL_VALIDATION', 'TOOL_VALIDATION', 'TOOL_VALIDATION', 'TOOL_VALIDATION'] },
      );
      // Refused before execution: every call that reached the host is a validation failure.
      expect(result.calls.map((call) => [call.status, call.error?.code])).toEqual(
        result.calls.map(() => ['error', 'TOOL_VALIDATION']),
      );
      expect(result.calls.length).toBeGreaterThanOrEqual(4);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    // ── C. Denial of service ──────────────────────────────────────────────────────────────────

    it('S47: tight loops that try to survive the interrupt (catch, finally, generators, getters, traps, jobs, static blocks) end as TIMEOUT in time (threat 27)', async () => {
      for (const source of [
        `for (;;) { try { for (;;) {} } catch {} finally { continue; } }`,
        `outer: for (;;) { try { throw 1; } catch { continue outer; } }`,
        `function* g() { for (;;) { try { yield 1; } finally { continue; } } } for (const _ of g()) {}`,
        `const o = { get x(): number { for (;;) {} } }; for (;;) { try { o.x; } catch {} }`,
        `await tools.add({ a: 1, b: 1 }).then(() => { for (;;) {} });`,
        `class A { static { for (;;) {} } }`,
      ]) {
        const { elapsedMs } = await attack(source, ['TIMEOUT'], { limits: { timeoutMs: 200 } });
        expect(elapsedMs, source).toBeLessThan(200 + 2_500);
      }
      // Recursion whose unwinding loops forever: whichever limit comes first ends it.
      await attack(
        `const f = (): number => { try { return f(); } finally { for (;;) {} } }; f();`,
        ['TIMEOUT', 'STACK_OVERFLOW'],
        {
          limits: { timeoutMs: 200 },
        },
      );
      // Cancelling a CPU-bound script: it ends no later than its deadline, as CANCELLED or TIMEOUT.
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100).unref();
      const cancelled = await attack(`while (true) {}`, ['CANCELLED', 'TIMEOUT'], {
        limits: { timeoutMs: 1_000 },
        signal: controller.signal,
      });
      expect(cancelled.elapsedMs).toBeLessThan(1_000 + 2_500);
    });

    it('S48: floods of promise jobs, thenables and async iteration end as TIMEOUT under one deadline for the whole run (threat 28)', async () => {
      for (const source of [
        `const flood = () => { for (let i = 0; i < 100; i++) Promise.resolve().then(flood); }; flood(); return 'returned';`,
        `const t: any = { then(resolve: any) { resolve(t); } }; await t;`,
        `async function* g() { for (;;) yield 1; } for await (const _ of g()) {}`,
        `(async () => { for (;;) await null; })(); return 'returned';`,
        `await tools.add({ a: 1, b: 1 }); const loop = (): Promise<unknown> => tools.add({ a: 1, b: 1 }).then(loop, loop); await loop();`,
      ]) {
        const { elapsedMs } = await attack(source, ['TIMEOUT', 'MEMORY_LIMIT'], {
          limits: { timeoutMs: 300, memoryMb: 32 },
        });
        expect(elapsedMs, source).toBeLessThan(300 + 2_500);
      }
      await attack(`return (await Promise.all(Array.from({ length: 100000 }, (_, i) => Promise.resolve(i)))).length;`, {
        value: 100_000,
      });
    });

    it('S49: a long native builtin that never consults the interrupt handler ends as TIMEOUT; with concurrent isolation the worker is stopped at the deadline plus its grace period (threat 29)', async () => {
      // A generic lastIndexOf over a huge array-like walks every index in native code.
      const length = options.concurrentIsolation ? 2 ** 28 : 2 ** 25;
      const { elapsedMs } = await attack(
        `return Array.prototype.lastIndexOf.call({ length: ${length} }, 1);`,
        (result) => {
          if (result.ok) expect(result.value).toBe(-1);
          else expect(result.error?.code).toBe('TIMEOUT');
        },
        { limits: { timeoutMs: 100 } },
      );
      // Pool modes: deadline + kill grace + watchdog tick; inline: bounded by the builtin itself.
      expect(elapsedMs).toBeLessThan(options.concurrentIsolation ? 100 + 2_500 : 30_000);
    });

    it('S50: catastrophic regular expressions end as TIMEOUT (threat 30)', async () => {
      for (const source of [
        `return /^(a+)+$/.test('a'.repeat(40) + 'b');`,
        `return /(x+x+)+y/.test('x'.repeat(40));`,
        `return new RegExp('^(\\\\w+\\\\s?)*$').test('a'.repeat(60) + '!');`,
        `return 'a'.repeat(40).concat('!').replace(/^(a|aa)+$/, 'b');`,
        `return ('a'.repeat(40) + '!').split(/(a*)*b/).length;`,
      ]) {
        const { elapsedMs } = await attack(source, ['TIMEOUT'], { limits: { timeoutMs: 200 } });
        expect(elapsedMs, source).toBeLessThan(200 + 2_500);
      }
    });

    it('S52: memory-limit evasion (typed arrays, array storage, Map entries, many strings, doubling) ends as MEMORY_LIMIT and the host stays bounded (threat 32)', async () => {
      const target = fresh({ memoryMb: 16 });
      const before = process.memoryUsage().rss;
      for (const source of [
        `const k: unknown[] = []; for (;;) k.push(new Uint8Array(1 << 20));`,
        `const k: unknown[] = []; for (;;) k.push(new Float64Array(1 << 16).fill(1));`,
        `const k: unknown[] = []; for (;;) k.push(new Array(1 << 16).fill(0));`,
        `const m = new Map(); for (let i = 0; ; i++) m.set(i, 'v' + i);`,
        `const k: string[] = []; for (let i = 0; ; i++) k.push('x'.repeat(1 << 16) + i);`,
        // Four times the limit, held while the script goes on working.
        `const k: unknown[] = []; for (let i = 0; i < 64; i++) k.push(new Uint8Array(1 << 20)); for (let i = 0; i < 1e7; i++) {} return k.length;`,
      ]) {
        await attack(source, ['MEMORY_LIMIT'], { on: target });
      }
      await attack(`let s = 'x'; for (;;) s += s;`, ['MEMORY_LIMIT', 'GUEST_ERROR'], { on: target });
      await attack(
        `const b = new ArrayBuffer(0, { maxByteLength: 2 ** 30 } as any); (b as any).resize(2 ** 30); return b.byteLength;`,
        ['MEMORY_LIMIT', 'GUEST_ERROR'],
        { on: target },
      );
      // Without a working limit these would have grown the host by gigabytes.
      expect(process.memoryUsage().rss - before).toBeLessThan(512 * MB);
    });

    it('S53: deep recursion through JSON, Proxy chains, nested arrays and deeply nested source ends as STACK_OVERFLOW, SYNTAX_ERROR or the right answer, never a crash (threat 33)', async () => {
      // [source, the correct answer]: an engine that copes returns it; one that cannot ends with a typed error.
      for (const [source, answer] of [
        [`let o: any = []; for (let i = 0; i < 100000; i++) o = [o]; return JSON.stringify(o).length;`, 200_002],
        [`let p: any = []; for (let i = 0; i < 100000; i++) p = new Proxy(p, {}); return Array.isArray(p);`, true],
        [`let p: any = {}; for (let i = 0; i < 100000; i++) p = new Proxy(p, {}); return p.x === undefined;`, true],
        [`let o: any = []; for (let i = 0; i < 100000; i++) o = [o]; return String(o).length;`, 0],
        [`let o: any = []; for (let i = 0; i < 100000; i++) o = [o]; return o.flat(Infinity).length;`, 0],
        [`return JSON.parse('['.repeat(100000) + ']'.repeat(100000)).length;`, 1],
        [`const f = (n: number): number => n === 0 ? 0 : 1 + f(n - 1); return f(1e6);`, 1e6],
      ] as const) {
        // Engines that walk deep structures slowly in native code (QuickJS checks JSON cycles per level)
        // may reach the deadline first; in pool modes the worker is then stopped.
        await attack(
          source,
          (result) => {
            if (result.ok) expect(result.value, source).toBe(answer);
            else expect(['STACK_OVERFLOW', 'TIMEOUT'], source).toContain(result.error?.code);
          },
          { limits: { timeoutMs: 1_000 } },
        );
      }
      // Deeply nested source within the size cap (JavaScript: no transpiler involved).
      for (const source of [
        `const v = ${'['.repeat(9_000)}${']'.repeat(9_000)}; return 1;`,
        `return ${'('.repeat(9_000)}1${')'.repeat(9_000)};`,
        `${'if (1) '.repeat(2_500)}return 1;`,
        `const f = ${'a => '.repeat(3_000)}1; return 1;`,
      ]) {
        const { elapsedMs } = await attack(
          source,
          (result) => {
            // Either the parsers cope (a harmless value) or they refuse with a typed error.
            if (result.ok) expect(result.value).toBe(1);
            else expect(['SYNTAX_ERROR', 'STACK_OVERFLOW']).toContain(result.error?.code);
          },
          { language: 'js' },
        );
        expect(elapsedMs).toBeLessThan(5_000);
      }
      // The same depth past the parser of the harness, straight into the engine's parser.
      await attackRaw(`return ${'['.repeat(100_000)}${']'.repeat(100_000)};`, (outcome) => {
        expect(outcome.ok).toBe(false);
        expect(['SYNTAX_ERROR', 'STACK_OVERFLOW']).toContain(outcome.ok ? '' : outcome.error.code);
      });
    });

    it('S54: output floods (console loops, huge lines, huge errors, control characters, progress) stay capped and cannot split or forge entries (threat 34)', async () => {
      const target = fresh({
        maxConsoleEvents: 50,
        maxConsoleLineBytes: 256,
        maxOutputBytes: 4096,
        maxProgressEvents: 5,
      });
      const flood = await attack(
        `for (let i = 0; i < 100000; i++) console.log('line', i); for (let i = 0; i < 1000; i++) context.emitProgress('p' + i); return 'done';`,
        { value: 'done' },
        { on: target },
      );
      expect(flood.result.console.length).toBeLessThanOrEqual(50);
      expect(flood.result.metadata.consoleDropped).toBeGreaterThan(99_000);
      expect(flood.events.filter((event) => event.type === 'script_progress').length).toBeLessThanOrEqual(5);
      const forged = await attack(
        `console.log('\\x1b[2J\\x1b[31mred\\r\\n{"level":"error","msg":"forged entry"}\\u2028\\u0000' + 'y'.repeat(10000));`,
        { value: undefined },
        { on: target },
      );
      expect(forged.result.console).toHaveLength(1);
      expect(Buffer.byteLength(forged.result.console[0]?.text ?? '')).toBeLessThanOrEqual(256);
      expect(JSON.parse(JSON.stringify(forged.result.console))).toEqual(forged.result.console);
      const huge = await attack(`const e = new Error('m'.repeat(5_000_000)); e.name = 'N'.repeat(100_000); throw e;`, [
        'GUEST_ERROR',
      ]);
      expect(huge.result.error?.message.length).toBeLessThanOrEqual(128 + 4096 + 16);
      const big = await attack(`return 'z'.repeat(5_000_000);`, ['OUTPUT_LIMIT'], { on: target });
      expect(String(big.result.error?.details?.preview).length).toBeLessThanOrEqual(4096);
    });

    it('S55: a flood of 100,000 tool calls ends as TOOL_BUDGET quickly, with the host’s work and memory bounded (threat 35)', async () => {
      const before = process.memoryUsage().rss;
      const { result, elapsedMs } = await attack(
        `const settled = await Promise.allSettled(Array.from({ length: 100000 }, (_, i) => tools.add({ a: i, b: 1 })));
const codes = new Set(settled.map((s: any) => s.status === 'fulfilled' ? 'ok' : s.reason.code));
return [...codes].sort();`,
        { value: ['TOOL_BUDGET', 'ok'] },
        { limits: { timeoutMs: 30_000 } },
      );
      // The guest's own work (100,000 promises and errors) dominates its time, bounded by the deadline;
      // what the host spends is bounded by the budget, checked below.
      expect(elapsedMs).toBeLessThan(30_000);
      // Only the budget (and a margin) ever crossed to the host.
      expect(result.calls.length).toBeLessThanOrEqual(main.harness.limits.maxToolCalls + 64);
      expect(process.memoryUsage().rss - before).toBeLessThan(256 * MB);
      const unknown = await attack(
        `const codes = new Set<string>(); for (let i = 0; i < 10000; i++) { try { await (tools as any).nope({}); } catch (e: any) { codes.add(e.code); } } return [...codes].sort();`,
        { value: ['TOOL_BUDGET', 'TOOL_NOT_FOUND'] },
        { limits: { timeoutMs: 20_000 } },
      );
      expect(unknown.result.calls.length).toBeLessThanOrEqual(main.harness.limits.maxToolCalls + 64);
      // Megabyte tool names: the host must not spend its own time on them (suggesting close names).
      const names = await attack(
        `const name = 'x'.repeat(10_000_000); const codes = new Set<string>();
for (let i = 0; i < 40; i++) { try { await (tools as any)[name]({}); } catch (e: any) { codes.add(e.code); } }
return [...codes];`,
        { value: ['TOOL_NOT_FOUND'] },
        { limits: { timeoutMs: 20_000 } },
      );
      expect(names.elapsedMs).toBeLessThan(5_000);
    });

    it('S56: there are no timers: nothing the script does can schedule host work past its end (threat 36)', async () => {
      const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
      await settle(300);
      const before = timers();
      await attack(
        `const g: any = globalThis;
return ['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'requestAnimationFrame', 'requestIdleCallback', 'Atomics'].map((n) => typeof g[n]);`,
        { value: ['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined'] },
      );
      const { elapsedMs } = await attack(`await new Promise(() => {});`, ['UNSETTLED_PROMISE']);
      expect(elapsedMs).toBeLessThan(1_000);
      await settle(300);
      expect(timers()).toBeLessThanOrEqual(before);
    });

    it('S57: timeouts and cancellations while tool calls are in flight drop late results and leave the next script clean (threat 37)', async () => {
      const target = fresh();
      // The stubborn tool ignores its signal and answers (with the canary in its answer) after the script is gone.
      const timedOut = await attack(
        `await Promise.all([tools.attack.stubborn({ ms: 400 }), tools.attack.stubborn({ ms: 450 }), tools.slow({ ms: 5000, label: 'in flight' })]);`,
        ['TIMEOUT'],
        { on: target, limits: { timeoutMs: 150 } },
      );
      expect(timedOut.result.calls.every((call) => call.status !== 'ok')).toBe(true);
      await settle(500);
      expect(target.attacks.lateFinished).toEqual([400, 450]);
      expect(target.observations.aborted).toEqual(['in flight']);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50).unref();
      await attack(`return await tools.slow({ ms: 5000, label: 'cancelled' });`, ['CANCELLED'], {
        on: target,
        signal: controller.signal,
      });
      await attack(`return await tools.add({ a: 1, b: 1 });`, ['CANCELLED'], {
        on: target,
        signal: AbortSignal.abort(),
      });
      // Many scripts timing out at once with calls in flight, on the same runtime.
      const storm = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          target.harness.run(
            `await tools.attack.stubborn({ ms: 300 }); await tools.slow({ ms: 5000, label: 's${i}' });`,
            {
              limits: { timeoutMs: 100 },
            },
          ),
        ),
      );
      expect(storm.map((result) => result.error?.code)).toEqual(storm.map(() => 'TIMEOUT'));
      for (const result of storm) expectNoLeak('storm', 'a timed-out result', result);
      await settle(400);
      await expectCleanNext(target, 'after the storm');
      expect(hostFaults).toEqual([]);
    });

    it('S58: a multi-megabyte single line is refused as SOURCE_TOO_LARGE before any parsing, as text and as bytes (threat 38)', async () => {
      const line = `return '${'x'.repeat(5 * MB)}';`;
      const { elapsedMs } = await attack(line, ['SOURCE_TOO_LARGE']);
      expect(elapsedMs).toBeLessThan(2_000);
      const started = Date.now();
      const bytes = await main.harness.run(new TextEncoder().encode(line));
      expect(bytes.error?.code).toBe('SOURCE_TOO_LARGE');
      expect(Date.now() - started).toBeLessThan(2_000);
      await expectCleanNext(main, 'after the bytes');
    });

    it('S58: a TypeScript transpiler bomb within the size cap fails alone: the next TypeScript script still prepares (threat 38)', () => {
      // Run in a fresh process: if the transpiler breaks, it must not take this suite down with it.
      // The preparer next to this suite: its source in the workspace, its build in the package.
      const prepareFile = import.meta.url.endsWith('.ts') ? '../prepare.ts' : '../prepare.js';
      const prepare = new URL(prepareFile, import.meta.url).href;
      const script = `import { prepareScript } from ${JSON.stringify(prepare)};
const code = (source) => { const r = prepareScript(source, { language: 'ts', maxSourceBytes: 20 * 1024 }); return r.ok ? 'ok' : r.error.code; };
const out = {};
for (const [label, source] of Object.entries({
  parens: 'return ' + '('.repeat(3000) + '1' + ')'.repeat(3000) + ';',
  brackets: 'return ' + '['.repeat(5000) + ']'.repeat(5000) + ';',
  generics: 'let x: ' + 'A<'.repeat(3000) + 'B' + '>'.repeat(3000) + ' = 1; return 1;',
  ifs: 'if (1) '.repeat(2500) + 'return 1;',
})) out[label] = [code(source), code('const a: number = 1; return a;')];
console.log(JSON.stringify(out));`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(child.status, child.stderr).toBe(0);
      const out = JSON.parse(child.stdout) as Record<string, [string, string]>;
      for (const [label, [bomb, after]] of Object.entries(out)) {
        expect(['SYNTAX_ERROR', 'ok'], label).toContain(bomb);
        expect(after, `${label}: the next TypeScript script`).toBe('ok');
      }
    });

    // ── D. Side channels and cross-run leakage ───────────────────────────────────────────────

    it('S59: no high-resolution clock: no SharedArrayBuffer, Atomics, performance or process, and Date.now has whole-millisecond resolution (threat 39)', async () => {
      const { result } = await attack(
        `${WALK}
const { names } = await walk();
const g: any = globalThis;
const samples: number[] = []; for (let i = 0; i < 20000; i++) samples.push(Date.now());
return { types: ['SharedArrayBuffer', 'Atomics', 'performance', 'process', 'Worker'].map((n) => typeof g[n]),
  found: names.filter((n) => /^(?:SharedArrayBuffer|Atomics|performance|hrtime|timeOrigin|Worker)$/.test(n)),
  wholeMs: samples.every(Number.isInteger), distinct: new Set(samples).size };`,
        (result) => expect(result.ok).toBe(true),
      );
      expect(result.value).toMatchObject({
        types: ['undefined', 'undefined', 'undefined', 'undefined', 'undefined'],
        found: [],
        wholeMs: true,
      });
      // 20,000 samples take a few milliseconds: a clock finer than 1 ms would show thousands.
      expect((result.value as { distinct: number }).distinct).toBeLessThan(1_000);
    });

    it('S60: everything script A can pollute is gone for script B, sequentially and while A still runs (threat 40)', async () => {
      const pollute = `const g: any = globalThis;
for (const [target, key] of [[Error, 'leak'], [Date, 'leak'], [Map, 'leak'], [Math, 'leak'], [JSON, 'leak'], [Object, 'leak'], [Symbol, 'leak'], [RegExp, 'leak'], [Error, 'prepareStackTrace'], [Error, 'stackTraceLimit'], [g, 'leak'], [Object.prototype, 'leak'], [context, 'leak'], [tools, 'leak'], [console, 'leak']] as [any, string][]) {
  try { target[key] = 0; } catch {}
  try { Object.defineProperty(target, key, { value: 0, configurable: true }); } catch {}
}
Symbol.for('bleed'); /secret-(\\w+)/.exec('secret-match');
tools.slow({ ms: 2000, label: 'bleed' });`;
      await attack(`${pollute}\nreturn 'polluted';`, { value: 'polluted' });
      const check = `const g: any = globalThis;
return { leaks: [Error, Date, Map, Math, JSON, Object, Symbol, RegExp, g, Object.prototype, context, tools, console].map((t: any) => Object.hasOwn(t, 'leak')),
  hook: typeof (Error as any).prepareStackTrace, regexp: String((RegExp as any).$1 ?? ''), lastMatch: String((RegExp as any).lastMatch ?? '') };`;
      const expected = {
        leaks: Array.from({ length: 13 }, () => false),
        hook: 'undefined',
        regexp: '',
        lastMatch: '',
      };
      await attack(check, { value: expected });
      // Interleaved: A pollutes and waits on a tool while B runs.
      const a = main.harness.run(
        `${pollute}\nawait tools.slow({ ms: 300, label: 'A' }); return typeof (Error as any).leak;`,
      );
      await settle(50);
      await attack(check, { value: expected });
      expect((await a).value).toBe('number');
    });

    it('S61: no GC observation: WeakRef, FinalizationRegistry and their methods are unreachable (threat 41)', async () => {
      const { result } = await attack(
        `${WALK}
const { names } = await walk();
return { types: [typeof (globalThis as any).WeakRef, typeof (globalThis as any).FinalizationRegistry], found: names.filter((n) => /^(?:WeakRef|FinalizationRegistry|deref|cleanupSome|unregister|gc)$/.test(n)) };`,
        (result) => expect(result.ok).toBe(true),
      );
      expect(result.value).toEqual({ types: ['undefined', 'undefined'], found: [] });
    });

    it('S62: guest strings never become log structure or telemetry labels: one console entry per call, unknown tools as (unknown) (threat 42)', async () => {
      const recordsBefore = records.length;
      const { result } = await attack(
        `console.log('first\\n{"level":"error","msg":"forged"}\\n\\x1b[31m');
for (const name of ['a\\nb', '\\x1b[2Jansi', '{"json":1}', 'x'.repeat(5000)]) { try { await (tools as any)[name]({}); } catch {} }
return 'done';`,
        { value: 'done' },
      );
      expect(result.console).toHaveLength(1);
      const labels = records
        .slice(recordsBefore)
        .map((record) => JSON.parse(record) as { toolCall?: { tool: string } })
        .flatMap((record) => (record.toolCall === undefined ? [] : [record.toolCall.tool]));
      expect(labels.length).toBeGreaterThanOrEqual(4);
      for (const label of labels)
        expect(label === '(unknown)' || main.harness.registry.names.includes(label)).toBe(true);
    });

    it('S51: rejections of every kind (tools, symbol-named errors, Proxy reasons, rejections after the script returned) never reach the host (threat 31)', async () => {
      await attack(
        `Promise.reject(new Error('ignored'));
tools.fail({ message: 'never awaited' });
(tools.attack.hostError as any)({ kind: 'aggregate' });
const e = new Error('s'); Object.defineProperty(e, 'name', { value: Symbol('n') }); Promise.reject(e);
Promise.reject(new Proxy({}, { get() { throw new Error('trap'); } }));
tools.add({ a: 1, b: 1 }).then(() => { throw new Error('in a job after the return'); });
(async () => { await null; throw Object.create(null); })();
return 'ok';`,
        { value: 'ok' },
      );
      await settle(100);
      expect(hostFaults).toEqual([]);
    });
  });
}
