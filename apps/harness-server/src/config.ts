/**
 * The server's configuration: one zod schema, filled from a JSON file, then the environment
 * (`HARNESS_*`), then command line flags, each later source winning field by field. Loading never
 * stops at the first mistake: every problem is collected and reported together, each naming the
 * field and where its value came from, so an operator fixes a broken deployment in one round.
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { closestNames, DEFAULT_LIMITS, DEFAULT_MAX_LIMITS, type Limits, LimitsSchema } from '@script-harness/core';
import { APPROVE_MODES, HostPatternSchema, PolicyRuleSchema } from '@script-harness/policy';
import { z } from 'zod';
import { parseApiKeysVariable, TENANT_NAME_PATTERN } from './auth.ts';

/**
 * Overrides of the limits without their defaults: a field left out stays out, so an override
 * never resets limits it does not name.
 */
export const LimitsOverrideSchema = z.strictObject(
  Object.fromEntries(
    Object.entries(LimitsSchema.shape).map(([key, field]) => [key, field.unwrap().optional()]),
  ) as unknown as { [K in keyof Limits]: z.ZodOptional<z.ZodType<Limits[K]>> },
);

export type LimitsOverride = z.output<typeof LimitsOverrideSchema>;

const TenantNameSchema = z
  .string()
  .regex(
    TENANT_NAME_PATTERN,
    'a tenant name is 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit',
  );

export const ApiKeySchema = z
  .strictObject({
    tenant: TenantNameSchema.describe('Who the key belongs to: used for limits, audit records and metrics.'),
    key: z
      .string()
      .min(16, 'an API key must be at least 16 characters long')
      .max(512)
      .optional()
      .describe('The key itself (prefer `sha256` in files).'),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'sha256 must be 64 hexadecimal characters')
      .optional()
      .describe('SHA-256 of the key, hex: `printf %s "$KEY" | sha256sum`.'),
  })
  .superRefine((entry, context) => {
    if ((entry.key === undefined) === (entry.sha256 === undefined)) {
      context.addIssue({ code: 'custom', message: 'give exactly one of key and sha256' });
    }
  });

export type ApiKeyConfig = z.output<typeof ApiKeySchema>;

export const EXECUTION_MODES = ['enabled', 'dry-run', 'disabled'] as const;

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

/** The node roles of the distributed mode (as in @script-harness/queue-bullmq, which is loaded only with Redis). */
export const NODE_ROLES = ['all', 'api', 'worker'] as const;

