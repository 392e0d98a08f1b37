// The fuzz properties. Each holds for every generated input: never a crash, a hang or a host
// exception; always a result or a typed error; and nothing of the host in what comes back.
//
//   detector    detectScripts on adversarial assistant messages
//   serializer  toPlainJson on live host values (cycles, getters, Proxies, class instances, Symbols, BigInt)
//   arguments   tool and limit schemas on adversarial JSON, and the host's tool-call path end to end
//   roundtrip   JSON values returned by a script (directly and through a tool) come back equal
//   prepare     prepareScript on strings, bytes, nested fences, huge lines and deep nesting
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  createHarness,
  detectScripts,
  ERROR_CODES,
  HarnessError,
  LimitsSchema,
  prepareScript,
  type RuntimeAdapter,
  toPlainJson,
} from '../../packages/core/src/index.ts';
import { createAttackTools } from '../../packages/core/src/testing/attack-tools.ts';
import { CANARY_SECRET, createTestTools } from '../../packages/core/src/testing/fixtures.ts';
import { createQuickJSRuntime } from '../../packages/runtime-quickjs/src/index.ts';
import {
  adversarialJson,
  anyString,
  assistantMessage,
  hostValue,
  jsonText,
  scriptSource,
  sourceBytes,
} from './arbitraries.ts';

export interface FuzzProperty {
  readonly name: string;
  readonly description: string;
  /** Checks generated inputs (as many as `parameters.numRuns`) and resolves with fast-check's report. */
  check(parameters: fc.Parameters<unknown>): Promise<fc.RunDetails<unknown>>;
}

export interface FuzzProperties {
  readonly properties: readonly FuzzProperty[];
  close(): Promise<void>;
}

/** Plain JSON data all the way down (iteratively: values may be nested thousands deep). */
export function isPlainData(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') return false;
    if (value === null || typeof value !== 'object') continue;
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== Array.prototype) return false;
    for (const key of Reflect.ownKeys(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (typeof key === 'symbol' || descriptor === undefined || !('value' in descriptor)) return false;
      stack.push(descriptor.value);
    }
  }
  return true;
}

const HOST_DETAIL = /\/srv\/host|node:internal|node_modules/;
const objectPrototypeKeys = Reflect.ownKeys(Object.prototype).length;

function assertHostUntouched(): void {
  assert.equal(Reflect.ownKeys(Object.prototype).length, objectPrototypeKeys, 'Object.prototype was changed');
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was polluted');
}

function assertNoHostDetail(text: string): void {
  assert.ok(!text.includes(CANARY_SECRET), 'the canary secret leaked');
  assert.doesNotMatch(text, HOST_DETAIL, 'a host path or host internal leaked');
}

function syncProperty<Ts extends [unknown, ...unknown[]]>(
  name: string,
  description: string,
  property: fc.IProperty<Ts>,
): FuzzProperty {
  return {
    name,
    description,
    check: async (parameters) => fc.check(property, parameters as fc.Parameters<Ts>) as fc.RunDetails<unknown>,
  };
}

function asyncProperty<Ts extends [unknown, ...unknown[]]>(
  name: string,
  description: string,
  property: fc.IAsyncProperty<Ts>,
): FuzzProperty {
  return {
    name,
    description,
    check: async (parameters) => (await fc.check(property, parameters as fc.Parameters<Ts>)) as fc.RunDetails<unknown>,
  };
}

/** A runtime that does nothing but pass one tool call of the fuzzer through the host bridge. */
function bridgeRuntime(call: { name: string; argsJson: string; reply: string }): RuntimeAdapter {
  return {
    specificationVersion: 'v1',
    name: 'bridge-fuzz',
    createSandbox: () => ({
      async run(_request, bridge) {
        call.reply = await bridge.callTool(1, call.name, call.argsJson);
        return { ok: true, valueJson: undefined };
      },
      dispose() {},
    }),
  };
}

