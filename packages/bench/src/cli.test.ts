import { describe, expect, it } from 'vitest';
import { isChartCommand, parseChartArgs, parseCliArgs, USAGE } from './cli.ts';

describe('parseCliArgs', () => {
  it('defaults to a full run of every row', () => {
    expect(parseCliArgs([])).toEqual({ filter: [], quick: false, check: false, help: false });
  });

  it('reads --quick, --check and --json', () => {
    expect(parseCliArgs(['--quick', '--check', '--json', 'out/bench.json'])).toEqual({
      filter: [],
      json: 'out/bench.json',
      quick: true,
      check: true,
      help: false,
    });
  });

  it('accepts repeated and comma-separated filters', () => {
    expect(parseCliArgs(['--filter', 'floor.quickjs.fresh,harness', '--filter', 'serialize']).filter).toEqual([
      'floor.quickjs.fresh',
      'harness',
      'serialize',
    ]);
  });

  it('ignores the `--` separator pnpm forwards', () => {
    expect(parseCliArgs(['--', '--quick']).quick).toBe(true);
  });

  it('refuses unknown options and stray arguments', () => {
    expect(() => parseCliArgs(['--fast'])).toThrow();
    expect(() => parseCliArgs(['harness'])).toThrow();
  });

  it('reads --svg next to --json', () => {
    expect(parseCliArgs(['--json', 'out/bench.json', '--svg', 'out/bench.svg'])).toMatchObject({
      json: 'out/bench.json',
      svg: 'out/bench.svg',
    });
  });

  it('documents every option', () => {
    for (const option of ['--filter', '--json', '--svg', '--quick', '--check', 'chart --from']) {
      expect(USAGE).toContain(option);
    }
  });
});

describe('chart command', () => {
  it('is recognised, with or without the `--` separator', () => {
    expect(isChartCommand(['chart', '--from', 'a.json', '--svg', 'a.svg'])).toBe(true);
    expect(isChartCommand(['--', 'chart'])).toBe(true);
    expect(isChartCommand(['--quick'])).toBe(false);
  });

  it('needs --from and --svg', () => {
    expect(parseChartArgs(['chart', '--from', 'a.json', '--svg', 'a.svg'])).toEqual({ from: 'a.json', svg: 'a.svg' });
    expect(() => parseChartArgs(['chart', '--from', 'a.json'])).toThrow(/--svg/);
    expect(() => parseChartArgs(['chart', '--quick'])).toThrow();
  });
});
