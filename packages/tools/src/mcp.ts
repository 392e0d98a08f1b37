/**
 * Tools of MCP servers, callable from a script as `tools.mcp.<server>.<tool>`. Each configured
 * server (a child process over stdio, or a streamable HTTP endpoint) is connected once; its tool
 * list is read at connect time and every tool becomes a harness tool whose input schema is the
 * server's JSON Schema, so arguments are validated host-side (and declared in the `.d.ts`) before
 * a call reaches the server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  type CallToolResult,
  Client,
  type JSONRPCMessage,
  type Tool as McpToolDescription,
  ProtocolError,
  ReadBuffer,
  SdkError,
  SdkErrorCode,
  StreamableHTTPClientTransport,
  serializeMessage,
  type Transport,
} from '@modelcontextprotocol/client';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/client/validators/ajv';
import { type AnyTool, defineTool, HarnessError, redactHostPaths, type ToolExecuteContext } from '@script-harness/core';
import { z } from 'zod';
import { jsonBytes, prefixWithinJsonBytes } from './json-size.ts';

/** A server started as a child process and spoken to over its stdin and stdout. */
export interface McpStdioServerConfig {
  readonly command: string;
  readonly args?: readonly string[];
  /** The server's whole environment besides PATH: nothing else of the host's environment is passed on. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

/** A server reached over streamable HTTP. */
export interface McpHttpServerConfig {
  /** The MCP endpoint, `http:` or `https:`. */
  readonly url: string;
  /** Sent with every request (e.g. `Authorization`). */
  readonly headers?: Readonly<Record<string, string>>;
}

export type McpServerConfig = McpStdioServerConfig | McpHttpServerConfig;

export interface McpConnectOptions {
  /** Most milliseconds one tool call may take; default 60 000. */
  readonly timeoutMs?: number;
  /** Most milliseconds starting or reaching a server and reading its tool list may take; default 60 000. */
  readonly connectTimeoutMs?: number;
  /** Most JSON bytes one tool result may take; the harness's `maxToolOutputBytes` applies as well. */
  readonly maxOutputBytes?: number;
  /** The client name the servers see; default `script-harness`. */
  readonly clientName?: string;
}

/** Where a harness tool of a connection comes from: the server and the tool's name there. */
export interface McpToolOrigin {
  readonly server: string;
  readonly tool: string;
}

export interface McpConnection {
  /** One harness tool per MCP tool, named `mcp.<server>.<tool>`. */
  readonly tools: readonly AnyTool[];
  /** The configured server names, in configuration order. */
  readonly servers: readonly string[];
  /** Harness tool name → server and MCP tool name (they differ when the MCP name is not an identifier). */
  readonly origins: ReadonlyMap<string, McpToolOrigin>;
  /** Closes every connection and stops every server process. Calls made afterwards fail. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** How a tool's arguments are checked host-side; see `inputSchemaFromJson`. */
export type McpInputValidation = 'zod' | 'json-schema' | 'server';

export const DEFAULT_MCP_TIMEOUT_MS = 60_000;
export const DEFAULT_MCP_CLIENT_NAME = 'script-harness';
/** Longest error message taken over from a server; the rest is cut. */
export const MAX_MCP_ERROR_CHARS = 2000;

const CLIENT_VERSION = '0.1.0';
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
/** Segment names `defineTool` refuses: they would reach the prototype machinery or look like a thenable. */
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype', 'then']);
/** Characters of a server's stderr kept to explain a failed start. */
const STDERR_TAIL_CHARS = 4000;
/** How long a stdio server gets to exit by itself once its stdin is closed, and again after SIGTERM. */
const EXIT_GRACE_MS = 1000;
/** Room in a content result for everything but the content items. */
const CONTENT_RESULT_OVERHEAD_BYTES = 64;
/** Most characters of a JSON Schema shown in a description when the declaration cannot show it. */
const MAX_SCHEMA_IN_DESCRIPTION_CHARS = 2000;

/** One MCP content block as the script receives it: text as is, binary payloads only described. */
const ContentItem = z
  .union([
    z.object({ type: z.literal('text'), text: z.string() }),
    z.object({
      type: z.enum(['image', 'audio']),
      mimeType: z.string(),
      bytes: z.number().int().nonnegative().describe('Size of the binary payload, which is not passed on.'),
    }),
    z.object({
      type: z.literal('resource'),
      uri: z.string(),
      mimeType: z.string().optional(),
      text: z.string().optional().describe('The content of a text resource.'),
      bytes: z.number().int().nonnegative().optional().describe('Size of a binary resource, which is not passed on.'),
    }),
    z.object({
      type: z.literal('resource_link'),
      uri: z.string(),
      name: z.string(),
      mimeType: z.string().optional(),
      description: z.string().optional(),
    }),
    z.object({
      type: z.literal('unsupported'),
      contentType: z.string().describe('The MCP content type this version does not pass on.'),
    }),
  ])
  // An id makes the declarations name this type once instead of spelling it out for every tool.
  .meta({ id: 'McpContent', description: 'One content block of an MCP tool result.' });

const ContentResult = z.object({
  content: z.array(ContentItem),
  truncated: z.boolean().describe('True when content was cut or left out to fit the result limit.'),
  structuredContent: z.record(z.string(), z.unknown()).optional(),
});

export type McpContentItem = z.output<typeof ContentItem>;
export type McpContentResult = z.output<typeof ContentResult>;

const StdioConfigSchema = z.strictObject({
  command: z.string().min(1),
  args: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()).optional(),
  cwd: z.string().min(1).optional(),
});

const HttpConfigSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  headers: z.record(z.string(), z.string()).optional(),
});

