/**
 * `soak`: steady mixed load for a long time — normal scripts awaiting tools, scripts that time
 * out, memory bombs and failing tools — while the server is sampled every few seconds (RSS, heap
 * after a full GC, active handles, open descriptors, pool workers). After a warm-up, a line is
 * fitted to the floor of RSS (see `lowerEnvelope`) and to the heap after GC; the slope is the
 * growth rate in MB per hour.
 *
 * How the verdict stays meaningful on a short run: the bound (10 MB/h) is applied to both
 * slopes as they are once the fitted window is long (≥ 30 min). A few minutes cannot resolve a
 * slope that small — 10 MB/h is 0.3 MB in two minutes, less than the server's own warm-up — so a
 * short run checks what a few minutes can show: the heap after a full GC (the server's own
 * objects, nearly without noise) may not grow by more than 2 MB across the window, which is a
 * leak of a few KB per request; RSS, which moves by tens of MB when a worker's WebAssembly memory
 * reaches a new high-water mark or a worker is replaced, must stay below what the pool holds by
 * design (its slope is reported). Handles, descriptors and threads (a worker that is never ended
 * is a thread) must not grow along the fitted line by more than a small count, on any run.
 */
import { createLoadClient } from '../client.ts';
import { createRandom, runOpenLoop, startSampler, type TimedSample } from '../driver.ts';
import { buildReport, type Check, type LoadReport, noneDuplicatedCheck } from '../report.ts';
import { EXPECTED_CODE, failingToolScript, memoryBombScript, timeoutScript, toolScript } from '../scripts.ts';
import { startServerProcess } from '../server-process.ts';
import { fitLine, type LineFit, MB, round1, summarizeLatency, tallyAnswers } from '../stats.ts';

export interface SoakOptions {
  readonly durationMs: number;
  /** Requests per second. Default 10. */
  readonly rate?: number;
  /** Seconds between samples. Default 5. */
  readonly sampleIntervalMs?: number;
  /** Samples before this are not fitted. Default: a third of the run, at most 10 minutes. */
  readonly warmupMs?: number;
  /** The growth bound (MB per hour). Default 10. */
  readonly leakBoundMbPerHour?: number;
  readonly seed?: number;
  /** Called with each sample as it is taken (progress on long runs). */
  readonly onProgress?: (line: string) => void;
}

/**
 * The lowest value of each of about eight equal blocks of the window (each at least four samples
 * long), with its time. RSS of a pool of WebAssembly workers is a sawtooth — a worker's memory
 * only grows until the worker is recycled — so a line through every sample measures the phase of
 * the sawtooth at the ends of the window as much as any trend; a leak raises the floor.
 */
export function lowerEnvelope<T extends { atMs: number }>(
  samples: readonly T[],
  value: (sample: T) => number,
  sampleIntervalMs: number,
): [number, number][] {
  if (samples.length === 0) return [];
  const start = (samples[0] as T).atMs;
  const window = (samples.at(-1) as T).atMs - start;
  const blockMs = Math.max(window / 8, 4 * sampleIntervalMs);
  const floors = new Map<number, [number, number]>();
  for (const sample of samples) {
    const block = Math.min(Math.floor((sample.atMs - start) / blockMs), Math.max(0, Math.ceil(window / blockMs) - 1));
    const y = value(sample);
    const floor = floors.get(block);
    if (floor === undefined || y < floor[1]) floors.set(block, [sample.atMs, y]);
  }
  return [...floors.values()];
}

/** A fitted window at least this long gets the strict bound on the point estimate. */
export const STRICT_WINDOW_MS = 30 * 60_000;
/** Handles, descriptors or threads the fitted line may gain across the window. */
const MAX_RESOURCE_GROWTH = 25;
/** The pool's default recycling bound of a worker's memory (QuickJSPoolOptions.recycleAboveBytes). */
const POOL_RECYCLE_ABOVE_MB = 512;
/** Growth of the heap after GC across a short run's window that fails it. */
const SHORT_RUN_HEAP_GROWTH_MB = 2;

