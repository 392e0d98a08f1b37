/**
 * Everything the CLI prints, as pure functions from harness data to text, so the output can be
 * tested without running a script.
 */
import {
  type CheckReport,
  ERROR_CODES,
  type Finding,
  type HarnessErrorData,
  type HistoryItem,
  type ResultWarning,
  type ScriptResult,
  type ToolCallRecord,
} from '@script-harness/core';

/** The error fields the CLI shows and emits as JSON. */
export interface ErrorSummary {
  readonly code: HarnessErrorData['code'];
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
}

export interface JsonToolCall {
  readonly callId: string;
  readonly tool: string;
  readonly args: unknown;
  readonly status: ToolCallRecord['status'];
  readonly durationMs: number;
  readonly error?: ErrorSummary;
}

/** The one object `harness run --json` prints. */
export interface JsonRunReport {
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: ErrorSummary;
  readonly calls: readonly JsonToolCall[];
  readonly console: readonly { readonly level: string; readonly text: string }[];
  readonly warnings: readonly ResultWarning[];
  readonly metadata: { readonly durationMs: number; readonly toolCalls: number; readonly runtime: string };
}

const RULE_WIDTH = 72;
const ARGS_PREVIEW_CHARS = 60;

export function toErrorSummary(error: HarnessErrorData): ErrorSummary {
  return {
    code: error.code,
    message: error.message,
    ...(error.line === undefined ? {} : { line: error.line }),
    ...(error.column === undefined ? {} : { column: error.column }),
  };
}

/** Projects a result onto the documented `--json` shape: no host stacks, no tool outputs. */
export function toJsonReport(result: ScriptResult): JsonRunReport {
  return {
    ok: result.ok,
    ...(result.ok && result.value !== undefined ? { value: result.value } : {}),
    ...(result.error === undefined ? {} : { error: toErrorSummary(result.error) }),
    calls: inCallOrder(result.calls).map((call) => ({
      callId: call.callId,
      tool: call.tool,
      args: call.args,
      status: call.status,
      durationMs: roundMs(call.durationMs),
      ...(call.error === undefined ? {} : { error: toErrorSummary(call.error) }),
    })),
    console: result.console.map(({ level, text }) => ({ level, text })),
    warnings: result.warnings.map(({ code, message }) => ({ code, message })),
    metadata: {
      durationMs: roundMs(result.metadata.durationMs),
      toolCalls: result.metadata.toolCalls,
      runtime: result.metadata.runtime,
    },
  };
}

/** One console line of the script, prefixed so it cannot be mistaken for the CLI's own output. */
export function formatConsoleLine(level: string, text: string): string {
  const prefix = level === 'log' || level === 'info' ? '[script]' : `[script] ${level}:`;
  return text
    .split('\n')
    .map((line) => `${prefix} ${line}`)
    .join('\n');
}

/**
 * An error as one paragraph: code, position, message and what to do about it.
 * `verbose` appends the script-relative stack and the structured details on further lines.
 */
export function formatError(error: HarnessErrorData | ErrorSummary, options: { verbose?: boolean } = {}): string {
  const position =
    error.line === undefined
      ? ''
      : ` at line ${error.line}${error.column === undefined ? '' : `, column ${error.column}`}`;
  const message = withoutLinePrefix(error.message, error.line);
  const remedy = ERROR_CODES[error.code]?.remedy;
  let paragraph = `${error.code}${position}: ${sentence(message)}`;
  if (remedy !== undefined) paragraph += ` Remedy: ${remedy}`;
  if (options.verbose !== true) return paragraph;
  const extra: string[] = [];
  if ('stack' in error && error.stack !== undefined) extra.push('Script stack:', indent(error.stack, 2));
  if ('details' in error && error.details !== undefined) {
    extra.push('Details:', indent(JSON.stringify(error.details, null, 2), 2));
  }
  return extra.length === 0 ? paragraph : `${paragraph}\n${extra.join('\n')}`;
}

export function formatValue(value: unknown): string {
  return value === undefined ? '(the script returned no value)' : JSON.stringify(value, null, 2);
}

