import { executeMessage, type Harness, type HistoryItem, scriptOutputText } from '@script-harness/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_SCRIPT_TOOL_NAME, runScriptCall } from './run-script.ts';
import { createTestHarness } from './testing/harness.ts';

let harness: Harness;
beforeAll(async () => {
  harness = await createTestHarness();
});
afterAll(() => harness.close());

const COMPARE = `
const [oslo, rome] = await Promise.all([tools.weather({ city: 'Oslo' }), tools.weather({ city: 'Rome' })]);
console.log('compared', oslo.city, rome.city);
return { warmer: oslo.celsius > rome.celsius ? oslo.city : rome.city, fahrenheit: await tools.units.fahrenheit({ celsius: rome.celsius }) };
`;

describe('runScriptCall', () => {
  it('is named like the script blocks of provider-shaped history', () => {
    expect(RUN_SCRIPT_TOOL_NAME).toBe('run_script');
  });

  it('reads arguments as an object or as JSON text and answers with the text a script block gets', async () => {
    const fromObject = await runScriptCall(harness, { code: COMPARE });
    const fromJson = await runScriptCall(harness, JSON.stringify({ code: COMPARE }));
    expect(fromObject.ok).toBe(true);
    expect(JSON.parse(fromObject.text)).toEqual({
      ok: true,
      value: { warmer: 'Rome', fahrenheit: 70 },
      console: ['compared Oslo Rome'],
    });
    expect(fromJson.text).toBe(fromObject.text);
    expect(fromObject.result?.calls.map((call) => call.tool)).toEqual(['weather', 'weather', 'units.fahrenheit']);

    const block = await executeMessage(harness, `<tool-calls>\n${COMPARE}\n</tool-calls>`);
    const output = block.items.find(
      (item): item is Extract<HistoryItem, { type: 'script_tool_call_output' }> =>
        item.type === 'script_tool_call_output',
    );
    expect(output).toBeDefined();
    expect(fromObject.text).toBe(scriptOutputText(output as Extract<HistoryItem, { type: 'script_tool_call_output' }>));
  });

  it('reports a failing script with its error and the tool calls that completed', async () => {
    const outcome = await runScriptCall(harness, {
      code: `const oslo = await tools.weather({ city: 'Oslo' });\nreturn await tools.weather({ city: 'Atlantis' });`,
    });
    expect(outcome.ok).toBe(false);
    const body = JSON.parse(outcome.text);
    expect(body.ok).toBe(false);
    expect(body.error).toMatchObject({ code: 'TOOL_ERROR', message: expect.stringContaining('Atlantis') });
    expect(body.partialResults).toEqual([{ tool: 'weather', value: { city: 'Oslo', celsius: 4 } }]);
  });

  it('answers arguments the model got wrong with INVALID_REQUEST instead of throwing', async () => {
    for (const input of [{ source: 'return 1' }, '{"code":', { code: '' }, 42]) {
      const outcome = await runScriptCall(harness, input);
      expect(outcome.ok).toBe(false);
      expect(outcome.result).toBeUndefined();
      expect(JSON.parse(outcome.text)).toMatchObject({
        ok: false,
        error: { code: 'INVALID_REQUEST', message: expect.stringMatching(/^invalid arguments for run_script/) },
      });
    }
  });

  it('applies the tool allowlist and limits of the options, and the caller’s signal', async () => {
    const restricted = await runScriptCall(
      harness,
      { code: `return await tools.units.fahrenheit({ celsius: 0 });` },
      { tools: ['weather'] },
    );
    // A tool outside the allowlist is not there at all for the script.
    expect(JSON.parse(restricted.text).error).toMatchObject({
      code: 'GUEST_ERROR',
      message: 'TypeError: not a function',
    });
    expect(restricted.result?.calls).toEqual([]);

    const limited = await runScriptCall(harness, { code: 'while (true) {}' }, { limits: { timeoutMs: 200 } });
    expect(JSON.parse(limited.text).error.code).toBe('TIMEOUT');

    const cancelled = await runScriptCall(
      harness,
      { code: 'return await tools.wait({ ms: 60_000 });' },
      {},
      { signal: AbortSignal.timeout(100) },
    );
    expect(JSON.parse(cancelled.text).error.code).toBe('CANCELLED');
  });
});
