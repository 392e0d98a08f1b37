import { z } from 'zod';
import { HarnessError } from './errors.ts';

export interface ToolExecuteContext {
  /** Fires when the call is no longer wanted: script ended, deadline passed, race lost, cancelled. */
  readonly signal: AbortSignal;
  /** Unique per script run ("1", "2", ...). */
  readonly callId: string;
  readonly scriptId: string;
  /** Largest result (in JSON bytes) the script will accept; tools should cap their own output to it. */
  readonly maxOutputBytes: number;
}

export interface ToolDefinition<Input = unknown, Output = unknown> {
  /** What the model writes after `tools.` — dotted names form namespaces (`mcp.files.read`). */
  readonly name: string;
  readonly description: string;
  readonly input: z.ZodType<Input>;
  readonly output?: z.ZodType<Output>;
  execute(args: Input, context: ToolExecuteContext): Promise<Output> | Output;
  /** Whether a call needs approval before it runs (policy may still decide otherwise). */
  readonly requiresApproval?: boolean | ((args: Input) => boolean);
  /** Undoes a completed call, for callers that roll a script back. */
  revert?(args: Input, output: Output, context: ToolExecuteContext): Promise<void> | void;
}

/** A tool of any input and output type, as the registry stores it. */
// biome-ignore lint/suspicious/noExplicitAny: registries hold tools of every input type.
export type AnyTool = ToolDefinition<any, any>;

const TOOL_NAME = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$/;
const RESERVED_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype', 'then']);

export function defineTool<Input, Output>(definition: ToolDefinition<Input, Output>): ToolDefinition<Input, Output> {
  if (!TOOL_NAME.test(definition.name) || definition.name.split('.').some((part) => RESERVED_SEGMENTS.has(part))) {
    throw new HarnessError(
      'INVALID_REQUEST',
      `invalid tool name ${JSON.stringify(definition.name)}: use identifiers separated by dots, not __proto__/constructor/prototype/then`,
    );
  }
  if (!(definition.input instanceof z.ZodType)) {
    throw new HarnessError('INVALID_REQUEST', `tool ${definition.name}: input must be a zod schema`);
  }
  return Object.freeze({ ...definition });
}

export interface ToolRegistry {
  readonly names: readonly string[];
  get(name: string): AnyTool | undefined;
  /** Closest known names to a misspelt one, best first. */
  suggest(name: string, among?: readonly string[]): string[];
}

export function createToolRegistry(tools: readonly AnyTool[]): ToolRegistry {
  const byName = new Map<string, AnyTool>();
  for (const tool of tools) {
    if (byName.has(tool.name)) throw new HarnessError('INVALID_REQUEST', `duplicate tool name ${tool.name}`);
    byName.set(tool.name, tool);
  }
  // A name cannot be both a tool and a namespace (`a` and `a.b`): `tools.a` would be ambiguous.
  for (const name of byName.keys()) {
    const parts = name.split('.');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('.');
      if (byName.has(prefix))
        throw new HarnessError('INVALID_REQUEST', `tool ${prefix} is also a namespace of ${name}`);
    }
  }
  const names = Object.freeze([...byName.keys()].sort());
  return {
    names,
    get: (name) => byName.get(name),
    suggest: (name, among = names) => closestNames(name, among),
  };
}

export function closestNames(name: string, candidates: readonly string[], limit = 3): string[] {
  const target = name.toLowerCase();
  return candidates
    .map((candidate) => {
      const c = candidate.toLowerCase();
      const last = c.slice(c.lastIndexOf('.') + 1);
      const distance = Math.min(editDistance(target, c), editDistance(target, last));
      const contains = c.includes(target) || target.includes(last);
      return { candidate, score: contains ? Math.min(distance, 1) : distance };
    })
    .filter(({ score }) => score <= Math.max(2, Math.floor(target.length / 3)))
    .sort((a, b) => a.score - b.score || a.candidate.localeCompare(b.candidate))
    .slice(0, limit)
    .map(({ candidate }) => candidate);
}

function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}
