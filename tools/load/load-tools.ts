/**
 * The tools the server under load offers its scripts. They behave like the tools of a real
 * deployment at their worst: `work` waits like a network call (10–200 ms in the scenarios),
 * `fail` rejects, `crash` throws synchronously something that is not an Error, `hang` never
 * answers until its call is aborted, and `stall` is a slow disk that ignores the abort and
 * finishes late. Each counts how often it ran, so a driver can tell a lost or repeated call
 * from the server's own side.
 *
 * The input schemas are the server's test tools' schemas (`{ ms }` and `{ text }`): this file is
 * not part of a package and uses the zod of the server it loads, so the tools pass its checks.
 */

import { echoTool, sleepTool } from '../../apps/harness-server/src/test-support.ts';
import { type AnyTool, defineTool } from '../../packages/core/src/index.ts';

export type LoadToolName = 'work' | 'fail' | 'crash' | 'hang' | 'stall';

export interface LoadTools {
  readonly tools: readonly AnyTool[];
  /** How many times each tool's execute ran. */
  readonly executions: Readonly<Record<LoadToolName, number>>;
  /** Calls of `hang` and `stall` that have not settled yet. */
  pending(): number;
}

export function createLoadTools(): LoadTools {
  const executions: Record<LoadToolName, number> = { work: 0, fail: 0, crash: 0, hang: 0, stall: 0 };
  let pending = 0;
  const work = defineTool({
    ...sleepTool,
    name: 'work',
    description: 'Waits ms milliseconds like a network call; stops when aborted.',
    execute: (input, context) => {
      executions.work++;
      return sleepTool.execute(input, context);
    },
  });
  const fail = defineTool({
    ...echoTool,
    name: 'fail',
    description: 'Rejects with its text.',
    execute: async ({ text }) => {
      executions.fail++;
      throw new Error(`load tool failure: ${text}`);
    },
  });
  const crash = defineTool({
    ...echoTool,
    name: 'crash',
    description: 'Throws synchronously a value that is not an Error.',
    execute: ({ text }) => {
      executions.crash++;
      throw { crashed: text };
    },
  });
  const hang = defineTool({
    ...echoTool,
    name: 'hang',
    description: 'Never answers; settles only when its call is aborted.',
    execute: (_input, { signal }) => {
      executions.hang++;
      pending++;
      return new Promise<never>((_resolve, reject) => {
        signal.addEventListener(
          'abort',
          () => {
            pending--;
            reject(signal.reason);
          },
          { once: true },
        );
      });
    },
  });
  const stall = defineTool({
    ...sleepTool,
    name: 'stall',
    description: 'A slow disk: waits ms milliseconds and ignores the abort signal.',
    execute: ({ ms }) => {
      executions.stall++;
      pending++;
      return new Promise<{ slept: number }>((resolve) =>
        setTimeout(() => {
          pending--;
          resolve({ slept: ms });
        }, ms),
      );
    },
  });
  return { tools: [work, fail, crash, hang, stall], executions, pending: () => pending };
}
