/**
 * What Redis integration tests share (this package's and the server's): the check that Redis is
 * there, failing loudly when it is not, a key prefix of their own and its clean-up. Published as
 * `@script-harness/queue-bullmq/testing` for tests of code built on this package.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.HARNESS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * A client of the test Redis, or an error that says how to start one. The Redis tests are left
 * out only when HARNESS_TEST_REDIS=off (the vitest config then does not collect them); otherwise
 * a missing Redis fails them.
 */
export async function connectTestRedis(): Promise<Redis> {
  const client = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // The socket's error (ECONNREFUSED, ...) says more than the "connection is closed" that follows it.
  let cause: Error | undefined;
  client.on('error', (error: Error) => {
    cause ??= error;
  });
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch (error) {
    client.disconnect();
    const reason = (cause ?? (error instanceof Error ? error : new Error(String(error)))).message;
    throw new Error(
      `Redis is not running: start it with tools/redis/ensure-redis.sh (tried ${TEST_REDIS_URL}: ${reason}). ` +
        'Set HARNESS_TEST_REDIS=off to leave the Redis tests out on purpose.',
    );
  }
}

/** A key prefix no other test run uses. */
export function testPrefix(label: string): string {
  return `harness-test-${label}-${randomUUID().slice(0, 8)}`;
}

/** Deletes every key under `prefix`. */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.unlink(...keys);
  } while (cursor !== '0');
}