export async function runSoak(options: SoakOptions): Promise<LoadReport> {
  const rate = options.rate ?? 10;
  const sampleIntervalMs = options.sampleIntervalMs ?? 5_000;
  const warmupMs = options.warmupMs ?? Math.min(10 * 60_000, options.durationMs / 3);
  const bound = options.leakBoundMbPerHour ?? 10;
  const poolSize = 2;
  const server = await startServerProcess({
    HARNESS_POOL_SIZE: String(poolSize),
    HARNESS_QUEUE_CONCURRENCY: '32',
    HARNESS_QUEUE_MAX_QUEUED: '512',
  });
  const origin = performance.now();
  const client = createLoadClient({ url: server.url, connections: 64, origin });
  const random = createRandom(options.seed ?? 1);
  const sampler = startSampler(server, { intervalMs: sampleIntervalMs, gc: true, origin });
  const progress =
    options.onProgress === undefined
      ? undefined
      : setInterval(() => {
          const last = sampler.samples.at(-1);
          if (last !== undefined) {
            options.onProgress?.(
              `soak ${Math.round(last.atMs / 1000)} s: rss ${round1(last.rssBytes / MB)} MB, heap after GC ${round1((last.heapAfterGcBytes ?? 0) / MB)} MB, handles ${last.activeHandles}, fds ${last.openFileDescriptors}`,
            );
          }
        }, 60_000);
  let run: Awaited<ReturnType<typeof runOpenLoop>>;
  try {
    run = await runOpenLoop({
      client,
      rate,
      durationMs: options.durationMs,
      maxInFlight: 64,
      next: (sequence) => {
        const id = `soak-${sequence}`;
        const pick = random();
        if (pick < 0.7) return toolScript(id, [10 + Math.floor(random() * 190), 10 + Math.floor(random() * 190)]);
        if (pick < 0.8) return timeoutScript(id, 200);
        if (pick < 0.9) return memoryBombScript(id, 16);
        return failingToolScript(id);
      },
    });
  } finally {
    if (progress !== undefined) clearInterval(progress);
    await sampler.stop();
    client.close();
  }
  const durationMs = performance.now() - origin;
  await server.stop();
  const exit = await server.exited;

  const tally = tallyAnswers(run.answers);
  const lastSample = sampler.samples.at(-1);
  const kills = lastSample?.pool?.workerKills ?? 0;
  // INTERNAL is the answer of the scripts that shared a worker with one the kill switch ended (a
  // script past its deadline whose worker stopped answering, as on a starved machine): typed and
  // retryable, and counted in the report. Without a kill it is a failure.
  const killedWithWorker = new Set(run.answers.filter((answer) => kills > 0 && answer.code === 'INTERNAL'));
  const unexpected = run.answers.filter(
    (answer) =>
      answer.kind !== 'rejected' &&
      !killedWithWorker.has(answer) &&
      (EXPECTED_CODE[answer.label] === null ? answer.kind !== 'ok' : answer.code !== EXPECTED_CODE[answer.label]),
  );
  const fitted = sampler.samples.filter((sample) => sample.atMs >= warmupMs);
  const windowMs = fitted.length < 2 ? 0 : (fitted.at(-1) as TimedSample).atMs - (fitted[0] as TimedSample).atMs;
  const perHour = (fit: LineFit) => fit.slope * 3_600_000;
  const rssFit = fitLine(lowerEnvelope(fitted, (s) => s.rssBytes / MB, sampleIntervalMs));
  const rssPlainFit = fitLine(fitted.map((s) => [s.atMs, s.rssBytes / MB]));
  const heapFit = fitLine(
    fitted.filter((s) => s.heapAfterGcBytes !== null).map((s) => [s.atMs, (s.heapAfterGcBytes ?? 0) / MB]),
  );
  const handlesFit = fitLine(fitted.map((s) => [s.atMs, s.activeHandles]));
  const fdSamples = fitted.filter((s) => s.openFileDescriptors !== null);
  const fdsFit = fitLine(fdSamples.map((s) => [s.atMs, s.openFileDescriptors ?? 0]));
  const strict = windowMs >= STRICT_WINDOW_MS;
  const threadSamples = fitted.filter((s) => s.threads !== null);
  const threadsFit = fitLine(threadSamples.map((s) => [s.atMs, s.threads ?? 0]));
  const rssStart = (fitted[0]?.rssBytes ?? 0) / MB;
  const rssPeak = Math.max(0, ...fitted.map((s) => s.rssBytes)) / MB;
  const rssCeiling = rssStart + poolSize * POOL_RECYCLE_ABOVE_MB;

  const growthCheck = (name: string, fit: LineFit): Check => {
    const mbPerHour = perHour(fit);
    const error = fit.slopeStandardError * 3_600_000;
    if (strict) {
      return {
        name,
        pass: Number.isFinite(mbPerHour) && mbPerHour <= bound,
        detail: `${round1(mbPerHour)} MB/h over a fitted ${round1(windowMs / 60_000)} min (bound ${bound} MB/h)`,
      };
    }
    // Short window: a few minutes cannot resolve 10 MB/h (0.3 MB in two minutes, less than the
    // server's own warm-up); what they can show is a leak per request, as growth across the window.
    const growth = fit.slope * windowMs;
    return {
      name,
      pass: Number.isFinite(growth) && growth <= SHORT_RUN_HEAP_GROWTH_MB,
      detail: `${round1(mbPerHour)} ± ${round1(error)} MB/h over a fitted ${round1(windowMs / 60_000)} min: ${round1(growth)} MB across the window (short run: bound ${SHORT_RUN_HEAP_GROWTH_MB} MB, about ${round1((SHORT_RUN_HEAP_GROWTH_MB * 1024) / Math.max(1, (rate * windowMs) / 1000))} KB per request; ${bound} MB/h is checked from ${STRICT_WINDOW_MS / 60_000} min)`,
    };
  };
  // On a short run RSS moves by tens of MB when a worker is replaced or its WebAssembly memory
  // grows to a new high-water mark, so its slope says little; it must stay below what the pool can
  // hold by design (each worker is recycled above 512 MB).
  const rssCheck: Check = strict
    ? growthCheck('RSS growth (floor)', rssFit)
    : {
        name: 'RSS bounded',
        pass: rssPeak <= rssCeiling,
        detail: `peak ${round1(rssPeak)} MB after warm-up, from ${round1(rssStart)} MB (short run: bound ${round1(rssCeiling)} MB, the start plus ${POOL_RECYCLE_ABOVE_MB} MB per worker; floor slope ${round1(perHour(rssFit))} MB/h is reported, checked from ${STRICT_WINDOW_MS / 60_000} min)`,
      };
  const resourceCheck = (name: string, fit: LineFit, available: boolean): Check => {
    const growth = fit.slope * windowMs;
    return {
      name,
      pass: !available || (Number.isFinite(growth) && growth <= MAX_RESOURCE_GROWTH),
      detail: available
        ? `fitted growth ${round1(growth)} across the window (bound ${MAX_RESOURCE_GROWTH})`
        : 'not measurable on this platform',
    };
  };

  const checks: Check[] = [
    {
      name: 'every request answered, typed',
      pass: tally.byKind.lost === 0 && tally.byKind.untyped === 0,
      detail: `${tally.sent} sent, ${tally.byKind.lost} lost, ${tally.byKind.untyped} untyped`,
    },
    noneDuplicatedCheck(tally),
    {
      name: 'each kind of script ends as it must',
      pass: unexpected.length === 0,
      detail:
        unexpected.length === 0
          ? `normal scripts ok; timeouts TIMEOUT, memory bombs MEMORY_LIMIT, failing tools TOOL_ERROR; ${killedWithWorker.size} INTERNAL after ${kills} kill-switch kills`
          : `${unexpected.length} did not, e.g. ${JSON.stringify(unexpected.slice(0, 3).map((a) => [a.label, a.kind, a.code]))}`,
    },
    { name: 'enough samples after warm-up', pass: fitted.length >= 8, detail: `${fitted.length} samples fitted` },
    rssCheck,
    growthCheck('heap-after-GC growth', heapFit),
    resourceCheck('active handles', handlesFit, true),
    resourceCheck('open file descriptors', fdsFit, fdSamples.length >= 2),
    resourceCheck('threads', threadsFit, threadSamples.length >= 2),
    {
      name: 'pool at full size at the end',
      pass: lastSample?.pool?.size === poolSize,
      detail: `${lastSample?.pool?.size ?? 'no'} of ${poolSize} workers; ${lastSample?.pool?.workerRestarts ?? 0} restarts, ${kills} kills`,
    },
    {
      name: 'graceful exit',
      pass: exit.code === 0,
      detail: `exit code ${exit.code ?? exit.signal}`,
    },
  ];
  const first = fitted[0];
  return buildReport({
    scenario: 'soak',
    checks,
    parameters: {
      durationMs: options.durationMs,
      rate,
      sampleIntervalMs,
      warmupMs,
      leakBoundMbPerHour: bound,
      poolSize,
    },
    figures: {
      answers: tally.byKind,
      codes: tally.byCode,
      notSent: run.notSent,
      latencyMs: summarizeLatency(
        run.answers.filter((a) => a.label === 'normal' && a.kind === 'ok').map((a) => a.latencyMs),
      ),
      rssMbPerHour: round1(perHour(rssFit)),
      rssMbPerHourStandardError: round1(rssFit.slopeStandardError * 3_600_000),
      rssAllSamplesMbPerHour: round1(perHour(rssPlainFit)),
      heapAfterGcMbPerHour: round1(perHour(heapFit)),
      heapAfterGcMbPerHourStandardError: round1(heapFit.slopeStandardError * 3_600_000),
      fittedWindowMinutes: round1(windowMs / 60_000),
      strictBound: strict,
      rssMb: {
        afterWarmup: round1((first?.rssBytes ?? 0) / MB),
        peak: round1(rssPeak),
        end: round1((lastSample?.rssBytes ?? 0) / MB),
      },
      heapAfterGcMb: {
        afterWarmup: round1((first?.heapAfterGcBytes ?? 0) / MB),
        end: round1((lastSample?.heapAfterGcBytes ?? 0) / MB),
      },
      activeHandles: { afterWarmup: first?.activeHandles, end: lastSample?.activeHandles },
      threads: { afterWarmup: first?.threads, end: lastSample?.threads },
      workerRestarts: lastSample?.pool?.workerRestarts,
      workerKills: kills,
      openFileDescriptors: { afterWarmup: first?.openFileDescriptors, end: lastSample?.openFileDescriptors },
      examples: tally.examples,
    },
    durationMs,
    answers: run.answers,
    samples: sampler.samples,
  });
}
