/**
 * A pool worker: loads QuickJS once and runs many scripts, each in a warm sandbox restored from its
 * snapshot or in a fresh runtime and context (see snapshot.ts). Scripts interleave while they wait
 * for tool calls, which the main thread executes.
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type { DeadlineControl, HostBridge } from '@script-harness/core';
import type { FromWorker, ToWorker, WorkerData } from './protocol.ts';
import { QuickJSEngine } from './snapshot.ts';

if (parentPort === null) throw new Error('worker.ts must run as a worker thread');
const port = parentPort;
const starting = QuickJSEngine.create((workerData as WorkerData).warmSandboxes);

interface Job {
  readonly controller: AbortController;
  readonly calls: Map<number, (reply: string) => void>;
  deadline?: DeadlineControl;
}
const jobs = new Map<number, Job>();
const send = (message: FromWorker) => port.postMessage(message);

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'run':
      void runJob(message.jobId, message);
      break;
    case 'reply': {
      // A reply for a job that already ended (timed out, aborted) is dropped here.
      const resolve = jobs.get(message.jobId)?.calls.get(message.callId);
      if (resolve !== undefined) {
        jobs.get(message.jobId)?.calls.delete(message.callId);
        resolve(message.reply);
      }
      break;
    }
    case 'abort':
      jobs.get(message.jobId)?.controller.abort({ code: message.code, message: message.message });
      break;
    case 'ping':
      send({ type: 'pong' });
      break;
    case 'hold':
      jobs.get(message.jobId)?.deadline?.hold();
      break;
    case 'release':
      jobs.get(message.jobId)?.deadline?.release();
      break;
  }
});

async function runJob(jobId: number, message: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  const job: Job = { controller: new AbortController(), calls: new Map() };
  jobs.set(jobId, job);
  const bridge: HostBridge = {
    callTool: (callId, name, argsJson) =>
      new Promise<string>((resolve) => {
        job.calls.set(callId, resolve);
        send({ type: 'call', jobId, callId, name, argsJson });
      }),
    emit: (kind, level, text) => send({ type: 'emit', jobId, kind, level, text }),
    started: (deadline, control) => {
      job.deadline = control;
      send({ type: 'started', jobId, deadline });
    },
  };
  const engine = await starting;
  const { outcome, warm } = await engine.run(message.limits, message.request, bridge, job.controller.signal);
  jobs.delete(jobId);
  send({
    type: 'done',
    jobId,
    outcome,
    warm,
    wasmBytes: wasmMemoryBytes(),
    moduleReplacements: engine.holder.replacements,
  });
}

function wasmMemoryBytes(): number {
  // Memory of the whole worker is what recycling is about; WebAssembly memory lives outside the JS
  // heap, in V8's external memory (with ArrayBuffers). Read from the heap statistics, about 0.4 µs:
  // process.memoryUsage() also reads the resident set from /proc, about 3.7 µs on every script.
  return getHeapStatistics().external_memory;
}

await starting;
send({ type: 'ready' });
