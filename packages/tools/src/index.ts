export {
  createFileTools,
  DEFAULT_MAX_READ_BYTES,
  type FileToolsOptions,
  type ListDirArgs,
  type ListDirEntry,
  type ListDirResult,
  MAX_LIST_DEPTH,
  MAX_LIST_ENTRIES,
  type ReadFileArgs,
  type ReadFileResult,
  UNLISTED_DIRECTORIES,
  type WriteFileArgs,
  type WriteFileResult,
} from './files.ts';
export {
  type AbortOptions,
  createWorkspaceRoot,
  type DirectoryEntry,
  type WorkspacePath,
  type WorkspaceRoot,
  type WriteOutcome,
} from './workspace.ts';
