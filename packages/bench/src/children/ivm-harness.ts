/**
 * Child process of `harness.ivm.trivial` (started with `--no-node-snapshot`): `return 1+1` through
 * the public API on the isolated-vm runtime, or `{ "missing": ... }` when that runtime does not
 * exist yet.
 */
import { createHarness } from '@script-harness/core';
import { createIvmRuntime } from '../ivm.ts';
import { childInput, childOutput, measureTask, type Profile } from '../measure.ts';

const { profile } = childInput<{ profile: Profile }>();
const probe = await createIvmRuntime();
if ('missing' in probe) {
  childOutput({ missing: probe.missing });
} else {
  const harness = createHarness({ runtime: probe.found });
  const first = await harness.run('return 1+1');
  if (!first.ok || first.value !== 2) throw new Error(`return 1+1 failed: ${first.error?.message}`);
  const figures = await measureTask(profile, async () => {
    const result = await harness.run('return 1+1');
    if (!result.ok) throw new Error(result.error?.message);
  });
  await harness.close();
  childOutput({ found: figures });
}
