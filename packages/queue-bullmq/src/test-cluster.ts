/**
 * Harness nodes in child processes (test-node-entry.ts) driven over IPC, for the cluster tests
 * of this package.
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { HarnessErrorData } from '@script-harness/core';
import type { PendingApproval } from '@script-harness/policy';
import { TEST_REDIS_URL } from './testing.ts';

export type NodeCommand = { readonly ref: number } & (
  | { readonly type: 'submit'; readonly ids: readonly string[]; readonly sleepMs?: number }
  | { readonly type: 'attach'; readonly id: string }
  | { readonly type: 'spawn'; readonly ms: number }
  | { readonly type: 'task-get'; readonly id: string }
  | { readonly type: 'task-cancel'; readonly id: string }
  | { readonly type: 'approval-request'; readonly args: unknown }
  | { readonly type: 'approval-pending' }
  | {
      readonly type: 'approval-decide';
      readonly id: string;
      readonly decision: 'approve' | 'deny';
      readonly by: string;
      readonly argsHash?: string;
    }
  | { readonly type: 'approval-get'; readonly id: string }
  | { readonly type: 'close' }
);

/** Omit over each member of a union (TypeScript's Omit would merge them). */
type WithoutRef<T> = T extends unknown ? Omit<T, 'ref'> : never;

export type NodeReport =
  | { readonly type: 'ready'; readonly node: string }
  | { readonly type: 'reply'; readonly ref: number; readonly value?: unknown; readonly error?: HarnessErrorData }
  | { readonly type: 'started'; readonly id: string; readonly node: string }
  | {
      readonly type: 'result';
      readonly id: string;
      readonly node: string;
      readonly value: { id: string; node: string };
    }
  | { readonly type: 'failure'; readonly id: string; readonly node: string; readonly code: string }
  | { readonly type: 'tool-aborted'; readonly node: string; readonly reason: string }
  | { readonly type: 'approval-requested'; readonly node: string; readonly approval: PendingApproval };

export interface TestNode {
  readonly id: string;
  readonly process: ChildProcess;
  /** Sends a command and resolves with the node's reply (rejects with its error). */
  call<T = unknown>(command: WithoutRef<NodeCommand>): Promise<T>;
  /** Calls `listener` with every report of the node. */
  onReport(listener: (report: NodeReport) => void): () => void;
  /** Closes the node's queue, store and broker, then waits for the process to exit. */
  stop(): Promise<void>;
  /** Ends the process at once, as a crash would. */
  kill(): Promise<void>;
}

const ENTRY = new URL('./test-node-entry.ts', import.meta.url);

export async function startNode(options: {
  readonly id: string;
  readonly prefix: string;
  readonly role?: 'api' | 'worker' | 'all';
  readonly concurrency?: number;
}): Promise<TestNode> {
  const child = fork(ENTRY, [], {
    env: {
      ...process.env,
      HARNESS_TEST_REDIS_URL: TEST_REDIS_URL,
      TEST_PREFIX: options.prefix,
      TEST_NODE_ID: options.id,
      TEST_ROLE: options.role ?? 'all',
      TEST_CONCURRENCY: String(options.concurrency ?? 8),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [],
  });
  const listeners = new Set<(report: NodeReport) => void>();
  const replies = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextRef = 1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('message', (message: NodeReport) => {
    if (message.type === 'reply') {
      const waiting = replies.get(message.ref);
      replies.delete(message.ref);
      if (message.error !== undefined) waiting?.reject(new Error(`${message.error.code}: ${message.error.message}`));
      else waiting?.resolve(message.value);
    }
    for (const listener of [...listeners]) listener(message);
  });
  void exited.then(() => {
    for (const waiting of replies.values()) waiting.reject(new Error(`node ${options.id} exited`));
    replies.clear();
  });

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${options.id} did not start within 20 s`)), 20_000);
    const onReady = (message: NodeReport) => {
      if (message.type !== 'ready') return;
      clearTimeout(timer);
      listeners.delete(onReady);
      resolve();
    };
    listeners.add(onReady);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node ${options.id} exited with ${code} before it was ready`));
    });
  });

  const call = <T>(command: WithoutRef<NodeCommand>) => {
    const ref = nextRef++;
    return new Promise<T>((resolve, reject) => {
      replies.set(ref, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ ...command, ref });
    });
  };
  const running = () => child.exitCode === null && child.signalCode === null;

  return {
    id: options.id,
    process: child,
    call,
    onReport(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async stop() {
      if (!running()) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      try {
        await call({ type: 'close' });
        child.disconnect();
      } catch {
        child.kill('SIGKILL');
      }
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Resolves once `check` returns something other than undefined, polling every 25 ms; rejects after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`the condition did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
