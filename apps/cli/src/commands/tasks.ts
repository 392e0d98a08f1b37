/**
 * `harness tasks [list|show|cancel]`: the detached tasks scripts started with `tools.spawn.*`.
 *
 * Tasks outlive the script that started them, so they live in a long-running process: the server.
 * A `harness run` process ends with its script and takes its tasks with it, which is why the CLI
 * does not offer spawn tools and this command talks to a running `harness serve` over HTTP
 * (`GET /v1/tasks`, `GET /v1/tasks/{id}`, `DELETE /v1/tasks/{id}`) with the caller's API key.
 */
import type { HarnessErrorData } from '@script-harness/core';
import { type Command, InvalidArgumentError } from 'commander';
import { ConfigurationError, EXIT_OK, EXIT_SCRIPT_FAILED } from '../exit-codes.ts';
import { formatDuration, formatError } from '../format.ts';
import type { CliIo } from '../io.ts';
import type { CommandOutcome } from '../main.ts';
import { UsageError } from '../options.ts';

export const SERVER_URL_VARIABLE = 'SCRIPT_HARNESS_URL';
export const API_KEY_VARIABLE = 'SCRIPT_HARNESS_API_KEY';
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8080';
export const TASK_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'] as const;
/** A server that has not answered by then is treated as unreachable. */
const REQUEST_TIMEOUT_MS = 15_000;

/** A task as the server returns it. */
export interface TaskView {
  readonly id: string;
  readonly tenant: string;
  readonly tool: string;
  readonly args: unknown;
  readonly status: string;
  readonly startedAt: number;
  readonly deadline: number;
  readonly endedAt?: number;
  readonly result?: unknown;
  readonly error?: HarnessErrorData;
  readonly scriptId?: string;
}

export interface ServerFlags {
  readonly server?: string | undefined;
  readonly apiKey?: string | undefined;
  readonly json?: boolean | undefined;
}

