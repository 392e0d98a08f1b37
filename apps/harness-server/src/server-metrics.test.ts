import { describe, expect, it } from 'vitest';
import { CounterFamily, createServerMetrics, escapeLabelValue } from './server-metrics.ts';

describe('server metrics', () => {
  it('renders counters in the Prometheus text format', () => {
    const family = new CounterFamily('things_total', 'Things counted.', ['kind', 'tenant']);
    family.inc({ kind: 'a', tenant: 't1' });
    family.inc({ kind: 'a', tenant: 't1' }, 2);
    family.inc({ kind: 'b', tenant: 't2' });
    expect(family.value({ kind: 'a', tenant: 't1' })).toBe(3);
    expect(family.render()).toBe(
      [
        '# HELP things_total Things counted.',
        '# TYPE things_total counter',
        'things_total{kind="a",tenant="t1"} 3',
        'things_total{kind="b",tenant="t2"} 1',
        '',
      ].join('\n'),
    );
  });

  it('escapes label values', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });

  it('renders every family of the server, each with its help and type', () => {
    const metrics = createServerMetrics();
    metrics.executions.inc({ endpoint: 'messages', mode: 'dry-run', tenant: 'alpha' });
    const text = metrics.render();
    for (const name of [
      'harness_server_requests_total',
      'harness_server_executions_total',
      'harness_server_rejections_total',
    ]) {
      expect(text).toContain(`# TYPE ${name} counter`);
    }
    expect(text).toContain('harness_server_executions_total{endpoint="messages",mode="dry-run",tenant="alpha"} 1');
  });
});
