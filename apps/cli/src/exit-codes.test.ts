import { HarnessError } from '@script-harness/core';
import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  EXIT_CONFIG,
  EXIT_OK,
  EXIT_RUNTIME_UNAVAILABLE,
  EXIT_SCRIPT_FAILED,
  EXIT_USAGE,
  exitCodeOfResult,
  reportFailure,
  worstExitCode,
} from './exit-codes.ts';
import type { CliIo } from './io.ts';
import { UsageError } from './options.ts';

function capture(): { io: CliIo; stderr: () => string } {
  let stderr = '';
  return {
    io: {
      stdout: { write: () => true },
      stderr: { write: (text: string) => (stderr += text) },
      readStdin: async () => new Uint8Array(),
      cwd: '.',
    },
    stderr: () => stderr,
  };
}

describe('reportFailure', () => {
  it('usage errors: one line, exit 2', () => {
    const { io, stderr } = capture();
    expect(reportFailure(new UsageError('cannot read script "x"'), io, false)).toBe(EXIT_USAGE);
    expect(stderr()).toBe('harness: cannot read script "x"\n');
  });

  it('configuration errors: the code, every problem and the remedy in one paragraph, exit 3', () => {
    const { io, stderr } = capture();
    const error = new ConfigurationError('config file "c.json" is invalid', ['a: bad', 'b: worse'], 'Fix it.');
    expect(reportFailure(error, io, false)).toBe(EXIT_CONFIG);
    expect(stderr()).toBe('harness: CONFIG_INVALID: config file "c.json" is invalid: a: bad; b: worse. Fix it.\n');
  });

  it('RUNTIME_UNAVAILABLE: the code, the message and the remedy, exit 4; --verbose adds the details and the cause', () => {
    const cause = new Error('Cannot find module isolated-vm');
    const error = new HarnessError('RUNTIME_UNAVAILABLE', 'the isolated-vm runtime is not available here', {
      cause,
      details: { runtime: 'isolated-vm' },
    });
    const quiet = capture();
    expect(reportFailure(error, quiet.io, false)).toBe(EXIT_RUNTIME_UNAVAILABLE);
    expect(quiet.stderr()).toBe(
      'harness: RUNTIME_UNAVAILABLE: the isolated-vm runtime is not available here. Remedy: Install the runtime dependency named in the message, or choose another runtime.\n',
    );
    const verbose = capture();
    reportFailure(error, verbose.io, true);
    expect(verbose.stderr()).toContain('Details:\n{\n  "runtime": "isolated-vm"\n}');
    expect(verbose.stderr()).toContain('Caused by: Cannot find module isolated-vm');
    expect(verbose.stderr()).not.toMatch(/\n\s+at /);
  });

  it('a failure of the CLI itself: exit 1, the stack only with --verbose', () => {
    const quiet = capture();
    expect(reportFailure(new TypeError('boom'), quiet.io, false)).toBe(EXIT_SCRIPT_FAILED);
    expect(quiet.stderr()).toBe('harness: the command failed: boom (run again with --verbose for the stack trace)\n');
    const verbose = capture();
    reportFailure(new TypeError('boom'), verbose.io, true);
    expect(verbose.stderr()).toMatch(/^harness: the command failed: boom\nTypeError: boom\n\s+at /);
  });
});

describe('exit codes of results', () => {
  it('ok is 0, a failed script 1, a runtime that could not be used 4; the worst of several wins', () => {
    expect(exitCodeOfResult({ ok: true })).toBe(EXIT_OK);
    const failed = { ok: false, error: { code: 'TIMEOUT' } } as Parameters<typeof exitCodeOfResult>[0];
    expect(exitCodeOfResult(failed)).toBe(EXIT_SCRIPT_FAILED);
    const unavailable = { ok: false, error: { code: 'RUNTIME_UNAVAILABLE' } } as Parameters<typeof exitCodeOfResult>[0];
    expect(exitCodeOfResult(unavailable)).toBe(EXIT_RUNTIME_UNAVAILABLE);
    expect(worstExitCode([EXIT_OK, EXIT_SCRIPT_FAILED])).toBe(EXIT_SCRIPT_FAILED);
    expect(worstExitCode([EXIT_SCRIPT_FAILED, EXIT_RUNTIME_UNAVAILABLE])).toBe(EXIT_RUNTIME_UNAVAILABLE);
    expect(worstExitCode([])).toBe(EXIT_OK);
  });
});
