/**
 * `startServer`: builds the server, listens, and (for a real process) turns SIGTERM and SIGINT
 * into the graceful shutdown. close-with-grace exits the process once the shutdown is done (0),
 * or with 1 if it hangs past the grace period plus a margin or an uncaught error ends it.
 */
import closeWithGrace from 'close-with-grace';
import { buildServer, type HarnessServer, type ServerDependencies } from './app.ts';
import type { ServerConfig } from './config.ts';

/** Time the shutdown may take beyond the grace period: cancelling, answering callers, closing the pool. */
const SHUTDOWN_MARGIN_MS = 15_000;

/**
 * Signals raised by the faulting instruction itself, which close-with-grace would listen to by
 * default. A JavaScript listener cannot handle them: libuv's handler queues the signal for the event
 * loop and returns, and the instruction faults again, forever. Worse, V8 bounds-checks WebAssembly
 * memory by catching SIGSEGV: with a listener installed, an out-of-bounds access in QuickJS spins a
 * core at 100% instead of ending the script. Left alone, V8 turns them into errors or the process
 * dies as it should.
 */
export const SYNCHRONOUS_FAULT_SIGNALS = ['SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL'] as const;

export interface StartServerOptions {
  readonly dependencies?: ServerDependencies;
  /** Install SIGTERM/SIGINT handlers that shut down gracefully and exit the process. */
  readonly handleSignals?: boolean;
}

export interface RunningServer {
  readonly server: HarnessServer;
  /** `http://host:port` the server listens on. */
  readonly url: string;
  /** Settles once the server has shut down. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig, options: StartServerOptions = {}): Promise<RunningServer> {
  const server = await buildServer(config, options.dependencies);
  try {
    await server.app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await server.close();
    throw error;
  }
  const address = server.app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;

  let markClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const close = async () => {
    await server.close();
    markClosed();
  };

  if (options.handleSignals === true) {
    const logger = server.context.logger;
    closeWithGrace(
      {
        delay: config.shutdownGraceMs + SHUTDOWN_MARGIN_MS,
        skip: [...SYNCHRONOUS_FAULT_SIGNALS],
        logger: { error: (message: unknown) => logger.error(message) },
      },
      async ({ signal, err }) => {
        if (err !== undefined) logger.error({ err }, 'shutting down after an uncaught error');
        else logger.info({ signal }, 'shutdown requested');
        await close();
      },
    );
  }
  return { server, url, closed, close };
}
