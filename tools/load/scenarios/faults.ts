/**
 * `faults`: load while things break. For most of the run the driver terminates the server's
 * sandbox workers at random moments (as a crash would), while scripts call tools that fail, throw
 * non-errors, hang until aborted, or stall like a slow disk that ignores the abort. Then the
 * killing stops and the pool must heal: back at full size, and a batch of plain scripts all
 * succeed. Last, SIGTERM arrives mid-load: requests sent after it are refused with 503 SHUTDOWN,
 * and the process exits 0. Through all of it every accepted request ends with its result or a
 * typed error (a killed worker's scripts end as INTERNAL, or are retried when they had made no
 * tool call), never without an answer.
 */
import type { Answer } from '../client.ts';
import { createLoadClient } from '../client.ts';
import { createRandom, runClosedLoop, runOpenLoop, sleep, startSampler } from '../driver.ts';
import { buildReport, type Check, type LoadReport, noneDuplicatedCheck } from '../report.ts';
import {
  crashingToolScript,
  EXPECTED_CODE,
  failingToolScript,
  hangingToolScript,
  stallingToolScript,
  toolScript,
} from '../scripts.ts';
import { startServerProcess } from '../server-process.ts';
import { round1, summarizeLatency, tallyAnswers } from '../stats.ts';

export interface FaultsOptions {
  /** Load with faults before the pool must heal. Default 20 s. */
  readonly durationMs?: number;
  /** Requests per second. Default 20. */
  readonly rate?: number;
  readonly seed?: number;
}

const POOL_SIZE = 2;
/** Codes a script may end with when its worker is killed under it, or the server shuts down. */
const FAULT_CODES = new Set(['INTERNAL', 'SHUTDOWN']);
/** Time for the server process to handle SIGTERM after the driver sends it. */
const SIGNAL_MARGIN_MS = 200;