interface Settings {
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly maxOutputBytes: number;
  readonly clientName: string;
}

interface ServerSession {
  readonly server: string;
  readonly client: Client;
  readonly listed: readonly McpToolDescription[];
  /** False once the connection closed: by close(), or because the server went away. */
  connected(): boolean;
  close(): Promise<void>;
}

/**
 * Connects to every configured server (in parallel), reads their tool lists and returns one
 * harness tool per MCP tool. When any server fails, the others are closed again and the error
 * names the failed servers. The tool lists are read once: tools a server adds or removes later are
 * not picked up (`notifications/tools/list_changed` is not followed); connect again to refresh.
 */
export async function connectMcpServers(
  config: Readonly<Record<string, McpServerConfig>>,
  options: McpConnectOptions = {},
): Promise<McpConnection> {
  const settings = parseSettings(options);
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new HarnessError('INVALID_REQUEST', 'the MCP server configuration must be an object of server name → server');
  }
  const servers = Object.keys(config);
  const transports = servers.map((server) => ({ server, transport: transportFor(server, config[server]) }));

  const outcomes = await Promise.allSettled(
    transports.map(({ server, transport }) => openSession(server, transport, settings)),
  );
  const sessions = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
  if (failures.length > 0) {
    await Promise.allSettled(sessions.map((session) => session.close()));
    const messages = failures.map((failure) => (failure instanceof Error ? failure.message : String(failure)));
    throw new HarnessError('INTERNAL', messages.join('; '), { cause: failures[0] });
  }

  const validator = new AjvJsonSchemaValidator();
  const tools: AnyTool[] = [];
  const origins = new Map<string, McpToolOrigin>();
  for (const session of sessions) {
    for (const { tool, origin } of serverTools(session, settings, validator)) {
      tools.push(tool);
      origins.set(tool.name, origin);
    }
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= Promise.allSettled(sessions.map((session) => session.close())).then(() => undefined);
    return closing;
  };
  return { tools, servers, origins, close, [Symbol.asyncDispose]: close };
}

