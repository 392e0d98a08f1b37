/**
 * `--config FILE`: one JSON file for the server and the CLI. The schema is the server's
 * (`ServerConfigSchema` of `@script-harness/server`: workspace, limits, tools, the http tool's
 * hosts, MCP servers, policy rules, approvals, mode), so a file written for `harness serve` works
 * for `harness run` as is and the other way round; keys that only the server reads (port, API
 * keys, queue, ...) are checked and otherwise left alone by the CLI.
 *
 * The server package is loaded only when a file is given: it brings the whole HTTP stack with it,
 * which a plain `harness run` should not wait for.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { z } from 'zod';
import { ConfigurationError } from './exit-codes.ts';

export { APPROVE_MODES, type ApproveMode } from '@script-harness/policy';

const CONFIG_REMEDY = 'Fix the file and run again; docs/cli.md describes every field.';

/** The schema of a configuration file, the server's; built on first use (see the module comment). */
export async function cliConfigSchema() {
  const { ServerConfigSchema } = await import('@script-harness/server');
  return ServerConfigSchema.extend({
    workspace: ServerConfigSchema.shape.workspace.describe(
      'Directory the tools read and write. The CLI: default the current directory, and --workspace wins; ' +
        'harness serve: without one, no workspace tools.',
    ),
  });
}

export type CliConfigSchema = Awaited<ReturnType<typeof cliConfigSchema>>;
export type CliConfig = z.output<CliConfigSchema>;

/**
 * Reads and validates a configuration file. Every problem is collected and reported together
 * (exit code 3), each with the dotted path of the field, so one round fixes the file.
 */
export async function loadCliConfig(file: string, cwd: string): Promise<CliConfig> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'there is no such file' : `it cannot be read (${code ?? 'unknown error'})`;
    throw new ConfigurationError(`cannot use config file "${file}"`, [why], CONFIG_REMEDY, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(`config file "${file}" is not valid JSON`, [(error as Error).message], CONFIG_REMEDY);
  }
  const schema = await cliConfigSchema();
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ConfigurationError(
      `config file "${file}" is invalid`,
      parsed.error.issues.map(
        (issue) => `${issue.path.length === 0 ? '(root)' : issue.path.join('.')}: ${issue.message}`,
      ),
      CONFIG_REMEDY,
    );
  }
  return parsed.data;
}
