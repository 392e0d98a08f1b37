/**
 * API keys as bearer tokens. Keys are kept only as SHA-256 digests; a presented token is hashed
 * and compared with every configured digest in constant time, and the loop never stops early, so
 * neither the content of a key nor its position in the list shows in the response time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Tenant names end up in metric labels and audit records: short, plain, and safe to print. */
export const TENANT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The tenant of requests to a server started with `--insecure-no-auth`. */
export const LOCAL_TENANT = 'local';

export interface ApiKeyEntry {
  readonly tenant: string;
  /** The key itself, or */
  readonly key?: string | undefined;
  /** its SHA-256 as hex. */
  readonly sha256?: string | undefined;
}

export type AuthOutcome =
  | { readonly ok: true; readonly tenant: string }
  | { readonly ok: false; readonly reason: 'missing' | 'malformed' | 'unknown' };

export interface Authenticator {
  authenticate(authorization: string | undefined): AuthOutcome;
}

export interface AuthenticatorOptions {
  /** Compares two 32-byte digests; tests count the comparisons. Default `crypto.timingSafeEqual`. */
  readonly compare?: (a: Buffer, b: Buffer) => boolean;
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The hex digest to put in a config file instead of the key. */
export function hashApiKey(key: string): string {
  return sha256(key).toString('hex');
}

/** The token of an `Authorization: Bearer <token>` header; undefined when the header is not that. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  return match?.[1];
}

export function createAuthenticator(
  entries: readonly ApiKeyEntry[],
  options: AuthenticatorOptions = {},
): Authenticator {
  const compare = options.compare ?? timingSafeEqual;
  const keys = entries.map((entry) => ({
    tenant: entry.tenant,
    digest: entry.sha256 !== undefined ? Buffer.from(entry.sha256, 'hex') : sha256(entry.key ?? ''),
  }));
  return {
    authenticate(authorization) {
      if (authorization === undefined || authorization === '') return { ok: false, reason: 'missing' };
      const token = bearerToken(authorization);
      if (token === undefined) return { ok: false, reason: 'malformed' };
      // Digests have one length whatever the token's, which timingSafeEqual requires.
      const presented = sha256(token);
      let tenant: string | undefined;
      for (const key of keys) {
        if (compare(presented, key.digest) && tenant === undefined) tenant = key.tenant;
      }
      return tenant === undefined ? { ok: false, reason: 'unknown' } : { ok: true, tenant };
    },
  };
}

/**
 * Parses `HARNESS_API_KEYS`: `tenant:key,tenant:key,...`. A key may contain `:` (the first one
 * separates the tenant); whitespace around entries is ignored. Problems never quote a key.
 */
export function parseApiKeysVariable(value: string): {
  readonly entries: { tenant: string; key: string }[];
  readonly problems: string[];
} {
  const entries: { tenant: string; key: string }[] = [];
  const problems: string[] = [];
  const items = value.split(',').map((item) => item.trim());
  items.forEach((item, index) => {
    const position = `entry ${index + 1}`;
    if (item === '') {
      problems.push(`${position} is empty (expected tenant:key)`);
      return;
    }
    const colon = item.indexOf(':');
    if (colon <= 0 || colon === item.length - 1) {
      problems.push(`${position} is not tenant:key`);
      return;
    }
    entries.push({ tenant: item.slice(0, colon), key: item.slice(colon + 1) });
  });
  return { entries, problems };
}