function parseSettings(options: McpConnectOptions): Settings {
  const timeoutMs = positiveInteger(options.timeoutMs ?? DEFAULT_MCP_TIMEOUT_MS, 'timeoutMs');
  const connectTimeoutMs = positiveInteger(options.connectTimeoutMs ?? DEFAULT_MCP_TIMEOUT_MS, 'connectTimeoutMs');
  const maxOutputBytes = options.maxOutputBytes ?? Number.POSITIVE_INFINITY;
  if (maxOutputBytes !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(maxOutputBytes) || maxOutputBytes <= 0)) {
    throw new HarnessError('INVALID_REQUEST', 'maxOutputBytes must be a positive integer');
  }
  const clientName = options.clientName ?? DEFAULT_MCP_CLIENT_NAME;
  if (typeof clientName !== 'string' || clientName.trim() === '') {
    throw new HarnessError('INVALID_REQUEST', 'clientName must be a non-empty string');
  }
  return { timeoutMs, connectTimeoutMs, maxOutputBytes, clientName };
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new HarnessError('INVALID_REQUEST', `${name} must be a positive integer`);
  }
  return value;
}

/** Checks one server's name and configuration and makes its (not yet started) transport. */
function transportFor(server: string, config: unknown): Transport {
  if (!IDENTIFIER.test(server) || RESERVED_NAMES.has(server)) {
    throw new HarnessError(
      'INVALID_REQUEST',
      `invalid MCP server name ${JSON.stringify(server)}: it becomes tools.mcp.<server>, so it must be a JavaScript ` +
        'identifier (letters, digits, _ and $, not starting with a digit) other than __proto__/constructor/prototype/then',
    );
  }
  const invalid = (problem: string) =>
    new HarnessError('INVALID_REQUEST', `MCP server ${JSON.stringify(server)}: ${problem}`);
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw invalid('the configuration must be an object with either command (stdio) or url (streamable HTTP)');
  }
  const hasCommand = 'command' in config;
  if (hasCommand === 'url' in config) {
    throw invalid('give either command (a stdio server) or url (a streamable HTTP server), not both or neither');
  }
  if (hasCommand) {
    const parsed = StdioConfigSchema.safeParse(config);
    if (!parsed.success) throw invalid(describeIssue(parsed.error));
    return new StdioServerTransport(parsed.data);
  }
  const parsed = HttpConfigSchema.safeParse(config);
  if (!parsed.success) throw invalid(describeIssue(parsed.error));
  return new StreamableHTTPClientTransport(new URL(parsed.data.url), {
    requestInit: { headers: { ...parsed.data.headers } },
  });
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid configuration';
  return issue.path.length === 0 ? issue.message : `${issue.path.join('.')}: ${issue.message}`;
}

async function openSession(server: string, transport: Transport, settings: Settings): Promise<ServerSession> {
  // Tool list changes are not followed (see connectMcpServers), so no listChanged handler.
  const client = new Client({ name: settings.clientName, version: CLIENT_VERSION }, { capabilities: {} });
  try {
    await client.connect(transport, { timeout: settings.connectTimeoutMs });
    let open = true;
    client.onclose = () => {
      open = false;
    };
    const { tools } = await client.listTools(undefined, { timeout: settings.connectTimeoutMs });
    const close = () => {
      open = false;
      return client.close();
    };
    return { server, client, listed: tools, connected: () => open, close };
  } catch (error) {
    await client.close().catch(() => {});
    const stderr = transport instanceof StdioServerTransport ? transport.stderrTail.trim() : '';
    const reason = error instanceof Error ? error.message : String(error);
    const message = `MCP server ${JSON.stringify(server)} did not connect: ${bounded(reason, 500)}${
      stderr === '' ? '' : ` (its stderr ended with: ${bounded(stderr, 1000)})`
    }`;
    throw new HarnessError('INTERNAL', redactHostPaths(message), { cause: error });
  }
}

