/**
 * A toolset: the tools a harness offers, chosen by group (`files`, `search`, ...) or one by one
 * (`readFile`, `mcp.github.create_issue`), the way `harness run --tools` and the `tools` section of
 * a configuration file name them. The CLI and harness-server build theirs here, so a name means
 * the same tool everywhere. Only the groups in use are built, and MCP servers are connected only
 * when their tools are asked for.
 */
import { type AnyTool, closestNames, HarnessError } from '@script-harness/core';
import { createDiscoveryTools } from './discovery.ts';
import { createExecTool } from './exec.ts';
import { createFileTools } from './files.ts';
import { createHttpTool } from './http.ts';
import { connectMcpServers, type McpConnection, type McpServerConfig } from './mcp.ts';
import { createPatchTool } from './patch.ts';
import { createSearchTools } from './search.ts';

/** The groups a toolset can name, with the tools in each (MCP tools are known once connected). */
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

export const TOOL_GROUP_NAMES = Object.freeze(Object.keys(TOOL_GROUPS) as ToolGroup[]);

/** Groups that work inside a workspace directory and need one. */
const WORKSPACE_GROUPS: ReadonlySet<ToolGroup> = new Set(['files', 'search', 'patch', 'exec']);

/** What the toolset is built from: the `tools`, `http` and `mcpServers` sections of a configuration. */
export interface ToolsetConfig {
  /** Groups switched on when nothing is requested by name. */
  readonly groups?: {
    readonly files?: boolean;
    readonly search?: boolean;
    readonly patch?: boolean;
    readonly exec?: boolean;
    readonly discovery?: boolean;
  };
  /** Hosts the http tool may reach; the http group is on when this is given. */
  readonly http?: { readonly allowHosts: readonly string[] } | undefined;
  /** MCP servers whose tools are offered as `mcp.<server>.<tool>`; the mcp group is on when there are any. */
  readonly mcpServers?: Readonly<Record<string, McpServerConfig>>;
}

export interface ToolsetOptions extends ToolsetConfig {
  /** Directory the workspace groups are confined to; without one they are not offered. */
  readonly root: string | undefined;
  /** Groups and tools asked for by name (`--tools`); undefined: the groups `groups` switches on. */
  readonly requested?: readonly string[] | undefined;
}

export interface Toolset {
  readonly tools: readonly AnyTool[];
  readonly names: readonly string[];
  /** Disconnects MCP servers; their tools fail afterwards. */
  close(): Promise<void>;
}

/**
 * Why a toolset cannot be built: `request` for names nobody knows (a mistake in what was asked
 * for), `config` for what the configuration lacks or gets wrong (hosts of the http tool, an MCP
 * server that does not start, a workspace group without a workspace).
 */
export class ToolsetError extends Error {
  readonly kind: 'request' | 'config';
  readonly problems: readonly string[];
  readonly remedy: string;

  constructor(
    kind: 'request' | 'config',
    message: string,
    problems: readonly string[],
    remedy: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ToolsetError';
    this.kind = kind;
    this.problems = problems;
    this.remedy = remedy;
  }
}

