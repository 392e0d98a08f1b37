/**
 * Detection: finds script blocks in an assistant message and keeps every other segment (text,
 * reasoning) with its position, so the history can be rebuilt in the original order.
 *
 * Two block forms are recognised:
 *   <tool-calls> … </tool-calls>                       (the content may itself be fenced)
 *   ```ts tool-calls … ```   /   ```js tool-calls … ```
 * Anything inside another fenced code block is text, so examples of the syntax in documentation
 * are never run. `<thinking>…</thinking>` becomes a reasoning segment; nothing inside it runs.
 */
import type { ScriptLanguage } from './prepare.ts';

export type MessageSegment =
  | { readonly type: 'text'; readonly text: string; readonly start: number; readonly end: number }
  | { readonly type: 'reasoning'; readonly text: string; readonly start: number; readonly end: number }
  | {
      readonly type: 'script';
      readonly source: string;
      readonly language: ScriptLanguage;
      readonly form: 'tag' | 'fence';
      readonly start: number;
      readonly end: number;
    }
  | {
      readonly type: 'malformed';
      readonly text: string;
      readonly message: string;
      readonly start: number;
      readonly end: number;
    };

const OPEN_TAG = '<tool-calls>';
const CLOSE_TAG = '</tool-calls>';
const OPEN_THINKING = '<thinking>';
const CLOSE_THINKING = '</thinking>';
// One greedy class per part and an anchored end: linear on any line (no backtracking blow-up).
const FENCE_LINE = /^ {0,3}(`{3,}|~{3,})([^\n`]*)$/;
const SCRIPT_INFO = /^(ts|typescript|js|javascript)[ \t]+tool-calls$/i;
const TAG = /<\/?(?:tool-calls|thinking)>/g;

interface Fence {
  readonly marker: string;
  readonly script: ScriptLanguage | undefined;
  readonly start: number;
  readonly contentStart: number;
}

