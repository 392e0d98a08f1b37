export { type ChartOptions, escapeXml, parseReport, renderChart } from './chart.ts';
export { FULL_PROFILE, type LatencyFigures, type Profile, QUICK_PROFILE } from './measure.ts';
export {
  type BenchReport,
  type BenchResult,
  buildReport,
  type CompareBy,
  checkTargets,
  describeTarget,
  formatCheck,
  formatTable,
  isNotLanded,
  type MeasuredRow,
  type Measurement,
  NOT_LANDED_PREFIX,
  notLanded,
  parseTargets,
  ratioOf,
  resolveRatios,
  type Target,
  type TargetOutcome,
  type TargetStatus,
  type TargetsFile,
} from './report.ts';
export type { BenchRow, RunContext, SuiteName } from './row.ts';
export { ALL_ROWS, describeCpu, type RunBenchOptions, runBench, selectRows } from './run.ts';
