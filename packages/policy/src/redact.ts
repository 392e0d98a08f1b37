/**
 * The display form of a call's arguments for the person who approves it: secrets replaced, size
 * bounded. It is only ever shown; what gets approved is bound to the full arguments by hash.
 */

/** Keys whose values are never shown. */
export const SECRET_KEY = /token|secret|password|authorization|api[-_]?key|cookie/i;
export const REDACTED = '[redacted]';

export interface RedactOptions {
  /** Object and array levels shown; deeper values are replaced by a marker (default 8). */
  readonly maxDepth?: number;
  /** Longest string shown, in characters (default 2000). */
  readonly maxStringLength?: number;
  /** Most array items and object keys shown per level (default 100). */
  readonly maxItems?: number;
  /** Most values shown in total (default 2000); later ones are replaced by a marker. */
  readonly maxValues?: number;
}

const DEFAULTS = { maxDepth: 8, maxStringLength: 2000, maxItems: 100, maxValues: 2000 } as const;

// Secrets written inside strings rather than under a key of their own.
/** `token=...`, `--api-key=...`, `DB_PASSWORD=...`, `?access_token=...` */
const SECRET_ASSIGNMENT = /\b([\w.-]*(?:token|secret|password|passwd|api[-_]?key|cookie)[\w.-]*)=([^\s&;,"']+)/gi;
/** `Authorization: Bearer ...`, `Cookie: ...` header lines */
const SECRET_HEADER_LINE = /^(\s*[\w-]*(?:token|secret|password|authorization|api[-_]?key|cookie)[\w-]*\s*:\s*).+$/gim;
/** `Bearer ...`, `Basic ...` credentials */
const SCHEME_CREDENTIALS = /\b(Bearer|Basic|Token)\s+[\w.~+/=-]{8,}/g;
/** `https://user:password@host` */
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/@]+@/gi;

/**
 * Copies `value` for display: values under secret-looking keys (`SECRET_KEY`) and the `value` of
 * `{ name, value }` pairs whose name looks secret become `"[redacted]"`, secrets written inside
 * strings are masked, and the copy is bounded in depth, width, string length and total size.
 */
export function redactArgs(value: unknown, options: RedactOptions = {}): unknown {
  const limits = { ...DEFAULTS, ...options };
  let budget = limits.maxValues;

  const visit = (current: unknown, depth: number): unknown => {
    if (budget-- <= 0) return '[omitted]';
    switch (typeof current) {
      case 'string':
        return redactString(current, limits.maxStringLength);
      case 'number':
      case 'boolean':
      case 'undefined':
        return current;
      case 'object': {
        if (current === null) return null;
        if (depth >= limits.maxDepth) return '[nested too deep]';
        if (Array.isArray(current)) {
          const shown = current.slice(0, limits.maxItems).map((item) => visit(item, depth + 1));
          if (current.length > limits.maxItems) shown.push(`[${current.length - limits.maxItems} more items]`);
          return shown;
        }
        const record = current as Record<string, unknown>;
        const keys = Object.keys(record);
        const pairName =
          typeof record.name === 'string' ? record.name : typeof record.key === 'string' ? record.key : '';
        const secretPair = SECRET_KEY.test(pairName);
        const shown: Record<string, unknown> = {};
        for (const key of keys.slice(0, limits.maxItems)) {
          const shownValue =
            SECRET_KEY.test(key) || (secretPair && key === 'value') ? REDACTED : visit(record[key], depth + 1);
          // Defined, not assigned: a `__proto__` key from JSON must stay a key, not become the prototype.
          Object.defineProperty(shown, key, {
            value: shownValue,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        if (keys.length > limits.maxItems) shown['…'] = `[${keys.length - limits.maxItems} more keys]`;
        return shown;
      }
      default:
        return `[${typeof current}]`;
    }
  };
  return visit(value, 0);
}

function redactString(text: string, maxLength: number): string {
  // Truncate before masking, so a long string costs little; then mask, so a secret cut short is still hidden.
  const truncated =
    text.length > maxLength ? `${text.slice(0, maxLength)}…[${text.length - maxLength} more characters]` : text;
  return truncated
    .replace(SECRET_HEADER_LINE, `$1${REDACTED}`)
    .replace(SECRET_ASSIGNMENT, `$1=${REDACTED}`)
    .replace(SCHEME_CREDENTIALS, `$1 ${REDACTED}`)
    .replace(URL_USERINFO, `$1${REDACTED}@`);
}