export async function createFuzzProperties(): Promise<FuzzProperties> {
  const observations = { aborted: [], completed: [], executions: 0 };
  const attacks = { ticks: [], lateFinished: [], received: [], hostGetterRuns: 0 };
  const tools = [...createTestTools(observations), ...createAttackTools(attacks)];

  // Arguments end to end: the host's size check, JSON parse, lookup, budget, schema, execute, copy.
  // Tools that wait (slow, stubborn) or fail with host detail on purpose (hostError) are left out.
  const callable = tools
    .map((tool) => tool.name)
    .filter((name) => !['slow', 'attack.stubborn', 'attack.hostError'].includes(name));
  const call = { name: '', argsJson: '', reply: '' };
  const bridgeHarness = createHarness({
    runtime: bridgeRuntime(call),
    tools,
    limits: { maxToolArgsBytes: 64 * 1024, maxToolCalls: 1_000_000 },
  });

  // The guest round trip runs on QuickJS in the calling thread.
  const quickjs = await createQuickJSRuntime({ mode: 'inline' });
  const guest = createHarness({ runtime: quickjs, tools: createTestTools(observations), limits: { timeoutMs: 5_000 } });

  const properties: FuzzProperty[] = [
    syncProperty(
      'detector',
      'detectScripts never throws or hangs, and its segments are ordered, inside the message and faithful to it',
      fc.property(assistantMessage, (message) => {
        const started = performance.now();
        const segments = detectScripts(message);
        assert.ok(performance.now() - started < 2_000, 'detection took more than 2 s');
        let cursor = 0;
        for (const segment of segments) {
          assert.ok(segment.start >= cursor, 'segments overlap or are out of order');
          assert.ok(
            segment.end >= segment.start && segment.end <= message.length,
            'a segment lies outside the message',
          );
          if (segment.type === 'text') assert.equal(segment.text, message.slice(segment.start, segment.end));
          if (segment.type === 'script') assert.ok(message.slice(segment.start, segment.end).includes(segment.source));
          cursor = segment.end;
        }
      }),
    ),
    syncProperty(
      'serializer',
      'toPlainJson returns plain JSON or throws SERIALIZATION, never another exception and never host detail',
      fc.property(hostValue, (value) => {
        let json: string | undefined;
        try {
          json = toPlainJson(value);
        } catch (error) {
          assert.ok(error instanceof HarnessError, `not a HarnessError: ${String(error)}`);
          assert.equal(error.code, 'SERIALIZATION');
          assertNoHostDetail(error.message);
          return;
        }
        if (json === undefined) return;
        assert.ok(json.isWellFormed(), 'the JSON is not well-formed Unicode');
        assert.ok(isPlainData(JSON.parse(json)), 'the copy is not plain data');
      }),
    ),
    syncProperty(
      'arguments',
      'tool and limit schemas accept only plain data from adversarial JSON and never pollute the host',
      fc.property(
        fc.constantFrom(...tools.map((tool) => [tool.name, tool.input] as const), ['limits', LimitsSchema] as const),
        jsonText,
        ([, schema], text) => {
          let input: unknown;
          try {
            input = JSON.parse(text);
          } catch {
            return;
          }
          const parsed = schema.safeParse(input);
          if (parsed.success && parsed.data !== undefined)
            assert.ok(isPlainData(parsed.data), 'validated data is not plain');
          assertHostUntouched();
        },
      ),
    ),
    asyncProperty(
      'tool-calls',
      'every tool call the host receives ends as a JSON reply with a value or a typed error, without host detail',
      fc.asyncProperty(
        fc.oneof(
          fc.constantFrom(...callable),
          anyString,
          fc.constantFrom('__proto__', 'constructor', 'add.constructor'),
        ),
        fc.oneof(jsonText, anyString),
        async (name, argsJson) => {
          Object.assign(call, { name, argsJson, reply: '' });
          const result = await bridgeHarness.run('return 1;', { language: 'js' });
          assert.equal(result.error, undefined, `the host failed: ${result.error?.message}`);
          const reply = JSON.parse(call.reply) as {
            ok: boolean;
            value?: unknown;
            error?: { code: string; message: string };
          };
          assert.equal(typeof reply.ok, 'boolean');
          if (reply.ok) assert.ok(isPlainData(reply.value ?? null), 'the reply value is not plain data');
          else {
            assert.ok(reply.error !== undefined && Object.hasOwn(ERROR_CODES, reply.error.code), 'untyped error');
            assert.equal(typeof reply.error.message, 'string');
          }
          assertNoHostDetail(call.reply);
          assertHostUntouched();
        },
      ),
    ),
    asyncProperty(
      'roundtrip',
      'JSON values returned by a QuickJS script, directly and through a tool, come back equal',
      fc.asyncProperty(adversarialJson, fc.boolean(), async (value, throughTool) => {
        const text = JSON.stringify(value);
        const literal = JSON.stringify(text);
        const source = throughTool
          ? `return (await tools.echo({ value: JSON.parse(${literal}) })).value;`
          : `return JSON.parse(${literal});`;
        const result = await guest.run(source, { language: 'js' });
        assert.equal(result.error, undefined, `the script failed: ${JSON.stringify(result.error)}`);
        assert.deepStrictEqual(result.value, JSON.parse(text));
      }),
    ),
    syncProperty(
      'prepare',
      'prepareScript gives a script or a typed error for any text or bytes, and an ordinary script still prepares after it',
      fc.property(
        fc.oneof(scriptSource, sourceBytes),
        fc.constantFrom('ts' as const, 'js' as const),
        (source, language) => {
          const result = prepareScript(source, { language, maxSourceBytes: 20 * 1024 });
          if (result.ok) assert.ok(result.script.code.startsWith('(async function () {"use strict";\n'));
          else {
            assert.ok(Object.hasOwn(ERROR_CODES, result.error.code), `untyped error ${result.error.code}`);
            assert.ok(result.findings.length > 0, 'a failure without findings');
          }
          const after = prepareScript('const a: number = 1;\nreturn a;', { language: 'ts', maxSourceBytes: 20 * 1024 });
          assert.ok(after.ok, `an ordinary script no longer prepares: ${after.ok ? '' : after.error.message}`);
        },
      ),
    ),
  ];

  return {
    properties,
    async close() {
      await guest.close();
      await bridgeHarness.close();
    },
  };
}
