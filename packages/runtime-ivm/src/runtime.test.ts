import { HarnessError } from '@script-harness/core';
import { describe, expect, it } from 'vitest';
import { childExecArgv } from './pool.ts';
import { createIsolatedVMRuntime } from './runtime.ts';

describe('createIsolatedVMRuntime without isolated-vm', () => {
  it('rejects with RUNTIME_UNAVAILABLE naming the fix when isolated-vm is not installed', async () => {
    const attempt = createIsolatedVMRuntime({ modulePath: 'isolated-vm-that-is-not-installed' });
    await expect(attempt).rejects.toBeInstanceOf(HarnessError);
    const error = (await attempt.catch((caught: unknown) => caught)) as HarnessError;
    expect(error.code).toBe('RUNTIME_UNAVAILABLE');
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/^isolated-vm could not be loaded: it is not installed/);
    expect(error.message).toContain('npm install isolated-vm@6.2.0');
    expect(error.message).toContain('or choose the quickjs runtime');
  });
});

describe('child process options', () => {
  it('starts children with --no-node-snapshot and only the harmless options of the parent', () => {
    expect(
      childExecArgv([
        '--require',
        '/some/preload.cjs',
        '--conditions',
        'node',
        '--conditions=development',
        '--inspect=9229',
        '--max-old-space-size=512',
        '--import',
        'tsx',
        '--enable-source-maps',
      ]),
    ).toEqual([
      '--no-node-snapshot',
      '--conditions',
      'node',
      '--conditions=development',
      '--max-old-space-size=512',
      '--enable-source-maps',
    ]);
  });
});
