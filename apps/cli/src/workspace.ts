/**
 * The workspace directory and the file errors of the command line, in words and without the
 * absolute paths Node puts into its messages.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigurationError } from './exit-codes.ts';
import { UsageError } from './options.ts';

/**
 * The workspace must be an existing directory: the tools would otherwise fail on every call.
 * A bad `--workspace` is a usage error (exit 2); a bad `workspace` of the config file is a
 * configuration error (exit 3).
 */
export async function resolveWorkspace(
  cwd: string,
  workspace: string | undefined,
  options: { readonly fromConfig?: boolean } = {},
): Promise<string> {
  const root = resolve(cwd, workspace ?? '.');
  let problem: string | undefined;
  let cause: unknown;
  try {
    if (!(await stat(root)).isDirectory()) problem = 'it is not a directory';
  } catch (error) {
    problem = describeFsError(error);
    cause = error;
  }
  if (problem === undefined) return root;
  const message = `cannot use workspace "${workspace ?? '.'}": ${problem}`;
  if (options.fromConfig === true) {
    throw new ConfigurationError(message, [], 'Fix "workspace" in the config file, or pass --workspace.', { cause });
  }
  throw new UsageError(message, { cause });
}

/** A file system error in words, without the absolute path Node puts into its messages. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EISDIR':
      return 'it is a directory, not a file';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return code === undefined ? 'it cannot be read' : `it cannot be read (${code})`;
  }
}
