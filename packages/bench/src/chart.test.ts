import { describe, expect, it } from 'vitest';
import { escapeXml, parseReport, renderChart } from './chart.ts';
import { type BenchReport, type BenchResult, NOT_LANDED_PREFIX, type Target } from './report.ts';

const row = (id: string, figures: Partial<BenchResult> = {}): BenchResult => ({
  id,
  p50Ms: null,
  p99Ms: null,
  opsPerSec: null,
  ...figures,
});

const report: BenchReport = {
  node: 'v24.0.0',
  cpu: 'Test <CPU> & "Co" (2 cores)',
  date: '2026-01-02T03:04:05.000Z',
  results: [
    row('floor.a', { p50Ms: 0.1, p99Ms: 0.2, opsPerSec: 10_000 }),
    row('floor.t', { opsPerSec: 2000, unit: 'scripts/s', value: 2000 }),
    row('ours.a', { p50Ms: 0.7, p99Ms: 1.1, opsPerSec: 1400, baselineId: 'floor.a', ratio: 7 }),
    row('ours.t', { opsPerSec: 1500, unit: 'scripts/s', value: 1500, baselineId: 'floor.t', ratio: 0.75 }),
    row('peer.a', { p50Ms: 4, baselineId: 'floor.a', ratio: 40 }),
    row('huge', { p50Ms: 50, ratio: 5000, note: 'vs something <in row>' }),
    row('later', { baselineId: 'floor.a', note: `${NOT_LANDED_PREFIX}pool mode` }),
    row('overhead', { p50Ms: 1, unit: '×', value: 1.01, ratio: 1.01 }),
    row('memory', { unit: 'KB', value: 120, ratio: 2 }),
    row('sched', { p50Ms: 0.001, unit: 'µs', value: 0.5 }),
    row('wave', { p50Ms: 800, unit: '× ideal', value: 16, ratio: 16 }),
  ],
};

const targets: Target[] = [
  { id: 'ours.a', baselineId: 'floor.a', max: 2 },
  { id: 'ours.t', baselineId: 'floor.t', metric: 'opsPerSec', min: 0.7 },
  { id: 'overhead', unit: '×', max: 1.02 },
  { id: 'memory', unit: 'KB', max: 150 },
  { id: 'sched', unit: 'µs', max: 50 },
  { id: 'ours.a', baselineId: 'peer.a', max: 0.2 },
  { id: 'later', baselineId: 'floor.a', max: 1.5 },
];

/**
 * A tiny well-formedness check, no DOM parser: every tag is closed in order, attribute values are
 * quoted and free of `<`, and text holds no `<` and no `&` outside an entity. Returns the tag names.
 */
