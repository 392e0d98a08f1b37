/**
 * Which mode a node runs in: the embedded in-process queue unless `HARNESS_REDIS_URL` names a
 * Redis, in which case the queue, the spawned tasks and the pending approvals live there.
 */
import { parseRedisUrl } from './connection.ts';

/**
 * The Redis URL of the distributed mode, or undefined for the embedded default. A URL that is
 * set but malformed throws INVALID_REQUEST (naming the variable, never the password), so a
 * typo does not silently fall back to a single node.
 */
export function redisUrlFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  const url = env.HARNESS_REDIS_URL?.trim();
  if (url === undefined || url === '') return undefined;
  parseRedisUrl(url);
  return url;
}
