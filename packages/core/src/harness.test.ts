import { describe, expect, it } from 'vitest';
import { createHarness } from './harness.ts';
import type { RuntimeAdapter } from './runtime.ts';
import type { Telemetry } from './telemetry.ts';

/** Counts script telemetry handles that were started but never ended. */
function countingTelemetry() {
  const state = { started: 0, ended: 0 };
  const telemetry: Telemetry = {
    startScript: () => {
      state.started++;
      return { startToolCall: () => ({ end() {} }), end: () => void state.ended++ };
    },
  };
  return { telemetry, state };
}

describe('createHarness', () => {
  it('reports a runtime that cannot create a sandbox as INTERNAL, and still ends its telemetry', async () => {
    const broken: RuntimeAdapter = {
      specificationVersion: 'v1',
      name: 'broken',
      createSandbox: () => Promise.reject(new Error('no sandbox today at /srv/secret/path')),
    };
    const { telemetry, state } = countingTelemetry();
    const harness = createHarness({ runtime: broken, telemetry });
    const result = await harness.run('return 1;');
    expect(result.error).toMatchObject({ code: 'INTERNAL', retryable: true });
    expect(result.error?.message).not.toContain('/srv/secret');
    expect(state).toEqual({ started: 1, ended: 1 });
  });

  it('keeps running when an event listener throws', async () => {
    const runtime: RuntimeAdapter = {
      specificationVersion: 'v1',
      name: 'echo',
      createSandbox: () => ({
        run: async (_request, bridge) => {
          bridge.emit('console', 'log', 'hello');
          return { ok: true, valueJson: '42' };
        },
        dispose() {},
      }),
    };
    const { telemetry, state } = countingTelemetry();
    const harness = createHarness({ runtime, telemetry });
    const result = await harness.run('return 42;', {
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    expect(result).toMatchObject({ ok: true, value: 42 });
    expect(result.console).toHaveLength(1);
    expect(state).toEqual({ started: 1, ended: 1 });
  });

  it('runs a request on the runtime it names, and refuses an unknown one', async () => {
    const named = (name: string): RuntimeAdapter => ({
      specificationVersion: 'v1',
      name,
      createSandbox: () => ({ run: async () => ({ ok: true, valueJson: JSON.stringify(name) }), dispose() {} }),
    });
    const harness = createHarness({ runtime: named('quickjs'), additionalRuntimes: [named('isolated-vm')] });
    expect(harness.runtimes).toEqual(['quickjs', 'isolated-vm']);
    expect((await harness.run('return 1;')).value).toBe('quickjs');
    const chosen = await harness.run('return 1;', { runtime: 'isolated-vm' });
    expect(chosen.value).toBe('isolated-vm');
    expect(chosen.metadata.runtime).toBe('isolated-vm');
    const unknown = await harness.run('return 1;', { runtime: 'v8-direct' });
    expect(unknown.error).toMatchObject({ code: 'INVALID_REQUEST' });
    expect(unknown.error?.message).toContain('quickjs, isolated-vm');
    expect(() => createHarness({ runtime: named('a'), additionalRuntimes: [named('a')] })).toThrow(/two runtimes/);
  });
});
