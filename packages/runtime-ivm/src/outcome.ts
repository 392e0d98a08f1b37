/**
 * From what the guest glue reported (a JSON envelope it built inside the isolate) to the runtime
 * contract's `RunOutcome`: error codes, messages, and stacks in the model's own coordinates.
 * Pure functions over strings; nothing here touches an isolate.
 */
import type { ErrorCode, GuestErrorInfo, RunOutcome } from '@script-harness/core';

/** What the glue's `describe` (or its result serialisation) produced. */
export interface Envelope {
  readonly ok: boolean;
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly stack?: string;
  /** OUTPUT_LIMIT only: the start of the oversized JSON. */
  readonly preview?: string;
  /** The glue refused an allocation that could not fit in the memory limit. */
  readonly memory?: boolean;
}

interface ScriptFrame {
  readonly line: number;
  readonly column?: number;
  readonly text: string;
}

export const SCRIPT_FILENAME = 'script.ts';
const FRAME_POSITION = /script\.ts:(\d+)(?::(\d+))?/;
const VALUE_PREFIX = '{"ok":true,"value":';

/** Keeps the script's own stack frames, in the model's coordinates; glue frames are dropped. */
export function scriptFrames(stack: string | undefined, lineOffset: number): ScriptFrame[] {
  if (stack === undefined) return [];
  const frames: ScriptFrame[] = [];
  for (const text of stack.split('\n')) {
    // The first line is `Name: message`, which may itself mention script.ts; frames start with `at`.
    if (!/^\s+at /.test(text)) continue;
    const match = FRAME_POSITION.exec(text);
    if (match === null) continue;
    const line = Number(match[1]) - lineOffset;
    const column = match[2] === undefined ? undefined : Number(match[2]);
    frames.push({
      line,
      ...(column === undefined ? {} : { column }),
      text: `    at ${SCRIPT_FILENAME}:${line}${column === undefined ? '' : `:${column}`}`,
    });
  }
  return frames;
}

/** Reads a settled envelope: success with its JSON, or the failure it describes. */
export function envelopeOutcome(text: string, lineOffset: number, timeoutMs: number): RunOutcome {
  // The glue builds success envelopes as '{"ok":true}' or '{"ok":true,"value":<json>}'.
  if (text === '{"ok":true}') return { ok: true, valueJson: undefined };
  if (text.startsWith(VALUE_PREFIX)) return { ok: true, valueJson: text.slice(VALUE_PREFIX.length, -1) };
  let envelope: Envelope;
  try {
    envelope = JSON.parse(text) as Envelope;
  } catch {
    return internal('the script ended with a result the runtime could not read');
  }
  return failureOutcome(envelope, lineOffset, timeoutMs);
}

export function failureOutcome(envelope: Envelope, lineOffset: number, timeoutMs: number): RunOutcome {
  const name = typeof envelope.name === 'string' ? envelope.name : 'Error';
  const message = typeof envelope.message === 'string' ? envelope.message : '';
  const code = classify(envelope, name, message);
  const frames = scriptFrames(envelope.stack, lineOffset);
  const position = frames[0];
  const error: GuestErrorInfo = {
    code,
    message: describeMessage(code, name, message, timeoutMs),
    ...(envelope.preview === undefined ? {} : { details: { truncated: true, preview: envelope.preview } }),
    ...(position === undefined
      ? {}
      : { line: position.line, ...(position.column === undefined ? {} : { column: position.column }) }),
    ...(frames.length > 0 ? { stack: `${name}: ${message}\n${frames.map((f) => f.text).join('\n')}` } : {}),
  };
  return { ok: false, error };
}

function classify(envelope: Envelope, name: string, message: string): ErrorCode {
  if (envelope.memory === true) return 'MEMORY_LIMIT';
  if (envelope.code !== undefined && isGuestCode(envelope.code)) return envelope.code;
  // V8's limited ArrayBuffer allocator refuses a backing store beyond the isolate's memory limit.
  if (name === 'RangeError' && /^Array buffer allocation failed$/.test(message)) return 'MEMORY_LIMIT';
  if (name === 'RangeError' && /^Maximum call stack size exceeded$/.test(message)) return 'STACK_OVERFLOW';
  return 'GUEST_ERROR';
}

/**
 * A compile error of the script. isolated-vm appends the position to the message as
 * ` [script.ts:LINE:COLUMN]`; it is moved into the error's fields.
 */
export function syntaxErrorOutcome(name: string, rawMessage: string, lineOffset: number): RunOutcome {
  const match = /\s*\[script\.ts:(\d+):(\d+)\]$/.exec(rawMessage);
  const message = match === null ? rawMessage : rawMessage.slice(0, match.index);
  const line = match === null ? undefined : Number(match[1]) - lineOffset;
  const column = match === null ? undefined : Number(match[2]);
  return {
    ok: false,
    error: {
      code: 'SYNTAX_ERROR',
      message: `${name}: ${message}`,
      ...(line === undefined ? {} : { line, column }),
    },
  };
}

const GUEST_CODES = new Set<string>([
  'TOOL_NOT_FOUND',
  'TOOL_VALIDATION',
  'TOOL_ERROR',
  'TOOL_BUDGET',
  'APPROVAL_DENIED',
  'APPROVAL_TIMEOUT',
  'POLICY_DENIED',
  'SERIALIZATION',
  'OUTPUT_LIMIT',
  'TIMEOUT',
  'CANCELLED',
  'DETACHED_PROMISE',
  'INTERNAL',
]);

/** Codes a guest envelope may carry (tool errors and the glue's own serialisation failures). */
export function isGuestCode(code: string): code is ErrorCode {
  return GUEST_CODES.has(code);
}

function describeMessage(code: ErrorCode, name: string, message: string, timeoutMs: number): string {
  switch (code) {
    case 'MEMORY_LIMIT':
      return MEMORY_MESSAGE;
    case 'STACK_OVERFLOW':
      return 'the script overflowed the stack (recursion too deep)';
    case 'TIMEOUT':
      return timeoutMessage(timeoutMs);
    case 'GUEST_ERROR':
      // The error's own class says what kind of failure it was; tool errors already carry a code.
      return name === 'Uncaught' ? `uncaught: ${message}` : `${name}: ${message}`;
    default:
      return message;
  }
}

export const MEMORY_MESSAGE = 'the script ran out of memory (memory limit reached)';

export function timeoutMessage(timeoutMs: number): string {
  return `the script ran past its ${timeoutMs} ms deadline`;
}

export function internal(message: string): RunOutcome {
  return { ok: false, error: { code: 'INTERNAL', message } };
}

/** The code and message an abort reason carries (the engine aborts with a HarnessError). */
export function abortReason(reason: unknown): { code: ErrorCode; message: string } {
  const fields = reason as { code?: unknown; message?: unknown } | undefined;
  const code = typeof fields?.code === 'string' && isGuestCode(fields.code) ? fields.code : 'CANCELLED';
  const message = typeof fields?.message === 'string' ? fields.message : 'the script was stopped';
  return { code, message };
}
