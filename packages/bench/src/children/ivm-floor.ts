/**
 * Child process of `floor.ivm.fresh` (isolated-vm needs `--no-node-snapshot`, so it cannot run in
 * the parent): a new Isolate + context + eval of `1+1` + dispose, measured with tinybench.
 */
import ivm from 'isolated-vm';
import { childInput, childOutput, measureTask, type Profile } from '../measure.ts';

const { profile } = childInput<{ profile: Profile }>();

const fresh = (): unknown => {
  const isolate = new ivm.Isolate({ memoryLimit: 96 });
  const context = isolate.createContextSync();
  const value = context.evalSync('1+1');
  context.release();
  isolate.dispose();
  return value;
};
if (fresh() !== 2) throw new Error('isolated-vm did not evaluate 1+1');
childOutput(await measureTask(profile, fresh));
