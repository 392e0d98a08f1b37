/**
 * Writes docs/cli.md from the help of the CLI, or with `--check` writes nothing and exits 1 when
 * the committed file differs from a fresh rendering.
 *
 *   node apps/cli/src/write-docs.ts           writes docs/cli.md
 *   node apps/cli/src/write-docs.ts --check   compares only
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CLI_DOCS_PATH, renderCliDocs } from './cli-docs.ts';
import { cliConfigSchema } from './config-file.ts';
import { createProgram } from './main.ts';

const REPOSITORY_ROOT = new URL('../../../', import.meta.url);

/** The document as the current code renders it. */
export async function renderCurrentCliDocs(): Promise<string> {
  const discard = { write: () => true };
  const program = createProgram({
    stdout: discard,
    stderr: discard,
    readStdin: async () => new Uint8Array(),
    cwd: fileURLToPath(REPOSITORY_ROOT),
  });
  return renderCliDocs(program, await cliConfigSchema());
}

if (import.meta.main) {
  const target = new URL(CLI_DOCS_PATH, REPOSITORY_ROOT);
  const fresh = await renderCurrentCliDocs();
  if (process.argv.includes('--check')) {
    const committed = await readFile(target, 'utf8').catch(() => '');
    if (committed !== fresh) {
      process.stderr.write(`${CLI_DOCS_PATH} differs from the help of the CLI: run node apps/cli/src/write-docs.ts\n`);
      process.exitCode = 1;
    }
  } else {
    await writeFile(target, fresh);
    process.stdout.write(`${CLI_DOCS_PATH} written\n`);
  }
}