export const ServerConfigSchema = z.strictObject({
  port: z.number().int().min(0).max(65_535).default(8080).describe('TCP port; 0 picks a free one.'),
  host: z.string().min(1).optional().describe('Address to bind; default 0.0.0.0, or 127.0.0.1 with insecureNoAuth.'),
  insecureNoAuth: z.boolean().default(false).describe('Run without API keys; the server then binds to 127.0.0.1 only.'),
  apiKeys: z
    .array(ApiKeySchema)
    .default([])
    .describe('Bearer tokens accepted on `/v1/*`, one tenant each; an entry gives exactly one of `key` and `sha256`.'),
  metricsAuth: z.boolean().default(false).describe('Require an API key on /metrics.'),
  bodyLimitBytes: z
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024)
    .describe('Largest request body; larger ones are refused with 413.'),
  logLevel: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('Least severe level that is logged; `silent` logs nothing.'),
  runtime: z
    .strictObject({
      mode: z.enum(['pool', 'inline']).default('pool').describe('QuickJS in worker threads (pool) or inline.'),
      poolSize: z.number().int().min(1).max(256).optional().describe('Worker threads; default: the number of cores.'),
      warmSandboxes: z
        .number()
        .int()
        .min(0)
        .max(64)
        .default(2)
        .describe(
          'Booted QuickJS sandboxes kept per thread and restored from a snapshot after every script; a script that finds none idle boots its own. 0 boots one for every script.',
        ),
    })
    .prefault({}),
  queue: z
    .strictObject({
      concurrency: z.number().int().min(1).max(4096).default(16).describe('Scripts running at once.'),
      maxQueued: z
        .number()
        .int()
        .min(0)
        .max(1_000_000)
        .default(256)
        .describe('Scripts waiting beyond this are refused with 503.'),
      maxRunningPerTenant: z.number().int().min(1).optional().describe('Scripts of one tenant running at once.'),
      retryAfterSeconds: z.number().int().min(1).max(3600).default(1).describe('Retry-After of a 503.'),
      retry: z
        .strictObject({
          maxAttempts: z
            .number()
            .int()
            .min(1)
            .max(10)
            .default(3)
            .describe(
              'Attempts in all, the first included, of a run that failed retryably (e.g. its worker crashed) ' +
                'before any tool call; script faults are never retried.',
            ),
          baseDelayMs: z
            .number()
            .int()
            .min(0)
            .max(60_000)
            .default(100)
            .describe('Delay before the first retry, doubling for each further one (with jitter: half to all of it).'),
          maxDelayMs: z.number().int().min(0).max(600_000).default(5_000).describe('Longest delay before a retry.'),
        })
        .prefault({})
        .describe('Retries of scripts whose worker crashed before any tool call; script faults never retry.'),
    })
    .prefault({}),
  rateLimit: z
    .strictObject({
      max: z
        .number()
        .int()
        .min(1)
        .default(600)
        .describe('Requests to `/v1/*` per tenant (all its API keys together) per window; more are refused with 429.'),
      timeWindowMs: z
        .number()
        .int()
        .min(1000)
        .default(60_000)
        .describe('Length of the window `rateLimit.max` counts over.'),
    })
    .prefault({}),
  limits: LimitsOverrideSchema.default({}).describe('Limits of every run (unset keys keep their defaults).'),
  maxLimits: LimitsOverrideSchema.default({}).describe('Ceilings of per-request limit overrides.'),
  mode: z.enum(EXECUTION_MODES).default('enabled').describe('Execution mode of requests that do not name one.'),
  role: z
    .enum(NODE_ROLES)
    .default('all')
    .describe(
      'What this node does with the shared queue: `api` takes requests and queues their scripts, `worker` runs ' +
        'queued scripts (and serves only the operations endpoints), `all` does both. Roles other than `all` need `redis.url`.',
    ),
  redis: z
    .strictObject({
      url: z
        .string()
        .refine(isRedisUrl, 'must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379')
        .optional()
        .describe(
          'Redis to share the queue, spawned tasks and pending approvals with other nodes; unset: one node, all in process.',
        ),
      prefix: z
        .string()
        .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'a prefix is 1 to 64 letters, digits, "_", ".", ":" or "-"')
        .default('harness')
        .describe(
          'Prefix of every Redis key; the nodes of one deployment share it, two deployments on one Redis differ.',
        ),
      lockDurationMs: z
        .number()
        .int()
        .min(1000)
        .max(600_000)
        .default(30_000)
        .describe(
          'How long a running job stays locked without renewal: the jobs of a node that died run again after this.',
        ),
      stalledIntervalMs: z
        .number()
        .int()
        .min(500)
        .max(600_000)
        .default(15_000)
        .describe('How often each worker looks for jobs whose node died.'),
    })
    .prefault({}),
  shutdownGraceMs: z
    .number()
    .int()
    .min(0)
    .max(600_000)
    .default(30_000)
    .describe('On SIGTERM: how long queued and running scripts may finish before they are cancelled.'),
  workspace: z.string().min(1).optional().describe('Directory the file tools read and write; none: no file tools.'),
  tools: z
    .strictObject({
      files: z.boolean().default(true).describe('readFile, writeFile, listDir (needs workspace).'),
      search: z.boolean().default(true).describe('fileSearch and grep over the workspace (needs workspace).'),
      patch: z.boolean().default(true).describe('applyPatch: several file changes in one call (needs workspace).'),
      exec: z
        .boolean()
        .default(false)
        .describe('exec: run a command in the workspace; the default policy asks for approval (needs workspace).'),
      discovery: z.boolean().default(false).describe('$search and $describe: find tools by purpose.'),
      select: z
        .array(z.string().min(1).max(200))
        .min(1)
        .optional()
        .describe(
          'Tools and groups offered, by name (files, search, patch, exec, http, discovery, mcp, or single tools such ' +
            'as readFile or mcp.github.create_issue), instead of the groups switched on above; what `--tools` sets.',
        ),
      spawn: z.boolean().default(true).describe('spawn.* detached tasks over the other tools (server only).'),
    })
    .prefault({})
    .describe('Tool groups offered to scripts; the workspace groups need `workspace`.'),
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
    .describe('MCP servers by name; scripts call their tools as tools.mcp.NAME.TOOL.'),
  tasks: z
    .strictObject({
      maxLivePerTenant: z
        .number()
        .int()
        .min(1)
        .max(10_000)
        .default(8)
        .describe('Queued or running detached tasks (`spawn.*`) one tenant may have.'),
      defaultTimeoutMs: z
        .number()
        .int()
        .min(1)
        .default(300_000)
        .describe('Deadline of a task when the script gives none.'),
      maxTimeoutMs: z.number().int().min(1).default(3_600_000).describe('Longest deadline a script may give a task.'),
    })
    .prefault({}),
  policy: z
    .strictObject({
      rules: z
        .array(PolicyRuleSchema)
        .default([])
        .describe(
          "The operator's rules, in order: the first that matches a call decides; if none does, the default rules do.",
        ),
    })
    .prefault({})
    .describe('Ordered allow/deny/ask rules before the defaults (see docs/policy.md).'),
  approvals: z
    .strictObject({
      mode: z
        .enum(APPROVE_MODES)
        .default('ask')
        .describe(
          'Calls the policy asks about: `ask` holds them for a person (the server: `/v1/approvals`; the CLI: a ' +
            'prompt on a terminal, denied without one), `allow` approves and `deny` refuses them at once. `--approve` sets it.',
        ),
      timeoutMs: z
        .number()
        .int()
        .min(1)
        .max(86_400_000)
        .default(120_000)
        .describe('How long a held call waits for a decision before it fails with `APPROVAL_TIMEOUT`.'),
    })
    .prefault({}),
  auditFile: z.string().min(1).optional().describe('JSON-lines audit log of every policy decision and approval.'),
});

