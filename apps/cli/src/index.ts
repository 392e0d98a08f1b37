export {
  type ApprovalPrompter,
  type ApprovalQuestion,
  createCliApprovals,
  createTerminalPrompter,
  describeCallingLines,
  findCallingLines,
} from './approvals.ts';
export { renderCliDocs } from './cli-docs.ts';
export { checkCommand, locateFindings } from './commands/check.ts';
export { DEMO_DIRECTORY, type DemoCommandOptions, type DemoOutcome, demoCommand, runDemo } from './commands/demo.ts';
export { execMessageCommand, type JsonMessageReport } from './commands/exec-message.ts';
export {
  createWorkspaceHarness,
  type RunCommandOptions,
  type RunScriptOptions,
  runCommand,
  runScript,
} from './commands/run.ts';
export { typesCommand } from './commands/types.ts';
export { type CliConfig, cliConfigSchema, loadCliConfig } from './config-file.ts';
export {
  ConfigurationError,
  EXIT_CODES_HELP,
  exitCodeOfResult,
  reportFailure,
} from './exit-codes.ts';
export {
  type DemoReport,
  type ErrorSummary,
  formatCallTable,
  formatCheckReport,
  formatConsoleLine,
  formatDemoReport,
  formatDuration,
  formatError,
  formatFinding,
  formatHeading,
  formatHistory,
  formatResultHeadline,
  formatRunReport,
  formatSource,
  formatValue,
  formatWarnings,
  inCallOrder,
  type JsonRunReport,
  type JsonToolCall,
  toErrorSummary,
  toJsonReport,
  type WrittenFile,
} from './format.ts';
export { decode, readInput, readScript } from './input.ts';
export { type CliIo, processIo, readStream, type TextSink } from './io.ts';
export {
  CLI_VERSION,
  type CommandOutcome,
  createProgram,
  EXIT_CONFIG,
  EXIT_OK,
  EXIT_RUNTIME_UNAVAILABLE,
  EXIT_SCRIPT_FAILED,
  EXIT_USAGE,
  main,
} from './main.ts';
export { type MessageFormat, parseTurn } from './message-input.ts';
export {
  type LimitFlags,
  languageFor,
  limitsFromFlags,
  parseLanguage,
  parseMemoryMb,
  parseTimeoutMs,
  STDIN_ARGUMENT,
  UsageError,
} from './options.ts';
export { loadRuntime, RUNTIME_NAMES, type RuntimeName } from './runtimes.ts';
export {
  type ApproveMode,
  addExecutionFlags,
  addSharedFlags,
  type ExecutionFlags,
  resolveSharedSetup,
  type SharedFlags,
  type SharedSetup,
} from './shared-flags.ts';
export { createToolset, DEFAULT_TOOLSET, type Toolset } from './toolset.ts';
export { describeFsError, resolveWorkspace } from './workspace.ts';
