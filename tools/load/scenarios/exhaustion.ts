/**
 * `exhaustion`: offered load far above capacity. The server runs 8 scripts at a time with 32
 * waiting; each script awaits a 100–200 ms tool call, so it completes about 50 a second, and the
 * driver offers 300 a second. What must hold: the requests the queue cannot take are answered at
 * once with 503 QUEUE_FULL and Retry-After (not left waiting), the accepted ones complete, the
 * queue never holds more than its bound, `/live` keeps answering 200 (the event loop is never
 * more than a second behind), memory stays bounded, and when the load stops the queue drains,
 * `/ready` turns 200 and new requests succeed again.
 */
import { createLoadClient } from '../client.ts';
import { createRandom, runOpenLoop, sleep, startProber, startSampler } from '../driver.ts';
import { buildReport, type Check, type LoadReport } from '../report.ts';
import { toolScript } from '../scripts.ts';
import { startServerProcess } from '../server-process.ts';
import { MB, round1, summarizeLatency, tallyAnswers } from '../stats.ts';

export interface ExhaustionOptions {
  /** How long the overload lasts. Default 20 s. */
  readonly overloadMs?: number;
  /** Offered requests per second during the overload. Default 300. */
  readonly rate?: number;
  readonly seed?: number;
}

const CONCURRENCY = 8;
const MAX_QUEUED = 32;
/** Growth of RSS from before the overload to its peak that still counts as bounded. */
const MAX_RSS_GROWTH_MB = 256;
/** Phases at a gentle rate before and after the overload. */
const CALM_MS = 3_000;
const CALM_RATE = 10;

