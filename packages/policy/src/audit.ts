/**
 * The audit trail: one record per policy decision and one per approval outcome, written to a sink.
 * Writing never fails a tool call; a sink that cannot write reports the error and the call goes on.
 */
import * as fs from 'node:fs/promises';
import type {
  ApprovalBroker,
  ApprovalOutcome,
  PolicyDecision,
  PolicyEngine,
  ToolCallRequest,
} from '@script-harness/core';

export type ApprovalOutcomeKind = 'approved' | 'denied' | 'timeout' | 'cancelled';

export interface AuditRecord {
  /** ISO 8601 time of the decision, or of the approval outcome. */
  readonly at: string;
  readonly scriptId: string;
  readonly callId: string;
  readonly tool: string;
  readonly sequence: number;
  readonly decision: PolicyDecision['decision'];
  /** The rule that decided, e.g. `rules[2]`, `request:rules[0]`, `default:writes`. */
  readonly rule?: string;
  /** The policy's reason for the decision. */
  readonly reason?: string;
  /** Present on the second record of an `ask`: how the approval ended. */
  readonly approval?: {
    readonly outcome: ApprovalOutcomeKind;
    readonly by?: string;
    readonly reason?: string;
    readonly waitedMs: number;
  };
  readonly correlationId?: string;
}

export interface AuditSink {
  write(record: AuditRecord): void | Promise<void>;
}

export interface JsonlAuditSinkOptions {
  /** Receives every write error (default: a process warning). The record is lost; later writes retry. */
  readonly onError?: (error: unknown, record: AuditRecord) => void;
}

export interface JsonlAuditSink extends AuditSink {
  /** Resolves once every record handed to `write` so far is written (or reported as failed). */
  write(record: AuditRecord): Promise<void>;
  /** Waits for pending writes, then closes the file; later writes reopen it. */
  close(): Promise<void>;
}

/**
 * Appends each record to `filePath` as one line of JSON, in one write, in the order `write` was
 * called. The file is opened for appending only (created with mode 0600), never truncated.
 */
export function createJsonlAuditSink(filePath: string, options: JsonlAuditSinkOptions = {}): JsonlAuditSink {
  const onError =
    options.onError ??
    ((error: unknown) =>
      process.emitWarning(
        `the audit log could not be written: ${error instanceof Error ? error.message : String(error)}`,
      ));
  let handle: Promise<fs.FileHandle> | undefined;
  // Writes are chained so records land in the order they were made, even when the disk is slow.
  let queue: Promise<void> = Promise.resolve();

  const open = () => {
    handle ??= fs.open(filePath, 'a', 0o600);
    return handle;
  };
  const discardHandle = async () => {
    const current = handle;
    handle = undefined;
    await current?.then((file) => file.close()).catch(() => {});
  };

  return {
    write(record) {
      let line: string;
      try {
        line = `${auditLine(record)}\n`;
      } catch (error) {
        onError(error, record);
        return queue;
      }
      queue = queue.then(async () => {
        try {
          const file = await open();
          await file.write(line);
        } catch (error) {
          await discardHandle();
          onError(error, record);
        }
      });
      return queue;
    },
    async close() {
      await queue;
      await discardHandle();
    },
  };
}

export interface MemoryAuditSink extends AuditSink {
  write(record: AuditRecord): void;
  /** Copies of the records written so far, oldest first. */
  records(): AuditRecord[];
}

/** Keeps records in memory, the latest `limit` of them (default 10 000): for tests and small hosts. */
export function createMemoryAuditSink(options: { readonly limit?: number } = {}): MemoryAuditSink {
  const limit = options.limit ?? 10_000;
  const kept: AuditRecord[] = [];
  return {
    write(record) {
      kept.push(structuredClone(record));
      if (kept.length > limit) kept.splice(0, kept.length - limit);
    },
    records: () => kept.map((record) => structuredClone(record)),
  };
}

/**
 * One record as one line of JSON: the known fields only, in a fixed order. `JSON.stringify`
 * escapes line breaks in strings; U+2028 and U+2029 are escaped too, because some line readers
 * split on them. A newline in a tool name or reason therefore cannot start a second record.
 */
