/**
 * Starts the server under load in a child process (its memory, handles and descriptors are its
 * own, and SIGTERM is a real signal) and talks to it over IPC.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromServer, ServerSample, ToServer } from './protocol.ts';

const ENTRY = fileURLToPath(new URL('./server-entry.ts', import.meta.url));

/** The API key of the one tenant of the server under load. */
export const LOAD_API_KEY = 'load-tenant-key-0123456789abcdef';

export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  /** Asks the server for a sample; `gc` runs a full collection first (heapAfterGcBytes). */
  sample(gc?: boolean): Promise<ServerSample>;
  /** Terminates every sandbox worker of the server at once. */
  killWorkers(): Promise<void>;
  /** Sends a signal (SIGTERM for a graceful shutdown). */
  signal(name: NodeJS.Signals): void;
  /** The exit code, once the process has exited (null when a signal ended it). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What the server wrote to stderr (its logs at `warn` and above). */
  stderr(): string;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * `env` adds `HARNESS_*` settings to the defaults: 127.0.0.1 on port 0, one tenant, warnings in
 * the log, no file or spawn tools, and a rate limit the load never reaches (the scenarios test
 * the queue, not the per-tenant rate).
 */
export async function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const base: Record<string, string | undefined> = { ...process.env };
  for (const name of Object.keys(base)) if (name.startsWith('HARNESS_')) delete base[name];
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', ENTRY], {
    env: {
      ...base,
      HARNESS_HOST: '127.0.0.1',
      HARNESS_PORT: '0',
      HARNESS_LOG_LEVEL: 'warn',
      HARNESS_API_KEYS: `load:${LOAD_API_KEY}`,
      HARNESS_TOOLS_SPAWN: 'false',
      HARNESS_RATE_LIMIT_MAX: '100000000',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-64 * 1024);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const waiting = new Map<number, (message: FromServer) => void>();
  let nextId = 1;
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (message: FromServer) => {
      if (message.type === 'listening') resolve(message.url);
      else {
        waiting.get(message.id)?.(message);
        waiting.delete(message.id);
      }
    });
    void exited.then(({ code, signal }) =>
      reject(new Error(`the server process exited before listening (${code ?? signal}): ${stderr}`)),
    );
  });
  void exited.then(() => {
    for (const resolve of waiting.values()) resolve({ type: 'killed', id: -1 });
    waiting.clear();
  });
  const ask = (message: ToServer) =>
    new Promise<FromServer>((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null || !child.connected) {
        reject(new Error('the server process is not running'));
        return;
      }
      waiting.set(message.id, resolve);
      child.send(message);
    });
  return {
    url,
    pid: child.pid ?? -1,
    async sample(gc = false) {
      const reply = await ask({ type: 'sample', id: nextId++, gc });
      if (reply.type !== 'sample') throw new Error('the server process exited while sampling');
      return reply.sample;
    },
    async killWorkers() {
      await ask({ type: 'kill-workers', id: nextId++ });
    },
    signal(name) {
      child.kill(name);
    },
    exited,
    stderr: () => stderr,
    async stop(graceMs = 60_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
