/** What a suite defines: one row of the report, with the function that measures it. */
import type { Profile } from './measure.ts';
import type { CompareBy, Measurement } from './report.ts';

export type SuiteName = 'floors' | 'harness' | 'peers' | 'infra';

export interface BenchRow {
  readonly id: string;
  readonly suite: SuiteName;
  /** What the row measures, in one line (shown by `--help` and in the README). */
  readonly title: string;
  /** The row this one is compared with; it is always measured in the same run. */
  readonly baselineId?: string;
  /** Which figures the ratio divides (default: p50 latency). */
  readonly compareBy?: CompareBy;
  /**
   * Measures the row, or returns `notLanded(...)` when the feature it needs is not in the product
   * yet. Availability is probed at run time, so the row lights up when the feature lands.
   */
  readonly measure: (context: RunContext) => Promise<Measurement>;
}

export interface RunContext {
  readonly profile: Profile;
  /**
   * A resource shared by the rows of one run (a loaded WebAssembly module, a runtime), created on
   * first use and released by `dispose` at the end of the run.
   */
  shared<T>(key: string, create: () => Promise<T>, dispose?: (value: T) => Promise<void> | void): Promise<T>;
  /** Progress for the terminal (stderr); never part of the report. */
  log(message: string): void;
}
