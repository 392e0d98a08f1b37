// The fuzz properties in the default suite: a short, bounded number of runs each, from a fixed seed
// so that a run is reproducible, plus the inputs earlier fuzzing found (replayed every time).
// Longer budgets with fresh seeds: `pnpm fuzz -- --seconds N` (tools/fuzz/run.ts).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFuzzProperties, type FuzzProperties } from './properties.ts';

const SEED = 20_260_704;

/** Runs per property; the generators make some inputs large, so a few hundred are plenty. */
const RUNS: Record<string, number> = {
  detector: 300,
  serializer: 300,
  arguments: 300,
  'tool-calls': 200,
  roundtrip: 100,
  // Last: if the preparer breaks, it must not take the other properties down with it.
  prepare: 300,
};

/** Inputs that made a property fail once; each stays here as a regression check. */
const FOUND: Record<string, unknown[][]> = {
  detector: [
    // An unclosed tag with a nested one, then an unclosed fence: the two malformed segments overlapped.
    ['<tool-calls>a<tool-calls>\n```js tool-calls'],
    // A fence marker followed by one long line inside a tag: the fence pattern backtracked
    // quadratically (seconds of host time for a few hundred kilobytes of message).
    [`<tool-calls>\`\`\`\`${'y'.repeat(200_000)}\n</tool-calls>\n`],
  ],
  // A tool result whose serialisation throws an error naming a host path: the path reached the script.
  serializer: [
    [
      {
        toJSON() {
          throw new Error('toJSON failed at /srv/host/secret/tojson.db');
        },
      },
    ],
  ],
  // Deep type nesting broke the TypeScript transpiler for every later script in the process.
  prepare: [[`let x: ${'A<'.repeat(3_000)}B${'>'.repeat(3_000)} = 1; return 1;`, 'ts']],
};

describe('fuzz properties (bounded runs)', () => {
  let fuzz: FuzzProperties;
  beforeAll(async () => {
    fuzz = await createFuzzProperties();
  });
  afterAll(async () => {
    await fuzz.close();
  });

  for (const [name, numRuns] of Object.entries(RUNS)) {
    it(`${name}: holds for ${numRuns} adversarial inputs and every input found before`, async () => {
      const property = fuzz.properties.find((candidate) => candidate.name === name);
      if (property === undefined) throw new Error(`no property named ${name}`);
      const examples = FOUND[name] ?? [];
      const details = await property.check({ numRuns, seed: SEED, examples, endOnFailure: true });
      expect(details.failed, fc.defaultReportMessage(details)).toBe(false);
      expect(details.numRuns).toBeGreaterThanOrEqual(numRuns);
    }, 60_000);
  }

  it('covers every property', () => {
    expect(fuzz.properties.map((property) => property.name).sort()).toEqual(Object.keys(RUNS).sort());
  });
});
