/**
 * Provider message formats, as pure functions with no SDK dependency: read an assistant turn from
 * OpenAI Responses, OpenAI Chat Completions or Anthropic Messages (also its streamed events) into
 * ordered `TurnPart`s, and write the executed history back in the provider's own shape for the next
 * request. A script block becomes a call of the pseudo-tool `run_script` followed by its result as
 * the provider's tool-result item, so the model reads its script's output where it expects tool
 * output, in the original order.
 */
import type { HistoryItem, TurnPart } from './message.ts';

/** Name under which script blocks appear as tool calls in provider-shaped history. */
export const SCRIPT_TOOL_NAME = 'run_script';

// ---------- shapes (only the fields we read or write) ----------

export interface OpenAIResponse {
  readonly output: readonly OpenAIResponseItem[];
}

export type OpenAIResponseItem =
  | {
      readonly type: 'reasoning';
      readonly id?: string;
      readonly summary?: readonly { readonly type: string; readonly text: string }[];
      readonly content?: readonly { readonly type: string; readonly text: string }[];
      readonly encrypted_content?: string;
    }
  | {
      readonly type: 'message';
      readonly id?: string;
      readonly role: 'assistant';
      readonly content: readonly { readonly type: string; readonly text?: string; readonly refusal?: string }[];
    }
  | {
      readonly type: 'function_call';
      readonly id?: string;
      readonly call_id: string;
      readonly name: string;
      readonly arguments: string;
    }
  | { readonly type: string; readonly [key: string]: unknown };

export type OpenAIResponseInputItem =
  | OpenAIResponseItem
  | { readonly role: 'assistant'; readonly content: string }
  | { readonly type: 'function_call_output'; readonly call_id: string; readonly output: string };

export interface ChatCompletion {
  readonly choices: readonly { readonly message: ChatAssistantMessage }[];
}

export interface ChatAssistantMessage {
  readonly role: 'assistant';
  readonly content: string | null | readonly { readonly type: string; readonly text?: string }[];
  readonly reasoning_content?: string | null;
  readonly tool_calls?: readonly {
    readonly id: string;
    readonly type: 'function';
    readonly function: { readonly name: string; readonly arguments: string };
  }[];
}

export type ChatMessage =
  | {
      readonly role: 'assistant';
      readonly content: string | null;
      readonly tool_calls?: readonly {
        readonly id: string;
        readonly type: 'function';
        readonly function: { readonly name: string; readonly arguments: string };
      }[];
    }
  | { readonly role: 'tool'; readonly tool_call_id: string; readonly content: string };

export type AnthropicContentBlock =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'thinking'; readonly thinking: string; readonly signature?: string }
  | { readonly type: 'redacted_thinking'; readonly data: string }
  | { readonly type: 'tool_use'; readonly id: string; readonly name: string; readonly input: unknown }
  | {
      readonly type: 'tool_result';
      readonly tool_use_id: string;
      readonly content: string;
      readonly is_error?: boolean;
    };

export interface AnthropicMessage {
  readonly role: 'assistant';
  readonly content: readonly AnthropicContentBlock[];
}

export interface AnthropicMessageParam {
  readonly role: 'user' | 'assistant';
  readonly content: readonly AnthropicContentBlock[];
}

/** The events of Anthropic's streamed Messages API that carry content. */
export type AnthropicStreamEvent =
  | { readonly type: 'message_start'; readonly message?: unknown }
  | { readonly type: 'content_block_start'; readonly index: number; readonly content_block: AnthropicContentBlock }
  | {
      readonly type: 'content_block_delta';
      readonly index: number;
      readonly delta:
        | { readonly type: 'text_delta'; readonly text: string }
        | { readonly type: 'thinking_delta'; readonly thinking: string }
        | { readonly type: 'signature_delta'; readonly signature: string }
        | { readonly type: 'input_json_delta'; readonly partial_json: string };
    }
  | { readonly type: 'content_block_stop'; readonly index: number }
  | { readonly type: string; readonly [key: string]: unknown };

// ---------- reading a turn ----------