export async function runFaults(options: FaultsOptions = {}): Promise<LoadReport> {
  const durationMs = options.durationMs ?? 20_000;
  const rate = options.rate ?? 20;
  const server = await startServerProcess({
    HARNESS_POOL_SIZE: String(POOL_SIZE),
    HARNESS_QUEUE_CONCURRENCY: '16',
    HARNESS_QUEUE_MAX_QUEUED: '256',
    HARNESS_SHUTDOWN_GRACE_MS: '3000',
  });
  const origin = performance.now();
  const client = createLoadClient({ url: server.url, connections: 64, origin });
  const sampler = startSampler(server, { intervalMs: 500, gc: false, origin });
  const random = createRandom(options.seed ?? 1);
  const next = (phase: string) => (sequence: number) => {
    const id = `${phase}-${sequence}`;
    const pick = random();
    if (pick < 0.6) return toolScript(id, [10 + Math.floor(random() * 191)]);
    if (pick < 0.7) return failingToolScript(id);
    if (pick < 0.8) return crashingToolScript(id);
    if (pick < 0.9) return hangingToolScript(id, 500);
    return stallingToolScript(id, 300, 1_500);
  };

  const kills: number[] = [];
  let healed: { size: number; restarts: number } | undefined;
  let heal: Awaited<ReturnType<typeof runClosedLoop>> | undefined;
  let sigtermAtMs = Number.NaN;
  const answers: Answer[] = [];
  try {
    // Phase 1: load, and workers killed every 0.5–2.5 s.
    const killing = new AbortController();
    const killer = (async () => {
      while (!killing.signal.aborted) {
        await sleep(500 + random() * 2_000);
        if (killing.signal.aborted) break;
        kills.push(performance.now() - origin);
        await server.killWorkers();
      }
    })();
    const faulty = runOpenLoop({ client, rate, durationMs, maxInFlight: 64, next: next('fault') });
    await sleep(durationMs * 0.8);
    killing.abort();
    await killer;
    answers.push(...(await faulty).answers);

    // Phase 2: the pool heals.
    for (let waited = 0; waited < 10_000; waited += 100) {
      const sample = await server.sample();
      if (sample.pool?.size === POOL_SIZE) {
        healed = { size: sample.pool.size, restarts: sample.pool.workerRestarts };
        break;
      }
      await sleep(100);
    }
    heal = await runClosedLoop({
      client,
      clients: 8,
      requestsPerClient: 4,
      next: (c, s) => toolScript(`heal-${c}-${s}`, [10 + Math.floor(random() * 91)]),
    });
    answers.push(...heal.answers);

    // Phase 3: SIGTERM in the middle of load, with a few long scripts running that the grace
    // period lets finish (so the server is still answering while it shuts down); the driver keeps
    // sending for 1.5 s after the signal.
    const long = Promise.all(
      Array.from({ length: 4 }, (_, index) =>
        client.runScript({ ...toolScript(`long-${index}`, [2_500]), label: 'long' }),
      ),
    );
    const shutdownLoad = runOpenLoop({ client, rate, durationMs: 3_000, maxInFlight: 64, next: next('shutdown') });
    await sleep(1_500);
    sigtermAtMs = performance.now() - origin;
    server.signal('SIGTERM');
    answers.push(...(await shutdownLoad).answers, ...(await long));
  } finally {
    await sampler.stop();
    client.close();
  }
  const exit = await server.exited;
  const totalMs = performance.now() - origin;

  // A connection refused or reset after SIGTERM is a request the server never accepted: once
  // every accepted request is answered the listener closes, and idle keep-alive connections with
  // it (a request written to one at that moment meets a reset).
  const refusedAfterShutdown = new Set(
    answers.filter(
      (a) =>
        a.kind === 'lost' && a.sentAtMs >= sigtermAtMs && /ECONNREFUSED|ECONNRESET|socket hang up/.test(a.detail ?? ''),
    ),
  );
  const accepted = answers.filter((a) => !refusedAfterShutdown.has(a) && a.kind !== 'rejected');
  const tally = tallyAnswers(answers.filter((a) => !refusedAfterShutdown.has(a)));
  const unexpected = accepted.filter((a) => {
    if (a.kind === 'lost' || a.kind === 'untyped') return true;
    const expected = EXPECTED_CODE[a.label === 'long' ? 'normal' : a.label];
    if (expected === null && a.kind === 'ok') return false;
    return a.code !== expected && !FAULT_CODES.has(a.code ?? '');
  });
  // A request sent a moment after the signal (the child has handled it by then) is not accepted.
  const afterSigterm = answers.filter(
    (a) => a.sentAtMs >= sigtermAtMs + SIGNAL_MARGIN_MS && !refusedAfterShutdown.has(a),
  );
  const badAfterSigterm = afterSigterm.filter((a) => !(a.kind === 'rejected' && a.code === 'SHUTDOWN'));
  const healNotOk = (heal?.answers ?? []).filter((a) => a.kind !== 'ok');
  const byLabel: Record<string, Record<string, number>> = {};
  for (const a of answers) {
    const label = a.label;
    const key = refusedAfterShutdown.has(a) ? 'refused at the socket' : a.kind === 'ok' ? 'ok' : (a.code ?? a.kind);
    byLabel[label] ??= {};
    (byLabel[label] as Record<string, number>)[key] = ((byLabel[label] as Record<string, number>)[key] ?? 0) + 1;
  }
  const lastPool = sampler.samples.findLast((s) => s.pool !== null)?.pool;

  const checks: Check[] = [
    {
      name: 'every accepted request answered, typed',
      pass: tally.byKind.lost === 0 && tally.byKind.untyped === 0,
      detail: `${tally.sent} answered (${refusedAfterShutdown.size} refused at the socket after shutdown), ${tally.byKind.lost} lost, ${tally.byKind.untyped} untyped`,
    },
    noneDuplicatedCheck(tally),
    {
      name: 'each ends with its result or a fault code',
      pass: unexpected.length === 0,
      detail:
        unexpected.length === 0
          ? 'every script ended as it must, or INTERNAL (its worker was killed) or SHUTDOWN'
          : `${unexpected.length} did not, e.g. ${JSON.stringify(unexpected.slice(0, 3).map((a) => [a.label, a.kind, a.code, a.detail, `sent at ${round1(a.sentAtMs / 1000)} s`]))}`,
    },
    {
      name: 'workers were terminated',
      pass: kills.length >= 3,
      detail: `${kills.length} times by the driver, every worker each time`,
    },
    {
      name: 'the pool heals',
      pass:
        healed !== undefined &&
        healed.restarts >= kills.length &&
        healNotOk.length === 0 &&
        (heal?.answers.length ?? 0) > 0,
      detail:
        healed === undefined
          ? 'the pool did not return to its size'
          : `back to ${healed.size} workers after ${healed.restarts} restarts; ${(heal?.answers.length ?? 0) - healNotOk.length} of ${heal?.answers.length ?? 0} scripts ok afterwards`,
    },
    {
      name: 'SIGTERM mid-load',
      pass: exit.code === 0 && badAfterSigterm.length === 0 && afterSigterm.length > 0,
      detail: `exit code ${exit.code ?? exit.signal}; ${afterSigterm.length - badAfterSigterm.length} requests sent after it refused with 503 SHUTDOWN and Retry-After, ${badAfterSigterm.length} answered otherwise`,
    },
  ];
  return buildReport({
    scenario: 'faults',
    checks,
    parameters: { durationMs, rate, poolSize: POOL_SIZE, shutdownGraceMs: 3000 },
    figures: {
      answers: tally.byKind,
      codes: tally.byCode,
      byScript: byLabel,
      terminations: kills.length,
      workerRestarts: lastPool?.workerRestarts,
      latencyMs: summarizeLatency(answers.filter((a) => a.kind === 'ok').map((a) => a.latencyMs)),
      sigtermAtSeconds: round1(sigtermAtMs / 1000),
      refusedAtSocketAfterShutdown: refusedAfterShutdown.size,
      examples: tally.examples,
    },
    durationMs: totalMs,
    answers,
    samples: sampler.samples,
  });
}
