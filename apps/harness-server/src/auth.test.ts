import { describe, expect, it } from 'vitest';
import { bearerToken, createAuthenticator, hashApiKey, parseApiKeysVariable, sha256 } from './auth.ts';

const ALPHA = 'alpha-key-0123456789abcdef';
const BETA = 'beta-key-0123456789abcdef';

describe('bearerToken', () => {
  it('reads the token of a Bearer header and nothing else', () => {
    expect(bearerToken(`Bearer ${ALPHA}`)).toBe(ALPHA);
    expect(bearerToken(`bearer   ${ALPHA} `)).toBe(ALPHA);
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('Basic YWxwaGE6a2V5')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Bearer two tokens')).toBeUndefined();
  });
});

describe('createAuthenticator', () => {
  it('finds the tenant of a key given plainly or as a digest', () => {
    const authenticator = createAuthenticator([
      { tenant: 'alpha', key: ALPHA },
      { tenant: 'beta', sha256: hashApiKey(BETA) },
    ]);
    expect(authenticator.authenticate(`Bearer ${ALPHA}`)).toEqual({ ok: true, tenant: 'alpha' });
    expect(authenticator.authenticate(`Bearer ${BETA}`)).toEqual({ ok: true, tenant: 'beta' });
    expect(authenticator.authenticate(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(authenticator.authenticate('')).toEqual({ ok: false, reason: 'missing' });
    expect(authenticator.authenticate('Token abc')).toEqual({ ok: false, reason: 'malformed' });
    expect(authenticator.authenticate(`Bearer ${ALPHA}x`)).toEqual({ ok: false, reason: 'unknown' });
    expect(authenticator.authenticate(`Bearer ${ALPHA.slice(0, -1)}`)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('compares fixed-size digests against every key, whether and wherever a key matches', () => {
    const compared: { a: number; b: number }[] = [];
    const authenticator = createAuthenticator(
      [
        { tenant: 'alpha', key: ALPHA },
        { tenant: 'beta', key: BETA },
        { tenant: 'gamma', key: 'gamma-key-0123456789abcdef' },
      ],
      {
        compare: (a, b) => {
          compared.push({ a: a.length, b: b.length });
          return a.equals(b);
        },
      },
    );
    const comparisonsFor = (token: string) => {
      compared.length = 0;
      authenticator.authenticate(`Bearer ${token}`);
      return compared.slice();
    };
    const first = comparisonsFor(ALPHA);
    const none = comparisonsFor('x');
    const huge = comparisonsFor('y'.repeat(10_000));
    // Same number of comparisons for a match at the front, no match, and any token length...
    expect(first).toHaveLength(3);
    expect(none).toHaveLength(3);
    expect(huge).toHaveLength(3);
    // ...and always of 32-byte digests, never of the raw token.
    for (const sizes of [...first, ...none, ...huge]) expect(sizes).toEqual({ a: 32, b: 32 });
  });

  it('uses crypto.timingSafeEqual by default (it throws on unequal lengths, so digests are required)', () => {
    const authenticator = createAuthenticator([{ tenant: 'alpha', key: ALPHA }]);
    expect(() => authenticator.authenticate('Bearer a')).not.toThrow();
    expect(sha256('a')).toHaveLength(32);
  });
});

describe('parseApiKeysVariable', () => {
  it('splits tenant:key pairs; keys may contain colons', () => {
    expect(parseApiKeysVariable(' a:one-key , b:two:with:colons ')).toEqual({
      entries: [
        { tenant: 'a', key: 'one-key' },
        { tenant: 'b', key: 'two:with:colons' },
      ],
      problems: [],
    });
  });

  it('names bad entries by position without quoting them', () => {
    const parsed = parseApiKeysVariable('secret-without-tenant,,x:');
    expect(parsed.problems).toEqual([
      'entry 1 is not tenant:key',
      'entry 2 is empty (expected tenant:key)',
      'entry 3 is not tenant:key',
    ]);
    expect(parsed.problems.join(' ')).not.toContain('secret');
  });
});