export interface TasksEnvironment {
  /** Where `SCRIPT_HARNESS_URL` and `SCRIPT_HARNESS_API_KEY` are read; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export function registerTasksCommand(
  program: Command,
  io: CliIo,
  outcome: CommandOutcome,
  environment: TasksEnvironment = {},
): void {
  const tasks = program
    .command('tasks')
    .summary('list, show or cancel the detached tasks of a running harness server')
    .description(
      'List, show or cancel the detached tasks that scripts started with tools.spawn.*. Tasks outlive the ' +
        'script that started them, so they live in a running server (harness serve), not in a harness run ' +
        'process: this command asks the server over HTTP, as the tenant of the API key.',
    )
    .addHelpText(
      'after',
      `
The server is --server, else $${SERVER_URL_VARIABLE}, else ${DEFAULT_SERVER_URL}.
The key is --api-key, else $${API_KEY_VARIABLE}; prefer the variable, a flag shows in the
process list. A server started with --insecure-no-auth needs no key. A server that cannot be
reached, or that refuses the key, ends the command with exit code 3.

Examples:
  $ harness tasks
  $ harness tasks list --status running --server http://10.0.0.5:8080
  $ harness tasks show 3f0c...
  $ harness tasks cancel 3f0c...`,
    );
  const env = environment.env ?? process.env;

  withServerFlags(
    tasks
      .command('list', { isDefault: true })
      .summary('the tasks of the tenant, newest first')
      .description('List the tasks of the tenant of the API key, newest first.')
      .option('--status <status>', `only tasks in this status: ${TASK_STATUSES.join(', ')}`, parseStatus)
      .option('--limit <n>', 'at most this many tasks (default: 100)', parseLimit),
  ).action(async (options: ServerFlags & { status?: string; limit?: number }) => {
    outcome.exitCode = await listTasks(options, io, env);
  });

  withServerFlags(
    tasks
      .command('show')
      .summary('one task: status, times, result or error')
      .description('Show one task: tool, arguments, status, times, and its result or error once it has ended.')
      .argument('<id>', 'the task id (from harness tasks list, or what tools.spawn.call returned)'),
  ).action(async (id: string, options: ServerFlags) => {
    outcome.exitCode = await showTask(id, options, io, env);
  });

  withServerFlags(
    tasks
      .command('cancel')
      .summary('cancel a queued or running task')
      .description('Cancel a task that is queued or running. A task that has already ended is left as it is.')
      .argument('<id>', 'the task id'),
  ).action(async (id: string, options: ServerFlags) => {
    outcome.exitCode = await cancelTask(id, options, io, env);
  });
}

function withServerFlags(command: Command): Command {
  return command
    .option(
      '--server <url>',
      `address of the harness server (default: $${SERVER_URL_VARIABLE}, else ${DEFAULT_SERVER_URL})`,
    )
    .option('--api-key <key>', `API key of the server (default: $${API_KEY_VARIABLE})`)
    .option('--json', "print the server's answer as one JSON object");
}

function parseStatus(value: string): string {
  const normalised = value.trim().toLowerCase();
  if ((TASK_STATUSES as readonly string[]).includes(normalised)) return normalised;
  throw new InvalidArgumentError(`Expected one of ${TASK_STATUSES.join(', ')}.`);
}

function parseLimit(value: string): number {
  const parsed = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < 1 || parsed > 1000) {
    throw new InvalidArgumentError('Expected a whole number from 1 to 1000.');
  }
  return parsed;
}

async function listTasks(
  options: ServerFlags & { status?: string; limit?: number },
  io: CliIo,
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const query = new URLSearchParams();
  if (options.status !== undefined) query.set('status', options.status);
  if (options.limit !== undefined) query.set('limit', String(options.limit));
  const path = `/v1/tasks${query.size > 0 ? `?${query}` : ''}`;
  const answer = await request('GET', path, options, env);
  if (!answer.ok) return reportApiError(answer, io);
  const { tasks } = answer.body as { tasks: TaskView[] };
  if (options.json === true) io.stdout.write(`${JSON.stringify(answer.body)}\n`);
  else io.stdout.write(formatTaskTable(tasks));
  return EXIT_OK;
}

async function showTask(
  id: string,
  options: ServerFlags,
  io: CliIo,
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const answer = await request('GET', `/v1/tasks/${encodeURIComponent(id)}`, options, env);
  if (!answer.ok) return reportApiError(answer, io);
  if (options.json === true) io.stdout.write(`${JSON.stringify(answer.body)}\n`);
  else io.stdout.write(formatTask(answer.body as TaskView));
  return EXIT_OK;
}

async function cancelTask(
  id: string,
  options: ServerFlags,
  io: CliIo,
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const answer = await request('DELETE', `/v1/tasks/${encodeURIComponent(id)}`, options, env);
  if (!answer.ok) return reportApiError(answer, io);
  const { task, cancelled } = answer.body as { task: TaskView; cancelled: boolean };
  if (options.json === true) io.stdout.write(`${JSON.stringify(answer.body)}\n`);
  else if (cancelled) io.stdout.write(`Cancelled task ${task.id} (tools.${task.tool}).\n`);
  else io.stdout.write(`Task ${task.id} had already ended (${task.status}); nothing was cancelled.\n`);
  return EXIT_OK;
}

type ApiAnswer =
  | { readonly ok: true; readonly body: unknown }
  | { readonly ok: false; readonly status: number; readonly code: string; readonly message: string };

/** One request to the server; an unreachable server or a refused key is a configuration error (exit 3). */
async function request(
  method: 'GET' | 'DELETE',
  path: string,
  options: ServerFlags,
  env: Readonly<Record<string, string | undefined>>,
): Promise<ApiAnswer> {
  const base = options.server ?? nonEmpty(env[SERVER_URL_VARIABLE]) ?? DEFAULT_SERVER_URL;
  let url: URL;
  try {
    url = new URL(path, base.endsWith('/') ? base : `${base}/`);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('not http');
  } catch {
    throw new UsageError(`--server "${base}" is not an http:// or https:// address`);
  }
  const key = options.apiKey ?? nonEmpty(env[API_KEY_VARIABLE]);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { accept: 'application/json', ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new ConfigurationError(
      `cannot reach the harness server at ${url.origin}`,
      [String(cause)],
      `Start it with harness serve, or pass --server (or set ${SERVER_URL_VARIABLE}) with its address.`,
      { cause: error },
    );
  }
  const body = await response.json().catch(() => undefined);
  if (response.ok) return { ok: true, body };
  const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const code = error?.code ?? `HTTP_${response.status}`;
  const message = error?.message ?? response.statusText;
  if (response.status === 401) {
    throw new ConfigurationError(
      `the harness server at ${url.origin} refused the request (${code})`,
      [message],
      `Pass --api-key (or set ${API_KEY_VARIABLE}) with a key the server knows.`,
    );
  }
  return { ok: false, status: response.status, code, message };
}

function reportApiError(answer: Extract<ApiAnswer, { ok: false }>, io: CliIo): number {
  const remedy =
    answer.status === 404
      ? ' Remedy: list the tasks of your key with harness tasks list; a task of another tenant is not visible.'
      : '';
  io.stderr.write(`harness: ${answer.code}: ${answer.message} (HTTP ${answer.status}).${remedy}\n`);
  return EXIT_SCRIPT_FAILED;
}

/** A table of tasks: id, tool, status, start time, how long it ran (or has been running). */
export function formatTaskTable(tasks: readonly TaskView[], now = Date.now()): string {
  if (tasks.length === 0) return 'No tasks.\n';
  const rows = tasks.map((task) => [
    task.id,
    task.tool,
    task.error === undefined ? task.status : `${task.status} ${task.error.code}`,
    formatTime(task.startedAt),
    formatDuration((task.endedAt ?? now) - task.startedAt),
  ]);
  const header = ['id', 'tool', 'status', 'started (UTC)', 'ran'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    `  ${cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ')}`;
  return `${[`Tasks (${tasks.length})`, line(header), ...rows.map(line)].join('\n')}\n`;
}

/** One task in full. */
export function formatTask(task: TaskView, now = Date.now()): string {
  const lines = [
    `Task ${task.id}`,
    `  tool      tools.${task.tool}`,
    `  status    ${task.status}`,
    `  started   ${formatTime(task.startedAt)} UTC`,
    task.endedAt === undefined
      ? `  running   ${formatDuration(now - task.startedAt)} (deadline ${formatTime(task.deadline)} UTC)`
      : `  ended     ${formatTime(task.endedAt)} UTC, after ${formatDuration(task.endedAt - task.startedAt)}`,
    ...(task.scriptId === undefined ? [] : [`  script    ${task.scriptId}`]),
    `  args      ${JSON.stringify(task.args)}`,
  ];
  if (task.result !== undefined) lines.push('Result:', JSON.stringify(task.result, null, 2));
  if (task.error !== undefined) lines.push('Error:', formatError(task.error));
  return `${lines.join('\n')}\n`;
}

function formatTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('T', ' ').slice(0, 19);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
