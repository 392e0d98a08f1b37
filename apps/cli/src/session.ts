/**
 * The harness a command runs scripts with, put together from the shared flags: the chosen tools
 * confined to the workspace, the policy (the config file's rules before the product's default
 * rules), the approval broker of `--approve`, the limits (flags over the config file), the runtime
 * of `--runtime`, and the audit log when the config file names one.
 */
import { resolve } from 'node:path';
import { createHarness, type Harness, type Limits } from '@script-harness/core';
import { createJsonlAuditSink, createRulePolicy, withAudit } from '@script-harness/policy';
import { createQuickJSRuntime } from '@script-harness/runtime-quickjs';
import { type ApprovalPrompter, createCliApprovals } from './approvals.ts';
import type { CliIo } from './io.ts';
import { loadRuntime, type RuntimeName } from './runtimes.ts';
import type { SharedSetup } from './shared-flags.ts';
import { createToolset, type Toolset } from './toolset.ts';

export interface SessionOptions {
  readonly setup: SharedSetup;
  readonly runtime: RuntimeName;
  /** Limits from flags; they win over the config file's. */
  readonly limits: Partial<Limits>;
  /** The terminal prompter for `--approve ask`; undefined when nobody can be asked. */
  readonly prompter: ApprovalPrompter | undefined;
  /** Finds the source of a running script for the approval prompt. */
  readonly sourceOf?: ((scriptId: string) => string | undefined) | undefined;
  readonly io: CliIo;
}

export interface Session {
  readonly harness: Harness;
  readonly toolset: Toolset;
  /** Closes the harness, the MCP connections and the audit log. */
  close(): Promise<void>;
}

export async function openSession(options: SessionOptions): Promise<Session> {
  const { setup } = options;
  const toolset = await createToolset({ workspace: setup.workspace, config: setup.config, requested: setup.tools });
  let harness: Harness | undefined;
  let closeAudit: () => Promise<void> = async () => {};
  try {
    const runtime = await loadRuntime(options.runtime);
    let policy = createRulePolicy({ rules: setup.config?.policy.rules ?? [] });
    let approvals = createCliApprovals({
      mode: setup.approve,
      prompter: options.prompter,
      sourceOf: options.sourceOf,
      timeoutMs: setup.config?.approvals.timeoutMs,
    });
    const auditFile = setup.config?.auditFile;
    if (auditFile !== undefined) {
      const sink = createJsonlAuditSink(resolve(options.io.cwd, auditFile));
      ({ policy, approvals } = withAudit(policy, approvals, sink));
      closeAudit = () => sink.close();
    }
    harness = createHarness({
      runtime,
      tools: toolset.tools,
      limits: { ...definedLimits(setup.config?.limits), ...options.limits },
      policy,
      approvals,
    });
  } catch (error) {
    await toolset.close();
    await closeAudit();
    throw error;
  }
  const opened = harness;
  return {
    harness: opened,
    toolset,
    close: async () => {
      await opened.close();
      await toolset.close();
      await closeAudit();
    },
  };
}

/**
 * A harness for validation only (`check`, `--mode dry-run`): the same tools and limits, and
 * QuickJS on the calling thread, which loads fast and is never asked to run anything.
 */
export async function openCheckSession(setup: SharedSetup, limits: Partial<Limits>): Promise<Session> {
  const toolset = await createToolset({ workspace: setup.workspace, config: setup.config, requested: setup.tools });
  try {
    const harness = createHarness({
      runtime: await createQuickJSRuntime({ mode: 'inline' }),
      tools: toolset.tools,
      limits: { ...definedLimits(setup.config?.limits), ...limits },
    });
    return {
      harness,
      toolset,
      close: async () => {
        await harness.close();
        await toolset.close();
      },
    };
  } catch (error) {
    await toolset.close();
    throw error;
  }
}

function definedLimits(limits: Partial<Limits> | undefined): Partial<Limits> {
  return Object.fromEntries(Object.entries(limits ?? {}).filter(([, value]) => value !== undefined));
}