/** Splits an assistant message into ordered segments. Never throws; malformed blocks become segments. */
export function detectScripts(text: string): MessageSegment[] {
  const segments: MessageSegment[] = [];
  let textStart = 0;
  let fence: Fence | undefined;
  let tag: { kind: 'tool-calls' | 'thinking'; start: number; contentStart: number } | undefined;

  const flushText = (end: number) => {
    if (end > textStart) segments.push({ type: 'text', text: text.slice(textStart, end), start: textStart, end });
  };

  let lineStart = 0;
  while (lineStart <= text.length) {
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    const next = newline === -1 ? text.length + 1 : newline + 1;
    const line = text.slice(lineStart, lineEnd);

    if (tag === undefined) {
      // A line that begins inside an already consumed (malformed) region cannot open or close a fence.
      const fenceMatch = lineStart >= textStart ? FENCE_LINE.exec(line) : null;
      if (fence !== undefined) {
        // Inside a fence: only its closing line matters.
        if (
          fenceMatch !== null &&
          (fenceMatch[2] ?? '').trim() === '' &&
          isClosing(fenceMatch[1] as string, fence.marker)
        ) {
          if (fence.script !== undefined) {
            flushText(fence.start);
            segments.push({
              type: 'script',
              source: text.slice(fence.contentStart, Math.max(fence.contentStart, lineStart - 1)),
              language: fence.script,
              form: 'fence',
              start: fence.start,
              end: Math.min(next, text.length),
            });
            textStart = Math.min(next, text.length);
          }
          fence = undefined;
        }
        lineStart = next;
        continue;
      }
      if (fenceMatch !== null) {
        const info = SCRIPT_INFO.exec((fenceMatch[2] ?? '').trim());
        fence = {
          marker: fenceMatch[1] as string,
          script: info === null ? undefined : languageOf(info[1] as string),
          start: lineStart,
          contentStart: Math.min(next, text.length),
        };
        lineStart = next;
        continue;
      }
    }

    // Outside fences (or inside a tag): look for tags on this line.
    TAG.lastIndex = 0;
    for (let match = TAG.exec(line); match !== null; match = TAG.exec(line)) {
      const token = match[0];
      const at = lineStart + match.index;
      const after = at + token.length;
      if (at < textStart) continue; // already consumed by a malformed region
      if (tag === undefined) {
        if (token === OPEN_TAG || token === OPEN_THINKING) {
          flushText(at);
          tag = { kind: token === OPEN_TAG ? 'tool-calls' : 'thinking', start: at, contentStart: after };
        } else if (token === CLOSE_TAG) {
          flushText(at);
          segments.push({
            type: 'malformed',
            text: token,
            message: `${CLOSE_TAG} without a matching ${OPEN_TAG}`,
            start: at,
            end: after,
          });
          textStart = after;
        }
        // A stray </thinking> outside reasoning is ordinary text.
      } else if (tag.kind === 'thinking') {
        if (token === CLOSE_THINKING) {
          segments.push({ type: 'reasoning', text: text.slice(tag.contentStart, at), start: tag.start, end: after });
          tag = undefined;
          textStart = after;
        }
      } else if (token === CLOSE_TAG) {
        const { source, language } = unwrapFence(text.slice(tag.contentStart, at));
        segments.push({ type: 'script', source, language, form: 'tag', start: tag.start, end: after });
        tag = undefined;
        textStart = after;
      } else if (token === OPEN_TAG) {
        // Nested block: the outer one is malformed up to its end (or the end of the message).
        const close = text.indexOf(CLOSE_TAG, after);
        const secondClose = close === -1 ? -1 : text.indexOf(CLOSE_TAG, close + CLOSE_TAG.length);
        const end =
          secondClose !== -1 ? secondClose + CLOSE_TAG.length : close !== -1 ? close + CLOSE_TAG.length : text.length;
        segments.push({
          type: 'malformed',
          text: text.slice(tag.start, end),
          message: `nested ${OPEN_TAG} blocks are not allowed`,
          start: tag.start,
          end,
        });
        tag = undefined;
        textStart = end;
        // Resume scanning after the malformed region.
        const resumeLine = text.lastIndexOf('\n', end - 1) + 1;
        lineStart = resumeLine;
        break;
      }
    }
    if (lineStart > lineEnd) continue;
    lineStart = next;
  }

  if (tag !== undefined) {
    if (tag.kind === 'thinking') {
      segments.push({ type: 'reasoning', text: text.slice(tag.contentStart), start: tag.start, end: text.length });
    } else {
      segments.push({
        type: 'malformed',
        text: text.slice(tag.start),
        message: `${OPEN_TAG} is never closed with ${CLOSE_TAG}`,
        start: tag.start,
        end: text.length,
      });
    }
    textStart = text.length;
  } else if (fence?.script !== undefined) {
    segments.push({
      type: 'malformed',
      text: text.slice(fence.start),
      message: 'the ```tool-calls fence is never closed',
      start: fence.start,
      end: text.length,
    });
    textStart = text.length;
  }
  flushText(text.length);
  return segments;
}

function isClosing(marker: string, opening: string): boolean {
  return marker[0] === opening[0] && marker.length >= opening.length;
}

function languageOf(info: string): ScriptLanguage {
  return info.toLowerCase().startsWith('j') ? 'js' : 'ts';
}

/** `<tool-calls>` content may be wrapped in a fence; the fence's language wins. */
function unwrapFence(content: string): { source: string; language: ScriptLanguage } {
  // Read line by line rather than with one regular expression: a long first line must not make
  // matching quadratic (the fuzzer found one that did).
  const trimmed = content.trim();
  const firstBreak = trimmed.indexOf('\n');
  const lastBreak = trimmed.lastIndexOf('\n');
  const opening = firstBreak === -1 ? undefined : /^(`{3,}|~{3,})/.exec(trimmed.slice(0, firstBreak));
  const closing = trimmed.slice(lastBreak + 1).trim();
  if (opening === undefined || opening === null || closing !== opening[1]) {
    return { source: stripBlankEdges(content), language: 'ts' };
  }
  const info = (/^[A-Za-z]*/.exec(trimmed.slice(opening[0].length, firstBreak).trim())?.[0] ?? '').toLowerCase();
  const source = lastBreak > firstBreak ? trimmed.slice(firstBreak + 1, lastBreak) : '';
  return { source, language: info === 'js' || info === 'javascript' ? 'js' : 'ts' };
}

/** Drops the blank line right after the opening tag and before the closing one; keeps indentation. */
function stripBlankEdges(content: string): string {
  return content.replace(/^[ \t]*\r?\n/, '').replace(/\r?\n[ \t]*$/, '');
}
