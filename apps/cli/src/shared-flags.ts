/**
 * The flags `run`, `exec-message`, `check`, `types`, `serve` and `mcp` share — `--workspace`,
 * `--config`, `--tools`, `--approve` — and how they combine with a configuration file: a flag
 * wins over the file, the file over the defaults. Commands add them with `addSharedFlags` and
 * turn what commander parsed into one `SharedSetup` with `resolveSharedSetup`.
 */
import { DEFAULT_LIMITS, type ExecutionMode } from '@script-harness/core';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { APPROVE_MODES, type ApproveMode, type CliConfig, loadCliConfig } from './config-file.ts';
import type { CliIo } from './io.ts';
import { parseExecutionMode, parseMemoryMb, parseTimeoutMs } from './options.ts';
import { parseRuntimeName, type RuntimeName } from './runtimes.ts';
import { resolveWorkspace } from './workspace.ts';

export type { ApproveMode } from './config-file.ts';

/** What commander hands a command for the shared flags. */
export interface SharedFlags {
  readonly workspace?: string | undefined;
  readonly config?: string | undefined;
  readonly tools?: readonly string[] | undefined;
  readonly approve?: ApproveMode | undefined;
}

/** The shared flags resolved against the configuration file and the defaults. */
export interface SharedSetup {
  /** Absolute path of the directory the workspace tools are confined to. */
  readonly workspace: string;
  /** The parsed `--config` file, when one was given. */
  readonly config: CliConfig | undefined;
  /** Tools and tool groups asked for with `--tools`; undefined: the configured (or default) groups. */
  readonly tools: readonly string[] | undefined;
  readonly approve: ApproveMode;
}

export const DEFAULT_APPROVE_MODE: ApproveMode = 'ask';

/** Adds the four shared flags to `command`. */
export function addSharedFlags(command: Command): Command {
  return command
    .option(
      '-w, --workspace <dir>',
      'directory the workspace tools read and write (default: the config file\'s "workspace", else the current directory)',
    )
    .option(
      '--config <file>',
      'JSON configuration file: workspace, limits, tools, policy rules, MCP servers (the format of harness serve)',
    )
    .option(
      '--tools <names>',
      'comma-separated tools or groups the script may use: files, search, patch, exec, http, discovery, mcp, or ' +
        'single tools such as readFile (default: files,search,patch, or what the config file enables)',
      parseToolList,
    )
    .addOption(
      new Option(
        '--approve <mode>',
        'tool calls the policy asks about (writes, patches, commands): ask prompts on a terminal and denies ' +
          'without one, allow approves them, deny refuses them (default: ask)',
      ).choices(APPROVE_MODES),
    );
}

/** What commander hands a command that runs scripts, besides the shared flags. */
export interface ExecutionFlags {
  readonly json?: boolean | undefined;
  readonly runtime?: RuntimeName | undefined;
  readonly timeoutMs?: number | undefined;
  readonly memoryMb?: number | undefined;
  readonly mode?: ExecutionMode | undefined;
}

/** `--json`, `--runtime`, `--timeout-ms`, `--memory-mb` and `--mode`, for the commands that run scripts. */
export function addExecutionFlags(command: Command, json: string): Command {
  return command
    .option('--json', json)
    .option(
      '--runtime <name>',
      'runtime the script runs in: quickjs or isolated-vm (default: quickjs)',
      parseRuntimeName,
    )
    .option(
      '--timeout-ms <ms>',
      `deadline of each script, tool calls included (default: ${DEFAULT_LIMITS.timeoutMs})`,
      parseTimeoutMs,
    )
    .option('--memory-mb <mb>', `heap available to each script (default: ${DEFAULT_LIMITS.memoryMb})`, parseMemoryMb)
    .option(
      '--mode <mode>',
      'enabled runs the script, dry-run only validates it, disabled runs nothing ' +
        '(default: enabled, or "mode" of the config file)',
      parseExecutionMode,
    );
}

/** Commander parser of `--tools`: names separated by commas, spaces ignored, no empty list. */
export function parseToolList(value: string): string[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0)
    throw new InvalidArgumentError('Expected tool or group names separated by commas, such as files,grep.');
  return [...new Set(names)];
}

/** Reads the config file (if any) and settles workspace, tool selection and approval mode. */
export async function resolveSharedSetup(flags: SharedFlags, io: CliIo): Promise<SharedSetup> {
  const config = flags.config === undefined ? undefined : await loadCliConfig(flags.config, io.cwd);
  const workspace = await resolveWorkspace(io.cwd, flags.workspace ?? config?.workspace, {
    fromConfig: flags.workspace === undefined && config?.workspace !== undefined,
  });
  return {
    workspace,
    config,
    tools: flags.tools,
    approve: flags.approve ?? config?.approvals.mode ?? DEFAULT_APPROVE_MODE,
  };
}

/** The shared flags of a command whose options commander has parsed. */
export function sharedFlagsOf(options: SharedFlags): SharedFlags {
  return {
    workspace: options.workspace,
    config: options.config,
    tools: options.tools,
    approve: options.approve,
  };
}
