// Run by the pack smoke test in the consumer project: one script through the published core and
// QuickJS runtime with one tool, inline and in the worker pool (whose worker is a file of the package).
import { createHarness, defineTool } from '@script-harness/core';
import { createQuickJSRuntime } from '@script-harness/runtime-quickjs';
import { z } from 'zod';

const add = defineTool({
  name: 'add',
  description: 'Adds two numbers.',
  input: z.strictObject({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => a + b,
});

const outcomes = {};
for (const mode of ['inline', 'pool']) {
  const harness = createHarness({ runtime: await createQuickJSRuntime({ mode }), tools: [add] });
  const result = await harness.run(
    'const [x, y] = await Promise.all([tools.add({ a: 1, b: 2 }), tools.add({ a: 3, b: 4 })]);\nreturn x * y;',
    { language: 'ts' },
  );
  outcomes[mode] = { ok: result.ok, value: result.value, calls: result.calls.length, error: result.error };
  await harness.close();
}
console.log(JSON.stringify(outcomes));
