/**
 * From an assistant message to ordered history items: text and reasoning stay where they were,
 * each script block becomes a `script_tool_call` followed by its `script_tool_call_output`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { detectScripts, type MessageSegment } from './detect.ts';
import { errorData, type HarnessErrorData } from './errors.ts';
import type {
  CheckReport,
  Harness,
  ResultWarning,
  RunOptions,
  ScriptMetadata,
  ScriptResult,
  ToolCallRecord,
} from './harness.ts';
import type { ScriptLanguage } from './prepare.ts';

export type ExecutionMode = 'enabled' | 'dry-run' | 'disabled';

export type HistoryItem =
  | { readonly type: 'text'; readonly text: string }
  | {
      readonly type: 'reasoning';
      readonly text: string;
      /** The provider's own reasoning item (ids, encrypted content), kept for the next request. */
      readonly raw?: unknown;
    }
  | {
      /** An ordinary structured tool call of the turn: not run here, left to the agent loop. */
      readonly type: 'tool_call';
      readonly id: string;
      readonly name: string;
      readonly arguments: unknown;
    }
  | {
      readonly type: 'script_tool_call';
      readonly id: string;
      readonly callId: string;
      readonly language: ScriptLanguage;
      readonly source: string;
      readonly sha256: string;
    }
  | {
      readonly type: 'script_tool_call_output';
      readonly callId: string;
      readonly ok: boolean;
      readonly value?: unknown;
      readonly error?: HarnessErrorData;
      readonly partial?: readonly ToolCallRecord[];
      /** Every tool call the script made, in order. */
      readonly calls?: readonly ToolCallRecord[];
      readonly warnings?: readonly ResultWarning[];
      readonly console?: readonly { readonly level: string; readonly text: string }[];
      /** Dry-run only: what validation found. */
      readonly report?: CheckReport;
      readonly metadata?: ScriptMetadata;
    };

export interface ExecuteMessageOptions {
  /** `enabled` runs blocks; `dry-run` validates them; `disabled` replaces them with a notice. */
  readonly mode?: ExecutionMode;
  /** After a failed block: `stop` skips the remaining blocks, `continue` runs them. Default `stop`. */
  readonly onError?: 'stop' | 'continue';
  /** Options for every run (limits, tools, context, events, signal). */
  readonly run?: Omit<RunOptions, 'language' | 'scriptId'>;
}

export interface MessageExecution {
  readonly items: readonly HistoryItem[];
  /** One entry per script block that ran, in order. */
  readonly results: readonly ScriptResult[];
  readonly blocks: number;
}

export const DISABLED_NOTICE =
  '[code execution is disabled: the script block in this message was not run. Answer with plain tool calls instead.]';

/** Picks the most specific mode: per turn, then per provider, then global. */
export function resolveMode(levels: {
  readonly turn?: ExecutionMode | undefined;
  readonly provider?: ExecutionMode | undefined;
  readonly global?: ExecutionMode | undefined;
}): ExecutionMode {
  return levels.turn ?? levels.provider ?? levels.global ?? 'enabled';
}

/** One piece of an assistant turn, in order, whatever the provider's format. */
export type TurnPart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'reasoning'; readonly text: string; readonly raw?: unknown }
  | { readonly kind: 'tool_call'; readonly id: string; readonly name: string; readonly arguments: unknown };

/** Runs every script block of a plain-text assistant message. */
export function executeMessage(
  harness: Harness,
  message: string,
  options: ExecuteMessageOptions = {},
): Promise<MessageExecution> {
  return executeTurn(harness, [{ kind: 'text', text: message }], options);
}

/**
 * Runs every script block of an assistant turn (text, reasoning and structured tool calls from any
 * provider, see providers.ts) and returns the history items in the turn's order.
 */
export async function executeTurn(
  harness: Harness,
  parts: readonly TurnPart[],
  options: ExecuteMessageOptions = {},
): Promise<MessageExecution> {
  const mode = options.mode ?? 'enabled';
  const segments = parts.flatMap((part): (MessageSegment | TurnPart)[] =>
    part.kind === 'text' ? detectScripts(part.text) : [part],
  );
  const items: HistoryItem[] = [];
  const results: ScriptResult[] = [];
  const previous: { callId: string; ok: boolean; value?: unknown; error?: HarnessErrorData }[] = [];
  let blocks = 0;
  let stopped = false;

  for (const segment of segments) {
    if ('kind' in segment) {
      // Text parts were split into segments above; what is left are reasoning and tool calls.
      if (segment.kind === 'reasoning') {
        items.push({
          type: 'reasoning',
          text: segment.text,
          ...(segment.raw === undefined ? {} : { raw: segment.raw }),
        });
      } else if (segment.kind === 'tool_call') {
        items.push({ type: 'tool_call', id: segment.id, name: segment.name, arguments: segment.arguments });
      }
      continue;
    }
    switch (segment.type) {
      case 'text':
        if (segment.text.trim() !== '') items.push({ type: 'text', text: segment.text });
        break;
      case 'reasoning':
        items.push({ type: 'reasoning', text: segment.text });
        break;
      case 'malformed': {
        blocks++;
        const callId = newCallId();
        items.push(scriptCall(callId, 'ts', segment.text));
        const error = errorData('DETECTION_ERROR', segment.message);
        items.push({ type: 'script_tool_call_output', callId, ok: false, error });
        previous.push({ callId, ok: false, error });
        if (options.onError !== 'continue') stopped = true;
        break;
      }
      case 'script': {
        blocks++;
        if (mode === 'disabled') {
          items.push({ type: 'text', text: DISABLED_NOTICE });
          break;
        }
        const callId = newCallId();
        items.push(scriptCall(callId, segment.language, segment.source));
        if (mode === 'dry-run') {
          const report = harness.check(segment.source, { language: segment.language, tools: options.run?.tools });
          items.push({ type: 'script_tool_call_output', callId, ok: report.ok, report });
          break;
        }
        if (stopped) {
          const error = errorData('CANCELLED', 'not run: an earlier script block in this message failed');
          items.push({ type: 'script_tool_call_output', callId, ok: false, error });
          break;
        }
        const result = await harness.run(segment.source, {
          ...options.run,
          language: segment.language,
          context: { ...options.run?.context, previousResults: previous.slice() },
        });
        results.push(result);
        items.push(scriptOutputItem(callId, result));
        previous.push({
          callId,
          ok: result.ok,
          ...(result.ok ? { value: result.value } : { error: result.error }),
        });
        if (!result.ok && options.onError !== 'continue') stopped = true;
        break;
      }
    }
  }
  return { items, results, blocks };
}

function newCallId(): string {
  return `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
}

function scriptCall(callId: string, language: ScriptLanguage, source: string): HistoryItem {
  return {
    type: 'script_tool_call',
    id: `sc_${callId.slice(5)}`,
    callId,
    language,
    source,
    sha256: createHash('sha256').update(source).digest('hex'),
  };
}

/** The `script_tool_call_output` history item of a finished run. */
export function scriptOutputItem(callId: string, result: ScriptResult): HistoryItem {
  return {
    type: 'script_tool_call_output',
    callId,
    ok: result.ok,
    ...(result.ok ? { value: result.value } : { error: result.error, partial: result.partial }),
    calls: result.calls,
    ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}),
    ...(result.console.length > 0 ? { console: result.console.map(({ level, text }) => ({ level, text })) } : {}),
    metadata: result.metadata,
  };
}
