/**
 * JSON-lines logs (pino) of scripts and tool calls, correlated by request, script and trace id.
 * Text a script wrote reaches the log only through `logGuestConsole`, escaped to one line of
 * printable characters and bounded, so a script cannot forge log lines or drive a terminal
 * (THREATS item 42). Log records carry codes, never error messages: those can carry guest text.
 */
import {
  ERROR_CODES,
  type ErrorCode,
  type ScriptResult,
  type ScriptTelemetry,
  type ScriptTelemetryStart,
  type Telemetry,
  type ToolCallTelemetry,
  type ToolCallTelemetryEnd,
} from '@script-harness/core';
import { type DestinationStream, type Level, type LevelWithSilent, type Logger, pino } from 'pino';
import { boundedId, errorCodeLabel } from './labels.ts';
import { parentSpanContext, requestIdOf } from './tracing.ts';

export interface LoggerOptions {
  /** Lowest level written; default `info`. */
  readonly level?: LevelWithSilent;
  /** `service` field of every line; default `script-harness`. */
  readonly service?: string;
  /** Where lines go; default standard output. */
  readonly destination?: DestinationStream;
}

/** A pino logger writing one JSON object per line, with ISO timestamps and a `service` field. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = {
    level: options.level ?? 'info',
    base: { service: options.service ?? 'script-harness' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination);
}

// Failures of the harness or its host, as opposed to the script's own mistakes.
function isOperatorFailure(code: ErrorCode): boolean {
  const { phase } = ERROR_CODES[code];
  return (phase === 'host' || phase === 'schedule') && code !== 'CANCELLED' && code !== 'INVALID_REQUEST';
}

/**
 * Wraps `telemetry` so every script logs its start (debug), its end (info; warn for failures of
 * the harness itself) and every tool call (debug; info when it failed), each line carrying
 * `scriptId`, `traceId` and `requestId` (from a `{ requestId }` telemetry parent) when known.
 * The result keeps every other member of `telemetry`.
 */
export function withScriptLogging<T extends Telemetry>(telemetry: T, logger: Logger): T {
  const startScript = (start: ScriptTelemetryStart): ScriptTelemetry => {
    const inner = telemetry.startScript(start);
    try {
      return new LoggedScript(inner, start.scriptId, start.runtime, start.parent, logger);
    } catch {
      // Logging must never fail a script.
      return inner;
    }
  };
  // The logged handle keeps the inner one's `traceId`, so `T`'s handle type still holds.
  return { ...telemetry, startScript } as T;
}

class LoggedScript implements ScriptTelemetry {
  readonly traceId: string | undefined;
  readonly #inner: ScriptTelemetry;
  readonly #log: Logger;

  constructor(inner: ScriptTelemetry, scriptId: string, runtime: string, parent: unknown, logger: Logger) {
    this.#inner = inner;
    const innerTraceId = (inner as { readonly traceId?: unknown }).traceId;
    this.traceId =
      typeof innerTraceId === 'string'
        ? innerTraceId
        : parent === undefined
          ? undefined
          : parentSpanContext(parent)?.traceId;
    const bindings: Record<string, string> = { scriptId: boundedId(scriptId) };
    const requestId = requestIdOf(parent);
    if (requestId !== undefined) bindings.requestId = requestId;
    if (this.traceId !== undefined) bindings.traceId = this.traceId;
    this.#log = logger.child(bindings);
    this.#log.debug({ runtime: boundedId(runtime, 64) }, 'script started');
  }

  startToolCall(call: { readonly tool: string; readonly callId: string }): ToolCallTelemetry {
    const inner = this.#inner.startToolCall(call);
    const log = this.#log;
    return {
      end(outcome: ToolCallTelemetryEnd) {
        inner.end(outcome);
        try {
          const fields: Record<string, unknown> = {
            tool: boundedId(call.tool),
            callId: boundedId(call.callId, 32),
            status: outcome.status,
            durationMs: outcome.durationMs,
          };
          if (outcome.status !== 'ok') fields.code = errorCodeLabel(outcome.code);
          if (outcome.approvalWaitMs !== undefined) fields.approvalWaitMs = outcome.approvalWaitMs;
          if (outcome.status === 'ok') log.debug(fields, 'tool call ended');
          else log.info(fields, 'tool call failed');
        } catch {
          // Logging must never fail a script.
        }
      },
    };
  }