export type ServerConfigInput = z.input<typeof ServerConfigSchema>;

/** A loaded configuration: validated, defaults filled, paths absolute, the bind address decided. */
export type ServerConfig = Omit<z.output<typeof ServerConfigSchema>, 'host'> & { readonly host: string };

/** How one environment variable maps onto the schema. */
interface EnvironmentVariable {
  readonly path: readonly string[];
  readonly kind: 'integer' | 'number' | 'boolean' | 'string' | 'list' | 'apiKeys';
}

const LIMIT_VARIABLES: Record<string, EnvironmentVariable> = Object.fromEntries(
  Object.keys(LimitsSchema.shape).flatMap((key) => [
    [`HARNESS_LIMITS_${snakeCase(key)}`, { path: ['limits', key], kind: 'number' }],
    [`HARNESS_MAX_LIMITS_${snakeCase(key)}`, { path: ['maxLimits', key], kind: 'number' }],
  ]),
);

/** Every `HARNESS_*` variable the server reads; any other `HARNESS_*` variable is a mistake. */
export const ENVIRONMENT_VARIABLES: Readonly<Record<string, EnvironmentVariable>> = {
  HARNESS_PORT: { path: ['port'], kind: 'integer' },
  HARNESS_HOST: { path: ['host'], kind: 'string' },
  HARNESS_INSECURE_NO_AUTH: { path: ['insecureNoAuth'], kind: 'boolean' },
  HARNESS_API_KEYS: { path: ['apiKeys'], kind: 'apiKeys' },
  HARNESS_METRICS_AUTH: { path: ['metricsAuth'], kind: 'boolean' },
  HARNESS_BODY_LIMIT_BYTES: { path: ['bodyLimitBytes'], kind: 'integer' },
  HARNESS_LOG_LEVEL: { path: ['logLevel'], kind: 'string' },
  HARNESS_RUNTIME_MODE: { path: ['runtime', 'mode'], kind: 'string' },
  HARNESS_POOL_SIZE: { path: ['runtime', 'poolSize'], kind: 'integer' },
  HARNESS_WARM_SANDBOXES: { path: ['runtime', 'warmSandboxes'], kind: 'integer' },
  HARNESS_QUEUE_CONCURRENCY: { path: ['queue', 'concurrency'], kind: 'integer' },
  HARNESS_QUEUE_MAX_QUEUED: { path: ['queue', 'maxQueued'], kind: 'integer' },
  HARNESS_QUEUE_MAX_RUNNING_PER_TENANT: { path: ['queue', 'maxRunningPerTenant'], kind: 'integer' },
  HARNESS_QUEUE_RETRY_AFTER_SECONDS: { path: ['queue', 'retryAfterSeconds'], kind: 'integer' },
  HARNESS_QUEUE_RETRY_MAX_ATTEMPTS: { path: ['queue', 'retry', 'maxAttempts'], kind: 'integer' },
  HARNESS_RATE_LIMIT_MAX: { path: ['rateLimit', 'max'], kind: 'integer' },
  HARNESS_RATE_LIMIT_WINDOW_MS: { path: ['rateLimit', 'timeWindowMs'], kind: 'integer' },
  HARNESS_MODE: { path: ['mode'], kind: 'string' },
  HARNESS_ROLE: { path: ['role'], kind: 'string' },
  HARNESS_REDIS_URL: { path: ['redis', 'url'], kind: 'string' },
  HARNESS_REDIS_PREFIX: { path: ['redis', 'prefix'], kind: 'string' },
  HARNESS_REDIS_LOCK_DURATION_MS: { path: ['redis', 'lockDurationMs'], kind: 'integer' },
  HARNESS_REDIS_STALLED_INTERVAL_MS: { path: ['redis', 'stalledIntervalMs'], kind: 'integer' },
  HARNESS_SHUTDOWN_GRACE_MS: { path: ['shutdownGraceMs'], kind: 'integer' },
  HARNESS_WORKSPACE: { path: ['workspace'], kind: 'string' },
  HARNESS_TOOLS_FILES: { path: ['tools', 'files'], kind: 'boolean' },
  HARNESS_TOOLS_SEARCH: { path: ['tools', 'search'], kind: 'boolean' },
  HARNESS_TOOLS_PATCH: { path: ['tools', 'patch'], kind: 'boolean' },
  HARNESS_TOOLS_EXEC: { path: ['tools', 'exec'], kind: 'boolean' },
  HARNESS_TOOLS_DISCOVERY: { path: ['tools', 'discovery'], kind: 'boolean' },
  HARNESS_TOOLS: { path: ['tools', 'select'], kind: 'list' },
  HARNESS_TOOLS_SPAWN: { path: ['tools', 'spawn'], kind: 'boolean' },
  HARNESS_TASKS_MAX_LIVE_PER_TENANT: { path: ['tasks', 'maxLivePerTenant'], kind: 'integer' },
  HARNESS_APPROVAL_TIMEOUT_MS: { path: ['approvals', 'timeoutMs'], kind: 'integer' },
  HARNESS_APPROVAL_MODE: { path: ['approvals', 'mode'], kind: 'string' },
  HARNESS_AUDIT_FILE: { path: ['auditFile'], kind: 'string' },
  ...LIMIT_VARIABLES,
};

