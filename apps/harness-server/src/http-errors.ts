/**
 * Every error the API answers with has one shape, `{ error: { code, message, ... } }`, and a
 * status that says whose fault it is: 4xx for anything about the request, 503 for load and
 * shutdown, 500 only for the server's own failures. Harness codes (`QUEUE_FULL`, `SHUTDOWN`,
 * `INVALID_REQUEST`) keep their names; the HTTP-level ones are listed in `API_ERROR_CODES`.
 */
import { type ErrorCode, HarnessError, type HarnessErrorData } from '@script-harness/core';

/** Codes of errors that arise in the HTTP layer, before or around the harness. */
export const API_ERROR_CODES = {
  UNAUTHORIZED: 'No API key, or an unknown one, on a route that needs one.',
  NOT_FOUND: 'No such route, approval or task (or it belongs to another tenant).',
  INVALID_JSON: 'The body is not valid JSON.',
  MISSING_BODY: 'The route needs a JSON body and the request has none.',
  UNSUPPORTED_MEDIA_TYPE: 'The body is not application/json.',
  BODY_TOO_LARGE: 'The body is larger than the configured limit.',
  RATE_LIMITED: 'The API key made more requests than its rate limit allows.',
  CONFLICT: 'The approval or task is no longer in a state that allows this.',
  BAD_REQUEST: 'The request is malformed in a way the other codes do not name.',
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_CODES;

export interface ApiErrorBody {
  readonly error: {
    readonly code: ApiErrorCode | ErrorCode;
    readonly message: string;
    readonly retryable?: boolean;
    readonly details?: Readonly<Record<string, unknown>>;
  };
}

/** An error a route throws to answer with a given status; the error handler renders it. */
export class ApiError extends Error {
  readonly statusCode: number;
  readonly code: ApiErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    statusCode: number,
    code: ApiErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.code = code;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }

  toBody(): ApiErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

/** The HTTP status of a harness error that stops a request from being run at all. */
export function statusOfHarnessError(code: ErrorCode): number {
  switch (code) {
    case 'INVALID_REQUEST':
      return 400;
    case 'QUEUE_FULL':
    case 'SHUTDOWN':
      return 503;
    case 'CANCELLED':
      // The caller went away; nobody reads this answer, but it must not look like a server fault.
      return 499;
    default:
      return 500;
  }
}

export function harnessErrorBody(error: HarnessError | HarnessErrorData): ApiErrorBody {
  const data = error instanceof HarnessError ? error.toData() : error;
  return {
    error: {
      code: data.code,
      message: data.message,
      retryable: data.retryable,
      ...(data.details === undefined ? {} : { details: data.details }),
    },
  };
}

/**
 * Parses a JSON request body. Unlike a bare `JSON.parse`, the error names the problem and its
 * position, and `__proto__` / `constructor.prototype` keys are refused: they are never
 * meaningful in a request and are the raw material of prototype pollution further down.
 */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text, (key, value: unknown) => {
      if (key === '__proto__') throw new ForbiddenKeyError('__proto__');
      if (key === 'constructor' && value !== null && typeof value === 'object' && Object.hasOwn(value, 'prototype')) {
        throw new ForbiddenKeyError('constructor.prototype');
      }
      return value;
    });
  } catch (error) {
    if (error instanceof ForbiddenKeyError) {
      throw new ApiError(400, 'INVALID_JSON', `the body contains a "${error.key}" key, which is not accepted`);
    }
    throw new ApiError(400, 'INVALID_JSON', `the body is not valid JSON: ${(error as Error).message}`);
  }
}

class ForbiddenKeyError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(key);
    this.key = key;
  }
}
