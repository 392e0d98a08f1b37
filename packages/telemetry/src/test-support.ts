/**
 * Helpers of this package's tests: a metric reader read on demand, data point lookups, a strict
 * check of Prometheus text exposition, and the tools the test scripts call.
 */
import type { Attributes } from '@opentelemetry/api';
import { type DataPoint, type Histogram, MetricReader } from '@opentelemetry/sdk-metrics';
import { type AnyTool, defineTool } from '@script-harness/core';
import { z } from 'zod';

export class TestMetricReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}

  /** The data points of one metric, by its name. */
  async points(name: string): Promise<DataPoint<number | Histogram>[]> {
    const { resourceMetrics } = await this.collect();
    const metric = resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .find((candidate) => candidate.descriptor.name === name);
    return (metric?.dataPoints ?? []) as DataPoint<number | Histogram>[];
  }

  /** The value of the counter or gauge point with exactly these attributes. */
  async value(name: string, attributes: Attributes): Promise<number | undefined> {
    const point = (await this.points(name)).find((candidate) => sameAttributes(candidate.attributes, attributes));
    return point === undefined ? undefined : (point.value as number);
  }

  /** The histogram point with exactly these attributes. */
  async histogram(name: string, attributes: Attributes): Promise<Histogram | undefined> {
    const point = (await this.points(name)).find((candidate) => sameAttributes(candidate.attributes, attributes));
    return point === undefined ? undefined : (point.value as Histogram);
  }

  /** Every value of one label across the points of a metric. */
  async labelValues(name: string, label: string): Promise<string[]> {
    const values = (await this.points(name)).map((point) => point.attributes[label]);
    return [...new Set(values.filter((value): value is string => typeof value === 'string'))].sort();
  }
}

function sameAttributes(actual: Attributes, expected: Attributes): boolean {
  const keys = Object.keys(actual);
  return keys.length === Object.keys(expected).length && keys.every((key) => actual[key] === expected[key]);
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\["\\\\n])*"';
const SAMPLE = new RegExp(
  `^(${NAME})(?:\\{${LABEL}(?:,${LABEL})*\\})? (?:[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?|[-+]Inf|NaN)$`,
);
const HELP = new RegExp(`^# HELP (${NAME}) .*$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);

/**
 * Checks Prometheus text exposition (format 0.0.4) line by line: every sample is well formed
 * and belongs to a family whose TYPE came before it. Returns the families and their types.
 */
export function parsePrometheusText(text: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = TYPE.exec(line);
    if (type !== null) {
      if (families.has(type[1]!)) throw new Error(`family declared twice: ${line}`);
      families.set(type[1]!, type[2]!);
      continue;
    }
    if (HELP.test(line)) continue;
    if (line.startsWith('#')) throw new Error(`unexpected comment line: ${line}`);
    const sample = SAMPLE.exec(line);
    if (sample === null) throw new Error(`malformed sample line: ${line}`);
    const name = sample[1]!;
    const family = families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    if (!families.has(family)) throw new Error(`sample before its TYPE line: ${line}`);
    if (family !== name && families.get(family) !== 'histogram') throw new Error(`suffix on a non-histogram: ${line}`);
  }
  return families;
}

/** Two tools for the scripts of the tests: a lookup and a write. */
export function createLookupTools(): AnyTool[] {
  return [
    defineTool({
      name: 'lookup',
      description: 'Finds a record by id.',
      input: z.strictObject({ id: z.number() }),
      execute: ({ id }) => ({ id, name: `record-${id}` }),
    }),
    defineTool({
      name: 'save',
      description: 'Stores a value.',
      input: z.strictObject({ value: z.string() }),
      execute: () => ({ saved: true }),
    }),
  ];
}
