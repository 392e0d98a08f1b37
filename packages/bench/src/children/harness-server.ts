/**
 * Child process of `server.http.trivial`: the HTTP server (`@script-harness/server`) as `harness
 * serve` starts it — QuickJS in worker threads, one per core, the in-process queue, telemetry on —
 * on 127.0.0.1 without API keys. Settings that would refuse or slow a load run and not a real
 * deployment are opened up: a rate limit no run reaches, a queue that never fills, and logs off
 * (the floor's fastify has `logger: false`). Only the embedded defaults count: the configuration
 * ignores the environment. Prints `{"port": n}` once listening; SIGTERM shuts it down gracefully.
 */
import { loadConfig, startServer } from '@script-harness/server';

const config = await loadConfig({
  env: {},
  overrides: {
    port: 0,
    insecureNoAuth: true,
    logLevel: 'silent',
    queue: { maxQueued: 10_000 },
    rateLimit: { max: 1_000_000_000 },
    shutdownGraceMs: 1_000,
  },
});
const running = await startServer(config, { handleSignals: true });
process.stdout.write(`${JSON.stringify({ port: Number(new URL(running.url).port) })}\n`);
