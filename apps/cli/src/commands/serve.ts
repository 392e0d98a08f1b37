/**
 * `harness serve`: starts harness-server on the embedded defaults (in-process queue, QuickJS), or
 * as one node of a deployment on Redis (`HARNESS_REDIS_URL`, `--role`), configured from a JSON
 * file, the `HARNESS_*` environment and the flags, in rising precedence.
 * `harness config show` prints that configuration, secrets masked, without starting anything.
 * An invalid configuration is reported with every problem, and nothing starts.
 *
 * The server package is loaded only by these commands: it brings the whole HTTP stack with it,
 * which `harness run` should not wait for.
 */
import type { ApproveMode } from '@script-harness/policy';
import type { ServerConfig } from '@script-harness/server';
import { InvalidArgumentError } from 'commander';
import { ConfigurationError, EXIT_CONFIG } from '../exit-codes.ts';
import type { CliIo } from '../io.ts';

export interface ServeFlags {
  readonly port?: number | undefined;
  readonly host?: string | undefined;
  /** JSON configuration file, relative to `io.cwd`. */
  readonly config?: string | undefined;
  readonly workspace?: string | undefined;
  readonly insecureNoAuth?: boolean | undefined;
  /** Tools and groups offered to scripts (`tools.select`). */
  readonly tools?: readonly string[] | undefined;
  /** What happens to calls the policy asks about (`approvals.mode`). */
  readonly approve?: ApproveMode | undefined;
  /** The node's part in a deployment on Redis (`role`). */
  readonly role?: NodeRole | undefined;
}

export const NODE_ROLES = ['all', 'api', 'worker'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

/** Commander option parser for `--port`: a whole number from 0 (any free port) to 65535. */
export function parsePort(value: string): number {
  const trimmed = value.trim();
  const port = /^\d{1,5}$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!(port >= 0 && port <= 65_535)) throw new InvalidArgumentError('Expected a port number from 0 to 65535.');
  return port;
}

/** Starts the server and resolves with exit code 0 once it has shut down (on SIGTERM or SIGINT). */
export async function serveCommand(
  flags: ServeFlags,
  io: CliIo,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const config = await configFrom(flags, io, env);
  if (config === undefined) return EXIT_CONFIG;
  const { ConfigError, RedisUnavailableError, startServer } = await import('@script-harness/server');
  let running: Awaited<ReturnType<typeof startServer>>;
  try {
    running = await startServer(config, { handleSignals: true });
  } catch (error) {
    // What only shows when the server starts (a tool or MCP server of the configuration, Redis).
    if (error instanceof ConfigError) {
      io.stderr.write(`harness: ${error.message}\n`);
      return EXIT_CONFIG;
    }
    if (error instanceof RedisUnavailableError) {
      throw new ConfigurationError(error.message, [], 'Check HARNESS_REDIS_URL.', { cause: error });
    }
    throw error;
  }
  io.stdout.write(
    `harness-server listening on ${running.url} (API documentation at ${running.url}/docs)` +
      `${config.insecureNoAuth ? '; no API keys: reachable from this machine only' : ''}\n`,
  );
  await running.closed;
  return 0;
}

/** Prints the configuration `harness serve` would start with, API keys masked. */
export async function configShowCommand(
  flags: ServeFlags,
  io: CliIo,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const config = await configFrom(flags, io, env);
  if (config === undefined) return EXIT_CONFIG;
  const { maskConfig } = await import('@script-harness/server');
  io.stdout.write(`${JSON.stringify(maskConfig(config), null, 2)}\n`);
  return 0;
}

async function configFrom(
  flags: ServeFlags,
  io: CliIo,
  env: Readonly<Record<string, string | undefined>>,
): Promise<ServerConfig | undefined> {
  const { ConfigError, loadConfig } = await import('@script-harness/server');
  try {
    return await loadConfig({
      file: flags.config,
      env,
      cwd: io.cwd,
      // Only a flag that was given overrides: its absence says nothing.
      overrides: {
        port: flags.port,
        host: flags.host,
        workspace: flags.workspace,
        insecureNoAuth: flags.insecureNoAuth === true ? true : undefined,
        role: flags.role,
        ...(flags.tools === undefined ? {} : { tools: { select: flags.tools } }),
        ...(flags.approve === undefined ? {} : { approvals: { mode: flags.approve } }),
      },
      overrideLabels: {
        port: '--port',
        host: '--host',
        workspace: '--workspace',
        insecureNoAuth: '--insecure-no-auth',
        role: '--role',
        'tools.select': '--tools',
        'approvals.mode': '--approve',
      },
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`harness: ${error.message}\n`);
    return undefined;
  }
}
