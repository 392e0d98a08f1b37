/**
 * The server under load, as its own process: configured from the environment like `harness
 * serve`, with the load tools, shutting down gracefully on SIGTERM. The driver talks to it over
 * the IPC channel: it announces `{ type: 'listening', url }`, then answers `sample` (memory,
 * handles, file descriptors, pool, queue, event loop lag, tool counts; after a full GC when
 * asked) and `kill-workers` (terminates every sandbox worker now, as a crash would). None of this
 * changes the product: it is the same `startServer` with a runtime whose handle the entry keeps.
 *
 * Run with `--expose-gc` so that `sample` can measure the heap after a full collection.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadConfig } from '../../apps/harness-server/src/config.ts';
import { startServer } from '../../apps/harness-server/src/start.ts';
import { createQuickJSRuntime } from '../../packages/runtime-quickjs/src/index.ts';
import { createLoadTools } from './load-tools.ts';
import type { FromServer, ServerSample, ToServer } from './protocol.ts';

if (process.send === undefined) throw new Error('run this entry with an IPC channel (the load driver starts it)');
const send = (message: FromServer) => process.send?.(message);

const config = await loadConfig({ env: process.env });
const runtime = await createQuickJSRuntime({
  mode: config.runtime.mode,
  ...(config.runtime.poolSize === undefined ? {} : { pool: { size: config.runtime.poolSize } }),
});
const loadTools = createLoadTools();
const running = await startServer(config, {
  dependencies: { tools: loadTools.tools, runtime },
  handleSignals: true,
});
const startedAt = performance.now();

function openFileDescriptors(): number | null {
  try {
    return readdirSync('/proc/self/fd').length - 1; // minus the descriptor of the listing itself
  } catch {
    return null;
  }
}

function threads(): number | null {
  try {
    const match = /^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match === null ? null : Number(match[1]);
  } catch {
    return null;
  }
}

function sample(collect: boolean): ServerSample {
  let heapAfterGcBytes: number | null = null;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (collect && gc !== undefined) {
    gc();
    heapAfterGcBytes = process.memoryUsage().heapUsed;
  }
  const memory = process.memoryUsage();
  const pool = runtime.stats();
  const queue = running.server.context.queue.stats();
  return {
    uptimeMs: performance.now() - startedAt,
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    heapTotalBytes: memory.heapTotal,
    externalBytes: memory.external,
    heapAfterGcBytes,
    activeHandles: process.getActiveResourcesInfo().length,
    openFileDescriptors: openFileDescriptors(),
    threads: threads(),
    pool: pool === undefined ? null : { ...pool },
    queue: { queued: queue.queued, running: queue.running },
    eventLoopLagMs: running.server.context.eventLoop.lagMs(),
    toolExecutions: { ...loadTools.executions },
    toolCallsPending: loadTools.pending(),
  };
}

process.on('message', (message: ToServer) => {
  switch (message.type) {
    case 'sample':
      send({ type: 'sample', id: message.id, sample: sample(message.gc) });
      return;
    case 'kill-workers':
      void runtime.terminateWorkers().then(() => send({ type: 'killed', id: message.id }));
      return;
  }
});
// A driver that goes away takes its server with it, gracefully.
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));

send({ type: 'listening', url: running.url });