function serverTools(
  session: ServerSession,
  settings: Settings,
  validator: AjvJsonSchemaValidator,
): { tool: AnyTool; origin: McpToolOrigin }[] {
  const { server } = session;
  // A server listing one name twice would make the second unreachable by name anyway.
  const listed = session.listed.filter(
    (tool, index) => session.listed.findIndex((other) => other.name === tool.name) === index,
  );
  const identifiers = assignToolIdentifiers(listed.map((tool) => tool.name));
  return listed.map((description) => {
    const mcpName = description.name;
    const name = `mcp.${server}.${identifiers.get(mcpName) as string}`;
    const input = inputSchemaFromJson(description.inputSchema, validator);
    const declaredOutput =
      description.outputSchema === undefined ? undefined : outputSchemaFromJson(description.outputSchema);
    const tool = defineTool<Record<string, unknown> | undefined, unknown>({
      name,
      description: toolDescription(description, mcpName !== identifiers.get(mcpName), input.validation),
      input: input.schema as z.ZodType<Record<string, unknown> | undefined>,
      // A tool with an output schema returns its structured content; any other tool its content blocks.
      ...(description.outputSchema === undefined
        ? { output: ContentResult }
        : declaredOutput === undefined
          ? {}
          : { output: declaredOutput }),
      async execute(args, context) {
        const result = await callMcpTool(session, mcpName, args, context, settings, name);
        const limit = Math.min(settings.maxOutputBytes, context.maxOutputBytes);
        if (description.outputSchema !== undefined) return structuredResult(result, limit, name);
        return contentResult(result, limit);
      },
    });
    return { tool, origin: { server, tool: mcpName } };
  });
}

async function callMcpTool(
  session: ServerSession,
  mcpName: string,
  args: Record<string, unknown> | undefined,
  context: ToolExecuteContext,
  settings: Settings,
  name: string,
): Promise<CallToolResult> {
  const { signal } = context;
  const server = JSON.stringify(session.server);
  signal.throwIfAborted();
  if (!session.connected()) throw new HarnessError('TOOL_ERROR', `MCP server ${server} is not connected`);
  let result: CallToolResult;
  try {
    // The signal makes the client send notifications/cancelled, so the server stops work nobody awaits.
    result = await session.client.callTool(
      { name: mcpName, arguments: args ?? {} },
      { signal, timeout: settings.timeoutMs },
    );
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout) {
      throw new HarnessError(
        'TOOL_ERROR',
        `tools.${name} did not answer within ${settings.timeoutMs} ms; the call was cancelled`,
      );
    }
    if (!session.connected()) throw new HarnessError('TOOL_ERROR', `MCP server ${server} is not connected`);
    const message = bounded(
      redactHostPaths(error instanceof Error ? error.message : String(error)),
      MAX_MCP_ERROR_CHARS,
    );
    const what = error instanceof ProtocolError ? 'refused the call' : 'failed the call';
    throw new HarnessError('TOOL_ERROR', `MCP server ${server} ${what}: ${message}`);
  }
  if (result.isError === true) {
    throw new HarnessError('TOOL_ERROR', toolErrorMessage(result), {
      details: { server: session.server, tool: mcpName },
    });
  }
  return result;
}

/** The text of an `isError` result, as the message of the error the script sees. */
function toolErrorMessage(result: CallToolResult): string {
  const text = result.content
    .flatMap((block) => (block.type === 'text' ? [block.text] : []))
    .join('\n')
    .trim();
  if (text === '') return 'the MCP tool reported an error without a message';
  return bounded(redactHostPaths(text), MAX_MCP_ERROR_CHARS);
}

function structuredResult(result: CallToolResult, limitBytes: number, name: string): unknown {
  const structured = result.structuredContent;
  if (jsonBytes(structured ?? null) > limitBytes) {
    throw new HarnessError('OUTPUT_LIMIT', `the result of tools.${name} is larger than ${limitBytes} bytes`);
  }
  return structured;
}

/**
 * Maps content blocks to plain data within `limitBytes` of JSON. Items are kept in order; the one
 * that does not fit is cut when it has text and dropped otherwise, and everything after it is
 * left out, with `truncated: true`.
 */
