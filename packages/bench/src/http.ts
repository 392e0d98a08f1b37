/**
 * HTTP rows: a server in a child process (so the load generator and the server do not share an
 * event loop) on 127.0.0.1, and a bounded autocannon run against it.
 */
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { siblingPath } from './measure.ts';
import type { Measurement } from './report.ts';

export interface ServerProcess {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts `file` (which prints `{"port": n}` once listening on 127.0.0.1) and returns its base URL. */
export function startServerProcess(file: string, flags: readonly string[] = []): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, siblingPath(file)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<void>((done) => child.once('close', () => done()));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    };
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const line = stdout.split('\n')[0];
      if (!stdout.includes('\n') || line === undefined) return;
      try {
        const { port } = JSON.parse(line) as { port: number };
        resolve({ url: `http://127.0.0.1:${port}`, stop });
      } catch {
        void stop();
        reject(new Error(`${file} printed no port: ${line.slice(0, 200)}`));
      }
    });
    child.once('error', reject);
    child.once('close', (code) => reject(new Error(`${file} exited (${code}) before listening: ${stderr.trim()}`)));
  });
}

export interface LoadOptions {
  readonly url: string;
  readonly seconds: number;
  readonly connections?: number;
  readonly method?: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

/**
 * A bounded closed-loop load (fixed connections, fixed duration); any error or non-2xx fails it.
 * Latency percentiles come from every response's own time: autocannon's result histogram has
 * whole-millisecond resolution, which reads 0 for a local server.
 */
export async function measureHttp(options: LoadOptions): Promise<{ measurement: Measurement; requests: number }> {
  const connections = options.connections ?? 10;
  const latencies: number[] = [];
  const instance = autocannon({
    url: options.url,
    connections,
    pipelining: 1,
    duration: options.seconds,
    ...(options.method === undefined ? {} : { method: options.method }),
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  });
  instance.on('response', (_client, _status, _bytes, responseTime) => {
    latencies.push(responseTime);
  });
  const result = await instance;
  if (result.errors > 0 || result.non2xx > 0) {
    throw new Error(`load run failed: ${result.errors} errors, ${result.non2xx} non-2xx responses`);
  }
  const requestsPerSecond = result.requests.total / result.duration;
  latencies.sort((a, b) => a - b);
  return {
    measurement: {
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      opsPerSec: requestsPerSecond,
      unit: 'req/s',
      value: requestsPerSecond,
    },
    requests: result.requests.total,
  };
}

/** Linear interpolation between the closest ranks of a sorted sample. */
export function percentile(sorted: readonly number[], fraction: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = (sorted.length - 1) * fraction;
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}
