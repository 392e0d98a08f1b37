/**
 * What the model is told about code mode, in the two shapes an agent uses it: a system prompt for
 * script blocks in the assistant's text (`systemPrompt`), and the description of one ordinary
 * `run_script` tool (`runScriptDescription`). Both carry the generated declarations of the tools
 * a script may call, so the model writes calls that type-check against them.
 */
import {
  type AnyTool,
  DEFAULT_LIMITS,
  generateDeclarations,
  generatePromptSection,
  type Harness,
  HarnessError,
  type Limits,
} from '@script-harness/core';

/** A harness (its tools and limits are used) or a plain list of tools. */
export type ToolSource = Harness | readonly AnyTool[];

export interface SystemPromptOptions {
  /** The agent's own instructions, put before the code-mode section. */
  readonly instructions?: string;
  /** Only these tools are declared (as `RunOptions.tools` restricts a run). Default: all. */
  readonly tools?: readonly string[];
  /** Limits the scripts run under, over the harness's own (or the defaults for a tool list). */
  readonly limits?: Partial<Limits>;
}

/**
 * A system prompt that explains the script-block format (`<tool-calls>` or a ```` ```ts tool-calls ````
 * fence) and declares the tools: the prompt for agents whose replies go through `executeTurn`.
 */
export function systemPrompt(source: ToolSource, options: SystemPromptOptions = {}): string {
  const section = generatePromptSection(toolsOf(source), {
    ...(options.tools === undefined ? {} : { names: options.tools }),
    limits: limitsOf(source, options.limits),
  });
  const instructions = options.instructions?.trim();
  return instructions === undefined || instructions === '' ? section : `${instructions}\n\n${section}`;
}

export interface RunScriptDescriptionOptions {
  /** Only these tools are declared (and callable, where the caller passes the same list to the run). */
  readonly tools?: readonly string[];
  readonly limits?: Partial<Limits>;
  /**
   * `full` declares every tool with its argument and result types; `names` lists names and
   * descriptions only, for tool sets too large for one description. Default `full`.
   */
  readonly declarations?: 'full' | 'names';
  /** A sentence on how to get a tool's full declaration, shown with `names`. */
  readonly lookupHint?: string;
}

/** The description of a `run_script` tool: how to write the program, its limits, and the tools. */
export function runScriptDescription(source: ToolSource, options: RunScriptDescriptionOptions = {}): string {
  const tools = selectTools(toolsOf(source), options.tools);
  const limits = { ...DEFAULT_LIMITS, ...limitsOf(source, options.limits) };
  const lines = [
    'Runs a short TypeScript program in a sandbox and returns its result. One program can call many tools ' +
      '(in parallel, in loops, with error handling) and return only what you need.',
    '',
    '- `code` is the body of an async function: use top-level `await`, and `return` the result as small JSON data.',
    '- Call tools only through `tools`. `await` every call; start independent calls together with `Promise.all`.',
    '- A failed tool call throws a `ToolError` with a `code` (e.g. `TOOL_VALIDATION`) and a `message`; catch it to recover.',
    '- No `require`, `import`, `eval`, timers or network: only tools reach outside. Types are stripped, not checked.',
    `- Limits per program: ${formatDuration(limits.timeoutMs)} (tool calls included), ${limits.memoryMb} MB memory, ` +
      `${limits.maxToolCalls} tool calls (${limits.maxConcurrentToolCalls} at a time), ` +
      `${formatBytes(limits.maxSourceBytes)} of source, ${formatBytes(limits.maxOutputBytes)} of returned JSON.`,
    '- The result is JSON: `{"ok":true,"value":...}`, or `{"ok":false,"error":{"code":...,"message":...}}` with the ' +
      'results of the tool calls that completed before the failure; console output comes along as `console`.',
    '',
  ];
  if (options.declarations === 'names') {
    lines.push('Tools, called as `await tools.<name>(args)`:');
    for (const tool of tools) lines.push(`- ${tool.name}: ${firstSentence(tool.description)}`);
    if (options.lookupHint !== undefined) lines.push('', options.lookupHint);
  } else {
    lines.push(
      'What the program sees:',
      '',
      '```ts',
      generateDeclarations(tools, { names: tools.map((tool) => tool.name) }).trimEnd(),
      '```',
    );
  }
  return lines.join('\n');
}

/** The tools of a harness (every registered tool) or the list itself. */
export function toolsOf(source: ToolSource): readonly AnyTool[] {
  if (isHarness(source)) return source.registry.names.map((name) => source.registry.get(name) as AnyTool);
  return source;
}

function isHarness(source: ToolSource): source is Harness {
  return !Array.isArray(source);
}

function limitsOf(source: ToolSource, overrides: Partial<Limits> | undefined): Partial<Limits> {
  return { ...(isHarness(source) ? source.limits : {}), ...overrides };
}

function selectTools(tools: readonly AnyTool[], names: readonly string[] | undefined): readonly AnyTool[] {
  if (names === undefined) return tools;
  const wanted = new Set(names);
  const unknown = [...wanted].filter((name) => !tools.some((tool) => tool.name === name));
  if (unknown.length > 0) {
    // The same refusal a run with this allowlist would give.
    throw new HarnessError('INVALID_REQUEST', `unknown tools in the allowlist: ${unknown.join(', ')}`, {
      details: { unknown, known: tools.map((tool) => tool.name) },
    });
  }
  return tools.filter((tool) => wanted.has(tool.name));
}

function firstSentence(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  const end = line.search(/\.(\s|$)/);
  const sentence = end === -1 ? line : line.slice(0, end + 1);
  return sentence.length <= 160 ? sentence : `${sentence.slice(0, 159)}…`;
}

function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} bytes`;
}
