/**
 * Counters only the server can keep, served on `/metrics` after the harness metrics of
 * `@script-harness/telemetry`: requests by route and status, executions by endpoint, mode and
 * tenant (dry-run and disabled requests never reach the engine's hooks), and refusals by reason.
 * Label values come from closed sets: route patterns, status codes, the modes, and the configured
 * tenant names.
 */

type Labels = Readonly<Record<string, string>>;

export class CounterFamily {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly #series = new Map<string, { labels: Labels; value: number }>();

  constructor(name: string, help: string, labelNames: readonly string[]) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  inc(labels: Labels, by = 1): void {
    const key = this.labelNames.map((name) => labels[name] ?? '').join('\u0000');
    const series = this.#series.get(key);
    if (series === undefined) this.#series.set(key, { labels: { ...labels }, value: by });
    else series.value += by;
  }

  value(labels: Labels): number {
    return this.#series.get(this.labelNames.map((name) => labels[name] ?? '').join('\u0000'))?.value ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.#series.values()) {
      const rendered = this.labelNames.map((name) => `${name}="${escapeLabelValue(labels[name] ?? '')}"`).join(',');
      lines.push(`${this.name}{${rendered}} ${value}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

export interface ServerMetrics {
  readonly requests: CounterFamily;
  readonly executions: CounterFamily;
  readonly rejections: CounterFamily;
  render(): string;
}

export function createServerMetrics(): ServerMetrics {
  const requests = new CounterFamily('harness_server_requests_total', 'HTTP requests answered, by route and status.', [
    'method',
    'route',
    'status',
  ]);
  const executions = new CounterFamily(
    'harness_server_executions_total',
    'Script and message requests accepted, by endpoint, execution mode and tenant.',
    ['endpoint', 'mode', 'tenant'],
  );
  const rejections = new CounterFamily(
    'harness_server_rejections_total',
    'Requests refused before running, by reason (queue_full, shutdown, rate_limited, unauthorized).',
    ['reason'],
  );
  return {
    requests,
    executions,
    rejections,
    render: () => [requests, executions, rejections].map((family) => family.render()).join(''),
  };
}

/** Prometheus text format: backslash, double quote and newline are escaped in label values. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
