/**
 * Canonical JSON and hashing, so the same call always has the same fingerprint: an approval is
 * bound to the hash of exactly what was shown.
 */
import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted (by UTF-16 code unit) at every level and no whitespace. Values
 * follow `JSON.stringify` (an `undefined` property is left out, an `undefined` array item is
 * `null`), except that anything that is not plain data throws instead of being coerced: a
 * `Date`, `Map`, class instance, function, BigInt, non-finite number or cycle has no single JSON
 * form to bind an approval to.
 */
export function canonicalJson(value: unknown): string {
  const text = encode(value, new Set());
  if (text === undefined) throw new TypeError('undefined has no JSON form');
  return text;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Freezes a value and everything reachable from it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}

function encode(value: unknown, ancestors: Set<object>): string | undefined {
  switch (typeof value) {
    case 'undefined':
      return undefined;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${value} has no JSON form`);
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (ancestors.has(value)) throw new TypeError('a cycle has no JSON form');
      ancestors.add(value);
      try {
        if (Array.isArray(value)) {
          return `[${value.map((item) => encode(item, ancestors) ?? 'null').join(',')}]`;
        }
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          throw new TypeError(`an instance of ${proto?.constructor?.name ?? 'a class'} is not plain data`);
        }
        const record = value as Record<string, unknown>;
        const members: string[] = [];
        for (const key of Object.keys(record).sort()) {
          const encoded = encode(record[key], ancestors);
          if (encoded !== undefined) members.push(`${JSON.stringify(key)}:${encoded}`);
        }
        return `{${members.join(',')}}`;
      } finally {
        ancestors.delete(value);
      }
    }
    default:
      throw new TypeError(`a ${typeof value} is not plain data`);
  }
}
