/**
 * Sizes in the JSON a tool result becomes: the tools cap their output in UTF-8 bytes of JSON, and
 * cut long texts so that what remains fits.
 */

/** UTF-8 bytes of `value` as JSON. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** UTF-8 bytes one UTF-16 unit (or surrogate pair) takes inside a JSON string literal. */
function jsonCost(code: number, pairs: boolean): number {
  if (code === 0x22 || code === 0x5c) return 2;
  if (code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d) return 2;
  if (code < 0x20) return 6;
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (code >= 0xd800 && code <= 0xdfff) return pairs ? 4 : 6;
  return 3;
}

/**
 * The longest start of `text` whose escaped content takes at most `budget` bytes inside a JSON
 * string (the two quotes not counted); a surrogate pair is never split.
 */
export function prefixWithinJsonBytes(text: string, budget: number): string {
  let used = 0;
  let end = 0;
  while (end < text.length) {
    const code = text.charCodeAt(end);
    const pairs = isHighSurrogate(code) && isLowSurrogate(text.charCodeAt(end + 1));
    const cost = jsonCost(code, pairs);
    if (used + cost > budget) break;
    used += cost;
    end += pairs ? 2 : 1;
  }
  return text.slice(0, end);
}

/** The longest end of `text` within `budget` bytes of escaped JSON string content, like `prefixWithinJsonBytes`. */
export function suffixWithinJsonBytes(text: string, budget: number): string {
  let used = 0;
  let start = text.length;
  while (start > 0) {
    const code = text.charCodeAt(start - 1);
    const pairs = isLowSurrogate(code) && start >= 2 && isHighSurrogate(text.charCodeAt(start - 2));
    const cost = jsonCost(code, pairs);
    if (used + cost > budget) break;
    used += cost;
    start -= pairs ? 2 : 1;
  }
  return text.slice(start);
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
