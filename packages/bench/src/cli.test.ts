import { describe, expect, it } from 'vitest';
import { parseCliArgs, USAGE } from './cli.ts';

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

  it('documents every option', () => {
    for (const option of ['--filter', '--json', '--quick', '--check']) expect(USAGE).toContain(option);
  });
});
