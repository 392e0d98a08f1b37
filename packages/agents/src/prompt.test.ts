import { generatePromptSection, type Harness } from '@script-harness/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScriptDescription, systemPrompt } from './prompt.ts';
import { createTestHarness, fahrenheitTool, waitTool, weatherTool } from './testing/harness.ts';

let harness: Harness;
beforeAll(async () => {
  harness = await createTestHarness({ timeoutMs: 5000, maxToolCalls: 8 });
});
afterAll(() => harness.close());

describe('systemPrompt', () => {
  it('explains the block format and declares the harness’s tools under its limits', () => {
    const prompt = systemPrompt(harness);
    expect(prompt).toContain('<tool-calls>');
    expect(prompt).toContain('```ts tool-calls');
    expect(prompt).toContain('weather(args: {\n');
    expect(prompt).toContain('fahrenheit(args: { celsius: number }): Promise<number>;');
    expect(prompt).toContain('Limits per program: 5 s');
    expect(prompt).toContain('8 tool calls');
    // The harness is only a source of tools and limits: the section is core's own.
    expect(prompt).toBe(generatePromptSection([fahrenheitTool, waitTool, weatherTool], { limits: harness.limits }));
  });

  it('puts the agent’s instructions first and declares only the allowed tools', () => {
    const prompt = systemPrompt([weatherTool, fahrenheitTool], {
      instructions: 'You answer questions about the weather.',
      tools: ['weather'],
      limits: { timeoutMs: 2000 },
    });
    expect(prompt.startsWith('You answer questions about the weather.\n\n## Code mode')).toBe(true);
    expect(prompt).toContain('weather(args');
    expect(prompt).not.toContain('fahrenheit');
    expect(prompt).toContain('Limits per program: 2 s');
  });

  it('refuses an allowlist naming tools that do not exist', () => {
    expect(() => systemPrompt(harness, { tools: ['wether'] })).toThrow(/unknown tools in the allowlist: wether/);
  });
});

describe('runScriptDescription', () => {
  it('describes the tool-call form with every declaration by default', () => {
    const description = runScriptDescription(harness);
    expect(description).toContain('`code` is the body of an async function');
    expect(description).not.toContain('<tool-calls>');
    expect(description).toContain('declare const tools: {');
    expect(description).toContain('/** Current temperature in °C for a city. */');
    expect(description).toContain('units: {');
    expect(description).toContain('Limits per program: 5 s (tool calls included), 96 MB memory, 8 tool calls');
  });

  it('lists names and first sentences only when asked to, with the lookup hint', () => {
    const description = runScriptDescription(harness, {
      declarations: 'names',
      lookupHint: 'Use describe_tool for the arguments of a tool.',
    });
    expect(description).not.toContain('declare const tools');
    expect(description).toContain('- units.fahrenheit: Converts °C to °F.');
    expect(description).toContain('- weather: Current temperature in °C for a city.');
    expect(description.endsWith('Use describe_tool for the arguments of a tool.')).toBe(true);
  });

  it('declares only the allowed tools and refuses unknown ones', () => {
    const description = runScriptDescription(harness, { tools: ['units.fahrenheit'] });
    expect(description).toContain('fahrenheit(');
    expect(description).not.toContain('weather(');
    expect(() => runScriptDescription(harness, { tools: ['nope'] })).toThrow(/unknown tools in the allowlist: nope/);
  });
});