/** The variable naming the configuration file; not a field of the configuration itself. */
export const CONFIG_FILE_VARIABLE = 'HARNESS_CONFIG';

export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  /** JSON configuration file; default: `HARNESS_CONFIG` from `env`. */
  readonly file?: string | undefined;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Values from command line flags, keyed like the schema; they win over file and environment. */
  readonly overrides?: Readonly<Record<string, unknown>>;
  /** Names of the flags behind `overrides` by dotted path, for messages (`{ port: '--port', 'tools.select': '--tools' }`). */
  readonly overrideLabels?: Readonly<Record<string, string>>;
  /** Directory relative paths are resolved against (default: the process's working directory). */
  readonly cwd?: string;
}

/**
 * Loads and validates the configuration. Throws `ConfigError` listing every problem: unreadable
 * or invalid JSON, unknown fields and variables, wrong types, out-of-range values, missing API
 * keys, a workspace that is not a directory.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ServerConfig> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const problems: string[] = [];
  /** Where each top-level or nested value came from, by dotted path, for messages. */
  const sources = new Map<string, string>();

  let merged: Record<string, unknown> = {};
  const file = options.file ?? nonEmpty(env[CONFIG_FILE_VARIABLE]);
  if (file !== undefined) {
    const fromFile = await readConfigFile(resolve(cwd, file), file, problems);
    if (fromFile !== undefined) {
      merged = fromFile;
      markSources(fromFile, [], `config file ${file}`, sources);
    }
  }
  const fromEnv = configFromEnvironment(env, problems);
  merged = deepMerge(merged, fromEnv.values);
  for (const [path, variable] of fromEnv.sources) sources.set(path, variable);
  if (options.overrides !== undefined) {
    const overrides = withoutUndefined(options.overrides);
    merged = deepMerge(merged, overrides);
    markSources(overrides, [], 'command line', sources);
    for (const [path, label] of Object.entries(options.overrideLabels ?? {})) {
      if (valueAt(overrides, path.split('.')) !== undefined) sources.set(path, label);
    }
  }

  // Keys that were given but did not parse are already reported; "no keys" would only mislead.
  const keysGivenButInvalid = problems.some((problem) => problem.startsWith('HARNESS_API_KEYS:'));
  const parsed = ServerConfigSchema.safeParse(merged);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(describeIssue(issue, sources));
  }
  // Checked on the raw input, so they are reported even when other fields are invalid.
  problems.push(...(await inputProblems(merged, cwd, sources, keysGivenButInvalid)));
  if (!parsed.success) throw new ConfigError(problems);
  const config = parsed.data;
  problems.push(...valueProblems(config, sources));
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    ...config,
    host: config.host ?? (config.insecureNoAuth ? '127.0.0.1' : '0.0.0.0'),
    ...(config.workspace === undefined ? {} : { workspace: resolve(cwd, config.workspace) }),
    ...(config.auditFile === undefined ? {} : { auditFile: resolve(cwd, config.auditFile) }),
  };
}