export function contentResult(
  result: Pick<CallToolResult, 'content' | 'structuredContent'>,
  limitBytes: number,
): McpContentResult {
  const content: McpContentItem[] = [];
  let used = CONTENT_RESULT_OVERHEAD_BYTES;
  let truncated = false;
  for (const block of result.content) {
    const item = contentItem(block);
    const cost = jsonBytes(item) + 1;
    if (used + cost <= limitBytes) {
      content.push(item);
      used += cost;
      continue;
    }
    truncated = true;
    if ((item.type === 'text' || item.type === 'resource') && item.text !== undefined) {
      // What the item takes besides its text: the rest of its JSON (the text's quotes included) and the separating comma.
      const frame = jsonBytes({ ...item, text: '' }) + 1;
      const text = prefixWithinJsonBytes(item.text, limitBytes - used - frame);
      if (text !== '') content.push({ ...item, text });
    }
    break;
  }
  const output: McpContentResult = { content, truncated };
  const structured = result.structuredContent;
  if (isRecord(structured)) {
    const cost = jsonBytes(structured) + ',"structuredContent":'.length;
    if (!truncated && used + cost <= limitBytes) output.structuredContent = structured;
    else output.truncated = true;
  }
  return output;
}

function contentItem(block: CallToolResult['content'][number]): McpContentItem {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: block.text };
    case 'image':
    case 'audio':
      return { type: block.type, mimeType: block.mimeType, bytes: base64Bytes(block.data) };
    case 'resource': {
      const resource = block.resource;
      const base = { type: 'resource' as const, uri: resource.uri, ...optional('mimeType', resource.mimeType) };
      if ('text' in resource && typeof resource.text === 'string') return { ...base, text: resource.text };
      return {
        ...base,
        bytes: 'blob' in resource && typeof resource.blob === 'string' ? base64Bytes(resource.blob) : 0,
      };
    }
    case 'resource_link':
      return {
        type: 'resource_link',
        uri: block.uri,
        name: block.name,
        ...optional('mimeType', block.mimeType),
        ...optional('description', block.description),
      };
    default:
      return { type: 'unsupported', contentType: String((block as { type: unknown }).type) };
  }
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

function base64Bytes(data: string): number {
  return Buffer.byteLength(data, 'base64');
}

/**
 * MCP tool names may contain characters a JavaScript identifier cannot (`create-issue`,
 * `files/read`). Each name gets an identifier: names that are identifiers keep theirs; the others
 * have every run of other characters replaced by `_` (and `_` put before a leading digit). Where
 * two names would meet, the later one in code-unit order of the original names gets `_2`, `_3`,
 * ...; the result therefore depends on the set of names, not on the order the server listed them.
 */
export function assignToolIdentifiers(names: readonly string[]): Map<string, string> {
  const assigned = new Map<string, string>();
  const taken = new Set<string>();
  for (const name of names) {
    if (IDENTIFIER.test(name) && !RESERVED_NAMES.has(name) && !taken.has(name)) {
      assigned.set(name, name);
      taken.add(name);
    }
  }
  const rest = names.filter((name) => !assigned.has(name)).sort(compareCodeUnits);
  for (const name of rest) {
    if (assigned.has(name)) continue;
    const base = identifierFor(name);
    let candidate = base;
    for (let suffix = 2; taken.has(candidate); suffix++) candidate = `${base}_${suffix}`;
    assigned.set(name, candidate);
    taken.add(candidate);
  }
  return assigned;
}

function identifierFor(name: string): string {
  let identifier = name.replace(/[^\w$]+/g, '_');
  if (identifier === '' || identifier === '_') identifier = 'tool';
  if (/^\d/.test(identifier)) identifier = `_${identifier}`;
  if (RESERVED_NAMES.has(identifier)) identifier = `${identifier}_`;
  return identifier;
}

/**
 * The zod schema a tool's arguments are validated with before the call is sent. In order:
 *
 * 1. `zod`: the JSON Schema converted with `z.fromJSONSchema`. Validation errors name the path
 *    of the bad argument, and the declaration shows the argument types.
 * 2. `json-schema`: schemas zod cannot convert (`if`/`then`/`else`, `not`, `dependentRequired`,
 *    external `$ref`, ...) are checked by the MCP client's JSON Schema validator (Ajv) instead;
 *    the declaration says only `Record<string, unknown>`.
 * 3. `server`: a schema even Ajv cannot compile leaves only "an object" to check host-side; the
 *    server validates the rest.
 *
 * Object schemas that list `properties` and say nothing about other keys are treated as closed
 * (`additionalProperties: false`), like the other tools of this package: a model that misspells
 * a key gets `TOOL_VALIDATION` instead of a server that silently ignores it. Objects inside
 * `allOf`/`anyOf`/`oneOf`, `$defs` or next to `patternProperties` stay as the server wrote them,
 * since closing those would change what they accept. A schema that requires no property makes
 * the arguments optional (`tools.mcp.s.t()` sends `{}`).
 */
