import { createToolRegistry, DEFAULT_LIMITS, defineTool, HarnessError, type Limits } from '@script-harness/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { prepareRun } from './run-request.ts';

const tool = (name: string) => defineTool({ name, description: name, input: z.unknown(), execute: () => null });
const harness = {
  runtimes: ['quickjs'],
  limits: { ...DEFAULT_LIMITS, timeoutMs: 10_000, memoryMb: 32 } satisfies Limits,
  registry: createToolRegistry([tool('echo'), tool('sleep')]),
};
const ceilings = { timeoutMs: 60_000, memoryMb: 64 };

function refusal(run: () => unknown): HarnessError {
  try {
    run();
  } catch (error) {
    if (error instanceof HarnessError) return error;
    throw error;
  }
  throw new Error('the request was accepted');
}

describe('prepareRun', () => {
  it('takes the server mode and normal priority by default', () => {
    expect(prepareRun({}, harness, ceilings, 'dry-run')).toEqual({
      mode: 'dry-run',
      limits: undefined,
      tools: undefined,
      context: undefined,
      priority: 'normal',
      runtime: undefined,
    });
    expect(prepareRun({ mode: 'enabled', priority: 'high' }, harness, ceilings, 'disabled')).toMatchObject({
      mode: 'enabled',
      priority: 'high',
    });
  });

  it('keeps the server limits a request does not override', () => {
    const run = prepareRun({ limits: { timeoutMs: 20_000 } }, harness, ceilings, 'enabled');
    expect(run.limits).toMatchObject({ timeoutMs: 20_000, memoryMb: 32, maxToolCalls: DEFAULT_LIMITS.maxToolCalls });
    expect(prepareRun({ limits: {} }, harness, ceilings, 'enabled').limits).toBeUndefined();
  });

  it('refuses limits above their ceiling, naming the field', () => {
    const error = refusal(() => prepareRun({ limits: { memoryMb: 128 } }, harness, ceilings, 'enabled'));
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.message).toContain('limits.memoryMb = 128');
  });

  it('refuses unknown tools and runtimes', () => {
    const tools = refusal(() => prepareRun({ tools: ['echo', 'nope', 'neither'] }, harness, ceilings, 'enabled'));
    expect(tools.message).toBe('tools: unknown tools nope, neither');
    expect(tools.details).toMatchObject({ unknown: ['nope', 'neither'], known: ['echo', 'sleep'] });
    const runtime = refusal(() => prepareRun({ runtime: 'isolated-vm' }, harness, ceilings, 'enabled'));
    expect(runtime.message).toContain('this server runs quickjs');
    expect(prepareRun({ runtime: 'quickjs', tools: ['sleep'] }, harness, ceilings, 'enabled').tools).toEqual(['sleep']);
  });
});
