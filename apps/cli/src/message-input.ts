/**
 * The assistant message `harness exec-message` executes, in whatever form it was saved: plain
 * text with script blocks, an OpenAI Responses response, an OpenAI Chat Completions completion
 * (or its message), an Anthropic Messages message, or the events of a streamed Anthropic message.
 * JSON input is recognised by its shape; `--format` names the form when the shape is ambiguous.
 */
import {
  type AnthropicMessage,
  type AnthropicStreamEvent,
  type ChatAssistantMessage,
  type ChatCompletion,
  collectAnthropicStream,
  fromAnthropicMessage,
  fromChatCompletion,
  fromOpenAIResponse,
  type OpenAIResponse,
  type TurnPart,
} from '@script-harness/core';
import { InvalidArgumentError } from 'commander';
import { UsageError } from './options.ts';

export const MESSAGE_FORMATS = ['text', 'openai-responses', 'openai-chat', 'anthropic', 'anthropic-stream'] as const;
export type MessageFormat = (typeof MESSAGE_FORMATS)[number];

/** Commander parser of `--format`. */
export function parseMessageFormat(value: string): MessageFormat | 'auto' {
  const normalised = value.trim().toLowerCase();
  if (normalised === 'auto' || (MESSAGE_FORMATS as readonly string[]).includes(normalised)) {
    return normalised as MessageFormat | 'auto';
  }
  throw new InvalidArgumentError(`Expected auto or one of ${MESSAGE_FORMATS.join(', ')}.`);
}

export interface ParsedTurn {
  readonly format: MessageFormat;
  readonly parts: TurnPart[];
}

const ANTHROPIC_BLOCK_TYPES = new Set(['text', 'thinking', 'redacted_thinking', 'tool_use', 'tool_result']);

/** Reads a turn from `text`; `format` 'auto' tells the form from the content. */
export function parseTurn(text: string, format: MessageFormat | 'auto' = 'auto'): ParsedTurn {
  if (format === 'text') return { format, parts: [{ kind: 'text', text }] };
  const trimmed = text.trim();
  const looksLikeJson = trimmed.startsWith('{') || trimmed.startsWith('[');
  if (format === 'auto' && !looksLikeJson) return { format: 'text', parts: [{ kind: 'text', text }] };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (error) {
    // A plain-text message may well start with a brace; only a named JSON format must parse.
    if (format === 'auto') return { format: 'text', parts: [{ kind: 'text', text }] };
    throw new UsageError(`the message is not valid JSON for --format ${format}: ${(error as Error).message}`);
  }
  const detected = format === 'auto' ? detectFormat(value) : format;
  if (detected === undefined) {
    throw new UsageError(
      'the message is JSON of a shape this command does not know; pass --format with one of ' +
        `${MESSAGE_FORMATS.join(', ')} (text runs it as plain text)`,
    );
  }
  return { format: detected, parts: partsOf(detected, value) };
}

function detectFormat(value: unknown): MessageFormat | undefined {
  if (typeof value === 'string') return 'text';
  if (Array.isArray(value)) {
    const streamEvent = (event: unknown) =>
      isRecord(event) && typeof event.type === 'string' && /^(message|content_block)_/.test(event.type);
    return value.length > 0 && value.every(streamEvent) ? 'anthropic-stream' : undefined;
  }
  if (!isRecord(value)) return undefined;
  if (Array.isArray(value.output)) return 'openai-responses';
  if (Array.isArray(value.choices)) return 'openai-chat';
  if (value.role !== 'assistant' && value.type !== 'message') return undefined;
  if (Array.isArray(value.content)) {
    const blocks = value.content.filter(isRecord);
    // Chat Completions content parts are text too; only Anthropic has thinking and tool_use blocks,
    // and for text alone both readers give the same turn.
    if (
      blocks.length === value.content.length &&
      blocks.every((block) => ANTHROPIC_BLOCK_TYPES.has(String(block.type)))
    ) {
      return 'anthropic';
    }
  }
  if (typeof value.content === 'string' || value.content === null || Array.isArray(value.tool_calls)) {
    return 'openai-chat';
  }
  return Array.isArray(value.content) ? 'openai-chat' : undefined;
}

function partsOf(format: MessageFormat, value: unknown): TurnPart[] {
  const wrong = (what: string) =>
    new UsageError(`the message does not look like ${what} (--format ${format}); check the file or the format`);
  switch (format) {
    case 'text':
      if (typeof value !== 'string') throw wrong('a JSON string');
      return [{ kind: 'text', text: value }];
    case 'openai-responses':
      if (!isRecord(value) || !Array.isArray(value.output)) throw wrong('an OpenAI Responses response with "output"');
      return fromOpenAIResponse(value as unknown as OpenAIResponse);
    case 'openai-chat':
      if (!isRecord(value) || !(Array.isArray(value.choices) || value.role === 'assistant')) {
        throw wrong('a Chat Completions completion or assistant message');
      }
      return fromChatCompletion(value as unknown as ChatCompletion | ChatAssistantMessage);
    case 'anthropic':
      if (!isRecord(value) || !Array.isArray(value.content)) throw wrong('an Anthropic message with "content"');
      return fromAnthropicMessage(value as unknown as AnthropicMessage);
    case 'anthropic-stream':
      if (!Array.isArray(value)) throw wrong('a JSON array of Anthropic stream events');
      return fromAnthropicMessage(collectAnthropicStream(value as AnthropicStreamEvent[]));
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
