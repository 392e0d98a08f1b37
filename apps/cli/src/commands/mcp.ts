/**
 * `harness mcp`: code mode for any MCP client. Serves MCP over stdio with one `run_script` tool
 * (plus `search_tools` and `describe_tool`) whose programs call the workspace tools and every tool
 * of the MCP servers in the config file (`tools.mcp.<server>.<tool>`), so a client that would make
 * one tool call per step can make them all in one program.
 *
 * Stdin and stdout carry the protocol: nothing else is written to stdout, and nobody can be asked
 * for approvals, so calls the policy asks about are decided by `--approve` (`ask` denies them).
 */
import { createMcpCodeModeServer, type McpStdioOptions } from '@script-harness/agents';
import { DEFAULT_LIMITS } from '@script-harness/core';
import type { Command } from 'commander';
import { EXIT_OK } from '../exit-codes.ts';
import type { CliIo } from '../io.ts';
import type { CommandOutcome } from '../main.ts';
import { limitsFromFlags, parseMemoryMb, parseTimeoutMs } from '../options.ts';
import { DEFAULT_RUNTIME, parseRuntimeName, type RuntimeName } from '../runtimes.ts';
import { openSession } from '../session.ts';
import { addSharedFlags, resolveSharedSetup, type SharedFlags, sharedFlagsOf } from '../shared-flags.ts';

export interface McpCommandOptions extends SharedFlags {
  readonly runtime?: RuntimeName | undefined;
  readonly timeoutMs?: number | undefined;
  readonly memoryMb?: number | undefined;
}

export function registerMcpCommand(program: Command, io: CliIo, outcome: CommandOutcome): void {
  const command = program
    .command('mcp')
    .summary('serve code mode to an MCP client over stdio: run_script over the workspace tools and MCP servers')
    .description(
      'Serve MCP over stdin and stdout with a run_script tool: the client sends a TypeScript program, which calls ' +
        'the workspace tools and the tools of the MCP servers in the config file (tools.mcp.<server>.<tool>) in one ' +
        'go, and gets back what it returns. search_tools and describe_tool look tools up. Ends when the client ' +
        'closes stdin.',
    );
  addSharedFlags(command)
    .option(
      '--runtime <name>',
      'runtime the scripts run in: quickjs or isolated-vm (default: quickjs)',
      parseRuntimeName,
    )
    .option(
      '--timeout-ms <ms>',
      `deadline of each script, tool calls included (default: ${DEFAULT_LIMITS.timeoutMs})`,
      parseTimeoutMs,
    )
    .option('--memory-mb <mb>', `heap available to each script (default: ${DEFAULT_LIMITS.memoryMb})`, parseMemoryMb)
    .addHelpText(
      'after',
      `
MCP servers come from "mcpServers" of the --config file, e.g.
  { "workspace": ".", "mcpServers": { "github": { "command": "github-mcp-server", "args": ["stdio"] } } }
A script then calls tools.mcp.github.<tool>(args). Nobody can answer approval prompts here: with
--approve ask (the default) calls the policy asks about are denied; --approve allow lets them run.

In an MCP client's configuration:
  { "command": "harness", "args": ["mcp", "--config", "/path/to/harness.json"] }

Examples:
  $ harness mcp --workspace ./project
  $ harness mcp --config harness.json --tools files,mcp.github --approve allow`,
    )
    .action(async (options: McpCommandOptions) => {
      outcome.exitCode = await mcpCommand(options, io);
    });
}

/**
 * Serves until the client goes away (or SIGINT/SIGTERM), then closes the harness and the MCP
 * servers behind it. `stdio` replaces the process's stdin and stdout, for embedding and tests.
 */
export async function mcpCommand(options: McpCommandOptions, io: CliIo, stdio: McpStdioOptions = {}): Promise<number> {
  const limits = limitsFromFlags(options);
  const setup = await resolveSharedSetup(sharedFlagsOf(options), io);
  const session = await openSession({
    setup,
    runtime: options.runtime ?? DEFAULT_RUNTIME,
    limits,
    // Stdin is the protocol channel: there is no one to prompt.
    prompter: undefined,
    io,
  });
  const connection = createMcpCodeModeServer({ harness: session.harness, name: 'harness' }).serveStdio(stdio);
  const stop = () => {
    void connection.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    io.stderr.write(
      `harness mcp: serving run_script over ${session.toolset.names.length} tools on stdio; close stdin to stop\n`,
    );
    await connection.closed;
    return EXIT_OK;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await session.close();
  }
}
