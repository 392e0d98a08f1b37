/**
 * `concurrency`: many agents at once. Each of `clients` clients (200 by default, one connection
 * each, so the client side is bounded) sends `requestsPerClient` scripts one after the other; each
 * script awaits one to three `work` calls of 10–200 ms at once. The server runs up to 200 scripts
 * at a time on a pool of two workers. Every request must be answered once, under its own id, with
 * its own value; the server's count of tool executions must equal the calls the answers report.
 */
import { createLoadClient } from '../client.ts';
import { createRandom, runClosedLoop, startSampler } from '../driver.ts';
import { buildReport, type Check, type LoadReport } from '../report.ts';
import { toolScript } from '../scripts.ts';
import { startServerProcess } from '../server-process.ts';
import { round1, summarizeLatency, tallyAnswers } from '../stats.ts';

export interface ConcurrencyOptions {
  /** Default 200. */
  readonly clients?: number;
  /** Default 10. */
  readonly requestsPerClient?: number;
  readonly seed?: number;
}

export async function runConcurrency(options: ConcurrencyOptions = {}): Promise<LoadReport> {
  const clients = options.clients ?? 200;
  const requestsPerClient = options.requestsPerClient ?? 10;
  const poolSize = 2;
  const server = await startServerProcess({
    HARNESS_POOL_SIZE: String(poolSize),
    HARNESS_QUEUE_CONCURRENCY: String(clients),
    HARNESS_QUEUE_MAX_QUEUED: String(clients),
  });
  const origin = performance.now();
  const client = createLoadClient({ url: server.url, connections: clients, origin });
  const sampler = startSampler(server, { intervalMs: 100, gc: false, origin });
  const random = createRandom(options.seed ?? 1);
  const planned = new Map<string, number>();
  let run: Awaited<ReturnType<typeof runClosedLoop>>;
  try {
    run = await runClosedLoop({
      client,
      clients,
      requestsPerClient,
      next: (clientIndex, sequence) => {
        const id = `c${clientIndex}-${sequence}`;
        const waits = Array.from({ length: 1 + Math.floor(random() * 3) }, () => 10 + Math.floor(random() * 191));
        planned.set(id, waits.length);
        return toolScript(id, waits);
      },
    });
  } finally {
    await sampler.stop();
    client.close();
  }
  const durationMs = performance.now() - origin;
  const final = await server.sample();
  await server.stop();
  const exit = await server.exited;

  const tally = tallyAnswers(run.answers);
  const errors = run.answers.length - tally.byKind.ok;
  const reportedCalls = run.answers.reduce((sum, answer) => sum + answer.toolCalls, 0);
  const plannedCalls = [...planned.values()].reduce((sum, calls) => sum + calls, 0);
  const executed = final.toolExecutions.work ?? 0;
  const wrongValues = run.answers.filter(
    (answer) => answer.kind === 'ok' && answer.toolCalls !== planned.get(answer.id),
  ).length;
  const serverPeak = Math.max(0, ...sampler.samples.map((sample) => sample.queue.running + sample.queue.queued));
  const latency = summarizeLatency(run.answers.filter((a) => a.kind !== 'lost').map((a) => a.latencyMs));
  const expected = clients * requestsPerClient;

  const checks: Check[] = [
    {
      name: 'every request answered once',
      pass: tally.sent === expected && tally.byKind.lost === 0 && tally.byKind.untyped === 0 && tally.duplicated === 0,
      detail: `${expected} sent, ${tally.sent} answers, ${tally.byKind.lost} lost, ${tally.byKind.untyped} untyped, ${tally.duplicated} duplicated`,
    },
    {
      name: 'each answer is its own request’s',
      pass: tally.mismatched === 0 && wrongValues === 0,
      detail: `${tally.mismatched} answered under another id, ${wrongValues} with another request's tool calls`,
    },
    {
      name: 'no errors',
      pass: errors === 0,
      detail: `${errors} errors ${JSON.stringify(tally.byCode)}`,
    },
    {
      name: 'every tool call ran exactly once',
      pass: executed === plannedCalls && reportedCalls === plannedCalls,
      detail: `${plannedCalls} planned, ${reportedCalls} reported by the answers, ${executed} executed by the server`,
    },
    {
      name: '100+ scripts in the server at once',
      pass: serverPeak >= Math.min(100, clients),
      detail: `peak ${serverPeak} queued or running (sampled every 100 ms); ${run.maxInFlight} in flight on the client`,
    },
    { name: 'graceful exit', pass: exit.code === 0, detail: `exit code ${exit.code ?? exit.signal}` },
  ];
  return buildReport({
    scenario: 'concurrency',
    checks,
    parameters: { clients, requestsPerClient, poolSize, queueConcurrency: clients, toolWaitMs: [10, 200] },
    figures: {
      requests: tally.sent,
      latencyMs: latency,
      throughputPerSecond: round1(tally.sent / (durationMs / 1000)),
      errors,
      answers: tally.byKind,
      codes: tally.byCode,
      serverPeakInFlight: serverPeak,
      clientPeakInFlight: run.maxInFlight,
      toolCalls: { planned: plannedCalls, executed },
      examples: tally.examples,
    },
    durationMs,
    answers: run.answers,
    samples: sampler.samples,
  });
}
