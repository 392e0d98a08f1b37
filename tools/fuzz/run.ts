// Runs the fuzz properties round-robin until a time budget is spent, then prints how many inputs
// each property checked and every failure with the seed and path that reproduce it.
//
//   node tools/fuzz/run.ts --seconds 60 [--keep-going]
//
// Exits 1 when a property failed. A failing property is not run again (the others go on), unless
// --keep-going: then it keeps running and every distinct failure is reported once.
import fc from 'fast-check';
import { createFuzzProperties } from './properties.ts';

function secondsFromArguments(args: readonly string[]): number {
  const index = args.indexOf('--seconds');
  const raw = index === -1 ? '60' : args[index + 1];
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    console.error(`usage: node tools/fuzz/run.ts --seconds N (got ${String(raw)})`);
    process.exit(2);
  }
  return seconds;
}

const preview = (value: unknown): string => {
  let text: string;
  try {
    text = fc.stringify(value);
  } catch {
    text = String(value);
  }
  return text.length > 400 ? `${text.slice(0, 400)}… (${text.length} characters)` : text;
};

const seconds = secondsFromArguments(process.argv.slice(2));
const keepGoing = process.argv.includes('--keep-going');
const { properties, close } = await createFuzzProperties();
const started = Date.now();
const deadline = started + seconds * 1000;
/** Each batch aims at about this long, so every property gets its turn often. */
const BATCH_MS = 500;
const runs = new Map(properties.map((property) => [property.name, 0]));
const batch = new Map(properties.map((property) => [property.name, 20]));
const failures: string[] = [];
const failed = new Set<string>();
/** Distinct failure messages seen per property (with --keep-going). */
const seen = new Set<string>();
let active = [...properties];

while (active.length > 0 && Date.now() < deadline) {
  for (const property of [...active]) {
    if (Date.now() >= deadline) break;
    const size = batch.get(property.name) ?? 20;
    const batchStarted = Date.now();
    const details = await property.check({ numRuns: size, endOnFailure: true });
    const elapsed = Math.max(1, Date.now() - batchStarted);
    runs.set(property.name, (runs.get(property.name) ?? 0) + details.numRuns);
    batch.set(property.name, Math.min(100_000, Math.max(5, Math.round((size * BATCH_MS) / elapsed))));
    if (details.failed) {
      failed.add(property.name);
      if (!keepGoing) active = active.filter((other) => other !== property);
      const error =
        details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      const key = `${property.name}: ${error.split('\n')[0]?.slice(0, 120)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      failures.push(
        [
          `✗ ${property.name}: ${property.description}`,
          `  after ${runs.get(property.name)} inputs; reproduce with { seed: ${details.seed}, path: ${JSON.stringify(details.counterexamplePath)} }`,
          `  input: ${preview(details.counterexample)}`,
          `  error: ${error.split('\n').slice(0, 3).join(' / ')}`,
        ].join('\n'),
      );
    }
  }
}
await close();

const total = [...runs.values()].reduce((sum, count) => sum + count, 0);
const elapsedSeconds = ((Date.now() - started) / 1000).toFixed(1);
for (const property of properties) {
  const status = failed.has(property.name) ? 'FAILED' : 'ok';
  console.log(`${property.name.padEnd(12)} ${String(runs.get(property.name)).padStart(10)} inputs  ${status}`);
}
console.log(`${total} generated inputs in ${elapsedSeconds} s, ${failed.size} failing properties`);
for (const failure of failures) console.log(`\n${failure}`);
process.exit(failures.length > 0 ? 1 : 0);