  end(result: ScriptResult): void {
    this.#inner.end(result);
    try {
      const fields: Record<string, unknown> = {
        outcome: result.ok ? 'ok' : 'error',
        durationMs: Math.round(result.metadata.durationMs * 1000) / 1000,
        toolCalls: result.metadata.toolCalls,
      };
      if (result.metadata.consoleDropped > 0) fields.consoleDropped = result.metadata.consoleDropped;
      if (result.ok) {
        this.#log.info(fields, 'script completed');
        return;
      }
      const code = errorCodeLabel(result.error?.code);
      fields.code = code;
      if (isOperatorFailure(code)) this.#log.warn(fields, 'script failed');
      else this.#log.info(fields, 'script failed');
    } catch {
      // Logging must never fail a script.
    }
  }
}

/** Largest guest console line in a log record, in UTF-8 bytes after escaping. */
export const MAX_GUEST_LOG_BYTES = 2048;

const TRUNCATION_MARKER = '…[truncated]';
const TRUNCATION_MARKER_BYTES = Buffer.byteLength(TRUNCATION_MARKER, 'utf8');

// Backslash (so escapes are unambiguous), C0 and C1 controls with DEL (newlines, ANSI escapes),
// Unicode line and paragraph separators, bidirectional controls (text that displays reordered),
// and unpaired surrogates (not valid UTF-8).
const UNSAFE =
  /[\\\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeCharacter(character: string): string {
  return (
    NAMED_ESCAPES[character] ??
    (character.length === 1 && UNSAFE.test(character)
      ? `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`
      : character)
  );
}

function utf8Bytes(piece: string): number {
  if (piece.length > 1) return piece.length === 2 && piece.charCodeAt(0) >= 0xd800 ? 4 : piece.length;
  const code = piece.charCodeAt(0);
  return code < 0x80 ? 1 : code < 0x800 ? 2 : 3;
}

/**
 * One line of printable text: controls, separators, bidirectional controls and unpaired
 * surrogates become `\n`, `\u001b`-style escapes, cut to `maxBytes` UTF-8 bytes with a marker.
 */
export function escapeGuestText(text: string, maxBytes = MAX_GUEST_LOG_BYTES): string {
  // Every UTF-16 unit is at most 3 UTF-8 bytes: short clean text needs no work.
  if (text.length * 3 <= maxBytes && !UNSAFE.test(text)) return text;
  const budget = Math.max(0, maxBytes - TRUNCATION_MARKER_BYTES);
  let escaped = '';
  let bytes = 0;
  let cut = -1;
  for (const character of text) {
    const piece = escapeCharacter(character);
    const size = piece === character ? utf8Bytes(character) : piece.length;
    if (bytes + size > budget && cut < 0) cut = escaped.length;
    bytes += size;
    if (bytes > maxBytes) return escaped.slice(0, cut) + TRUNCATION_MARKER;
    escaped += piece;
  }
  return escaped;
}

export interface GuestConsoleEntry {
  readonly level: string;
  readonly text: string;
  /** Milliseconds since the script started. */
  readonly atMs?: number;
}

export interface GuestConsoleLogOptions {
  /** Level of the record, whatever level the script chose; default `debug`. */
  readonly level?: Level;
  /** Default `MAX_GUEST_LOG_BYTES`. */
  readonly maxBytes?: number;
}

const GUEST_LEVELS = new Set(['log', 'info', 'warn', 'error', 'debug', 'trace']);

/**
 * Logs one line of a script's console output as the `text` field of a `guest console` record.
 * The record's level is the operator's choice, not the script's (`console.error` cannot raise
 * alerts); the script's level is kept in `guestLevel`, from a closed set.
 */
export function logGuestConsole(logger: Logger, entry: GuestConsoleEntry, options: GuestConsoleLogOptions = {}): void {
  const level = options.level ?? 'debug';
  if (!logger.isLevelEnabled(level)) return;
  const fields: Record<string, unknown> = {
    guestLevel: GUEST_LEVELS.has(entry.level) ? entry.level : 'other',
    text: escapeGuestText(String(entry.text), options.maxBytes ?? MAX_GUEST_LOG_BYTES),
  };
  if (typeof entry.atMs === 'number' && Number.isFinite(entry.atMs)) fields.atMs = entry.atMs;
  logger[level](fields, 'guest console');
}
