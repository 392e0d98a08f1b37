/**
 * Tools and helpers the conformance suite uses. They are real tools (they run, wait, fail and
 * observe their abort signals); runtimes are tested through them end to end.
 */
import { z } from 'zod';
import { createHarness, type Harness, type HarnessOptions } from '../harness.ts';
import type { RuntimeAdapter } from '../runtime.ts';
import { type AnyTool, defineTool } from '../tool.ts';

/** A secret planted in the host environment; it must never show up in anything a script sees. */
export const CANARY_SECRET = 'canary-7f3a9c-do-not-leak';

export interface ToolObservations {
  /** Labels of `slow` calls whose abort signal fired, in order. */
  readonly aborted: string[];
  /** Labels of `slow` calls that completed. */
  readonly completed: string[];
  /** How many times any tool's execute ran. */
  executions: number;
  /** Most `slow` calls running at the same time. */
  maxInFlight?: number;
}

export function createTestTools(observations: ToolObservations): AnyTool[] {
  const count = () => {
    observations.executions++;
  };
  let inFlight = 0;
  return [
    defineTool({
      name: 'echo',
      description: 'Returns its input value unchanged.',
      input: z.strictObject({ value: z.unknown() }),
      execute: ({ value }) => {
        count();
        return { value };
      },
    }),
    defineTool({
      name: 'add',
      description: 'Adds two numbers.',
      input: z.strictObject({ a: z.number(), b: z.number() }),
      output: z.number(),
      execute: ({ a, b }) => {
        count();
        return a + b;
      },
    }),
    defineTool({
      name: 'math.multiply',
      description: 'Multiplies two numbers (a namespaced tool).',
      input: z.strictObject({ a: z.number(), b: z.number() }),
      execute: ({ a, b }) => {
        count();
        return a * b;
      },
    }),
    defineTool({
      name: 'slow',
      description: 'Waits `ms` milliseconds, then returns its label; records whether it was aborted.',
      input: z.strictObject({ ms: z.number().int().nonnegative(), label: z.string() }),
      execute: ({ ms, label }, { signal }) => {
        count();
        inFlight++;
        observations.maxInFlight = Math.max(observations.maxInFlight ?? 0, inFlight);
        return new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => {
            inFlight--;
            observations.completed.push(label);
            resolve(label);
          }, ms);
          signal.addEventListener(
            'abort',
            () => {
              clearTimeout(timer);
              inFlight--;
              observations.aborted.push(label);
              reject(signal.reason);
            },
            { once: true },
          );
        });
      },
    }),
    defineTool({
      name: 'fail',
      description: 'Always fails with the given message.',
      input: z.strictObject({ message: z.string() }),
      execute: ({ message }) => {
        count();
        // The host path and the secret in this error must never reach the script.
        throw new Error(`${message} (while reading /srv/host/secret/${CANARY_SECRET}/config.json)`);
      },
    }),
    defineTool({
      name: 'hostObject',
      description: 'Returns a value that is not plain data (a class instance); it must be refused.',
      input: z.strictObject({}),
      execute: () => {
        count();
        return new (class HostThing {
          secret = CANARY_SECRET;
        })();
      },
    }),
    defineTool({
      name: 'needsApproval',
      description: 'A tool that asks for approval.',
      input: z.strictObject({ action: z.string() }),
      requiresApproval: true,
      execute: ({ action }) => {
        count();
        return `done: ${action}`;
      },
    }),
  ];
}

export interface ConformanceHarness {
  readonly harness: Harness;
  readonly observations: ToolObservations;
}

export function createConformanceHarness(
  runtime: RuntimeAdapter,
  options: Omit<HarnessOptions, 'runtime' | 'tools'> = {},
): ConformanceHarness {
  const observations: ToolObservations = { aborted: [], completed: [], executions: 0 };
  const harness = createHarness({
    ...options,
    runtime,
    tools: createTestTools(observations),
    limits: { timeoutMs: 5_000, ...options.limits },
  });
  return { harness, observations };
}
