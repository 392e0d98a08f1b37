import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { languageFor, limitsFromFlags, parseLanguage, parseMemoryMb, parseTimeoutMs, UsageError } from './options.ts';

describe('parseTimeoutMs', () => {
  it('accepts whole milliseconds, surrounding spaces included', () => {
    expect(parseTimeoutMs('300')).toBe(300);
    expect(parseTimeoutMs(' 5000 ')).toBe(5000);
  });

  it.each(['abc', '', '0', '-5', '1.5', '1e3', '12ms', '99999999999999999999'])('refuses %j', (value) => {
    expect(() => parseTimeoutMs(value)).toThrow(InvalidArgumentError);
  });

  it('says what it expected', () => {
    expect(() => parseTimeoutMs('abc')).toThrow(/whole number of milliseconds greater than 0/);
  });
});

describe('parseMemoryMb', () => {
  it('accepts whole and fractional megabytes', () => {
    expect(parseMemoryMb('64')).toBe(64);
    expect(parseMemoryMb('0.5')).toBe(0.5);
  });

  it.each(['abc', '', '0', '-1', '.5', '64mb', 'Infinity'])('refuses %j', (value) => {
    expect(() => parseMemoryMb(value)).toThrow(InvalidArgumentError);
  });
});

describe('parseLanguage', () => {
  it('accepts the short and long names in any case', () => {
    expect(parseLanguage('ts')).toBe('ts');
    expect(parseLanguage('JS')).toBe('js');
    expect(parseLanguage('TypeScript')).toBe('ts');
    expect(parseLanguage('javascript')).toBe('js');
  });

  it('refuses other languages', () => {
    expect(() => parseLanguage('py')).toThrow(/Expected ts or js/);
  });
});

describe('languageFor', () => {
  it('reads JavaScript from .js, .mjs and .cjs files and TypeScript from everything else', () => {
    expect(languageFor('script.js', undefined)).toBe('js');
    expect(languageFor('dir/Script.MJS', undefined)).toBe('js');
    expect(languageFor('script.cjs', undefined)).toBe('js');
    expect(languageFor('script.ts', undefined)).toBe('ts');
    expect(languageFor('script.txt', undefined)).toBe('ts');
    expect(languageFor('-', undefined)).toBe('ts');
  });

  it('lets an explicit --language win over the extension', () => {
    expect(languageFor('script.js', 'ts')).toBe('ts');
    expect(languageFor('-', 'js')).toBe('js');
  });
});

describe('limitsFromFlags', () => {
  it('passes only the flags that were given', () => {
    expect(limitsFromFlags({})).toEqual({});
    expect(limitsFromFlags({ timeoutMs: 300 })).toEqual({ timeoutMs: 300 });
    expect(limitsFromFlags({ timeoutMs: 300, memoryMb: 32 })).toEqual({ timeoutMs: 300, memoryMb: 32 });
  });

  it('refuses what the harness would refuse, naming the flag rather than the schema field', () => {
    let thrown: unknown;
    try {
      limitsFromFlags({ memoryMb: 99_999 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as UsageError).message).toMatch(/^invalid limit: --memory-mb: /);
    expect((thrown as UsageError).message).not.toMatch(/memoryMb/);
  });
});