function checkXml(xml: string): string[] {
  const body = xml.replace(/^<\?xml [^?]*\?>\s*/, '');
  const stack: string[] = [];
  const names: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  const entity = /^&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/;
  let at = 0;
  while (at < body.length) {
    if (body[at] === '<') {
      tag.lastIndex = at;
      const match = tag.exec(body);
      if (match === null) throw new Error(`malformed tag at ${at}: ${body.slice(at, at + 60)}`);
      const [whole, closing, name, attributes, selfClosing] = match;
      for (const value of attributes!.matchAll(/="([^"]*)"/g)) {
        if (/&(?!(amp|lt|gt|quot|apos);)/.test(value[1]!)) throw new Error(`raw & in attribute of <${name}>`);
      }
      if (closing === '/') {
        const open = stack.pop();
        if (open !== name) throw new Error(`</${name}> closes <${open}>`);
      } else {
        names.push(name!);
        if (selfClosing !== '/') stack.push(name!);
      }
      at += whole.length;
    } else {
      const next = body.indexOf('<', at);
      const chunk = body.slice(at, next === -1 ? body.length : next);
      if (stack.length === 0 && chunk.trim() !== '') throw new Error(`text outside the root: ${chunk.slice(0, 40)}`);
      for (let i = chunk.indexOf('&'); i !== -1; i = chunk.indexOf('&', i + 1)) {
        if (!entity.test(chunk.slice(i))) throw new Error(`unescaped & in text: ${chunk.slice(i, i + 20)}`);
      }
      at = next === -1 ? body.length : next;
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  return names;
}

const count = (svg: string, pattern: RegExp) => [...svg.matchAll(pattern)].length;

describe('checkXml (the test helper)', () => {
  it('accepts well-formed markup and rejects broken markup', () => {
    expect(checkXml('<svg><g a="1"><text>x &amp; y</text></g><rect/></svg>')).toEqual(['svg', 'g', 'text', 'rect']);
    expect(() => checkXml('<svg><g></svg>')).toThrow();
    expect(() => checkXml('<svg><text>a & b</text></svg>')).toThrow(/unescaped/);
    expect(() => checkXml('<svg><text>a < b</text></svg>')).toThrow(/malformed/);
    expect(() => checkXml('<svg><g a="x & y"/></svg>')).toThrow(/raw &/);
  });
});

describe('escapeXml', () => {
  it('escapes the five XML special characters', () => {
    expect(escapeXml(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;');
  });
});

describe('renderChart', () => {
  const svg = renderChart(report, { targets });

  it('is one well-formed, self-contained SVG document', () => {
    const names = checkXml(svg);
    expect(names[0]).toBe('svg');
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).not.toMatch(/<script|<image|@import|@font-face|url\(|href=/i);
    expect(svg).toMatch(/width="900"/);
  });

  it('escapes text taken from the report', () => {
    expect(svg).toContain('Test &lt;CPU&gt; &amp; &quot;Co&quot; (2 cores)');
    expect(svg).not.toContain('<CPU>');
  });

  it('draws one bar per row with a ratio or not landed, and one per cross-row target', () => {
    const withBars = report.results.filter((r) => r.ratio !== undefined || r.note?.startsWith(NOT_LANDED_PREFIX));
    // ours.a ÷ peer.a is a target against another row than its baseline: it gets its own bar.
    expect(count(svg, /class="bar( not-landed)?"/g)).toBe(withBars.length + 1);
    for (const result of withBars) {
      expect(count(svg, new RegExp(`class="bar[^"]*" data-id="${result.id.replace('.', '\\.')}"`, 'g'))).toBe(
        result.id === 'ours.a' ? 2 : 1,
      );
    }
  });

  it('shows rows that have not landed greyed, marked "not landed", without a ratio bar', () => {
    expect(svg).toMatch(/class="bar not-landed" data-id="later"/);
    const group = svg.match(/<g class="row" data-id="later">.*?<\/g>/)?.[0] ?? '';
    expect(group).toContain('not landed');
    expect(group).toContain('greyed');
    expect(group).not.toMatch(/class="bar" /);
  });

  it('marks a target line where targets.json has one that bounds the drawn ratio', () => {
    const lines = [...svg.matchAll(/<line class="target" data-id="([^"]+)"/g)].map((match) => match[1]);
    // ours.a twice (vs its baseline, vs the peer), ours.t, overhead (a value in × that is the ratio), later.
    expect(lines.sort()).toEqual(['later', 'ours.a', 'ours.a', 'ours.t', 'overhead']);
    // The KB target bounds a value, not the ratio: it is listed, not drawn.
    expect(svg).toContain('memory ≤ 150 KB: 120 KB');
  });

  it('colours bars by target outcome and lists every target', () => {
    expect(svg).toMatch(/class="bar" data-id="ours\.a"[^>]*fill="#c9372c"/); // 7× > 2: missed
    expect(svg).toMatch(/class="bar" data-id="ours\.t"[^>]*fill="#2a8a3e"/); // 0.75 ≥ 0.7: met
    expect(count(svg, />(met|missed|skipped)<\/tspan>/g)).toBe(targets.length);
  });

  it('gives every row with targets a status, value targets included', () => {
    const status = (id: string) =>
      [...svg.matchAll(new RegExp(`<g class="row" data-id="${id}">(.*?)</g>`, 'g'))].map(
        (match) => match[1]!.match(/>(met|missed|skipped)<\/text>/)?.[1],
      );
    expect(status('ours\\.a')).toEqual(['missed', 'met']); // vs its baseline, then vs the peer
    expect(status('memory')).toEqual(['met']); // 120 KB ≤ 150, a target on the value
    expect(status('sched')).toEqual(['met']);
    expect(status('peer\\.a')).toEqual([undefined]);
  });

  it('prints the value of a row without a ratio, and names an in-row baseline its unit gives', () => {
    expect(svg).toMatch(/<g class="row" data-id="sched">.*>0\.500 µs<.*\(no ratio\)/);
    expect(svg).toMatch(/<g class="row" data-id="wave">.*÷ ideal/);
  });

  it('caps a ratio beyond the axis and still prints it', () => {
    expect(svg).toContain('5,000×');
    expect(svg).toMatch(/<path d="M520 /);
  });

  it('has a table of absolute figures, p50 ms or value with its unit', () => {
    const figures = [...svg.matchAll(/<g class="figures" data-id="([^"]+)">(.*?)<\/g>/g)];
    expect(figures.map((match) => match[1])).toEqual(report.results.map((r) => r.id));
    const of = (id: string) => figures.find((match) => match[1] === id)?.[2] ?? '';
    expect(of('ours.a')).toContain('>0.700<');
    expect(of('ours.t')).toContain('>1,500 scripts/s<');
    expect(of('memory')).toContain('>120.0 KB<');
    expect(of('later')).toContain('>not landed<');
  });

  it('renders without targets, and refuses a file that is not a report', () => {
    const plain = renderChart(report);
    checkXml(plain);
    expect(plain).not.toContain('class="target"');
    expect(parseReport(JSON.parse(JSON.stringify(report)))).toEqual(report);
    expect(() => parseReport({ results: [] })).toThrow(/node/);
    expect(() => parseReport({ node: 'v', cpu: 'c', date: 'd', results: [{}] })).toThrow(/no id/);
  });
});
