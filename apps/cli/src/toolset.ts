/**
 * Which tools a command offers the script: groups (`files`, `search`, ...) and single tools
 * (`readFile`) chosen with `--tools`, or else the groups the config file enables, or else the
 * workspace defaults. Only the groups in use are built, and MCP servers are connected only when
 * their tools are asked for.
 */
import { type AnyTool, closestNames, HarnessError } from '@script-harness/core';
import {
  connectMcpServers,
  createDiscoveryTools,
  createExecTool,
  createFileTools,
  createHttpTool,
  createPatchTool,
  createSearchTools,
  type McpConnection,
  type McpServerConfig,
} from '@script-harness/tools';
import type { CliConfig } from './config-file.ts';
import { ConfigurationError } from './exit-codes.ts';
import { UsageError } from './options.ts';

/** The groups of tools `--tools` can name, with the tools in each (MCP tools are known once connected). */
export const TOOL_GROUPS = {
  files: ['readFile', 'writeFile', 'listDir'],
  search: ['fileSearch', 'grep'],
  patch: ['applyPatch'],
  exec: ['exec'],
  http: ['http'],
  discovery: ['$search', '$describe'],
  mcp: [],
} as const satisfies Record<string, readonly string[]>;

export type ToolGroup = keyof typeof TOOL_GROUPS;

export const DEFAULT_TOOL_GROUPS: readonly ToolGroup[] = ['files', 'search', 'patch'];

export interface ToolsetOptions {
  /** Absolute path the workspace tools are confined to. */
  readonly workspace: string;
  readonly config: CliConfig | undefined;
  /** What `--tools` asked for; undefined: the configured or default groups. */
  readonly requested: readonly string[] | undefined;
}

export interface Toolset {
  readonly tools: readonly AnyTool[];
  readonly names: readonly string[];
  /** Disconnects MCP servers; the tools fail afterwards. */
  close(): Promise<void>;
}

const GROUP_NAMES = Object.keys(TOOL_GROUPS) as ToolGroup[];

/** Groups enabled when `--tools` is not given. */
export function configuredGroups(config: CliConfig | undefined): ToolGroup[] {
  if (config === undefined) return [...DEFAULT_TOOL_GROUPS];
  const { tools } = config;
  const groups: ToolGroup[] = [];
  if (tools.files) groups.push('files');
  if (tools.search) groups.push('search');
  if (tools.patch) groups.push('patch');
  if (tools.exec) groups.push('exec');
  if (config.http !== undefined) groups.push('http');
  if (tools.discovery) groups.push('discovery');
  if (Object.keys(config.mcpServers).length > 0) groups.push('mcp');
  return groups;
}

interface Selection {
  readonly groups: ReadonlySet<ToolGroup>;
  /** Single tools by name, with the group that makes them. */
  readonly single: ReadonlyMap<string, ToolGroup>;
  /** MCP servers whose tools are all asked for (`mcp.<server>`), or every server for the `mcp` group. */
  readonly mcpServers: ReadonlySet<string>;
  /** MCP tools asked for one by one (`mcp.<server>.<tool>`); checked once the server is connected. */
  readonly mcpTools: ReadonlySet<string>;
}

