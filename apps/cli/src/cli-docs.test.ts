/**
 * docs/cli.md is the help of the CLI: the committed file must equal a fresh rendering, and every
 * command must appear in it. After changing a command's help, run `node apps/cli/src/write-docs.ts`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_DOCS_MARKER, CLI_DOCS_PATH } from './cli-docs.ts';
import { REPO_ROOT } from './test-support.ts';
import { renderCurrentCliDocs } from './write-docs.ts';

describe('docs/cli.md', () => {
  it('matches the help of the CLI (regenerate with node apps/cli/src/write-docs.ts)', async () => {
    const committed = await readFile(join(REPO_ROOT, CLI_DOCS_PATH), 'utf8');
    expect(committed).toBe(await renderCurrentCliDocs());
  });

  it('documents every command, the exit codes and the configuration file', async () => {
    const rendered = await renderCurrentCliDocs();
    expect(rendered.startsWith(CLI_DOCS_MARKER)).toBe(true);
    for (const command of [
      'run',
      'exec-message',
      'check',
      'types',
      'tasks',
      'tasks list',
      'tasks show',
      'tasks cancel',
      'bench',
      'demo',
    ]) {
      expect(rendered).toContain(`## harness ${command}\n`);
    }
    expect(rendered).toContain('4  the runtime cannot be loaded on this machine');
    expect(rendered).toContain('## Configuration file');
    expect(rendered).toMatch(/\| `mcpServers` +\| map +\|/);
    // The help is rendered at a fixed width, so it does not depend on the terminal of whoever renders it.
    expect(rendered).not.toMatch(/\u001b\[/);
  });
});