/** Groups a configuration switches on (the ones offered when nothing is requested by name). */
export function configuredGroups(config: ToolsetConfig): ToolGroup[] {
  const groups: ToolGroup[] = [];
  const on = config.groups ?? {};
  if (on.files === true) groups.push('files');
  if (on.search === true) groups.push('search');
  if (on.patch === true) groups.push('patch');
  if (on.exec === true) groups.push('exec');
  if (config.http !== undefined) groups.push('http');
  if (on.discovery === true) groups.push('discovery');
  if (Object.keys(config.mcpServers ?? {}).length > 0) groups.push('mcp');
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

/**
 * Builds the tools. Throws `ToolsetError`: an unknown name (with the closest known names), the
 * http tool without its hosts, an MCP server that cannot be reached, or a workspace tool asked
 * for by name without a workspace. Configured workspace groups are left out without a workspace.
 */
export async function createToolset(options: ToolsetOptions): Promise<Toolset> {
  const selection = select(options);
  const mcpServerNames = new Set([
    ...selection.mcpServers,
    ...[...selection.mcpTools].map((name) => name.split('.')[1] as string),
  ]);
  const needed = new Set<ToolGroup>([...selection.groups, ...selection.single.values()]);
  const root = options.root;
  if (root === undefined) {
    const named = [...needed].filter((group) => WORKSPACE_GROUPS.has(group));
    if (options.requested !== undefined && named.length > 0) {
      throw new ToolsetError(
        'config',
        `the ${named.join(', ')} tools work in a workspace, and none is configured`,
        [],
        'Give a workspace directory (--workspace, or "workspace" in the configuration), or ask for other tools.',
      );
    }
    for (const group of named) needed.delete(group);
  }
  const built = new Map<string, AnyTool>();
  const add = (tools: readonly AnyTool[]) => {
    for (const tool of tools) built.set(tool.name, tool);
  };
  if (root !== undefined) {
    if (needed.has('files')) add(createFileTools({ root }));
    if (needed.has('search')) add(createSearchTools({ root }));
    if (needed.has('patch')) add([createPatchTool({ root })]);
    if (needed.has('exec')) add([createExecTool({ root })]);
  }
  if (needed.has('http')) {
    if (options.http === undefined) {
      throw new ToolsetError(
        'config',
        'the http tool needs the hosts it may reach',
        [],
        'Set "http": { "allowHosts": [...] } in the configuration, and a policy rule that allows http for them.',
      );
    }
    add([createHttpTool({ allowHosts: options.http.allowHosts })]);
  }

  let connection: McpConnection | undefined;
  const chosen: AnyTool[] = [];
  try {
    if (mcpServerNames.size > 0) {
      connection = await connectMcp(options.mcpServers ?? {}, mcpServerNames);
      for (const tool of connection.tools) {
        const server = tool.name.split('.')[1] as string;
        if (selection.mcpServers.has(server) || selection.mcpTools.has(tool.name)) chosen.push(tool);
      }
      const offered = new Set(connection.tools.map((tool) => tool.name));
      const missing = [...selection.mcpTools].filter((name) => !offered.has(name));
      if (missing.length > 0) throw unknownTools(missing, [...offered]);
    }
    for (const [name, tool] of built) {
      const group = groupOf(name);
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

function groupOf(tool: string): ToolGroup | undefined {
  return TOOL_GROUP_NAMES.find((group) => (TOOL_GROUPS[group] as readonly string[]).includes(tool));
}

function select(options: ToolsetOptions): Selection {
  const groups = new Set<ToolGroup>();
  const single = new Map<string, ToolGroup>();
  const mcpServers = new Set<string>();
  const mcpTools = new Set<string>();
  const configuredServers = Object.keys(options.mcpServers ?? {});
  const requested = options.requested ?? configuredGroups(options);
  const unknown: string[] = [];
  for (const name of requested) {
    if ((TOOL_GROUP_NAMES as readonly string[]).includes(name)) {
      groups.add(name as ToolGroup);
      if (name === 'mcp') for (const server of configuredServers) mcpServers.add(server);
      continue;
    }
    const group = groupOf(name);
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
      ...TOOL_GROUP_NAMES,
      ...Object.values(TOOL_GROUPS).flat(),
      ...configuredServers.map((server) => `mcp.${server}`),
    ];
    throw unknownTools(unknown, known);
  }
  return { groups, single, mcpServers, mcpTools };
}

function unknownTools(unknown: readonly string[], known: readonly string[]): ToolsetError {
  const hints = unknown.map((name) => {
    const close = closestNames(name, known, 1);
    return close.length > 0 ? `${name} (did you mean ${close[0]}?)` : name;
  });
  return new ToolsetError(
    'request',
    `unknown tool${unknown.length === 1 ? '' : 's'}: ${hints.join(', ')}`,
    [],
    `Known groups: ${TOOL_GROUP_NAMES.join(', ')}; single tools are named as in the script (readFile, grep, mcp.<server>.<tool>).`,
  );
}

async function connectMcp(
  configured: Readonly<Record<string, McpServerConfig>>,
  servers: ReadonlySet<string>,
): Promise<McpConnection> {
  const chosen: Record<string, McpServerConfig> = {};
  for (const server of servers) {
    const entry = configured[server];
    if (entry !== undefined) chosen[server] = entry;
  }
  try {
    return await connectMcpServers(chosen);
  } catch (error) {
    if (error instanceof HarnessError) {
      throw new ToolsetError(
        'config',
        'cannot connect to the configured MCP servers',
        [error.message],
        'Check "mcpServers" in the configuration: the command, its arguments, or the URL.',
        { cause: error },
      );
    }
    throw error;
  }
}
