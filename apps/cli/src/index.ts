export { DEMO_DIRECTORY, type DemoCommandOptions, type DemoOutcome, demoCommand, runDemo } from './commands/demo.ts';
export {
  createWorkspaceHarness,
  describeFsError,
  type RunCommandOptions,
  type RunScriptOptions,
  readScript,
  resolveWorkspace,
  runCommand,
  runScript,
} from './commands/run.ts';
export {
  type DemoReport,
  type ErrorSummary,
  formatCallTable,
  formatConsoleLine,
  formatDemoReport,
  formatDuration,
  formatError,
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
export { type CliIo, processIo, readStream, type TextSink } from './io.ts';
export {
  CLI_VERSION,
  type CommandOutcome,
  createProgram,
  EXIT_OK,
  EXIT_SCRIPT_FAILED,
  EXIT_USAGE,
  main,
} from './main.ts';
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
