/**
 * The runtime conformance suite. A runtime package calls `runtimeConformanceSuite` from one of its
 * test files; every runtime-dependent S* and F* test of the test plan then runs against it.
 * Passing it is what "a runtime" means.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeMessage } from '../message.ts';
import type { RuntimeAdapter } from '../runtime.ts';
import { CANARY_SECRET, type ConformanceHarness, createConformanceHarness } from './fixtures.ts';
import { providerIntegrationSuite } from './integrations.ts';
import { runtimeSecuritySuite } from './security.ts';

export interface ConformanceOptions {
  /** Builds the runtime under test (called once per suite). */
  readonly createRuntime: () => Promise<RuntimeAdapter>;
  /** True when scripts run concurrently in isolated threads or processes (pool modes). */
  readonly concurrentIsolation?: boolean;
}

/** Standard globals a runtime may expose; anything else in the guest's global object fails S35. */
export const ALLOWED_GLOBALS: ReadonlySet<string> = new Set([
  // ECMAScript
  'globalThis',
  'Infinity',
  'NaN',
  'undefined',
  'isFinite',
  'isNaN',
  'parseFloat',
  'parseInt',
  'decodeURI',
  'decodeURIComponent',
  'encodeURI',
  'encodeURIComponent',
  'escape',
  'unescape',
  'Object',
  'Function',
  'Array',
  'Number',
  'Boolean',
  'String',
  'Symbol',
  'BigInt',
  'Math',
  'JSON',
  'Reflect',
  'Proxy',
  'Promise',
  'Date',
  'RegExp',
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'Iterator',
  'ArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float16Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'Error',
  'EvalError',
  'RangeError',
  'ReferenceError',
  'SyntaxError',
  'TypeError',
  'URIError',
  'AggregateError',
  'InternalError',
  'SuppressedError',
  'DisposableStack',
  'AsyncDisposableStack',
  'Intl',
  // Added by the harness
  'tools',
  'console',
  'context',
  'ToolError',
  'ApprovalDeniedError',
]);

export const FORBIDDEN_GLOBALS = [
  'eval',
  'process',
  'require',
  'module',
  'exports',
  'global',
  'Buffer',
  'WebAssembly',
  'SharedArrayBuffer',
  'Atomics',
  'Worker',
  'WeakRef',
  'FinalizationRegistry',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'queueMicrotask',
  'fetch',
  'XMLHttpRequest',
  'importScripts',
  'os',
  'std',
  'print',
  'performance',
] as const;

