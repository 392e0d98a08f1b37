// Run by the pack smoke test as `harness run answer.script.ts --json` in the consumer project.
const entries = await tools.listDir({ path: '.' });
const names: string[] = entries.entries.map((entry: { path: string }) => entry.path);
console.log(`files: ${names.includes('answer.script.ts')}`);
return 6 * 7;