export function auditLine(record: AuditRecord): string {
  const approval = record.approval;
  const ordered = {
    at: record.at,
    scriptId: record.scriptId,
    callId: record.callId,
    tool: record.tool,
    sequence: record.sequence,
    decision: record.decision,
    rule: record.rule,
    reason: record.reason,
    approval:
      approval === undefined
        ? undefined
        : { outcome: approval.outcome, by: approval.by, reason: approval.reason, waitedMs: approval.waitedMs },
    correlationId: record.correlationId,
  };
  return JSON.stringify(ordered).replace(/[\u2028\u2029]/g, (char) => (char === '\u2028' ? '\\u2028' : '\\u2029'));
}

export interface AuditOptions {
  /** Ties records to a conversation, job or request: a fixed string, or one per call. */
  readonly correlationId?: string | ((request: ToolCallRequest) => string | undefined);
  /** Clock in epoch milliseconds (default `Date.now`). */
  readonly now?: () => number;
  /** Receives errors of `sink.write` (default: a process warning); the tool call goes on either way. */
  readonly onError?: (error: unknown, record: AuditRecord) => void;
}

/**
 * Wraps a policy and a broker so every decision, and every approval outcome, is written to
 * `sink`. Pass the returned pair to `createHarness`. A decision is recorded before the engine acts
 * on it: the record of an allowed call exists before the tool runs.
 */
export function withAudit(
  policy: PolicyEngine,
  broker: ApprovalBroker,
  sink: AuditSink,
  options: AuditOptions = {},
): { policy: PolicyEngine; approvals: ApprovalBroker } {
  const now = options.now ?? Date.now;
  const onError =
    options.onError ??
    ((error: unknown) =>
      process.emitWarning(
        `the audit log could not be written: ${error instanceof Error ? error.message : String(error)}`,
      ));
  const correlationOf = (request: ToolCallRequest) =>
    typeof options.correlationId === 'function' ? options.correlationId(request) : options.correlationId;
  // The decision of each call waiting for approval, for its second record.
  const asked = new WeakMap<ToolCallRequest, PolicyDecision>();

  const write = async (record: AuditRecord) => {
    try {
      await sink.write(record);
    } catch (error) {
      try {
        onError(error, record);
      } catch {
        // An error handler that throws must not turn an audit problem into a failed tool call.
      }
    }
  };

  const baseRecord = (request: ToolCallRequest, decision: PolicyDecision, at: number): AuditRecord => {
    const correlationId = correlationOf(request);
    return {
      at: new Date(at).toISOString(),
      scriptId: request.scriptId,
      callId: request.callId,
      tool: request.tool,
      sequence: request.sequence,
      decision: decision.decision,
      ...(decision.rule === undefined ? {} : { rule: decision.rule }),
      ...(decision.reason === undefined ? {} : { reason: decision.reason }),
      ...(correlationId === undefined ? {} : { correlationId }),
    };
  };

  return {
    policy: {
      async decide(request) {
        const decision = await policy.decide(request);
        if (decision.decision === 'ask') asked.set(request, decision);
        await write(baseRecord(request, decision, now()));
        return decision;
      },
    },
    approvals: {
      async request(request, signal) {
        const started = now();
        const decision = asked.get(request) ?? { decision: 'ask' };
        asked.delete(request);
        let outcome: ApprovalOutcome;
        try {
          outcome = await broker.request(request, signal);
        } catch (error) {
          // The contract says brokers resolve; one that rejects still leaves a trace of the call.
          const failed = now();
          await write({
            ...baseRecord(request, decision, failed),
            approval: {
              outcome: 'denied',
              reason: 'the approval broker failed',
              waitedMs: Math.max(0, failed - started),
            },
          });
          throw error;
        }
        const ended = now();
        await write({
          ...baseRecord(request, decision, ended),
          approval: {
            outcome: outcomeKind(outcome, signal),
            ...(outcome.by === undefined ? {} : { by: outcome.by }),
            ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
            waitedMs: Math.max(0, ended - started),
          },
        });
        return outcome;
      },
    },
  };
}

function outcomeKind(outcome: ApprovalOutcome, signal: AbortSignal): ApprovalOutcomeKind {
  if (outcome.approved) return 'approved';
  if (outcome.timedOut === true) return 'timeout';
  if (signal.aborted) return 'cancelled';
  return 'denied';
}
