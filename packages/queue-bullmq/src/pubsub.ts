/**
 * One subscriber connection per component, routing each channel's messages to its handler. A
 * subscribed Redis connection can run no other command, hence the separate client; ioredis
 * subscribes again by itself after a reconnect. Messages published while a node is disconnected
 * are lost (Redis pub/sub keeps nothing), so every component that relies on one also has a
 * second path that reads the state from Redis.
 */
import type { Redis } from 'ioredis';
import { closeClient, createRedisClient, type ErrorReporter, type RedisConnection } from './connection.ts';

export interface ChannelSubscription {
  /** Resolves once every channel is subscribed. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export function subscribeChannels(
  connection: RedisConnection,
  name: string,
  handlers: ReadonlyMap<string, (message: string) => void>,
  report: ErrorReporter,
): ChannelSubscription {
  const client: Redis = createRedisClient(connection, name, report);
  client.on('message', (channel: string, message: string) => {
    const handler = handlers.get(channel);
    if (handler === undefined) return;
    try {
      handler(message);
    } catch (error) {
      report(error, `handling a message on ${channel}`);
    }
  });
  const ready = client.subscribe(...handlers.keys()).then(() => undefined);
  // The caller awaits `ready`; this keeps an early failure from being an unhandled rejection too.
  ready.catch(() => {});
  return {
    ready,
    close: () => closeClient(client),
  };
}
