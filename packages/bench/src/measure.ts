/**
 * Measuring helpers shared by the suites: run profiles, a tinybench wrapper that returns the
 * figures of the report, and a helper that measures in a child process (for engines that need
 * their own Node flags, and for memory figures that must not include the rest of the run).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Bench, type Fn, type Statistics } from 'tinybench';
import type { Measurement } from './report.ts';

/** How long each figure is measured. Numbers are per row; `quick` keeps a whole run under a minute. */
export interface Profile {
  readonly name: string;
  /** tinybench time budget per task, ms. */
  readonly time: number;
  /** tinybench minimum iterations per task. */
  readonly iterations: number;
  readonly warmupTime: number;
  readonly warmupIterations: number;
  /** autocannon duration of the HTTP rows, seconds. */
  readonly httpSeconds: number;
  /** Live sandboxes held by the memory rows. */
  readonly memorySandboxes: number;
  /** Repetitions of slow rows (1,000 concurrent scripts, deadline waits). */
  readonly slowIterations: number;
  /** Scripts each worker runs per batch in the throughput rows. */
  readonly scriptsPerWorkerBatch: number;
  /** Runs with telemetry on, and as many with it off, in the telemetry row. */
  readonly telemetryRuns: number;
}

export const FULL_PROFILE: Profile = {
  name: 'full',
  time: 5000,
  iterations: 64,
  warmupTime: 1000,
  warmupIterations: 16,
  httpSeconds: 10,
  memorySandboxes: 500,
  slowIterations: 8,
  scriptsPerWorkerBatch: 200,
  telemetryRuns: 2000,
};

export const QUICK_PROFILE: Profile = {
  name: 'quick',
  time: 600,
  iterations: 16,
  warmupTime: 150,
  warmupIterations: 8,
  httpSeconds: 2,
  memorySandboxes: 200,
  slowIterations: 3,
  scriptsPerWorkerBatch: 100,
  telemetryRuns: 500,
};

export interface LatencyFigures {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  /** Completed iterations per second: `1000 / mean latency`. */
  readonly opsPerSec: number;
  readonly samples: number;
}

export interface TaskOptions {
  /** Overrides the profile's time budget (ms) for this task. */
  readonly time?: number;
  readonly iterations?: number;
  readonly warmupIterations?: number;
  readonly warmupTime?: number;
}

function figuresOf(latency: Statistics): LatencyFigures {
  return {
    p50Ms: latency.p50,
    p99Ms: latency.p99,
    meanMs: latency.mean,
    opsPerSec: latency.mean > 0 ? 1000 / latency.mean : Number.POSITIVE_INFINITY,
    samples: latency.samplesCount,
  };
}

/**
 * Measures several tasks one after the other in one tinybench run (so a figure and its in-row
 * baseline see the same warm process) and returns their latency figures by name. A task that
 * throws fails the whole measurement: a benchmark of a failing operation is meaningless.
 */
export async function measureTasks<Name extends string>(
  profile: Profile,
  tasks: Readonly<Record<Name, Fn>>,
  options: TaskOptions = {},
): Promise<Record<Name, LatencyFigures>> {
  const bench = new Bench({
    time: options.time ?? profile.time,
    iterations: options.iterations ?? profile.iterations,
    warmupTime: options.warmupTime ?? profile.warmupTime,
    warmupIterations: options.warmupIterations ?? profile.warmupIterations,
    throws: true,
  });
  for (const [name, fn] of Object.entries(tasks) as [Name, Fn][]) bench.add(name, fn);
  await bench.run();
  const figures = {} as Record<Name, LatencyFigures>;
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state === 'errored') throw result.error;
    if (result.state !== 'completed') throw new Error(`task ${task.name} ended ${result.state}`);
    figures[task.name as Name] = figuresOf(result.latency);
  }
  return figures;
}

export async function measureTask(profile: Profile, fn: Fn, options?: TaskOptions): Promise<LatencyFigures> {
  const { task } = await measureTasks(profile, { task: fn }, options);
  return task;
}

/** A row's figures from one latency measurement. */
export function latencyMeasurement(figures: LatencyFigures, note?: string): Measurement {
  return {
    p50Ms: figures.p50Ms,
    p99Ms: figures.p99Ms,
    opsPerSec: figures.opsPerSec,
    ...(note === undefined ? {} : { note }),
  };
}

/**
 * Scripts per second from batch latencies. p50/p99 stay empty: a sample is a whole batch, and a
 * batch percentile divided by its size would not be a per-script percentile.
 */
export function throughputMeasurement(batch: LatencyFigures, scriptsPerBatch: number, what: string): Measurement {
  const scriptsPerSecond = (scriptsPerBatch * 1000) / batch.meanMs;
  return {
    opsPerSec: scriptsPerSecond,
    unit: 'scripts/s',
    value: scriptsPerSecond,
    note: `${what}; batch p50 ${batch.p50Ms.toFixed(2)} ms, p99 ${batch.p99Ms.toFixed(2)} ms`,
  };
}

/** A file next to this module, for workers and child processes. */
export function siblingPath(relative: string): string {
  return fileURLToPath(new URL(relative, import.meta.url));
}

/**
 * Runs a TypeScript file of this package in a child Node process with `flags` and returns the JSON
 * it prints as its last stdout line. The child gets `input` as JSON in argv. Its stderr is
 * collected and included in the error if it fails.
 */
export function runChild<T>(file: string, flags: readonly string[], input: unknown, timeoutMs = 240_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, siblingPath(file), JSON.stringify(input)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').at(-1);
      if (code !== 0 || last === undefined || last === '') {
        const why = signal === null ? `exit code ${code}` : `signal ${signal}`;
        reject(new Error(`${file} failed (${why}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
        return;
      }
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${file} printed no JSON result: ${last.slice(0, 200)}`));
      }
    });
  });
}

/** The JSON argument a child process was started with. */
export function childInput<T>(): T {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error('missing JSON argument');
  return JSON.parse(raw) as T;
}

/** Prints a child's result as the last stdout line, the only line its parent reads. */
export function childOutput(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
