// The load, soak and failure drivers of harness-server.
//
//   pnpm load <concurrency|soak|exhaustion|faults> [--duration 3m] [--rate N] [--clients N]
//             [--requests N] [--seed N] [--report FILE]
//
// Starts the server in a child process on 127.0.0.1, runs the scenario, writes a JSON report and
// an SVG chart (tools/load/reports/ unless --report names the JSON file), prints a summary and
// exits 1 when the scenario's verdict is a failure (2 on a usage error).
import { parseArgs } from 'node:util';
import { formatSummary, type LoadReport, writeReport } from './report.ts';

const USAGE =
  'usage: pnpm load <concurrency|soak|exhaustion|faults> [--duration 3m] [--rate N] [--clients N] [--requests N] [--seed N] [--report FILE]';

/** `90s`, `3m`, `1h`, `1500ms`, or a number of seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match === null) throw new Error(`not a duration: ${text} (use 90s, 3m, 1h)`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  return value * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
}

function positive(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number (got ${text})`);
  return value;
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { scenario, durationMs, rate, clients, requests, seed, report: reportFile } = parsed;
  const progress = (line: string) => console.log(line);
  let report: LoadReport;
  switch (scenario) {
    case 'concurrency': {
      const { runConcurrency } = await import('./scenarios/concurrency.ts');
      report = await runConcurrency({
        ...(clients === undefined ? {} : { clients }),
        ...(requests === undefined ? {} : { requestsPerClient: requests }),
        ...(seed === undefined ? {} : { seed }),
      });
      break;
    }
    case 'soak': {
      const { runSoak } = await import('./scenarios/soak.ts');
      report = await runSoak({
        durationMs: durationMs ?? 3 * 60_000,
        ...(rate === undefined ? {} : { rate }),
        ...(seed === undefined ? {} : { seed }),
        onProgress: progress,
      });
      break;
    }
    case 'exhaustion': {
      const { runExhaustion } = await import('./scenarios/exhaustion.ts');
      report = await runExhaustion({
        ...(durationMs === undefined ? {} : { overloadMs: durationMs }),
        ...(rate === undefined ? {} : { rate }),
        ...(seed === undefined ? {} : { seed }),
      });
      break;
    }
    case 'faults': {
      const { runFaults } = await import('./scenarios/faults.ts');
      report = await runFaults({
        ...(durationMs === undefined ? {} : { durationMs }),
        ...(rate === undefined ? {} : { rate }),
        ...(seed === undefined ? {} : { seed }),
      });
      break;
    }
  }
  const written = await writeReport(report, reportFile);
  console.log(formatSummary(report));
  console.log(`report: ${written.json}\nchart:  ${written.svg}`);
  return report.pass ? 0 : 1;
}

function parse() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      duration: { type: 'string' },
      rate: { type: 'string' },
      clients: { type: 'string' },
      requests: { type: 'string' },
      seed: { type: 'string' },
      report: { type: 'string' },
    },
  });
  const scenario = positionals[0];
  if (scenario !== 'concurrency' && scenario !== 'soak' && scenario !== 'exhaustion' && scenario !== 'faults') {
    throw new Error(scenario === undefined ? 'name a scenario' : `unknown scenario ${scenario}`);
  }
  if (positionals.length > 1) throw new Error(`unexpected arguments: ${positionals.slice(1).join(' ')}`);
  const applies = scenario === 'concurrency' ? ['clients', 'requests'] : ['duration', 'rate'];
  for (const name of ['duration', 'rate', 'clients', 'requests'] as const) {
    if (values[name] !== undefined && !applies.includes(name))
      throw new Error(`--${name} does not apply to ${scenario}`);
  }
  return {
    scenario,
    durationMs: values.duration === undefined ? undefined : parseDuration(values.duration),
    rate: positive('rate', values.rate),
    clients: positive('clients', values.clients),
    requests: positive('requests', values.requests),
    seed: positive('seed', values.seed),
    report: values.report,
  } as const;
}

if (import.meta.main) process.exitCode = await main();
