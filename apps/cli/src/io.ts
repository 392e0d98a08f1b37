/**
 * The outside world of the CLI, passed in rather than reached for, so commands can be driven in
 * tests and output never goes anywhere the caller did not choose.
 */
import type { Readable, Writable } from 'node:stream';

export interface TextSink {
  write(text: string): unknown;
}

export interface CliIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** Reads standard input to its end. Only called for `-`, so stdin is never touched otherwise. */
  readStdin(): Promise<Uint8Array>;
  /** Directory relative paths on the command line are resolved against. */
  readonly cwd: string;
  /**
   * A person at a terminal: questions (approvals) are asked on `output` and answered on `input`,
   * and the spinner is drawn on `output`. Undefined when stdin or stderr is not a terminal.
   */
  readonly terminal?: { readonly input: Readable; readonly output: Writable } | undefined;
}

export function processIo(): CliIo {
  ignoreClosedPipe(process.stdout);
  ignoreClosedPipe(process.stderr);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    readStdin: () => {
      // A terminal would otherwise just wait, with nothing saying what it waits for.
      if (process.stdin.isTTY)
        process.stderr.write('harness: reading the script from standard input; end it with Ctrl-D\n');
      return readStream(process.stdin);
    },
    cwd: process.cwd(),
    terminal:
      process.stdin.isTTY && process.stderr.isTTY ? { input: process.stdin, output: process.stderr } : undefined,
  };
}

export async function readStream(stream: AsyncIterable<Uint8Array | string>): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

const guarded = new WeakSet<NodeJS.WritableStream>();

/**
 * A reader that stops early (`harness run x.ts | head`) closes the pipe; the remaining output has
 * nowhere to go and is dropped instead of crashing the process with an unhandled EPIPE.
 */
function ignoreClosedPipe(stream: NodeJS.WritableStream): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}
