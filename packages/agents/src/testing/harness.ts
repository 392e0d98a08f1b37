/**
 * A small harness for the tests of this package: QuickJS inline, and two tools a model would
 * combine in one script (a lookup and a conversion), and one that takes its time.
 */
import { createHarness, defineTool, type Harness, type LimitsInput } from '@script-harness/core';
import { createQuickJSRuntime } from '@script-harness/runtime-quickjs';
import { z } from 'zod';

const TEMPERATURES: Readonly<Record<string, number>> = { Oslo: 4, Rome: 21, Lima: 18 };

export const weatherTool = defineTool({
  name: 'weather',
  description: 'Current temperature in °C for a city.',
  input: z.strictObject({ city: z.string().describe('City name, e.g. "Oslo".') }),
  output: z.object({ city: z.string(), celsius: z.number() }),
  execute: ({ city }) => {
    const celsius = TEMPERATURES[city];
    if (celsius === undefined) throw new Error(`no weather station in ${city}`);
    return { city, celsius };
  },
});

export const fahrenheitTool = defineTool({
  name: 'units.fahrenheit',
  description: 'Converts °C to °F.',
  input: z.strictObject({ celsius: z.number() }),
  output: z.number(),
  execute: ({ celsius }) => Math.round((celsius * 9) / 5 + 32),
});

export const waitTool = defineTool({
  name: 'wait',
  description: 'Waits for the given milliseconds, or until the call is no longer wanted.',
  input: z.strictObject({ ms: z.number().int().nonnegative() }),
  execute: ({ ms }, { signal }) =>
    new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve(`waited ${ms} ms`), ms);
      signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
    }),
});

export async function createTestHarness(limits?: LimitsInput): Promise<Harness> {
  return createHarness({
    runtime: await createQuickJSRuntime({ mode: 'inline' }),
    tools: [weatherTool, fahrenheitTool, waitTool],
    ...(limits === undefined ? {} : { limits }),
  });
}
