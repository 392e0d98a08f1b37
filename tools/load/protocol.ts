/** Messages between the load driver and the server process it starts (over the IPC channel). */

export type ToServer =
  | { readonly type: 'sample'; readonly id: number; readonly gc: boolean }
  | { readonly type: 'kill-workers'; readonly id: number };

export type FromServer =
  | { readonly type: 'listening'; readonly url: string }
  | { readonly type: 'sample'; readonly id: number; readonly sample: ServerSample }
  | { readonly type: 'killed'; readonly id: number };

/** What the server process reports about itself at one moment. */
export interface ServerSample {
  /** Since the server started listening. */
  readonly uptimeMs: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
  /** Heap in use right after a full collection, when the sample asked for one. */
  readonly heapAfterGcBytes: number | null;
  /** `process.getActiveResourcesInfo()`: timers, sockets, workers' message ports and the like. */
  readonly activeHandles: number;
  /** Open file descriptors (Linux `/proc/self/fd`), null elsewhere. */
  readonly openFileDescriptors: number | null;
  /** Threads of the process, each worker among them (Linux `/proc/self/status`), null elsewhere. */
  readonly threads: number | null;
  readonly pool: {
    readonly size: number;
    readonly busy: number;
    readonly running: number;
    readonly workerRestarts: number;
    readonly workerKills: number;
  } | null;
  readonly queue: { readonly queued: number; readonly running: number };
  readonly eventLoopLagMs: number;
  readonly toolExecutions: Readonly<Record<string, number>>;
  readonly toolCallsPending: number;
}
