/**
 * Tools the security suite attacks through, next to the fixture tools. Each plays a careless or
 * hostile host: it throws composite errors full of host detail, returns live host values, ignores
 * its abort signal, or reports exactly what it received. They are real tools; nothing is mocked.
 */
import { z } from 'zod';
import { createHarness, type Harness, type HarnessOptions } from '../harness.ts';
import type { RuntimeAdapter } from '../runtime.ts';
import type { Telemetry } from '../telemetry.ts';
import { type AnyTool, defineTool } from '../tool.ts';
import { CANARY_SECRET, createTestTools, type ToolObservations } from './fixtures.ts';

/** A host path with the canary in it, as a careless tool would put in its errors. */
export const CANARY_PATH = `/srv/host/secret/${CANARY_SECRET}/state.db`;

export interface AttackObservations {
  /** Hook names reported through `tick`: any entry means guest code ran where it must not. */
  readonly ticks: string[];
  /** `stubborn` calls that finished after the script had already ended. */
  readonly lateFinished: number[];
  /** Arguments exactly as `inspect` received them on the host. */
  readonly received: unknown[];
  /** How many times a host-side getter of a `hostValue` result ran. */
  hostGetterRuns: number;
}

/** Values `hostValue` returns; each must reach the script as plain data or as SERIALIZATION. */
export const HOST_VALUES = {
  map: 'refused',
  set: 'refused',
  typedArray: 'refused',
  classInstance: 'refused',
  error: 'refused',
  function: 'refused',
  symbol: 'refused',
  bigint: 'refused',
  cycle: 'refused',
  deep: 'refused',
  date: 'data',
  buffer: 'data',
  getter: 'data',
  nullPrototype: 'data',
  protoKey: 'data',
  arraySubclass: 'data',
} as const;
export type HostValueKind = keyof typeof HOST_VALUES;

/** Ways `hostError` fails; the script must see only a sanitised message. */
export const HOST_ERRORS = [
  'aggregate',
  'suppressed',
  'cause',
  'props',
  'object',
  'string',
  'throwingGetter',
  'throwingToJSON',
  'throwingProxy',
] as const;
export type HostErrorKind = (typeof HOST_ERRORS)[number];

class HostRecord {
  readonly secret = CANARY_SECRET;
  readonly path = CANARY_PATH;
}

function hostValue(kind: HostValueKind, observations: AttackObservations): unknown {
  switch (kind) {
    case 'map':
      return new Map([['secret', CANARY_SECRET]]);
    case 'set':
      return new Set([CANARY_SECRET]);
    case 'typedArray':
      return new TextEncoder().encode(CANARY_SECRET);
    case 'classInstance':
      return new HostRecord();
    case 'error':
      return new Error(`failed at ${CANARY_PATH}`);
    case 'function':
      return () => CANARY_SECRET;
    case 'symbol':
      return Symbol(CANARY_SECRET);
    case 'bigint':
      return 10n ** 30n;
    case 'cycle': {
      const node: Record<string, unknown> = { secret: CANARY_SECRET };
      node.self = node;
      return node;
    }
    case 'deep': {
      let nested: unknown[] = [CANARY_SECRET];
      for (let i = 0; i < 100_000; i++) nested = [nested];
      return nested;
    }
    case 'date':
      return new Date(Date.UTC(2030, 0, 2, 3, 4, 5));
    case 'buffer':
      return Buffer.from('plain bytes');
    case 'getter':
      return {
        get computed() {
          observations.hostGetterRuns++;
          return 'computed on the host';
        },
      };
    case 'nullPrototype':
      return Object.assign(Object.create(null) as object, { plain: true });
    case 'protoKey':
      return JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}');
    case 'arraySubclass':
      return HostList.from([1, 2, 3]);
  }
}

class HostList extends Array<number> {
  readonly secret = CANARY_SECRET;
}

