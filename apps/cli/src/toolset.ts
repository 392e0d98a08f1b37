/**
 * Which tools a command offers the script: what `--tools` names, or else what the config file's
 * `tools.select` names, or else the groups its `tools` section switches on (files, search and
 * patch by default), built by `createToolset` of `@script-harness/tools` exactly as the server
 * builds its own. Its refusals become the CLI's: an unknown name is a usage error (exit 2), what
 * the configuration lacks a configuration error (exit 3).
 */
import {
  createToolset as createConfiguredToolset,
  type Toolset,
  type ToolsetConfig,
  ToolsetError,
} from '@script-harness/tools';
import type { CliConfig } from './config-file.ts';
import { ConfigurationError } from './exit-codes.ts';
import { UsageError } from './options.ts';

export type { Toolset } from '@script-harness/tools';

/** The groups offered without a config file: the workspace tools that read, search and patch. */
export const DEFAULT_TOOLSET: ToolsetConfig = Object.freeze({
  groups: Object.freeze({ files: true, search: true, patch: true }),
});

export interface ToolsetOptions {
  /** Absolute path the workspace tools are confined to. */
  readonly workspace: string;
  readonly config: CliConfig | undefined;
  /** What `--tools` asked for; undefined: the configured or default tools. */
  readonly requested: readonly string[] | undefined;
}

export async function createToolset(options: ToolsetOptions): Promise<Toolset> {
  const { config } = options;
  const configured: ToolsetConfig =
    config === undefined ? DEFAULT_TOOLSET : { groups: config.tools, http: config.http, mcpServers: config.mcpServers };
  try {
    return await createConfiguredToolset({
      ...configured,
      root: options.workspace,
      requested: options.requested ?? config?.tools.select,
    });
  } catch (error) {
    if (!(error instanceof ToolsetError)) throw error;
    if (error.kind === 'request') {
      throw new UsageError(
        `${options.requested === undefined ? 'tools.select' : '--tools'}: ${error.message}. ${error.remedy}`,
      );
    }
    throw new ConfigurationError(error.message, error.problems, error.remedy, { cause: error });
  }
}
