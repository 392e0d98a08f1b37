// The alert rules and the dashboard in docs/ops must parse and must only use metrics this
// package exports, so renaming a metric without updating them fails here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HARNESS_METRIC_NAMES } from './metrics.ts';

const read = (name: string) => readFileSync(new URL(`../../../docs/ops/${name}`, import.meta.url), 'utf8');
const KNOWN = new Set<string>(HARNESS_METRIC_NAMES);

/** The harness_* metric families an expression uses (histogram series mapped to their family). */
function metricsIn(expression: string): string[] {
  return [...expression.matchAll(/\bharness_[a-z_]+/g)].map((match) => {
    const name = match[0];
    return KNOWN.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
  });
}

function balanced(expression: string): boolean {
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  for (const character of expression.replace(/"[^"]*"/g, '""')) {
    if ('([{'.includes(character)) stack.push(character);
    else if (character in pairs && stack.pop() !== pairs[character]) return false;
  }
  return stack.length === 0;
}

interface Rule {
  alert?: unknown;
  expr?: unknown;
  for?: unknown;
  labels?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

describe('docs/ops', () => {
  it('alerts.yaml: Prometheus rule groups over exported metrics', () => {
    const document = parse(read('alerts.yaml')) as { groups?: { name?: unknown; rules?: Rule[] }[] };
    expect(Array.isArray(document.groups)).toBe(true);
    const groups = document.groups!;
    expect(new Set(groups.map((group) => group.name)).size).toBe(groups.length);
    const alerts = new Map<string, string>();
    for (const group of groups) {
      expect(typeof group.name).toBe('string');
      expect(group.rules?.length).toBeGreaterThan(0);
      for (const rule of group.rules!) {
        expect(typeof rule.alert, JSON.stringify(rule)).toBe('string');
        expect(typeof rule.expr).toBe('string');
        const expr = rule.expr as string;
        expect(balanced(expr), expr).toBe(true);
        expect(rule.for === undefined || /^\d+[smh]$/.test(String(rule.for))).toBe(true);
        expect(['critical', 'warning', 'info']).toContain(rule.labels?.severity);
        expect(typeof rule.annotations?.summary).toBe('string');
        const used = metricsIn(expr);
        expect(used.length, expr).toBeGreaterThan(0);
        for (const name of used) expect(KNOWN, `${rule.alert as string}: ${name}`).toContain(name);
        expect(alerts.has(rule.alert as string)).toBe(false);
        alerts.set(rule.alert as string, expr);
      }
    }
    // The conditions operators asked for: error rate, timeouts, backlog, restarts, approvals, p99.
    expect(alerts.get('HarnessScriptErrorRateHigh')).toContain('outcome="error"');
    expect(alerts.get('HarnessScriptTimeoutsHigh')).toContain('code="TIMEOUT"');
    expect(alerts.get('HarnessQueueBacklog')).toContain('harness_jobs_queued');
    expect(alerts.get('HarnessWorkerRestartsHigh')).toContain('harness_worker_restarts_total');
    expect(alerts.get('HarnessApprovalBacklog')).toContain('harness_approvals_pending');
    expect(alerts.get('HarnessScriptDurationP99High')).toContain('histogram_quantile(0.99');
  });

  it('dashboard.json: a Grafana dashboard with a panel for every exported metric', () => {
    const dashboard = JSON.parse(read('dashboard.json')) as {
      uid?: unknown;
      title?: unknown;
      panels?: { id: number; type: string; gridPos?: unknown; targets?: { expr?: unknown; refId?: unknown }[] }[];
    };
    expect(dashboard.uid).toBe('script-harness');
    expect(typeof dashboard.title).toBe('string');
    const panels = dashboard.panels ?? [];
    expect(new Set(panels.map((panel) => panel.id)).size).toBe(panels.length);
    const covered = new Set<string>();
    for (const panel of panels) {
      expect(panel.gridPos).toBeDefined();
      if (panel.type === 'row') continue;
      expect(panel.targets?.length).toBeGreaterThan(0);
      for (const target of panel.targets!) {
        expect(typeof target.refId).toBe('string');
        const expr = target.expr as string;
        expect(balanced(expr), expr).toBe(true);
        for (const name of metricsIn(expr)) {
          expect(KNOWN, `${name} in ${expr}`).toContain(name);
          covered.add(name);
        }
      }
    }
    expect([...covered].sort()).toEqual([...HARNESS_METRIC_NAMES].sort());
  });
});