export function inputSchemaFromJson(
  jsonSchema: unknown,
  validator: AjvJsonSchemaValidator = new AjvJsonSchemaValidator(),
): { schema: z.ZodType; validation: McpInputValidation } {
  const closed = closeObjectSchemas(jsonSchema);
  const required = isRecord(closed) ? closed.required : undefined;
  const argsOptional = !Array.isArray(required) || required.length === 0;
  const finish = (schema: z.ZodType, validation: McpInputValidation) => ({
    schema: argsOptional ? schema.optional() : schema,
    validation,
  });
  try {
    return finish(z.fromJSONSchema(closed as z.core.JSONSchema.JSONSchema), 'zod');
  } catch {
    // Not convertible: fall through to the JSON Schema validator.
  }
  const anObject = z.record(z.string(), z.unknown());
  try {
    const validate = validator.getValidator(closed as Parameters<AjvJsonSchemaValidator['getValidator']>[0]);
    return finish(
      anObject.superRefine((value, refinement) => {
        const outcome = validate(value);
        if (!outcome.valid) refinement.addIssue({ code: 'custom', message: outcome.errorMessage });
      }),
      'json-schema',
    );
  } catch {
    return finish(anObject, 'server');
  }
}

/**
 * The zod form of a tool's output schema, for the declaration and the harness's result check; or
 * undefined when zod cannot convert it (the MCP client still validates results against it).
 * Output schemas are taken as written: closing them would refuse results the server may send.
 */
export function outputSchemaFromJson(jsonSchema: unknown): z.ZodType | undefined {
  try {
    return z.fromJSONSchema(jsonSchema as z.core.JSONSchema.JSONSchema);
  } catch {
    return undefined;
  }
}

/** Keys next to which closing an object would change what the schema accepts. */
const OPEN_OBJECT_KEYS = [
  'additionalProperties',
  'patternProperties',
  'unevaluatedProperties',
  'propertyNames',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'if',
  '$ref',
  '$dynamicRef',
  'dependentSchemas',
];

function closeObjectSchemas(schema: unknown): unknown {
  if (!isRecord(schema)) return schema;
  const copy: Record<string, unknown> = { ...schema };
  if (isRecord(copy.properties)) {
    if (!OPEN_OBJECT_KEYS.some((key) => key in copy)) copy.additionalProperties = false;
    copy.properties = Object.fromEntries(
      Object.entries(copy.properties).map(([key, value]) => [key, closeObjectSchemas(value)]),
    );
  }
  if (Array.isArray(copy.items)) copy.items = copy.items.map(closeObjectSchemas);
  else if (isRecord(copy.items)) copy.items = closeObjectSchemas(copy.items);
  if (Array.isArray(copy.prefixItems)) copy.prefixItems = copy.prefixItems.map(closeObjectSchemas);
  if (isRecord(copy.additionalProperties)) copy.additionalProperties = closeObjectSchemas(copy.additionalProperties);
  return copy;
}

function toolDescription(tool: McpToolDescription, renamed: boolean, validation: McpInputValidation): string {
  const parts = [tool.description?.trim() || tool.title?.trim() || `MCP tool ${JSON.stringify(tool.name)}.`];
  // The model may see the original name in the server's own texts and messages.
  if (renamed) parts.push(`(MCP name ${JSON.stringify(tool.name)})`);
  if (validation !== 'zod') {
    // The declaration can only say Record<string, unknown>; the schema itself tells the model more.
    parts.push(
      `Arguments (JSON Schema): ${bounded(JSON.stringify(tool.inputSchema), MAX_SCHEMA_IN_DESCRIPTION_CHARS)}`,
    );
  }
  return parts.join('\n');
}

