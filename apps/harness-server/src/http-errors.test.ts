import { HarnessError } from '@script-harness/core';
import { describe, expect, it } from 'vitest';
import { ApiError, harnessErrorBody, parseJsonBody, statusOfHarnessError } from './http-errors.ts';

function parseFailure(text: string): ApiError {
  try {
    parseJsonBody(text);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('the body was accepted');
}

describe('parseJsonBody', () => {
  it('parses JSON', () => {
    expect(parseJsonBody('{"code":"return 1","context":{"constructor":"fine"}}')).toEqual({
      code: 'return 1',
      context: { constructor: 'fine' },
    });
  });

  it('names the syntax problem', () => {
    const error = parseFailure('{"code": }');
    expect(error).toMatchObject({ statusCode: 400, code: 'INVALID_JSON' });
    expect(error.message).toMatch(/^the body is not valid JSON: Unexpected token '\}'/);
  });

  it('refuses keys that could pollute prototypes', () => {
    expect(parseFailure('{"a":{"__proto__":{"x":1}}}').message).toContain('"__proto__"');
    expect(parseFailure('{"constructor":{"prototype":{"x":1}}}').message).toContain('"constructor.prototype"');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('statusOfHarnessError', () => {
  it('maps refusals to 4xx and load to 503', () => {
    expect(statusOfHarnessError('INVALID_REQUEST')).toBe(400);
    expect(statusOfHarnessError('QUEUE_FULL')).toBe(503);
    expect(statusOfHarnessError('SHUTDOWN')).toBe(503);
    expect(statusOfHarnessError('INTERNAL')).toBe(500);
  });

  it('renders harness errors with their code and whether to retry', () => {
    expect(harnessErrorBody(new HarnessError('QUEUE_FULL', 'full', { details: { maxQueued: 1 } }))).toEqual({
      error: { code: 'QUEUE_FULL', message: 'full', retryable: true, details: { maxQueued: 1 } },
    });
    expect(new ApiError(404, 'NOT_FOUND', 'gone').toBody()).toEqual({ error: { code: 'NOT_FOUND', message: 'gone' } });
  });
});
