import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createHarness } from '@script-harness/core';
import { createQuickJSRuntime } from '@script-harness/runtime-quickjs';
import { createFileTools } from '@script-harness/tools';
import { afterAll, describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));
const workspace = fileURLToPath(new URL('../demo/workspace/', import.meta.url));
const runtime = await createQuickJSRuntime({ mode: 'inline' });
const harness = createHarness({ runtime, tools: createFileTools({ root: workspace }) });
afterAll(() => harness.close());

describe('examples/scripts', async () => {
  const scripts = (await readdir(here)).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'));

  it('has scripts to run', () => {
    expect(scripts.length).toBeGreaterThan(0);
  });

  for (const name of scripts) {
    it(`${name} runs against the demo workspace and returns data`, async () => {
      const result = await harness.run(await readFile(`${here}${name}`, 'utf8'));
      expect(result.error).toBeUndefined();
      expect(result.ok).toBe(true);
      expect(result.value).toBeTypeOf('object');
    });
  }

  it('project-overview.script.ts summarises the demo project', async () => {
    const result = await harness.run(await readFile(`${here}project-overview.script.ts`, 'utf8'));
    expect(result.value).toMatchObject({ project: 'weather-digest@0.3.1', scripts: ['start', 'test', 'lint'] });
  });
});
