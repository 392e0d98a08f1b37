/**
 * The `harness` command line: commander wiring, and `main`, which turns whatever ends a command
 * into an exit code (see exit-codes.ts: 0 ok, 1 script failed, 2 usage, 3 config, 4 runtime
 * unavailable). Each command registers itself from its own module under commands/.
 */
import { readFileSync } from 'node:fs';
import { APPROVE_MODES } from '@script-harness/policy';
import { Command, Option } from 'commander';
import { registerBenchCommand } from './commands/bench.ts';
import { registerCheckCommand } from './commands/check.ts';
import { demoCommand } from './commands/demo.ts';
import { registerExecMessageCommand } from './commands/exec-message.ts';
import { registerMcpCommand } from './commands/mcp.ts';
import { registerRunCommand } from './commands/run.ts';
import { configShowCommand, NODE_ROLES, parsePort, type ServeFlags, serveCommand } from './commands/serve.ts';
import { registerTasksCommand } from './commands/tasks.ts';
import { registerTypesCommand } from './commands/types.ts';
import { EXIT_CODES_HELP, EXIT_OK, reportFailure } from './exit-codes.ts';
import { type CliIo, processIo } from './io.ts';
import { parseToolList } from './shared-flags.ts';

export {
  EXIT_CONFIG,
  EXIT_OK,
  EXIT_RUNTIME_UNAVAILABLE,
  EXIT_SCRIPT_FAILED,
  EXIT_USAGE,
} from './exit-codes.ts';

/** Where the commands record their exit code while commander drives them. */
export interface CommandOutcome {
  exitCode: number;
}

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
export const CLI_VERSION = packageJson.version;

export function createProgram(io: CliIo, outcome: CommandOutcome = { exitCode: EXIT_OK }): Command {
  const program = new Command('harness')
    .description(
      'Run TypeScript that a language model wrote, in a sandbox, with tools confined to one workspace directory, ' +
        'approvals for what changes it, and limits on time and memory.',
    )
    .version(CLI_VERSION, '-V, --version', 'print the version of the CLI')
    .option('--verbose', 'show more detail: script stacks, error details, internal stack traces')
    .helpOption('-h, --help', 'show this help')
    .helpCommand('help [command]', 'show the help of a command')
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Commander's messages start with "error: " and may put a suggestion on a second line; every
      // usage error of the CLI is one line that starts with the program name.
      outputError: (text, write) =>
        write(
          `${text
            .trim()
            .replace(/^error: /, 'harness: ')
            .replace(/\s*\n\s*/g, ' ')}\n`,
        ),
    })
    .addHelpText(
      'after',
      `
${EXIT_CODES_HELP}

Errors are one paragraph on stderr with their code and what to do; --verbose adds detail.

Examples:
  $ harness run script.ts --workspace ./project
  $ echo 'return 6 * 7' | harness run - --json
  $ harness exec-message reply.json --json
  $ harness check script.ts
  $ harness types --dts > tools.d.ts
  $ harness demo`,
    );

  registerRunCommand(program, io, outcome);
  registerExecMessageCommand(program, io, outcome);
  registerCheckCommand(program, io, outcome);
  registerTypesCommand(program, io, outcome);
  registerMcpCommand(program, io, outcome);

  program
    .command('demo')
    .summary('replay a recorded agent message against a temporary copy of a small project')
    .description(
      'Replay a recorded assistant message (reasoning, text and a script block) against a temporary copy of a ' +
        'small project, and print the resulting history in message order.',
    )
    .option('--json', 'print the history items and script results as one JSON object')
    .addHelpText(
      'after',
      `
The transcript is examples/demo/transcript.md and the project is examples/demo/workspace/. The
project is copied to a temporary directory, which is removed afterwards.

Examples:
  $ harness demo
  $ harness demo --json`,
    )
    .action(async (options: { json?: boolean }, command: Command) => {
      const { verbose } = command.optsWithGlobals<{ verbose?: boolean }>();
      outcome.exitCode = await demoCommand({ ...options, verbose }, io);
    });

  addServeFlags(
    program
      .command('serve')
      .summary('start harness-server: the HTTP API that runs scripts for a team')
      .description(
        'Start harness-server: on the embedded defaults (in-process queue, QuickJS), or as one node of a deployment ' +
          'that shares its queue, spawned tasks and approvals through Redis (HARNESS_REDIS_URL) in the role given ' +
          'by --role. Configuration comes from a JSON file, the HARNESS_* environment and these flags, each winning ' +
          'over the one before. API keys are bearer tokens given as HARNESS_API_KEYS=tenant:key,...; without any, ' +
          'the server refuses to start unless given --insecure-no-auth. SIGTERM or SIGINT shuts it down gracefully.',
      ),
  )
    .addHelpText(
      'after',
      `
Endpoints: POST /v1/scripts, POST /v1/messages:execute, GET|POST /v1/approvals, GET|DELETE /v1/tasks,
GET /health, /live, /ready, /metrics; API documentation at /docs. A worker node serves only /health,
/live, /ready and /metrics.

Examples:
  $ harness serve --insecure-no-auth --workspace ./project
  $ HARNESS_API_KEYS=team-a:$TEAM_A_KEY harness serve --port 8080 --tools files,search --approve ask
  $ HARNESS_REDIS_URL=redis://redis.internal:6379 harness serve --role worker
  $ harness serve --config harness-server.json`,
    )
    .action(async (options: ServeFlags) => {
      outcome.exitCode = await serveCommand(options, io);
    });

  addServeFlags(
    program
      .command('config')
      .summary('inspect the server configuration')
      .command('show')
      .summary('print the configuration harness serve would start with, API keys and passwords masked'),
  ).action(async (options: ServeFlags) => {
    outcome.exitCode = await configShowCommand(options, io);
  });

  registerTasksCommand(program, io, outcome);
  registerBenchCommand(program, io, outcome);

  return program;
}