/** The configuration as `harness config show` prints it: keys and key digests masked. */
export function maskConfig(config: ServerConfig): Record<string, unknown> {
  return {
    ...config,
    apiKeys: config.apiKeys.map((entry) => ({
      tenant: entry.tenant,
      ...(entry.key === undefined ? {} : { key: '********' }),
      ...(entry.sha256 === undefined ? {} : { sha256: `${entry.sha256.slice(0, 8)}…` }),
    })),
    redis: { ...config.redis, ...(config.redis.url === undefined ? {} : { url: maskUrlPassword(config.redis.url) }) },
  };
}

/** Limits a request may be granted at most: the configured ceilings over core's defaults. */
export function effectiveMaxLimits(config: Pick<ServerConfig, 'maxLimits'>): Partial<Limits> {
  return { ...DEFAULT_MAX_LIMITS, ...config.maxLimits };
}

function isRedisUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** A URL with its password (if any) replaced, for printing. */
function maskUrlPassword(value: string): string {
  try {
    const url = new URL(value);
    if (url.password !== '') url.password = '********';
    return url.toString();
  } catch {
    return '(invalid URL)';
  }
}

async function readConfigFile(
  path: string,
  label: string,
  problems: string[],
): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.push(`config file ${label}: cannot be read (${code ?? 'unknown error'})`);
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    problems.push(`config file ${label}: not valid JSON (${(error as Error).message})`);
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`config file ${label}: must hold one JSON object`);
    return undefined;
  }
  return value as Record<string, unknown>;
}

function configFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
): { values: Record<string, unknown>; sources: Map<string, string> } {
  const values: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  for (const [name, raw] of Object.entries(env)) {
    // HARNESS_TEST_* belongs to the test suites (e.g. the Redis URL of the integration tests).
    if (
      !name.startsWith('HARNESS_') ||
      name.startsWith('HARNESS_TEST_') ||
      name === CONFIG_FILE_VARIABLE ||
      raw === undefined
    ) {
      continue;
    }
    const variable = ENVIRONMENT_VARIABLES[name];
    if (variable === undefined) {
      const suggestions = closestNames(name, [CONFIG_FILE_VARIABLE, ...Object.keys(ENVIRONMENT_VARIABLES)], 1);
      const hint = suggestions.length > 0 ? `; did you mean ${suggestions[0]}?` : '';
      problems.push(`${name}: unknown variable${hint}`);
      continue;
    }
    const converted = convertVariable(name, raw, variable.kind, problems);
    if (converted === undefined) continue;
    setPath(values, variable.path, converted);
    sources.set(variable.path.join('.'), name);
  }
  return { values, sources };
}

function convertVariable(
  name: string,
  raw: string,
  kind: EnvironmentVariable['kind'],
  problems: string[],
): unknown | undefined {
  const value = raw.trim();
  switch (kind) {
    case 'string':
      return value === '' ? undefined : value;
    case 'list': {
      const items = value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
      return items.length === 0 ? undefined : items;
    }
    case 'integer':
      if (/^-?\d+$/.test(value)) return Number(value);
      problems.push(`${name}: expected a whole number, got ${JSON.stringify(raw)}`);
      return undefined;
    case 'number':
      if (/^-?\d+(?:\.\d+)?$/.test(value)) return Number(value);
      problems.push(`${name}: expected a number, got ${JSON.stringify(raw)}`);
      return undefined;
    case 'boolean':
      if (/^(?:true|1|yes)$/i.test(value)) return true;
      if (/^(?:false|0|no)$/i.test(value)) return false;
      problems.push(`${name}: expected true or false, got ${JSON.stringify(raw)}`);
      return undefined;
    case 'apiKeys': {
      const parsed = parseApiKeysVariable(value);
      for (const problem of parsed.problems) problems.push(`${name}: ${problem}`);
      return parsed.problems.length > 0 ? undefined : parsed.entries;
    }
  }
}