export function runtimeConformanceSuite(name: string, options: ConformanceOptions): void {
  describe(`runtime conformance: ${name}`, () => {
    let runtime: RuntimeAdapter;
    let h: ConformanceHarness;
    const fresh = (limits?: Parameters<typeof createConformanceHarness>[1]) =>
      createConformanceHarness(runtime, limits);

    beforeAll(async () => {
      process.env.SCRIPT_HARNESS_TEST_CANARY = CANARY_SECRET;
      runtime = await options.createRuntime();
      h = fresh();
    });
    afterAll(async () => {
      await runtime.close?.();
    });

    const run = (source: string, runOptions?: Parameters<ConformanceHarness['harness']['run']>[1]) =>
      h.harness.run(source, runOptions);

    /** Nothing of the host (paths, secrets, stack frames) may appear in anything the script or model sees. */
    const expectNoHostLeak = (value: unknown) => {
      const text = JSON.stringify(value);
      expect(text).not.toContain(CANARY_SECRET);
      expect(text).not.toMatch(/node:internal|node_modules|\/srv\/host|file:\/\//);
    };

    describe('functional', () => {
      it('F1: a single tool call returns its result', async () => {
        const result = await run('return await tools.add({ a: 2, b: 3 });');
        expect(result).toMatchObject({ ok: true, value: 5 });
      });

      it('F3: TypeScript with types, interfaces, generics and async/await runs', async () => {
        const result = await run(`
interface Pair<T> { left: T; right: T }
type Sum = { total: number };
function pair<T>(left: T, right: T): Pair<T> { return { left, right }; }
async function total(p: Pair<number>): Promise<Sum> {
  const value: number = await tools.add({ a: p.left, b: p.right });
  return { total: value };
}
const result = await total(pair<number>(20, 22)) satisfies Sum;
return result as Sum;`);
        expect(result).toMatchObject({ ok: true, value: { total: 42 } });
      });

      it('F4: Promise.all over three tools resolves all three', async () => {
        const result = await run(`
const [a, b, c] = await Promise.all([tools.add({ a: 1, b: 1 }), tools.echo({ value: 'two' }), tools.math.multiply({ a: 3, b: 3 })]);
return [a, b.value, c];`);
        expect(result).toMatchObject({ ok: true, value: [2, 'two', 9] });
        expect(result.calls).toHaveLength(3);
      });

      it('F5: Promise.race: the winner returns and the losing tool calls are aborted', async () => {
        const { harness, observations } = fresh();
        const result = await harness.run(`
return await Promise.race([tools.slow({ ms: 5, label: 'fast' }), tools.slow({ ms: 3000, label: 'slow' })]);`);
        expect(result).toMatchObject({ ok: true, value: 'fast' });
        expect(observations.aborted).toEqual(['slow']);
        expect(
          result.calls.find((call) => call.args && (call.args as { label: string }).label === 'slow')?.status,
        ).toBe('aborted');
      });

      it('F6: a failing tool throws into the script; try/catch handles it and the script goes on', async () => {
        const result = await run(`
let caught;
try { await tools.fail({ message: 'disk full' }); } catch (error) { caught = { name: error.name, code: error.code, message: error.message }; }
const after = await tools.add({ a: 1, b: 2 });
return { caught, after };`);
        expect(result.ok).toBe(true);
        const value = result.value as { caught: { name: string; code: string; message: string }; after: number };
        expect(value.caught.name).toBe('ToolError');
        expect(value.caught.code).toBe('TOOL_ERROR');
        expect(value.caught.message).toContain('disk full');
        expect(value.after).toBe(3);
        expectNoHostLeak(result);
      });

      it('F7: the output of one tool feeds the next', async () => {
        const result = await run(`
const sum = await tools.add({ a: 2, b: 3 });
const product = await tools.math.multiply({ a: sum, b: 10 });
return (await tools.echo({ value: product })).value;`);
        expect(result).toMatchObject({ ok: true, value: 50 });
      });

      it('F8: nested objects and arrays returned by the script come back intact', async () => {
        const value = { a: [1, { b: [true, null, 'x'] }], c: { d: { e: -1.5, f: 'ünïcödé ✓' } }, g: [] };
        const result = await run(`return ${JSON.stringify(value)};`);
        expect(result).toMatchObject({ ok: true, value });
      });

      it('F10: progress events emitted by the script stream to the caller while it runs', async () => {
        const events: string[] = [];
        const result = await run(
          `context.emitProgress('step one'); await tools.slow({ ms: 5, label: 'p' }); return 1;`,
          {
            onEvent: (event) => {
              if (event.type === 'script_progress') events.push(`progress:${event.message}`);
              if (event.type === 'tool_result') events.push('tool_result');
            },
          },
        );
        expect(result.ok).toBe(true);
        expect(events).toEqual(['progress:step one', 'tool_result']);
      });

      it('F12: a denied approval throws a catchable ApprovalDeniedError; the script continues', async () => {
        const result = await run(`
try { await tools.needsApproval({ action: 'deploy' }); return 'ran'; }
catch (error) { return { name: error.name, code: error.code, isToolError: error instanceof ToolError, isDenied: error instanceof ApprovalDeniedError }; }`);
        expect(result).toMatchObject({
          ok: true,
          value: { name: 'ApprovalDeniedError', code: 'APPROVAL_DENIED', isToolError: true, isDenied: true },
        });
      });

      it('F13: every tool call and its output appear in the call log', async () => {
        const result = await run(`
await tools.add({ a: 1, b: 2 });
try { await tools.fail({ message: 'nope' }); } catch {}
await tools.echo({ value: [1, 2] });
return null;`);
        expect(result.calls.map((call) => [call.tool, call.status])).toEqual([
          ['add', 'ok'],
          ['fail', 'error'],
          ['echo', 'ok'],
        ]);
        expect(result.calls[0]).toMatchObject({ args: { a: 1, b: 2 }, value: 3 });
        expect(result.calls[2]).toMatchObject({ value: { value: [1, 2] } });
      });

      it('F14: a per-request timeout override works within the maximum and is refused above it', async () => {
        const { harness } = fresh({ maxLimits: { timeoutMs: 10_000 } });
        const within = await harness.run('while (true) {}', { limits: { timeoutMs: 100 } });
        expect(within.error?.code).toBe('TIMEOUT');
        const above = await harness.run('return 1', { limits: { timeoutMs: 60_000 } });
        expect(above.error?.code).toBe('INVALID_REQUEST');
        expect(above.error?.message).toContain('timeoutMs');
      });

      it('F16: a reused sandbox host carries no state from the previous script', async () => {
        const first = await run('Date.leak = 42; globalThis.leaked = 1; return typeof Date.leak;');
        expect(first.ok).toBe(false); // the global object is frozen
        const second = await run('Date.leak2 = 42; return Date.leak2;');
        expect(second).toMatchObject({ ok: true, value: 42 });
        const third = await run('return [typeof Date.leak, typeof Date.leak2, typeof globalThis.leaked];');
        expect(third).toMatchObject({ ok: true, value: ['undefined', 'undefined', 'undefined'] });
      });

      it('F21: context fields are readable', async () => {
        const result = await run(
          'return { id: context.scriptId, tools: context.tools, t: context.limits.timeoutMs, wd: context.workingDirectory };',
          {
            context: { workingDirectory: '/workspace' },
            scriptId: 'script-f21',
          },
        );
        expect(result.ok).toBe(true);
        const value = result.value as { id: string; tools: string[]; t: number; wd: string };
        expect(value.id).toBe('script-f21');
        expect(value.tools).toContain('add');
        expect(value.t).toBe(5_000);
        expect(value.wd).toBe('/workspace');
      });

      it('F22: a script with no return value yields undefined cleanly', async () => {
        const result = await run('const x = 1 + 1;');
        expect(result.ok).toBe(true);
        expect(result.value).toBeUndefined();
      });

      it('F24: invalid tool arguments are refused before the tool runs, with the failing schema path', async () => {
        const { harness, observations } = fresh();
        const result = await harness.run(`
try { await tools.add({ a: 1, b: 'two' }); } catch (error) { return { code: error.code, path: error.details.path }; }`);
        expect(result).toMatchObject({ ok: true, value: { code: 'TOOL_VALIDATION', path: ['b'] } });
        const unknownKey = await harness.run(`return await tools.add({ a: 1, b: 2, __proto__x: 1 });`);
        expect(unknownKey.error?.code).toBe('TOOL_VALIDATION');
        expect(observations.executions).toBe(0);
      });

      it('F25: functions and classes defined inside the script work', async () => {
        const result = await run(`
class Counter { #n = 0; increment() { return ++this.#n; } static of(n: number) { const c = new Counter(); for (let i = 0; i < n; i++) c.increment(); return c; } }
function* range(n: number) { for (let i = 0; i < n; i++) yield i; }
const double = (x: number) => x * 2;
return { count: Counter.of(3).increment(), doubled: [...range(4)].map(double) };`);
        expect(result).toMatchObject({ ok: true, value: { count: 4, doubled: [0, 2, 4, 6] } });
      });

      it('F26: console events are captured and rate limited as configured', async () => {
        const { harness } = fresh({ limits: { maxConsoleEvents: 5, consoleEventsPerSecond: 100 } });
        const result = await harness.run(
          `for (let i = 0; i < 50; i++) console.log('line', i); console.error({ x: 1 }); return 1;`,
        );
        expect(result.ok).toBe(true);
        expect(result.console).toHaveLength(5);
        expect(result.console[0]).toMatchObject({ level: 'log', text: 'line 0' });
        expect(result.metadata.consoleDropped).toBe(46);
      });

      it('F27: on timeout, the results of tool calls that completed are returned as partial results', async () => {
        const result = await run(
          `const a = await tools.add({ a: 1, b: 1 }); await tools.slow({ ms: 10_000, label: 'never' }); return a;`,
          { limits: { timeoutMs: 300 } },
        );
        expect(result.error?.code).toBe('TIMEOUT');
        expect(result.partial?.map((call) => [call.tool, call.value])).toEqual([['add', 2]]);
      });

      it('F28: an unknown tool fails at once and suggests the closest names', async () => {
        const result = await run('return await tools.ad({ a: 1, b: 2 });');
        expect(result.error?.code).toBe('TOOL_NOT_FOUND');
        expect(result.error?.message).toContain('tools.add');
        expect(result.error?.line).toBe(1);
      });

      it('F29: a syntax error reports line and column in the model’s own source', async () => {
        const result = await run('const a = 1;\nconst b: number = ;\nreturn a;');
        expect(result.error).toMatchObject({ code: 'SYNTAX_ERROR', line: 2 });
        expect(result.error?.column).toBeGreaterThan(0);
        const thrown = await run('const a = 1;\n\n  throw new Error("boom");');
        // Engines point at different tokens of the throwing expression; the line is what must match.
        expect(thrown.error).toMatchObject({ code: 'GUEST_ERROR', line: 3 });
        expect(thrown.error?.column).toBeGreaterThanOrEqual(3);
        expect(thrown.error?.stack).toMatch(/^Error: boom\n {4}at script\.ts:3:\d+$/);
      });

      it('F30: exceeding the tool-call budget throws a typed error', async () => {
        const { harness } = fresh({ limits: { maxToolCalls: 3 } });
        const result = await harness.run(`
const results = [];
for (let i = 0; i < 5; i++) { try { results.push(await tools.add({ a: i, b: 0 })); } catch (error) { results.push(error.code); } }
return results;`);
        expect(result).toMatchObject({ ok: true, value: [0, 1, 2, 'TOOL_BUDGET', 'TOOL_BUDGET'] });
      });

      it('F2, F9: text, reasoning and script keep their order in the history', async () => {
        const message = `<thinking>I should add the numbers.</thinking>
Let me compute that.
<tool-calls>
return await tools.add({ a: 40, b: 2 });
</tool-calls>
The answer is above.`;
        const execution = await executeMessage(h.harness, message);
        expect(execution.items.map((item) => item.type)).toEqual([
          'reasoning',
          'text',
          'script_tool_call',
          'script_tool_call_output',
          'text',
        ]);
        expect(execution.items[3]).toMatchObject({ ok: true, value: 42 });
      });

      it('F17: disabled mode replaces the block with a notice and runs nothing', async () => {
        const { harness, observations } = fresh();
        const execution = await executeMessage(
          harness,
          'Before <tool-calls>await tools.add({ a: 1, b: 1 })</tool-calls> after',
          {
            mode: 'disabled',
          },
        );
        expect(observations.executions).toBe(0);
        expect(execution.results).toHaveLength(0);
        expect(execution.items.map((item) => item.type)).toEqual(['text', 'text', 'text']);
        expect(JSON.stringify(execution.items[1])).toContain('disabled');
      });

      it('F18, S20: dry-run returns a validation report, executes nothing and calls no tool', async () => {
        const { harness, observations } = fresh();
        const execution = await executeMessage(
          harness,
          '<tool-calls>\nawait tools.add({ a: 1, b: 1 });\nawait tools.sendEmail({});\n</tool-calls>',
          { mode: 'dry-run' },
        );
        expect(observations.executions).toBe(0);
        const output = execution.items.find((item) => item.type === 'script_tool_call_output');
        expect(output).toMatchObject({ ok: false, report: { findings: [{ code: 'TOOL_NOT_FOUND' }] } });
        const banned = harness.check('const fs = require("fs");');
        expect(banned.findings[0]).toMatchObject({ code: 'BANNED_CONSTRUCT', construct: 'require', line: 1 });
      });

      it('F19: the fenced ```ts tool-calls form is detected like the tag form', async () => {
        const execution = await executeMessage(
          h.harness,
          'Run:\n```ts tool-calls\nreturn await tools.add({ a: 1, b: 2 });\n```\nDone.',
        );
        expect(execution.items.map((item) => item.type)).toEqual([
          'text',
          'script_tool_call',
          'script_tool_call_output',
          'text',
        ]);
        expect(execution.items[2]).toMatchObject({ ok: true, value: 3 });
      });

      it('F20: several blocks in one message run in order; later blocks see earlier results', async () => {
        const execution = await executeMessage(
          h.harness,
          '<tool-calls>return 20;</tool-calls> then <tool-calls>return context.previousResults[0].value + 22;</tool-calls>',
        );
        expect(execution.results.map((result) => result.value)).toEqual([20, 42]);
      });
    });

    describe('limits: each one crossed ends with its exact code', () => {
      it('F11: a tool that needs approval pauses the script; the clock stands still while a person decides', async () => {
        const decisions: string[] = [];
        const { harness } = fresh({
          limits: { timeoutMs: 200 },
          approvals: {
            request: (request) =>
              new Promise((resolve) =>
                setTimeout(() => {
                  decisions.push(request.tool);
                  resolve({ approved: true, by: 'test' });
                }, 500),
              ),
          },
        });
        const result = await harness.run('const done = await tools.needsApproval({ action: "deploy" }); return done;');
        expect(result).toMatchObject({ ok: true, value: 'done: deploy' });
        expect(decisions).toEqual(['needsApproval']);
        // The clock runs again after the decision.
        const after = await harness.run('await tools.needsApproval({ action: "x" }); while (true) {}');
        expect(after.error?.code).toBe('TIMEOUT');
      });

      it('maxConcurrentToolCalls: further calls wait their turn', async () => {
        const { harness, observations } = fresh({ limits: { maxConcurrentToolCalls: 2 } });
        const result = await harness.run(
          'return await Promise.all([1, 2, 3, 4, 5, 6].map((i) => tools.slow({ ms: 20, label: String(i) })));',
        );
        expect(result.value).toEqual(['1', '2', '3', '4', '5', '6']);
        expect(observations.maxInFlight).toBe(2);
      });

      it('maxToolOutputBytes: an oversized tool result is refused with OUTPUT_LIMIT', async () => {
        const { harness } = fresh({ limits: { maxToolOutputBytes: 1000 } });
        const result = await harness.run(
          'try { await tools.echo({ value: "x".repeat(2000) }); } catch (e) { return e.code; }',
        );
        expect(result.value).toBe('OUTPUT_LIMIT');
      });

      it('maxToolArgsBytes: oversized arguments are refused with TOOL_VALIDATION before reaching the host', async () => {
        const { harness, observations } = fresh({ limits: { maxToolArgsBytes: 1000 } });
        const result = await harness.run(
          'try { await tools.echo({ value: "x".repeat(2000) }); } catch (e) { return e.code; }',
        );
        expect(result.value).toBe('TOOL_VALIDATION');
        expect(observations.executions).toBe(0);
      });

      it('maxProgressEvents and progressIntervalMs: extra progress events are dropped', async () => {
        const { harness } = fresh({ limits: { maxProgressEvents: 2, progressIntervalMs: 0 } });
        const seen: string[] = [];
        await harness.run('for (let i = 0; i < 10; i++) context.emitProgress("p" + i);', {
          onEvent: (event) => event.type === 'script_progress' && seen.push(event.message),
        });
        expect(seen).toEqual(['p0', 'p1']);
        const spaced = fresh({ limits: { progressIntervalMs: 10_000 } });
        const spacedSeen: string[] = [];
        await spaced.harness.run('for (let i = 0; i < 10; i++) context.emitProgress("p" + i);', {
          onEvent: (event) => event.type === 'script_progress' && spacedSeen.push(event.message),
        });
        expect(spacedSeen).toEqual(['p0']);
      });

      it('consoleEventsPerSecond and maxConsoleLineBytes: bursts are dropped and long lines cut', async () => {
        const { harness } = fresh({ limits: { consoleEventsPerSecond: 20, maxConsoleLineBytes: 100 } });
        const result = await harness.run('for (let i = 0; i < 50; i++) console.log(i); console.warn("y".repeat(500));');
        expect(result.console).toHaveLength(20);
        expect(result.metadata.consoleDropped).toBe(31);
        const long = await fresh({ limits: { maxConsoleLineBytes: 100 } }).harness.run('console.log("y".repeat(500));');
        expect(long.console[0]?.text.length).toBeLessThanOrEqual(100);
      });

      it('maxSourceBytes: an oversized script is refused with SOURCE_TOO_LARGE', async () => {
        const { harness } = fresh({ limits: { maxSourceBytes: 100 } });
        const result = await harness.run(`return ${'1 + '.repeat(100)}1;`);
        expect(result.error?.code).toBe('SOURCE_TOO_LARGE');
      });

      it('stackKb: a smaller stack ends moderate recursion as STACK_OVERFLOW', async () => {
        const { harness } = fresh({ limits: { stackKb: 64 } });
        const shallow = await harness.run(
          'function f(n: number): number { return n === 0 ? 0 : f(n - 1) + 1; } return f(50);',
        );
        expect(shallow.value).toBe(50);
        const deep = await harness.run(
          'function f(n: number): number { return n === 0 ? 0 : f(n - 1) + 1; } return f(100000);',
        );
        expect(deep.error?.code).toBe('STACK_OVERFLOW');
      });
    });

    providerIntegrationSuite(() => runtime);

    describe('security', () => {
      it('S1: writing to Object.prototype (or any intrinsic prototype) fails and does not leak to the next run', async () => {
        for (const target of [
          'Object.prototype',
          'Array.prototype',
          'Function.prototype',
          'String.prototype',
          'Promise.prototype',
          'Error.prototype',
          'Map.prototype',
        ]) {
          const result = await run(`${target}.polluted = 1; return 'wrote';`);
          expect(result.ok, target).toBe(false);
          expect(result.error?.message).toMatch(/not extensible|read-only|read only|Cannot add property/i);
        }
        const next = await run('return [typeof ({}).polluted, typeof [].polluted];');
        expect(next.value).toEqual(['undefined', 'undefined']);
      });

      it('S2: tools cannot be reassigned, extended or have a member replaced', async () => {
        for (const attack of [
          'tools = {};',
          'globalThis.tools = {};',
          'tools.add = () => 1;',
          'tools.extra = () => 1;',
          'delete tools.add;',
          'Object.defineProperty(tools, "add", { value: 1 });',
          'Object.setPrototypeOf(tools, {});',
          'tools.math.multiply = () => 1;',
        ]) {
          const result = await run(`${attack}\nreturn 'changed';`);
          expect(result.ok, attack).toBe(false);
        }
        const intact = await run('return await tools.add({ a: 1, b: 1 });');
        expect(intact.value).toBe(2);
      });

      it('S3: require is refused before anything runs, with a clear error and line', async () => {
        const { harness, observations } = fresh();
        const result = await harness.run('await tools.add({ a: 1, b: 1 });\nconst fs = require("fs");');
        expect(result.error).toMatchObject({ code: 'BANNED_CONSTRUCT', line: 2 });
        expect(result.error?.message).toContain('require');
        expect(observations.executions).toBe(0);
        // In a string or comment it is not a finding.
        const harmless = await harness.run('// require("fs")\nreturn "require(\'fs\')";');
        expect(harmless).toMatchObject({ ok: true, value: "require('fs')" });
      });

      it('S4: static and dynamic import are refused the same way', async () => {
        for (const source of [
          'import fs from "fs";\nreturn 1;',
          'const m = await import("fs");',
          'const m = await import(\n/* x */ "fs");',
          'const m = await \\u0069mport("fs");',
        ]) {
          const result = await run(source);
          expect(result.ok, source).toBe(false);
          expect(['BANNED_CONSTRUCT', 'SYNTAX_ERROR'], source).toContain(result.error?.code);
        }
      });

      it('S5: while(true){} ends as TIMEOUT within the deadline plus a small margin', async () => {
        const started = Date.now();
        const result = await run('while (true) {}', { limits: { timeoutMs: 200 } });
        expect(result.error?.code).toBe('TIMEOUT');
        expect(Date.now() - started).toBeLessThan(200 + 1_500);
        const after = await run('return 1;');
        expect(after.value).toBe(1);
      });

      it('S6: an endless chain of promise jobs ends as TIMEOUT', async () => {
        for (const source of [
          'const loop = () => Promise.resolve().then(loop); loop(); await new Promise(() => {});',
          'async function f() { while (true) await null; } await f();',
          'const loop = () => Promise.resolve().then(loop); loop(); return 1;',
        ]) {
          const result = await run(source, { limits: { timeoutMs: 200 } });
          expect(result.error?.code, source).toBe('TIMEOUT');
        }
      });

      it('S7: a huge allocation ends as MEMORY_LIMIT; the host stays up', async () => {
        // Allocation patterns that reach the limit quickly. (`new Array(n).fill()` on a huge sparse
        // array is a long native builtin in QuickJS; the pool's kill switch covers it, see pool tests.)
        for (const source of [
          'const a = []; for (;;) a.push([1, 2, 3, 4, 5, 6, 7, 8]);',
          'return "x".repeat(2 ** 28).length;',
          'return new ArrayBuffer(2 ** 30).byteLength;',
          'const m = new Map(); for (let i = 0; ; i++) m.set(i, { i });',
        ]) {
          const result = await run(source, { limits: { memoryMb: 32 } });
          expect(result.error?.code, source).toBe('MEMORY_LIMIT');
        }
        // Doubling a string may hit the engine's string length limit before the memory limit.
        const doubling = await run('let s = "x"; for (;;) s += s;', { limits: { memoryMb: 32 } });
        expect(['MEMORY_LIMIT', 'GUEST_ERROR']).toContain(doubling.error?.code);
        expect((await run('return "alive";')).value).toBe('alive');
      });

      it('S8: unbounded recursion ends as STACK_OVERFLOW, not a host crash', async () => {
        for (const source of [
          'function f(n: number): number { return f(n + 1) + 1; }\nreturn f(0);',
          'let o: any = {}; for (let i = 0; i < 200000; i++) o = { o }; return JSON.stringify(o).length;',
          'return JSON.parse("[".repeat(200000) + "]".repeat(200000)).length;',
        ]) {
          // Building 200,000 nested objects takes seconds on a busy machine; the deadline is not what is tested.
          const result = await run(source, { limits: { timeoutMs: 60_000 } });
          expect(result.error?.code, source).toBe('STACK_OVERFLOW');
        }
        expect((await run('return "alive";')).value).toBe('alive');
      });

      it('S9: eval is unavailable inside the sandbox', async () => {
        const result = await run('return [typeof eval, typeof globalThis["ev" + "al"]];');
        expect(result.value).toEqual(['undefined', 'undefined']);
        const indirect = await run('return (0, globalThis["ev" + "al"])("1 + 1");');
        expect(indirect.ok).toBe(false);
      });

      it('S10: the Function constructor (also through (()=>{}).constructor) cannot compile code', async () => {
        for (const source of [
          'return Function("return 1")();',
          'return new Function("return 1")();',
          'return (() => {}).constructor("return 1")();',
          'return (async () => {}).constructor("return 1")();',
          'return (function* () {}).constructor("yield 1")().next();',
          'return (async function* () {}).constructor("yield 1")();',
          'return Reflect.construct(Object.getPrototypeOf(function () {}).constructor, ["return 1"])();',
          'return tools.add.constructor("return this")();',
          'return console.log.constructor.constructor("return this")();',
          'return context.constructor.constructor("return this")();',
        ]) {
          const result = await run(source);
          expect(result.ok, source).toBe(false);
          expect(result.error?.message, source).toMatch(/code generation|cannot compile|not a function|not available/);
        }
      });

      it('S11: process, require, module and globalThis.process are all undefined', async () => {
        const result = await run(
          'return [typeof process, typeof require, typeof module, typeof globalThis.process, typeof exports, typeof Buffer];',
        );
        expect(result.value).toEqual(['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined']);
      });

      it('S12: context is deeply read-only', async () => {
        for (const attack of [
          'context.scriptId = "x";',
          'context.limits.timeoutMs = 1;',
          'context.tools.push("x");',
          'context.extra = 1;',
          'delete context.scriptId;',
          'context.emitProgress = () => {};',
        ]) {
          const result = await run(`${attack}\nreturn 'changed';`);
          expect(result.ok, attack).toBe(false);
        }
      });

      it('S13: injected objects and their prototypes are frozen', async () => {
        const result = await run(`
const frozenChain = (o: any) => { for (let p = o; p !== null; p = Object.getPrototypeOf(p)) if (!Object.isFrozen(p)) return false; return true; };
return [frozenChain(console), frozenChain(context), frozenChain(context.limits), frozenChain(tools.add), frozenChain(ToolError.prototype), frozenChain(await tools.echo({ value: { nested: [1] } }))];`);
        expect(result.value).toEqual([true, true, true, true, true, true]);
      });

      it('S14: Promise and its prototype cannot be tampered with to affect the harness', async () => {
        for (const attack of [
          'Promise.prototype.then = function () { return 1; };',
          'Promise.resolve = () => 1;',
          'Object.defineProperty(Promise.prototype, "then", { get() { throw 1; } });',
          'JSON.parse = () => ({ ok: true, value: "forged" });',
          'JSON.stringify = () => "forged";',
          'Array.prototype.push = () => 0;',
        ]) {
          const result = await run(
            `try { ${attack} } catch {}\nreturn [await tools.add({ a: 1, b: 1 }), await Promise.resolve(3)];`,
          );
          expect(result, attack).toMatchObject({ ok: true, value: [2, 3] });
        }
      });

      it('S15: a hung script is stopped without affecting other scripts or the host', async () => {
        const hung = run('while (true) {}', { limits: { timeoutMs: 300 } });
        const normal = options.concurrentIsolation ? run('return await tools.add({ a: 1, b: 2 });') : undefined;
        expect((await hung).error?.code).toBe('TIMEOUT');
        if (normal !== undefined) expect((await normal).value).toBe(3);
        expect((await run('return await tools.add({ a: 2, b: 2 });')).value).toBe(4);
      });

      it('S35: the global inventory is exactly the allowlist (threat 15)', async () => {
        const result = await run('return Reflect.ownKeys(globalThis).map(String);');
        expect(result.ok).toBe(true);
        const names = result.value as string[];
        const unexpected = names.filter((key) => !ALLOWED_GLOBALS.has(key) && !key.startsWith('Symbol('));
        expect(unexpected).toEqual([]);
        for (const injected of ['tools', 'console', 'context', 'ToolError', 'ApprovalDeniedError'])
          expect(names).toContain(injected);
        for (const forbidden of FORBIDDEN_GLOBALS) expect(names).not.toContain(forbidden);
      });

      it('S16: state written by script A is invisible to script B', async () => {
        await run('Math.secret = "from A"; Reflect.defineProperty(Math, "other", { value: 1 }); return 1;');
        const result = await run('return [typeof Math.secret, typeof Math.other, Object.keys(Math).length];');
        expect(result.value?.toString()).toMatch(/^undefined,undefined,\d+$/);
      });

      it('S17: a tool promise that is never awaited is aborted when the script ends', async () => {
        const { harness, observations } = fresh();
        const result = await harness.run(`tools.slow({ ms: 5000, label: 'detached' }); return 'done';`);
        expect(result).toMatchObject({ ok: true, value: 'done' });
        expect(observations.aborted).toEqual(['detached']);
        expect(result.warnings.map((warning) => warning.code)).toEqual(['DETACHED_PROMISE']);
        const allowed = await harness.run(`tools.slow({ ms: 5000, label: 'allowed' }); return 1;`, {
          allowDetached: true,
        });
        expect(allowed.warnings).toEqual([]);
        expect(observations.aborted).toEqual(['detached', 'allowed']);
      });

      it('S18: Worker, SharedArrayBuffer, Atomics and WebAssembly are unavailable', async () => {
        const result = await run(
          'return [typeof Worker, typeof SharedArrayBuffer, typeof Atomics, typeof WebAssembly, typeof WeakRef, typeof FinalizationRegistry];',
        );
        expect(result.value).toEqual(['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined']);
      });

      it('S19: a return value over the cap ends as OUTPUT_LIMIT, with what fits, marked truncated', async () => {
        const { harness } = fresh({ limits: { maxOutputBytes: 1024 } });
        const result = await harness.run('return "x".repeat(5000);');
        expect(result.error?.code).toBe('OUTPUT_LIMIT');
        expect(result.error?.details).toMatchObject({ truncated: true });
        expect(String(result.error?.details?.preview).length).toBeLessThanOrEqual(1024);
      });

      it('S21: constructor walks from every injected object and tool value reach no host Function (threat 1)', async () => {
        const result = await run(`
const found = [];
let toolError: any;
try { await tools.fail({ message: 'x' }); } catch (e) { toolError = e; }
const sources: any[] = [tools, tools.add, tools.math, console, console.log, context, context.emitProgress, await tools.echo({ value: { a: 1 } }), toolError, ToolError, Promise.resolve(1)];
for (const s of sources) {
  try { const F = s.constructor.constructor; const r = F('return typeof process')(); found.push(r); } catch (e) { found.push('blocked'); }
}
return found;`);
        expect(result.ok).toBe(true);
        expect(new Set(result.value as string[])).toEqual(new Set(['blocked']));
      });

      it('S22: live host values in tool results are refused, never handed over (threat 2)', async () => {
        const result = await run('try { return await tools.hostObject({}); } catch (e) { return e.code; }');
        expect(result.value).toBe('SERIALIZATION');
        expectNoHostLeak(result);
      });

      it('S23: host errors reach the script as sanitised messages without host paths, stacks or secrets (threat 3)', async () => {
        const result = await run(
          'try { await tools.fail({ message: "boom" }); } catch (e) { return [e.message, e.stack, Object.keys(e)]; }',
        );
        expect(result.ok).toBe(true);
        expectNoHostLeak(result);
        expect(JSON.stringify(result.value)).toContain('<path>');
      });

      it('S24: hostile thrown values are described without running their code on the host (threat 4)', async () => {
        for (const source of [
          'throw { get message() { throw new Error("trap"); }, get name() { while (true) {} } };',
          'throw new Proxy({}, { get() { throw new Error("proxy trap"); }, getPrototypeOf() { throw new Error("p"); } });',
          'throw Object.create(null);',
          'throw Symbol("s");',
          'const e = new Error("m"); Object.defineProperty(e, "name", { value: Symbol("x") }); throw e;',
          'throw { toString() { throw 1; }, [Symbol.toPrimitive]() { throw 2; } };',
          'const a: any = {}; a.self = a; throw a;',
        ]) {
          const result = await run(source, { limits: { timeoutMs: 1000 } });
          expect(result.ok, source).toBe(false);
          expect(['GUEST_ERROR', 'TIMEOUT'], source).toContain(result.error?.code);
        }
        expect((await run('return "alive";')).value).toBe('alive');
      });

      it('S29: thenables and hostile values returned by the script are data, never awaited by the host (threats 9, 20)', async () => {
        // The script's own async function adopts a thenable it returns — with guest resolvers, inside
        // the sandbox. The host only ever receives the resulting string.
        const thenable = await run('return { then(resolve: any) { resolve("adopted in the guest"); } };');
        expect(thenable).toMatchObject({ ok: true, value: 'adopted in the guest' });
        const thenableArgs = await run(
          'return await tools.echo({ value: { then() { throw new Error("host called me"); } } });',
        );
        expect(thenableArgs).toMatchObject({ ok: true, value: { value: {} } });
        const toJSON = await run('return { toJSON() { return "from toJSON"; } };');
        expect(toJSON.value).toBe('from toJSON'); // ran inside the sandbox, under its deadline
        const cyclic = await run('const a: any = {}; a.a = a; return a;');
        expect(cyclic.error?.code).toBe('SERIALIZATION');
        const fn = await run('return () => 1;');
        expect(fn.error?.code).toBe('SERIALIZATION');
        const bigint = await run('return 10n;');
        expect(bigint.error?.code).toBe('SERIALIZATION');
      });

      it('S51: an unhandled rejection in the script never becomes a host unhandled rejection (threat 31)', async () => {
        const unhandled: unknown[] = [];
        const listener = (reason: unknown) => unhandled.push(reason);
        process.on('unhandledRejection', listener);
        try {
          const result = await run(`
Promise.reject(new Error('ignored'));
tools.fail({ message: 'also ignored' });
(async () => { throw new Error('async ignored'); })();
return 'ok';`);
          expect(result.value).toBe('ok');
          await new Promise((resolve) => setTimeout(resolve, 50));
          expect(unhandled).toEqual([]);
        } finally {
          process.off('unhandledRejection', listener);
        }
      });
    });
  });
  runtimeSecuritySuite(name, options);
}
