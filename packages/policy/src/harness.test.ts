/**
 * Policy, approvals and audit driven by real scripts: the engine from core, the QuickJS runtime
 * (inline), and tools that keep their files in memory so every effect is observable.
 */
import { type AnyTool, createHarness, defineTool, type Harness, type RuntimeAdapter } from '@script-harness/core';
import { createQuickJSRuntime } from '@script-harness/runtime-quickjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMemoryAuditSink, withAudit } from './audit.ts';
import { createApprovalBroker, type InteractiveApprovalBroker, type PendingApproval } from './broker.ts';
import { createRulePolicy, type PolicyRule } from './rules.ts';

/** Approval waits count against the script's deadline in the engine today: give scripts room. */
const LIMITS = { timeoutMs: 120_000 };

let runtime: RuntimeAdapter;
let harness: Harness | undefined;

beforeAll(async () => {
  runtime = await createQuickJSRuntime({ mode: 'inline' });
});

afterAll(async () => {
  await runtime.close?.();
});

afterEach(() => {
  harness = undefined;
});

/** `readFile` and `writeFile` over a map, recording every write that actually ran. */
function memoryFileTools(files: Map<string, string>, writes: string[]): AnyTool[] {
  return [
    defineTool({
      name: 'readFile',
      description: 'Reads a file.',
      input: z.strictObject({ path: z.string() }),
      execute: ({ path }) => ({ path, content: files.get(path) ?? '' }),
    }),
    defineTool({
      name: 'writeFile',
      description: 'Writes a file.',
      input: z.strictObject({ path: z.string(), content: z.string() }),
      execute: ({ path, content }) => {
        writes.push(path);
        files.set(path, content);
        return { path, bytes: content.length };
      },
    }),
  ];
}

