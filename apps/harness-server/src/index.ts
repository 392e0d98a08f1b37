export { buildServer, type HarnessServer, SERVER_VERSION, type ServerDependencies } from './app.ts';
export type { ApprovalView, SettledApprovalView } from './approval-feed.ts';
export { type Authenticator, createAuthenticator, hashApiKey, LOCAL_TENANT, parseApiKeysVariable } from './auth.ts';
export {
  CONFIG_FILE_VARIABLE,
  ConfigError,
  ENVIRONMENT_VARIABLES,
  type LoadConfigOptions,
  loadConfig,
  maskConfig,
  NODE_ROLES,
  type ServerConfig,
  type ServerConfigInput,
  ServerConfigSchema,
} from './config.ts';
export { RedisUnavailableError } from './coordination.ts';
export { API_ERROR_CODES, type ApiErrorBody, type ApiErrorCode } from './http-errors.ts';
export type { ServerInfo } from './routes/info.ts';
export type { RunDetail, RunStatus, RunSummary } from './run-recorder.ts';
export { type RunningServer, type StartServerOptions, startServer } from './start.ts';