/** Accepts the SDK's `Response` as well: only `output[].type` and the fields below are read. */
export function fromOpenAIResponse(response: OpenAIResponse | { readonly output: readonly object[] }): TurnPart[] {
  const parts: TurnPart[] = [];
  for (const item of response.output as readonly OpenAIResponseItem[]) {
    switch (item.type) {
      case 'reasoning': {
        const reasoning = item as Extract<OpenAIResponseItem, { type: 'reasoning' }>;
        const text = [...(reasoning.summary ?? []), ...(reasoning.content ?? [])].map((piece) => piece.text).join('\n');
        parts.push({ kind: 'reasoning', text, raw: item });
        break;
      }
      case 'message': {
        const message = item as Extract<OpenAIResponseItem, { type: 'message' }>;
        for (const piece of message.content) {
          const text = piece.text ?? piece.refusal;
          if (typeof text === 'string') parts.push({ kind: 'text', text });
        }
        break;
      }
      case 'function_call': {
        const call = item as Extract<OpenAIResponseItem, { type: 'function_call' }>;
        parts.push({ kind: 'tool_call', id: call.call_id, name: call.name, arguments: parseArguments(call.arguments) });
        break;
      }
    }
  }
  return parts;
}

export function fromChatCompletion(completion: ChatCompletion | ChatAssistantMessage): TurnPart[] {
  const message = 'choices' in completion ? completion.choices[0]?.message : completion;
  if (message === undefined) return [];
  const parts: TurnPart[] = [];
  if (typeof message.reasoning_content === 'string' && message.reasoning_content !== '') {
    parts.push({ kind: 'reasoning', text: message.reasoning_content });
  }
  if (typeof message.content === 'string') parts.push({ kind: 'text', text: message.content });
  else if (Array.isArray(message.content)) {
    for (const piece of message.content)
      if (typeof piece.text === 'string') parts.push({ kind: 'text', text: piece.text });
  }
  for (const call of message.tool_calls ?? []) {
    parts.push({
      kind: 'tool_call',
      id: call.id,
      name: call.function.name,
      arguments: parseArguments(call.function.arguments),
    });
  }
  return parts;
}

export function fromAnthropicMessage(message: AnthropicMessage): TurnPart[] {
  const parts: TurnPart[] = [];
  for (const block of message.content) {
    switch (block.type) {
      case 'thinking':
        parts.push({ kind: 'reasoning', text: block.thinking, raw: block });
        break;
      case 'redacted_thinking':
        parts.push({ kind: 'reasoning', text: '', raw: block });
        break;
      case 'text':
        parts.push({ kind: 'text', text: block.text });
        break;
      case 'tool_use':
        parts.push({ kind: 'tool_call', id: block.id, name: block.name, arguments: block.input });
        break;
    }
  }
  return parts;
}

/** Folds Anthropic's streamed events into the message they describe. */
export function collectAnthropicStream(events: Iterable<AnthropicStreamEvent>): AnthropicMessage {
  const blocks: AnthropicContentBlock[] = [];
  const partialJson = new Map<number, string>();
  for (const event of events) {
    if (event.type === 'content_block_start') {
      const start = event as Extract<AnthropicStreamEvent, { type: 'content_block_start' }>;
      blocks[start.index] = { ...start.content_block };
      if (start.content_block.type === 'tool_use') partialJson.set(start.index, '');
    } else if (event.type === 'content_block_delta') {
      const { index, delta } = event as Extract<AnthropicStreamEvent, { type: 'content_block_delta' }>;
      const block = blocks[index] as Record<string, unknown> | undefined;
      if (block === undefined) continue;
      if (delta.type === 'text_delta') block.text = `${block.text ?? ''}${delta.text}`;
      else if (delta.type === 'thinking_delta') block.thinking = `${block.thinking ?? ''}${delta.thinking}`;
      else if (delta.type === 'signature_delta') block.signature = delta.signature;
      else if (delta.type === 'input_json_delta')
        partialJson.set(index, `${partialJson.get(index) ?? ''}${delta.partial_json}`);
    } else if (event.type === 'content_block_stop') {
      const { index } = event as Extract<AnthropicStreamEvent, { type: 'content_block_stop' }>;
      const json = partialJson.get(index);
      const block = blocks[index];
      if (json !== undefined && block?.type === 'tool_use') {
        blocks[index] = { ...block, input: json === '' ? {} : parseArguments(json) };
      }
    }
  }
  return { role: 'assistant', content: blocks.filter((block) => block !== undefined) };
}

function parseArguments(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    // The agent loop decides what to do with a malformed call; it gets the raw text.
    return json;
  }
}

// ---------- writing the history back ----------

/** The text the model reads as a script's result: its value or its error, with what completed. */
export function scriptOutputText(item: Extract<HistoryItem, { type: 'script_tool_call_output' }>): string {
  if (item.report !== undefined) return JSON.stringify({ dryRun: true, ok: item.ok, findings: item.report.findings });
  const body: Record<string, unknown> = item.ok
    ? { ok: true, value: item.value ?? null }
    : { ok: false, error: item.error };
  if (!item.ok && item.partial !== undefined && item.partial.length > 0) {
    body.partialResults = item.partial.map((call) => ({ tool: call.tool, value: call.value }));
  }
  if (item.warnings !== undefined && item.warnings.length > 0) body.warnings = item.warnings;
  if (item.console !== undefined && item.console.length > 0) body.console = item.console.map((line) => line.text);
  return JSON.stringify(body);
}

