import type { HostBridge, RunRequest } from '@script-harness/core';
import { describe, expect, it, vi } from 'vitest';
import { QuickJSModuleHolder, runInFreshContext } from './engine.ts';

const LIMITS = { memoryBytes: 32 * 1024 * 1024, stackBytes: 512 * 1024 };

function request(body: string, toolNames: readonly string[] = []): RunRequest {
  return {
    code: `(async function () {"use strict";\n${body}\n})`,
    lineOffset: 1,
    caps: { outputChars: 100_000, consoleLineChars: 1_000, toolArgsChars: 100_000 },
    toolNames,
    contextJson: '{}',
    timeoutMs: 10_000,
  };
}

describe('runInFreshContext', () => {
  it('stops a script waiting on a tool when its module faulted under another script, without calling into it', async () => {
    const holder = new QuickJSModuleHolder();
    const module = await holder.get();
    let answer: ((reply: string) => void) | undefined;
    const bridge: HostBridge = {
      callTool: () => new Promise<string>((resolve) => (answer = resolve)),
      emit: () => {},
      started: () => {},
    };
    const running = runInFreshContext(
      holder,
      module,
      LIMITS,
      request('return await tools.echo({});', ['echo']),
      bridge,
      new AbortController().signal,
    );
    await vi.waitFor(() => expect(answer).toBeDefined());
    // What the engine does when a sandbox makes QuickJS fail (an internal check while freeing, say).
    holder.poison(module);
    answer?.('{"ok":true,"value":1}');
    const outcome = await running;
    expect(outcome).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(holder.ready).toBeUndefined();
    // The next sandbox runs on a fresh module.
    const fresh = await holder.get();
    expect(fresh).not.toBe(module);
    const next = await runInFreshContext(
      holder,
      fresh,
      LIMITS,
      request('return 2;'),
      bridge,
      new AbortController().signal,
    );
    expect(next).toMatchObject({ ok: true, valueJson: '2' });
  });
});