function hostError(kind: HostErrorKind): unknown {
  const inner = new Error(`could not open ${CANARY_PATH}`);
  switch (kind) {
    case 'aggregate':
      return new AggregateError([inner, new TypeError(`bad handle ${CANARY_PATH}`)], 'several host failures', {
        cause: inner,
      });
    case 'suppressed':
      return new SuppressedError(inner, new Error(`cleanup failed at ${CANARY_PATH}`), 'a failure while cleaning up');
    case 'cause':
      return new Error('the host failed', { cause: inner });
    case 'props':
      return Object.assign(new Error('the host failed'), {
        secret: CANARY_SECRET,
        details: { path: CANARY_PATH },
        stack: `Error: the host failed\n    at open (${CANARY_PATH}:1:1)`,
      });
    case 'object':
      return { message: 'the host failed', secret: CANARY_SECRET, path: CANARY_PATH };
    case 'string':
      return `the host failed at ${CANARY_PATH}`;
    // The next three fail while the engine copies the result, not inside the tool itself.
    case 'throwingGetter':
      return {
        get row() {
          throw new Error(`cannot read ${CANARY_PATH}`);
        },
      };
    case 'throwingToJSON':
      return {
        toJSON() {
          throw new Error(`cannot serialise ${CANARY_PATH}`);
        },
      };
    case 'throwingProxy':
      return new Proxy(
        {},
        {
          ownKeys() {
            throw new Error(`cannot list ${CANARY_PATH}`);
          },
        },
      );
  }
}

export function createAttackTools(observations: AttackObservations): AnyTool[] {
  return [
    defineTool({
      name: 'attack.tick',
      description: 'Records that a hook ran; the security suite asserts that none did.',
      input: z.strictObject({ hook: z.string().max(64) }),
      execute: ({ hook }) => {
        observations.ticks.push(hook);
        return null;
      },
    }),
    defineTool({
      name: 'attack.stubborn',
      description: 'Ignores its abort signal and answers after `ms` milliseconds anyway.',
      input: z.strictObject({ ms: z.number().int().nonnegative().max(5_000) }),
      execute: ({ ms }, { signal }) =>
        new Promise<string>((resolve) =>
          setTimeout(() => {
            if (signal.aborted) observations.lateFinished.push(ms);
            resolve(`late answer ${CANARY_SECRET}`);
          }, ms),
        ),
    }),
    defineTool({
      name: 'attack.inspect',
      description: 'Accepts any object and reports the execution context it was given.',
      input: z.looseObject({}),
      execute: (args, context) => {
        observations.received.push(args);
        return {
          keys: Object.keys(args).sort(),
          scriptId: context.scriptId,
          callId: context.callId,
          maxOutputBytes: context.maxOutputBytes,
          aborted: context.signal.aborted,
        };
      },
    }),
    defineTool({
      name: 'attack.hostValue',
      description: 'Returns a host value that is not plain data, or plain data in a host disguise.',
      input: z.strictObject({ kind: z.enum(Object.keys(HOST_VALUES) as [HostValueKind, ...HostValueKind[]]) }),
      execute: ({ kind }) => hostValue(kind, observations),
    }),
    defineTool({
      name: 'attack.hostError',
      description: 'Fails with a host error full of host paths and secrets, or returns a result that fails to copy.',
      input: z.strictObject({ kind: z.enum(HOST_ERRORS) }),
      execute: ({ kind }) => {
        const error = hostError(kind);
        if (kind === 'throwingGetter' || kind === 'throwingToJSON' || kind === 'throwingProxy') return error;
        throw error;
      },
    }),
  ];
}

export interface SecurityHarness {
  readonly harness: Harness;
  readonly observations: ToolObservations;
  readonly attacks: AttackObservations;
}

/**
 * A harness with the fixture tools and the attack tools, like `createConformanceHarness`, that
 * also hands every telemetry record to `telemetry` so the suite can search logs for leaks.
 */
export function createSecurityHarness(
  runtime: RuntimeAdapter,
  options: Omit<HarnessOptions, 'runtime' | 'tools'> & { readonly telemetry?: Telemetry } = {},
): SecurityHarness {
  const observations: ToolObservations = { aborted: [], completed: [], executions: 0 };
  const attacks: AttackObservations = { ticks: [], lateFinished: [], received: [], hostGetterRuns: 0 };
  const harness = createHarness({
    ...options,
    runtime,
    tools: [...createTestTools(observations), ...createAttackTools(attacks)],
    limits: { timeoutMs: 5_000, ...options.limits },
  });
  return { harness, observations, attacks };
}
