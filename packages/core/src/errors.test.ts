import { describe, expect, it } from 'vitest';
import { ERROR_CODES, HarnessError, redactHostPaths, toErrorData } from './errors.ts';

describe('errors', () => {
  it('documents every code with phase, retryability, meaning and remedy', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z_]+$/);
      expect(info.meaning.length, code).toBeGreaterThan(10);
      expect(info.remedy.length, code).toBeGreaterThan(5);
    }
    expect(ERROR_CODES.INTERNAL.retryable).toBe(true);
    expect(ERROR_CODES.TIMEOUT.retryable).toBe(false);
  });

  it('turns host errors into data without host stacks or paths', () => {
    const data = toErrorData(new Error('ENOENT: no such file, open /home/app/secret/config.json'), 'TOOL_ERROR');
    expect(data).toMatchObject({ code: 'TOOL_ERROR', message: 'ENOENT: no such file, open <path>' });
    expect(JSON.stringify(data)).not.toContain('at ');
    expect(new HarnessError('TIMEOUT', 'late').toData()).toEqual({
      code: 'TIMEOUT',
      message: 'late',
      retryable: false,
      phase: 'execute',
    });
    expect(redactHostPaths('C:\\Users\\me\\x.txt and /tmp/a/b')).toBe('<path> and <path>');
  });
});
