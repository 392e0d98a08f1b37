/**
 * Reading what a command works on — a script or a message — from a file or standard input. A file
 * that cannot be read is a usage error (exit code 2) that says why in words.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CliIo } from './io.ts';
import { STDIN_ARGUMENT, UsageError } from './options.ts';
import { describeFsError } from './workspace.ts';

/** Reads the input as bytes, so the harness itself checks a script's encoding (INVALID_ENCODING). */
export async function readInput(file: string, io: CliIo, what = 'script'): Promise<Uint8Array> {
  if (file === STDIN_ARGUMENT) return io.readStdin();
  try {
    return await readFile(resolve(io.cwd, file));
  } catch (error) {
    throw new UsageError(`cannot read ${what} "${file}": ${describeFsError(error)}`, { cause: error });
  }
}

/** Reads a script as bytes. */
export function readScript(file: string, io: CliIo): Promise<Uint8Array> {
  return readInput(file, io, 'script');
}

/** Input as text for display (calling lines, findings); the harness decodes scripts strictly itself. */
export function decode(source: Uint8Array | string): string {
  return typeof source === 'string' ? source : new TextDecoder().decode(source);
}
