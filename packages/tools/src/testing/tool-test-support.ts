/**
 * What the tools' tests share: a fresh workspace per test beside a directory no tool may reach,
 * and the context the harness hands a tool call. Not part of the package's API.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ToolExecuteContext } from '@script-harness/core';

export interface TemporaryWorkspace {
  /** The directory holding both, removed by `remove`. */
  readonly base: string;
  /** The workspace root the tools are confined to. */
  readonly root: string;
  /** A sibling of the root holding `outsideFiles`: what an escape would reach. */
  readonly outside: string;
  remove(): Promise<void>;
}

export async function temporaryWorkspace(
  label: string,
  outsideFiles: Readonly<Record<string, string>>,
): Promise<TemporaryWorkspace> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), `script-harness-${label}-`));
  const root = path.join(base, 'root');
  const outside = path.join(base, 'outside');
  await fs.mkdir(root);
  await fs.mkdir(outside);
  for (const [name, content] of Object.entries(outsideFiles)) await fs.writeFile(path.join(outside, name), content);
  return { base, root, outside, remove: () => fs.rm(base, { recursive: true, force: true }) };
}

/** The context of one tool call, as the harness builds it. */
export function toolContext(scriptId: string, overrides: Partial<ToolExecuteContext> = {}): ToolExecuteContext {
  return {
    signal: new AbortController().signal,
    callId: '1',
    scriptId,
    maxOutputBytes: 256 * 1024,
    ...overrides,
  };
}