function setup(options: { rules?: PolicyRule[]; timeoutMs?: number } = {}) {
  const files = new Map([['notes/today.md', 'standup at ten']]);
  const writes: string[] = [];
  const broker = createApprovalBroker(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
  const sink = createMemoryAuditSink();
  const audited = withAudit(createRulePolicy({ rules: options.rules ?? [] }), broker, sink, {
    correlationId: 'conversation-1',
  });
  harness = createHarness({
    runtime,
    tools: memoryFileTools(files, writes),
    policy: audited.policy,
    approvals: audited.approvals,
    limits: LIMITS,
  });
  return { harness, broker, sink, files, writes };
}

function nextRequested(broker: InteractiveApprovalBroker): Promise<PendingApproval> {
  return new Promise((resolve) => {
    const off = broker.on('requested', (approval) => {
      off();
      resolve(approval);
    });
  });
}

describe('approvals through the harness', () => {
  it('F11: a tool that needs approval pauses the script until a decision arrives', async () => {
    const { harness, broker, sink, files, writes } = setup();
    const shown = nextRequested(broker);
    let firstSettled = false;
    const first = harness
      .run(`
        const written = await tools.writeFile({ path: 'notes/plan.md', content: 'ship it' });
        return { written, after: 'resumed' };
      `)
      .finally(() => {
        firstSettled = true;
      });

    const approval = await shown;
    expect(approval).toMatchObject({ tool: 'writeFile', sequence: 1, args: { path: 'notes/plan.md' } });
    expect(broker.pending()).toHaveLength(1);

    // Other scripts keep running while the first one waits.
    const second = await harness.run(`return (await tools.readFile({ path: 'notes/today.md' })).content;`);
    expect(second).toMatchObject({ ok: true, value: 'standup at ten' });
    expect(firstSettled).toBe(false);
    expect(writes).toEqual([]);

    expect(broker.decide(approval.id, 'approve', 'alice', 'fine')).toEqual({ ok: true, status: 'approved' });
    const result = await first;
    expect(result.error).toBeUndefined();
    expect(result).toMatchObject({
      ok: true,
      value: { written: { path: 'notes/plan.md', bytes: 7 }, after: 'resumed' },
    });
    expect(writes).toEqual(['notes/plan.md']);
    expect(files.get('notes/plan.md')).toBe('ship it');

    const trail = sink.records().filter((record) => record.tool === 'writeFile');
    expect(trail.map((record) => [record.decision, record.rule, record.approval?.outcome])).toEqual([
      ['ask', 'default:writes', undefined],
      ['ask', 'default:writes', 'approved'],
    ]);
    expect(trail[1]?.approval).toMatchObject({ by: 'alice', reason: 'fine' });
    expect(trail.every((record) => record.correlationId === 'conversation-1')).toBe(true);
  });

  it('F12: a denied approval throws a catchable ApprovalDeniedError; the script continues', async () => {
    const { harness, broker, writes } = setup();
    broker.on('requested', (approval) => {
      setTimeout(() => broker.decide(approval.id, 'deny', 'bob', 'not in this sprint'), 10);
    });
    const result = await harness.run(`
      let caught;
      try {
        await tools.writeFile({ path: 'deploy.sh', content: 'rm -rf /' });
      } catch (e) {
        caught = {
          code: e.code,
          name: e.name,
          message: e.message,
          isDenied: e instanceof ApprovalDeniedError,
          isToolError: e instanceof ToolError,
        };
      }
      const next = await tools.readFile({ path: 'notes/today.md' });
      return { caught, continued: next.content };
    `);
    expect(result.error).toBeUndefined();
    expect(result.value).toEqual({
      caught: {
        code: 'APPROVAL_DENIED',
        name: 'ApprovalDeniedError',
        message: expect.stringContaining('not in this sprint'),
        isDenied: true,
        isToolError: true,
      },
      continued: 'standup at ten',
    });
    expect(writes).toEqual([]);
  });

  it('a call with no decision in time fails with APPROVAL_TIMEOUT; the script continues', async () => {
    const { harness, broker, sink, writes } = setup({ timeoutMs: 50 });
    const result = await harness.run(`
      try {
        await tools.writeFile({ path: 'late.txt', content: 'x' });
        return 'written';
      } catch (e) {
        return { code: e.code, isDenied: e instanceof ApprovalDeniedError };
      }
    `);
    expect(result).toMatchObject({ ok: true, value: { code: 'APPROVAL_TIMEOUT', isDenied: false } });
    expect(writes).toEqual([]);
    expect(broker.pending()).toEqual([]);
    expect(sink.records().at(-1)?.approval?.outcome).toBe('timeout');
  });

  it('cancelling a waiting script withdraws its approval', async () => {
    const { harness, broker, sink, writes } = setup();
    const shown = nextRequested(broker);
    const controller = new AbortController();
    const run = harness.run(`await tools.writeFile({ path: 'a.txt', content: 'x' }); return 'written';`, {
      signal: controller.signal,
    });
    const approval = await shown;
    controller.abort();
    const result = await run;
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe('CANCELLED');
    expect(broker.pending()).toEqual([]);
    expect(broker.get(approval.id)?.status).toBe('cancelled');
    expect(broker.decide(approval.id, 'approve', 'alice').ok).toBe(false);
    expect(writes).toEqual([]);
    expect(sink.records().at(-1)?.approval?.outcome).toBe('cancelled');
  });

  it('S45: a denied rule never reaches the tool or the approver (threat 25)', async () => {
    const { harness, broker, writes } = setup({
      rules: [
        { tool: 'writeFile', when: { paths: ['secrets/**'] }, decision: 'deny', reason: 'secrets are read-only' },
      ],
    });
    let asked = 0;
    broker.on('requested', () => asked++);
    const result = await harness.run(`
      try { await tools.writeFile({ path: './secrets/../secrets/.env', content: 'x' }); return 'written'; }
      catch (e) { return { code: e.code, message: e.message }; }
    `);
    expect(result.value).toEqual({ code: 'POLICY_DENIED', message: expect.stringContaining('secrets are read-only') });
    expect(writes).toEqual([]);
    expect(asked).toBe(0);
  });

  it('S45: an approval is good for one call only; the same call again asks again (threat 25)', async () => {
    const { harness, broker, writes } = setup();
    const seen: PendingApproval[] = [];
    let reuse: unknown;
    broker.on('requested', (approval) => {
      seen.push(approval);
      // The first is approved; an attempt to reuse that decision for the second is refused.
      if (seen.length === 1) broker.decide(approval.id, 'approve', 'alice');
      else {
        reuse = broker.decide(seen[0]?.id ?? '', 'approve', 'alice');
        broker.decide(approval.id, 'deny', 'alice', 'once was enough');
      }
    });
    const result = await harness.run(`
      const args = { path: 'a.txt', content: 'x' };
      await tools.writeFile(args);
      try { await tools.writeFile(args); return 'twice'; } catch (e) { return e.code; }
    `);
    expect(result).toMatchObject({ ok: true, value: 'APPROVAL_DENIED' });
    expect(writes).toEqual(['a.txt']);
    expect(reuse).toEqual({ ok: false, reason: 'the approval is already settled (approved)' });
    expect(seen.map((approval) => approval.sequence)).toEqual([1, 2]);
    expect(seen[0]?.argsHash).not.toBe(seen[1]?.argsHash);
  });
});
