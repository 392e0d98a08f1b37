import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ApprovalBroker, PolicyEngine, ToolCallRequest } from '@script-harness/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AuditRecord, auditLine, createJsonlAuditSink, createMemoryAuditSink, withAudit } from './audit.ts';
import { createApprovalBroker } from './broker.ts';
import { createRulePolicy } from './rules.ts';

let directory: string;

beforeEach(async () => {
  directory = await fs.mkdtemp(path.join(os.tmpdir(), 'script-harness-audit-'));
});

afterEach(async () => {
  await fs.rm(directory, { recursive: true, force: true });
});

function record(overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    at: '2025-01-01T00:00:00.000Z',
    scriptId: 'script-1',
    callId: '1',
    tool: 'writeFile',
    sequence: 1,
    decision: 'ask',
    rule: 'default:writes',
    ...overrides,
  };
}

function call(overrides: Partial<ToolCallRequest> = {}): ToolCallRequest {
  return {
    scriptId: 'script-1',
    callId: '1',
    sequence: 1,
    tool: 'writeFile',
    args: { path: 'a.txt', content: 'x' },
    toolRequiresApproval: false,
    ...overrides,
  };
}

async function readLines(file: string): Promise<string[]> {
  const text = await fs.readFile(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

describe('JSONL audit sink', () => {
  it('appends one line per record, in order, that parses back', async () => {
    const file = path.join(directory, 'audit.jsonl');
    const sink = createJsonlAuditSink(file);
    const records = [
      record({ callId: '1', decision: 'allow', rule: 'rules[0]' }),
      record({
        callId: '2',
        approval: { outcome: 'approved', by: 'alice', reason: 'ok', waitedMs: 1200 },
        correlationId: 'conversation-9',
      }),
      record({ callId: '3', decision: 'deny', reason: 'no network' }),
    ];
    for (const entry of records) void sink.write(entry);
    await sink.close();
    const lines = await readLines(file);
    expect(lines.map((line) => JSON.parse(line))).toEqual(records);
    // Closed sinks reopen for later records; the file is appended to, never truncated.
    await sink.write(record({ callId: '4' }));
    await sink.close();
    expect(await readLines(file)).toHaveLength(4);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  });

  it('S45: a newline in a tool name or reason cannot forge a second record', async () => {
    const file = path.join(directory, 'audit.jsonl');
    const sink = createJsonlAuditSink(file);
    const forged = JSON.stringify(record({ decision: 'allow', tool: 'exec', reason: 'approved by admin' }));
    const hostile = record({
      tool: `evil\n${forged}`,
      reason: `looks fine\r\n${forged}\u2028${forged}\u2029`,
      approval: { outcome: 'denied', by: `mallory\n${forged}`, waitedMs: 1 },
    });
    await sink.write(hostile);
    await sink.close();
    const text = await fs.readFile(file, 'utf8');
    expect(text.match(/\n/g)).toHaveLength(1);
    expect(text).not.toMatch(/[\r\u2028\u2029]/);
    const lines = await readLines(file);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toEqual(hostile);
  });

  it('writes the known fields only, in a fixed order', () => {
    const withExtra = { ...record({ decision: 'allow' }), injected: 'x' } as AuditRecord;
    expect(Object.keys(JSON.parse(auditLine(withExtra)))).toEqual([
      'at',
      'scriptId',
      'callId',
      'tool',
      'sequence',
      'decision',
      'rule',
    ]);
  });

  it('reports write errors to onError and never throws', async () => {
    const errors: { error: unknown; record: AuditRecord }[] = [];
    const sink = createJsonlAuditSink(path.join(directory, 'missing-directory', 'audit.jsonl'), {
      onError: (error, failed) => errors.push({ error, record: failed }),
    });
    await expect(sink.write(record({ callId: '1' }))).resolves.toBeUndefined();
    await expect(sink.write(record({ callId: '2' }))).resolves.toBeUndefined();
    await sink.close();
    expect(errors.map((entry) => entry.record.callId)).toEqual(['1', '2']);
    expect(errors[0]?.error).toMatchObject({ code: 'ENOENT' });
  });

  it('a write that fails once does not stop later writes', async () => {
    const file = path.join(directory, 'later', 'audit.jsonl');
    const errors: unknown[] = [];
    const sink = createJsonlAuditSink(file, { onError: (error) => errors.push(error) });
    await sink.write(record({ callId: '1' }));
    await fs.mkdir(path.dirname(file));
    await sink.write(record({ callId: '2' }));
    await sink.close();
    expect(errors).toHaveLength(1);
    expect((await readLines(file)).map((line) => JSON.parse(line).callId)).toEqual(['2']);
  });
});

describe('memory audit sink', () => {
  it('keeps copies of the latest records', () => {
    const sink = createMemoryAuditSink({ limit: 2 });
    for (const callId of ['1', '2', '3']) sink.write(record({ callId }));
    const records = sink.records();
    expect(records.map((entry) => entry.callId)).toEqual(['2', '3']);
    (records[0] as { callId: string }).callId = 'changed';
    expect(sink.records()[0]?.callId).toBe('2');
  });
});

describe('withAudit', () => {
  it('records every decision, and the approval outcome with its wait', async () => {
    const sink = createMemoryAuditSink();
    let clock = 10_000;
    const broker = createApprovalBroker();
    const { policy, approvals } = withAudit(createRulePolicy({ rules: [] }), broker, sink, {
      correlationId: 'job-42',
      now: () => clock,
    });
    const read = call({ tool: 'readFile', args: { path: 'a.txt' } });
    expect(await policy.decide(read)).toMatchObject({ decision: 'allow' });
    const write = call({ callId: '2', sequence: 2 });
    expect(await policy.decide(write)).toMatchObject({ decision: 'ask' });
    broker.on('requested', (approval) => {
      clock += 1500;
      broker.decide(approval.id, 'deny', 'bob', 'wrong file');
    });
    expect(await approvals.request(write, new AbortController().signal)).toMatchObject({ approved: false });
    expect(sink.records()).toEqual([
      {
        at: new Date(10_000).toISOString(),
        scriptId: 'script-1',
        callId: '1',
        tool: 'readFile',
        sequence: 1,
        decision: 'allow',
        rule: 'default:reads',
        reason: 'reading the workspace is allowed by default',
        correlationId: 'job-42',
      },
      {
        at: new Date(10_000).toISOString(),
        scriptId: 'script-1',
        callId: '2',
        tool: 'writeFile',
        sequence: 2,
        decision: 'ask',
        rule: 'default:writes',
        reason: 'changing the workspace needs approval by default',
        correlationId: 'job-42',
      },
      {
        at: new Date(11_500).toISOString(),
        scriptId: 'script-1',
        callId: '2',
        tool: 'writeFile',
        sequence: 2,
        decision: 'ask',
        rule: 'default:writes',
        reason: 'changing the workspace needs approval by default',
        approval: { outcome: 'denied', by: 'bob', reason: 'wrong file', waitedMs: 1500 },
        correlationId: 'job-42',
      },
    ]);
  });

  it('names timeouts and cancellations as such', async () => {
    const sink = createMemoryAuditSink();
    const { approvals } = withAudit(createRulePolicy({ rules: [] }), createApprovalBroker({ timeoutMs: 10 }), sink);
    await approvals.request(call({ callId: '1' }), new AbortController().signal);
    const controller = new AbortController();
    const cancelled = approvals.request(call({ callId: '2' }), controller.signal);
    controller.abort();
    await cancelled;
    expect(sink.records().map((entry) => `${entry.callId}:${entry.approval?.outcome}`)).toEqual([
      '1:timeout',
      '2:cancelled',
    ]);
  });

  it('a sink that fails does not fail the call; the error goes to onError', async () => {
    const errors: unknown[] = [];
    const failing = {
      write: () => {
        throw new Error('disk full');
      },
    };
    const approving: ApprovalBroker = { request: async () => ({ approved: true, by: 'auto' }) };
    const { policy, approvals } = withAudit(createRulePolicy({ rules: [] }), approving, failing, {
      onError: (error) => errors.push(error),
    });
    await expect(policy.decide(call())).resolves.toMatchObject({ decision: 'ask' });
    await expect(approvals.request(call(), new AbortController().signal)).resolves.toEqual({
      approved: true,
      by: 'auto',
    });
    expect(errors).toHaveLength(2);
  });

  it('the decision record is written before the engine can act on it', async () => {
    const order: string[] = [];
    const slowSink = {
      write: async (entry: AuditRecord) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        order.push(`written:${entry.decision}`);
      },
    };
    const allowAll: PolicyEngine = { decide: () => ({ decision: 'allow', rule: 'test' }) };
    const { policy } = withAudit(allowAll, createApprovalBroker(), slowSink);
    await policy.decide(call());
    order.push('decided');
    expect(order).toEqual(['written:allow', 'decided']);
  });

  it('a correlation id can be derived per call', async () => {
    const sink = createMemoryAuditSink();
    const { policy } = withAudit(createRulePolicy({ rules: [] }), createApprovalBroker(), sink, {
      correlationId: (request) => `run-${request.scriptId}`,
    });
    await policy.decide(call({ scriptId: 'abc' }));
    expect(sink.records()[0]?.correlationId).toBe('run-abc');
  });
});
