/**
 * `--config FILE`: one JSON file for the server and the CLI. The schema is the server's
 * (`ServerConfigSchema` of `@script-harness/server`: workspace, limits, tools, policy rules,
 * approvals, mode) extended with what only the command line uses: more tool groups, the http
 * tool's allowed hosts, MCP servers, and the default of `--approve`. A file written for
 * `harness serve` therefore works for `harness run` as is; keys that only the server reads (port,
 * API keys, queue, ...) are checked and otherwise left alone by the CLI.
 *
 * The server package is loaded only when a file is given: it brings the whole HTTP stack with it,
 * which a plain `harness run` should not wait for.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { HostPatternSchema } from '@script-harness/policy';
import { z } from 'zod';
import { ConfigurationError } from './exit-codes.ts';

export const APPROVE_MODES = ['ask', 'allow', 'deny'] as const;
export type ApproveMode = (typeof APPROVE_MODES)[number];

const CONFIG_REMEDY = 'Fix the file and run again; docs/cli.md describes every field.';

/** A name that can stand in `tools.mcp.<name>.*`. */
const McpServerNameSchema = z.string().regex(/^[A-Za-z_$][\w$]*$/, 'an MCP server name is an identifier');

const McpStdioServerSchema = z.strictObject({
  command: z.string().min(1).describe('The program that starts the server; it speaks MCP over stdin and stdout.'),
  args: z.array(z.string()).optional(),
  env: z
    .record(z.string(), z.string())
    .optional()
    .describe("The server's environment besides PATH; nothing else of yours is passed on."),
  cwd: z.string().min(1).optional(),
});

const McpHttpServerSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).describe('A streamable HTTP MCP endpoint.'),
  headers: z.record(z.string(), z.string()).optional().describe('Sent with every request (e.g. Authorization).'),
});

/** The schema of a CLI configuration file; built on first use (see the module comment). */
export async function cliConfigSchema() {
  const { ServerConfigSchema } = await import('@script-harness/server');
  const serverTools = ServerConfigSchema.shape.tools.unwrap();
  return ServerConfigSchema.extend({
    workspace: ServerConfigSchema.shape.workspace.describe(
      'Directory the tools read and write. The CLI: default the current directory, and --workspace wins; ' +
        'harness serve: without one, no file tools.',
    ),
    tools: serverTools
      .extend({
        search: z.boolean().default(true).describe('fileSearch and grep over the workspace.'),
        patch: z.boolean().default(true).describe('applyPatch: several file changes in one call.'),
        exec: z.boolean().default(false).describe('exec: run a command in the workspace (asks for approval).'),
        discovery: z.boolean().default(false).describe('$search and $describe: find tools by purpose.'),
      })
      .prefault({})
      .describe('Tool groups offered when --tools is not given. The CLI does not offer spawn.* (see harness tasks).'),
    http: z
      .strictObject({
        allowHosts: z
          .array(HostPatternSchema)
          .min(1)
          .describe('Hosts the http tool may reach ("api.example.com", "*.example.com").'),
      })
      .optional()
      .describe('Offers the http tool, limited to these hosts; the policy still denies it unless a rule allows it.'),
    mcpServers: z
      .record(McpServerNameSchema, z.union([McpStdioServerSchema, McpHttpServerSchema]))
      .default({})
      .describe('MCP servers whose tools the script calls as tools.mcp.<server>.<tool>.'),
    approve: z
      .enum(APPROVE_MODES)
      .optional()
      .describe('Default of --approve: what happens to calls the policy asks about.'),
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
