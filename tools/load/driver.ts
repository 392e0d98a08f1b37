/**
 * The moving parts every scenario shares: an open-loop request generator (requests are sent at a
 * rate, whether or not earlier ones have been answered, up to a cap on requests in flight), a
 * closed-loop one (N clients, each sending its next request when the last is answered), a sampler
 * of the server process and a prober of a health endpoint.
 */
import type { Answer, LoadClient, ScriptRequest } from './client.ts';
import type { ServerSample } from './protocol.ts';
import type { ServerProcess } from './server-process.ts';

export interface OpenLoopOptions {
  readonly client: LoadClient;
  /** Requests per second. */
  readonly rate: number;
  readonly durationMs: number;
  /** Most requests in flight; a request due while at the cap is not sent (and counted). */
  readonly maxInFlight: number;
  readonly next: (sequence: number) => ScriptRequest;
  /** Stops sending early (already sent requests are still awaited). */
  readonly signal?: AbortSignal;
}

export interface LoadRun {
  readonly answers: Answer[];
  /** Requests the driver did not send because `maxInFlight` were already waiting. */
  readonly notSent: number;
  /** Most requests in flight at once. */
  readonly maxInFlight: number;
}

export async function runOpenLoop(options: OpenLoopOptions): Promise<LoadRun> {
  const answers: Answer[] = [];
  const inFlight = new Set<Promise<void>>();
  let notSent = 0;
  let due = 0;
  let peak = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - start;
      if (elapsed >= options.durationMs || options.signal?.aborted === true) {
        clearInterval(timer);
        resolve();
        return;
      }
      const target = Math.floor((elapsed / 1000) * options.rate);
      for (; due < target; due++) {
        if (inFlight.size >= options.maxInFlight) {
          notSent++;
          continue;
        }
        const sending = options.client.runScript(options.next(due)).then((answer) => {
          answers.push(answer);
          inFlight.delete(sending);
        });
        inFlight.add(sending);
        peak = Math.max(peak, inFlight.size);
      }
    };
    const timer = setInterval(tick, 5);
  });
  await Promise.all(inFlight);
  return { answers, notSent, maxInFlight: peak };
}

export interface ClosedLoopOptions {
  readonly client: LoadClient;
  readonly clients: number;
  /** Requests each client sends, one after the other. */
  readonly requestsPerClient: number;
  readonly next: (client: number, sequence: number) => ScriptRequest;
}

export async function runClosedLoop(options: ClosedLoopOptions): Promise<LoadRun> {
  const answers: Answer[] = [];
  let inFlight = 0;
  let peak = 0;
  await Promise.all(
    Array.from({ length: options.clients }, async (_, client) => {
      for (let sequence = 0; sequence < options.requestsPerClient; sequence++) {
        inFlight++;
        peak = Math.max(peak, inFlight);
        answers.push(await options.client.runScript(options.next(client, sequence)));
        inFlight--;
      }
    }),
  );
  return { answers, notSent: 0, maxInFlight: peak };
}

export interface TimedSample extends ServerSample {
  /** When it was taken, in ms since the scenario's clock started. */
  readonly atMs: number;
}

export interface Sampler {
  readonly samples: TimedSample[];
  /** Stops sampling (waits for a sample under way). */
  stop(): Promise<void>;
}

/** Samples the server every `intervalMs`; with `gc`, each sample follows a full collection. */
export function startSampler(
  server: ServerProcess,
  options: { intervalMs: number; gc: boolean; origin: number },
): Sampler {
  const samples: TimedSample[] = [];
  let stopped = false;
  let current: Promise<void> = Promise.resolve();
  const take = () => {
    current = server
      .sample(options.gc)
      .then((sample) => {
        samples.push({ ...sample, atMs: performance.now() - options.origin });
      })
      .catch(() => {
        // The server is gone (shutting down): there is nothing more to sample.
      });
    return current;
  };
  void take();
  const timer = setInterval(() => {
    if (!stopped) void take();
  }, options.intervalMs);
  return {
    samples,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}

export interface Probe {
  readonly atMs: number;
  readonly status: number | null;
  readonly latencyMs: number;
  readonly body: unknown;
}

export interface Prober {
  readonly probes: Probe[];
  stop(): Promise<void>;
}

/** GETs `path` every `intervalMs` on the client's probe connection (one at a time). */
export function startProber(client: LoadClient, path: string, options: { intervalMs: number; origin: number }): Prober {
  const probes: Probe[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const atMs = performance.now() - options.origin;
      const result = await client.probe(path);
      probes.push({ atMs, ...result });
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    }
  })();
  return {
    probes,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** A deterministic pseudo-random source (mulberry32), so that a run can be repeated. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
