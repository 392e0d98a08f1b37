/**
 * `harness demo`: replays a recorded assistant message (reasoning, text and a script block) against
 * a throw-away copy of a small project, and shows the resulting history the way a model would see it.
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { executeMessage, type MessageExecution, type ToolCallRecord } from '@script-harness/core';
import { formatDemoReport, inCallOrder, type WrittenFile } from '../format.ts';
import type { CliIo } from '../io.ts';
import { createWorkspaceHarness } from './run.ts';

/**
 * The transcript and its seed workspace: the repository's `examples/demo/` when the CLI runs from
 * source, the copy the build puts into `dist/demo/` when it runs from the published package.
 */
export const DEMO_DIRECTORY = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../../../../examples/demo/' : '../demo/', import.meta.url),
);

export interface DemoCommandOptions {
  readonly json?: boolean | undefined;
  readonly verbose?: boolean | undefined;
  /** Where the demo files are; tests point this elsewhere. Default: `DEMO_DIRECTORY`. */
  readonly demoDirectory?: string | undefined;
}

export interface DemoOutcome {
  readonly execution: MessageExecution;
  readonly written: readonly WrittenFile[];
  readonly ok: boolean;
}

/** Runs the demo and returns its exit code: 0 when every script block succeeded. */
export async function demoCommand(options: DemoCommandOptions, io: CliIo): Promise<number> {
  const outcome = await runDemo(options.demoDirectory ?? DEMO_DIRECTORY);
  if (options.json === true) {
    const { items, results } = outcome.execution;
    io.stdout.write(`${JSON.stringify({ ok: outcome.ok, items, results, written: outcome.written })}\n`);
  } else {
    io.stdout.write(formatDemoReport(outcome, { verbose: options.verbose === true }));
  }
  return outcome.ok ? 0 : 1;
}

export interface RunDemoOptions {
  /** Directory the temporary workspace is created in. Default: the system's temporary directory. */
  readonly temporaryParent?: string | undefined;
}

/**
 * Copies `workspace/` of the demo directory into a fresh temporary directory, executes
 * `transcript.md` as one assistant message with the file tools confined there, collects the files
 * the script wrote, and removes the temporary directory again.
 */
export async function runDemo(demoDirectory: string, options: RunDemoOptions = {}): Promise<DemoOutcome> {
  const transcript = await readFile(join(demoDirectory, 'transcript.md'), 'utf8');
  const workspace = await mkdtemp(join(options.temporaryParent ?? tmpdir(), 'script-harness-demo-'));
  try {
    await cp(join(demoDirectory, 'workspace'), workspace, { recursive: true });
    const harness = await createWorkspaceHarness(workspace);
    let execution: MessageExecution;
    try {
      execution = await executeMessage(harness, transcript);
    } finally {
      await harness.close();
    }
    const written = await readWrittenFiles(
      workspace,
      execution.results.flatMap((result) => inCallOrder(result.calls)),
    );
    const ok =
      execution.results.length > 0 &&
      execution.items.every((item) => item.type !== 'script_tool_call_output' || item.ok);
    return { execution, written, ok };
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
}

/** The final content of every file a successful `writeFile` call wrote, once per path, in call order. */
async function readWrittenFiles(workspace: string, calls: readonly ToolCallRecord[]): Promise<WrittenFile[]> {
  const paths: string[] = [];
  for (const call of calls) {
    if (call.tool !== 'writeFile' || call.status !== 'ok') continue;
    const path = writtenPath(call);
    if (path !== undefined && !paths.includes(path)) paths.push(path);
  }
  const files: WrittenFile[] = [];
  for (const path of paths) {
    const absolute = resolve(workspace, path);
    // The tools confine writes to the workspace; this only keeps the demo from reading elsewhere if they did not.
    if (absolute !== workspace && !absolute.startsWith(workspace + sep)) continue;
    files.push({ path: relative(workspace, absolute).split(sep).join('/'), content: await readFile(absolute, 'utf8') });
  }
  return files;
}

function writtenPath(call: ToolCallRecord): string | undefined {
  const fromValue = (call.value as { path?: unknown } | undefined)?.path;
  if (typeof fromValue === 'string') return fromValue;
  const fromArgs = (call.args as { path?: unknown } | undefined)?.path;
  return typeof fromArgs === 'string' ? fromArgs : undefined;
}
