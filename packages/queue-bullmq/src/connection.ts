/**
 * How the Redis pieces reach Redis: a `redis://` / `rediss://` URL (as `HARNESS_REDIS_URL` gives
 * it) or ioredis options, turned into one options object that BullMQ and the package's own
 * clients share. Every client gets an error listener here, because an `error` event nobody
 * listens to would end the process on the first dropped connection.
 */
import { HarnessError } from '@script-harness/core';
import { Redis, type RedisOptions } from 'ioredis';

/** A `redis://` or `rediss://` URL, or ioredis options. */
export type RedisConnection = string | RedisOptions;

/** Where this package reports trouble it cannot hand to a caller (a dropped connection, a failed publish). */
export type ErrorReporter = (error: unknown, context: string) => void;

/** Parses a Redis URL: `redis[s]://[user[:password]@]host[:port][/db]`. */
export function parseRedisUrl(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HarnessError('INVALID_REQUEST', 'the Redis URL is not a URL (expected redis://host:port/db)');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new HarnessError(
      'INVALID_REQUEST',
      `the Redis URL must start with redis:// or rediss:// (got ${parsed.protocol}//)`,
    );
  }
  const options: RedisOptions = {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: parsed.port === '' ? 6379 : Number(parsed.port),
  };
  if (parsed.username !== '') options.username = decodeURIComponent(parsed.username);
  if (parsed.password !== '') options.password = decodeURIComponent(parsed.password);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '') {
    if (!/^\d+$/.test(db))
      throw new HarnessError('INVALID_REQUEST', `the Redis URL names database "${db}"; use a number`);
    options.db = Number(db);
  }
  if (parsed.protocol === 'rediss:') options.tls = {};
  return options;
}

/** The options of a connection, whatever form it was given in (a copy: callers may change it). */
export function redisOptionsOf(connection: RedisConnection): RedisOptions {
  return typeof connection === 'string' ? parseRedisUrl(connection) : { ...connection };
}

/** `host:port/db` of a connection, for messages: never the password. */
export function describeConnection(connection: RedisConnection): string {
  const options = redisOptionsOf(connection);
  return `${options.host ?? '127.0.0.1'}:${options.port ?? 6379}/${options.db ?? 0}`;
}

/**
 * A client for the package's own commands and pub/sub. Commands fail after a couple of reconnect
 * attempts instead of waiting forever, so a request made while Redis is away gets an answer.
 */
export function createRedisClient(connection: RedisConnection, name: string, report: ErrorReporter): Redis {
  const client = new Redis({
    maxRetriesPerRequest: 2,
    ...redisOptionsOf(connection),
    connectionName: name,
  });
  watchErrors(client, `Redis connection ${name}`, report);
  return client;
}

/** Subscribes `report` to an emitter's `error` events, reporting a burst of the same failure once. */
export function watchErrors(
  emitter: { on(event: 'error', listener: (error: Error) => void): unknown },
  context: string,
  report: ErrorReporter,
): void {
  let last = '';
  let lastAt = 0;
  emitter.on('error', (error: Error) => {
    // A Redis that is down makes every reconnect attempt fail the same way; one line per 10 s is enough.
    const now = Date.now();
    if (error.message === last && now - lastAt < 10_000) return;
    last = error.message;
    lastAt = now;
    report(error, context);
  });
}

/**
 * A reporter that passes on one report per context and message every 10 s: a Redis that is away
 * fails every periodic check the same way, and one line says so.
 */
export function throttled(report: ErrorReporter): ErrorReporter {
  const lastAt = new Map<string, number>();
  return (error, context) => {
    const key = `${context}\u0000${error instanceof Error ? error.message : String(error)}`;
    const now = Date.now();
    if (now - (lastAt.get(key) ?? Number.NEGATIVE_INFINITY) < 10_000) return;
    if (lastAt.size > 100) lastAt.clear();
    lastAt.set(key, now);
    report(error, context);
  };
}

/**
 * Resolves like `promise`, or rejects with INTERNAL after `timeoutMs`: work that waits for Redis
 * answers the caller even while Redis is away.
 */
export function withinTime<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new HarnessError('INTERNAL', `${what}: Redis did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** The default reporter: a process warning, which the host's logger or stderr shows. */
export const warnOnError: ErrorReporter = (error, context) => {
  process.emitWarning(`${context}: ${error instanceof Error ? error.message : String(error)}`, {
    code: 'HARNESS_REDIS',
  });
};

/** Closes a client, politely when it is connected and at once when it is not. */
export async function closeClient(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  try {
    if (client.status === 'ready') await client.quit();
    else client.disconnect();
  } catch {
    client.disconnect();
  }
}

/** Resolves once the client is connected and ready for commands. */
export function whenReady(client: Redis): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onReady = () => {
      client.off('end', onEnd);
      resolve();
    };
    const onEnd = () => {
      client.off('ready', onReady);
      reject(new HarnessError('SHUTDOWN', 'the Redis connection was closed before it was ready'));
    };
    client.once('ready', onReady);
    client.once('end', onEnd);
  });
}