type Call = Extract<HistoryItem, { type: 'script_tool_call' }>;

export function toOpenAIResponseInput(items: readonly HistoryItem[]): OpenAIResponseInputItem[] {
  const out: OpenAIResponseInputItem[] = [];
  for (const item of items) {
    switch (item.type) {
      case 'text':
        out.push({ role: 'assistant', content: item.text });
        break;
      case 'reasoning':
        if (item.raw !== undefined) out.push(item.raw as OpenAIResponseItem);
        break;
      case 'tool_call':
        out.push({
          type: 'function_call',
          call_id: item.id,
          name: item.name,
          arguments: JSON.stringify(item.arguments),
        });
        break;
      case 'script_tool_call':
        out.push({
          type: 'function_call',
          call_id: item.callId,
          name: SCRIPT_TOOL_NAME,
          arguments: scriptArguments(item),
        });
        break;
      case 'script_tool_call_output':
        out.push({ type: 'function_call_output', call_id: item.callId, output: scriptOutputText(item) });
        break;
    }
  }
  return out;
}

export function toChatMessages(items: readonly HistoryItem[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  // Chat Completions carries text and tool calls of one assistant turn in one message; tool
  // results follow as `tool` messages.
  let assistant:
    | {
        content: string | null;
        tool_calls: NonNullable<Extract<ChatMessage, { role: 'assistant' }>['tool_calls']>[number][];
      }
    | undefined;
  const flush = () => {
    if (assistant === undefined) return;
    out.push(
      assistant.tool_calls.length > 0
        ? { role: 'assistant', content: assistant.content, tool_calls: assistant.tool_calls }
        : { role: 'assistant', content: assistant.content },
    );
    assistant = undefined;
  };
  const open = () => {
    assistant ??= { content: null, tool_calls: [] };
    return assistant;
  };
  for (const item of items) {
    switch (item.type) {
      case 'text': {
        if (assistant !== undefined && assistant.tool_calls.length > 0) flush();
        const message = open();
        message.content = message.content === null ? item.text : `${message.content}${item.text}`;
        break;
      }
      case 'reasoning':
        break;
      case 'tool_call':
        open().tool_calls.push({
          id: item.id,
          type: 'function',
          function: { name: item.name, arguments: JSON.stringify(item.arguments) },
        });
        break;
      case 'script_tool_call':
        open().tool_calls.push({
          id: item.callId,
          type: 'function',
          function: { name: SCRIPT_TOOL_NAME, arguments: scriptArguments(item) },
        });
        break;
      case 'script_tool_call_output':
        flush();
        out.push({ role: 'tool', tool_call_id: item.callId, content: scriptOutputText(item) });
        break;
    }
  }
  flush();
  return out;
}

export function toAnthropicMessages(items: readonly HistoryItem[]): AnthropicMessageParam[] {
  const out: { role: 'user' | 'assistant'; content: AnthropicContentBlock[] }[] = [];
  const push = (role: 'user' | 'assistant', block: AnthropicContentBlock) => {
    const last = out[out.length - 1];
    if (last !== undefined && last.role === role) last.content.push(block);
    else out.push({ role, content: [block] });
  };
  for (const item of items) {
    switch (item.type) {
      case 'text':
        push('assistant', { type: 'text', text: item.text });
        break;
      case 'reasoning':
        // Thinking blocks must go back unchanged (with their signature) or not at all.
        if (item.raw !== undefined) push('assistant', item.raw as AnthropicContentBlock);
        break;
      case 'tool_call':
        push('assistant', { type: 'tool_use', id: item.id, name: item.name, input: item.arguments });
        break;
      case 'script_tool_call':
        push('assistant', {
          type: 'tool_use',
          id: item.callId,
          name: SCRIPT_TOOL_NAME,
          input: { code: item.source, language: item.language },
        });
        break;
      case 'script_tool_call_output':
        push('user', {
          type: 'tool_result',
          tool_use_id: item.callId,
          content: scriptOutputText(item),
          ...(item.ok ? {} : { is_error: true }),
        });
        break;
    }
  }
  return out;
}

/** The same `{ code, language }` shape the `run_script` tool of @script-harness/agents takes. */
function scriptArguments(item: Call): string {
  return JSON.stringify({ code: item.source, language: item.language });
}