/**
 * The flags of `serve` and `config show`: where to listen, the shared `--workspace`, `--config`,
 * `--tools` and `--approve` with their meaning for a server, and `--role`.
 */
function addServeFlags(command: Command): Command {
  return command
    .option('--port <port>', 'TCP port (default: 8080; 0 picks a free one)', parsePort)
    .option('--host <address>', 'address to listen on (default: 0.0.0.0; 127.0.0.1 with --insecure-no-auth)')
    .option('--config <file>', 'JSON configuration file (default: $HARNESS_CONFIG)')
    .option('-w, --workspace <dir>', 'directory the workspace tools read and write (default: no workspace tools)')
    .option(
      '--tools <names>',
      'comma-separated tools or groups scripts may use: files, search, patch, exec, http, discovery, mcp, or ' +
        'single tools such as readFile (default: the groups the configuration switches on: files,search,patch)',
      parseToolList,
    )
    .addOption(
      new Option(
        '--approve <mode>',
        'tool calls the policy asks about: ask holds them until someone decides through /v1/approvals, allow ' +
          'approves and deny refuses them at once (default: ask)',
      ).choices(APPROVE_MODES),
    )
    .addOption(
      new Option(
        '--role <role>',
        'with HARNESS_REDIS_URL: api takes requests and queues them, worker runs queued scripts, all does both ' +
          '(default: all)',
      ).choices(NODE_ROLES),
    )
    .option('--insecure-no-auth', 'run without API keys, listening on 127.0.0.1 only');
}

/**
 * Runs the CLI with `argv` as Node passes it (`[node, script, ...args]`) and returns the exit code.
 * Never throws: every failure is reported on `io.stderr`.
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const outcome: CommandOutcome = { exitCode: EXIT_OK };
  const program = createProgram(io, outcome);
  try {
    await program.parseAsync([...argv]);
    return outcome.exitCode;
  } catch (error) {
    return reportFailure(error, io, argv.includes('--verbose'));
  }
}
