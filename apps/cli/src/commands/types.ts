/**
 * `harness types`: what a model is told about the tools a command would offer — the `.d.ts` of
 * the globals a script sees and the system-prompt section that wraps it — for the tools that
 * `--tools` and `--config` choose.
 */
import { generateDeclarations, generatePromptSection, type Limits } from '@script-harness/core';
import type { Command } from 'commander';
import { EXIT_OK } from '../exit-codes.ts';
import { formatHeading } from '../format.ts';
import type { CliIo } from '../io.ts';
import type { CommandOutcome } from '../main.ts';
import { limitsFromFlags, parseMemoryMb, parseTimeoutMs, UsageError } from '../options.ts';
import { addSharedFlags, resolveSharedSetup, type SharedFlags, sharedFlagsOf } from '../shared-flags.ts';
import { createToolset } from '../toolset.ts';

export interface TypesCommandOptions extends SharedFlags {
  readonly dts?: boolean | undefined;
  readonly prompt?: boolean | undefined;
  readonly json?: boolean | undefined;
  readonly timeoutMs?: number | undefined;
  readonly memoryMb?: number | undefined;
}

export function registerTypesCommand(program: Command, io: CliIo, outcome: CommandOutcome): void {
  const command = program
    .command('types')
    .summary('print the .d.ts and the system-prompt section for the configured tools')
    .description(
      'Print what a model is told about the tools: the TypeScript declarations (.d.ts) of the globals a ' +
        'script sees — tools, console, context, ToolError — and the system-prompt section that explains ' +
        'code mode, the limits and the declarations.',
    )
    .option('--dts', 'print only the .d.ts, ready to save as a file')
    .option('--prompt', 'print only the system-prompt section (markdown)')
    .option('--json', 'print { tools, declarations, prompt } as one JSON object')
    .option('--timeout-ms <ms>', 'the deadline the prompt section states (default: the configured one)', parseTimeoutMs)
    .option('--memory-mb <mb>', 'the memory the prompt section states (default: the configured one)', parseMemoryMb);
  addSharedFlags(command)
    .addHelpText(
      'after',
      `
The tools are those harness run would offer with the same --tools and --config (MCP servers of the
config file are connected to read their tools). --approve has no effect here.

Examples:
  $ harness types
  $ harness types --dts > tools.d.ts
  $ harness types --prompt --tools files,exec`,
    )
    .action(async (options: TypesCommandOptions) => {
      outcome.exitCode = await typesCommand(options, io);
    });
}

export async function typesCommand(options: TypesCommandOptions, io: CliIo): Promise<number> {
  if (options.dts === true && options.prompt === true) {
    throw new UsageError('--dts and --prompt each print one part; leave both out to print both');
  }
  const flagLimits = limitsFromFlags(options);
  const setup = await resolveSharedSetup(sharedFlagsOf(options), io);
  const toolset = await createToolset({ workspace: setup.workspace, config: setup.config, requested: setup.tools });
  let declarations: string;
  let prompt: string;
  try {
    const limits: Partial<Limits> = {
      ...Object.fromEntries(Object.entries(setup.config?.limits ?? {}).filter(([, value]) => value !== undefined)),
      ...flagLimits,
    };
    declarations = generateDeclarations(toolset.tools);
    prompt = generatePromptSection(toolset.tools, { limits });
  } finally {
    await toolset.close();
  }
  if (options.json === true) {
    io.stdout.write(`${JSON.stringify({ tools: toolset.names, declarations, prompt })}\n`);
  } else if (options.dts === true) {
    io.stdout.write(declarations);
  } else if (options.prompt === true) {
    io.stdout.write(prompt);
  } else {
    io.stdout.write(
      `${formatHeading('declarations (.d.ts)')}\n${declarations}\n${formatHeading('system-prompt section')}\n${prompt}`,
    );
  }
  return EXIT_OK;
}