export function formatDuration(ms: number): string {
  if (ms < 1) return '<1 ms';
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Tool calls in the order the script made them. Results list them as they finished, so calls
 * started together with Promise.all would otherwise appear in an order the script never wrote;
 * call ids count up in the order of the calls.
 */
export function inCallOrder(calls: readonly ToolCallRecord[]): ToolCallRecord[] {
  return [...calls].sort((a, b) => Number(a.callId) - Number(b.callId) || a.startedAt - b.startedAt);
}

/** A compact table of tool calls in call order: call id, tool, status, milliseconds and a preview of the arguments. */
export function formatCallTable(calls: readonly ToolCallRecord[]): string {
  if (calls.length === 0) return 'Tool calls: none';
  const rows = inCallOrder(calls).map((call) => [
    call.callId,
    call.tool,
    call.error === undefined ? call.status : `${call.status} ${call.error.code}`,
    String(Math.round(call.durationMs)),
    preview(call.args),
  ]);
  const header = ['#', 'tool', 'status', 'ms', 'args'];
  const rightAligned = new Set([0, 3]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    `  ${cells
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        // The last column is not padded, so lines carry no trailing spaces.
        if (column === cells.length - 1) return cell;
        return rightAligned.has(column) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')}`;
  return [`Tool calls (${calls.length})`, line(header), ...rows.map(line)].join('\n');
}

export function formatWarnings(warnings: readonly ResultWarning[]): string {
  return warnings.map((warning) => `Warning: ${warning.code}: ${sentence(warning.message)}`).join('\n');
}

export function formatResultHeadline(result: ScriptResult): string {
  const calls = `${result.metadata.toolCalls} tool call${result.metadata.toolCalls === 1 ? '' : 's'}`;
  return `Result: ${result.ok ? 'ok' : 'failed'} (${formatDuration(result.metadata.durationMs)}, ${calls}, ${result.metadata.runtime})`;
}

/** The report `harness run` prints after the script's live console lines. */
export function formatRunReport(result: ScriptResult, options: { verbose?: boolean } = {}): string {
  const blocks: string[] = [formatResultHeadline(result)];
  if (result.ok) blocks[0] += `\n${formatValue(result.value)}`;
  else if (result.error !== undefined) blocks[0] += `\n${formatError(result.error, options)}`;
  if (result.warnings.length > 0) blocks.push(formatWarnings(result.warnings));
  if (result.metadata.consoleDropped > 0) {
    blocks.push(`Note: ${result.metadata.consoleDropped} console line(s) were dropped by the console limits.`);
  }
  blocks.push(formatCallTable(result.calls));
  if (options.verbose === true) {
    const memory =
      result.metadata.memoryBytes === undefined ? '' : `, memory ${formatBytes(result.metadata.memoryBytes)}`;
    blocks.push(`Script id ${result.metadata.scriptId}${memory}`);
  }
  return `${blocks.join('\n\n')}\n`;
}

/** A section heading such as `── reasoning ─────…`, one rule wide. */
export function formatHeading(title: string): string {
  const label = `── ${title} `;
  return label + '─'.repeat(Math.max(3, RULE_WIDTH - label.length));
}

/** Script source with line numbers, so error positions can be found at a glance. */
export function formatSource(source: string): string {
  const lines = source.split('\n');
  const width = String(lines.length).length;
  return lines.map((line, index) => `${String(index + 1).padStart(width)} | ${line}`.trimEnd()).join('\n');
}

/**
 * The history of an executed message, item by item in message order. `results` are the runs the
 * items came from (matched by script id), for their tool call tables.
 */
export function formatHistory(
  items: readonly HistoryItem[],
  results: readonly ScriptResult[],
  options: { verbose?: boolean } = {},
): string {
  const byScriptId = new Map(results.map((result) => [result.metadata.scriptId, result]));
  const sections: string[] = [];
  for (const item of items) {
    switch (item.type) {
      case 'text':
        sections.push(`${formatHeading('text')}\n${item.text.trim()}`);
        break;
      case 'reasoning':
        sections.push(`${formatHeading('reasoning')}\n${item.text.trim()}`);
        break;
      case 'tool_call':
        // A structured tool call of the turn: the agent loop runs it, not the harness.
        sections.push(
          `${formatHeading(`tool call (${item.name}, ${item.id})`)}\n${JSON.stringify(item.arguments, null, 2)}\n` +
            '(not run here: structured tool calls are left to the agent loop)',
        );
        break;
      case 'script_tool_call':
        sections.push(`${formatHeading(`script (${item.language}, ${item.callId})`)}\n${formatSource(item.source)}`);
        break;
      case 'script_tool_call_output': {
        const result = item.metadata === undefined ? undefined : byScriptId.get(item.metadata.scriptId);
        if (result !== undefined) sections.push(`${formatHeading('tool calls')}\n${formatCallTable(result.calls)}`);
        const lines: string[] = [];
        for (const entry of item.console ?? []) lines.push(formatConsoleLine(entry.level, entry.text));
        if (item.report !== undefined) lines.push(formatCheckReport(item.report).trimEnd());
        else if (item.ok) lines.push(formatValue(item.value));
        else if (item.error !== undefined) lines.push(formatError(item.error, options));
        if (item.warnings !== undefined && item.warnings.length > 0) lines.push(formatWarnings(item.warnings));
        const status =
          item.report !== undefined ? `dry run, ${item.ok ? 'ok' : 'findings'}` : item.ok ? 'ok' : 'failed';
        const timing = item.metadata === undefined ? '' : `, ${formatDuration(item.metadata.durationMs)}`;
        sections.push(`${formatHeading(`script output (${status}${timing})`)}\n${lines.join('\n')}`);
        break;
      }
    }
  }
  return `${sections.join('\n\n')}\n`;
}

/** One finding of a check as one paragraph: code, position, message, remedy. */
export function formatFinding(finding: Finding): string {
  return formatError({
    code: finding.code,
    message: finding.message,
    ...(finding.line === undefined ? {} : { line: finding.line }),
    ...(finding.column === undefined ? {} : { column: finding.column }),
  });
}

/** What `harness check` prints: every finding, then a line saying what it means. */
export function formatCheckReport(report: CheckReport): string {
  const lines = report.findings.map(formatFinding);
  const tools =
    report.referencedTools.length === 0
      ? 'it calls no tools'
      : `it calls ${report.referencedTools.map((tool) => `tools.${tool}`).join(', ')}`;
  if (report.ok) lines.push(`No findings: the script would run; ${tools}. Nothing was run.`);
  else {
    const count = `${report.findings.length} finding${report.findings.length === 1 ? '' : 's'}`;
    lines.push(`${count}: the script would not run as it is. Nothing was run.`);
  }
  return `${lines.join('\n')}\n`;
}

export interface WrittenFile {
  /** Relative to the workspace root: the temporary directory itself is never shown. */
  readonly path: string;
  readonly content: string;
}

export interface DemoReport {
  readonly execution: { readonly items: readonly HistoryItem[]; readonly results: readonly ScriptResult[] };
  readonly written: readonly WrittenFile[];
  readonly ok: boolean;
}

/** The demo's output: the history in message order, the files the script wrote, a closing line. */
export function formatDemoReport(report: DemoReport, options: { verbose?: boolean } = {}): string {
  const { execution, written } = report;
  const sections = [formatHistory(execution.items, execution.results, options).trimEnd()];
  for (const file of written) {
    sections.push(`${formatHeading(`file written by the script: ${file.path}`)}\n${file.content.trimEnd()}`);
  }
  const calls = execution.results.reduce((sum, result) => sum + result.calls.length, 0);
  const scripts = `${execution.results.length} script${execution.results.length === 1 ? '' : 's'}`;
  const status = report.ok ? 'succeeded' : 'failed';
  sections.push(
    `${formatHeading('summary')}\n${scripts} ${status} with ${calls} tool call${calls === 1 ? '' : 's'}; ` +
      'the temporary workspace was removed.',
  );
  return `${sections.join('\n\n')}\n`;
}

function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function preview(args: unknown): string {
  if (args === undefined) return '';
  const json = JSON.stringify(args) ?? '';
  return json.length <= ARGS_PREVIEW_CHARS ? json : `${json.slice(0, ARGS_PREVIEW_CHARS - 1)}…`;
}

/** Ends a message with a full stop unless it already ends with punctuation. */
function sentence(message: string): string {
  const trimmed = message.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/** Some messages repeat the position as `line N: …`; the paragraph already says where. */
function withoutLinePrefix(message: string, line: number | undefined): string {
  if (line === undefined) return message;
  const prefix = `line ${line}: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((line) => pad + line)
    .join('\n');
}
