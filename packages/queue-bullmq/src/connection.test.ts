import { describe, expect, it } from 'vitest';
import { describeConnection, parseRedisUrl, redisOptionsOf } from './connection.ts';

describe('Redis connections', () => {
  it('reads host, port, credentials, database and TLS from a URL', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6380/2')).toEqual({ host: '127.0.0.1', port: 6380, db: 2 });
    expect(parseRedisUrl('rediss://app:p%40ss@redis.internal')).toEqual({
      host: 'redis.internal',
      port: 6379,
      username: 'app',
      password: 'p@ss',
      tls: {},
    });
    expect(parseRedisUrl('redis://:only-password@[::1]:7000')).toEqual({
      host: '::1',
      port: 7000,
      password: 'only-password',
    });
  });

  it('refuses what is not a Redis URL, without echoing a password', () => {
    expect(() => parseRedisUrl('http://localhost:6379')).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
    expect(() => parseRedisUrl('not a url')).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
    expect(() => parseRedisUrl('redis://host/zero')).toThrow(/database "zero"/);
    try {
      parseRedisUrl('redis://user:hunter2@host/x');
    } catch (error) {
      expect(String(error)).not.toContain('hunter2');
    }
  });

  it('describes a connection without its password and copies options it is given', () => {
    expect(describeConnection('redis://user:hunter2@cache:6390/3')).toBe('cache:6390/3');
    const given = { host: 'cache', port: 1 };
    const copy = redisOptionsOf(given);
    expect(copy).toEqual(given);
    expect(copy).not.toBe(given);
  });
});
