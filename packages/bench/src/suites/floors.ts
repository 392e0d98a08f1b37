/**
 * Floors: what the underlying engines and server framework cost on their own, with nothing of
 * the product around them. Every product figure is read as a ratio to one of these.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { measureHttp, startServerProcess } from '../http.ts';
import {
  type LatencyFigures,
  latencyMeasurement,
  measureTask,
  runChild,
  siblingPath,
  throughputMeasurement,
} from '../measure.ts';
import { freshQuickJSEval, rawQuickJSModule } from '../quickjs.ts';
import type { Measurement } from '../report.ts';
import type { BenchRow, RunContext } from '../row.ts';

async function quickjsFresh(context: RunContext): Promise<Measurement> {
  const module = await rawQuickJSModule(context);
  if (freshQuickJSEval(module) !== 2) throw new Error('raw QuickJS did not evaluate 1+1');
  return latencyMeasurement(await measureTask(context.profile, () => freshQuickJSEval(module)));
}

async function ivmFresh(context: RunContext): Promise<Measurement> {
  // isolated-vm needs --no-node-snapshot, which only a fresh process can have.
  const figures = await runChild<LatencyFigures>('./children/ivm-floor.ts', ['--no-node-snapshot'], {
    profile: context.profile,
  });
  return latencyMeasurement(figures, 'measured in a child process started with --no-node-snapshot');
}

/**
 * Two worker threads, each with its own QuickJS module, run batches of fresh-sandbox evals; one
 * sample is one batch on both workers. Worker start-up and module loading happen before measuring,
 * as they would in a pool.
 */
async function rawThroughput(context: RunContext): Promise<Measurement> {
  const perWorker = context.profile.scriptsPerWorkerBatch;
  const workers = [0, 1].map(() => new Worker(siblingPath('./children/raw-quickjs-worker.ts')));
  try {
    await Promise.all(
      workers.map(async (worker) => {
        const [message] = (await once(worker, 'message')) as [unknown];
        if (message !== 'ready') throw new Error('worker did not start');
      }),
    );
    const batch = () =>
      Promise.all(
        workers.map(async (worker) => {
          worker.postMessage(perWorker);
          await once(worker, 'message');
        }),
      );
    const figures = await measureTask(context.profile, batch, { iterations: Math.min(context.profile.iterations, 32) });
    return throughputMeasurement(
      figures,
      workers.length * perWorker,
      `2 worker threads × ${perWorker} raw QuickJS fresh-sandbox evals per batch`,
    );
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

async function httpHello(context: RunContext): Promise<Measurement> {
  const server = await startServerProcess('./children/http-hello.ts');
  try {
    const { measurement, requests } = await measureHttp({
      url: `${server.url}/`,
      seconds: context.profile.httpSeconds,
    });
    return {
      ...measurement,
      note: `fastify in a child process on 127.0.0.1; autocannon in this process, 10 connections for ${context.profile.httpSeconds} s (${requests} requests); p50/p99 over every response`,
    };
  } finally {
    await server.stop();
  }
}

export const floorRows: readonly BenchRow[] = [
  {
    id: 'floor.quickjs.fresh',
    suite: 'floors',
    title: 'raw quickjs-emscripten: new runtime + context, eval `1+1`, dispose both',
    measure: quickjsFresh,
  },
  {
    id: 'floor.ivm.fresh',
    suite: 'floors',
    title: 'raw isolated-vm: new Isolate + context, eval `1+1`, dispose (child process, --no-node-snapshot)',
    measure: ivmFresh,
  },
  {
    id: 'floor.throughput.raw2',
    suite: 'floors',
    title: 'raw QuickJS fresh-sandbox evals in 2 worker threads, scripts/s',
    measure: rawThroughput,
  },
  {
    id: 'floor.http.hello',
    suite: 'floors',
    title: 'fastify hello world on 127.0.0.1, autocannon req/s and latency (bounded duration)',
    measure: httpHello,
  },
];
