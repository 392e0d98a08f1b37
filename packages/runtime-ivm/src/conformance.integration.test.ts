import { createHarness, type Harness, type RuntimeAdapter } from '@script-harness/core';
import { createTestTools, runtimeConformanceSuite } from '@script-harness/core/testing';
import { createQuickJSRuntime } from '@script-harness/runtime-quickjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIsolatedVMRuntime } from './runtime.ts';

runtimeConformanceSuite('isolated-vm', {
  createRuntime: () => createIsolatedVMRuntime({ size: 2 }),
  concurrentIsolation: true,
});

/** Small programs of every kind a model writes; both engines must agree on each result. */
const PARITY_PROGRAMS = [
  'return 6 * 7;',
  'return [0.1 + 0.2, 2 ** 53 + 1, -7 % 3, Math.max(3, 9, -1), Number.parseFloat("1e3"), (255).toString(16)];',
  'return "Hello, " + "world".toUpperCase() + "!".repeat(3) + " " + "  trim me ".trim();',
  'return "a,b,,c".split(",").map((part) => part.length);',
  'return [3, 1, 2].toSorted((a, b) => a - b).concat([..."xyz"], [[1, [2]]].flat(2));',
  'return Object.entries({ b: 2, a: 1 }).map(([key, value]) => key + value).join(";");',
  'return JSON.parse(JSON.stringify({ a: [1, { b: null }], c: "ü ✓", d: [true, false] }));',
  'return JSON.stringify({ z: 1, a: [true, { n: null }] }, null, 2);',
  'const m = new Map([["x", 1]]); m.set("y", 2); const s = new Set([1, 1, 2]); return [[...m].flat(), [...s], m.size + s.size];',
  'return [new Date(Date.UTC(2020, 1, 29, 12)).toISOString(), new Date(0).getTime()];',
  'class Counter { #n = 0; increment() { return ++this.#n; } } const c = new Counter(); c.increment(); return c.increment() + [1, 2, 3].at(-1)!;',
  'function* fib() { let [a, b] = [0, 1]; for (;;) { yield a; [a, b] = [b, a + b]; } } const out: number[] = []; for (const n of fib()) { if (n > 50) break; out.push(n); } return out;',
  'return await tools.add({ a: 20, b: 22 });',
  'const [x, y] = await Promise.all([tools.add({ a: 1, b: 2 }), tools.math.multiply({ a: 3, b: 4 })]); return x + y;',
  'let total = 0; for (const n of [1, 2, 3]) total = await tools.add({ a: total, b: n }); return total;',
  'return (await tools.echo({ value: { list: [1, "two", { three: 3 }] } })).value;',
  'try { await tools.fail({ message: "nope" }); } catch (e) { return [e.name, e.code, e instanceof ToolError]; }',
  'const settled = await Promise.allSettled([tools.add({ a: 1, b: 1 }), tools.fail({ message: "x" })]); return settled.map((s) => s.status);',
  'console.log("hello", { a: 1 }); return [typeof context.scriptId, context.tools.length > 0, typeof eval, typeof process];',
  'throw new TypeError("bad input");',
  'await tools.fail({ message: "unhandled" });',
  'return await tools.nope({});',
  'return await tools.add({ a: 1, b: "two" });',
  'function down(n: number): number { return down(n + 1) + 1; }\nreturn down(0);',
  'return () => 1;',
  'const a: any = {}; a.self = a; return a;',
  'await new Promise(() => {});',
  'return (() => {}).constructor("return 1")();',
] as const;

interface Comparable {
  readonly ok: boolean;
  readonly value?: unknown;
  readonly code?: string;
  readonly line?: number;
}

async function runAll(harness: Harness): Promise<Comparable[]> {
  const results: Comparable[] = [];
  for (const source of PARITY_PROGRAMS) {
    const result = await harness.run(source);
    results.push(
      result.ok
        ? { ok: true, value: result.value }
        : {
            ok: false,
            ...(result.error?.code === undefined ? {} : { code: result.error.code }),
            ...(result.error?.line === undefined ? {} : { line: result.error.line }),
          },
    );
  }
  return results;
}

describe('runtime parity', () => {
  let quickjs: RuntimeAdapter & { close(): Promise<void> };
  let isolatedVM: RuntimeAdapter & { close(): Promise<void> };
  beforeAll(async () => {
    [quickjs, isolatedVM] = await Promise.all([
      createQuickJSRuntime({ mode: 'inline' }),
      createIsolatedVMRuntime({ size: 1 }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([quickjs.close(), isolatedVM.close()]);
  });

  it('I9: the same conformance suite passes on QuickJS and isolated-vm (runtime parity)', async () => {
    const harnessOn = (runtime: RuntimeAdapter) =>
      createHarness({
        runtime,
        tools: createTestTools({ aborted: [], completed: [], executions: 0 }),
        limits: { timeoutMs: 5_000 },
      });
    const [onQuickJS, onIsolatedVM] = await Promise.all([runAll(harnessOn(quickjs)), runAll(harnessOn(isolatedVM))]);
    for (const [index, source] of PARITY_PROGRAMS.entries()) {
      const { line: v8Line, ...v8 } = onIsolatedVM[index] as Comparable;
      const { line: quickjsLine, ...quickjsResult } = onQuickJS[index] as Comparable;
      expect(v8, source).toEqual(quickjsResult);
      // Where both engines point at a line, it is the same line (V8 also locates a stack overflow).
      if (v8Line !== undefined && quickjsLine !== undefined) expect(v8Line, source).toBe(quickjsLine);
    }
    // The set covers successes and each kind of failure, not only one of them.
    expect(new Set(onQuickJS.map((result) => result.code ?? 'ok'))).toEqual(
      new Set([
        'ok',
        'GUEST_ERROR',
        'TOOL_ERROR',
        'TOOL_NOT_FOUND',
        'TOOL_VALIDATION',
        'STACK_OVERFLOW',
        'SERIALIZATION',
        'UNSETTLED_PROMISE',
      ]),
    );
  });
});