export async function runExhaustion(options: ExhaustionOptions = {}): Promise<LoadReport> {
  const overloadMs = options.overloadMs ?? 20_000;
  const rate = options.rate ?? 300;
  const server = await startServerProcess({
    HARNESS_POOL_SIZE: '2',
    HARNESS_QUEUE_CONCURRENCY: String(CONCURRENCY),
    HARNESS_QUEUE_MAX_QUEUED: String(MAX_QUEUED),
    HARNESS_QUEUE_RETRY_AFTER_SECONDS: '1',
  });
  const origin = performance.now();
  const client = createLoadClient({ url: server.url, connections: 256, origin });
  const sampler = startSampler(server, { intervalMs: 250, gc: false, origin });
  const prober = startProber(client, '/live', { intervalMs: 100, origin });
  const random = createRandom(options.seed ?? 1);
  const script = (phase: string) => (sequence: number) => {
    const request = toolScript(`${phase}-${sequence}`, [100 + Math.floor(random() * 101)]);
    return { ...request, label: phase };
  };

  let drainedMs = Number.NaN;
  let readyAfter: number | null = null;
  let before: Awaited<ReturnType<typeof runOpenLoop>>;
  let overload: Awaited<ReturnType<typeof runOpenLoop>>;
  let after: Awaited<ReturnType<typeof runOpenLoop>>;
  let overloadStart = 0;
  let overloadEnd = 0;
  try {
    before = await runOpenLoop({
      client,
      rate: CALM_RATE,
      durationMs: CALM_MS,
      maxInFlight: 64,
      next: script('before'),
    });
    overloadStart = performance.now() - origin;
    overload = await runOpenLoop({ client, rate, durationMs: overloadMs, maxInFlight: 256, next: script('overload') });
    overloadEnd = performance.now() - origin;
    // Recovery: the queue drains, /ready turns 200, and calm load is served again.
    const stopAt = performance.now();
    for (let waited = 0; waited < 30_000; waited += 50) {
      const sample = await server.sample();
      if (sample.queue.queued + sample.queue.running === 0) {
        drainedMs = performance.now() - stopAt;
        break;
      }
      await sleep(50);
    }
    readyAfter = (await client.probe('/ready')).status;
    after = await runOpenLoop({ client, rate: CALM_RATE, durationMs: CALM_MS, maxInFlight: 64, next: script('after') });
  } finally {
    await prober.stop();
    await sampler.stop();
    client.close();
  }
  const durationMs = performance.now() - origin;
  await server.stop();
  const exit = await server.exited;

  const all = [...before.answers, ...overload.answers, ...after.answers];
  const tally = tallyAnswers(all);
  const overloadTally = tallyAnswers(overload.answers);
  const accepted = overload.answers.filter((a) => a.kind !== 'rejected');
  const rejected = overload.answers.filter((a) => a.kind === 'rejected');
  const acceptedNotOk = accepted.filter((a) => a.kind !== 'ok');
  const wrongRejections = rejected.filter((a) => a.code !== 'QUEUE_FULL' || a.retryAfter !== '1');
  const peakQueued = Math.max(0, ...sampler.samples.map((s) => s.queue.queued));
  const peakRunning = Math.max(0, ...sampler.samples.map((s) => s.queue.running));
  const baselineRss = sampler.samples.filter((s) => s.atMs < overloadStart).map((s) => s.rssBytes);
  const overloadRss = sampler.samples
    .filter((s) => s.atMs >= overloadStart && s.atMs <= overloadEnd)
    .map((s) => s.rssBytes);
  const rssBefore = Math.max(0, ...baselineRss) / MB;
  const rssPeak = Math.max(0, ...overloadRss) / MB;
  const liveFailures = prober.probes.filter((p) => p.status !== 200);
  const calmAfterNotOk = after.answers.filter((a) => a.kind !== 'ok');

  const checks: Check[] = [
    {
      name: 'every request answered, typed',
      pass: tally.byKind.lost === 0 && tally.byKind.untyped === 0 && tally.duplicated === 0 && tally.mismatched === 0,
      detail: `${tally.sent} sent, ${tally.byKind.lost} lost, ${tally.byKind.untyped} untyped, ${tally.duplicated} duplicated, ${tally.mismatched} crossed`,
    },
    {
      name: 'overload refused with 503 and Retry-After',
      pass: rejected.length > 0 && wrongRejections.length === 0,
      detail: `${rejected.length} of ${overload.answers.length} refused with 503 QUEUE_FULL, Retry-After: 1; ${wrongRejections.length} otherwise`,
    },
    {
      name: 'accepted requests completed',
      pass: acceptedNotOk.length === 0,
      detail: `${accepted.length} accepted during the overload, ${acceptedNotOk.length} did not end ok`,
    },
    {
      name: 'queue within its bound',
      pass: peakQueued <= MAX_QUEUED && peakRunning <= CONCURRENCY,
      detail: `peak ${peakQueued} waiting (bound ${MAX_QUEUED}), ${peakRunning} running (bound ${CONCURRENCY})`,
    },
    {
      name: '/live answered 200 throughout',
      pass: prober.probes.length > 0 && liveFailures.length === 0,
      detail: `${prober.probes.length} probes, ${liveFailures.length} not 200`,
    },
    {
      name: 'memory bounded',
      pass: rssPeak - rssBefore <= MAX_RSS_GROWTH_MB,
      detail: `RSS ${round1(rssBefore)} MB before, peak ${round1(rssPeak)} MB under overload (bound +${MAX_RSS_GROWTH_MB} MB)`,
    },
    {
      name: 'recovers when the load stops',
      pass: Number.isFinite(drainedMs) && readyAfter === 200 && calmAfterNotOk.length === 0 && after.answers.length > 0,
      detail: `queue empty ${round1(drainedMs)} ms after the last answer to the overload, /ready ${readyAfter}, ${after.answers.length - calmAfterNotOk.length} of ${after.answers.length} calm requests ok afterwards`,
    },
    { name: 'graceful exit', pass: exit.code === 0, detail: `exit code ${exit.code ?? exit.signal}` },
  ];
  return buildReport({
    scenario: 'exhaustion',
    checks,
    parameters: {
      overloadMs,
      rate,
      concurrency: CONCURRENCY,
      maxQueued: MAX_QUEUED,
      calmRate: CALM_RATE,
      calmMs: CALM_MS,
    },
    figures: {
      offered: overload.answers.length + overload.notSent,
      notSentByDriver: overload.notSent,
      overloadAnswers: overloadTally.byKind,
      acceptedLatencyMs: summarizeLatency(accepted.map((a) => a.latencyMs)),
      rejectedLatencyMs: summarizeLatency(rejected.map((a) => a.latencyMs)),
      calmLatencyMsBefore: summarizeLatency(before.answers.map((a) => a.latencyMs)),
      calmLatencyMsAfter: summarizeLatency(after.answers.map((a) => a.latencyMs)),
      liveLatencyMs: summarizeLatency(prober.probes.map((p) => p.latencyMs)),
      maxEventLoopLagMs: round1(Math.max(0, ...sampler.samples.map((s) => s.eventLoopLagMs))),
      rssMb: { before: round1(rssBefore), peak: round1(rssPeak) },
      drainedMs: round1(drainedMs),
      examples: tally.examples,
    },
    durationMs,
    answers: all,
    samples: sampler.samples,
  });
}