/** Builds the tools; an unknown name in `--tools` is a usage error with the closest known names. */
export async function createToolset(options: ToolsetOptions): Promise<Toolset> {
  const selection = select(options);
  const mcpServerNames = new Set([
    ...selection.mcpServers,
    ...[...selection.mcpTools].map((name) => name.split('.')[1] as string),
  ]);
  const needed = new Set<ToolGroup>([...selection.groups, ...selection.single.values()]);
  const built = new Map<string, AnyTool>();
  const add = (tools: readonly AnyTool[]) => {
    for (const tool of tools) built.set(tool.name, tool);
  };
  const root = options.workspace;
  if (needed.has('files')) add(createFileTools({ root }));
  if (needed.has('search')) add(createSearchTools({ root }));
  if (needed.has('patch')) add([createPatchTool({ root })]);
  if (needed.has('exec')) add([createExecTool({ root })]);
  if (needed.has('http')) {
    const http = options.config?.http;
    if (http === undefined) {
      throw new ConfigurationError(
        'the http tool needs the hosts it may reach',
        [],
        'Set "http": { "allowHosts": [...] } in a --config file, and a policy rule that allows http for them.',
      );
    }
    add([createHttpTool({ allowHosts: http.allowHosts })]);
  }

  let connection: McpConnection | undefined;
  const chosen: AnyTool[] = [];
  try {
    if (mcpServerNames.size > 0) {
      connection = await connectMcp(options.config, mcpServerNames);
      for (const tool of connection.tools) {
        const server = tool.name.split('.')[1] as string;
        if (selection.mcpServers.has(server) || selection.mcpTools.has(tool.name)) chosen.push(tool);
      }
      const offered = new Set(connection.tools.map((tool) => tool.name));
      const missing = [...selection.mcpTools].filter((name) => !offered.has(name));
      if (missing.length > 0) throw unknownTools(missing, [...offered]);
    }
    for (const [name, tool] of built) {
      const group = GROUP_NAMES.find((candidate) => (TOOL_GROUPS[candidate] as readonly string[]).includes(name));
      if ((group !== undefined && selection.groups.has(group)) || selection.single.has(name)) chosen.push(tool);
    }
    if (needed.has('discovery')) {
      // Discovery searches what else is offered; it is built last so it sees the final list.
      const others = chosen.slice();
      const discovery = createDiscoveryTools(() => others);
      for (const tool of discovery) {
        if (selection.groups.has('discovery') || selection.single.has(tool.name)) chosen.push(tool);
      }
    }
  } catch (error) {
    await connection?.close();
    throw error;
  }
  chosen.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    tools: chosen,
    names: chosen.map((tool) => tool.name),
    close: async () => {
      await connection?.close();
    },
  };
}

function select(options: ToolsetOptions): Selection {
  const groups = new Set<ToolGroup>();
  const single = new Map<string, ToolGroup>();
  const mcpServers = new Set<string>();
  const mcpTools = new Set<string>();
  const configuredServers = Object.keys(options.config?.mcpServers ?? {});
  const requested = options.requested ?? configuredGroups(options.config);
  const unknown: string[] = [];
  for (const name of requested) {
    if ((GROUP_NAMES as readonly string[]).includes(name)) {
      groups.add(name as ToolGroup);
      if (name === 'mcp') for (const server of configuredServers) mcpServers.add(server);
      continue;
    }
    const group = GROUP_NAMES.find((candidate) => (TOOL_GROUPS[candidate] as readonly string[]).includes(name));
    if (group !== undefined) {
      single.set(name, group);
      continue;
    }
    const parts = name.split('.');
    if (parts[0] === 'mcp' && parts.length >= 2 && configuredServers.includes(parts[1] as string)) {
      if (parts.length === 2) mcpServers.add(parts[1] as string);
      else mcpTools.add(name);
      continue;
    }
    unknown.push(name);
  }
  if (unknown.length > 0) {
    const known = [
      ...GROUP_NAMES,
      ...Object.values(TOOL_GROUPS).flat(),
      ...configuredServers.map((server) => `mcp.${server}`),
    ];
    throw unknownTools(unknown, known);
  }
  return { groups, single, mcpServers, mcpTools };
}

function unknownTools(unknown: readonly string[], known: readonly string[]): UsageError {
  const hints = unknown.map((name) => {
    const close = closestNames(name, known, 1);
    return close.length > 0 ? `${name} (did you mean ${close[0]}?)` : name;
  });
  return new UsageError(
    `unknown tool${unknown.length === 1 ? '' : 's'} in --tools: ${hints.join(', ')}. Known groups: ${GROUP_NAMES.join(', ')}; ` +
      'single tools are named as in the script (readFile, grep, mcp.<server>.<tool>).',
  );
}

async function connectMcp(config: CliConfig | undefined, servers: ReadonlySet<string>): Promise<McpConnection> {
  const chosen: Record<string, McpServerConfig> = {};
  for (const server of servers) {
    const entry = config?.mcpServers[server];
    if (entry !== undefined) chosen[server] = entry;
  }
  try {
    return await connectMcpServers(chosen);
  } catch (error) {
    if (error instanceof HarnessError) {
      throw new ConfigurationError(
        'cannot connect to the MCP servers of the config file',
        [error.message],
        'Check "mcpServers" in the config file: the command, its arguments, or the URL.',
        { cause: error },
      );
    }
    throw error;
  }
}
