/** The programmatic entry point: selects rows, measures them in order, resolves ratios. */
import os from 'node:os';
import { FULL_PROFILE, type Profile, QUICK_PROFILE } from './measure.ts';
import { type BenchReport, buildReport, type MeasuredRow, type Measurement, resolveRatios } from './report.ts';
import type { BenchRow, RunContext } from './row.ts';
import { floorRows } from './suites/floors.ts';
import { harnessRows } from './suites/harness.ts';
import { infraRows } from './suites/infra.ts';
import { peerRows } from './suites/peers.ts';

/** Every row, in measuring order: floors first, so a baseline is measured before what it is compared with. */
export const ALL_ROWS: readonly BenchRow[] = [...floorRows, ...harnessRows, ...peerRows, ...infraRows];

export interface RunBenchOptions {
  /** Row ids or parts of ids; a term equal to an id selects only that row. Default: every row. */
  readonly filter?: readonly string[];
  /** The short profile (a whole run under a minute). */
  readonly quick?: boolean;
  /** Adjustments on top of the chosen profile (tests use tiny iteration counts). */
  readonly profile?: Partial<Profile>;
  /** Progress lines; default: none. */
  readonly log?: (message: string) => void;
  /** The rows to choose from (default: `ALL_ROWS`). */
  readonly rows?: readonly BenchRow[];
}

/**
 * The rows `filter` selects, plus the baselines they are compared with (a figure is only ever
 * compared with a baseline from the same run), in registry order. An unmatched term is an error.
 */
export function selectRows(rows: readonly BenchRow[], filter: readonly string[] | undefined): BenchRow[] {
  if (filter === undefined || filter.length === 0) return [...rows];
  const ids = new Set(rows.map((row) => row.id));
  const wanted = new Set<string>();
  for (const term of filter) {
    const matches = ids.has(term) ? [term] : rows.filter((row) => row.id.includes(term)).map((row) => row.id);
    if (matches.length === 0) throw new Error(`--filter ${term} matches no row; rows: ${[...ids].join(', ')}`);
    for (const id of matches) wanted.add(id);
  }
  const byId = new Map(rows.map((row) => [row.id, row]));
  for (const id of [...wanted]) {
    let baseline = byId.get(id)?.baselineId;
    while (baseline !== undefined && !wanted.has(baseline) && byId.has(baseline)) {
      wanted.add(baseline);
      baseline = byId.get(baseline)?.baselineId;
    }
  }
  return rows.filter((row) => wanted.has(row.id));
}

export function describeCpu(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'} (${os.availableParallelism()} cores)`;
}

/** Runs the selected rows one after the other and returns the report. A row that throws is reported with its error. */
export async function runBench(options: RunBenchOptions = {}): Promise<BenchReport> {
  const profile: Profile = { ...(options.quick ? QUICK_PROFILE : FULL_PROFILE), ...options.profile };
  const log = options.log ?? (() => {});
  const resources = new Map<string, Promise<unknown>>();
  const disposers: (() => Promise<void> | void)[] = [];
  const context: RunContext = {
    profile,
    log,
    shared<T>(key: string, create: () => Promise<T>, dispose?: (value: T) => Promise<void> | void): Promise<T> {
      let resource = resources.get(key) as Promise<T> | undefined;
      if (resource === undefined) {
        resource = create();
        resources.set(key, resource);
        if (dispose !== undefined) {
          const created = resource;
          disposers.push(async () => dispose(await created));
        }
      }
      return resource;
    },
  };
  const measured: MeasuredRow[] = [];
  try {
    for (const row of selectRows(options.rows ?? ALL_ROWS, options.filter)) {
      const started = performance.now();
      let measurement: Measurement;
      try {
        measurement = await row.measure(context);
      } catch (error) {
        measurement = { note: `error: ${error instanceof Error ? error.message : String(error)}` };
      }
      log(
        `${row.id} (${((performance.now() - started) / 1000).toFixed(1)} s)${measurement.note?.startsWith('error: ') ? ` ${measurement.note}` : ''}`,
      );
      measured.push({
        id: row.id,
        ...(row.baselineId === undefined ? {} : { baselineId: row.baselineId }),
        ...(row.compareBy === undefined ? {} : { compareBy: row.compareBy }),
        measurement,
      });
    }
  } finally {
    for (const dispose of disposers.reverse()) {
      try {
        await dispose();
      } catch {
        // A failed release at the end of a run does not change any figure.
      }
    }
  }
  return buildReport(resolveRatios(measured), { node: process.version, cpu: describeCpu(), date: new Date() });
}