/**
 * The stdio transport of the MCP client passes a fixed list of host variables (HOME, USER, SHELL,
 * ...) to the server besides the configured ones; this one passes PATH and the configured ones
 * only, and stops the server's whole process group on close (wrappers such as `npx` start the
 * real server as a grandchild).
 */
class StdioServerTransport implements Transport {
  onclose?: Transport['onclose'];
  onerror?: Transport['onerror'];
  onmessage?: Transport['onmessage'];

  readonly #config: z.output<typeof StdioConfigSchema>;
  readonly #readBuffer = new ReadBuffer();
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #stderrTail = '';

  constructor(config: z.output<typeof StdioConfigSchema>) {
    this.#config = config;
  }

  /** The end of what the server wrote to stderr, to explain a failed start. */
  get stderrTail(): string {
    return this.#stderrTail;
  }

  start(): Promise<void> {
    if (this.#child !== undefined) return Promise.reject(new Error('the server process is already started'));
    return new Promise((resolve, reject) => {
      const child = spawn(this.#config.command, this.#config.args ?? [], {
        env: serverEnvironment(this.#config.env),
        cwd: this.#config.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        shell: false,
        // Its own process group, so that close() reaches the processes it starts as well.
        detached: process.platform !== 'win32',
        windowsHide: true,
      });
      this.#child = child;
      this.#exited = new Promise((settle) => {
        child.once('exit', () => settle());
        // A process that never started never exits.
        child.once('error', () => {
          if (child.pid === undefined) settle();
        });
      });
      child.once('spawn', () => resolve());
      child.once('error', (error) => {
        reject(error);
        this.onerror?.(error);
      });
      child.once('close', () => {
        this.#child = undefined;
        this.onclose?.();
      });
      child.stdout.on('data', (chunk: Buffer) => {
        try {
          this.#readBuffer.append(chunk);
          for (
            let message = this.#readBuffer.readMessage();
            message !== null;
            message = this.#readBuffer.readMessage()
          ) {
            this.onmessage?.(message);
          }
        } catch (error) {
          this.onerror?.(error instanceof Error ? error : new Error(String(error)));
        }
      });
      // Always read stderr: a full pipe would block the server.
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        this.#stderrTail = (this.#stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
      });
      for (const stream of [child.stdin, child.stdout, child.stderr]) {
        stream.on('error', (error) => this.onerror?.(error));
      }
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#child?.stdin;
    if (!stdin || stdin.destroyed) {
      return Promise.reject(new SdkError(SdkErrorCode.NotConnected, 'the server process is not running'));
    }
    return new Promise((resolve) => {
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once('drain', resolve);
    });
  }

  /** Closes stdin, then sends SIGTERM and at last SIGKILL to the process group, each after a grace period. */
  async close(): Promise<void> {
    const child = this.#child;
    const exited = this.#exited;
    this.#readBuffer.clear();
    if (child === undefined || exited === undefined) return;
    child.stdin?.end();
    const running = () => child.exitCode === null && child.signalCode === null;
    if (running()) await Promise.race([exited, delay(EXIT_GRACE_MS)]);
    if (running()) {
      signalGroup(child, 'SIGTERM');
      await Promise.race([exited, delay(EXIT_GRACE_MS)]);
    }
    if (running()) {
      signalGroup(child, 'SIGKILL');
      await Promise.race([exited, delay(EXIT_GRACE_MS)]);
    } else if (process.platform !== 'win32') {
      // The server is gone; processes it started in its group may not be.
      signalGroup(child, 'SIGKILL');
    }
  }
}

/** PATH and the configured variables; on Windows also what a process needs to start at all. */
function serverEnvironment(configured: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const inherited = process.platform === 'win32' ? ['PATH', 'PATHEXT', 'SYSTEMROOT'] : ['PATH'];
  const environment: Record<string, string> = {};
  for (const key of inherited) {
    const value = process.env[key];
    if (value !== undefined) environment[key] = value;
  }
  return { ...environment, ...configured };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (process.platform !== 'win32' && child.pid !== undefined) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // Already gone.
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function bounded(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
