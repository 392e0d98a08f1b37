// A script as a model would write it: read a project's manifest and source files in parallel and
// return a small summary. Run it with:
//   npx pnpm@12.21.0 --silent harness run examples/scripts/project-overview.script.ts --workspace examples/demo/workspace --json

interface Manifest {
  name: string;
  version: string;
  scripts?: Record<string, string>;
}

const listing = await tools.listDir({ path: 'src' });
const sources = listing.entries.filter((entry: { type: string; path: string }) => entry.type === 'file' && entry.path.endsWith('.ts'));

const [manifestFile, ...sourceFiles] = await Promise.all([
  tools.readFile({ path: 'package.json' }),
  ...sources.map((entry: { path: string }) => tools.readFile({ path: entry.path })),
]);

const manifest = JSON.parse(manifestFile.content) as Manifest;
const todos = sourceFiles.flatMap((file: { path: string; content: string }) =>
  file.content
    .split('\n')
    .map((line, index) => ({ path: file.path, line: index + 1, text: line.trim() }))
    .filter((line) => line.text.startsWith('// TODO')),
);
console.log(`${sources.length} source files, ${todos.length} TODOs`);

return {
  project: `${manifest.name}@${manifest.version}`,
  scripts: Object.keys(manifest.scripts ?? {}),
  sourceLines: sourceFiles.reduce((sum: number, file: { totalLines: number }) => sum + file.totalLines, 0),
  todos: todos.map((todo) => `${todo.path}:${todo.line}`),
};