/** Problems between fields that can be judged on the raw input: authentication and the workspace. */
async function inputProblems(
  input: Record<string, unknown>,
  cwd: string,
  sources: ReadonlyMap<string, string>,
  keysGivenButInvalid: boolean,
): Promise<string[]> {
  const problems: string[] = [];
  const where = whereOf(sources);
  const keys = Array.isArray(input.apiKeys) ? input.apiKeys.length : 0;
  const insecure = input.insecureNoAuth === true;
  const host = typeof input.host === 'string' ? input.host : undefined;
  const workspace = typeof input.workspace === 'string' && input.workspace !== '' ? input.workspace : undefined;
  if (keys === 0 && !insecure && !keysGivenButInvalid) {
    problems.push(
      'no API keys are configured: set HARNESS_API_KEYS=tenant:key,... (or apiKeys in the config file), ' +
        'or start with --insecure-no-auth to run without keys on 127.0.0.1 only',
    );
  }
  if (keys > 0 && insecure) {
    problems.push(`${where('insecureNoAuth')}: API keys are configured too; use one or the other`);
  }
  if (insecure && host !== undefined && host !== '127.0.0.1') {
    problems.push(`${where('host')}: without API keys the server binds to 127.0.0.1 only, not ${host}`);
  }
  if (workspace !== undefined) {
    try {
      if (!(await stat(resolve(cwd, workspace))).isDirectory()) {
        problems.push(`${where('workspace')}: ${workspace} is not a directory`);
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problems.push(`${where('workspace')}: ${workspace} cannot be used (${code ?? 'unknown error'})`);
    }
  }
  return problems;
}

/** Problems between fields of a configuration that passed the schema. */
function valueProblems(config: z.output<typeof ServerConfigSchema>, sources: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  const where = whereOf(sources);
  // Every run's limits must lie within the ceilings: a request that overrides one limit is
  // checked with all of them, so a default above a lowered ceiling would refuse every override.
  const ceilings = effectiveMaxLimits(config);
  const base: Limits = { ...DEFAULT_LIMITS, ...definedLimits(config.limits) };
  for (const [key, value] of Object.entries(base) as [keyof Limits, number][]) {
    const ceiling = ceilings[key];
    if (ceiling !== undefined && value > ceiling) {
      const origin = config.limits[key] === undefined ? ' (the default)' : '';
      problems.push(`${where(`limits.${key}`)}: ${value}${origin} is above its ceiling maxLimits.${key} = ${ceiling}`);
    }
  }
  if (config.tasks.defaultTimeoutMs > config.tasks.maxTimeoutMs) {
    problems.push(`${where('tasks.defaultTimeoutMs')}: must not be larger than tasks.maxTimeoutMs`);
  }
  if (config.queue.retry.baseDelayMs > config.queue.retry.maxDelayMs) {
    problems.push(`${where('queue.retry.baseDelayMs')}: must not be larger than queue.retry.maxDelayMs`);
  }
  if (config.role !== 'all' && config.redis.url === undefined) {
    problems.push(
      `${where('role')}: the ${config.role} role shares a queue with other nodes and needs redis.url (HARNESS_REDIS_URL)`,
    );
  }
  const owners = new Map<string, string>();
  for (const entry of config.apiKeys) {
    const id = entry.sha256?.toLowerCase() ?? `key:${entry.key}`;
    const owner = owners.get(id);
    if (owner !== undefined && owner !== entry.tenant) {
      problems.push(`apiKeys: one key is given to two tenants (${owner} and ${entry.tenant})`);
    }
    owners.set(id, entry.tenant);
  }
  return problems;
}

function whereOf(sources: ReadonlyMap<string, string>): (path: string) => string {
  return (path) => {
    const source = sources.get(path);
    return source === undefined ? path : `${path} (${source})`;
  };
}

function definedLimits(limits: LimitsOverride): Partial<Limits> {
  return Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined));
}

function describeIssue(issue: z.core.$ZodIssue, sources: ReadonlyMap<string, string>): string {
  const path = issue.path.map(String);
  // An unknown key was set by whoever set it: look its own path up first.
  const own = issue.code === 'unrecognized_keys' ? sources.get([...path, String(issue.keys[0])].join('.')) : undefined;
  const dotted = path.length === 0 ? '(root)' : path.join('.');
  // The closest enclosing path with a known source names where the value was set.
  let source = own;
  for (let length = path.length; length > 0 && source === undefined; length--) {
    source = sources.get(path.slice(0, length).join('.'));
  }
  return `${dotted}${source === undefined ? '' : ` (${source})`}: ${issue.message}`;
}

function markSources(value: unknown, path: string[], label: string, sources: Map<string, string>): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    if (path.length > 0) sources.set(path.join('.'), label);
    return;
  }
  for (const [key, child] of Object.entries(value)) markSources(child, [...path, key], label, sources);
}

function valueAt(value: unknown, path: readonly string[]): unknown {
  let node = value;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

/** Plain objects merge key by key; anything else (arrays included) is replaced by the later value. */
function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = result[key];
    result[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return result;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function withoutUndefined(value: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined));
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function snakeCase(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}
